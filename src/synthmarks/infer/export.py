"""Export a checkpoint's model (with point decoding) to ONNX, metadata included."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from synthmarks.fileio import atomic_path
from synthmarks.infer.runtime import ONNX_META_KEY
from synthmarks.models import export_onnx as export_model


def onnx_bytes(model: torch.nn.Module) -> bytes:
    """The model's ONNX graph (images -> points, scores; dynamic batch) as bytes, in memory."""
    buf = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad():
        export_model(model, buf)
    return buf.getvalue()


def export_checkpoint(checkpoint: str | Path, out: str | Path) -> dict[str, Any]:
    """Write ``out`` (.onnx) for a checkpoint, with its metadata stored in the file."""
    import onnx

    from synthmarks.infer.runtime import TorchRunner

    runner = TorchRunner(checkpoint, threads=None)
    model = onnx.load_from_string(onnx_bytes(runner.module.model))
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_META_KEY, json.dumps(runner.meta)
    with atomic_path(out) as tmp:
        onnx.save(model, str(tmp))
    return runner.meta


def quantize_int8(onnx_in: str | Path, onnx_out: str | Path, calib_data: str | Path,
                  count: int = 200) -> None:
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
    from synthmarks.infer.landmarker import CropPredictor
    from synthmarks.infer.runtime import OnnxRunner
    from synthmarks.landmarks import bounding_box

    runner = OnnxRunner(onnx_in)
    pred = CropPredictor(runner)
    samples = load_dataset(calib_data, limit=count)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict | None:
            s = next(self._it, None)
            if s is None:
                return None
            batch, _ = pred.crops([s.load_image()], bounding_box(s.points)[None])
            return {"image": batch}

    with atomic_path(onnx_out) as tmp, tempfile.TemporaryDirectory() as scratch:
        pre = Path(scratch) / "pre.onnx"
        quant_pre_process(str(onnx_in), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8)
        model = onnx.load(str(tmp))
        entry = model.metadata_props.add()
        entry.key, entry.value = ONNX_META_KEY, json.dumps(runner.meta | {"quantized": "int8"})
        onnx.save(model, str(tmp))
