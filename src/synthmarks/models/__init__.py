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

from synthmarks.models.base import (
    INPUT_MEAN,
    INPUT_STD,
    LandmarkModel,
    PointsModule,
    export_onnx,
    model_info,
    points_module,
)
from synthmarks.models.zoo import ZOO, ZooEntry

DEFAULT_MODEL = "pipnet_mbv3s"
MODEL_NAMES: list[str] = list(ZOO)


def build_model(
    name: str = DEFAULT_MODEL, num_points: int = 68, input_size: int = 128, **kwargs: Any
) -> LandmarkModel:
    """Build a model by name (see ``MODEL_NAMES``); kwargs go to the builder/head.

    The result's ``config`` holds ``name``, ``num_points``, ``input_size`` and the kwargs (numpy
    arrays such as ``mean_shape`` converted to lists), so ``build_model(**model.config)``
    rebuilds the same architecture.
    """
    if name not in ZOO:
        raise ValueError(f"unknown model {name!r}; choose from {MODEL_NAMES}")
    model = ZOO[name].build(num_points, input_size, **kwargs)
    model.config = {
        "name": name,
        "num_points": num_points,
        "input_size": input_size,
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
