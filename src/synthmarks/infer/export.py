"""Export a checkpoint's model (with point decoding) to ONNX, metadata included."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch

from synthmarks.fileio import atomic_path
from synthmarks.infer.runtime import ONNX_META_KEY

OPSET = 17


def onnx_bytes(points_module: torch.nn.Module, input_size: int) -> bytes:
    """Trace the points module (image batch -> points, scores) to an ONNX graph with dynamic batch."""
    dummy = torch.zeros(1, 3, input_size, input_size)
    buf = io.BytesIO()
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(
            points_module.eval(), dummy, buf, input_names=["image"],
            output_names=["points", "scores"], opset_version=OPSET, dynamo=False,
            dynamic_axes={"image": {0: "batch"}, "points": {0: "batch"}, "scores": {0: "batch"}},
        )
    return buf.getvalue()


def export_onnx(checkpoint: str | Path, out: str | Path) -> dict[str, Any]:
    """Write ``out`` (.onnx) for a checkpoint, with its metadata stored in the file."""
    import onnx

    from synthmarks.infer.runtime import TorchRunner

    runner = TorchRunner(checkpoint, threads=None)
    model = onnx.load_from_string(onnx_bytes(runner.module, runner.meta["input_size"]))
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_META_KEY, json.dumps(runner.meta)
    with atomic_path(out) as tmp:
        onnx.save(model, str(tmp))
    return runner.meta
