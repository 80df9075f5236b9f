"""Runners: a batch of uint8 face crops in, normalised points and scores out.

Two interchangeable runners: PyTorch (a checkpoint, or the model being trained) and ONNX Runtime (an
exported file; several times faster for small CNNs at batch 1). Both take the crops as
the trainer does, (B, S, S, 3) RGB uint8: the exported graph casts and normalises them itself, so
no float image is ever made in numpy (a quarter of the bytes, and one pass less per face).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from synthmarks.errors import SynthmarksError

if TYPE_CHECKING:  # torch loads only when a torch model runs
    import torch

#: ONNX metadata key under which export stores the checkpoint's metadata as JSON.
ONNX_META_KEY = "synthmarks"


class Runner(Protocol):
    meta: dict[str, Any]

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(B, S, S, 3) uint8 -> points (B, N, 2) in [0, 1] crop coordinates, scores (B, N),
        and head pose (B, 3) radians (pitch, yaw, roll) or None for a model without a pose
        head. N is the model's output layout (``meta["outputs"]``), jaw conventions included."""
        ...


def to_model_input(
    images: torch.Tensor,
    mean: Sequence[float],
    std: Sequence[float],
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """(B, S, S, 3) uint8 -> normalised float (B, 3, S, S) in channels-last memory.

    The one normalisation of model input: the trainer, :class:`TorchRunner` and the exported ONNX
    graph (:mod:`synthmarks.infer.export`) all call it, so a model sees the same numbers in
    training and at inference. ``(x / 255 - mean) / std`` as one multiply-add; the HWC -> NCHW
    permute is a view whose strides are exactly channels-last, so no copy happens before the
    model. ``dtype`` defaults to float32.
    """
    import torch

    dtype = dtype or torch.float32
    x = images.to(device, non_blocking=True).permute(0, 3, 1, 2).to(dtype)
    m = torch.tensor(mean, dtype=dtype, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=dtype, device=x.device).view(1, 3, 1, 1)
    return (x * (1.0 / (255.0 * s)) - m / s).contiguous(memory_format=torch.channels_last)


class TorchRunner:
    """A model in memory, run by PyTorch on ``device``.

    It never touches torch's global settings (thread count included): they belong to the program,
    which sets them once (``synthmarks bench`` and the trainer do), not to each model object.
    """

    name = "torch"

    def __init__(
        self, model: torch.nn.Module, meta: dict[str, Any], device: torch.device | str = "cpu"
    ) -> None:
        self.model = model
        self.meta = meta
        self.device = device

    @classmethod
    def load(cls, checkpoint: str | Path) -> TorchRunner:
        """The model of a checkpoint file, in eval mode on the CPU."""
        from synthmarks.models.checkpoint import load_model

        model, meta = load_model(checkpoint)
        return cls(model.eval(), meta)

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        import torch

        with torch.inference_mode():
            x = to_model_input(
                torch.from_numpy(crops), self.meta["mean"], self.meta["std"], self.device
            )
            pts, scores, pose = self.model.predict_all(x)
        pose_np = None if pose is None else pose.float().cpu().numpy()
        return pts.float().cpu().numpy(), scores.float().cpu().numpy(), pose_np


class OnnxRunner:
    name = "onnxruntime"

    def __init__(
        self, model: str | Path | bytes, threads: int | None = 1, meta: dict[str, Any] | None = None
    ) -> None:
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
            raise SynthmarksError(
                f"{model if not isinstance(model, bytes) else 'ONNX model'}: "
                f"cannot be loaded ({type(exc).__name__})"
            ) from None
        if meta is None:
            raw = self.session.get_modelmeta().custom_metadata_map.get(ONNX_META_KEY)
            if raw is None:
                raise SynthmarksError(
                    f"{model}: ONNX file has no synthmarks metadata "
                    "(export it with `synthmarks export`)"
                )
            meta = json.loads(raw)
        self.meta = meta
        graph_input = self.session.get_inputs()[0]
        self._input = graph_input.name
        # files exported before the graph took uint8 crops want normalised float NCHW
        self._float_input = graph_input.type == "tensor(float)"
        if self._float_input:
            self._scale = 1.0 / (255.0 * np.asarray(meta["std"], np.float32))
            self._shift = np.asarray(meta["mean"], np.float32) / np.asarray(meta["std"], np.float32)

    def prepare(self, crops: np.ndarray) -> np.ndarray:
        """The graph's input for uint8 crops (themselves, unless the graph wants floats)."""
        if not self._float_input:
            return crops
        x = crops.astype(np.float32) * self._scale - self._shift
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        out = self.session.run(None, {self._input: self.prepare(crops)})
        return out[0], out[1], out[2] if len(out) > 2 else None
