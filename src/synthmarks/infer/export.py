"""Export a checkpoint's model (with point decoding) to ONNX, metadata included."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from synthmarks.fileio import atomic_path
from synthmarks.infer.runtime import ONNX_META_KEY, to_model_input
from synthmarks.models import export_onnx as export_model


class UInt8Input(torch.nn.Module):
    """(B, S, S, 3) RGB uint8 crops -> the model's points and scores, normalising inside.

    Exported, the cast, the normalisation (the trainer's own ``to_model_input``, folded into
    constants) and the layout change run in ONNX Runtime's kernels instead of numpy.
    """

    def __init__(self, model: torch.nn.Module, mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.model = model
        self.input_size = model.input_size
        self.mean, self.std = mean, std

    def predict(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.predict(to_model_input(crops, self.mean, self.std))

    def predict_all(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
        return self.model.predict_all(to_model_input(crops, self.mean, self.std))


def onnx_bytes(model: torch.nn.Module, meta: dict[str, Any]) -> bytes:
    """The model's ONNX graph (uint8 crops -> points, scores, and pose for a model with a pose
    head; dynamic batch) as bytes."""
    buf = io.BytesIO()
    wrapped = UInt8Input(model, meta["mean"], meta["std"])
    with torch.inference_mode(False), torch.no_grad():
        s = model.input_size
        export_model(wrapped, buf, example=torch.zeros(1, s, s, 3, dtype=torch.uint8))
    return buf.getvalue()


def export_checkpoint(checkpoint: str | Path, out: str | Path) -> dict[str, Any]:
    """Write ``out`` (.onnx) for a checkpoint, with its metadata stored in the file."""
    import onnx

    from synthmarks.infer.runtime import TorchRunner

    runner = TorchRunner.load(checkpoint)
    model = onnx.load_from_string(onnx_bytes(runner.model, runner.meta))
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_META_KEY, json.dumps(runner.meta)
    with atomic_path(out) as tmp:
        onnx.save(model, str(tmp))
    return runner.meta


def quantize_int8(
    onnx_in: str | Path, onnx_out: str | Path, calib_data: str | Path, count: int = 200
) -> None:
    """Static int8 quantisation (QDQ, per-channel weights), calibrated on face crops taken from a
    synthetic set exactly as the model sees them at inference."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from synthmarks.data.readers import load_dataset
    from synthmarks.infer.engine import CropEngine
    from synthmarks.infer.runtime import OnnxRunner
    from synthmarks.landmarks import bounding_box

    runner = OnnxRunner(onnx_in)
    engine = CropEngine(runner)
    samples = load_dataset(calib_data, limit=count)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict | None:
            s = next(self._it, None)
            if s is None:
                return None
            crops = engine.crop([s.load_image()], bounding_box(s.points)[None])
            return {runner.session.get_inputs()[0].name: runner.prepare(crops.images)}

    with atomic_path(onnx_out) as tmp, tempfile.TemporaryDirectory() as scratch:
        pre = Path(scratch) / "pre.onnx"
        quant_pre_process(str(onnx_in), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre),
            str(tmp),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            # decoding stays float: exact arithmetic on a few values per face
            op_types_to_quantize=["Conv"],
        )
        model = onnx.load(str(tmp))
        entry = model.metadata_props.add()
        entry.key, entry.value = ONNX_META_KEY, json.dumps(runner.meta | {"quantized": "int8"})
        onnx.save(model, str(tmp))
