"""`synthmarks train` under faults: kill -9 at a random point then --resume ends bitwise where an
uninterrupted run ends."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import torch
from faults import kill9, start_cli, wait_for

from synthmarks.cli import main
from synthmarks.models.checkpoint import read_checkpoint

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


@pytest.fixture()
def tiny_sets(shared, tmp_path) -> list[str]:
    """configs/tiny.yaml on 20 Face Synthetics faces: 4 steps an epoch, 3 epochs."""
    sets = [
        f"data.train={shared / 'data/facesynthetics-100'}",
        "data.limit=20",
        "data.val_real=null",
        "optim.batch_size=4",
        "schedule.epochs=3",
        "log.checkpoint_every_steps=1",
        f"log.out_dir={tmp_path / 'runs'}",
    ]
    return [f"--set={s}" for s in sets]


def weights_equal(a: Path, b: Path) -> None:
    sa, sb = read_checkpoint(a), read_checkpoint(b)
    assert sa["train_state"]["step"] == sb["train_state"]["step"]
    for k, v in sa["state_dict"].items():
        assert torch.equal(v, sb["state_dict"][k]), k


def test_kill9_at_a_random_point_then_resume_is_exact(tiny_sets, tmp_path):
    assert main(["train", "--config", str(TINY), *tiny_sets, "--set=name=straight"]) == 0
    proc = start_cli("train", "--config", str(TINY), *tiny_sets, "--set=name=killed")
    run = tmp_path / "runs" / "killed"
    try:
        wait_for(lambda: (run / "last.pt").is_file(), 120, "the first checkpoint")
        time.sleep(random.uniform(0.0, 1.0))
    finally:
        kill9(proc.pid)
        proc.wait(timeout=30)
    assert main(["train", "--resume", str(run / "last.pt")]) == 0
    weights_equal(tmp_path / "runs" / "straight" / "last.pt", run / "last.pt")


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
