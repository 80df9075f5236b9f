"""Throughput of ``synthmarks synth`` on this machine: images/second with 1 and 2 workers.

    python benchmarks/bench_synth.py [--count 120] [--size 256] [--workers 1 2]

"steady" counts from the first finished image to the last (worker start-up excluded, as in a
long run); "wall" includes starting the worker processes. "cpu ms/img" is the CPU time all
processes spent per image (user + system, workers included), and "2-core img/s" = 2000 / that:
the rate two otherwise idle cores would reach. On a shared machine the measured rates fall short
of it by however much CPU the other tenants take (see the load average printed first).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from synthmarks.synth.generate import generate
from synthmarks.synth.sampling import SynthConfig


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench(
    count: int, size: int, workers: int, face_model: str | None
) -> tuple[float, float, float]:
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        c0 = _cpu()
        t0 = time.perf_counter()
        generate(
            tmp,
            count,
            seed=123,
            cfg=SynthConfig(size=size),
            workers=workers,
            face_model=face_model,
            progress=False,
            on_sample=lambda i: stamps.append(time.perf_counter()),
        )
        wall = time.perf_counter() - t0
        cpu_ms = (_cpu() - c0) / count * 1000
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return steady, count / wall, cpu_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--face-model", default=None)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(
        f"{'workers':>7} {'size':>5} {'count':>6} {'steady img/s':>13} {'wall img/s':>11} "
        f"{'cpu ms/img':>11} {'2-core img/s':>13}"
    )
    for w in args.workers:
        steady, wall, cpu_ms = bench(args.count, args.size, w, args.face_model)
        print(
            f"{w:>7} {args.size:>5} {args.count:>6} {steady:>13.1f} {wall:>11.1f} "
            f"{cpu_ms:>11.1f} {2000 / cpu_ms:>13.1f}"
        )


if __name__ == "__main__":
    main()
