"""Bad label files in every format: named, skipped (or, with --strict, the first one stops the
run), never a NaN metric, an OverflowError or an invalid report.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from scipy.io import loadmat, savemat

from synthmarks.cli import main
from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.fileio import write_json


def strict_json(text: str):
    """json.loads that rejects NaN / Infinity, which Python's json accepts but JSON does not."""

    def refuse(token: str):
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def copy_pairs(src: Path, dst: Path, label_glob: str, n: int) -> list[Path]:
    """The first ``n`` label files of ``src`` and their images, copied into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    labels = sorted(src.glob(label_glob))[:n]
    for lab in labels:
        shutil.copy(lab, dst)
        for f in src.glob(lab.name.split(".")[0].removesuffix("_ldmks") + ".*"):
            shutil.copy(f, dst)
    return [dst / lab.name for lab in labels]


def spoil_pts(path: Path, row: int, value: str) -> None:
    lines = path.read_text().splitlines()
    start = lines.index("{") + 1
    lines[start + row] = value
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def pts_set(shared, tmp_path) -> tuple[Path, dict[str, str]]:
    """Five faces of real-68pt, three with bad labels: what each bad one must be reported as."""
    labels = copy_pairs(shared / "data/real-68pt/helen-afw-train", tmp_path / "pts", "*.pts", 5)
    spoil_pts(labels[0], 5, "nan 120.0")
    spoil_pts(labels[1], 30, "inf 88.0")
    spoil_pts(labels[2], 0, "-9000 40")
    return labels[0].parent, {
        labels[0].name: "not finite",
        labels[1].name: "not finite",
        labels[2].name: "far outside",
    }


def test_eval_names_every_bad_file_and_scores_the_rest(pts_set, shared, tmp_path, capsys):
    data, expected = pts_set
    out = tmp_path / "out"
    model = f"mean-shape:{shared / 'data/real-68pt'}"
    code = main(["eval", "-m", model, "-d", str(data), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err  # before the fix: inf raised OverflowError, NaN scored as "nan"
    for name, why in expected.items():
        assert any(name in ln and why in ln for ln in err.splitlines()), (name, err)
    assert "3 bad label file(s) skipped, 2 scored" in err
    rep = strict_json((out / "report.json").read_text())
    assert rep["count"] == 2 and len(rep["skipped"]) == 3
    model = next(iter(rep["models"].values()))
    assert 0 < model["nme"] < 1 and 0 <= model["failure_rate"] <= 1


def test_strict_stops_at_the_first_bad_file(pts_set, tmp_path, capsys):
    data, expected = pts_set
    code = main(["eval", "-m", "mean-shape", "-d", str(data), "-o", str(tmp_path), "--strict"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and sorted(expected)[0] in err, err


def test_nan_in_mat_and_facesynthetics_labels(shared, tmp_path):
    mats = copy_pairs(shared / "data/aflw2000-3d-dev", tmp_path / "mat", "*.mat", 3)
    for path, key, index in ((mats[1], "pt3d_68", (0, 7)), (mats[2], "Pose_Para", (0, 1))):
        mat = loadmat(str(path))
        mat[key][index] = float("nan")
        savemat(str(path), {k: v for k, v in mat.items() if not k.startswith("__")})
    syn = copy_pairs(shared / "data/facesynthetics-100", tmp_path / "syn", "*_ldmks.txt", 2)
    rows = syn[0].read_text().splitlines()
    syn[0].write_text("\n".join(rows[:3] + ["nan 4.0"] + rows[4:]) + "\n")

    bad: list = []
    assert len(load_dataset(mats[0].parent, bad=bad)) == 1
    assert [f for f, _ in bad] == mats[1:]
    assert "first point 8" in bad[0][1] and "pose is not finite" in bad[1][1]
    bad = []
    assert len(load_dataset(syn[0].parent, bad=bad)) == 1
    assert bad[0][0] == syn[0] and "first point 4" in bad[0][1]
    with pytest.raises(SynthmarksError, match=syn[0].name):
        load_dataset(syn[0].parent)  # with no list to collect them, the first is an error


def test_all_bad_is_one_line(pts_set, tmp_path, capsys):
    data, _ = pts_set
    for p in data.glob("*.pts"):
        spoil_pts(p, 1, "nan nan")
    assert main(["eval", "-m", "mean-shape", "-d", str(data), "-o", str(tmp_path)]) == 2
    assert "all 5 label files are bad" in capsys.readouterr().err


def test_report_json_is_valid_even_with_nan_metrics(tmp_path):
    write_json(tmp_path / "r.json", {"nme": float("nan"), "per_image": [1.0, float("inf")]})
    assert strict_json((tmp_path / "r.json").read_text()) == {"nme": None, "per_image": [1.0, None]}
