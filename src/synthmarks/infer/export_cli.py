"""``synthmarks export``: a checkpoint to ONNX (float32, optionally a calibrated int8 copy)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", type=Path, help="a synthmarks checkpoint (.pt)")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="export format")
    p.add_argument("--out", "-o", type=Path, help="output file (default: beside the checkpoint)")
    p.add_argument(
        "--int8",
        action="store_true",
        help="also write a statically quantised int8 model (<out>.int8.onnx)",
    )
    p.add_argument("--calib", type=Path, help="synthetic dataset to calibrate int8 on")
    p.add_argument("--calib-count", type=int, default=200)


def run(args: argparse.Namespace) -> int:
    from synthmarks.errors import SynthmarksError
    from synthmarks.fileio import prepare_out_file
    from synthmarks.infer.export import export_checkpoint, quantize_int8

    if args.int8 and args.calib is None:
        raise SynthmarksError("--int8 needs --calib DIR (a synthetic set to calibrate on)")
    out = prepare_out_file(
        args.out or args.checkpoint.with_suffix(".onnx"), "--out", (args.checkpoint,)
    )
    q = out.with_suffix(".int8.onnx")
    if args.int8:
        prepare_out_file(q, "--out (int8 copy)", (args.checkpoint, out))
    export_checkpoint(args.checkpoint, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    if args.int8:
        quantize_int8(out, q, args.calib, args.calib_count)
        print(f"wrote {q} ({q.stat().st_size / 1e6:.2f} MB)")
    return 0
