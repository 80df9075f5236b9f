"""`synthmarks eval` end to end with the mean-shape reference, and its error paths."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthmarks.cli import main


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("dataset", ["aflw2000-3d-dev", "real-68pt", "facesynthetics-100"])
def test_eval_mean_shape_writes_table_json_plot_sheet(shared, tmp_path, capsys, dataset):
    fit_on = shared / "data/facesynthetics-100"
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        [
            "eval",
            "--model",
            f"mean-shape:{fit_on}",
            "--data",
            str(shared / "data" / dataset),
            "--out",
            str(out),
            "--worst",
            "4",
        ],
        capsys,
    )
    assert code == 0
    assert "NME" in stdout and "AUC" in stdout
    rep = json.loads((out / "report.json").read_text())
    model = next(iter(rep["models"].values()))
    assert 0.01 < model["nme"] < 0.5
    assert (out / "ced.png").stat().st_size > 1000
    assert len(list(out.glob("worst_*.png"))) == 1
    lo, hi = model["nme_ci95"]
    assert lo < model["nme"] < hi
    assert f"{100 * model['nme']:.2f} [{100 * lo:.2f}, {100 * hi:.2f}]" in stdout
    boot = rep["bootstrap"]
    assert (boot["level"], boot["resamples"], boot["seed"]) == (0.95, 2000, 0)
    if dataset == "aflw2000-3d-dev":
        assert rep["norm"] == "box" and "yaw [0,30)" in stdout
        assert sum(model["per_pose"][b]["count"] for b in ("[0,30)", "[30,60)", "[60,90]")) == 200
        balanced = model["per_pose"]["balanced"]
        lo, hi = balanced["ci95"]
        assert lo < balanced["nme"] < hi
        assert f"{100 * balanced['nme']:.2f} [{100 * lo:.2f}, {100 * hi:.2f}]" in stdout
    else:
        assert "per_pose" not in model
    if dataset == "real-68pt":
        assert rep["norm"] == "interocular"


def test_two_models_in_one_run(shared, tmp_path, capsys):
    """Each model after the first is also scored against it on the same faces: the mean of the
    per-face differences, negative where it is more accurate, with a paired interval."""
    data = shared / "data/aflw2000-3d-dev"
    first, second = f"mean-shape:{shared / 'data/real-68pt'}", "default"
    code, stdout, _ = run_cli(
        [
            "eval",
            "-m",
            first,
            "-m",
            second,
            "--roll",
            "none",
            "--data",
            str(data),
            "--limit",
            "20",
            "--out",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0
    rep = json.loads((tmp_path / "report.json").read_text())
    assert len(rep["models"]) == 2 and rep["count"] == 20
    a, b = rep["models"][first], rep["models"][second]
    assert "vs_first" not in a
    vs = b["vs_first"]
    assert vs["model"] == first
    assert vs["nme_diff"] == pytest.approx(b["nme"] - a["nme"])
    assert vs["ci95"][0] <= vs["nme_diff"] <= vs["ci95"][1] < 0  # the model beats the mean shape
    balanced = b["per_pose"]["balanced"]["nme"] - a["per_pose"]["balanced"]["nme"]
    assert vs["balanced_diff"] == pytest.approx(balanced)
    lo, hi = vs["ci95"]
    assert f"{second} - {first}, paired on the same faces: {100 * vs['nme_diff']:+.2f}" in stdout
    assert f"[{100 * lo:+.2f}, {100 * hi:+.2f}]" in stdout


def test_table_of_a_report_without_intervals():
    """report.json files written before the intervals existed still print, with bare numbers."""
    from synthmarks.eval.report import format_table

    pose = {"[0,30)": {"nme": 0.04, "count": 2}, "balanced": {"nme": 0.04, "count": 2}}
    model = {"nme": 0.04, "failure_rate": 0.0, "auc": 0.5, "images_per_second": 10.0}
    rep = {"threshold": 0.07, "norm": "box", "data": "d", "format": "aflw2000", "count": 2}
    text = format_table(rep | {"models": {"m": model | {"per_pose": pose}}})
    assert "4.00" in text and "[" not in text.replace("[0,30)", "")


def test_bad_bootstrap_setting_is_one_line(shared, tmp_path, capsys):
    code, _, err = run_cli(
        [
            "eval",
            "-m",
            "mean-shape",
            "-d",
            str(shared / "data/real-68pt"),
            "-o",
            str(tmp_path),
            "--set",
            "bootstrap_resamples=5",
        ],
        capsys,
    )
    assert code == 2 and "bootstrap_resamples must be at least 100" in err
    assert err.count("\n") == 1


def write_pts_face(folder: Path, name: str, image_bytes: bytes) -> None:
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{x:.1f} {y:.1f}" for x, y in rng.uniform(20, 80, (68, 2)))
    (folder / f"{name}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{rows}\n}}\n")
    (folder / f"{name}.jpg").write_bytes(image_bytes)


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "no annotations found"),
        (
            lambda d: write_pts_face(d, "a", b"\xff\xd8 definitely not a jpeg"),
            "a.jpg: not a readable",
        ),
        (
            lambda d: (d / "b.pts").write_text("version: 1\n{\n1 2\n}\n"),
            "b.pts: expected 68 points",
        ),
    ],
    ids=["empty folder", "corrupt image", "malformed annotation"],
)
def test_eval_errors_are_one_line(tmp_path, capsys, setup, message):
    data = tmp_path / "data"
    data.mkdir()
    setup(data)
    mean_shape = np.zeros((68, 2), np.float32)
    np.save(tmp_path / "shape.npy", mean_shape)
    code, _, err = run_cli(
        [
            "eval",
            "--model",
            f"mean-shape:{tmp_path / 'shape.npy'}",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_missing_path_in_a_real_process(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthmarks",
            "eval",
            "--model",
            "mean-shape",
            "--data",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_missing_model_file(tmp_path, shared, capsys):
    code, _, err = run_cli(
        ["eval", "--model", str(tmp_path / "nope.pt"), "--data", str(shared / "data/real-68pt")],
        capsys,
    )
    assert code == 2 and "model file not found" in err


def test_eval_rotate_names_the_turn_and_keeps_its_own_folder(shared, tmp_path, capsys, monkeypatch):
    """``--rotate 90`` scores turned copies, says so in the title and report.json, and by
    default writes to <data>-rot90 beside (never over) the upright report."""
    monkeypatch.chdir(tmp_path)
    data = shared / "data/aflw2000-3d-dev"
    args = ["eval", "-m", "default", "-d", str(data), "--limit", "8", "--worst", "0"]
    code, stdout, _ = run_cli(args + ["--rotate", "90", "--roll", "none"], capsys)
    assert code == 0 and "rotated 90 deg, roll none" in stdout
    rep = json.loads((tmp_path / "runs/eval/aflw2000-3d-dev-rot90/report.json").read_text())
    assert rep["rotate_deg"] == 90.0 and rep["roll"] == "none"
    assert rep["models"]["default"]["nme"] > 0.2  # read on its side: lost
    code, stdout, _ = run_cli(args + ["--rotate", "90"], capsys)
    assert code == 0
    rep = json.loads((tmp_path / "runs/eval/aflw2000-3d-dev-rot90/report.json").read_text())
    assert rep["roll"] == "auto" and rep["models"]["default"]["nme"] < 0.08


def test_eval_rejects_a_bad_roll(shared, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["eval", "-d", str(shared / "data/aflw2000-3d-dev"), "--roll", "maybe"])
    assert exc.value.code != 0
