"""Validation during training, with the evaluation protocol of ``synthmarks eval``.

Each face is cropped by its ground-truth 68-point box and predicted by the same
:class:`~synthmarks.infer.engine.CropEngine` that ``Landmarker`` and ``eval`` use, here on the
in-memory model through a :class:`~synthmarks.infer.runtime.TorchRunner`, then scored with
box-normalised NME (overall and per |yaw| bin). The crops are made once and kept in memory, so a
validation pass costs only the forward passes.

A model with an outline-jaw head is also scored with that jaw (``nme_outline``) where the set
knows the visible outline (a synthetic hold-out's meta.json, or a 300-W-style set, whose labels
are the outline), and a model with a pose head by its pose MAE in degrees (``pose_mae``) where
the set has poses: the extra heads are watched while they learn, not only after.
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
from synthmarks.landmarks import JAW_POINTS, NUM_POINTS, OutputLayout, bounding_box


@dataclass
class EvalSet:
    """Pre-cropped faces, their ground truth (M, 68, 2) and yaws (degrees, or None)."""

    name: str
    crops: Crops
    gts: np.ndarray
    yaws: np.ndarray | None
    #: the truth with the visible-outline jaw (M, 68, 2), where the set knows it
    outline: np.ndarray | None = None
    #: head pose (M, 3), degrees, AFLW2000-3D's convention, where the set has it
    poses: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.crops)


def engine_for(
    model: torch.nn.Module, meta: dict[str, Any], device: torch.device | str = "cpu"
) -> CropEngine:
    """The inference engine on a model in memory; ``meta`` as a checkpoint stores it (input_size,
    crop_scale, mean, std)."""
    return CropEngine(TorchRunner(model, meta, device))


def prepare(
    name: str, samples: list[Sample], engine: CropEngine, outline_labels: bool = False
) -> EvalSet:
    """Load and crop every sample once, by its ground-truth box. ``outline_labels``: the set's
    own jaw is the visible outline (300-W style); otherwise the outline truth comes from the
    samples' ``jaws``, where every sample has them."""
    gts = np.stack([x.points[:NUM_POINTS] for x in samples]).astype(np.float32)
    crops = engine.crop([x.load_image() for x in samples], np.stack([bounding_box(g) for g in gts]))
    has_pose = all(x.pose is not None for x in samples)
    yaws = np.array([x.yaw for x in samples], np.float64) if has_pose else None
    outline = gts if outline_labels else None
    if outline is None and all(x.jaws for x in samples):
        outline = gts.copy()
        outline[:, :JAW_POINTS] = np.stack([x.jaws["outline"] for x in samples])
    poses = np.stack([x.pose for x in samples]).astype(np.float64) if has_pose else None
    return EvalSet(name, crops, gts, yaws, outline, poses)


def validate(engine: CropEngine, data: EvalSet, batch_size: int = 64) -> dict[str, Any]:
    """``{"nme": ..., "nme_yaw_0_30": ..., ..., "nme_balanced": ...}`` (fractions; box norm),
    plus ``nme_outline`` and ``pose_mae`` (degrees) where the model and the set both have them.

    The engine's model is put in eval mode for the pass and back in the mode it was in."""
    model = engine.runner.model
    layout: OutputLayout = model.layout
    was_training = model.training
    model.eval()
    preds = np.empty((len(data), layout.num_points, 2), np.float32)
    poses = []
    try:
        for start in range(0, len(data), batch_size):
            chunk = data.crops[start : start + batch_size]
            pts01, _, pose = engine.run(chunk.images)
            preds[start : start + len(chunk)] = engine.to_image(pts01, chunk)
            if pose is not None:
                poses.append(np.degrees(pose))  # upright crops: the image's own pose
    finally:
        model.train(was_training)
    errors = metrics.nme(preds[:, :NUM_POINTS], data.gts, "box")
    out: dict[str, Any] = {"nme": float(errors.mean())}
    if data.yaws is not None:
        table = metrics.pose_table(errors, data.yaws)
        for key, row in table.items():
            label = key if key == "balanced" else "yaw_" + key.strip("[]()").replace(",", "_")
            out[f"nme_{label}"] = row["nme"]
    if layout.outline_jaw and data.outline is not None:
        outline = layout.with_jaw(preds, "outline")[:, :NUM_POINTS]
        out["nme_outline"] = float(metrics.nme(outline, data.outline, "box").mean())
    if poses and data.poses is not None:
        out["pose_mae"] = metrics.pose_mae(np.concatenate(poses), data.poses)["mae"]
    return out
