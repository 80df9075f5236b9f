"""Training throughput on this machine: model img/s per architecture, and loader img/s.

The model half times forward + loss + backward + AdamW step on random 128 px input (channels-last,
batch 32, 2 threads by default). The loader half runs the real pipeline (augmentation on, with and
without the pre-decoded cache) on a dataset folder, single-process, so the two columns compare
directly: training is loader-bound when loader img/s per worker is below the model's.

    MALLOC_MMAP_THRESHOLD_=1000000 python benchmarks/bench_train.py --data data/synth/train
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `synthmarks train` does; see train/cli.py
import torch  # noqa: E402


def bench_model(
    name: str, size: int, batch: int, steps: int, channels_last: bool, compile: bool = False
) -> float:
    from synthmarks.models import build_model

    torch.manual_seed(0)
    model = build_model(name, 68, size)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=fmt)
    target = torch.rand(batch, 68, 2) * 0.6 + 0.2
    forward = torch.compile(model) if compile else model

    def step() -> None:
        loss, _ = model.loss(forward(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2):  # warm-up: allocator and oneDNN primitive caches
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - t0)


def bench_loader(data: str, size: int, n: int, cache: bool) -> float:
    import cv2

    from synthmarks.data.augment import AugmentConfig, Augmenter
    from synthmarks.data.dataset import ImageCache, LandmarkDataset
    from synthmarks.data.readers import load_dataset

    cv2.setNumThreads(1)
    samples = load_dataset(data, limit=n)
    with tempfile.TemporaryDirectory() as tmp:
        store = None
        if cache:
            t0 = time.perf_counter()
            store = ImageCache.build(samples, tmp, size, 1.3, 1.75, threads=2, progress=False)
            build = time.perf_counter() - t0
            print(f"  cache build: {len(samples) / build:.0f} img/s (2 threads, once per dataset)")
        ds = LandmarkDataset(samples, Augmenter(AugmentConfig(), size, 1.3), 68, 0, store)
        for i in range(min(8, len(ds))):
            ds[(0, i)]
        t0 = time.perf_counter()
        for i in range(len(ds)):
            ds[(1, i)]
        return len(ds) / (time.perf_counter() - t0)


def main() -> None:
    from synthmarks.models import MODEL_NAMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=MODEL_NAMES)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true", help="torch.compile the forward first")
    ap.add_argument("--data", help="dataset folder for the loader benchmark")
    ap.add_argument("--loader-samples", type=int, default=300)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    print(
        f"training step, {args.size}px, batch {args.batch}, {args.threads} threads, "
        f"{'contiguous' if args.no_channels_last else 'channels_last'}, "
        f"{'torch.compile, ' if args.compile else ''}"
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
    )
    print(f"{'model':<22}{'img/s':>8}")
    for name in args.models:
        ips = bench_model(
            name, args.size, args.batch, args.steps, not args.no_channels_last, args.compile
        )
        print(f"{name:<22}{ips:>8.0f}", flush=True)
    if args.data:
        print(f"loader, one process, full augmentation, {args.size}px")
        for cache in (False, True):
            ips = bench_loader(args.data, args.size, args.loader_samples, cache)
            label = "cached" if cache else "decode each image"
            print(f"  {label:<20}{ips:>8.0f} img/s", flush=True)


if __name__ == "__main__":
    main()
