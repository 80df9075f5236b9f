"""The crop-predict engine: the crop and the way back are inverse to the pixel, validation during
training scores exactly what ``eval`` scores, and a Landmarker on a checkpoint is plain PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthmarks.data.readers import load_dataset
from synthmarks.infer.engine import CropEngine


class BrightestPixel:
    """A runner that 'predicts' the brightest pixel of each crop, in the models' [0, 1] units."""

    def __init__(self, size: int, crop_scale: float, points: int = 1) -> None:
        self.meta = {"input_size": size, "crop_scale": crop_scale}
        self.points = points

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = crops.shape[1]
        flat = crops[..., 0].reshape(len(crops), -1).argmax(1)
        pixel = np.stack([flat % s, flat // s], 1).astype(np.float32)
        pts = np.repeat(((pixel + 0.5) / s)[:, None], self.points, axis=1)
        return pts, np.ones((len(crops), self.points), np.float32)


@pytest.mark.parametrize("crop_scale", [1.0, 1.3])
def test_a_point_comes_back_where_it_was(crop_scale):
    """Crop -> model units -> image pixels lands on the pixel the crop saw (pixel centres at
    integers, the model's p at pixel p * S - 0.5). A half-pixel slip in either direction fails."""
    size = 64
    engine = CropEngine(BrightestPixel(size, crop_scale))
    image = np.zeros((200, 300, 3), np.uint8)
    dot = np.array([141.0, 97.0])
    image[int(dot[1]), int(dot[0])] = 255
    side = size / crop_scale  # one image pixel per crop pixel: the dot stays one sharp pixel
    centre = np.array([150.5, 100.5])  # a half pixel: the crop grid falls on image pixels
    box = np.concatenate([centre - side / 2, centre + side / 2])[None]
    found = engine.predict_batch([image], box)[0, 0]
    np.testing.assert_allclose(found, dot, atol=1e-4)


def test_flip_averaging_mirrors_in_crop_units():
    """The mirrored crop's pixel x is S - 1 - x, that is 1 - p in model units: the mirrored
    prediction of a dot, mapped back, is the plain one, so averaging changes nothing here."""
    size = 64
    plain = CropEngine(BrightestPixel(size, 1.0, points=68))
    flip = CropEngine(BrightestPixel(size, 1.0, points=68), flip_tta=True)
    image = np.zeros((64, 64, 3), np.uint8)
    image[20, 13] = 255
    box = np.array([[-0.5, -0.5, 63.5, 63.5]])  # the pixel edges: crop pixel i is image pixel i
    np.testing.assert_allclose(flip.predict_batch([image], box), plain.predict_batch([image], box))
    np.testing.assert_allclose(plain.predict_batch([image], box)[0, 0], [13, 20], atol=1e-4)


def test_validation_nme_is_eval_nme(tiny_checkpoint, shared):
    """Training's per-epoch dev NME and ``synthmarks eval --roll none``'s are one number (docs
    quote both): the engine is the one place both go through."""
    from synthmarks.eval.evaluate import EvalConfig, evaluate
    from synthmarks.models.checkpoint import load_model
    from synthmarks.train import validate

    data = shared / "data/aflw2000-3d-dev"
    model, meta = load_model(tiny_checkpoint)
    engine = validate.engine_for(model.train(), meta)
    ours = validate.validate(engine, validate.prepare("real", load_dataset(data, limit=24), engine))
    assert model.training  # given back in the mode it came in
    cfg = EvalConfig(data, [str(tiny_checkpoint)], limit=24, backend="torch", roll="none")
    rep = evaluate(cfg)
    theirs = rep["models"][str(tiny_checkpoint)]
    assert ours["nme"] == pytest.approx(theirs["nme"], rel=1e-6)
    assert ours["nme_balanced"] == pytest.approx(theirs["per_pose"]["balanced"]["nme"], rel=1e-6)


def test_a_checkpoint_runs_in_pytorch_without_export_or_thread_changes(
    tiny_checkpoint, monkeypatch
):
    """``Landmarker("x.pt")`` is PyTorch: no ONNX export behind the user's back (seconds and
    tracer warnings), and torch's process-wide thread count is the program's, not the model's."""
    from synthmarks.infer import export
    from synthmarks.infer.landmarker import Landmarker
    from synthmarks.infer.runtime import TorchRunner

    def no_export(*args, **kwargs):
        raise AssertionError("exported to ONNX")

    monkeypatch.setattr(export, "onnx_bytes", no_export)
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        lm = Landmarker(tiny_checkpoint, threads=1)
        assert torch.get_num_threads() == threads + 1
    finally:
        torch.set_num_threads(threads)
    assert isinstance(lm.predictor.runner, TorchRunner)
    with pytest.raises(AssertionError, match="exported"):
        Landmarker(tiny_checkpoint, backend="onnx")  # asked for, so it exports


class EyeLineRoll:
    """A runner whose 'head pose' is the roll of the line from the red dot (image-left eye) to the
    green one as the crop shows it: positive clockwise on screen, AFLW2000-3D's sign."""

    meta = {"input_size": 96, "crop_scale": 1.0}

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = crops.shape[1]
        pose = np.zeros((len(crops), 3), np.float32)
        for i, c in enumerate(crops.astype(np.int32)):
            red = np.unravel_index((c[..., 0] - c[..., 1]).argmax(), (s, s))
            green = np.unravel_index((c[..., 1] - c[..., 0]).argmax(), (s, s))
            pose[i, 2] = np.arctan2(green[0] - red[0], green[1] - red[1])
        return np.full((len(crops), 1, 2), 0.5, np.float32), np.ones((len(crops), 1)), pose


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, -45.0, 180.0])
def test_a_turned_crop_gives_the_pose_in_the_image_frame(angle):
    """The roll a model sees in a crop cut at ``angle`` is turned back into the picture's: the
    same head gives the same roll whatever the crop, and the sign is AFLW's (clockwise +)."""
    roll = 30.0  # the eye line, clockwise on screen (y down)
    image = np.zeros((200, 200, 3), np.uint8)
    d = 40 * np.array([np.cos(np.radians(roll)), np.sin(np.radians(roll))])
    for (x, y), colour in (((100, 100) - d, (255, 0, 0)), ((100, 100) + d, (0, 255, 0))):
        image[int(round(y)) - 1 : int(round(y)) + 2, int(round(x)) - 1 : int(round(x)) + 2] = colour
    engine = CropEngine(EyeLineRoll())
    box = np.array([[40.0, 40.0, 160.0, 160.0]], np.float32)
    _, _, pose = engine.predict_all([image], box, np.array([angle]))
    assert pose is not None
    assert pose[0, 2] == pytest.approx(roll, abs=3.0)
    assert abs(pose[0, 0]) < 1e-3 and abs(pose[0, 1]) < 1e-3
