"""The training config: one dataclass tree, loaded from YAML, strictly checked.

Every run is described by one YAML file (plus ``--set key.sub=value`` overrides); the resolved
config is saved in the run folder and in every checkpoint, so a result can always be traced to
the exact settings. Unknown keys and wrong types are errors, not silently ignored, because a typo
in an ablation config would otherwise train the baseline and mislabel it.

Strings may use ``${VAR}`` and ``${VAR:-default}``; relative paths are relative to the working
directory (run from the repository root).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthmarks.data.augment import AugmentConfig
from synthmarks.errors import SynthmarksError

OPTIMIZERS = ("adamw", "sgd")
DECAYS = ("cosine", "step", "none")
AMP_MODES = ("auto", "none", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class ModelConfig:
    """Which architecture (``synthmarks.models.MODEL_NAMES``) and its input size."""

    name: str = "pipnet_mbv3s"
    input_size: int = 128
    num_points: int = 68
    #: extra keyword arguments of the model builder (e.g. width_mult, loss, num_neighbors)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class InitConfig:
    """Fine-tuning: start from a trained checkpoint instead of random weights.

    The architecture is then the checkpoint's (``model.name``, ``input_size`` and ``num_points``
    must match it; ``model.kwargs`` is not used), optionally channel-pruned first
    (:mod:`synthmarks.models.prune`) so that the fine-tune recovers what pruning lost. A resumed
    run rebuilds its own (pruned) model from last.pt and does not read the checkpoint again.
    """

    checkpoint: str | None = None
    #: fraction of each MobileNetV3 block's hidden channels to remove; 0 = no pruning
    prune_ratio: float = 0.0


@dataclass
class DataConfig:
    """Where the faces come from and how they are cropped and loaded."""

    train: str = "data/synth/train"
    format: str | None = None  # None: detect from the files
    limit: int | None = None  # use only the first N training samples
    #: synthetic validation: a separate folder, else a seeded hold-out fraction of ``train``
    val: str | None = None
    val_fraction: float = 0.05
    val_limit: int | None = 500
    #: a real labelled set scored every epoch (never trained on); best.pt follows its NME
    val_real: str | None = None
    val_real_format: str | None = None
    #: which validation NME picks best.pt: synth (default; the real set is only reported) or real
    select_on: str = "synth"
    #: crop side / longer side of the face box; saved in the checkpoint for Landmarker
    crop_scale: float = 1.3
    #: pre-decode faces into a memory map under cache_dir (one pass, then fast epochs)
    cache: bool = True
    cache_dir: str = "${SYNTHMARKS_CACHE:-data/cache}"
    #: cache width in base crops; None: just enough for the augmentations' reach
    cache_margin: float | None = None
    workers: int = 1
    #: samples whose un-augmented targets give the mean shape passed to the model
    mean_shape_samples: int = 2000


@dataclass
class OptimConfig:
    name: str = "adamw"
    lr: float = 2e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9  # SGD
    nesterov: bool = True  # SGD
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW
    batch_size: int = 32  # per process
    grad_clip: float = 0.0  # max gradient norm; 0 = off
    #: mixed precision: auto = bf16 on a GPU that supports it, else none
    amp: str = "auto"
    #: weight the loss by point visibility; off by default: synthetic labels are exact even
    #: behind occluders, so occluded points still teach the model (x-ray supervision)
    use_visibility: bool = False


@dataclass
class ScheduleConfig:
    epochs: int = 60
    warmup_epochs: float = 1.0
    decay: str = "cosine"
    min_lr_ratio: float = 0.01  # cosine floor as a fraction of lr
    milestones: tuple[float, ...] = (0.6, 0.85)  # step decay points, fractions of the run
    gamma: float = 0.1


@dataclass
class LogConfig:
    out_dir: str = "runs"
    every_steps: int = 25  # TensorBoard train scalars
    tensorboard: bool = True
    progress: bool = True
    checkpoint_every_steps: int = 0  # extra mid-epoch last.pt saves for long epochs; 0 = off
    val_every_epochs: int = 1


@dataclass
class RuntimeConfig:
    device: str = "auto"
    threads: int = 0  # torch intra-op threads per process; 0 = cores / processes
    channels_last: bool = True
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower on GPU)
    #: torch.compile the training forward (about 1.3x img/s for pipnet_mbv3s on this 2-core CPU,
    #: after a one-off compile of a minute or two; benchmarks/bench_train.py --compile)
    compile: bool = False


@dataclass
class TrainConfig:
    name: str = "run"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    init: InitConfig = field(default_factory=InitConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    log: LogConfig = field(default_factory=LogConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    @property
    def cache_margin(self) -> float:
        """The cache width used: data.cache_margin, or twice the augmentations' reach."""
        if self.data.cache_margin is not None:
            return self.data.cache_margin
        return math.ceil(2 * self.augment.reach() * 20) / 20

    @property
    def run_dir(self) -> Path:
        return Path(self.log.out_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def load_config(
    path: str | Path | None, overrides: list[str] | None = None, base: dict[str, Any] | None = None
) -> TrainConfig:
    """Read a YAML config (or start from ``base``, a saved config dict), apply ``key=value``
    overrides, check it, and expand ``${VAR}`` in its strings."""
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        data = read_config_file(path)
        data.setdefault("name", Path(path).stem)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SynthmarksError(f"--set {item!r}: expected KEY=VALUE (e.g. optim.lr=0.001)")
        _set_dotted(data, key.strip(), yaml.safe_load(value) if value.strip() else None)
    cfg = from_dict(TrainConfig, data, "")  # types checked against what the user wrote
    cfg = from_dict(TrainConfig, _expand(cfg.to_dict(), ""), "")  # defaults expand too
    check(cfg)
    return cfg


def read_config_file(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file as a dict, with ``extends: other.yaml`` (relative to this file) merged in
    first: an ablation config then states only what it changes, so its difference is visible."""
    path = Path(path).resolve()
    if path in _seen:
        raise SynthmarksError(f"{path}: 'extends' loops back to itself")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise SynthmarksError(f"{path}: extends must be a file name")
    base = read_config_file(path.parent / parent, (*_seen, path))
    base.pop("name", None)  # a row is named after its own file unless it says otherwise
    return _merge(base, data)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise SynthmarksError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SynthmarksError(f"{path}: invalid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SynthmarksError(f"{path}: a config must be a mapping of sections")
    return data


def from_dict(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from a mapping; unknown keys and wrong types are user errors."""
    if not isinstance(data, dict):
        raise SynthmarksError(f"config: {prefix.rstrip('.') or 'top level'} must be a mapping")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {prefix}{near[0]}?)" if near else ""
            raise SynthmarksError(f"config: unknown key {prefix}{key}{hint}")
    kwargs = {k: _coerce(hints[k], v, prefix + k) for k, v in data.items()}
    return cls(**kwargs)


def check(cfg: TrainConfig) -> None:
    """Range and choice checks that types alone cannot express."""
    errs: list[str] = []
    m, d, o, s = cfg.model, cfg.data, cfg.optim, cfg.schedule
    if m.input_size < 32 or m.input_size % 32:
        errs.append("model.input_size: must be a multiple of 32 (128 or 256)")
    if m.num_points not in (68, 70):
        errs.append("model.num_points: must be 68 (or 70 with the pupils)")
    if not 0 <= cfg.init.prune_ratio < 1:
        errs.append("init.prune_ratio: must be in [0, 1)")
    elif cfg.init.prune_ratio and not cfg.init.checkpoint:
        errs.append("init.prune_ratio: prunes a trained model; set init.checkpoint")
    if not 0 <= d.val_fraction < 1:
        errs.append("data.val_fraction: must be in [0, 1)")
    if d.crop_scale <= 0.5:
        errs.append("data.crop_scale: must be above 0.5")
    if d.workers < 0:
        errs.append("data.workers: must be >= 0")
    if d.cache and d.cache_margin is not None and d.cache_margin < 2 * cfg.augment.reach() - 1e-6:
        errs.append(
            f"data.cache_margin: {d.cache_margin} is smaller than the augmentations "
            f"reach ({2 * cfg.augment.reach():.2f}); raise it or set data.cache: false"
        )
    if d.select_on not in ("synth", "real"):
        errs.append(f"data.select_on: {d.select_on!r} is not one of synth, real")
    if o.name not in OPTIMIZERS:
        errs.append(f"optim.name: {o.name!r} is not one of {', '.join(OPTIMIZERS)}")
    if o.amp not in AMP_MODES:
        errs.append(f"optim.amp: {o.amp!r} is not one of {', '.join(AMP_MODES)}")
    if o.lr <= 0 or o.batch_size < 1:
        errs.append("optim: lr must be positive and batch_size at least 1")
    if s.decay not in DECAYS:
        errs.append(f"schedule.decay: {s.decay!r} is not one of {', '.join(DECAYS)}")
    if s.epochs < 1 or s.warmup_epochs < 0:
        errs.append("schedule: epochs must be >= 1 and warmup_epochs >= 0")
    if cfg.runtime.device not in DEVICES:
        errs.append(f"runtime.device: {cfg.runtime.device!r} is not one of {', '.join(DEVICES)}")
    if not re.fullmatch(r"[\w.-]+", cfg.name):
        errs.append("name: use letters, digits, '.', '-' and '_' only (it names the run folder)")
    errs += [f"augment.{e}" for e in cfg.augment.check()]
    if errs:
        raise SynthmarksError("config: " + "; ".join(errs))


def _coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key + ".")
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise SynthmarksError(f"config: {key} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise SynthmarksError(f"config: {key} must be an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SynthmarksError(f"config: {key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise SynthmarksError(f"config: {key} must be a string, got {value!r}")
        return str(value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise SynthmarksError(f"config: {key} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, key) for v in value)
        if len(value) != len(args):
            raise SynthmarksError(f"config: {key} must be a list of {len(args)} values")
        return tuple(_coerce(a, v, key) for a, v in zip(args, value, strict=True))
    if origin is dict:
        if not isinstance(value, dict):
            raise SynthmarksError(f"config: {key} must be a mapping, got {value!r}")
        return dict(value)
    raise TypeError(f"config field {key} has unsupported type {tp}")


_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, f"{key}{k}.") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, key) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise SynthmarksError(f"config: {key.rstrip('.')} uses ${{{name}}}, which is not set")
        return default

    return _VAR.sub(sub, value)


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        child = node.setdefault(p, {})
        if not isinstance(child, dict):
            raise SynthmarksError(f"--set {key}: {p} is not a section")
        node = child
    node[parts[-1]] = value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
