"""Output paths are checked before any work: a file where a folder should be, a folder where a
file should be, a read-only place, an output that is one of the inputs. One line, status 2,
nothing overwritten, no traceback after minutes of lost work."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from faults import one_line_error, run_read_only

from synthmarks.cli import main

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.yaml"


def cli(capsys, *args) -> str:
    """Run the CLI in-process; return its one-line error (failing the test if there is none)."""
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    return err


@pytest.fixture()
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(6):
        writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    writer.release()
    return path


def test_eval_out_that_is_a_file_fails_before_the_work(shared, tmp_path, capsys):
    taken = tmp_path / "report"
    taken.write_text("keep me")
    data = shared / "data/real-68pt"
    # a model that would fail to load shows the order: --out is checked first
    err = cli(capsys, "eval", "-m", tmp_path / "none.pt", "-d", data, "--out", taken)
    assert "--out" in err and "not a folder" in err
    assert taken.read_text() == "keep me"


def test_video_output_that_is_a_folder_or_the_input(clip, tmp_path, capsys):
    folder = tmp_path / "out.mp4"
    folder.mkdir()
    assert "is a folder" in cli(capsys, "video", clip, folder)
    before = clip.read_bytes()
    assert "is an input" in cli(capsys, "video", clip, tmp_path / "o.avi", "--csv", clip)
    assert "is an input" in cli(capsys, "video", clip, clip.with_name("./clip.avi"))
    assert clip.read_bytes() == before


def test_predict_never_draws_over_its_input(shared, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    face = photos / "face.jpg"
    shutil.copy(shared / "data/real-68pt/helen-afw-train/18489332_4.jpg", face)
    before = face.read_bytes()
    assert "would write inside the input folder" in cli(capsys, "predict", photos, "--out", photos)
    assert face.read_bytes() == before
    # two images of one name are both drawn (predict mirrors its inputs; #14), none over the other
    cv2.imwrite(str(photos / "face.png"), np.zeros((8, 8, 3), np.uint8))
    assert main(["predict", str(photos), "--out", str(tmp_path / "drawn")]) == 0
    drawn = sorted(p.name for p in (tmp_path / "drawn/photos").iterdir())
    assert drawn == ["face_jpg.jpg", "face_png.jpg"]


def test_export_never_overwrites_the_checkpoint(tiny_checkpoint, tmp_path, capsys):
    ckpt = tmp_path / "model.pt"
    shutil.copy(tiny_checkpoint, ckpt)
    before = ckpt.read_bytes()
    assert "is an input" in cli(capsys, "export", ckpt, "--out", ckpt)
    assert ckpt.read_bytes() == before
    folder = tmp_path / "m.onnx"
    folder.mkdir()
    assert "is a folder" in cli(capsys, "export", ckpt, "--out", folder)


def test_synth_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "set").write_text("x")
    assert "not a folder" in cli(capsys, "synth", "--out", tmp_path / "set", "--count", "1")


@pytest.mark.parametrize("command", ["eval", "synth", "train"])
def test_read_only_output_is_one_line_before_the_work(command, shared, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    out = ro / "out"
    args = {
        "eval": ["eval", "-m", "mean-shape", "-d", str(shared / "data/real-68pt"), "-o", str(out)],
        "synth": ["synth", "--out", str(out), "--count", "1", "--size", "64"],
        "train": ["train", "--config", str(TINY), "--set", f"log.out_dir={out}"],
    }[command]
    proc = run_read_only(ro, *args)
    err = one_line_error(proc, proc.stderr)
    assert "cannot write there (Read-only file system)" in err or "Permission denied" in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["predict", "", "--out", "drawn"], "predict: error: an empty argument"),
        (["eval", "-m", "default", "--data", ""], "eval: error: --data is empty"),
    ],
)
def test_an_empty_argument_runs_nothing(args, said, tmp_path, capsys, monkeypatch):
    """``Path("")`` is the working folder: ``predict "$IMAGE"`` with the variable unset would
    search every image below it. An empty argument is one line and nothing run."""
    monkeypatch.chdir(tmp_path)
    err = cli(capsys, *args)
    assert said in err and "unset shell variable" in err
    assert list(tmp_path.iterdir()) == []
