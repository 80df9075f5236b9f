"""The rows of docs/experiments.md: each finished run scored on a real set by `synthmarks eval`.

    python benchmarks/experiments_table.py runs/jaw_xray_10k runs/jaw_outline_10k ...

For every run folder: its config (configs/experiments/<name>.yaml, else configs/<name>.yaml),
architecture, synthetic faces trained on, epochs, box NME on the real set overall and per |yaw|
bin (best.pt, the same crops and code as `synthmarks eval`), parameters, float32 MB and MFLOPs.
Prints a markdown table; `--json` also keeps the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml

from synthmarks.eval.evaluate import EvalConfig, evaluate
from synthmarks.models import model_info
from synthmarks.models.checkpoint import load_model

HEAD = (
    "| run (config) | architecture | augmentation | synthetic faces | epochs | NME % | yaw 0-30 "
    "| 30-60 | 60-90 | balanced | params | MB | MFLOPs |"
)


def config_path(name: str) -> str:
    for p in (Path("configs/experiments") / f"{name}.yaml", Path("configs") / f"{name}.yaml"):
        if p.is_file():
            return str(p)
    return "-"


def augmentation(aug: dict) -> str:
    if not aug.get("enabled", True):
        return "none"
    photometric = ("color_p", "gray_p", "blur_p", "noise_p", "jpeg_p", "occlude_p")
    if not any(aug.get(k, 0) for k in photometric):
        return "geometric"
    return "strong" if aug.get("occlude_p", 0) > 0.3 else "default"


def row(run: Path, data: str) -> dict:
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    rep = evaluate(EvalConfig(data=Path(data), models=[str(run / "best.pt")]))
    res = rep["models"][str(run / "best.pt")]
    pose = res["per_pose"]
    model, _ = load_model(run / "best.pt")
    info = model_info(model)
    log = (run / "log.csv").read_text().strip().splitlines()
    return {
        "name": run.name,
        "config": config_path(run.name),
        "model": cfg["model"]["name"],
        "augmentation": augmentation(cfg.get("augment", {})),
        "faces": cfg["data"].get("limit") or "all",
        "epochs": len(log) - 1,
        "nme": 100 * res["nme"],
        "yaw": [100 * pose[k]["nme"] for k in ("[0,30)", "[30,60)", "[60,90]")],
        "balanced": 100 * pose["balanced"]["nme"],
        "params": info["params"],
        "mb": info["size_mb"],
        "mflops": info["flops"] / 1e6,
    }


def markdown(r: dict) -> str:
    faces = f"{r['faces']:,}" if isinstance(r["faces"], int) else str(r["faces"])
    yaw = " | ".join(f"{v:.2f}" for v in r["yaw"])
    return (
        f"| `{r['name']}` ({r['config']}) | {r['model']} | {r['augmentation']} | {faces} "
        f"| {r['epochs']} | {r['nme']:.2f} | {yaw} | {r['balanced']:.2f} "
        f"| {r['params'] / 1e6:.2f} M | {r['mb']:.2f} | {r['mflops']:.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    shared = os.environ.get("SYNTHMARKS_SHARED", "../shared")
    ap.add_argument("--data", default=f"{shared}/data/aflw2000-3d-dev")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    rows = [row(run, args.data) for run in args.runs]
    print(HEAD)
    print("|" + "---|" * (HEAD.count("|") - 1))
    for r in rows:
        print(markdown(r))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
