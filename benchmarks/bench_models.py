"""Size, cost and CPU speed of every model in the zoo.

    python benchmarks/bench_models.py [--size 128] [--models pipnet_mbv3s hourglass2 ...]
    python benchmarks/bench_models.py --models pipnet_resnet18 --width 0.25   # a width of it

Columns: parameters, float32 MB, GFLOPs (2 x multiply-accumulates of conv/linear layers),
forward ms at batch 1 in torch eager (1 thread, eval, decode included), ONNX Runtime ms at
batch 1 (1 thread, the exported PointsModule), and training throughput in img/s (forward + loss +
backward + AdamW step, batch 32, channels_last, 2 threads). Times are best-of-N (the CPU is
shared; the minimum is the least disturbed run). A model over the mission's 15 MB float32 limit
(the ResNet-50 regression reference) is starred, so the table cannot be read as all deployable.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from synthmarks.models import MODEL_NAMES, PointsModule, build_model, export_onnx, model_info

MB_LIMIT = 15.0  # the mission's float32 size limit for a shipped model


def median_ms(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * min(times)  # best-of: robust to other processes on a shared CPU


def bench(
    name: str, size: int, repeats: int, train_steps: int, batch: int, width: float | None = None
) -> dict:
    kwargs = {} if width is None else {"width_mult": width}
    model = build_model(name, input_size=size, **kwargs).eval()
    info = model_info(model, size)
    x1 = torch.randn(1, 3, size, size)

    torch.set_num_threads(1)
    points = PointsModule(model)
    with torch.inference_mode():
        torch_ms = median_ms(lambda: points(x1), repeats)

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "m.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export_onnx(model, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        feed = {"image": x1.numpy().astype(np.float32)}
        ort_ms = median_ms(lambda: sess.run(None, feed), repeats)

    torch.set_num_threads(2)
    model.train().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    xb = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    target = 0.2 + 0.6 * torch.rand(batch, model.num_points, 2)

    def step() -> None:
        loss, _ = model.loss(model(xb), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step_ms = median_ms(step, train_steps, warmup=2)
    return {
        "name": name if width is None else f"{name} x{width:g}",
        "params": info["params"],
        "mb": info["size_mb"],
        "gflops": info["flops"] / 1e9,
        "torch_ms": torch_ms,
        "ort_ms": ort_ms,
        "train_ips": batch / (step_ms / 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--models", nargs="*", default=MODEL_NAMES, choices=MODEL_NAMES)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument(
        "--width", type=float, help="width multiplier for models that take one (pipnet_resnet18)"
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"input {args.size} px, torch {torch.__version__}, onnxruntime {ort.__version__}")
    header = (
        f"| {'model':<22} | {'params':>10} | {'MB':>6} | {'GFLOPs':>6} | {'torch ms':>8} "
        f"| {'ORT ms':>6} | {'train img/s':>11} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    over = False
    for name in args.models:
        r = bench(name, args.size, args.repeats, args.train_steps, args.batch, args.width)
        star = "*" if r["mb"] > MB_LIMIT else " "
        over |= r["mb"] > MB_LIMIT
        print(
            f"| {r['name']:<22} | {r['params']:>10,} | {r['mb']:>5.2f}{star} | {r['gflops']:>6.3f} "
            f"| {r['torch_ms']:>8.2f} | {r['ort_ms']:>6.2f} | {r['train_ips']:>11.1f} |",
            flush=True,
        )
    if over:
        print(f"* over the {MB_LIMIT:g} MB float32 limit: a comparison point, not for release")


if __name__ == "__main__":
    main()
