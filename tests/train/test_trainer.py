"""End-to-end training on tiny cartoon faces: it learns, writes loadable checkpoints, and a run
interrupted (between or inside epochs) and resumed ends with exactly the same weights."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch

from synthmarks.cli import main
from synthmarks.errors import SynthmarksError
from synthmarks.models.checkpoint import read_checkpoint
from synthmarks.train.config import load_config
from synthmarks.train.trainer import Trainer, train

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def run_cli(*args: str) -> int:
    return main(["train", "--config", str(TINY), *args])


def test_trains_and_writes_a_landmarker_checkpoint(tiny_overrides, tmp_path):
    sets = [f"--set={s}" for s in tiny_overrides + ["schedule.epochs=4", "data.cache=true"]]
    assert run_cli(*sets) == 0
    run = tmp_path / "runs" / "tiny"
    for name in ("best.pt", "last.pt", "log.csv", "config.yaml", "summary.json"):
        assert (run / name).is_file(), name
    rows = (run / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 5 and "val_synth_nme" in header
    losses = [float(r.split(",")[header.index("loss")]) for r in rows[1:]]
    assert losses[-1] < 0.8 * losses[0], losses

    from synthmarks.infer.landmarker import Landmarker

    lm = Landmarker(run / "best.pt", backend="torch")
    image = np.zeros((96, 96, 3), np.uint8)
    assert lm.predict(image, (20, 20, 70, 75)).shape == (68, 2)
    ckpt = read_checkpoint(run / "best.pt")
    assert ckpt["crop_scale"] == 1.3 and ckpt["input_size"] == 64
    assert ckpt["train_state"]["config"]["name"] == "tiny"
    assert "mean_shape" in ckpt["model_config"]  # the training set's, for PIPNet's neighbours


def states_equal(a: Path, b: Path) -> None:
    sa, sb = read_checkpoint(a), read_checkpoint(b)
    assert sa["train_state"]["step"] == sb["train_state"]["step"]
    for k, v in sa["state_dict"].items():
        assert torch.equal(v, sb["state_dict"][k]), k
    oa, ob = sa["train_state"]["optimizer"]["state"], sb["train_state"]["optimizer"]["state"]
    for k in oa:
        for name, v in oa[k].items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(ob[k][name])), (k, name)


@pytest.mark.parametrize(
    "where, model, extra",
    [
        ("epoch", "pipnet_mbv3s", []),
        ("step", "regress_mbv3s", []),  # dropout: the torch RNG must be restored mid-epoch too
        # a loader worker process draws each sample's augmentation itself, from (seed, epoch,
        # index): a resumed run must reach the same samples without the worker's state
        ("step", "pipnet_mbv3s", ["data.workers=1"]),
        # the compiled forward shares its parameters with the model that is saved and restored
        ("step", "pipnet_mbv3s", ["runtime.compile=true"]),
    ],
    ids=["epoch", "step-dropout", "step-workers", "step-compile"],
)
def test_resume_ends_where_an_uninterrupted_run_would(
    tiny_overrides, tmp_path, monkeypatch, where, model, extra
):
    if "runtime.compile=true" in extra:  # dynamo's graph capture without minutes of codegen
        monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    sets = tiny_overrides + [f"model.name={model}", "schedule.epochs=2", *extra]
    if model != "pipnet_mbv3s":
        sets.append("model.kwargs={width_mult: 0.5}")
    straight = load_config(TINY, sets + ["name=straight"])
    train(straight)

    broken = load_config(TINY, sets + ["name=broken"])
    original_end_epoch, original_train_step = Trainer._end_epoch, Trainer._train_step
    if where == "epoch":  # killed right after epoch 1 was checkpointed

        def end_then_die(self, *args):
            original_end_epoch(self, *args)
            raise KeyboardInterrupt

        monkeypatch.setattr(Trainer, "_end_epoch", end_then_die)
    else:  # Ctrl-C in the middle of epoch 2

        def step_then_die(self, *args):
            if self.step == 6:
                raise KeyboardInterrupt
            return original_train_step(self, *args)

        monkeypatch.setattr(Trainer, "_train_step", step_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(broken)
    monkeypatch.setattr(Trainer, "_end_epoch", original_end_epoch)
    monkeypatch.setattr(Trainer, "_train_step", original_train_step)
    last = broken.run_dir / "last.pt"
    state = read_checkpoint(last)["train_state"]
    assert (state["epoch"], state["batch_in_epoch"]) == ((1, 0) if where == "epoch" else (1, 2))
    train(broken, resume=last)
    states_equal(straight.run_dir / "last.pt", last)


def test_user_errors_are_one_line(tiny_overrides, tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    sets = [f"--set={s}" for s in tiny_overrides]
    assert run_cli(*sets, "--set=data.train=/no/such/dir") == 2
    assert "data.train" in capsys.readouterr().err
    assert run_cli(*sets, "--set=model.name=nonet") == 2
    assert "model.name" in capsys.readouterr().err
    assert run_cli(*sets, "--resume") == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert run_cli(*sets, "--set=schedule.epochs=1") == 0
    assert run_cli(*sets, "--set=schedule.epochs=1") == 2
    assert "already holds a run" in capsys.readouterr().err
    # a finished run resumed with more epochs continues; --resume PATH needs no --config
    last = tmp_path / "runs" / "tiny" / "last.pt"
    assert main(["train", "--resume", str(last), "--set=schedule.epochs=2"]) == 0
    assert read_checkpoint(last)["train_state"]["epoch"] == 2


def test_the_checkpoint_metric_is_the_one_asked_for(tiny_overrides):
    """best.pt follows data.select_on and nothing else: a synthetic hold-out that rounds to no
    face is an error, not a silent switch to the real set or the loss."""
    few = tiny_overrides + ["data.val_fraction=0.01", "schedule.epochs=1"]  # 48 faces: none held
    with pytest.raises(SynthmarksError, match="holds out none.*select_on is synth"):
        Trainer(load_config(TINY, few))
    cfg = load_config(TINY, few + ["data.select_on=loss"])
    train(cfg)
    ckpt = read_checkpoint(cfg.run_dir / "best.pt")
    assert ckpt["train_state"]["best"]["metric"] == "loss"
    held = load_config(TINY, tiny_overrides + ["schedule.epochs=1", "name=held"])
    train(held)
    best = read_checkpoint(held.run_dir / "best.pt")["train_state"]["best"]
    assert best["metric"] == "val_synth_nme" and best["value"] == pytest.approx(
        read_checkpoint(held.run_dir / "best.pt")["metrics"]["val_synth_nme"]
    )
