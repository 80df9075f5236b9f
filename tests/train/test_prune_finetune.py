"""Fine-tuning after surgery: ``init.checkpoint`` + ``init.prune_ratio`` (or
``init.fold_se_crops``) start from the pruned (or folded) trained weights, and an interrupted
fine-tune resumes from its own last.pt alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthmarks.errors import SynthmarksError
from synthmarks.models.backbones.mobilenetv3 import InvertedResidual
from synthmarks.models.checkpoint import load_model, read_checkpoint
from synthmarks.models.layers import SqueezeExcite
from synthmarks.models.prune import hidden_widths
from synthmarks.train.config import load_config
from synthmarks.train.trainer import Trainer, train

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"
SHORT = ["data.limit=16", "schedule.epochs=2"]  # 13 training faces, batch 8: one step an epoch


def depthwise(block: InvertedResidual) -> tuple[torch.nn.Conv2d, torch.nn.BatchNorm2d]:
    """The block's depthwise conv and BN: one kernel and one gamma per hidden channel."""
    conv_bn = next(m for m in block.block if m[0].groups > 1)
    return conv_bn[0], conv_bn[1]


def weights_equal(a: Path, b: Path) -> None:
    sa, sb = read_checkpoint(a), read_checkpoint(b)
    assert sa["train_state"]["step"] == sb["train_state"]["step"]
    for k, v in sa["state_dict"].items():
        assert torch.equal(v, sb["state_dict"][k]), k


@pytest.fixture()
def trained(tiny_overrides: list[str], tmp_path: Path) -> Path:
    """A (barely) trained tiny checkpoint to start from, outside any run folder."""
    cfg = load_config(TINY, tiny_overrides + SHORT + ["name=source", "schedule.epochs=1"])
    train(cfg)
    source = tmp_path / "source.pt"
    (cfg.run_dir / "best.pt").rename(source)
    return source


def test_pruned_finetune_starts_from_the_pruned_weights_and_resumes(
    trained, tiny_overrides, tmp_path, monkeypatch
):
    sets = tiny_overrides + SHORT + [f"init.checkpoint={trained}", "init.prune_ratio=0.5"]
    straight = load_config(TINY, sets + ["name=straight"])
    start = Trainer(straight).model
    source = load_model(trained)[0]
    # Every tensor that kept its shape holds the trained value; every pruned block keeps trained
    # hidden channels (each found in the source by its depthwise kernel), and they are the most
    # important ones (largest |gamma| of the depthwise BN): worked out here from the trained
    # weights alone, not by calling prune_model again.
    src_state, start_state = source.state_dict(), start.state_dict()
    for k, v in start_state.items():
        if v.shape == src_state[k].shape:
            assert torch.equal(v, src_state[k]), k
    blocks = [
        (a, b)
        for a, b in zip(source.modules(), start.modules(), strict=True)
        if isinstance(a, InvertedResidual)
    ]
    pruned_blocks = 0
    for src_block, start_block in blocks:
        (src_conv, src_bn), (start_conv, start_bn) = depthwise(src_block), depthwise(start_block)
        if start_conv.out_channels == src_conv.out_channels:
            continue
        src_k, start_k = src_conv.weight.flatten(1), start_conv.weight.flatten(1)
        origin = [int((src_k == row).all(1).nonzero().squeeze()) for row in start_k]
        assert torch.equal(start_bn.weight, src_bn.weight[origin])
        kept = src_bn.weight[origin].abs().sort().values
        top = src_bn.weight.abs().sort().values[-len(origin) :]
        assert torch.equal(kept, top)
        pruned_blocks += 1
    assert pruned_blocks == len(blocks) - 1  # all but the first, which has no expand conv
    train(straight)
    ckpt = read_checkpoint(straight.run_dir / "best.pt")
    assert ckpt["model_config"]["expand_channels"] == hidden_widths(start)

    broken = load_config(TINY, sets + ["name=broken"])
    original = Trainer._end_epoch

    def end_then_die(self, *args):
        original(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_end_epoch", end_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(broken)
    monkeypatch.undo()
    trained.unlink()  # the resume rebuilds the pruned shape from last.pt's own model config
    train(broken, resume=broken.run_dir / "last.pt")
    weights_equal(straight.run_dir / "last.pt", broken.run_dir / "last.pt")


def test_folded_finetune_starts_without_gates_and_resumes_without_the_source(
    trained, tiny_overrides
):
    cfg = load_config(
        TINY,
        tiny_overrides + SHORT + [f"init.checkpoint={trained}", "init.fold_se_crops=8", "name=f"],
    )
    start = Trainer(cfg).model
    source = load_model(trained)[0]
    assert not any(isinstance(m, SqueezeExcite) for m in start.modules())
    # outside the gated blocks nothing moved: the stem and the heads hold the trained weights
    src_state = source.state_dict()
    for k, v in start.state_dict().items():
        if not k.startswith("backbone.features.") or k.startswith("backbone.features.0."):
            assert torch.equal(v, src_state[k]), k
    train(cfg)
    assert read_checkpoint(cfg.run_dir / "best.pt")["model_config"]["squeeze_excite"] is False
    trained.unlink()  # the run's own last.pt rebuilds the folded network
    resumed = Trainer(cfg, resume=cfg.run_dir / "last.pt").model
    assert not any(isinstance(m, SqueezeExcite) for m in resumed.modules())


def test_init_mistakes_are_user_errors(trained, tiny_overrides):
    with pytest.raises(SynthmarksError, match="init.fold_se_crops: folds a trained model"):
        load_config(TINY, tiny_overrides + ["init.fold_se_crops=16"])
    with pytest.raises(SynthmarksError, match="init.fold_se_crops: pipnet_resnet18 has no"):
        load_config(
            TINY,
            tiny_overrides
            + [f"init.checkpoint={trained}", "init.fold_se_crops=16", "model.name=pipnet_resnet18"],
        )
    with pytest.raises(SynthmarksError, match="set init.checkpoint"):
        load_config(TINY, tiny_overrides + ["init.prune_ratio=0.3"])
    with pytest.raises(SynthmarksError, match="init.prune_ratio"):
        load_config(TINY, tiny_overrides + [f"init.checkpoint={trained}", "init.prune_ratio=1"])
    other = load_config(
        TINY, tiny_overrides + [f"init.checkpoint={trained}", "model.name=regress_mbv3s"]
    )
    with pytest.raises(SynthmarksError, match="has model name 'pipnet_mbv3s', not"):
        Trainer(other)


def test_init_at_another_input_size_keeps_every_weight(trained, tiny_overrides):
    """A fully convolutional network goes on training at a larger crop from the same weights:
    PIPNet's grid grows, and no tensor of any zoo model depends on the crop's size."""
    bigger = load_config(
        TINY, tiny_overrides + [f"init.checkpoint={trained}", "model.input_size=96"]
    )
    model = Trainer(bigger).model
    assert model.config["input_size"] == 96 and model.grid == 96 // model.stride
    for k, v in load_model(trained)[0].state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    with torch.no_grad():
        pts = model.eval().predict_all(torch.zeros(1, 3, 96, 96))[0]
    assert pts.shape[1:] == (model.layout.num_points, 2)


def test_an_input_size_the_network_cannot_take_is_a_user_error(trained, tiny_overrides):
    from synthmarks.models.checkpoint import with_input_size

    with pytest.raises(SynthmarksError, match="model.input_size: must be a multiple of 32"):
        load_config(TINY, tiny_overrides + [f"init.checkpoint={trained}", "model.input_size=100"])
    with pytest.raises(SynthmarksError, match="pipnet_mbv3s cannot change its input size to 100"):
        with_input_size(load_model(trained)[0], 100)
