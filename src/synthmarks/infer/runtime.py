"""Runners: a batch of normalised crops in, normalised points and scores out.

Two interchangeable engines: PyTorch (any checkpoint, always available) and ONNX Runtime (several
times faster for small CNNs at batch 1, used by default when installed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from synthmarks.errors import SynthmarksError

#: ONNX metadata key under which export stores the checkpoint's metadata as JSON.
ONNX_META_KEY = "synthmarks"


class Runner(Protocol):
    meta: dict[str, Any]

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 3, S, S) float32 -> points (B, N, 2) in [0, 1] crop coordinates, scores (B, N)."""
        ...


class TorchRunner:
    name = "torch"

    def __init__(self, checkpoint: str | Path, threads: int | None = 1) -> None:
        import torch

        from synthmarks.models import PointsModule
        from synthmarks.models.checkpoint import load_model

        if threads:
            torch.set_num_threads(threads)
        model, self.meta = load_model(checkpoint)
        self.module = PointsModule(model).eval()
        self._torch = torch

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._torch.inference_mode():
            pts, scores = self.module(self._torch.from_numpy(batch))
        return pts.numpy(), scores.numpy()


class OnnxRunner:
    name = "onnxruntime"

    def __init__(self, model: str | Path | bytes, threads: int | None = 1,
                 meta: dict[str, Any] | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        source = model if isinstance(model, bytes) else str(model)
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise SynthmarksError(f"{model}: ONNX model not found")
        try:
            self.session = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise SynthmarksError(f"{model if not isinstance(model, bytes) else 'ONNX model'}: "
                                  f"cannot be loaded ({type(exc).__name__})") from None
        if meta is None:
            raw = self.session.get_modelmeta().custom_metadata_map.get(ONNX_META_KEY)
            if raw is None:
                raise SynthmarksError(f"{model}: ONNX file has no synthmarks metadata "
                                      "(export it with `synthmarks export`)")
            meta = json.loads(raw)
        self.meta = meta
        self._input = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts, scores = self.session.run(None, {self._input: batch})
        return pts, scores
