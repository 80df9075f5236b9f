"""Channel pruning and squeeze-excite folding: exact weight surgery, the expected shapes and
sizes, and checkpoints of either that load, predict and export like any other."""

from __future__ import annotations

import copy

import numpy as np
import onnxruntime as ort
import pytest
import torch

from synthmarks.errors import SynthmarksError
from synthmarks.infer.runtime import to_model_input
from synthmarks.models import INPUT_MEAN, INPUT_STD, ZOO, PointsModule, build_model, model_info
from synthmarks.models.backbones.mobilenetv3 import InvertedResidual
from synthmarks.models.checkpoint import load_model, save_checkpoint
from synthmarks.models.layers import SqueezeExcite
from synthmarks.models.prune import fold_squeeze_excite, hidden_widths, importance, prune_model

#: what the zoo declares prunable (``ZooEntry.prunable``), not a list kept here
MODELS = [name for name, entry in ZOO.items() if entry.prunable]
UNPRUNABLE = [name for name, entry in ZOO.items() if not entry.prunable]


def trained_like(name: str, **kwargs: object) -> torch.nn.Module:
    """A model whose channels differ in importance (fresh BN gammas are all 1) and whose heads
    and BN statistics are non-trivial, so that dropping the wrong channel would show."""
    model = build_model(name, **kwargs).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.1, 1.5)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.8, 1.2)
    return model


def outputs(model: torch.nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return model.eval()(x)


def test_ratio_zero_is_identity():
    model = trained_like("pipnet_mbv3s")
    pruned = prune_model(model, 0.0)
    x = torch.randn(2, 3, 128, 128)
    ref, out = outputs(model, x), outputs(pruned, x)
    assert all(torch.equal(ref[k], out[k]) for k in ref)


@pytest.mark.parametrize("name", MODELS)
def test_pruning_equals_silencing_the_dropped_channels(name):
    """The pruned network computes exactly what the original does with the least important
    hidden channels switched off (depthwise BN gamma and beta zeroed: act(0) = 0 feeds neither
    the squeeze-excite nor the projection) - so every kept weight landed in the right place."""
    model = trained_like(name)
    pruned = prune_model(model, 0.4)
    masked = copy.deepcopy(model)
    blocks = [m for m in masked.modules() if isinstance(m, InvertedResidual)]
    with torch.no_grad():
        for block, full, width in zip(
            blocks, hidden_widths(model), hidden_widths(pruned), strict=True
        ):
            if width < full:
                drop = importance(block).argsort()[: full - width]
                bn = block.block[1][1]  # after the expand conv: the depthwise BN
                bn.weight[drop] = 0.0
                bn.bias[drop] = 0.0
    x = torch.randn(2, 3, 128, 128)
    ref, out = outputs(masked, x), outputs(pruned, x)
    for k in ref:
        torch.testing.assert_close(out[k], ref[k], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(outputs(model, x)[k], ref[k], atol=1e-3)  # pruning did change it


def test_widths_and_size_of_the_default_model():
    model = build_model("pipnet_mbv3s")
    pruned = prune_model(model, 0.4)
    # ceil(0.6 * hidden) rounded up to a multiple of 8; the first block has no expand conv
    assert hidden_widths(model) == [16, 56, 64, 72, 184, 184, 88, 112, 216, 432, 432]
    assert hidden_widths(pruned) == [16, 40, 40, 48, 112, 112, 56, 72, 136, 264, 264]
    assert pruned.config["expand_channels"] == hidden_widths(pruned)
    before, after = model_info(model), model_info(pruned)
    # the PIPNet head and the block outputs are not pruned: about 30 % of parameters go
    assert 0.6 < after["params"] / before["params"] < 0.75
    assert after["flops"] < 0.8 * before["flops"]
    x = torch.randn(1, 3, 128, 128)
    ref, out = outputs(model, x), outputs(pruned, x)
    assert {k: v.shape for k, v in ref.items()} == {k: v.shape for k, v in out.items()}


def test_unsupported_models_and_ratios_are_user_errors():
    assert MODELS and UNPRUNABLE
    for name in UNPRUNABLE:  # the error names exactly the prunable ones
        with pytest.raises(SynthmarksError, match=f"channel pruning supports {', '.join(MODELS)},"):
            prune_model(build_model(name), 0.4)
    with pytest.raises(SynthmarksError, match=r"\[0, 1\)"):
        prune_model(build_model("pipnet_mbv3s"), 1.0)


def constant_gates(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with every squeeze-excite gate made independent of its input (the squeeze's
    weights zeroed, a different bias per channel): then folding must change nothing at all."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, SqueezeExcite):
                m.reduce.weight.zero_()
                m.reduce.bias.uniform_(0.0, 1.0)
                m.expand.bias.uniform_(-2.0, 2.0)
    return model


@pytest.mark.parametrize("name", MODELS)
def test_folding_input_independent_gates_is_exact(name):
    model = constant_gates(trained_like(name))
    x = torch.randn(4, 3, 128, 128)
    folded = fold_squeeze_excite(model, torch.randn(6, 3, 128, 128)).eval()
    assert not any(isinstance(m, SqueezeExcite) for m in folded.modules())
    assert any(isinstance(m, SqueezeExcite) for m in model.modules())  # the source is untouched
    assert folded.config == {**model.config, "squeeze_excite": False}
    ref, out = outputs(model, x), outputs(folded, x)
    for k in ref:
        torch.testing.assert_close(out[k], ref[k], atol=1e-4, rtol=1e-4)


def test_folded_scale_is_the_least_squares_fit_of_the_gated_features():
    """Per hidden channel c of a gated block, the folded project conv's column c is the
    original's times s_c = argmin_s |gate_c x_c - s x_c|^2 over the inputs' features."""
    model = trained_like("pipnet_mbv3s")
    blocks = [m for m in model.modules() if isinstance(m, InvertedResidual)]
    k = next(i for i, b in enumerate(blocks) if isinstance(b.block[-2], SqueezeExcite))
    se = blocks[k].block[-2]
    seen: list[torch.Tensor] = []
    handle = se.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    inputs = torch.randn(5, 3, 128, 128)
    outputs(model, inputs)
    handle.remove()
    x = seen[0]
    with torch.no_grad():
        g = se.gate(x)
        best = (g * x * x).sum((0, 2, 3)) / x.square().sum((0, 2, 3))
        dead = x.square().sum((0, 2, 3)) == 0  # a ReLU channel these inputs never open
        best[dead] = g.mean((0, 2, 3))[dead]
    folded = fold_squeeze_excite(model, inputs)
    after = [m for m in folded.modules() if isinstance(m, InvertedResidual)][k]
    before_w = blocks[k].block[-1][0].weight.detach()
    torch.testing.assert_close(after.block[-1][0].weight, before_w * best[:, None, None])


def test_folding_refuses_models_without_gates():
    for name in UNPRUNABLE:
        with pytest.raises(SynthmarksError, match="folding squeeze-excite supports"):
            fold_squeeze_excite(build_model(name), torch.randn(2, 3, 128, 128))


@pytest.mark.parametrize("surgery", ["prune", "fold"])
@pytest.mark.parametrize("name", MODELS)
def test_pruned_checkpoint_loads_predicts_and_exports(name, surgery, tmp_path):
    from synthmarks.infer.export import export_checkpoint
    from synthmarks.infer.landmarker import Landmarker

    # bce: PIPNet's scores are sigmoids, never clamped, so they carry the whole network's output
    kwargs = {"score_loss": "bce"} if name.startswith("pipnet") else {}
    source = trained_like(name, **kwargs)
    if surgery == "prune":
        pruned = prune_model(source, 0.5).eval()
    else:
        pruned = fold_squeeze_excite(source, torch.randn(4, 3, 128, 128)).eval()
    path = tmp_path / "pruned.pt"
    save_checkpoint(path, pruned, input_size=128, crop_scale=1.3, mean=INPUT_MEAN, std=INPUT_STD)
    loaded, _ = load_model(path)
    x = torch.randn(3, 3, 128, 128)
    ref, out = outputs(pruned, x), outputs(loaded, x)
    assert all(torch.equal(ref[k], out[k]) for k in ref)

    image = np.random.default_rng(0).integers(0, 255, (120, 100, 3), np.uint8)
    assert Landmarker(path, backend="torch").predict(image, (10, 20, 90, 110)).shape == (68, 2)

    onnx_path = tmp_path / "pruned.onnx"
    export_checkpoint(path, onnx_path)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    crops = np.random.default_rng(1).integers(0, 256, (3, 128, 128, 3), np.uint8)
    onnx_points, onnx_scores = sess.run(None, {"image": crops})  # the file takes uint8 crops
    x = to_model_input(torch.from_numpy(crops), INPUT_MEAN, INPUT_STD).contiguous()
    with torch.no_grad():
        points, scores = PointsModule(pruned)(x)
    if name.startswith("pipnet"):
        # The score logits (the best cell's value) depend on the whole pruned network but not on
        # which of two near-tied cells wins, so they are compared exactly; the points can differ
        # at the near-ties of a random network (tests/models/test_onnx.py masks those).
        logits = [np.log(s) - np.log1p(-s) for s in (onnx_scores, scores.numpy())]
        np.testing.assert_allclose(*logits, atol=1e-4, rtol=0)
    else:
        np.testing.assert_allclose(onnx_points, points.numpy(), atol=1e-4, rtol=0)
