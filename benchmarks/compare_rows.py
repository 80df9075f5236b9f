"""Two or more gap rows, each trained with several seeds, compared on the same faces.

One training run per row cannot resolve the looks: at 10,000 faces x 4 epochs two seeds of one
row differ by up to 0.15 / 0.33 / 0.06 points on the three dev sets, about what the layers
change. This script takes each row as the ``synthmarks eval`` reports of its seeds (one
``report.json`` per seed, same data, same faces), averages each face's error over the row's
seeds and compares every row with the first, face by face. The 95 % interval of a difference
comes from a two-level bootstrap: the faces are resampled (the same draw for both rows: each face
is its own control) and so are each row's seeds, so it holds both kinds of noise, a draw of faces
and a draw of training seeds. With yaw labels (AFLW2000-3D) it does the same for the balanced
mean, each yaw bin resampled within itself.

    python benchmarks/compare_rows.py --data aflw2000-3d-dev \\
        --row v1=runs/gap_eval_v1m_{}/report.json,runs/gap_eval_v1m_t1_{}/report.json \\
        --row v2=runs/gap_eval_soft_{}/report.json,runs/gap_eval_soft_t1_{}/report.json

(``{}`` is replaced by each ``--data`` name, so one command covers the three sets.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from synthmarks.eval.metrics import yaw_bin_masks

RESAMPLES = 4000


def load_row(specs: list[str]) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """(seeds, faces) per-face NME of a row's reports, the images, and the yaws if labelled.

    A spec is ``report.json``, or ``report.json#MODEL`` when the report scored several models."""
    errors, images, yaws = [], None, None
    for spec in specs:
        path, _, wanted = spec.partition("#")
        report = json.loads(Path(path).read_text())
        if images is not None and report["images"] != images:
            raise SystemExit(f"{path}: not the same faces as {specs[0]}")
        images, yaws = report["images"], report.get("yaw_deg")
        models = report["models"]
        if not wanted and len(models) != 1:
            raise SystemExit(f"{path}: {len(models)} models; name one: {path}#<model>")
        errors.append(models[wanted] if wanted else next(iter(models.values())))
        errors[-1] = errors[-1]["per_image_nme"]
    return np.asarray(errors, np.float64), images, None if yaws is None else np.asarray(yaws)


def statistic(errors: np.ndarray, bins: list[np.ndarray] | None) -> np.ndarray:
    """Mean over faces (last axis), or the balanced mean: the mean of the yaw bins' means."""
    if bins is None:
        return errors.mean(-1)
    return np.mean([errors[..., b].mean(-1) for b in bins], 0)


def two_level_bootstrap(
    rows: list[np.ndarray], bins: list[np.ndarray] | None, rng: np.random.Generator
) -> np.ndarray:
    """(RESAMPLES, rows) resampled statistics: the faces resampled (the same draw for every row;
    within each yaw bin for the balanced mean), then each row's seeds."""
    groups = bins if bins is not None else [np.arange(rows[0].shape[1])]
    draws = [g[rng.integers(0, len(g), (RESAMPLES, len(g)))] for g in groups]
    out = np.empty((RESAMPLES, len(rows)))
    for j, e in enumerate(rows):
        seeds = rng.integers(0, len(e), (RESAMPLES, len(e)))
        drawn = e[seeds]  # (RESAMPLES, seeds, faces)
        means = [
            np.take_along_axis(drawn, d[:, None, :].repeat(len(e), 1), 2).mean((1, 2))
            for d in draws
        ]
        out[:, j] = np.mean(means, 0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--row", action="append", required=True, help="NAME=report[#model],... ({}: each --data)"
    )
    ap.add_argument("--data", nargs="+", default=[""], help="names put in place of {}")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if len(args.row) < 2:
        raise SystemExit("--row: give at least two rows (the first is the reference)")
    for data in args.data:
        names, rows, yaws = [], [], None
        for spec in args.row:
            name, _, paths = spec.partition("=")
            errors, _, yaws = load_row([p.replace("{}", data) for p in paths.split(",")])
            names.append(name)
            rows.append(errors)
        if len({r.shape[1] for r in rows}) > 1:
            raise SystemExit(f"{data}: the rows were not scored on the same faces")
        stats = [("mean", None)]
        if yaws is not None:
            bins = [np.flatnonzero(m) for m in yaw_bin_masks(yaws).values() if m.any()]
            stats.append(("balanced", bins))
        print(f"{data or 'data'} ({rows[0].shape[1]} faces), NME %")
        for label, bins in stats:
            rng = np.random.default_rng(args.seed)
            boot = 100 * two_level_bootstrap(rows, bins, rng)
            for j, (name, e) in enumerate(zip(names, rows, strict=True)):
                per_seed = 100 * statistic(e, bins)
                line = f"  {label:<8} {name:<14} {per_seed.mean():6.2f}  seeds " + " ".join(
                    f"{v:.2f}" for v in per_seed
                )
                if j:
                    diff = boot[:, j] - boot[:, 0]
                    lo, hi = np.quantile(diff, [0.025, 0.975])
                    point = per_seed.mean() - 100 * statistic(rows[0], bins).mean()
                    line += f"   vs {names[0]}: {point:+.2f} [{lo:+.2f}, {hi:+.2f}]"
                print(line)


if __name__ == "__main__":
    main()
