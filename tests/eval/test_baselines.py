"""Comparison methods: the packaged MediaPipe-to-iBUG map, the MediaPipe and dlib adapters.

The main environment has no mediapipe (it needs numpy < 2), so its adapter tests skip there and
run in the compare environment: .venv-compare/bin/python -m pytest tests/eval/test_baselines.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from synthmarks.errors import SynthmarksError
from synthmarks.eval import baselines
from synthmarks.eval.mediapipe_map import (
    MESH_VERTICES,
    MESH_VERTICES_REFINED,
    PACKAGED,
    Mapping,
    fit_mapping,
    load_mapping,
    main,
)
from synthmarks.eval.metrics import nme
from synthmarks.landmarks import NUM_POINTS, bounding_box

needs_mediapipe = pytest.mark.skipif(
    "mediapipe" not in baselines.available(),
    reason="mediapipe 0.10.21 is not installed here (it needs numpy < 2: make compare-env)",
)
needs_dlib = pytest.mark.skipif(
    "dlib" not in baselines.available(),
    reason="dlib or its 68-point model is not installed (pip install -e '.[compare]')",
)


def test_packaged_map_is_valid():
    raw = json.loads(PACKAGED.read_text())
    assert [p["ibug"] for p in raw["points"]] == list(range(NUM_POINTS))
    mapping = load_mapping()
    assert len(mapping.vertices) == NUM_POINTS
    for v, w in zip(mapping.vertices, mapping.weights, strict=True):
        assert 1 <= len(v) <= 3 and len(v) == len(w)
        assert all(0 <= i < MESH_VERTICES for i in v)  # mesh vertices only, no iris points
        assert min(w) > 0 and sum(w) == pytest.approx(1.0, abs=1e-6)
    # fitted on synthetic faces only, and says how well
    assert all(s.get("jaw_convention") == "xray" for s in raw["fitted_on"]["sources"])
    assert 0 < raw["fit_error"]["box_nme_mean"] < 0.1
    m = mapping.matrix()
    assert m.shape == (NUM_POINTS, MESH_VERTICES_REFINED)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-6)


def test_map_applies_its_weights_and_keeps_nan():
    rng = np.random.default_rng(0)
    mesh = rng.uniform(0, 100, (2, MESH_VERTICES_REFINED, 2))
    mapping = Mapping(((3,),) + ((10, 20),) * 67, ((1.0,),) + ((0.25, 0.75),) * 67)
    out = mapping.apply(mesh)
    assert out.shape == (2, NUM_POINTS, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], mesh[:, 3], rtol=1e-6)
    np.testing.assert_allclose(out[:, 5], 0.25 * mesh[:, 10] + 0.75 * mesh[:, 20], rtol=1e-6)
    mesh[1, 3] = np.nan
    assert np.isnan(mapping.apply(mesh)[1, 0]).all()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["points"].pop(), "68 entries"),
        (
            lambda d: d["points"][4].update(vertices=[478] * len(d["points"][4]["weights"])),
            "out of range",
        ),
        (
            lambda d: d["points"][4].update(weights=[0.9] * len(d["points"][4]["vertices"])),
            "convex",
        ),
        (lambda d: d["points"][4].update(ibug=3), "once each"),
        (lambda d: d.pop("points"), "not a MediaPipe-to-iBUG map"),
    ],
)
def test_bad_map_files_are_refused(tmp_path, edit, message):
    data = json.loads(PACKAGED.read_text())
    edit(data)
    path = tmp_path / "map.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SynthmarksError, match=message):
        load_mapping(path)


def test_fit_recovers_a_known_map():
    """Meshes whose 68 points are exact vertex combinations (a vertex alone, or blended with its
    nearest neighbour, as on a real mesh): the fit finds them, with an error of ~0."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 200, (MESH_VERTICES, 2))
    meshes = base + rng.normal(0, 8, (60, MESH_VERTICES, 2))
    dist = np.linalg.norm(base[:, None] - base[None], axis=-1) + np.eye(MESH_VERTICES) * 1e9
    truth = Mapping(
        tuple((k,) if k % 2 else (k, int(dist[k].argmin())) for k in range(NUM_POINTS)),
        tuple((1.0,) if k % 2 else (0.7, 0.3) for k in range(NUM_POINTS)),
    )
    gts = truth.apply(meshes).astype(np.float64)
    fits = fit_mapping(meshes, gts, max_vertices=2)
    assert [f.vertices[0] for f in fits] == [k for k in range(NUM_POINTS)]
    assert max(f.nme for f in fits) < 1e-3


def test_refit_refuses_folders_not_made_by_synth(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "m.json")]) == 2
    assert "synth_run.json" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_available_lists_known_names_without_importing_them():
    before = {"mediapipe", "dlib"} & set(sys.modules)
    names = baselines.available()
    assert set(names) <= set(baselines.NAMES)
    assert {"mediapipe", "dlib"} & set(sys.modules) == before


def test_unknown_method_is_refused():
    with pytest.raises(SynthmarksError, match="unknown comparison method"):
        baselines.load("openface")


@pytest.mark.skipif("mediapipe" in baselines.available(), reason="mediapipe is installed here")
def test_mediapipe_missing_is_a_clear_error():
    with pytest.raises(SynthmarksError, match="make compare-env"):
        baselines.load("mediapipe")


@pytest.fixture(scope="module")
def frontal_faces(shared: Path) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Three near-frontal AFLW2000-3D dev faces: images, landmark boxes, ground truth."""
    from synthmarks.data.readers import load_dataset

    samples = load_dataset(shared / "data/aflw2000-3d-dev", limit=30)
    samples = sorted(samples, key=lambda s: abs(s.yaw))[:3]
    gts = np.stack([s.points[:NUM_POINTS] for s in samples])
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    return [s.load_image() for s in samples], boxes, gts


@needs_mediapipe
def test_mediapipe_adapter_on_frontal_faces(frontal_faces):
    images, boxes, gts = frontal_faces
    method = baselines.load("mediapipe")
    preds = method.predict_batch(images, boxes)
    assert preds.shape == (3, NUM_POINTS, 2) and preds.dtype == np.float32
    assert method.faces == 3 and method.misses == 0
    assert nme(preds, gts, "box").max() < 0.08
    method.close()


@needs_mediapipe
def test_mediapipe_miss_falls_back_to_the_mean_shape(capsys):
    from synthmarks.models.reference import MeanShape

    method = baselines.load("mediapipe")
    box = np.array([[60, 60, 190, 200]], np.float32)
    preds = method.predict_batch([np.zeros((256, 256, 3), np.uint8)], box)
    assert method.misses == 1
    np.testing.assert_allclose(preds, MeanShape.from_spec("mean-shape").predict_batch([], box))
    method.close()
    method.close()  # idempotent: one note
    assert capsys.readouterr().err.count("no face found in 1 of 1 crops") == 1


@needs_dlib
def test_dlib_adapter_on_frontal_faces(frontal_faces):
    images, boxes, gts = frontal_faces
    preds = baselines.load("dlib").predict_batch(images, boxes)
    assert preds.shape == (3, NUM_POINTS, 2)
    assert nme(preds, gts, "box").max() < 0.08
