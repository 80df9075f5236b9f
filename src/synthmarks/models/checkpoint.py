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


def with_input_size(model: torch.nn.Module, size: int) -> torch.nn.Module:
    """``model`` rebuilt for ``size``-pixel crops with the same weights: no zoo network has a
    weight that depends on the crop's size (PIPNet's grid and the heatmaps grow with it, the
    regression heads pool), so a model trained at one size goes on training at another. Raises
    for a size the network cannot take (not a multiple of its stride)."""
    from synthmarks.models import build_model

    cfg = {**model.config, "input_size": int(size)}
    try:
        new = build_model(**cfg)
        new.load_state_dict(model.state_dict())
    except (RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise SynthmarksError(
            f"{model.config['name']} cannot change its input size to {size}: {first}"
        ) from None
    new.layout = model.layout
    return new


def grow_outputs(model: torch.nn.Module, outputs: dict[str, Any]) -> tuple[torch.nn.Module, str]:
    """``model`` rebuilt with the output layout ``outputs`` (outline jaw, pose), its weights
    carried over: every tensor of the same shape as is, the outline jaw's head rows copied from
    the x-ray jaw's (the two conventions agree on a frontal face, so this starts close), the pose
    head fresh (its last layer zero: a frontal pose). Returns (model, one line saying what was
    done). Lets a released plain model be fine-tuned into one with the new outputs."""
    import numpy as np

    from synthmarks.landmarks import JAW_POINTS, OutputLayout
    from synthmarks.models import build_model

    old_layout: OutputLayout = model.layout
    cfg = dict(model.config)
    new_layout = OutputLayout.from_json(outputs, old_layout.landmarks)
    if new_layout.landmarks != old_layout.landmarks or (
        old_layout.outline_jaw and not new_layout.outline_jaw
    ):
        raise SynthmarksError("init.checkpoint: cannot drop outputs the checkpoint has")
    n_old, n_new = old_layout.num_points, new_layout.num_points
    src = np.arange(n_new)
    src[n_old:] = np.arange(n_new - n_old) % JAW_POINTS  # new outline rows <- x-ray jaw rows
    if n_new > n_old and cfg.get("mean_shape") is not None:
        shape = np.asarray(cfg["mean_shape"], np.float32)
        cfg["mean_shape"] = shape[src].tolist()
    cfg["outputs"] = new_layout.to_json()
    new = build_model(**cfg)
    old_state, new_state = model.state_dict(), new.state_dict()
    copied = grown = 0
    for key, value in new_state.items():
        old = old_state.get(key)
        if old is None:
            continue
        if old.shape == value.shape and not key.endswith(("neighbours", "self_weight", "merge_t")):
            new_state[key] = old
            copied += 1
        elif old.dim() >= 1 and old.shape[1:] == value.shape[1:]:
            rows = _point_rows(model, new, old.shape[0], src)
            if rows is not None:
                new_state[key] = old[rows]
                grown += 1
    new.load_state_dict(new_state)
    parts = [f"{copied} tensors loaded"]
    if grown:
        parts.append(f"{grown} head tensors grown (outline jaw rows copied from the x-ray jaw)")
    if new_layout.pose and not old_layout.pose:
        parts.append("pose head new")
    return new, ", ".join(parts)


def _point_rows(old: torch.nn.Module, new: torch.nn.Module, old_rows: int, src: Any) -> Any:
    """Indices into an old per-point head tensor's rows giving the new model's rows, for the
    two per-point heads: PIPNet (blocks score, x, y of N rows, then x and y blocks of N*K
    neighbour offsets) and regression (2 rows per point).

    A PIPNet neighbour table is rebuilt from the grown mean shape, so a point's k-th neighbour
    may differ: each new (point, neighbour) row is taken from the old row predicting the same
    point (or from the point's own offset row when the neighbour is its own outline twin), so
    the grown model's decoded x-ray points start where the old model's were.
    """
    import numpy as np

    n_old = old.layout.num_points
    k = getattr(new, "num_neighbors", None)
    if k is not None and old_rows == n_old * (3 + 2 * k):
        old_nb = old.neighbours.cpu().numpy()
        new_nb = new.neighbours.cpu().numpy()
        blocks = [src + b * n_old for b in range(3)]
        for b in range(2):  # b = 0: nb_x, 1: nb_y
            base = 3 * n_old + b * n_old * k
            rows = np.empty((len(src), k), np.int64)
            for i, si in enumerate(src):
                for kk, j in enumerate(new_nb[i]):
                    hit = np.flatnonzero(old_nb[si] == src[j])
                    if hit.size:
                        rows[i, kk] = base + si * k + hit[0]
                    elif src[j] == si:  # its own twin: the point's own offset row
                        rows[i, kk] = (1 + b) * n_old + si
                    else:
                        rows[i, kk] = base + si * k + kk
            blocks.append(rows.reshape(-1))
        return torch.from_numpy(np.concatenate(blocks))
    if k is None and old_rows == 2 * n_old:
        return torch.from_numpy((src[:, None] * 2 + np.arange(2)).reshape(-1))
    return None
