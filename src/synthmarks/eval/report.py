"""What an evaluation leaves behind: a printed table, report.json, ced.png and worst-case sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synthmarks import fileio, viz
from synthmarks.data import crop
from synthmarks.data.sample import Sample
from synthmarks.eval import metrics
from synthmarks.landmarks import bounding_box


def with_ci(value: float, ci: list[float | None] | None) -> str:
    """``4.92 [4.55, 5.31]``: a percentage with its 95 % interval, so nobody reads a gap smaller
    than the interval as a difference; the bare value for a report written before intervals
    existed (or a NaN interval, which JSON stores as nulls)."""
    text = f"{100 * value:.2f}"
    if ci is None or any(c is None or np.isnan(c) for c in ci):
        return text
    return f"{text} [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"


def diff_with_ci(vs: dict[str, Any], key: str, ci_key: str) -> str:
    """``-0.20 [-0.35, -0.06]``: a paired difference in NME points with its 95 % interval; an
    interval that holds 0 says the two models are not told apart on these faces."""
    lo, hi = vs[ci_key]
    return f"{100 * vs[key]:+.2f} [{100 * lo:+.2f}, {100 * hi:+.2f}]"


def format_table(rep: dict[str, Any]) -> str:
    """One row per model: NME, FR, AUC, per-yaw-bin NME when the data has poses, images/s; the
    NME and the balanced NME with their bootstrap 95 % intervals."""
    thr = rep["threshold"]
    first = next(iter(rep["models"].values()))
    bins = [k for k in first.get("per_pose", {}) if k != "balanced"]
    head = [f"model ({rep['norm']} NME %)", "NME", f"FR@{thr:g}", f"AUC@{thr:g}"]
    head += [f"yaw {b}" for b in bins] + (["balanced"] if bins else []) + ["img/s"]
    posed = any("pose" in r for r in rep["models"].values())
    head += ["jaw"] + (["pose MAE deg"] if posed else [])
    rows = [head]
    for name, r in rep["models"].items():
        nme = with_ci(r["nme"], r.get("nme_ci95"))
        row = [name, nme, f"{100 * r['failure_rate']:.1f}", f"{r['auc']:.3f}"]
        for b in bins:
            row.append(f"{100 * r['per_pose'][b]['nme']:.2f}")
        if bins:
            balanced = r["per_pose"]["balanced"]
            row.append(with_ci(balanced["nme"], balanced.get("ci95")))
        row.append(f"{r['images_per_second']:.0f}")
        row.append(r.get("jaw", ""))
        if posed:
            row.append(f"{r['pose']['mae']:.2f}" if "pose" in r else "")
        rows.append(row)
    if bins:
        counts = (
            ["count", str(rep["count"]), "", ""]
            + [str(first["per_pose"][b]["count"]) for b in bins]
            + ["", "", ""]
            + ([""] if posed else [])
        )
        rows.append(counts)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    title = f"{rep['data']}  ({rep['format']}, {rep['count']} faces"
    if rep.get("jaw"):
        title += f", {rep['jaw']} jaw asked"
    if rep.get("rotate_deg"):
        title += f", rotated {rep['rotate_deg']:g} deg"
    title += f", roll {rep['roll']})" if "roll" in rep else ")"
    boot = rep.get("bootstrap")
    if boot:
        lines.append(
            f"[low, high]: {100 * boot['level']:g} % percentile bootstrap interval of the mean "
            f"({boot['resamples']} resamples, seed {boot['seed']}"
            + ("; balanced: each yaw bin resampled within itself)" if bins else ")")
        )
    for name, r in rep["models"].items():
        vs = r.get("vs_first")
        if vs:
            text = f"{name} - {vs['model']}, paired on the same faces: "
            text += diff_with_ci(vs, "nme_diff", "ci95")
            if "balanced_diff" in vs:
                text += f"; balanced {diff_with_ci(vs, 'balanced_diff', 'balanced_ci95')}"
            lines.append(text + " points")
    for name, r in rep["models"].items():
        p = r.get("pose")
        if p:
            bins_text = ", ".join(
                f"{k} {v['mae']:.2f} ({v['count']})" for k, v in p["per_yaw_bin"].items()
            )
            lines.append(
                f"{name}: pose MAE {p['mae']:.2f} deg (pitch {p['pitch']:.2f}, yaw {p['yaw']:.2f}, "
                f"roll {p['roll']:.2f}; {p['count']} faces, {p['dropped']} beyond "
                f"{metrics.POSE_LIMIT_DEG:g} deg dropped); per |yaw| bin: {bins_text}"
            )
    return title + "\n" + "\n".join(lines)


def plot_ced(path: Path, rep: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thr = rep["threshold"]
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    for name, r in rep["models"].items():
        x, y = metrics.ced(np.array(r["per_image_nme"]), thr)
        nme = with_ci(r["nme"], r.get("nme_ci95"))
        ax.plot(100 * x, y, lw=2, label=f"{name}  NME {nme} %  AUC {r['auc']:.3f}")
    ax.set_xlim(0, 100 * thr)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"NME ({rep['norm']}-normalised, %)")
    ax.set_ylabel("fraction of images")
    ax.set_title(f"CED: {Path(rep['data']).name} ({rep['count']} faces)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def worst_sheet(
    samples: list[Sample],
    gts: np.ndarray,
    preds: np.ndarray,
    errors: np.ndarray,
    count: int,
    tile: int = 224,
) -> np.ndarray:
    """The ``count`` worst faces, cropped, ground truth green and prediction red, NME captioned."""
    order = np.argsort(-errors)[:count]
    tiles, labels = [], []
    for i in order:
        M = crop.box_crop_matrix(bounding_box(gts[i]), tile, 1.5)
        face = crop.warp(samples[i].load_image(), M, tile)
        face = viz.draw_landmarks(face, crop.apply(M, gts[i]), viz.GREEN, radius=2)
        face = viz.draw_landmarks(face, crop.apply(M, preds[i]), viz.RED, radius=2)
        tiles.append(face)
        labels.append(f"{samples[i].name} {100 * errors[i]:.1f}%")
    sheet = viz.contact_sheet(tiles, cols=min(8, len(tiles)), labels=labels, tile=tile)
    legend = [(viz.GREEN, "ground truth"), (viz.RED, "prediction")]
    return viz.add_legend(sheet, legend, note="caption: image, NME")


def write_outputs(
    out: Path,
    rep: dict[str, Any],
    samples: list[Sample],
    gts: np.ndarray,
    model_results: list[Any],
    worst: int,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fileio.write_json(out / "report.json", rep)
    plot_ced(out / "ced.png", rep)
    for res in model_results if worst > 0 else []:
        errors = np.array(rep["models"][res.name]["per_image_nme"])
        sheet = worst_sheet(samples, gts, res.predictions, errors, worst)
        fileio.write_image(out / f"worst_{safe_name(res.name)}.png", sheet)


def safe_name(spec: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(spec).name)
