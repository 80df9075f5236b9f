"""A crafted checkpoint must not run code: every command that reads a .pt refuses it first."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthmarks.cli import main
from synthmarks.errors import SynthmarksError
from synthmarks.models.checkpoint import FORMAT, read_checkpoint


class Payload:
    """Unpickling this calls ``exec``: what a malicious .pt file does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


@pytest.fixture(params=["zip", "legacy"])
def evil(request, tmp_path) -> tuple[Path, Path]:
    """A checkpoint that looks right (format key, weights) and runs code when unpickled."""
    marker = tmp_path / "payload-ran"
    path = tmp_path / "evil.pt"
    obj = {"format": FORMAT, "state_dict": {"w": torch.zeros(2)}, "metrics": Payload(marker)}
    torch.save(obj, path, _use_new_zipfile_serialization=request.param == "zip")
    return path, marker


def test_read_checkpoint_refuses_and_runs_nothing(evil):
    path, marker = evil
    with pytest.raises(SynthmarksError, match="refused.*nothing in it was run"):
        read_checkpoint(path)
    assert not marker.exists()


def test_every_command_that_reads_a_checkpoint_refuses_it(evil, shared, tmp_path, capsys):
    path, marker = evil
    commands = [
        ["eval", "-m", str(path), "-d", str(shared / "data" / "real-68pt"), "--limit", "2"]
        + ["--out", str(tmp_path / "eval"), "--worst", "0"],
        ["predict", str(shared / "data" / "real-68pt" / "lfpw-train")]
        + ["-m", str(path), "--out", str(tmp_path / "pred")],
        ["export", str(path), "--out", str(tmp_path / "x.onnx")],
        ["train", "--resume", str(path)],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "refused" in err and err.count("\n") == 1, (argv, err)
        assert not marker.exists(), f"{argv[0]} ran the checkpoint's code"


def test_the_released_and_trained_checkpoints_still_load(tiny_checkpoint):
    import synthmarks

    released = Path(synthmarks.__file__).parent / "assets" / "synthmarks-default.pt"
    for path in (released, tiny_checkpoint):
        assert read_checkpoint(path)["format"] == FORMAT
