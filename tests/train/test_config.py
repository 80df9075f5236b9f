"""Configs load strictly: every shipped config is valid, mistakes are one-line user errors, and
the defaults live in the dataclasses (a shipped config states what differs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmarks.errors import SynthmarksError
from synthmarks.train.config import TrainConfig, load_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("**/*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_are_valid(path):
    cfg = load_config(path)
    assert cfg.name == path.stem
    from synthmarks.models import MODEL_NAMES

    assert cfg.model.name in MODEL_NAMES


def test_one_config_per_family():
    names = {p.stem for p in CONFIGS}
    assert {
        "pipnet_mbv3s",
        "regress_mbv3s",
        "regress_resnet50",
        "heatmap_shufflenet",
        "hourglass2",
        "pipnet_shufflenet",
        "pipnet_resnet18",
        "tiny",
    } <= names


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    with pytest.raises(SynthmarksError, match=r"optim\.lrr.*Did you mean: 'lr'"):
        load_config(write(tmp_path, "optim:\n  lrr: 0.1\n"))


@pytest.mark.parametrize(
    "text, match",
    [
        ("optim:\n  lr: fast\n", "optim.lr: .*'fast'.*Float"),
        ("schedule:\n  epochs: 2.5\n", "schedule.epochs: .*Integer"),
        ("augment:\n  scale: [0.9]\n", "length 1 does not match .* length 2"),
        ("runtime:\n  channels_last: maybe\n", "runtime.channels_last: .*not a valid bool"),
        ("optim: [1, 2]\n", "not a subclass of OptimConfig"),
        ("data:\n  train: ${SM_UNSET:-x}\n", r"oc\.env:VAR,default"),
        ("data:\n  val_fraction: 0\n", "select_on: synth needs a synthetic validation set"),
        ("data:\n  select_on: real\n", "select_on: real needs data.val_real"),
        ("optim:\n  name: adam\n", "optim.name"),
        ("augment:\n  flip_p: 2\n", "augment.flip_p"),
        ("model: {input_size: 100}\n", "model.input_size"),
        ("optim:\n  lr: [\n", "invalid YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_values_are_user_errors(tmp_path, text, match):
    with pytest.raises(SynthmarksError, match=match):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(SynthmarksError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_and_env_expansion(tmp_path, monkeypatch):
    monkeypatch.setenv("SM_TEST_ROOT", "/somewhere")
    p = write(
        tmp_path,
        "data:\n  train: ${oc.env:SM_TEST_ROOT}/train\n  val_real: ${oc.env:SM_UNSET,x}/dev\n",
    )
    cfg = load_config(
        p, ["optim.lr=0.01", "augment.scale=[0.8, 1.2]", "name=abc", "data.limit=null"]
    )
    assert cfg.data.train == "/somewhere/train" and cfg.data.val_real == "x/dev"
    assert cfg.optim.lr == 0.01 and cfg.augment.scale == (0.8, 1.2) and cfg.name == "abc"
    with pytest.raises(SynthmarksError, match="SM_UNSET"):
        load_config(write(tmp_path, "data:\n  train: ${oc.env:SM_UNSET}/x\n"))
    with pytest.raises(SynthmarksError, match="KEY=VALUE"):
        load_config(p, ["optim.lr"])
    with pytest.raises(SynthmarksError, match="optim.lrr"):
        load_config(p, ["optim.lrr=1"])


def test_round_trip_through_a_saved_dict():
    cfg = load_config(REPO / "configs" / "pipnet_mbv3s.yaml")
    again = load_config(None, base=cfg.to_dict())
    assert again == cfg and isinstance(again, TrainConfig)


def test_extends_merges_sections_and_takes_the_file_name(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nmodel: {name: pipnet_mbv3s}\n"
        "optim: {lr: 0.002, batch_size: 16}\nschedule: {epochs: 9}\n"
    )
    (tmp_path / "sub").mkdir()
    row = tmp_path / "sub" / "row.yaml"
    row.write_text("extends: ../base.yaml\noptim: {lr: 0.0005}\n")
    cfg = load_config(row)
    assert cfg.name == "row" and cfg.model.name == "pipnet_mbv3s"
    assert cfg.optim.lr == 0.0005 and cfg.optim.batch_size == 16  # merged, not replaced
    assert cfg.schedule.epochs == 9


def test_extends_loop_and_missing_parent_are_user_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(SynthmarksError, match="loops"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(SynthmarksError, match="not found"):
        load_config(tmp_path / "c.yaml")


def test_shipped_configs_do_not_restate_augmentation_defaults():
    """Defaults are written once, in the dataclasses: a config that restates them hides what it
    really changes (release.yaml once listed every augmentation default)."""
    import yaml

    from synthmarks.data.augment import AugmentConfig

    defaults = TrainConfig().to_dict()["augment"]
    for path in CONFIGS:
        section = yaml.safe_load(path.read_text()).get("augment") or {}
        restated = [k for k, v in section.items() if v == defaults[k]]
        assert not restated, f"{path.name} restates augment defaults {restated}"
    assert AugmentConfig().validate() == AugmentConfig()
