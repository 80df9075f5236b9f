"""One ``--set KEY=VALUE`` for every command: the same parser, the same checks, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthmarks.cli import build_parser, main
from synthmarks.config import parse_set

REPO = Path(__file__).resolve().parents[1]

COMMANDS = {
    "synth": ["synth", "--out", "unused"],
    "train": ["train", "--config", "configs/tiny.yaml"],
    "eval": ["eval", "--model", "mean-shape", "--data", "unused"],
}


def test_every_configured_command_takes_set_into_overrides():
    parser = build_parser()
    for args in COMMANDS.values():
        parsed = parser.parse_args([*args, "--set", "a.b=1", "--set", "c=[1, 2]"])
        assert parsed.overrides == ["a.b=1", "c=[1, 2]"]


def test_values_are_typed():
    pairs = dict(parse_set(["optim.lr=1e-3", "s=[0.8, 1.2]", "data.limit=null", "n=3", "x=a=b"]))
    assert pairs["optim.lr"] == 0.001 and list(pairs["s"]) == [0.8, 1.2]
    assert pairs["data.limit"] is None and pairs["n"] == 3 and pairs["x"] == "a=b"


def test_a_set_mapping_replaces_where_a_file_merges(tmp_path):
    from synthmarks.train.config import load_config

    tiny = REPO / "configs/tiny.yaml"  # model.kwargs: {width_mult: 0.5, stride: 32}
    cfg = load_config(tiny, ["model.kwargs={width_mult: 0.25}"])
    assert cfg.model.kwargs == {"width_mult": 0.25}
    (tmp_path / "row.yaml").write_text(f"extends: {tiny}\nmodel:\n  kwargs: {{width_mult: 0.25}}\n")
    assert load_config(tmp_path / "row.yaml").model.kwargs == {"width_mult": 0.25, "stride": 32}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    "item, message", [("nokey=1", "nokey: Key 'nokey' not in"), ("novalue", "expected KEY=VALUE")]
)
def test_bad_overrides_are_one_line_errors_in_every_command(
    command, item, message, capsys, monkeypatch
):
    monkeypatch.chdir(REPO)  # configs/tiny.yaml
    code = main([*COMMANDS[command], "--set", item])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
