"""What ``train --resume`` may change: only settings that leave the run what its config says.

A resumed run continues the weights, optimiser state and step of its checkpoint, so a change to
the architecture, the data, the augmentation, the optimiser or the seed would give a network
that no config describes (before this check, ``--set model.kwargs.width_mult=1.0`` on a 0.5 run
trained the old network while config.yaml said 1.0). Such changes are refused, naming every key
that differs; the harmless ones below (where logs go, how fast it runs, how long it runs) pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthmarks.errors import SynthmarksError

#: whole sections that never change what is trained
HARMLESS_SECTIONS = ("log", "runtime")
#: single keys that do not either; schedule.epochs extends (or shortens) a run, the documented
#: way to train a finished run further
HARMLESS_KEYS = frozenset(
    {"name", "data.workers", "data.cache", "data.cache_dir", "schedule.epochs"}
)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"model": {"kwargs": {"w": 1}}} -> {"model.kwargs.w": 1}."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out |= flatten(v, key + ".")
        else:
            out[key] = list(v) if isinstance(v, tuple) else v
    return out


def harmless(key: str) -> bool:
    return key in HARMLESS_KEYS or key.split(".", 1)[0] in HARMLESS_SECTIONS


def changed_keys(saved: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, saved value, new value) for every setting that differs and is not harmless."""
    a, b = flatten(saved), flatten(now)
    missing = object()
    return [
        (k, a.get(k), b.get(k))
        for k in sorted(a.keys() | b.keys())
        if not harmless(k) and a.get(k, missing) != b.get(k, missing)
    ]


def check_unchanged(saved: dict[str, Any], now: dict[str, Any], checkpoint: Path) -> None:
    """Refuse to resume ``checkpoint`` (whose run had config ``saved``) with config ``now`` if
    they differ in anything but harmless keys."""
    changes = changed_keys(saved, now)
    if changes:
        shown = "; ".join(f"{k}: {old!r} -> {new!r}" for k, old, new in changes)
        raise SynthmarksError(
            f"--resume {checkpoint}: the config differs from the run's in {shown}; a resumed run "
            "keeps its network, data and schedule, so start a new run (another name) for these"
        )
