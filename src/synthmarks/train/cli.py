"""``synthmarks train``: train a landmark model from one YAML config.

Light at import (the CLI builds every subcommand's parser); torch loads only when a run starts.
Under ``torchrun --nproc_per_node N -m synthmarks train ...`` the same command trains with DDP.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from synthmarks.config import add_set_argument

if TYPE_CHECKING:
    from synthmarks.train.config import TrainConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="YAML",
        help="config: a YAML file or a shipped name (tiny, release...); optional with --resume",
    )
    add_set_argument(parser, "optim.lr=1e-3", "TrainConfig in synthmarks/train/config.py")
    parser.add_argument(
        "--resume",
        nargs="?",
        const="last",
        metavar="CHECKPOINT",
        help="continue an interrupted run from its last.pt (or this checkpoint)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even if the run folder already holds a run",
    )
    parser.epilog = (
        "Writes runs/<name>/{best,last}.pt, log.csv, config.yaml and tb/. "
        "On CPU, MALLOC_MMAP_THRESHOLD_=1000000 in the environment often speeds "
        "training."
    )


def run(args: argparse.Namespace) -> int:
    # Before torch loads OpenMP: idle threads sleep instead of spinning. With a data-loader worker
    # (or anything else) sharing the cores, spinning threads starve the one doing the work; on
    # the 2-core dev machine this took pipnet_mbv3s training from 8 to 116 img/s at 2 threads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from synthmarks.errors import SynthmarksError
    from synthmarks.train.config import load_config

    resume: Path | None = None
    base = None
    if args.resume not in (None, "last"):
        resume = Path(args.resume)
        if resume.is_dir():
            resume = resume / "last.pt"
        if args.config is None:
            from synthmarks.models.checkpoint import read_checkpoint

            state = read_checkpoint(resume).get("train_state")
            if not state or "config" not in state:
                raise SynthmarksError(f"{resume}: holds no training config; pass --config")
            base = state["config"]
    if args.config is None and base is None:
        raise SynthmarksError("--config is required (or --resume CHECKPOINT)")
    from synthmarks import configs

    config = configs.resolve(args.config) if args.config is not None else None
    cfg = load_config(config, args.overrides, base)
    if args.resume == "last":
        resume = cfg.run_dir / "last.pt"
        if not resume.is_file():
            raise SynthmarksError(f"--resume: {resume} not found (nothing to resume)")

    if resume is not None:
        _check_resume(resume, cfg)

    from synthmarks.fileio import prepare_out_dir

    prepare_out_dir(cfg.run_dir, "log.out_dir: run folder")  # before data and model load
    from synthmarks.train.trainer import train

    start = time.perf_counter()
    train(cfg, resume, args.overwrite)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, once
        print(end_summary(cfg.run_dir, time.perf_counter() - start))
    return 0


def end_summary(run_dir: Path, seconds: float) -> str:
    """What a finished run leaves and what to do next: best epoch and metric (NME in percent,
    as ``eval`` prints it), the files, the time, and the ``eval`` command for the best model."""
    import json

    summary = json.loads((run_dir / "summary.json").read_text())
    best = summary.get("best") or {}
    metric, value = best.get("metric"), best.get("value")
    if metric and metric.endswith("_nme") and value is not None:
        shown = f"{metric} {100 * value:.2f} % at epoch {best.get('epoch')}"
    elif metric and value is not None:
        shown = f"{metric} {value:.4f} at epoch {best.get('epoch')}"
    else:
        shown = "no validation ran"
    minutes = seconds / 60
    return (
        f"done in {minutes:.1f} min ({summary.get('epochs')} epochs): best {shown}\n"
        f"  {run_dir / 'best.pt'}, {run_dir / 'last.pt'}, {run_dir / 'log.csv'}, "
        f"{run_dir / 'summary.json'}\n"
        f"next: synthmarks eval --model {run_dir / 'best.pt'} --data ../shared/data/aflw2000-3d-dev"
    )


def _check_resume(resume: Path, cfg: TrainConfig) -> None:
    """Refuse a resume whose config changes what the run trains (:mod:`synthmarks.train.resume`)."""
    from synthmarks.models.checkpoint import read_checkpoint
    from synthmarks.train.config import load_config
    from synthmarks.train.resume import check_unchanged

    saved = (read_checkpoint(resume).get("train_state") or {}).get("config")
    if saved is not None:  # the run's config with today's defaults filled in, as ``cfg`` has
        check_unchanged(load_config(None, [], saved).to_dict(), cfg.to_dict(), resume)
