"""Model zoo and losses for 68-point landmarks.

>>> model = build_model("pipnet_mbv3s")            # the default
>>> out = model(x)                                 # x: [B, 3, 128, 128], see base.INPUT_MEAN/STD
>>> loss, logs = model.loss(out, target, visibility)
>>> points, scores = model.decode(out)             # normalised crop coordinates, [0, 1] scores
>>> build_model(**model.config)                    # same architecture again (for checkpoints)

Coordinate conventions are documented in :mod:`synthmarks.models.base`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthmarks.landmarks import JAW_POINTS, OutputLayout
from synthmarks.models.base import (
    INPUT_MEAN,
    INPUT_STD,
    LandmarkModel,
    PointsModule,
    export_onnx,
    model_info,
    points_module,
)
from synthmarks.models.mean_shape import default_mean_shape
from synthmarks.models.zoo import ZOO, ZooEntry

DEFAULT_MODEL = "pipnet_mbv3s"
MODEL_NAMES: list[str] = list(ZOO)


def build_model(
    name: str = DEFAULT_MODEL,
    num_points: int = 68,
    input_size: int = 128,
    outputs: dict[str, Any] | None = None,
    **kwargs: Any,
) -> LandmarkModel:
    """Build a model by name (see ``MODEL_NAMES``); kwargs go to the builder/head.

    ``num_points`` is the scheme's (68, or 70 with pupils); ``outputs`` (an
    :class:`~synthmarks.landmarks.OutputLayout` as JSON) adds the outline jaw (17 more points)
    and a pose head; only zoo entries with ``heads`` learn them. The result's ``config`` holds
    ``name``, ``num_points``, ``input_size``, ``outputs`` (only when not plain, so older
    configs stay byte-identical) and the kwargs (numpy arrays such as ``mean_shape`` converted to
    lists), so ``build_model(**model.config)`` rebuilds the same architecture; ``model.layout``
    is the layout.
    """
    if name not in ZOO:
        raise ValueError(f"unknown model {name!r}; choose from {MODEL_NAMES}")
    layout = OutputLayout.from_json(outputs, num_points)
    entry = ZOO[name]
    if not layout.plain and not entry.heads:
        raise ValueError(
            f"{name} learns neither an outline jaw nor a pose (heatmap head); "
            "use a pipnet_* or regress_* model"
        )
    build_kwargs = dict(kwargs)
    if layout.outline_jaw and entry.mean_shape and build_kwargs.get("mean_shape") is None:
        base = default_mean_shape(layout.landmarks)
        build_kwargs["mean_shape"] = np.concatenate([base, base[:JAW_POINTS]])
    if layout.pose:
        build_kwargs["pose"] = True
    model = entry.build(layout.num_points, input_size, **build_kwargs)
    model.layout = layout
    model.config = {
        "name": name,
        "num_points": num_points,
        "input_size": input_size,
        **({} if layout.plain else {"outputs": layout.to_json()}),
        **{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()},
    }
    return model


__all__ = [
    "DEFAULT_MODEL",
    "INPUT_MEAN",
    "INPUT_STD",
    "MODEL_NAMES",
    "ZOO",
    "LandmarkModel",
    "PointsModule",
    "ZooEntry",
    "build_model",
    "export_onnx",
    "model_info",
    "points_module",
]
