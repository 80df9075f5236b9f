"""``torchrun --nproc_per_node 2 -m synthmarks train`` trains data-parallel on CPU (gloo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from synthmarks.models.checkpoint import load_model, read_checkpoint

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def test_two_process_ddp(tiny_overrides, tmp_path):
    sets = tiny_overrides + ["data.cache=true", "data.workers=1", "schedule.epochs=2"]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "synthmarks",
        "train",
        "--config",
        str(TINY),
        *[f"--set={s}" for s in sets],
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    run = tmp_path / "runs" / "tiny"
    state = read_checkpoint(run / "last.pt")["train_state"]
    assert state["world_size"] == 2 and state["epoch"] == 2
    # 38 training faces, batch 8 per process, 2 processes: 2 steps per epoch
    assert state["step"] == 4
    model, meta = load_model(run / "best.pt")
    pts, _ = model.decode(model(torch.zeros(1, 3, meta["input_size"], meta["input_size"])))
    assert pts.shape == (1, 68, 2)
    assert len((run / "log.csv").read_text().splitlines()) == 3  # one writer: rank 0
