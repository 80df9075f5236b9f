"""The training loop: config in, ``runs/<name>/{best,last}.pt`` out, repeatable and resumable.

Repeatability rests on three things: the model is initialised from ``seed``; every sample's
augmentation and the epoch's shuffle are functions of (seed, epoch, index) (see
:mod:`synthmarks.data.dataset`); torch's own RNG (dropout) is reseeded from (seed, epoch, rank) at
each epoch start. The learning rate is a function of the step. So a run resumed from ``last.pt``
(model, optimiser, step, best metric; RNG states for a mid-epoch save) ends with the weights an
uninterrupted run would have.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from synthmarks.data.augment import Augmenter
from synthmarks.data.dataset import (
    EpochSampler,
    ImageCache,
    LandmarkDataset,
    mean_target,
    with_outputs,
)
from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.data.sample import Sample
from synthmarks.errors import SynthmarksError
from synthmarks.eval.evaluate import DEFAULT_JAW
from synthmarks.fileio import write_json, write_text
from synthmarks.infer.runtime import to_model_input
from synthmarks.models import INPUT_MEAN, INPUT_STD, ZOO, build_model, losses
from synthmarks.models.checkpoint import (
    grow_outputs,
    load_model,
    read_checkpoint,
    save_checkpoint,
    with_input_size,
)
from synthmarks.models.prune import fold_squeeze_excite, prune_model
from synthmarks.train import distributed, optim, validate
from synthmarks.train.config import TrainConfig
from synthmarks.train.logs import RunLog


class Trainer:
    """One training run. ``resume`` is a checkpoint with a ``train_state`` (usually last.pt).

    Construction is the setup (:meth:`_setup`); :meth:`fit` is the loop.
    """

    def __init__(
        self, cfg: TrainConfig, resume: Path | None = None, overwrite: bool = False
    ) -> None:
        self.cfg = cfg
        self.run_dir = cfg.run_dir
        self.epoch, self.step, self.batch_in_epoch = 0, 0, 0
        #: the checkpoint metric: data.select_on's validation NME ("val_synth_nme", ...) or "loss"
        self.metric = "loss" if cfg.data.select_on == "loss" else f"val_{cfg.data.select_on}_nme"
        self.best: dict[str, Any] = {"metric": None, "value": math.inf, "epoch": None}
        self._setup(resume, overwrite)

    # ---------------------------------------------------------------- setup
    def _setup(self, resume: Path | None, overwrite: bool) -> None:
        """Devices and processes, data, model, optimiser, resume state, then the wrappers."""
        cfg = self.cfg
        self.device = _device(cfg.runtime.device)
        self.dist = distributed.init(self.device.type)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        self.main = self.dist.is_main
        self._check_run_dir(resume, overwrite)
        self._threads()
        self.state = read_checkpoint(resume) if resume else None
        if self.state is not None and "optimizer" not in self.state.get("train_state", {}):
            raise SynthmarksError(
                f"{resume}: has no optimiser state to resume from (resume from a run's last.pt)"
            )

        self.teacher = self._load_teacher()  # before the data: a teacher that cannot teach
        train, self.val_samples = self._load_samples()  # this student fails fast
        self.model = self._build_model(train).to(self.device)
        if cfg.runtime.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.loader, self.sampler = self._loader(train)
        self.steps_per_epoch = len(self.loader)
        self.optimizer = optim.build_optimizer(self.model, cfg.optim)
        self.amp_dtype = _amp_dtype(cfg.optim.amp, self.device)
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.amp_dtype == torch.float16
        )
        self._rng_states: list[Any] | None = None
        self._epoch_states: list[dict[str, Any]] | None = None  # mid-epoch resume, per rank
        self.stats = EpochStats()  # the running epoch's, saved with a mid-epoch last.pt
        if self.state is not None:
            self._restore(self.state["train_state"])

        # The training forward pass runs through this wrapper of self.model (same parameters):
        # DDP to average gradients across processes, torch.compile for speed. The loss,
        # checkpoints and validation use self.model itself.
        self.forward: torch.nn.Module = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if cfg.runtime.compile:
            self.forward = torch.compile(self.forward)

        meta = {
            "input_size": cfg.model.input_size,
            "crop_scale": cfg.data.crop_scale,
            "mean": INPUT_MEAN,
            "std": INPUT_STD,
        }
        self.val_engine = validate.engine_for(self.model, meta, self.device)
        self.eval_sets = self._eval_sets() if self.main else []

    def _check_run_dir(self, resume: Path | None, overwrite: bool) -> None:
        last = self.run_dir / "last.pt"
        if resume is None and last.exists() and not overwrite:
            raise SynthmarksError(
                f"{self.run_dir} already holds a run; pass --resume to continue "
                "it, --overwrite to start again, or set another name"
            )

    def _threads(self) -> None:
        cv2.setNumThreads(1)  # crops are 128 px; OpenCV's thread pool only adds overhead
        n = self.cfg.runtime.threads or max(1, (os.cpu_count() or 1) // self.dist.world_size)
        if self.device.type == "cpu":
            torch.set_num_threads(n)
        if self.cfg.runtime.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input size: autotune once

    def _load_samples(self) -> tuple[list[Sample], list[Sample]]:
        d = self.cfg.data
        samples = load_dataset(_path(d.train, "data.train"), d.format, d.limit, start=d.start)
        n = self.cfg.model.num_points
        short = [s for s in samples if len(s.points) < n]
        if short:
            raise SynthmarksError(
                f"{short[0].image_path}: has {len(short[0].points)} points, model.num_points is {n}"
            )
        if d.val_real is not None:  # checked on every rank: only rank 0 reads it, later
            _path(d.val_real, "data.val_real")
        if d.val is not None:
            val = load_dataset(_path(d.val, "data.val"), d.format, d.val_limit)
            return with_outputs(samples, self.cfg.model.layout), val
        k = int(round(len(samples) * d.val_fraction))
        if k == 0:
            if d.select_on == "synth":
                raise SynthmarksError(
                    f"data.val_fraction: {d.val_fraction} of {len(samples)} faces holds out "
                    "none, and data.select_on is synth; raise it, set data.val, or select on "
                    "real or loss"
                )
            return with_outputs(samples, self.cfg.model.layout), []
        if k >= len(samples):
            raise SynthmarksError("data.val_fraction leaves no training samples")
        order = np.random.default_rng([self.cfg.seed, 1]).permutation(len(samples))
        held = set(order[:k].tolist())
        train = [s for i, s in enumerate(samples) if i not in held]
        val = [samples[i] for i in sorted(held)][: d.val_limit]
        return with_outputs(train, self.cfg.model.layout), val

    def _build_model(self, train: list[Sample]) -> torch.nn.Module:
        m = self.cfg.model
        if self.state is not None:  # the run's own architecture, pruned or not
            return build_model(**self.state["model_config"])
        if self.cfg.init.checkpoint:
            return self._init_model(self.cfg.init.checkpoint, train)
        torch.manual_seed(self.cfg.seed)
        kwargs = dict(m.kwargs)
        layout = m.layout
        if ZOO[m.name].mean_shape:  # the training set's own, not the packaged default
            d = self.cfg.data
            kwargs["mean_shape"] = mean_target(
                train, m.input_size, d.crop_scale, layout.num_points, d.mean_shape_samples
            )
        if not layout.plain:
            kwargs["outputs"] = layout.to_json()
        try:
            return build_model(m.name, m.num_points, m.input_size, **kwargs)
        except (TypeError, ValueError) as exc:
            raise SynthmarksError(f"model: cannot build {m.name!r} ({exc})") from None

    def _init_model(self, checkpoint: str, train: list[Sample]) -> torch.nn.Module:
        """init.checkpoint's model and weights, channel-pruned if init.prune_ratio is set and
        its squeeze-excite folded if init.fold_se_crops is (measured on ``train``'s crops)."""
        init, m = self.cfg.init, self.cfg.model
        path = _path(checkpoint, "init.checkpoint")
        model, _ = load_model(path)
        wrong = [
            f"{k} {model.config.get(k)!r}, not {v!r}"
            for k, v in (("name", m.name), ("num_points", m.num_points))
            if model.config.get(k) != v
        ]
        if wrong:
            raise SynthmarksError(
                f"init.checkpoint: {path} has model "
                + ", ".join(wrong)
                + "; the model section must describe it"
            )
        if model.config["input_size"] != m.input_size:
            before = model.config["input_size"]
            try:
                model = with_input_size(model, m.input_size)
            except SynthmarksError as exc:
                raise SynthmarksError(f"init.checkpoint: {path}: {exc}") from None
            if self.main:
                tqdm.write(f"init: {path}: input {before} -> {m.input_size} px, same weights")
        if model.layout != m.layout:
            torch.manual_seed(self.cfg.seed)  # the fresh pose head's initialisation
            try:
                model, note = grow_outputs(model, m.layout.to_json())
            except (TypeError, ValueError) as exc:
                raise SynthmarksError(f"init.checkpoint: {path}: {exc}") from None
            if self.main:
                tqdm.write(f"init: {path}: {note}")
        if init.prune_ratio:
            before = sum(p.numel() for p in model.parameters())
            model = prune_model(model, init.prune_ratio)
            after = sum(p.numel() for p in model.parameters())
            if self.main:
                tqdm.write(
                    f"init: {path} pruned at {init.prune_ratio:g}: {before:,} -> "
                    f"{after:,} parameters"
                )
        if init.fold_se_crops:
            model = fold_squeeze_excite(model, self._fold_inputs(train, init.fold_se_crops))
            if self.main:
                tqdm.write(
                    f"init: {path}: squeeze-excite folded on {init.fold_se_crops} training crops"
                )
        return model.train()

    def _fold_inputs(self, train: list[Sample], count: int) -> torch.Tensor:
        """``count`` augmented crops of seeded training faces, as model inputs: what the folded
        gates are fitted on (the same on every rank, so DDP replicas start identical)."""
        d, layout = self.cfg.data, self.cfg.model.layout
        picks = np.random.default_rng([self.cfg.seed, 2]).choice(
            len(train), min(count, len(train)), replace=False
        )
        augmenter = Augmenter(self.cfg.augment, self.cfg.model.input_size, d.crop_scale)
        dataset = LandmarkDataset(
            [train[i] for i in picks], augmenter, layout.num_points, self.cfg.seed
        )
        crops = torch.stack([dataset[i]["image"] for i in range(len(dataset))])
        return to_model_input(crops, INPUT_MEAN, INPUT_STD)

    def _load_teacher(self) -> torch.nn.Module | None:
        """distill.teacher's model, frozen, in eval mode; it must predict every point the
        student learns (the outline jaw too, where the student has one)."""
        path = self.cfg.distill.teacher
        if not path:
            return None
        teacher, meta = load_model(_path(path, "distill.teacher"))
        scale = meta.get("crop_scale")
        if scale is not None and abs(scale - self.cfg.data.crop_scale) > 1e-6:
            raise SynthmarksError(
                f"distill.teacher: {path} was trained on crops of scale {scale:g}, the student's "
                f"are {self.cfg.data.crop_scale:g}: its points would not fit them"
            )
        mine, theirs = self.cfg.model.layout, teacher.layout
        if theirs.landmarks != mine.landmarks or (mine.outline_jaw and not theirs.outline_jaw):
            raise SynthmarksError(
                f"distill.teacher: {path} predicts {theirs.landmarks} points"
                f"{' and the outline jaw' if theirs.outline_jaw else ''}; the student learns "
                f"{mine.landmarks}{' and the outline jaw' if mine.outline_jaw else ''}"
            )
        teacher.requires_grad_(False)
        if self.main:
            pose = " and pose" if mine.pose and theirs.pose else ""
            tqdm.write(
                f"distill: {path} ({teacher.config.get('name')}, {teacher.input_size} px) teaches "
                f"the points{pose}, weight {self.cfg.distill.weight:g}"
            )
        memory = torch.channels_last if self.cfg.runtime.channels_last else torch.contiguous_format
        return teacher.to(self.device, memory_format=memory)

    def _loader(self, train: list[Sample]) -> tuple[DataLoader, EpochSampler]:
        cfg, d = self.cfg, self.cfg.data
        size = cfg.model.input_size
        cache = None
        if d.cache:
            cache_dir = _path(d.cache_dir, "data.cache_dir", must_exist=False)
            if self.main:  # rank 0 writes it, the others then open the finished file
                cache = ImageCache.build(
                    train,
                    cache_dir,
                    size,
                    d.crop_scale,
                    cfg.cache_margin,
                    progress=cfg.log.progress,
                )
            self.dist.barrier()
            if not self.main:
                cache = ImageCache.build(
                    train, cache_dir, size, d.crop_scale, cfg.cache_margin, progress=False
                )
        augmenter = Augmenter(cfg.augment, size, d.crop_scale)
        layout = cfg.model.layout
        dataset = LandmarkDataset(
            train, augmenter, layout.num_points, cfg.seed, cache, with_pose=layout.pose
        )
        sampler = EpochSampler(len(dataset), cfg.seed, True, self.dist.rank, self.dist.world_size)
        bs = cfg.optim.batch_size
        loader = DataLoader(
            dataset,
            batch_size=bs,
            sampler=sampler,
            num_workers=d.workers,
            drop_last=sampler.per_rank() > bs,  # BatchNorm needs > 1 sample; tiny sets keep all
            pin_memory=self.device.type == "cuda",
            persistent_workers=d.workers > 0,
            worker_init_fn=_worker_init,
            prefetch_factor=4 if d.workers > 0 else None,
            # its own generator: starting an epoch's iterator must not draw from torch's global
            # RNG, whose state a mid-epoch resume restores
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        return loader, sampler

    def _eval_sets(self) -> list[validate.EvalSet]:
        d = self.cfg.data
        sets = []
        if self.val_samples:
            sets.append(validate.prepare("synth", self.val_samples, self.val_engine))
        if d.val_real:
            path = _path(d.val_real, "data.val_real")
            real = load_dataset(path, d.val_real_format)
            outline = DEFAULT_JAW[d.val_real_format or detect_format(path)] == "outline"
            sets.append(validate.prepare("real", real, self.val_engine, outline))
        return sets

    def _restore(self, ts: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(self.state["state_dict"])
            self.optimizer.load_state_dict(ts["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise SynthmarksError(
                f"cannot resume: checkpoint does not match the config ({exc})"
            ) from None
        if ts.get("scaler"):
            self.scaler.load_state_dict(ts["scaler"])
        self.epoch, self.step = int(ts["epoch"]), int(ts["step"])
        self.batch_in_epoch = int(ts.get("batch_in_epoch", 0))
        self.best = dict(ts["best"])
        if ts.get("world_size", 1) != self.dist.world_size and self.batch_in_epoch:
            raise SynthmarksError("cannot resume mid-epoch with a different number of processes")
        self._rng_states = ts.get("rng") if self.batch_in_epoch else None
        if self.batch_in_epoch:  # without them (an older last.pt) the epoch's row is partial
            self._epoch_states = ts.get("epoch_stats") or [{"partial": True}] * self.dist.world_size

    # ---------------------------------------------------------------- loop
    def fit(self) -> dict[str, Any]:
        """Train to ``schedule.epochs``; returns the last epoch's log row."""
        cfg = self.cfg
        log = self._open_log()
        row: dict[str, Any] = {}
        try:
            while self.epoch < cfg.schedule.epochs:
                torch.manual_seed(hash_seed(cfg.seed, self.epoch, self.dist.rank))
                if self._rng_states is not None:  # mid-epoch resume: continue the saved streams
                    torch.set_rng_state(self._rng_states[self.dist.rank])
                    self._rng_states = None
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch * cfg.optim.batch_size)
                self.forward.train()
                stats = self.stats = EpochStats()
                if self._epoch_states is not None:  # its first batches' sums, from last.pt
                    stats = self.stats = EpochStats.from_state(self._epoch_states[self.dist.rank])
                    self._epoch_states = None
                for batch in self._progress(stats):
                    lr = cfg.optim.lr * optim.lr_factor(
                        self.step, self.steps_per_epoch, cfg.schedule
                    )
                    optim.set_lr(self.optimizer, lr)
                    loss, parts = self._train_step(batch)
                    self.step += 1
                    self.batch_in_epoch += 1
                    stats.add(loss, parts, len(batch["image"]))
                    if self.main and log is not None and self.step % cfg.log.every_steps == 0:
                        log.scalars({"loss": loss, "lr": lr, **parts}, self.step, "train/")
                    every = cfg.log.checkpoint_every_steps
                    if every and self.step % every == 0 and not self._epoch_done():
                        self._save_synced(self.run_dir / "last.pt")
                self.epoch += 1
                self.batch_in_epoch = 0
                row = self._end_epoch(self._epoch_stats(stats), log)
        except KeyboardInterrupt:
            if self.main and not self.dist.enabled and self.batch_in_epoch:
                self._save(self.run_dir / "last.pt", row, full=True)
                print(
                    f"saved {self.run_dir / 'last.pt'} at epoch {self.epoch + 1}, batch "
                    f"{self.batch_in_epoch}; continue with --resume"
                )
            raise
        finally:
            if log is not None:
                log.close()
        if self.main:
            summary = {"best": self.best, "final": row, "epochs": self.epoch, "steps": self.step}
            write_json(self.run_dir / "summary.json", summary)
        distributed.shutdown(self.dist)
        return row

    def _train_step(self, batch: dict[str, torch.Tensor]) -> tuple[float, dict[str, float]]:
        """Forward, loss, backward, optimiser step on one batch; the loss and its parts."""
        x = to_model_input(batch["image"], INPUT_MEAN, INPUT_STD, self.device)
        target = batch["target"].to(self.device, non_blocking=True)
        vis = batch["visibility"].to(self.device) if self.cfg.optim.use_visibility else None
        amp = self.amp_dtype is not None
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=amp):
            out = self.forward(x)
        out = {k: v.float() for k, v in out.items()}
        loss, parts = self.model.loss(out, target, vis)
        taught_points, taught_pose = self._teach(x) if self.teacher is not None else (None, None)
        w = self.cfg.distill.weight
        if taught_points is not None:  # the same loss against the teacher's points
            taught, _ = self.model.loss(out, taught_points, vis)
            loss = (1 - w) * loss + w * taught
            parts = {**parts, "distill": float(taught.detach())}
        if "pose" in out:  # landmark loss over all points + pose_weight * pose loss
            pose_value = losses.pose_loss(out["pose"], batch["pose"].to(self.device))
            if taught_pose is not None:
                pose_value = (1 - w) * pose_value + w * losses.pose_loss(out["pose"], taught_pose)
            loss = loss + self.cfg.model.pose_weight * pose_value
            parts = {**parts, "pose": float(pose_value.detach())}
        value = float(loss.detach())
        if not math.isfinite(value):
            raise SynthmarksError(
                f"training diverged (loss {value}) at step {self.step}; "
                "lower optim.lr or raise schedule.warmup_epochs"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg.optim.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return value, {k: float(v) for k, v in parts.items()}

    @torch.no_grad()
    def _teach(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The teacher's points on the student's input batch (resized to the teacher's input),
        cut to the student's outputs, and its pose where both models have a pose head."""
        size = self.teacher.input_size
        if x.shape[-1] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        amp = self.amp_dtype is not None
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=amp):
            points, _, pose = self.teacher.predict_all(x)
        points = points[:, : self.cfg.model.layout.num_points].float()
        return points, pose.float() if pose is not None and self.cfg.model.pose else None

    def _open_log(self) -> RunLog | None:
        """Rank 0's run log (CSV, TensorBoard) and config.yaml; None on the other ranks."""
        if not self.main:
            return None
        if self.state is None and (self.run_dir / "tb").is_dir():  # --overwrite
            shutil.rmtree(self.run_dir / "tb")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_text(self.run_dir / "config.yaml", self.cfg.to_yaml())
        return RunLog(self.run_dir, self.cfg.log.tensorboard, self.epoch, self.step)

    def _progress(self, stats: EpochStats) -> Iterator[dict[str, torch.Tensor]]:
        """The epoch's batches (the rest of it, after a mid-epoch resume) under a progress bar
        showing the running loss; times the waits on the loader into ``stats``."""
        bar = tqdm(
            total=self.steps_per_epoch - self.batch_in_epoch,
            desc=f"epoch {self.epoch + 1}/{self.cfg.schedule.epochs}",
            leave=False,
            disable=not (self.main and self.cfg.log.progress),
            dynamic_ncols=True,
        )
        fetch = time.perf_counter()
        for batch in self.loader:
            stats.waited += time.perf_counter() - fetch
            yield batch
            bar.update()
            bar.set_postfix(loss=f"{stats.last_loss:.4f}")
            fetch = time.perf_counter()
        bar.close()

    def _epoch_done(self) -> bool:
        return self.batch_in_epoch >= self.steps_per_epoch

    def _epoch_stats(self, stats: EpochStats) -> dict[str, float]:
        """The epoch's mean loss parts (over processes), throughput and last learning rate."""
        seconds = time.perf_counter() - stats.start
        out = {
            k: self.dist.mean(v / max(stats.batches, 1), self.device) for k, v in stats.sums.items()
        }
        out["img_per_s"] = stats.images * self.dist.world_size / max(seconds, 1e-9)
        out["epoch_s"] = seconds
        out["data_wait"] = stats.waited / max(seconds, 1e-9)  # fraction of the epoch
        if stats.partial:  # resumed from a last.pt that lacks the epoch's first batches
            out["partial_epoch"] = 1
        out["lr"] = self.cfg.optim.lr * optim.lr_factor(
            max(self.step - 1, 0), self.steps_per_epoch, self.cfg.schedule
        )
        return out

    def _end_epoch(self, train_stats: dict[str, float], log: RunLog | None) -> dict[str, Any]:
        """Validate (every ``log.val_every_epochs`` and at the end), keep best.pt on the
        checkpoint metric, write last.pt and the log row."""
        cfg = self.cfg
        last_epoch = self.epoch == cfg.schedule.epochs
        do_val = last_epoch or self.epoch % cfg.log.val_every_epochs == 0
        val: dict[str, Any] = {}
        if self.main and do_val:
            for es in self.eval_sets:
                res = validate.validate(self.val_engine, es)
                val.update({f"val_{es.name}_{k}": v for k, v in res.items()})
        val = self.dist.broadcast_object(val)
        value = train_stats["loss"] if self.metric == "loss" else val.get(self.metric, math.nan)
        improved = do_val and value < self.best["value"]
        if improved:
            self.best = {"metric": self.metric, "value": float(value), "epoch": self.epoch}
        row = {
            "epoch": self.epoch,
            "step": self.step,
            **train_stats,
            **val,
            "best_" + self.metric: self.best["value"],
        }
        if self.main:
            assert log is not None
            log.scalars(val, self.step, "")
            log.scalars(
                {"img_per_s": train_stats["img_per_s"], "loss": train_stats["loss"]},
                self.step,
                "epoch/",
            )
            log.epoch(row)
            if improved:
                self._save(self.run_dir / "best.pt", val, full=False)
            self._save(self.run_dir / "last.pt", val, full=True)
            shown = ", ".join(
                f"{k} {v:.2f} deg" if k.endswith("_pose_mae") else f"{k} {100 * v:.2f} %"
                for k, v in val.items()
                if k.endswith(("_nme", "_nme_outline", "_pose_mae"))
            )
            tqdm.write(
                f"epoch {self.epoch}/{cfg.schedule.epochs}: loss "
                f"{train_stats['loss']:.4f}, {train_stats['img_per_s']:.0f} img/s"
                + (f", {shown}" if shown else "")
                + (" (best)" if improved else "")
            )
        self.dist.barrier()
        return row

    # ---------------------------------------------------------------- checkpoints
    def _save_synced(self, path: Path) -> None:
        """A mid-epoch save: every rank contributes its RNG state, rank 0 writes."""
        states = self.dist.gather_object((torch.get_rng_state(), self.stats.to_state()))
        if self.main:
            rng, stats = [s[0] for s in states], [s[1] for s in states]
            self._save(path, {}, full=True, rng=rng, epoch_stats=stats)
        self.dist.barrier()

    def _save(
        self,
        path: Path,
        metrics: dict[str, Any],
        full: bool,
        rng: list[Any] | None = None,
        epoch_stats: list[dict[str, Any]] | None = None,
    ) -> None:
        ts: dict[str, Any] = {
            "config": self.cfg.to_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "best": self.best,
        }
        if full:
            ts |= {
                "batch_in_epoch": self.batch_in_epoch,
                "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
                "world_size": self.dist.world_size,
                "rng": rng if rng is not None else [torch.get_rng_state()],
            }
            if self.batch_in_epoch:  # so that the resumed epoch's log row covers all of it
                ts["epoch_stats"] = epoch_stats or [self.stats.to_state()]
        save_checkpoint(
            path,
            self.model,
            input_size=self.cfg.model.input_size,
            crop_scale=self.cfg.data.crop_scale,
            mean=INPUT_MEAN,
            std=INPUT_STD,
            num_points=self.cfg.model.num_points,
            metrics=metrics,
            train_state=ts,
        )


@dataclass
class EpochStats:
    """Running sums of one epoch: loss parts, batches, images, seconds spent waiting for data.

    A mid-epoch last.pt holds them (:meth:`to_state`), so a resumed epoch's log row averages all
    of its batches, not only those after the resume; its times add the run before the kill to
    the run after it (the time the process was dead is not counted).
    """

    sums: dict[str, float] = field(default_factory=dict)
    batches: int = 0
    images: int = 0
    waited: float = 0.0
    last_loss: float = math.nan
    start: float = field(default_factory=time.perf_counter)
    partial: bool = False  # the sums miss the batches before a resume

    def to_state(self) -> dict[str, Any]:
        return {
            "sums": dict(self.sums),
            "batches": self.batches,
            "images": self.images,
            "waited": self.waited,
            "seconds": time.perf_counter() - self.start,
            "partial": self.partial,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EpochStats:
        return cls(
            sums=dict(state.get("sums", {})),
            batches=int(state.get("batches", 0)),
            images=int(state.get("images", 0)),
            waited=float(state.get("waited", 0.0)),
            start=time.perf_counter() - float(state.get("seconds", 0.0)),
            partial=bool(state.get("partial", False)),
        )

    def add(self, loss: float, parts: dict[str, float], images: int) -> None:
        for k, v in {"loss": loss, **parts}.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.batches += 1
        self.images += images
        self.last_loss = loss


def train(cfg: TrainConfig, resume: Path | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Run training to the end; returns the last epoch's log row."""
    return Trainer(cfg, resume, overwrite).fit()


def hash_seed(*parts: int) -> int:
    """A 63-bit seed from integers (stable across processes, unlike ``hash``)."""
    return int(
        np.random.SeedSequence(list(parts)).generate_state(2, np.uint32).view(np.uint64)[0] >> 1
    )


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SynthmarksError("runtime.device: cuda requested but no GPU is available")
    return torch.device(name)


def _amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    if mode == "auto":
        ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if ok else None
    return {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[mode]


def _path(value: str, key: str, must_exist: bool = True) -> Path:
    path = Path(value).expanduser()
    if must_exist and not path.exists():
        raise SynthmarksError(f"{key}: {path} does not exist")
    return path


def _worker_init(worker_id: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
