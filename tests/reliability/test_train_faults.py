"""`synthmarks train` under faults: killed at a random point or just after a mid-epoch save, a
resumed run ends bitwise where an uninterrupted run ends, log rows included; a resume that would
change what the run is gets refused."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

import pytest
import torch
from faults import kill9, start_cli, wait_for

from synthmarks.cli import main
from synthmarks.models.checkpoint import read_checkpoint

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


RUN_SETS = [
    "data.limit=20",
    "data.val_real=null",
    "optim.batch_size=4",
    "schedule.epochs=3",
    "log.checkpoint_every_steps=1",
]  # configs/tiny.yaml on 20 Face Synthetics faces: 4 steps an epoch, 3 epochs
TIMING = ("img_per_s", "epoch_s", "data_wait")  # log columns that measure the machine


def sets(shared: Path, out: Path) -> list[str]:
    extra = [f"data.train={shared / 'data/facesynthetics-100'}", f"log.out_dir={out}"]
    return [f"--set={s}" for s in RUN_SETS + extra]


@pytest.fixture()
def tiny_sets(shared, tmp_path) -> list[str]:
    return sets(shared, tmp_path / "runs")


@pytest.fixture(scope="module")
def straight(shared, tmp_path_factory) -> Path:
    """The uninterrupted run every interrupted one must end equal to."""
    out = tmp_path_factory.mktemp("straight")
    assert main(["train", "--config", str(TINY), *sets(shared, out), "--set=name=run"]) == 0
    return out / "run"


def log_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "log.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(f)]


def weights_equal(a: Path, b: Path) -> None:
    sa, sb = read_checkpoint(a), read_checkpoint(b)
    assert sa["train_state"]["step"] == sb["train_state"]["step"]
    for k, v in sa["state_dict"].items():
        assert torch.equal(v, sb["state_dict"][k]), k


def test_kill9_at_a_random_point_then_resume_is_exact(tiny_sets, tmp_path, straight):
    proc = start_cli("train", "--config", str(TINY), *tiny_sets, "--set=name=killed")
    run = tmp_path / "runs" / "killed"
    try:
        wait_for(lambda: (run / "last.pt").is_file(), 120, "the first checkpoint")
        time.sleep(random.uniform(0.0, 1.0))
    finally:
        kill9(proc.pid)
        proc.wait(timeout=30)
    assert main(["train", "--resume", str(run / "last.pt")]) == 0
    weights_equal(straight / "last.pt", run / "last.pt")
    assert log_rows(run) == log_rows(straight)


class Killed(BaseException):
    """Stands for kill -9: nothing in the trainer catches it, so nothing more is saved."""


def test_resumed_mid_epoch_log_row_covers_the_whole_epoch(
    tiny_sets, tmp_path, straight, monkeypatch
):
    from synthmarks.train import trainer

    real_save = trainer.save_checkpoint

    def save_then_die(*args, **kwargs):  # dies right after the save at epoch 2, batch 2
        real_save(*args, **kwargs)
        ts = kwargs.get("train_state") or {}
        if (ts.get("epoch"), ts.get("batch_in_epoch")) == (1, 2):
            raise Killed

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        main(["train", "--config", str(TINY), *tiny_sets, "--set=name=run"])
    monkeypatch.undo()
    run = tmp_path / "runs" / "run"
    assert main(["train", "--resume", str(run / "last.pt")]) == 0
    weights_equal(straight / "last.pt", run / "last.pt")
    # before the fix, epoch 2's loss averaged only the two batches after the resume
    assert log_rows(run) == log_rows(straight)


def test_resume_refuses_a_changed_network_and_allows_harmless_keys(tiny_sets, tmp_path, capsys):
    tiny = ["train", "--config", str(TINY), *tiny_sets]
    assert main([*tiny, "--set=schedule.epochs=1", "--set=log.checkpoint_every_steps=0"]) == 0
    last = tmp_path / "runs" / "tiny" / "last.pt"
    before = last.read_bytes()
    changed = ["--set=model.kwargs.width_mult=1.0", "--set=data.limit=16", "--set=seed=1"]
    assert main(["train", "--resume", str(last), *changed]) == 2  # before: trained the 0.5 net
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for shown in ("model.kwargs.width_mult: 0.5 -> 1.0", "data.limit: 20 -> 16", "seed: 0 -> 1"):
        assert shown in err, err
    assert last.read_bytes() == before
    assert main([*tiny, "--resume", "--set=model.input_size=96"]) == 2  # with --config too
    assert "model.input_size: 64 -> 96" in capsys.readouterr().err
    harmless = ["--set=schedule.epochs=2", "--set=runtime.threads=2", "--set=log.progress=true"]
    assert main(["train", "--resume", str(last), *harmless]) == 0
    assert read_checkpoint(last)["train_state"]["epoch"] == 2
