"""Run logs: one CSV row per epoch and TensorBoard scalars, written by rank 0 only.

The CSV is rewritten atomically each epoch and, on ``--resume``, trimmed to the epochs the
checkpoint holds, so an interrupted run never leaves duplicate or torn rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from synthmarks.fileio import write_text


class RunLog:
    def __init__(
        self, run_dir: Path, tensorboard: bool, resume_epoch: int = 0, resume_step: int = 0
    ) -> None:
        self.csv_path = run_dir / "log.csv"
        self.rows: list[dict[str, Any]] = []
        if resume_epoch and self.csv_path.is_file():
            with open(self.csv_path, newline="") as f:
                self.rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= resume_epoch]
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events a crashed run logged after its last checkpoint
            self.writer = SummaryWriter(
                str(run_dir / "tb"), purge_step=resume_step if resume_step else None
            )

    def scalars(self, values: dict[str, float], step: int, prefix: str = "") -> None:
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(prefix + k, v, step)

    def epoch(self, row: dict[str, Any]) -> None:
        """Append a row (columns: the union over rows, first-seen order) and rewrite the CSV."""
        self.rows.append(row)
        columns: list[str] = []
        for r in self.rows:
            columns += [k for k in r if k not in columns]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns)
        w.writeheader()
        for r in self.rows:
            w.writerow({k: _fmt(v) for k, v in r.items()})
        write_text(self.csv_path, buf.getvalue())
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v
