"""The outline-jaw and pose heads end to end on tiny cartoon faces (configs/heads_smoke.yaml):
targets from meta.json, a checkpoint and ONNX file that carry ``outputs``, Landmarker's jaw
choice and pose, eval's jaw and pose report; sets without the labels are refused in one line."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from synthmarks.cli import main
from synthmarks.errors import SynthmarksError, SynthmarksWarning
from synthmarks.models.checkpoint import read_checkpoint
from synthmarks.pose import generator_to_aflw
from synthmarks.train.config import load_config
from synthmarks.train.trainer import train

HEADS = Path(__file__).resolve().parents[2] / "configs" / "heads_smoke.yaml"


def add_meta(root: Path, jaws: bool = True) -> Path:
    """meta.json beside each fake face: a pose, and both jaws (the outline one pulled inwards,
    so the two conventions differ)."""
    rng = np.random.default_rng(1)
    for ldmks in sorted(root.glob("*_ldmks.txt")):
        pts = np.loadtxt(ldmks)
        centre = pts[:68].mean(0)
        outline = centre + (pts[:17] - centre) * 0.9
        meta: dict = {"pose_deg": rng.uniform(-30, 30, 3).round(2).tolist()}
        if jaws:
            meta["jaws"] = {"xray": pts[:17].tolist(), "outline": outline.tolist()}
        ldmks.with_name(ldmks.name.replace("_ldmks.txt", "_meta.json")).write_text(json.dumps(meta))
    return root


@pytest.fixture(scope="module")
def heads_faces(tmp_path_factory, fake_faces_writer) -> Path:
    return add_meta(fake_faces_writer(tmp_path_factory.mktemp("heads") / "train", 32))


@pytest.fixture(scope="module")
def heads_checkpoint(heads_faces, tmp_path_factory, overrides_for) -> Path:
    tmp = tmp_path_factory.mktemp("run")
    cfg = load_config(HEADS, overrides_for(heads_faces, tmp))
    train(cfg)
    return tmp / "runs" / "heads_smoke" / "best.pt"


def test_reader_converts_generator_pose_and_reads_both_jaws(heads_faces):
    from synthmarks.data.readers import load_dataset

    s = load_dataset(heads_faces, limit=1)[0]
    meta = json.loads(s.image_path.with_name(s.name + "_meta.json").read_text())
    np.testing.assert_allclose(s.pose, generator_to_aflw(meta["pose_deg"]), atol=1e-4)
    assert s.jaws is not None and s.jaws["outline"].shape == (17, 2)


def test_checkpoint_declares_outputs_and_predicts_pose(heads_checkpoint):
    from synthmarks.infer.landmarker import Landmarker

    ckpt = read_checkpoint(heads_checkpoint)
    assert ckpt["outputs"] == {"landmarks": 68, "outline_jaw": True, "pose": True}
    assert ckpt["model_config"]["outputs"]["outline_jaw"]
    assert len(ckpt["model_config"]["mean_shape"]) == 85
    image = np.zeros((96, 96, 3), np.uint8)
    box = (20, 20, 70, 75)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SynthmarksWarning)  # it has an outline head: no warning
        outline = Landmarker(heads_checkpoint, backend="torch", roll="none")
    assert outline.jaw == "outline"  # the default where the model has an outline head
    # one pass each (roll="none"): on a blank image the quarter-turn search may settle either way
    xray = Landmarker(heads_checkpoint, backend="torch", jaw="xray", roll="none")
    p_out, _, pose = outline.predict_all([image], np.array([box], np.float32))
    p_x = xray.predict(image, box)
    assert p_out.shape == (1, 68, 2) and pose is not None and pose.shape == (1, 3)
    np.testing.assert_allclose(p_out[0, 17:], p_x[17:], atol=1e-4)  # only the jaw differs
    assert np.abs(p_out[0, :17] - p_x[:17]).max() > 1e-3
    np.testing.assert_allclose(outline.pose(image, box), pose[0], atol=1e-4)
    onnx = Landmarker(heads_checkpoint, backend="onnx", roll="none")
    np.testing.assert_allclose(onnx.pose(image, box), pose[0], atol=1e-2)


def test_released_model_gives_both_jaws_and_the_pose():
    """The shipped model has both heads: the outline jaw by default (what predict, video and live
    draw), the x-ray jaw on request, and a head pose per face, from both backends."""
    from synthmarks.infer.landmarker import Landmarker

    image = np.zeros((96, 96, 3), np.uint8)
    box = (20, 20, 70, 75)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SynthmarksWarning)  # the default asks nothing it lacks
        lm = Landmarker(backend="torch", roll="none")
        xray = Landmarker(backend="torch", jaw="xray", roll="none")
    assert lm.jaw == "outline" and xray.jaw == "xray" and lm.layout.pose
    np.testing.assert_allclose(
        lm.predict(image, box)[17:], xray.predict(image, box)[17:], atol=1e-4
    )
    pose = lm.pose(image, box)
    assert pose.shape == (3,) and np.all(np.abs(pose) <= 180)
    np.testing.assert_allclose(Landmarker(roll="none").pose(image, box), pose, atol=1e-2)


def test_a_model_without_the_heads_gives_the_xray_jaw_and_warns_only_when_asked(tiny_checkpoint):
    from synthmarks.infer.landmarker import Landmarker

    with warnings.catch_warnings():
        warnings.simplefilter("error", SynthmarksWarning)  # the default asks nothing it lacks
        assert Landmarker(tiny_checkpoint, backend="torch").jaw == "xray"
    with pytest.warns(SynthmarksWarning, match="no outline jaw"):
        lm = Landmarker(tiny_checkpoint, backend="torch", jaw="outline")
    assert lm.jaw == "xray" and not lm.layout.pose
    with pytest.raises(SynthmarksError, match="no pose head"):
        lm.pose(np.zeros((96, 96, 3), np.uint8), (20, 20, 70, 75))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SynthmarksWarning)
        assert Landmarker(tiny_checkpoint, backend="torch", jaw="xray").jaw == "xray"
    with pytest.raises(SynthmarksError, match="jaw must be"):
        Landmarker(tiny_checkpoint, backend="torch", jaw="chin")


def test_training_validation_scores_the_outline_jaw_and_the_pose(heads_checkpoint):
    """Each epoch's row scores the outline head against the hold-out's outline jaw and the pose
    head in degrees (the fake poses span +-30 deg: a radian figure would be under 1)."""
    import csv

    rows = list(csv.DictReader((heads_checkpoint.parent / "log.csv").open()))
    last = rows[-1]
    outline, xray = float(last["val_synth_nme_outline"]), float(last["val_synth_nme"])
    assert np.isfinite(outline) and outline != xray
    assert 1.0 < float(last["val_synth_pose_mae"]) < 60.0


def test_eval_reports_jaw_and_pose(heads_checkpoint, heads_faces, tmp_path):
    from synthmarks.eval.evaluate import EvalConfig, evaluate

    rep = evaluate(
        EvalConfig(heads_faces, [str(heads_checkpoint)], out=None, limit=8, bootstrap_resamples=100)
    )
    r = rep["models"][str(heads_checkpoint)]
    assert rep["jaw"] == "xray" and r["jaw"] == "xray"  # Face Synthetics layout: x-ray
    assert r["pose"]["count"] == 8 and r["pose"]["mae"] >= 0
    rep = evaluate(
        EvalConfig(
            heads_faces, ["mean-shape"], out=None, limit=8, jaw="outline", bootstrap_resamples=100
        )
    )
    assert rep["jaw"] == "outline" and "pose" not in rep["models"]["mean-shape"]


def test_json_and_csv_carry_pose():
    from synthmarks.infer.landmarker import Face
    from synthmarks.infer.results import CSV_HEADER, csv_rows, face_record, image_record

    pose = np.array([1.0, -2.0, 3.0], np.float32)
    face = Face(np.zeros(4), 0.9, np.zeros((68, 2)), 0.5, None, pose)
    rec = image_record("face.png", (96, 96), [face], {"model": "m", "model_version": "v"})
    assert face_record(face, 0)["pose"] == {"pitch": 1.0, "yaw": -2.0, "roll": 3.0}
    row = dict(zip(CSV_HEADER, csv_rows(rec)[0], strict=True))
    assert (row["pitch"], row["yaw"], row["roll"]) == (1.0, -2.0, 3.0)
    plain = image_record("f.png", (96, 96), [Face(np.zeros(4), 0.9, np.zeros((68, 2)), 0.5)], {})
    plain |= {"model": "m", "model_version": "v"}
    row = dict(zip(CSV_HEADER, csv_rows(plain)[0], strict=True))
    assert (row["pitch"], row["yaw"], row["roll"]) == ("", "", "")  # no pose head: empty


def test_sets_without_jaws_are_refused_in_one_line(
    tmp_path, capsys, fake_faces_writer, overrides_for
):
    old = add_meta(fake_faces_writer(tmp_path / "old", 6), jaws=False)
    sets = [f"--set={s}" for s in overrides_for(old, tmp_path)]
    assert main(["train", "--config", str(HEADS), *sets]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--relabel" in err and "no 'jaws'" in err


def test_heatmap_model_with_heads_is_a_config_error(heads_faces, tmp_path, overrides_for):
    sets = overrides_for(heads_faces, tmp_path) + ["model.name=hourglass2"]
    with pytest.raises(SynthmarksError, match="learns neither"):
        load_config(HEADS, sets)
