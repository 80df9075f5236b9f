"""Training configs shipped inside the package, so ``synthmarks train --config tiny`` works from
an installed wheel as well as from a checkout (where ``configs/`` links here)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def resolve(name: str | Path) -> Path:
    """A config by path, or by name among the shipped ones (``tiny``, ``release.yaml``,
    ``experiments/aug_none``); an unknown name is returned as given, for the loader's error."""
    path = Path(name)
    if path.is_file():
        return path
    for candidate in (HERE / path, HERE / path.with_suffix(".yaml")):
        if candidate.is_file() and candidate.suffix == ".yaml":
            return candidate
    return path


def names() -> list[str]:
    """The shipped configs, by the names :func:`resolve` takes."""
    return sorted(str(p.relative_to(HERE).with_suffix("")) for p in HERE.rglob("*.yaml"))
