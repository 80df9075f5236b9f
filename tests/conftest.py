"""Shared fixtures: where ../shared is, and small datasets written on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    return Path(os.environ.get("SYNTHMARKS_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared (or $SYNTHMARKS_SHARED); tests that need it skip on a user's machine without it."""
    path = shared_dir()
    if not (path / "data").is_dir():
        pytest.skip(f"shared data not found at {path} (set SYNTHMARKS_SHARED)")
    return path


@pytest.fixture(scope="session")
def face_model(shared: Path) -> Path:
    """The ICT face model archive that ``synth`` renders with."""
    path = shared / "assets" / "ICT-FaceKit-FaceXModel.tar.xz"
    if not path.is_file():
        pytest.skip(f"ICT face model not found at {path}")
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from synthmarks.models import DEFAULT_MODEL, INPUT_MEAN, INPUT_STD, build_model
    from synthmarks.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(DEFAULT_MODEL).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, model, input_size=128, crop_scale=1.3, mean=INPUT_MEAN, std=INPUT_STD)
    return path
