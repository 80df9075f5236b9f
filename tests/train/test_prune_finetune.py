"""Fine-tuning a pruned model: ``init.checkpoint`` + ``init.prune_ratio`` start from the pruned
trained weights, and an interrupted fine-tune resumes from its own last.pt alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthmarks.errors import SynthmarksError
from synthmarks.models.checkpoint import load_model, read_checkpoint
from synthmarks.models.prune import hidden_widths, prune_model
from synthmarks.train.config import load_config
from synthmarks.train.trainer import Trainer, train

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"
SHORT = ["data.limit=16", "schedule.epochs=2"]  # 13 training faces, batch 8: one step an epoch


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
    expected = prune_model(load_model(trained)[0], 0.5)
    for k, v in expected.state_dict().items():
        assert torch.equal(start.state_dict()[k], v), k
    train(straight)
    ckpt = read_checkpoint(straight.run_dir / "best.pt")
    pruned, full = hidden_widths(expected), hidden_widths(load_model(trained)[0])
    assert ckpt["model_config"]["expand_channels"] == pruned
    assert all(p <= f for p, f in zip(pruned, full, strict=True)) and sum(pruned) < sum(full)

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


def test_init_mistakes_are_user_errors(trained, tiny_overrides):
    with pytest.raises(SynthmarksError, match="set init.checkpoint"):
        load_config(TINY, tiny_overrides + ["init.prune_ratio=0.3"])
    with pytest.raises(SynthmarksError, match="init.prune_ratio"):
        load_config(TINY, tiny_overrides + [f"init.checkpoint={trained}", "init.prune_ratio=1"])
    other = load_config(
        TINY, tiny_overrides + [f"init.checkpoint={trained}", "model.name=regress_mbv3s"]
    )
    with pytest.raises(SynthmarksError, match="has model name 'pipnet_mbv3s', not"):
        Trainer(other)
