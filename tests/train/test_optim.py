"""The learning-rate schedule is a pure function of the step: warm-up, then cosine or steps."""

from __future__ import annotations

import pytest
import torch

from synthmarks.train.config import OptimConfig, ScheduleConfig
from synthmarks.train.optim import build_optimizer, lr_factor


def test_warmup_then_cosine_to_the_floor():
    cfg = ScheduleConfig(epochs=10, warmup_epochs=1, decay="cosine", min_lr_ratio=0.01)
    f = [lr_factor(s, 100, cfg) for s in range(1000)]
    assert f[0] == pytest.approx(0.01) and f[99] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[100:], f[101:], strict=False))
    assert f[-1] == pytest.approx(0.01, abs=1e-3)


def test_step_decay():
    cfg = ScheduleConfig(epochs=10, warmup_epochs=0, decay="step", milestones=(0.5, 0.8), gamma=0.1)
    assert lr_factor(0, 10, cfg) == 1.0
    assert lr_factor(50, 10, cfg) == pytest.approx(0.1)
    assert lr_factor(85, 10, cfg) == pytest.approx(0.01)


@pytest.mark.parametrize("name", ["adamw", "sgd"])
def test_no_weight_decay_on_norms_and_biases(name):
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    opt = build_optimizer(model, OptimConfig(name=name, weight_decay=0.05))
    decayed, plain = opt.param_groups
    assert [p.ndim for p in decayed["params"]] == [4] and decayed["weight_decay"] == 0.05
    assert plain["weight_decay"] == 0.0 and len(plain["params"]) == 3
