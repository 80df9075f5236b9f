"""Two surgeries on trained MobileNetV3 models, each meant to be followed by a fine-tune:
structured channel pruning (network-slimming style, :func:`prune_model`) and folding the
squeeze-excite gates into fixed scales (:func:`fold_squeeze_excite`).

Only the *hidden* (expanded) channels of each inverted-residual block are pruned: they hold most
of the backbone's weights, and removing one touches only its own block (expand conv + BN,
depthwise conv + BN, the squeeze-excite's reduce inputs and expand outputs, the project conv's
inputs). Block outputs keep their width, so residuals and heads need no bookkeeping, and the
pruned shape is fully described by the per-block hidden widths (``expand_channels`` in the model
config): checkpoints, ``Landmarker``, ``eval``, ``export`` and ``bench`` take a pruned model as
they are. Blocks without an expand conv (the first of MobileNetV3-small) are left whole: their
hidden channels are the stem's outputs.

A channel's importance is ``|gamma|`` of its depthwise BN, the channel's output scale (Liu et al.,
"Learning Efficient Convolutional Networks through Network Slimming", 2017). Measured on the real
dev split before fine-tuning (a release checkpoint after one epoch, 7.3 % NME unpruned; ratio
0.4), weighting it by the norm of the project-conv column that reads the channel was worse
(15.4 % against 13.7 %), and the expected activation under the BN statistics (which counts beta
too) was better at 0.4 but worse at 0.5: no consistent gain for more code. Pruned models are meant
to be fine-tuned (``init.prune_ratio`` in the train config).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor

from synthmarks.errors import SynthmarksError
from synthmarks.models.backbones.mobilenetv3 import InvertedResidual
from synthmarks.models.base import LandmarkModel
from synthmarks.models.layers import ConvBNAct, SqueezeExcite


def prune_model(model: LandmarkModel, ratio: float) -> LandmarkModel:
    """A new model with about ``ratio`` of each block's hidden channels removed, the kept
    channels' weights copied (``model`` is left as it was).

    Each prunable block keeps ``ceil((1 - ratio) * hidden)`` channels rounded up to a multiple of
    8 (never fewer than 8): multiples of 8 vectorise well on CPU, and rounding up means a small
    ratio can leave a narrow block whole. ``ratio=0`` returns an identical network.
    """
    from synthmarks.models import build_model

    _require_mobilenet(model, "channel pruning")
    if not 0.0 <= ratio < 1.0:
        raise SynthmarksError(f"prune ratio must be in [0, 1), got {ratio}")
    keep: dict[str, Tensor] = {}  # block's state-dict prefix -> sorted kept hidden channels
    hidden: list[int] = []
    for prefix, block in model.named_modules():
        if isinstance(block, InvertedResidual):
            depthwise = _depthwise(block)
            width = depthwise[0].out_channels
            if block.block[0] is not depthwise:  # has an expand conv: prunable
                kept = _keep_count(width, ratio)
                top = importance(block).topk(kept).indices
                keep[prefix + "."] = top.sort().values
                width = kept
            hidden.append(width)
    pruned = build_model(**{**model.config, "expand_channels": hidden})
    old = model.state_dict()
    state = {}
    for key, target in pruned.state_dict().items():
        value = old[key]
        # Only hidden-channel axes shrink, so every axis whose length changed is indexed by the
        # kept channels of the block the tensor belongs to.
        for dim, (before, after) in enumerate(zip(value.shape, target.shape, strict=True)):
            if before != after:
                index = next(v for p, v in keep.items() if key.startswith(p))
                value = value.index_select(dim, index.to(value.device))
        state[key] = value
    pruned.load_state_dict(state)
    return pruned.train(model.training)


def fold_squeeze_excite(model: LandmarkModel, inputs: Tensor, batch: int = 64) -> LandmarkModel:
    """A copy of ``model`` without squeeze-excite (``squeeze_excite: false`` in its config), each
    gate replaced by one fixed scale per channel, folded into the project conv that reads it.

    A gate scales channel c of its block's hidden features x by g_c, which depends on the image.
    The fixed scale is the one that best reproduces the gated features over ``inputs`` (model
    inputs, (B, 3, S, S): augmented training crops) in least squares, s_c = sum(g_c x_c^2) /
    sum(x_c^2) over crops and positions: the mean gate weighted by where the channel is active
    (the plain mean gate for a channel never active on them).
    The project conv is linear, so scaling its input columns by s equals scaling its inputs. On
    the released student (0.5.0) the gates vary by 12-54 % of their mean from face to face, so
    the folded network needs a fine-tune (``init.fold_se_crops`` in the train config) to win
    back what that variation carried, which it does not fully (docs/experiments.md, "Inference
    speed of the released model").
    """
    from synthmarks.models import build_model

    _require_mobilenet(model, "folding squeeze-excite")
    # per gate: sum(g x^2), sum(x^2) and sum(g) per channel, and the number of crops
    sums: dict[SqueezeExcite, tuple[Tensor, Tensor, Tensor, int]] = {}

    def measure(se: SqueezeExcite, args: tuple[Tensor]) -> None:
        x, g = args[0], se.gate(args[0])
        zero = x.new_zeros(x.shape[1])
        num, den, total, n = sums.get(se, (zero, zero, zero, 0))
        x2 = x.square()
        sums[se] = (
            num + (g * x2).sum((0, 2, 3)),
            den + x2.sum((0, 2, 3)),
            total + g.sum((0, 2, 3)),
            n + len(x),
        )

    was_training = model.training
    hooks = [
        m.register_forward_pre_hook(measure)
        for m in model.modules()
        if isinstance(m, SqueezeExcite)
    ]
    try:
        with torch.no_grad():
            model.eval()
            for chunk in inputs.split(batch):
                model(chunk)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    folded = copy.deepcopy(model)
    pairs = list(zip(model.modules(), folded.modules(), strict=True))  # before any deletion
    with torch.no_grad():
        for source, block in pairs:
            if not isinstance(source, InvertedResidual):
                continue
            for i, layer in enumerate(source.block):
                if isinstance(layer, SqueezeExcite):
                    num, den, total, n = sums[layer]
                    # a channel the crops never activate keeps its mean gate
                    scale = torch.where(den > 0, num / den.clamp_min(1e-30), total / n)
                    block.block[-1][0].weight.mul_(scale[:, None, None])
                    del block.block[i]  # Sequential renumbers the layers after it
    config = {**model.config, "squeeze_excite": False}
    result = build_model(**config)
    result.load_state_dict(folded.state_dict())  # strict: the folded copy is that architecture
    return result.train(was_training)


def _require_mobilenet(model: LandmarkModel, surgery: str) -> None:
    """A user error naming the models ``surgery`` works on, unless ``model`` is one of them."""
    from synthmarks.models import ZOO

    name = model.config.get("name")
    entry = ZOO.get(name)
    if entry is None or not entry.prunable:
        supported = ", ".join(n for n, e in ZOO.items() if e.prunable)
        raise SynthmarksError(f"{surgery} supports {supported}, not {name!r}")


def importance(block: InvertedResidual) -> Tensor:
    """Per hidden channel of ``block``: |gamma| of its depthwise BN."""
    return _depthwise(block)[1].weight.detach().abs()


def _depthwise(block: InvertedResidual) -> ConvBNAct:
    return next(m for m in block.block if isinstance(m, ConvBNAct) and m[0].groups > 1)


def _keep_count(width: int, ratio: float) -> int:
    return min(width, max(8, 8 * math.ceil((1.0 - ratio) * width / 8 - 1e-9)))


def hidden_widths(model: LandmarkModel) -> list[int]:
    """The hidden width of every inverted-residual block (for reports and tests)."""
    return [
        _depthwise(m)[0].out_channels for m in model.modules() if isinstance(m, InvertedResidual)
    ]
