"""The model shipped in the package: loads with no arguments, agrees across runtimes, and is
accurate on real faces (a guard against shipping a broken or mismatched file)."""

import numpy as np
import pytest

from synthmarks import Landmarker
from synthmarks.data.readers import load_dataset
from synthmarks.eval.metrics import nme
from synthmarks.infer.landmarker import DEFAULT_CHECKPOINT, DEFAULT_ONNX
from synthmarks.landmarks import bounding_box


def test_released_files_are_small_and_present():
    assert DEFAULT_CHECKPOINT.is_file() and DEFAULT_ONNX.is_file()
    assert DEFAULT_ONNX.stat().st_size < 15e6 and DEFAULT_CHECKPOINT.stat().st_size < 15e6


@pytest.fixture(scope="module")
def dev(shared):
    samples = load_dataset(shared / "data/aflw2000-3d-dev", limit=40)
    images = [s.load_image() for s in samples]
    gts = np.stack([s.points for s in samples])
    return images, gts, np.stack([bounding_box(g) for g in gts])


def test_default_landmarker_onnx_matches_torch(dev):
    images, _, boxes = dev
    onnx_pts = Landmarker().predict_batch(images, boxes)
    torch_pts = Landmarker(backend="torch").predict_batch(images, boxes)
    assert np.abs(onnx_pts - torch_pts).max() < 0.1  # pixels, on 450 px images


def test_released_model_is_accurate_on_real_faces(dev):
    images, gts, boxes = dev
    errors = nme(Landmarker(jaw="xray").predict_batch(images, boxes), gts, "box")  # AFLW's jaw
    assert errors.mean() < 0.08  # the mean shape scores ~0.18 on the same faces
