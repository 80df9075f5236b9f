"""Validation during training, with the evaluation protocol of ``synthmarks eval``.

Each face is cropped by its ground-truth 68-point box and predicted by the same
:class:`~synthmarks.infer.engine.CropEngine` that ``Landmarker`` and ``eval`` use, here on the
in-memory model through a :class:`~synthmarks.infer.runtime.TorchRunner`, then scored with
box-normalised NME (overall and per |yaw| bin). The crops are made once and kept in memory, so a
validation pass costs only the forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from synthmarks.data.sample import Sample
from synthmarks.eval import metrics
from synthmarks.infer.engine import CropEngine, Crops
from synthmarks.infer.runtime import TorchRunner
from synthmarks.landmarks import NUM_POINTS, bounding_box


@dataclass
class EvalSet:
    """Pre-cropped faces, their ground truth (M, 68, 2) and yaws (degrees, or None)."""

    name: str
    crops: Crops
    gts: np.ndarray
    yaws: np.ndarray | None

    def __len__(self) -> int:
        return len(self.crops)


def engine_for(
    model: torch.nn.Module, meta: dict[str, Any], device: torch.device | str = "cpu"
) -> CropEngine:
    """The inference engine on a model in memory; ``meta`` as a checkpoint stores it (input_size,
    crop_scale, mean, std)."""
    return CropEngine(TorchRunner(model, meta, device))


def prepare(name: str, samples: list[Sample], engine: CropEngine) -> EvalSet:
    """Load and crop every sample once, by its ground-truth box."""
    gts = np.stack([x.points[:NUM_POINTS] for x in samples]).astype(np.float32)
    crops = engine.crop([x.load_image() for x in samples], np.stack([bounding_box(g) for g in gts]))
    has_pose = all(x.pose is not None for x in samples)
    yaws = np.array([x.yaw for x in samples], np.float64) if has_pose else None
    return EvalSet(name, crops, gts, yaws)


def validate(engine: CropEngine, data: EvalSet, batch_size: int = 64) -> dict[str, Any]:
    """``{"nme": ..., "nme_yaw_0_30": ..., ..., "nme_balanced": ...}`` (fractions; box norm).

    The engine's model is put in eval mode for the pass and back in the mode it was in."""
    model = engine.runner.model
    was_training = model.training
    model.eval()
    preds = np.empty((len(data), NUM_POINTS, 2), np.float32)
    try:
        for start in range(0, len(data), batch_size):
            chunk = data.crops[start : start + batch_size]
            pts01, _, _ = engine.run(chunk.images)
            preds[start : start + len(chunk)] = engine.to_image(pts01[:, :NUM_POINTS], chunk)
    finally:
        model.train(was_training)
    errors = metrics.nme(preds, data.gts, "box")
    out: dict[str, Any] = {"nme": float(errors.mean())}
    if data.yaws is not None:
        table = metrics.pose_table(errors, data.yaws)
        for key, row in table.items():
            label = key if key == "balanced" else "yaw_" + key.strip("[]()").replace(",", "_")
            out[f"nme_{label}"] = row["nme"]
    return out
