"""The generator's pose signs against its own projected landmarks, and its angles read as
AFLW2000-3D's: a synthetic face's target pose means what the dev set's Pose_Para means."""

from __future__ import annotations

import numpy as np
import pytest

from synthmarks import pose


@pytest.fixture(scope="module")
def head(face_model) -> np.ndarray:
    """The face model's 68 landmark vertices in object space (x right, y up, z out), centred."""
    from synthmarks.synth.facemodel import load_face_model

    model = load_face_model(face_model)
    pts = model.neutral[model.landmarks][:68].astype(np.float64)
    return pts - pts.mean(0)


def picture(head: np.ndarray, generator_pose: tuple[float, float, float]) -> np.ndarray:
    """Image points (y down) of the head under the renderer's own rotation."""
    from synthmarks.synth.scene import rotation

    cam = head @ rotation(*generator_pose).T
    return np.stack([cam[:, 0], -cam[:, 1]], axis=1)


def test_positive_yaw_turns_the_face_to_image_left(head):
    p = picture(head, (0.0, 30.0, 0.0))
    jaw_mid = (p[0, 0] + p[16, 0]) / 2
    assert p[30, 0] < jaw_mid - 1.0  # nose tip left of the jaw's middle
    q = picture(head, (0.0, -30.0, 0.0))
    assert q[30, 0] > (q[0, 0] + q[16, 0]) / 2 + 1.0


def test_positive_roll_is_clockwise_and_positive_pitch_looks_up(head):
    p = picture(head, (0.0, 0.0, 20.0))
    right_eye, left_eye = p[36:42].mean(0), p[42:48].mean(0)  # image left, image right
    assert left_eye[1] > right_eye[1] + 1.0  # the image-right eye drops: clockwise
    up = picture(head, (20.0, 0.0, 0.0))
    level = picture(head, (0.0, 0.0, 0.0))
    # looking up: the nose tip, in front of the head's centre, rises in the picture (y down)
    assert up[30, 1] < level[30, 1] - 0.3


def test_generator_pose_read_as_aflw_draws_the_same_picture(head):
    """The reader's conversion: the AFLW rotation of the converted angles projects the head
    exactly where the renderer put it; the raw angles read as AFLW's would not."""
    for g in [(15.0, 50.0, -20.0), (-25.0, -40.0, 30.0)]:
        rendered = picture(head, g)
        converted = pose.project(head, pose.generator_to_aflw(g))
        raw = pose.project(head, g)
        assert np.abs(rendered - converted).max() < 1e-4
        assert np.abs(rendered - raw).max() > 0.5


def test_aflw_pose_para_is_rx_ry_rz_of_negated_angles(shared, head):
    """Fit the face model's landmarks to each dev face's 3-D points (pt3d_68) and compare the
    fitted rotation with readings of Pose_Para (scripts/verify_pose_convention.py does the same
    on all 200): AFLW's order is closest, by a wide margin over the generator's order and over
    flipped signs."""
    from scipy.io import loadmat

    from synthmarks.synth.geometry import umeyama

    def angle(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))

    errors: dict[str, list[float]] = {"aflw": [], "generator": [], "flipped": []}
    for path in sorted((shared / "data/aflw2000-3d-dev").glob("*.mat"))[:60]:
        mat = loadmat(str(path))
        pts = np.asarray(mat["pt3d_68"], np.float64)[:3].T
        angles = np.degrees(np.asarray(mat["Pose_Para"], np.float64).ravel()[:3])
        if np.abs(angles).max() > 99:
            continue
        fits = []
        for zsign in (1.0, -1.0):  # pt3d_68's depth axis: keep the better fit
            dst = pts * [1.0, -1.0, zsign]
            s, rot, t = umeyama(head, dst)
            fits.append((np.linalg.norm(head @ (s * rot).T + t - dst, axis=1).mean(), rot))
        rot = min(fits, key=lambda f: f[0])[1]
        errors["aflw"].append(angle(rot, pose.aflw_matrix(angles)))
        errors["generator"].append(angle(rot, pose.generator_matrix(angles)))
        errors["flipped"].append(angle(rot, pose.aflw_matrix(-angles)))
    median = {k: float(np.median(v)) for k, v in errors.items()}
    assert median["aflw"] < 5.0
    assert median["aflw"] < median["generator"] - 1.0
    assert median["flipped"] > 30.0
