"""Tiny Face Synthetics-layout datasets drawn with OpenCV, so training tests need no real data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from synthmarks.landmarks import CONTOURS, LEFT_EYE, RIGHT_EYE
from synthmarks.models.mean_shape import DEFAULT_MEAN_SHAPE_68


def write_fake_faces(root: Path, n: int, size: int = 96, seed: int = 0) -> Path:
    """``n`` cartoon faces (skin hull, contours, eyes, mouth) at random scale, rotation and
    position, with exact 70-point labels: learnable, and different enough to test training."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        side = rng.uniform(0.7, 1.0) * size
        a = np.deg2rad(rng.uniform(-25, 25))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        centre = size / 2 + rng.uniform(-0.1, 0.1, 2) * size
        shape = DEFAULT_MEAN_SHAPE_68 + rng.normal(0, 0.01, DEFAULT_MEAN_SHAPE_68.shape)
        pts = centre + ((shape - 0.5) * side) @ rot.T
        pupils = np.stack([pts[list(RIGHT_EYE)].mean(0), pts[list(LEFT_EYE)].mean(0)])
        pts = np.concatenate([pts, pupils]).astype(np.float32)
        img = np.full((size, size, 3), rng.integers(0, 255, 3), np.uint8)
        skin = tuple(int(v) for v in rng.integers(90, 230, 3))
        cv2.fillConvexPoly(img, cv2.convexHull(np.round(pts[:27]).astype(np.int32)), skin)
        for idx, closed in CONTOURS:
            poly = np.round(pts[list(idx)]).astype(np.int32)
            cv2.polylines(img, [poly], closed, (30, 20, 20), 1, cv2.LINE_AA)
        for eye in (RIGHT_EYE, LEFT_EYE):
            cv2.fillPoly(img, [np.round(pts[list(eye)]).astype(np.int32)], (245, 245, 245))
        for p in pupils:
            cv2.circle(img, tuple(int(v) for v in np.round(p)), 1, (10, 10, 10), -1)
        cv2.fillPoly(img, [np.round(pts[48:60]).astype(np.int32)], (60, 40, 170))
        cv2.imwrite(str(root / f"{i:06d}.png"), img)
        np.savetxt(root / f"{i:06d}_ldmks.txt", pts, fmt="%.3f")
    return root


@pytest.fixture(scope="session")
def fake_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_faces(tmp_path_factory.mktemp("fake") / "train", 48)


def run_overrides(data: Path, tmp_path: Path) -> list[str]:
    """--set overrides that point a config at ``data`` and keep its run and cache in ``tmp_path``
    (no real validation set: the tests' faces are fake)."""
    return [
        f"data.train={data}",
        f"log.out_dir={tmp_path / 'runs'}",
        f"data.cache_dir={tmp_path / 'cache'}",
        "data.val_real=null",
    ]


@pytest.fixture(scope="session")
def overrides_for():
    """:func:`run_overrides`, for test modules (conftest is not imported by name)."""
    return run_overrides


@pytest.fixture()
def tiny_overrides(fake_faces: Path, tmp_path: Path) -> list[str]:
    """--set overrides that point configs/tiny.yaml at the fake faces and a temporary run dir."""
    return run_overrides(fake_faces, tmp_path)


@pytest.fixture(scope="session")
def fake_faces_writer():
    """:func:`write_fake_faces` itself, for tests that need their own variant of the set."""
    return write_fake_faces
