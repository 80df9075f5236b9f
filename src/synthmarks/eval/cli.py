"""Arguments of ``synthmarks eval``: flags and ``--set`` fill an
:class:`~synthmarks.eval.evaluate.EvalConfig`, whose fields hold the defaults."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthmarks.config import add_set_argument
from synthmarks.infer.predict_cli import add_backend_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        "-m",
        action="append",
        dest="models",
        metavar="M",
        help="'default' or 'large' (the released models), checkpoint (.pt), .onnx, 'mean-shape', "
        "'mean-shape:PATH', 'dlib' or 'mediapipe'; a '+flip' suffix adds "
        "flip test-time averaging; repeat to compare several (default: default)",
    )
    p.add_argument("--data", "-d", type=Path, required=True, help="dataset folder")
    p.add_argument(
        "--format",
        choices=["facesynthetics", "pts", "aflw2000"],
        help="dataset format (default: detected from the folder)",
    )
    p.add_argument(
        "--norm",
        choices=["auto", "box", "interocular", "interpupil", "diagonal"],
        help="NME normalisation (auto: box for AFLW2000-3D and synthetic, inter-ocular for .pts)",
    )
    p.add_argument(
        "--rotate",
        type=float,
        metavar="DEG",
        help="turn every face (image and labels) DEG degrees counter-clockwise first, on a "
        "grown canvas (quarter turns exact): how the model copes with rolled faces",
    )
    p.add_argument(
        "--roll",
        choices=["auto", "none"],
        help="auto (default): find faces at any in-plane rotation; none: one pass at the box's "
        "orientation (what training validation scores)",
    )
    p.add_argument("--threshold", type=float, help="failure/AUC threshold as a fraction")
    p.add_argument(
        "--out",
        "-o",
        type=Path,
        help="folder for report.json, ced.png, worst_*.png "
        "(default: runs/eval/<data>, runs/eval/<data>-rotR with --rotate R)",
    )
    p.add_argument("--batch-size", type=int, help="faces per model call (default 32)")
    p.add_argument("--limit", type=int, help="use only the first N faces")
    p.add_argument(
        "--worst", type=int, help="faces in each worst-case contact sheet (default 16; 0: no sheet)"
    )
    add_backend_argument(p, default=None)
    p.add_argument(
        "--jaw",
        choices=["auto", "outline", "xray"],
        help="jaw convention predicted and scored (auto: the dataset's own; .mat and Face "
        "Synthetics: xray, .pts: outline); a model without an outline head gives its x-ray jaw, "
        "and the report says so",
    )
    add_set_argument(p, "batch_size=64", "EvalConfig in synthmarks/eval/evaluate.py")
    p.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="stop at the first bad label file (default: list every bad file, score the rest)",
    )


def default_out(data: Path, rotate: float | None) -> Path:
    """runs/eval/<data>, or runs/eval/<data>-rotR for a rotated copy (its own folder, so an
    upright report is never overwritten by a turned one)."""
    name = data.resolve().name
    return Path("runs") / "eval" / (f"{name}-rot{rotate:g}" if rotate else name)


def run(args: argparse.Namespace) -> int:
    from synthmarks import config
    from synthmarks.eval.evaluate import EvalConfig, evaluate
    from synthmarks.eval.report import format_table

    flags = {
        "data": args.data,
        "models": args.models,
        "format": args.format,
        "norm": args.norm,
        "threshold": args.threshold,
        "out": args.out or default_out(args.data, args.rotate),
        "batch_size": args.batch_size,
        "limit": args.limit,
        "worst": args.worst,
        "backend": args.backend,
        "jaw": args.jaw,
        "strict": args.strict,
        "rotate": args.rotate,
        "roll": args.roll,
    }
    given = {k: v for k, v in flags.items() if v is not None}
    cfg = config.build(EvalConfig, given, overrides=args.overrides)
    rep = evaluate(cfg)
    for bad in rep["skipped"]:
        print(f"synthmarks eval: skipped {bad['error']}", file=sys.stderr)
    if rep["skipped"]:
        print(
            f"synthmarks eval: {len(rep['skipped'])} bad label file(s) skipped, "
            f"{rep['count']} scored (--strict stops at the first)",
            file=sys.stderr,
        )
    print(format_table(rep))
    out = cfg.out
    print(f"wrote {out / 'report.json'}, {out / 'ced.png'} and worst-case sheets in {out}")
    return 0
