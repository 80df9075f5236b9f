"""A small untrained checkpoint: enough to test plumbing (shapes, parity, files), not accuracy."""

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    from synthmarks.models import DEFAULT_MODEL, INPUT_MEAN, INPUT_STD, build_model
    from synthmarks.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(DEFAULT_MODEL).eval()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, model, input_size=128, crop_scale=1.3, mean=INPUT_MEAN, std=INPUT_STD)
    return path
