"""Optimiser and learning-rate schedule.

The schedule is a pure function of the global step (linear warm-up, then cosine or step decay),
set on the optimiser before every step. Nothing about it needs saving: a resumed run recomputes
the same rate from the step count, which is one less thing that can drift on ``--resume``.
"""

from __future__ import annotations

import math

import torch

from synthmarks.train.config import OptimConfig, ScheduleConfig


def build_optimizer(model: torch.nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """AdamW or SGD; biases and normalisation parameters get no weight decay (decaying BN scales
    only fights the normalisation)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)


def lr_factor(step: int, steps_per_epoch: int, cfg: ScheduleConfig) -> float:
    """Multiplier of the base learning rate at global ``step`` (0-based)."""
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = int(round(cfg.warmup_epochs * steps_per_epoch))
    if step < warmup:
        return (step + 1) / warmup
    if cfg.decay == "none":
        return 1.0
    if cfg.decay == "step":
        progress = step / total
        return cfg.gamma ** sum(progress >= m for m in cfg.milestones)
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = cfg.min_lr_ratio
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
