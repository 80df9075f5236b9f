"""Validation during training, with the evaluation protocol of ``synthmarks eval``.

Each face is cropped by its ground-truth 68-point box with the model's ``crop_scale`` (what
``Landmarker`` does with a box), predicted in torch on the in-memory model and mapped back to image
pixels, then scored with box-normalised NME (overall and per |yaw| bin). The crops are made once
and kept in memory, so a validation pass costs only the forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from synthmarks.data import crop
from synthmarks.data.dataset import to_model_input
from synthmarks.data.sample import Sample
from synthmarks.eval import metrics
from synthmarks.landmarks import NUM_POINTS, bounding_box


@dataclass
class EvalSet:
    """Pre-cropped faces: crops (M, S, S, 3) uint8, matrices (M, 2, 3), gts (M, 68, 2), yaws."""

    name: str
    crops: np.ndarray
    matrices: np.ndarray
    gts: np.ndarray
    yaws: np.ndarray | None

    def __len__(self) -> int:
        return len(self.crops)


def prepare(name: str, samples: list[Sample], input_size: int, crop_scale: float) -> EvalSet:
    """Load and crop every sample once."""
    s = input_size
    crops = np.empty((len(samples), s, s, 3), np.uint8)
    mats = np.empty((len(samples), 2, 3))
    gts = np.stack([x.points[:NUM_POINTS] for x in samples]).astype(np.float32)
    for i, sample in enumerate(samples):
        mats[i] = crop.box_crop_matrix(bounding_box(gts[i]), s, crop_scale)
        crops[i] = crop.warp(sample.load_image(), mats[i], s)
    has_pose = all(x.pose is not None for x in samples)
    yaws = np.array([x.yaw for x in samples], np.float64) if has_pose else None
    return EvalSet(name, crops, mats, gts, yaws)


@torch.no_grad()
def validate(
    model: torch.nn.Module,
    data: EvalSet,
    mean: tuple,
    std: tuple,
    device: torch.device,
    batch_size: int = 64,
) -> dict[str, Any]:
    """``{"nme": ..., "nme_yaw_0_30": ..., ..., "nme_balanced": ...}`` (fractions; box norm)."""
    was_training = model.training
    model.eval()
    s = data.crops.shape[1]
    preds = np.empty((len(data), NUM_POINTS, 2), np.float32)
    try:
        for start in range(0, len(data), batch_size):
            chunk = slice(start, start + batch_size)
            x = to_model_input(torch.from_numpy(data.crops[chunk]), mean, std, device)
            pts01, _ = model.predict(x)
            pts = pts01[:, :NUM_POINTS].float().cpu().numpy() * s - 0.5
            for j, i in enumerate(range(start, start + len(pts))):
                preds[i] = crop.apply(crop.invert(data.matrices[i]), pts[j])
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
