"""Face detection: YuNet found like the other assets, the fallback, one score scale, keypoints."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthmarks import Landmarker, locate
from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.eval.metrics import nme
from synthmarks.infer import detect, landmarker
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.infer.landmarker import MIN_CONFIDENCE, TURNED_CONFIDENCE_MARGIN
from synthmarks.landmarks import bounding_box
from synthmarks.pose import wrap


@pytest.fixture(scope="module")
def yunet(shared):
    path = shared / "assets" / locate.YUNET.relpath
    if not path.is_file():
        pytest.skip(f"{path} not in the shared folder")
    return path


@pytest.fixture
def no_assets(monkeypatch, tmp_path):
    """No YuNet anywhere: an empty cache, no shared folder, no variable, no ../shared."""
    monkeypatch.setenv("SYNTHMARKS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SYNTHMARKS_SHARED", str(tmp_path / "none"))
    monkeypatch.delenv(locate.YUNET.env, raising=False)
    monkeypatch.chdir(tmp_path)


def test_yunet_found_in_order(yunet, no_assets, monkeypatch, tmp_path):
    assert locate.find(locate.YUNET) is None
    cached = locate.YUNET.cached()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(yunet.read_bytes())
    assert locate.find(locate.YUNET) == cached
    monkeypatch.setenv("SYNTHMARKS_SHARED", str(yunet.parents[2]))
    assert locate.find(locate.YUNET) == yunet.parents[2] / "assets" / locate.YUNET.relpath
    monkeypatch.setenv(locate.YUNET.env, str(cached))
    assert locate.find(locate.YUNET) == cached
    assert locate.find(locate.YUNET, yunet) == yunet  # the flag first
    with pytest.raises(SynthmarksError, match="nope.onnx: no such file"):
        locate.find(locate.YUNET, tmp_path / "nope.onnx")
    monkeypatch.setenv(locate.YUNET.env, str(tmp_path / "gone.onnx"))
    with pytest.raises(SynthmarksError, match="SYNTHMARKS_YUNET=.*gone.onnx: no such file"):
        locate.find(locate.YUNET)


def test_download_checks_the_bytes(yunet, tmp_path):
    """The real download code, on a file:// URL (no network here)."""
    asset = locate.Asset(**{**locate.YUNET.__dict__, "url": yunet.as_uri()})
    dest = locate.download(asset, tmp_path)
    assert dest == tmp_path / asset.relpath and locate.sha256_of(dest) == asset.sha256
    wrong = locate.Asset(**{**asset.__dict__, "relpath": "x/y.onnx", "sha256": "0" * 64})
    with pytest.raises(SynthmarksError, match="not the expected file"):
        locate.download(wrong, tmp_path)
    assert not (tmp_path / "x/y.onnx").exists()


def test_fallback_says_so_once(no_assets, capsys, monkeypatch):
    monkeypatch.setattr(detect, "_notified", set())
    assert FaceDetector().method == "dlib"
    assert FaceDetector().method == "dlib"
    err = capsys.readouterr().err
    assert err.count("YuNet face detector not found") == 1 and err.count("\n") == 1
    with pytest.raises(SynthmarksError, match="synthmarks download yunet"):
        FaceDetector(DetectorConfig(method="yunet"))


def test_yunet_finds_every_face_of_the_12_panel_photo(yunet, shared):
    photo = shared / "data/real-68pt/helen-afw-train/18489332_4.jpg"
    faces = Landmarker(detector_model=yunet).detect(photo)  # a path is an image too
    assert len(faces) == 12
    assert FaceDetector(DetectorConfig(method="yunet", model=str(yunet))).method == "yunet"


@pytest.mark.parametrize("method", ["yunet", "dlib", "haar"])
def test_scores_are_face_scores(method, yunet, shared):
    cfg = DetectorConfig(method=method, model=str(yunet))
    det = FaceDetector(cfg)
    images = [s.load_image() for s in load_dataset(shared / "data/aflw2000-3d-dev", limit=6)]
    every = [d for img in images for d in det.detect(img, min_score=0.0)]
    assert every and all(0.0 <= d.score <= 1.0 for d in every)
    strict = [d for img in images for d in det.detect(img, min_score=0.9)]
    assert len(strict) == sum(d.score >= 0.9 for d in every)


def test_tilted_faces_are_cut_upright(yunet, shared, monkeypatch):
    """Faces turned to a 50 degree tilt: YuNet's eyes give a first roll (it underestimates large
    ones), the predicted eyes a second, and the upright crops beat plain ones (on these 6 dev
    faces: mean NME 0.044 against 0.047 with the released model, 0.032 against 0.040 with v3's
    stage 3). Without the turned copies, which would find these faces nearer upright in the copy
    turned by a quarter."""
    samples = load_dataset(shared / "data/aflw2000-3d-dev", limit=30)
    samples = [s for s in samples if abs(s.yaw) < 30]
    lm = Landmarker(detector_model=yunet, detect_turns=False, jaw="xray")  # the labels' jaw
    errors = {"upright": [], "plain": []}
    cuts = (("upright", landmarker.UPRIGHT_ROLL), ("plain", 1e9))  # read before it is patched
    for s in samples[:6]:
        img = s.load_image()
        h, w = img.shape[:2]
        M = cv2.getRotationMatrix2D((w / 2, h / 2), landmarker.eye_roll(s.points) + 50, 1.0)
        rotated = cv2.warpAffine(img, M, (w, h))
        truth = s.points @ M[:, :2].T + M[:, 2]
        det = lm.detector.detect(rotated)[0]
        assert abs(landmarker.eye_roll(truth) + 50) < 0.1 and det.roll < -5
        for name, limit in cuts:
            monkeypatch.setattr(landmarker, "UPRIGHT_ROLL", limit)
            face = lm.faces([rotated], [[det]])[0][0]
            errors[name].append(nme(face.landmarks[None], truth[None], "box")[0])
            assert np.allclose(face.box, bounding_box(face.landmarks))
    assert np.mean(errors["upright"]) < 0.05
    assert np.mean(errors["upright"]) < np.mean(errors["plain"])


def test_landmark_confidence_rejects_non_faces(yunet):
    """A patch of noise handed over as a face: the landmark model does not take it for one."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    lm = Landmarker(detector_model=yunet)
    fake = detect.Detection(np.array([100, 60, 200, 180], np.float32), 0.9, source="yunet")
    face = lm.faces([noise], [[fake]])[0][0]
    assert face.confidence < MIN_CONFIDENCE
    assert lm.detect(np.full((240, 320, 3), 127, np.uint8)) == []


def test_the_dog_ranks_below_every_person(yunet, shared):
    """YuNet takes the dog among the children of this photo for a face (score 0.97), and a knee
    (0.93); the landmark model is less sure of the dog than of any of the seven people (0.39
    with 0.2.0, below the check; 0.408 with 0.3.0, which passes the check at 0.40 by 0.008, as a
    crater of the moon photo did with 0.2.0: docs/detection.md; 0.36 with 0.6.0, 0.44 with
    0.6.1, 0.49 with 0.7.0), the knee fails the check, and the seven people stay."""
    photo = shared / "data/real-68pt/helen-afw-train/237815567_3.jpg"
    lm = Landmarker(detector_model=yunet)
    every = lm.detect(photo, min_confidence=0.0)
    dog = [f for f in every if f.box[0] < 1000 < f.box[2] and f.box[1] < 930 < f.box[3]]
    assert len(every) == 9 and len(dog) == 1 and dog[0].score > 0.9
    people = [f for f in every if f.confidence > dog[0].confidence]
    assert len(people) == 7 and min(f.confidence for f in people) > dog[0].confidence + 0.1
    kept = lm.detect(photo)
    assert all(any(np.allclose(f.box, k.box) for k in kept) for f in people)
    # the people, and the dog as far as it passes the check: the knee is dropped
    assert len(kept) == 7 + (dog[0].confidence >= MIN_CONFIDENCE)


def test_a_face_seen_only_turned_must_be_surer(yunet, shared):
    """The copy of this photo turned by a quarter shows YuNet a face in a man's clasped hands
    (face score 0.93, landmark confidence 0.43 with 0.2.0, 0.39 with 0.3.0); a face found only
    in a turned copy must clear the landmark check by TURNED_CONFIDENCE_MARGIN more than an
    upright one, and the three men stay."""
    photo = shared / "data/real-68pt/helen-afw-train/2406586388_3.jpg"
    lm = Landmarker(detector_model=yunet)
    faces = lm.detect(photo)
    assert len(faces) == 3 and min(f.confidence for f in faces) > MIN_CONFIDENCE + 0.1
    every = lm.detect(photo, min_confidence=0.0)
    hands = [f for f in every if f.box[1] > 1100]
    assert len(every) == 4 and len(hands) == 1
    sure = hands[0].confidence
    # a check the hands would pass upright, but not by the margin: dropped
    assert len(lm.detect(photo, min_confidence=sure - TURNED_CONFIDENCE_MARGIN / 2)) == 3
    assert len(lm.detect(photo, min_confidence=sure - TURNED_CONFIDENCE_MARGIN - 0.01)) == 4


def _holding(found: list, points: np.ndarray) -> list:
    """The faces or detections whose box holds the centre of the labelled points."""
    cx, cy = points.mean(axis=0)
    return [f for f in found if f.box[0] < cx < f.box[2] and f.box[1] < cy < f.box[3]]


@pytest.fixture
def seen(monkeypatch):
    """Every detection the detector's suppression is handed (all four copies, before it)."""
    found: list[detect.Detection] = []
    real = detect.nms

    def spy(items, thr=0.3):
        found.extend(d for d in items if isinstance(d, detect.Detection))
        return real(items, thr)

    monkeypatch.setattr(detect, "nms", spy)
    return found


def test_a_face_on_its_side_or_upside_down_is_found(yunet, shared, monkeypatch):
    """A dev face (yaw 41) that YuNet misses turned by 90, 180 and 270 degrees is found in the
    turned copies of the image, cut at the turn from the first pass on, and gets what it gets
    upright."""
    sample = load_dataset(shared / "data/aflw2000-3d-dev", limit=7)[6]  # image00078
    lm = Landmarker(detector_model=yunet, jaw="xray")  # AFLW2000-3D's jaw
    first: list[np.ndarray] = []  # the crop angles of each detect's first model pass
    real_pass = lm._pass

    def spy(rgb, boxes, angles):
        if not first:
            first.append(np.array(angles))
        return real_pass(rgb, boxes, angles)

    monkeypatch.setattr(lm, "_pass", spy)
    alone = Landmarker(detector_model=yunet, detect_turns=False)
    plain = Landmarker(detector_model=yunet, roll="none")
    assert lm.detect_turns and not plain.detect_turns and not plain.detector.cfg.turns
    upright = None
    for deg in (0, 90, 180, 270):
        turned = sample.rotated(deg)
        image, truth = turned.load_image(), turned.points[:68]
        first.clear()
        faces = _holding(lm.detect(image), truth)
        assert len(faces) == 1, deg
        # the face turned counter-clockwise by deg is cut turned back by deg (and its tilt)
        assert np.abs(wrap(first[0] + deg)).min() < 30, (deg, first[0])
        assert detect.iou(faces[0].box, bounding_box(truth)) > 0.7
        err = nme(faces[0].landmarks[None], truth[None], "box")[0]
        upright = err if upright is None else upright
        assert err < 0.06 and err == pytest.approx(upright, abs=0.002), deg
        # what the detector misses without the turned copies: on its side; upside down YuNet
        # finds it at face score 0.50, which 0.5.0's landmark check dropped and 0.6.0's keeps
        if deg in (90, 270):
            assert not _holding(alone.detect(image), truth), deg


def test_upright_faces_are_unchanged(yunet, shared, seen):
    """The 12 upright faces of a group photo: the upside-down copy finds most of them again
    (scores up to 0.98), yet each is kept from the upright copy and its landmarks are the
    ones a single upright look gives."""
    photo = shared / "data/real-68pt/helen-afw-train/18489332_4.jpg"
    faces = Landmarker(detector_model=yunet).detect(photo)
    assert sum(d.turn != 0 and d.score >= 0.5 for d in seen) >= 6
    alone = Landmarker(detector_model=yunet, detect_turns=False).detect(photo)
    assert len(faces) == len(alone) == 12
    for f, g in zip(faces, alone, strict=True):
        assert f.score == g.score and np.allclose(f.landmarks, g.landmarks, atol=1e-3)


def test_a_face_seen_in_two_turns_is_returned_once(yunet, shared, seen):
    """Faces tilted between two quarter turns are found in several copies: the detector keeps
    one detection of each, and where two copies' boxes are too unlike for that (image00107 at
    45 degrees), the landmarks still give one face."""
    samples = load_dataset(shared / "data/aflw2000-3d-dev", limit=8)
    lm = Landmarker(detector_model=yunet, jaw="xray")  # AFLW2000-3D's jaw
    for sample, deg in ((samples[0], 60), (samples[7], 45)):
        turned = sample.rotated(deg)
        image, truth = turned.load_image(), turned.points[:68]
        seen.clear()
        faces = _holding(lm.detect(image), truth)
        copies = {d.turn for d in _holding(seen, truth) if d.score >= 0.5}
        assert len(copies) >= 2, sample.name
        assert len(faces) == 1, sample.name
        if sample is samples[0]:  # boxes alike enough for the detector's own suppression
            assert len(_holding(lm.detector.detect(image), truth)) == 1
        assert nme(faces[0].landmarks[None], truth[None], "box")[0] < 0.06
