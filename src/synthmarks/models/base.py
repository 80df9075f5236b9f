"""The interface every landmark model implements, plus export and size helpers.

Coordinate convention (all models, targets and outputs)
-------------------------------------------------------
Points are ``[..., 2]`` tensors ``(x, y)`` in *normalised crop coordinates*: 0 is the left/top
edge of the input image and 1 the right/bottom edge, so ``p`` spans the image extent and the
centre of pixel i is at ``(i + 0.5) / S``. Converting to input pixels (pixel-centre convention)::

    pixel_x = p_x * S - 0.5        p_x = (pixel_x + 0.5) / S

Points may lie slightly outside [0, 1] (a face can leave the crop); nothing clamps them.

Input
-----
``x`` is a float [B, 3, S, S] RGB crop, scaled to 0-1 and then normalised per channel with
``(x - INPUT_MEAN) / INPUT_STD`` (ImageNet statistics, RGB order, 0-1 scale). S is 128 by default;
256 works for every model. channels_last input is fine (and faster for training).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import Tensor, nn

from synthmarks.landmarks import OutputLayout

#: Per-channel mean of the input normalisation, RGB, for images scaled to 0-1.
INPUT_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
#: Per-channel std of the input normalisation, RGB, for images scaled to 0-1.
INPUT_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


class LandmarkModel(nn.Module):
    """Base class: a backbone + head that maps a face crop to N landmarks.

    Subclasses implement :meth:`forward` (raw head outputs), :meth:`encode` (the targets the head
    is trained towards), :meth:`decode` and :meth:`loss`. ``config`` holds the name and kwargs
    that :func:`synthmarks.models.build_model` needs to rebuild the model (``build_model(**cfg)``);
    it is filled in by ``build_model``.
    """

    def __init__(self, num_points: int, input_size: int) -> None:
        super().__init__()
        self.num_points = num_points
        self.input_size = input_size
        self.config: dict[str, Any] = {}
        #: the head-pose branch (:class:`PoseHead`), when the model has one
        self.pose_head: nn.Module | None = None
        #: what the outputs mean (set by ``build_model``; plain for a model built directly)
        self.layout = OutputLayout(num_points if num_points in (68, 70) else 68)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Raw head outputs for a normalised [B, 3, S, S] batch."""
        raise NotImplementedError

    def encode(self, points: Tensor) -> dict[str, Tensor]:
        """Training targets for points [B, N, 2] (normalised crop coordinates)."""
        raise NotImplementedError

    def decode(self, out: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(points [B, N, 2] in normalised crop coordinates, confidence [B, N] in [0, 1])."""
        raise NotImplementedError

    def loss(
        self, out: dict[str, Tensor], target: Tensor, visibility: Tensor | None = None
    ) -> tuple[Tensor, dict[str, float]]:
        """(total loss to backpropagate, {name: value} of its parts for logging).

        ``target`` [B, N, 2] uses the coordinate convention above; ``visibility`` [B, N] (0/1 or
        soft weights) masks points out of the loss.
        """
        raise NotImplementedError

    def predict(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``decode(forward(x))``; a head may override it with a cheaper path that computes only
        what decoding reads (inference and export use this, training uses forward/loss)."""
        return self.decode(self.forward(x))

    def predict_all(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """(points, confidence, pose [B, 3] radians or None): :meth:`predict` plus the head pose
        of a model with a pose head, from one backbone pass."""
        points, scores = self.predict(x)
        return points, scores, None


class PoseHead(nn.Module):
    """Head pose from a feature map: global average pool -> 128 -> ReLU -> 3 angles (radians,
    AFLW2000-3D's pitch, yaw, roll; see :mod:`synthmarks.pose`).

    The last layer starts at zero, so a pose head added to a trained landmark model predicts a
    frontal head and its first gradients do not disturb the shared backbone with random noise.
    """

    def __init__(self, channels: int, hidden: int = 128) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True))
        self.out = nn.Linear(hidden, 3)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, features: Tensor) -> Tensor:
        f = features.mean((2, 3)) if features.dim() == 4 else features
        return self.out(self.fc(f))


class PointsModule(nn.Module):
    """Wraps a model so ``forward(x) -> (points [B, N, 2], scores [B, N])``, plus ``pose``
    [B, 3] (radians) as a third output when the model has a pose head.

    This is what gets exported to ONNX (``torch.onnx.export(PointsModule(m), ...,
    dynamo=False, opset_version=17)``) and run at inference; see :func:`export_onnx`.
    """

    def __init__(self, model: LandmarkModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        points, scores, pose = self.model.predict_all(x)
        return (points, scores) if pose is None else (points, scores, pose)


def points_module(model: LandmarkModel) -> PointsModule:
    """Functional alias of :class:`PointsModule`."""
    return PointsModule(model)


def export_onnx(
    model: LandmarkModel,
    path: str | Path | BinaryIO,
    opset_version: int = 17,
    example: Tensor | None = None,
) -> None:
    """Export ``PointsModule(model)`` in eval mode, inputs ``image`` [B, 3, S, S] (or the shape
    and dtype of ``example``) with a dynamic batch axis, outputs ``points`` [B, N, 2] and
    ``scores`` [B, N], and ``pose`` [B, 3] (radians) when the model has a pose head."""
    was_training = model.training
    model.eval()
    s = model.input_size
    dummy = torch.zeros(1, 3, s, s) if example is None else example
    with torch.no_grad():  # a pose head adds a third output; ask the model, not its type
        count = len(PointsModule(model)(dummy))
    outputs = ["points", "scores", "pose"][:count]
    try:
        with warnings.catch_warnings():
            # the tracer warns that tensors made from Python numbers (the input normalisation's
            # mean and std) become constants of the graph: here they are constants by design
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(
                PointsModule(model),
                (dummy,),
                path,
                input_names=["image"],
                output_names=outputs,
                dynamic_axes={"image": {0: "batch"}, **{k: {0: "batch"} for k in outputs}},
                opset_version=opset_version,
                dynamo=False,
            )
    finally:
        model.train(was_training)


def model_info(model: nn.Module, input_size: int | None = None) -> dict[str, Any]:
    """Size and cost of a model for one [1, 3, S, S] input.

    Returns ``params`` (number of parameters), ``size_mb`` (float32 weights: params * 4 / 2**20,
    buffers such as BatchNorm statistics excluded), ``macs`` (multiply-accumulates of every
    Conv2d, ConvTranspose2d and Linear, counted with forward hooks; elementwise ops, pooling and
    decoding are ignored) and ``flops = 2 * macs``.
    """
    size = input_size or getattr(model, "input_size", 128)
    params = sum(p.numel() for p in model.parameters())
    macs = 0

    def count(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs += output.numel() * (module.in_channels // module.groups) * k
        elif isinstance(module, nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs += inputs[0].numel() * (module.out_channels // module.groups) * k
        elif isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return {"params": params, "size_mb": params * 4 / 2**20, "macs": macs, "flops": 2 * macs}
