"""The training config: one dataclass tree, the only place its defaults are written.

Every run is described by one YAML file (plus ``--set key.sub=value`` overrides), loaded by
:mod:`synthmarks.config` (OmegaConf); the resolved config is saved in the run folder and in every
checkpoint, so a result can always be traced to the exact settings. Unknown keys and wrong types
are errors, not silently ignored, because a typo in an ablation config would otherwise train the
baseline and mislabel it. A config file states only what differs from these defaults.

Strings may use ``${oc.env:VAR}`` and ``${oc.env:VAR,default}``; relative paths are relative to
the working directory (run from the repository root).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synthmarks import config
from synthmarks.data.augment import AugmentConfig
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import OutputLayout
from synthmarks.models.zoo import ZOO

OPTIMIZERS = ("adamw", "sgd")
DECAYS = ("cosine", "step", "none")
AMP_MODES = ("auto", "none", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda")
#: what picks best.pt: the NME of the synthetic or the real validation set, or the training loss
SELECT_ON = ("synth", "real", "loss")


@dataclass
class ModelConfig:
    """Which architecture (a name of ``synthmarks.models.ZOO``) and its input size."""

    name: str = "pipnet_mbv3s"
    input_size: int = 128
    num_points: int = 68
    #: extra keyword arguments of the model builder (e.g. width_mult, loss, num_neighbors)
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: also learn the visible-outline jaw (17 more outputs) from meta.json's ``jaws``; the
    #: first 17 points are then always the x-ray jaw (synthmarks.landmarks.OutputLayout)
    outline_jaw: bool = False
    #: also learn the head pose (pitch, yaw, roll) from meta.json's ``pose_deg``
    pose: bool = False
    #: weight of the pose loss (L1, radians) beside the landmark loss
    pose_weight: float = 1.0

    @property
    def layout(self) -> OutputLayout:
        """What the network outputs."""
        return OutputLayout(self.num_points, self.outline_jaw, self.pose)


@dataclass
class InitConfig:
    """Fine-tuning: start from a trained checkpoint instead of random weights.

    The architecture is then the checkpoint's (``model.name``, ``input_size`` and ``num_points``
    must match it; ``model.kwargs`` is not used), optionally channel-pruned or with its
    squeeze-excite gates folded first (:mod:`synthmarks.models.prune`) so that the fine-tune
    recovers what the surgery lost. A resumed run rebuilds its own model from last.pt and does
    not read the checkpoint again.
    """

    checkpoint: str | None = None
    #: fraction of each MobileNetV3 block's hidden channels to remove; 0 = no pruning
    prune_ratio: float = 0.0
    #: replace each MobileNetV3 squeeze-excite gate by a fixed scale measured on this many
    #: augmented training crops (a faster network); 0 = keep the gates
    fold_se_crops: int = 0


@dataclass
class DistillConfig:
    """Knowledge distillation: a trained teacher's predictions as a second target.

    The teacher (any checkpoint, usually a larger model trained on the same faces) predicts on
    the very crop the student sees, after augmentation, and the student's landmark loss becomes
    ``(1 - weight) * loss(labels) + weight * loss(teacher's points)``, with its own loss function
    (PIPNet's score and offsets, regression's L1, heatmaps' Gaussians), so any zoo model can be
    taught by any other. The head pose is distilled the same way where both have a pose head.
    Why points rather than feature maps: the teacher may be another architecture at another input
    size; a teacher trained at a larger input sees the student's crop resized to it.
    """

    #: the teacher checkpoint (.pt); None: no distillation
    teacher: str | None = None
    #: share of the loss taken against the teacher instead of the labels
    weight: float = 0.5


@dataclass
class DataConfig:
    """Where the faces come from and how they are cropped and loaded."""

    train: str = "data/synth/train"
    format: str | None = None  # None: detect from the files
    #: skip the first N samples: disjoint slices of one large seeded set (faces 10,000-19,999
    #: as a second row beside 0-9,999) without rendering or copying another set
    start: int = 0
    limit: int | None = None  # use only N training samples (from ``start``)
    #: synthetic validation: a separate folder, else a seeded hold-out fraction of ``train``
    val: str | None = None
    val_fraction: float = 0.05
    val_limit: int | None = 500
    #: a real labelled set scored every epoch (never trained on); best.pt follows its NME
    val_real: str | None = None
    val_real_format: str | None = None
    #: what picks best.pt (SELECT_ON): synth (default; the real set is only reported), real, or
    #: loss; the set it names must exist, nothing falls back to another
    select_on: str = "synth"
    #: crop side / longer side of the face box; saved in the checkpoint for Landmarker
    crop_scale: float = 1.3
    #: pre-decode faces into a memory map under cache_dir (one pass, then fast epochs)
    cache: bool = True
    cache_dir: str = "${oc.env:SYNTHMARKS_CACHE,data/cache}"
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
    distill: DistillConfig = field(default_factory=DistillConfig)
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
        return config.to_dict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def validate(self) -> TrainConfig:
        """Range and choice checks that types alone cannot express; all problems in one line."""
        self.augment.validate()
        errs: list[str] = []
        m, d, o, s = self.model, self.data, self.optim, self.schedule
        entry = ZOO.get(m.name)
        if entry is None:
            errs.append(f"model.name: {m.name!r} is not one of {', '.join(ZOO)}")
        elif m.input_size < entry.input_multiple or m.input_size % entry.input_multiple:
            errs.append(f"model.input_size: must be a multiple of {entry.input_multiple} (128)")
        if m.num_points not in (68, 70):
            errs.append("model.num_points: must be 68 (or 70 with the pupils)")
        if (m.outline_jaw or m.pose) and entry is not None and not entry.heads:
            errs.append(
                f"model.outline_jaw/pose: {m.name} (a heatmap head) learns neither; "
                "use a pipnet_* or regress_* model"
            )
        if m.pose_weight < 0:
            errs.append("model.pose_weight: must be >= 0")
        if not 0 <= self.init.prune_ratio < 1:
            errs.append("init.prune_ratio: must be in [0, 1)")
        elif self.init.prune_ratio and not self.init.checkpoint:
            errs.append("init.prune_ratio: prunes a trained model; set init.checkpoint")
        elif self.init.prune_ratio and entry is not None and not entry.prunable:
            errs.append(f"init.prune_ratio: {m.name} cannot be channel-pruned")
        if self.init.fold_se_crops < 0:
            errs.append("init.fold_se_crops: must be >= 0")
        elif self.init.fold_se_crops and not self.init.checkpoint:
            errs.append("init.fold_se_crops: folds a trained model's gates; set init.checkpoint")
        elif self.init.fold_se_crops and entry is not None and not entry.prunable:
            errs.append(f"init.fold_se_crops: {m.name} has no squeeze-excite to fold")
        if not 0 <= self.distill.weight <= 1:
            errs.append("distill.weight: must be in [0, 1]")
        if d.start < 0 or (d.limit is not None and d.limit < 1):
            errs.append("data.start must be >= 0 and data.limit >= 1")
        if not 0 <= d.val_fraction < 1:
            errs.append("data.val_fraction: must be in [0, 1)")
        if d.crop_scale <= 0.5:
            errs.append("data.crop_scale: must be above 0.5")
        if d.workers < 0:
            errs.append("data.workers: must be >= 0")
        reach = 2 * self.augment.reach()
        if d.cache and d.cache_margin is not None and d.cache_margin < reach - 1e-6:
            errs.append(
                f"data.cache_margin: {d.cache_margin} is smaller than the augmentations "
                f"reach ({reach:.2f}); raise it or set data.cache: false"
            )
        if d.select_on not in SELECT_ON:
            errs.append(f"data.select_on: {d.select_on!r} is not one of {', '.join(SELECT_ON)}")
        elif d.select_on == "real" and not d.val_real:
            errs.append("data.select_on: real needs data.val_real")
        elif d.select_on == "synth" and not d.val and not d.val_fraction:
            errs.append(
                "data.select_on: synth needs a synthetic validation set (data.val or "
                "data.val_fraction); or select on real or loss"
            )
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
        if self.runtime.device not in DEVICES:
            errs.append(
                f"runtime.device: {self.runtime.device!r} is not one of {', '.join(DEVICES)}"
            )
        if not re.fullmatch(r"[\w.-]+", self.name):
            errs.append(
                "name: use letters, digits, '.', '-' and '_' only (it names the run folder)"
            )
        if errs:
            raise SynthmarksError("config: " + "; ".join(errs))
        return self


def load_config(
    path: str | Path | None, overrides: list[str] | None = None, base: dict[str, Any] | None = None
) -> TrainConfig:
    """A YAML config (or ``base``, a saved config dict, when ``path`` is None) with ``--set``
    overrides applied, resolved and validated. A file's run is named after it unless it says."""
    layers: list[Any] = [base or {}]
    if path is not None:
        layers = [{"name": Path(path).stem}, config.read(path)]
    return config.build(TrainConfig, *layers, overrides=overrides or [])
