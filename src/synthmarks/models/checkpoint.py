"""One-file checkpoints: weights plus everything needed to use them (architecture, crop, scheme).

``Landmarker(path)`` needs nothing but this file; the trainer adds its own resume state under
``"train_state"`` in the same file.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path

FORMAT = "synthmarks-checkpoint/1"


def save_checkpoint(
    path: str | Path,
    model: torch.nn.Module,
    *,
    input_size: int,
    crop_scale: float,
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
    num_points: int = 68,
    metrics: dict[str, Any] | None = None,
    train_state: dict[str, Any] | None = None,
) -> None:
    """Write the checkpoint atomically (a crash mid-write leaves the previous file intact)."""
    net = getattr(model, "module", model)  # unwrap DDP
    payload = {
        "format": FORMAT,
        "model_config": dict(net.config),
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "input_size": int(input_size),
        "crop_scale": float(crop_scale),
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "num_points": int(num_points),
        "landmarks": "ibug68" if num_points == 68 else "ibug68+pupils",
        # what the network outputs beyond the scheme (outline jaw, pose): synthmarks.landmarks
        "outputs": net.layout.to_json() if hasattr(net, "layout") else None,
        "metrics": metrics or {},
    }
    if train_state is not None:
        payload["train_state"] = train_state
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint's contents, read without running any code stored in it.

    A ``.pt`` file is a pickle, and unpickling can call any function the file names: a
    checkpoint from the internet could run a program on ``eval --model``. ``weights_only=True``
    restricts the unpickler to tensors and plain containers (dict, list, str, numbers), all a
    synthmarks checkpoint holds, and refuses anything else before it is built.
    """
    path = Path(path)
    if not path.is_file():
        raise SynthmarksError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise SynthmarksError(
            f"{path}: refused: it holds objects other than tensors and plain data (a checkpoint "
            "from elsewhere, or one crafted to run code); nothing in it was run"
        ) from None
    except Exception as exc:  # torch raises many types for a corrupt file
        raise SynthmarksError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SynthmarksError(f"{path}: not a synthmarks checkpoint")
    return payload


def load_model(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model in eval mode; returns (model, the checkpoint's metadata)."""
    from synthmarks.models import build_model

    payload = read_checkpoint(path)
    model = build_model(**payload["model_config"])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "train_state")}
    return model, meta
