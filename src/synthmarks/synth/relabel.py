"""Re-label a generated set with other jaw and brow conventions, without rendering it again.

Every sample's ``_meta.json`` holds the parameters that made it, and the labels are a pure
function of the scene those parameters build (no pixels needed), so a set rendered once can be
compared under each convention (x-ray vs visible-outline jaw, brow line vs brow centre) on
exactly the same images. Images and segmentations are hard-linked into the new folder (copied
where links are impossible); the landmark file and the meta record are written anew, each
atomically, the landmark file last, so an interrupted run resumes like ``synthmarks synth`` does.

Visibility: points that did not move keep the source's flag (depth and occluder tests included);
a jaw point moved onto the outline lies on the silhouette, so it counts as visible when it is
inside the image (an occluder over the outline is not re-tested). A brow point moves a few
millimetres across its brow and keeps the source's flag; so does an x-ray jaw point moved in
depth, which is as visible as the cheek vertex it stands for (synth/labels.py).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path, prepare_out_dir, same_file, write_json, write_text
from synthmarks.synth.generate import (
    RUN_FILE,
    check_run_file,
    clean_partial,
    find_damaged,
    recorded_revision,
    scan,
)
from synthmarks.synth.lock import WHOLE, FolderLock
from synthmarks.synth.register import brow_lift

#: a moved point further than this from its source label counts as moved (pixels)
MOVED_PX = 1e-3


def relabel(
    src: str | Path,
    dst: str | Path,
    jaw_convention: str,
    face_model: str | None = None,
    progress: bool = True,
    brow_convention: str = "centre",
    xray_jaw: str = "3dmm",
    count: int | None = None,
    assets: str | None = None,
    lip_points: str = "aligned",
    outline_jaw: str = "even",
    lid_points: str = "mesh",
    nose_points: str = "mesh",
) -> dict:
    """Write ``src``'s complete samples (the first ``count`` of them, if given) into ``dst``
    labelled with ``jaw_convention``, ``brow_convention``, the x-ray jaw's depth ``xray_jaw``,
    the ``lip_points``, the ``outline_jaw``, the ``lid_points`` and the ``nose_points``.

    ``dst`` follows the rules of a render into it: it is locked while this runs, a run record
    with other settings (another convention) is refused, and damaged samples are redone.
    """
    from synthmarks.synth.sampling import SynthConfig, check_conventions

    src, dst = Path(src), Path(dst)
    check_conventions(jaw_convention, brow_convention, "--{kind}-convention")
    if not (src / RUN_FILE).is_file():
        raise SynthmarksError(
            f"--relabel {src}: not a `synthmarks synth` output ({RUN_FILE} missing)"
        )
    if dst.exists() and same_file(src, dst):
        raise SynthmarksError("--relabel: the output folder must differ from the source")
    try:
        run = json.loads((src / RUN_FILE).read_text())
        size = int(run["config"]["size"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SynthmarksError(f"--relabel {src}: unreadable {RUN_FILE}") from None
    prepare_out_dir(dst, "--out")
    conventions = {
        "jaw_convention": jaw_convention,
        "brow_convention": brow_convention,
        "xray_jaw": xray_jaw,
        "lip_points": lip_points,
        "outline_jaw": outline_jaw,
        "lid_points": lid_points,
        "nose_points": nose_points,
    }
    cfg = SynthConfig.from_json({**run["config"], **conventions})
    with FolderLock(dst, WHOLE, "relabel"):
        note = {"relabelled_from": str(src), **conventions}
        check_run_file(dst, run["seed"], cfg, note, recorded_revision(run))
        done, _ = scan(src)
        if count is not None:
            done = {i for i in done if i < count}
        have, partial = scan(dst)
        damaged = find_damaged(dst, have, size)
        clean_partial(dst, partial | set(damaged))  # interrupted or damaged: redone
        todo = sorted(done - (have - set(damaged)))
        assets = assets or run["config"].get("assets")
        lift = brow_lift(recorded_revision(run))
        return _relabel_samples(
            src, dst, todo, len(done), size, conventions, face_model, assets, lift, progress
        )


def _relabel_samples(
    src: Path,
    dst: Path,
    todo: list[int],
    total: int,
    size: int,
    conventions: dict[str, str],
    face_model: str | None,
    assets: str | None,
    brow_lift_cm: float,
    progress: bool,
) -> dict:
    from synthmarks.synth.facemodel import load_face_model
    from synthmarks.synth.labels import (
        LabelGeometry,
        both_jaws,
        label,
        landmark_text,
        xray_jaw,
    )
    from synthmarks.synth.scene import HeadStatic, build_scene

    model = load_face_model(face_model)
    static, geometry = HeadStatic(model), LabelGeometry(model)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=total - len(todo), unit="img", desc="relabel")
    moved_faces = 0
    photoreal_brows = None  # the brow cards' positions, loaded at the first photoreal sample
    try:
        for i in todo:
            stem = f"{i:06d}"
            meta = json.loads((src / f"{stem}_meta.json").read_text())
            params = dict(meta["params"], **conventions)
            scene = build_scene(static, params, size, extras=False)
            if "v2" in params and photoreal_brows is None:
                from synthmarks.synth.appearance import load_brow_centres

                photoreal_brows = load_brow_centres(model, assets, brow_lift_cm)
            points = xray_jaw(scene, params, label(scene, params, geometry, photoreal_brows)[0])
            old = np.loadtxt(src / f"{stem}_ldmks.txt", dtype=np.float64).reshape(-1, 2)
            moved = np.linalg.norm(points - old, axis=1) > MOVED_PX
            jaws = both_jaws(scene, geometry.jaw, params)
            moved_faces += bool(moved.any()) or _jaws_moved(meta.get("jaws"), jaws)
            inside = np.all((points >= 0) & (points < size), axis=1)
            on_outline = (
                moved & (np.arange(len(points)) < 17) & (conventions["jaw_convention"] == "outline")
            )
            vis = np.where(on_outline, inside, np.asarray(meta["visibility"], bool))
            for suffix in (".png", "_seg.png"):
                _link(src / f"{stem}{suffix}", dst / f"{stem}{suffix}")
            meta.update(params=params, **conventions, visibility=[bool(v) for v in vis])
            meta["jaws"] = jaws
            write_json(dst / f"{stem}_meta.json", meta)
            write_text(dst / f"{stem}_ldmks.txt", landmark_text(points))
            if bar:
                bar.update(1)
    finally:
        if bar:
            bar.close()
    return {"relabelled": len(todo), "skipped": total - len(todo), "moved": moved_faces}


def _jaws_moved(old: dict | None, new: dict) -> bool:
    """Whether meta.json's other-convention jaws moved (an outline re-defined under x-ray labels
    changes no landmark file); a record without them gains them."""
    if not old or set(old) != set(new):
        return True
    return any(
        np.abs(np.asarray(old[k], np.float64) - np.asarray(new[k], np.float64)).max() > MOVED_PX
        for k in new
    )


def _link(src: Path, dst: Path) -> None:
    """Hard link (no extra disk), else an atomic copy."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
