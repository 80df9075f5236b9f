"""Throughput of ``synthmarks synth`` on this machine: images/second with 1 and 2 workers.

    python benchmarks/bench_synth.py [--count 120] [--size 256] [--workers 1 2] [--set KEY=VALUE]
    python benchmarks/bench_synth.py --layers --count 60    # what each photoreal layer costs

"steady" counts from the first finished image to the last (worker start-up excluded, as in a
long run); "wall" includes starting the worker processes. "cpu ms/img" is the CPU time all
processes spent per image (user + system, workers included), and "2-core img/s" = 2000 / that:
the rate two otherwise idle cores would reach. On a shared machine the measured rates fall short
of it by however much CPU the other tenants take (see the load average printed first).
``--layers`` renders in this process (one GL thread) with the v1 look, the full v2 look and v2
with each photoreal layer off, and prints the steady CPU ms per image of each (start-up
excluded): the difference to the full look is that layer's cost.
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


#: (name, --set overrides) of the --layers table.
LAYERS = (
    ("v1 look", ["look=v1"]),
    ("v2 look (all layers)", []),
    ("  without baked skins", ["p_real_skin=0"]),
    ("  without hair/brow/lash cards", ["p_hair_cards=0", "p_card_brows=0", "p_card_lashes=0"]),
    ("  without HDRI light", ["p_hdri_light=0"]),
    ("  without HDRI background", ["p_hdri_background=0"]),
    ("  without shadows", ["p_shadows=0"]),
    ("  point key light (hard shadows)", ["key_radius_deg=[0,0]"]),
    ("  without iris textures", ["p_texture_eyes=0"]),
)


def steady_cpu_ms(count: int, size: int, overrides: list[str], face_model: str | None) -> float:
    """CPU ms per image of an in-process render, from the first finished image to the last."""
    cpu: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        generate(
            tmp,
            count,
            seed=123,
            cfg=SynthConfig(size=size).with_overrides(overrides),
            workers=0,
            face_model=face_model,
            progress=False,
            on_sample=lambda i: cpu.append(time.process_time()),
        )
    return (cpu[-1] - cpu[0]) / (len(cpu) - 1) * 1000


def bench(
    count: int, size: int, workers: int, face_model: str | None, overrides: list[str]
) -> tuple[float, float, float]:
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        c0 = _cpu()
        t0 = time.perf_counter()
        generate(
            tmp,
            count,
            seed=123,
            cfg=SynthConfig(size=size).with_overrides(overrides),
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
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--layers", action="store_true", help="cost of each photoreal layer")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    if args.layers:
        os.environ.setdefault("LP_NUM_THREADS", "1")  # as in a 2-worker run on 2 cores
        print(f"{'look (size ' + str(args.size) + ')':<34} {'cpu ms/img':>11} {'1-core img/s':>13}")
        for name, overrides in LAYERS:
            ms = steady_cpu_ms(args.count, args.size, overrides, args.face_model)
            print(f"{name:<34} {ms:>11.1f} {1000 / ms:>13.1f}")
        return
    print(
        f"{'workers':>7} {'size':>5} {'count':>6} {'steady img/s':>13} {'wall img/s':>11} "
        f"{'cpu ms/img':>11} {'2-core img/s':>13}"
    )
    for w in args.workers:
        steady, wall, cpu_ms = bench(args.count, args.size, w, args.face_model, args.set)
        print(
            f"{w:>7} {args.size:>5} {args.count:>6} {steady:>13.1f} {wall:>11.1f} "
            f"{cpu_ms:>11.1f} {2000 / cpu_ms:>13.1f}"
        )


if __name__ == "__main__":
    main()
