"""Which rotation do AFLW2000-3D's Pose_Para angles mean? Fit the generator's 3-D mean face to
each face's 3-D points (pt3d_68) and compare the fitted rotation with each candidate reading of
the angles; prints the median angular error per candidate.

    SYNTHMARKS_SHARED=../shared python scripts/verify_pose_convention.py DEV_FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.io import loadmat

from synthmarks import pose
from synthmarks.synth.facemodel import load_face_model
from synthmarks.synth.geometry import umeyama


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    c = (np.trace(a.T @ b) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def main(folder: str) -> None:
    model = load_face_model()
    template = model.neutral[model.landmarks][:68].astype(np.float64)  # x right, y up, z out
    candidates = {
        "aflw Rx(-p)Ry(-y)Rz(-r)": pose.aflw_matrix,
        "generator Rz(-r)Ry(-y)Rx(-p)": pose.generator_matrix,
        "flipped signs Rx(p)Ry(y)Rz(r)": lambda a: pose.aflw_matrix(-np.asarray(a)),
    }
    errors: dict[str, list[float]] = {k: [] for k in candidates}
    for mat_path in sorted(Path(folder).glob("*.mat")):
        mat = loadmat(str(mat_path))
        pts = np.asarray(mat["pt3d_68"], np.float64)[:3].T
        angles = np.degrees(np.asarray(mat["Pose_Para"], np.float64).ravel()[:3])
        if np.abs(angles).max() > 99:
            continue
        best = None
        for zsign in (1.0, -1.0):  # pt3d_68's z direction is not documented; take the better fit
            dst = pts * np.array([1.0, -1.0, zsign])
            s, rot, t = umeyama(template, dst)
            res = np.linalg.norm(template @ (s * rot).T + t - dst, axis=1).mean()
            if best is None or res < best[0]:
                best = (res, rot)
        assert best is not None
        for name, fn in candidates.items():
            errors[name].append(angle_between(best[1], fn(angles)))
    for name, errs in errors.items():
        med, mean = np.median(errs), np.mean(errs)
        print(f"{name:32s} median {med:5.1f} deg  mean {mean:5.1f} (n={len(errs)})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/aflw2000-3d-dev")
