"""``synthmarks eval``: crop each face from its ground-truth landmark box, predict, score.

The crop protocol is AFLW2000-3D's standard one: the model receives the tight box of the true 68
points and applies its own margin. Several models can be scored in one run on identical crops.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.data.sample import Sample
from synthmarks.errors import SynthmarksError, SynthmarksWarning
from synthmarks.eval import metrics
from synthmarks.fileio import prepare_out_dir
from synthmarks.infer.landmarker import BACKENDS, ROLLS
from synthmarks.landmarks import JAWS, NUM_POINTS, bounding_box
from synthmarks.pose import rotate_pose

#: normalisation that fits each format: box for AFLW2000-3D and synthetic sets (which hold profiles,
#: where the eye corners nearly meet), inter-ocular for 300-W style .pts.
DEFAULT_NORM = {"aflw2000": "box", "pts": "interocular", "facesynthetics": "box"}
DEFAULT_THRESHOLD = {"box": 0.07, "interocular": 0.08, "interpupil": 0.10, "diagonal": 0.05}
#: each format's own jaw convention: AFLW2000-3D's points project a fitted 3-D face and Face
#: Synthetics labels the true jaw (x-ray); 300-W-style annotators drew the visible outline
DEFAULT_JAW = {"aflw2000": "xray", "pts": "outline", "facesynthetics": "xray"}


FLIP_SUFFIX = "+flip"


@dataclass
class EvalConfig:
    """Everything one evaluation run needs; ``out`` None writes no files."""

    data: Path
    models: list[str] = field(default_factory=lambda: ["default"])
    format: str | None = None
    norm: str = "auto"  # or one of metrics.NORMALISERS
    threshold: float | None = None  # None: DEFAULT_THRESHOLD of the normalisation
    out: Path | None = None
    batch_size: int = 32
    limit: int | None = None
    worst: int = 16
    backend: str = "auto"
    #: jaw convention of the predictions: auto (the dataset's own, DEFAULT_JAW), outline, xray
    jaw: str = "auto"
    strict: bool = False  # stop at the first bad label file instead of skipping and listing it
    #: turn every face (image and labels) by this many degrees, counter-clockwise: rolled copies
    rotate: float = 0.0
    #: the Landmarker's in-plane rotation search: "auto" or "none" (one pass, as training scores)
    roll: str = "auto"
    #: resamples of the 95 % bootstrap intervals (fixed seed: a report is reproducible)
    bootstrap_resamples: int = metrics.BOOTSTRAP_RESAMPLES

    def validate(self) -> EvalConfig:
        """Raise a one-line error for a setting no run can use."""
        if self.norm != "auto" and self.norm not in metrics.NORMALISERS:
            raise SynthmarksError(
                f"unknown normalisation {self.norm!r} (auto, {', '.join(metrics.NORMALISERS)})"
            )
        if self.batch_size < 1 or (self.limit is not None and self.limit < 1) or self.worst < 0:
            raise SynthmarksError("batch_size and limit must be positive, worst not negative")
        if self.bootstrap_resamples < 100:
            raise SynthmarksError(
                f"bootstrap_resamples must be at least 100 (2.5 % tails need that many draws), "
                f"got {self.bootstrap_resamples}"
            )
        if self.jaw not in ("auto", *JAWS):
            raise SynthmarksError(f"unknown jaw {self.jaw!r} (auto, {', '.join(JAWS)})")
        if self.roll not in ROLLS:
            raise SynthmarksError(f"unknown roll {self.roll!r} ({', '.join(ROLLS)})")
        if not np.isfinite(self.rotate):
            raise SynthmarksError(f"rotate must be a finite angle in degrees, got {self.rotate}")
        if self.backend not in BACKENDS:
            raise SynthmarksError(f"unknown backend {self.backend!r} ({', '.join(BACKENDS)})")
        return self


@dataclass
class ModelResult:
    name: str
    predictions: np.ndarray  # (M, 68, 2)
    seconds: float  # time spent inside predict_batch
    pose: np.ndarray | None = None  # (M, 3) degrees, for a model with a pose head

    def images_per_second(self) -> float:
        return len(self.predictions) / max(self.seconds, 1e-9)


def load_predictor(spec: str, backend: str = "auto", jaw: str = "xray", roll: str = "auto") -> Any:
    """A synthmarks model spec, or the name of a comparison method (dlib, mediapipe).

    A ``+flip`` suffix (``default+flip``, ``runs/x/best.pt+flip``) scores the model with
    horizontal-flip test-time averaging, so one run can compare it with the plain model.
    ``jaw`` is the convention asked of a synthmarks model; one without an outline head answers
    with its x-ray jaw, which its ``jaw`` attribute (and the report) states, so the warning
    Landmarker gives a user is not repeated here. ``roll`` is the Landmarker's (comparison
    methods have their own ways, or none).
    """
    if spec in ("dlib", "mediapipe"):
        from synthmarks.eval import baselines

        return baselines.load(spec)
    from synthmarks.infer.landmarker import Landmarker

    flip = spec.endswith(FLIP_SUFFIX)
    base = spec[: -len(FLIP_SUFFIX)] if flip else spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynthmarksWarning)
        return Landmarker(base, backend=backend, flip_tta=flip, jaw=jaw, roll=roll)


def run_model(
    predictor: Any, samples: list[Sample], boxes: np.ndarray, batch_size: int, desc: str
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """(points (M, 68, 2), seconds in the model, pose (M, 3) degrees or None)."""
    preds = np.zeros((len(samples), NUM_POINTS, 2), np.float32)
    has_pose = bool(getattr(getattr(predictor, "layout", None), "pose", False))
    poses = np.zeros((len(samples), 3), np.float32) if has_pose else None
    spent = 0.0
    for start in tqdm(range(0, len(samples), batch_size), desc=desc, unit="batch", leave=False):
        chunk = slice(start, start + batch_size)
        images = [s.load_image() for s in samples[chunk]]
        t0 = time.perf_counter()
        if poses is not None:
            pts, _, pose = predictor.predict_all(images, boxes[chunk])
            poses[chunk] = pose
        else:
            pts = predictor.predict_batch(images, boxes[chunk])
        preds[chunk] = pts[:, :NUM_POINTS]
        spent += time.perf_counter() - t0
    return preds, spent, poses


def score(
    preds: np.ndarray,
    gts: np.ndarray,
    yaws: np.ndarray | None,
    norm: str,
    threshold: float,
    resamples: int = metrics.BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """Every metric of one model; the mean NME and the balanced one with their bootstrap 95 %
    intervals (``nme_ci95``, ``per_pose.balanced.ci95``: [low, high] fractions)."""
    errors = metrics.nme(preds, gts, norm)
    out: dict[str, Any] = {
        "nme": float(errors.mean()),
        "nme_ci95": list(metrics.bootstrap_ci(errors, resamples=resamples)),
        "nme_median": float(np.median(errors)),
        "failure_rate": metrics.failure_rate(errors, threshold),
        "auc": metrics.auc(errors, threshold),
        "per_landmark_nme": metrics.per_landmark_nme(preds, gts, norm).tolist(),
        "nme_by_norm": {n: float(metrics.nme(preds, gts, n).mean()) for n in metrics.NORMALISERS},
        "per_image_nme": errors.tolist(),
    }
    if yaws is not None:
        out["per_pose"] = metrics.pose_table(errors, yaws)
        balanced_ci = metrics.balanced_bootstrap_ci(errors, yaws, resamples=resamples)
        out["per_pose"]["balanced"]["ci95"] = list(balanced_ci)
    return out


def paired(
    errors: np.ndarray,
    first: np.ndarray,
    yaws: np.ndarray | None,
    resamples: int = metrics.BOOTSTRAP_RESAMPLES,
) -> dict[str, Any]:
    """A model against the run's first one on the same faces: the mean of the per-face NME
    differences (negative: more accurate) with its bootstrap 95 % interval, and the balanced
    mean's where the data has poses. Each face is its own control, so the interval is far
    narrower than the gap between two models' own intervals suggests: on the 200 dev faces two
    models' intervals overlap almost entirely at a 0.2-point gap that this one can resolve."""
    diff = np.asarray(errors, np.float64) - np.asarray(first, np.float64)
    out: dict[str, Any] = {
        "nme_diff": float(diff.mean()),
        "ci95": list(metrics.bootstrap_ci(diff, resamples=resamples)),
    }
    if yaws is not None:
        out["balanced_diff"] = metrics.pose_table(diff, yaws)["balanced"]["nme"]
        out["balanced_ci95"] = list(metrics.balanced_bootstrap_ci(diff, yaws, resamples=resamples))
    return out


def evaluate(cfg: EvalConfig) -> dict[str, Any]:
    """Score every model of ``cfg`` on the dataset; write report, CED plot and contact sheets.

    Bad label files are left out and listed under ``"skipped"`` (``cfg.strict``: the first one is
    an error), so one broken file neither stops the run nor turns every metric into NaN.
    """
    from synthmarks.eval import report

    cfg.validate()
    if cfg.out is not None:
        prepare_out_dir(cfg.out, "--out")  # before the work, not after it
    bad: list[tuple[Path, str]] | None = None if cfg.strict else []
    samples = load_dataset(cfg.data, cfg.format, cfg.limit, bad, rotate=cfg.rotate)
    if not samples:
        assert bad
        raise SynthmarksError(f"{cfg.data}: all {len(bad)} label files are bad; first: {bad[0][1]}")
    fmt = cfg.format or detect_format(Path(cfg.data))
    norm = DEFAULT_NORM[fmt] if cfg.norm == "auto" else cfg.norm
    threshold = cfg.threshold or DEFAULT_THRESHOLD[norm]
    gts = np.stack([s.points[:NUM_POINTS] for s in samples])
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    has_pose = all(s.pose is not None for s in samples)
    yaws = np.array([s.yaw for s in samples]) if has_pose else None
    true_pose = np.stack([s.pose for s in samples]) if has_pose else None
    jaw = DEFAULT_JAW[fmt] if cfg.jaw == "auto" else cfg.jaw

    results: dict[str, Any] = {}
    model_results = []
    for spec in cfg.models:
        predictor = load_predictor(spec, cfg.backend, jaw, cfg.roll)
        preds, seconds, pose = run_model(predictor, samples, boxes, cfg.batch_size, desc=spec)
        res = ModelResult(spec, preds, seconds, pose)
        model_results.append(res)
        scores = score(preds, gts, yaws, norm, threshold, cfg.bootstrap_resamples)
        # dlib and MediaPipe draw the visible outline; a synthmarks model says what it gave
        used = getattr(predictor, "jaw", "outline")
        results[spec] = scores | {"images_per_second": res.images_per_second(), "jaw": used}
        first = cfg.models[0]
        if spec != first:
            results[spec]["vs_first"] = {"model": first} | paired(
                np.asarray(scores["per_image_nme"]),
                np.asarray(results[first]["per_image_nme"]),
                yaws,
                cfg.bootstrap_resamples,
            )
        if pose is not None and true_pose is not None:
            # a turned copy's labels keep the upright pose: turn the predictions back to it
            upright = np.stack([rotate_pose(p, cfg.rotate) for p in pose]) if cfg.rotate else pose
            results[spec]["pose"] = metrics.pose_mae(upright, true_pose)

    rep = {
        "data": str(cfg.data),
        "format": fmt,
        "count": len(samples),
        "rotate_deg": float(cfg.rotate),
        "roll": cfg.roll,
        "skipped": [{"file": str(f), "error": msg} for f, msg in bad or []],
        "norm": norm,
        "threshold": threshold,
        "jaw": jaw,
        "bootstrap": {
            "level": metrics.CI_LEVEL,
            "resamples": cfg.bootstrap_resamples,
            "seed": metrics.BOOTSTRAP_SEED,
            "method": "percentile; balanced: each yaw bin resampled within itself",
        },
        "images": [s.image_path.name for s in samples],
        "yaw_deg": yaws.tolist() if yaws is not None else None,
        "models": results,
    }
    if cfg.out is not None:
        report.write_outputs(Path(cfg.out), rep, samples, gts, model_results, cfg.worst)
    return rep
