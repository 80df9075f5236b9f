"""Configs of every command: a dataclass tree, loaded and merged by OmegaConf, then validated.

``synth`` (:class:`~synthmarks.synth.sampling.SynthConfig`), ``train``
(:class:`~synthmarks.train.config.TrainConfig`) and ``eval``
(:class:`~synthmarks.eval.evaluate.EvalConfig`) each describe their settings as dataclasses whose
field defaults are the only defaults. OmegaConf turns YAML files and ``--set KEY=VALUE`` overrides
into them: it merges, rejects unknown keys (suggesting the nearest) and values of the wrong type,
and resolves ``${oc.env:VAR,default}``. What types cannot say (ranges, choices) each config checks
in its own ``validate()``, which raises a one-line :class:`SynthmarksError`.

OmegaConf is imported by the functions that use it, so a command's argument parser (which calls
:func:`add_set_argument`) stays light and ``synthmarks --help`` instant.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from synthmarks.errors import SynthmarksError

if TYPE_CHECKING:
    from omegaconf import DictConfig
    from omegaconf.errors import OmegaConfBaseException

T = TypeVar("T")


def add_set_argument(parser: argparse.ArgumentParser, example: str, where: str) -> None:
    """The ``--set KEY=VALUE`` option, the same for every command (``args.overrides``)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a setting (repeatable), e.g. --set {example}; see {where}",
    )


def build(schema: type[T], *layers: Any, overrides: Iterable[str] = ()) -> T:
    """An instance of dataclass ``schema``: its defaults, then each layer (a mapping, later ones
    winning, nested sections merged), then the ``--set`` overrides; validated."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    pairs = parse_set(overrides)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), *layers)
        for key, value in pairs:
            OmegaConf.update(merged, key, value, merge=False)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise SynthmarksError(_one_line(exc)) from None
    return cfg.validate()


def parse_set(items: Iterable[str]) -> list[tuple[str, Any]]:
    """``--set`` overrides (``optim.lr=1e-3``, ``augment.scale=[0.8,1.2]``, ``data.limit=null``),
    the one syntax of every command, as (dotted key, value) pairs. A value replaces what is at
    its key, a mapping included (``model.kwargs={width_mult: 0.5}`` drops the other kwargs),
    where config files merge section by section."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    pairs = []
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise SynthmarksError(f"--set {item!r}: expected KEY=VALUE (e.g. optim.lr=0.001)")
        try:
            value = OmegaConf.select(OmegaConf.from_dotlist([item]), key.strip())
        except OmegaConfBaseException as exc:
            raise SynthmarksError(f"--set {item!r}: {_one_line(exc)}") from None
        pairs.append((key.strip(), value))
    return pairs


def read(path: str | Path, _seen: tuple[Path, ...] = ()) -> DictConfig:
    """A YAML config file, with ``extends: other.yaml`` (relative to this file) merged in first:
    an ablation config then states only what it changes, so its difference is visible. The
    parent's ``name`` is dropped (a config is named after its own file unless it says otherwise).
    """
    import yaml
    from omegaconf import DictConfig, OmegaConf

    path = Path(path).resolve()
    if path in _seen:
        raise SynthmarksError(f"{path}: 'extends' loops back to itself")
    if not path.is_file():
        raise SynthmarksError(f"{path}: config file not found")
    try:
        data = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SynthmarksError(f"{path}: invalid YAML{where}") from None
    if not isinstance(data, DictConfig):
        raise SynthmarksError(f"{path}: a config must be a mapping of sections")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise SynthmarksError(f"{path}: extends must be a file name")
    base = read(path.parent / parent, (*_seen, path))
    base.pop("name", None)
    return OmegaConf.merge(base, data)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config as plain dicts, lists and scalars (for YAML, JSON and checkpoints)."""
    return _plain(dataclasses.asdict(cfg))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _one_line(exc: OmegaConfBaseException) -> str:
    """OmegaConf's message (first line: it adds object types and full keys below) with the key."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Unsupported interpolation type" in message:
        message += " (an environment variable is ${oc.env:VAR} or ${oc.env:VAR,default})"
    key = getattr(exc, "full_key", None)
    return f"config: {key}: {message}" if key else f"config: {message}"
