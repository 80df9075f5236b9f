"""The ``synthmarks synth`` job: render N faces into the Face Synthetics layout, resumably.

Per sample ``NNNNNN``: ``NNNNNN.png``, ``NNNNNN_seg.png``, ``NNNNNN_meta.json`` and, last,
``NNNNNN_ldmks.txt``. Each file is written atomically, and the landmark file (the one readers
index) is renamed into place only after the others, so a reader never sees half a sample. A
resumed run skips samples whose four files exist and pass the checks of
:mod:`synthmarks.synth.integrity`, and removes and redoes the rest.
Sample i is drawn from ``default_rng([seed, i])``, so it is identical whatever the count, worker
count or order of completion.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthmarks import __version__
from synthmarks.errors import SynthmarksError
from synthmarks.fileio import prepare_out_dir, write_image, write_json, write_text
from synthmarks.synth import integrity
from synthmarks.synth.labels import landmark_text
from synthmarks.synth.lock import WHOLE, FolderLock, Shard, owns
from synthmarks.synth.sampling import SynthConfig, sample_params, sample_rng

RUN_FILE = "synth_run.json"
SUFFIXES = (".png", "_seg.png", "_meta.json", "_ldmks.txt")  # write order; ldmks last
_NAME = re.compile(r"^(\d{6,})(\.png|_seg\.png|_meta\.json|_ldmks\.txt)$")
_TMP = re.compile(r"^\.(\d{6,})(?:\.png|_seg\.png|_meta\.json|_ldmks\.txt)\..*\.tmp")  # atomic_path


@dataclass
class SampleOutput:
    image: np.ndarray  # (H, W, 3) uint8
    seg: np.ndarray  # (H, W) uint8
    points: np.ndarray  # (70, 2) float
    visibility: np.ndarray  # (70,) bool
    meta: dict


class Worker:
    """Everything one process needs to make samples: model, GL renderer, banks. Built once."""

    def __init__(self, cfg: SynthConfig, face_model: str | None = None):
        from synthmarks.synth.backgrounds import BackgroundBank
        from synthmarks.synth.facemodel import load_face_model
        from synthmarks.synth.labels import LabelGeometry
        from synthmarks.synth.render import Renderer
        from synthmarks.synth.scene import HeadStatic

        self.cfg = cfg
        self.model = load_face_model(face_model)
        self.static = HeadStatic(self.model)
        self.appearance = None
        self.catalogue = None
        if cfg.look == "v2":
            from synthmarks.synth.appearance import load_appearance

            self.appearance = load_appearance(self.model, cfg.assets)
            self.catalogue = self.appearance.catalogue()
            for kind, sets in self.appearance.cards.items():
                self.static.cards.update({f"{kind}/{c.name}": c for c in sets})
        self.renderer = Renderer(self.static, cfg.size, cfg.supersample, self.appearance)
        self.bank = BackgroundBank(cfg.backgrounds)
        self.geometry = LabelGeometry(self.model)

    def params(self, seed: int, index: int) -> dict:
        return sample_params(
            sample_rng(seed, index), self.cfg, self.model.expression_names, self.catalogue
        )

    def _environment_light(self, params: dict, scene) -> tuple[dict, np.ndarray | None]:
        """The sample's image-based light (uniforms) and, when the environment is also the
        background, what the camera sees of it (float 0..1 sRGB, defocused)."""
        import cv2

        from synthmarks.synth.hdri import background, env_rotation, white_radiance

        lk = params["v2"]
        hdri = self.appearance.hdri
        env = hdri.envs[hdri.names.index(lk["hdri"])]
        rot = env_rotation(lk["env_yaw"], lk["env_tilt"])
        # face-priority auto-exposure, as a camera meters a portrait: the light falling on the
        # face's camera-facing skin, not the sphere's mean (a sun behind the head would leave
        # the face black), then the sample's own exposure error
        meter = float(np.mean(white_radiance(env, rot, _facing_face_normals(scene))))
        exposure = 2.0 ** lk["exposure_ev"] * EXPOSURE_TARGET / max(meter, 1e-4)
        exposure *= self._albedo_meter(params)
        light = {
            "ibl": 1,
            "hdri": lk["hdri"],
            "sh": env.irradiance_sh / np.pi,
            "env_rot": rot,
            "key_dir": rot.T @ env.key_dir,
            "key_col": env.key_irradiance / np.pi,
            "exposure": exposure,
        }
        bg = None
        if lk["hdri_background"]:
            cam = scene.camera
            lin = background(env, rot, cam.f, cam.cx, cam.cy, self.cfg.size, exposure)
            bg = np.clip(lin, 0, 1) ** (1 / 2.2)
            sigma = lk["background_blur"] * self.cfg.size / 256
            bg = cv2.GaussianBlur(bg, (0, 0), sigma).astype(np.float32)
        return light, bg

    def _albedo_meter(self, params: dict) -> float:
        """The exposure a camera's meter takes off for a light face (look revision 8).

        A camera meters the light the face *reflects*, so a pale face is exposed down; metering
        the light falling on it alone (revisions 2-7) clipped the cheeks and forehead of the
        lightest baked skins (linear albedo up to 0.6, 0.76 with a lightening tone shift) in
        6 % of photoreal faces against 0.3-1.5 % in the real sets
        (``benchmarks/appearance_stats.py``). Darker faces keep their exposure, as photographs
        keep dark skin dark; half the ratio in stops, as a meter that also reads the scene.
        ``cfg.meter_albedo_ref`` 0 turns it off (revision 7).
        """
        ref = self.cfg.meter_albedo_ref
        if not ref:
            return 1.0
        lk = params["v2"]
        if lk["skin"] is not None:
            skins = self.appearance.skins
            albedo = skins.skins[skins.names.index(lk["skin"])].mean_linear * lk["skin_gain"]
        else:
            albedo = np.asarray(params["skin"]["albedo"])
        lum = float(np.dot(albedo, (0.2126, 0.7152, 0.0722)))
        return min(1.0, (ref / max(lum, 1e-4)) ** 0.5)

    def make(self, params: dict) -> SampleOutput:
        """Render one face from its parameter record (a pure function of ``params``)."""
        import cv2

        from synthmarks.landmarks import bounding_box
        from synthmarks.synth import labels
        from synthmarks.synth.backgrounds import environment, procedural
        from synthmarks.synth.occluders import camera_effects, draw_occluders
        from synthmarks.synth.scene import build_scene

        size = self.cfg.size
        scene = build_scene(self.static, params, size)
        lk = params.get("v2") or {}
        light, bg = ({}, None)
        if lk.get("hdri") is not None:
            light, bg = self._environment_light(params, scene)
        brng = np.random.default_rng(params["background"]["seed"])
        if bg is None:
            if params["background"]["photo"] and len(self.bank):
                bg = self.bank.random_crop(brng, size)
            else:
                bg = procedural(brng, size)
            if brng.random() < 0.5:  # out-of-focus background, as with a portrait lens
                bg = cv2.GaussianBlur(bg, (0, 0), brng.uniform(0.5, 3.0))
        env = {**environment(bg, params["light"]["env_from_background"]), **light}

        res = self.renderer.render(scene, params, env)
        alpha = res.rgba[..., 3:4]
        if self.cfg.supersample == 1:  # soften the silhouette a little: no supersampling here
            alpha = cv2.GaussianBlur(alpha, (3, 3), 0.5)[..., None]
        image = res.rgba[..., :3] * alpha + bg * (1 - alpha)

        brows = self.appearance.brows if self.appearance is not None else None
        points, pos3 = labels.label(scene, params, self.geometry, brows)
        seg = res.seg.copy()
        occ = None
        n_occ = params["occluders"]["count"]
        if n_occ:
            orng = np.random.default_rng(params["occluders"]["seed"])
            image, occ = draw_occluders(
                image.astype(np.float32), orng, n_occ, bounding_box(points), self.bank
            )
            seg[occ > 0.5] = 255
        vis = labels.visibility(scene, points, pos3, res.depth_hi, res.supersample, occ, res.seg)
        points = labels.xray_jaw(scene, params, points)
        out = camera_effects(image.astype(np.float32), params["camera_fx"])
        meta = {
            "version": __version__,
            "look": "v2" if "v2" in params else "v1",
            "pose_deg": params["pose_deg"],
            "visibility": [bool(v) for v in vis],
            "jaw_convention": params["jaw_convention"],
            "jaws": labels.both_jaws(scene, self.geometry.jaw, params),
            "brow_convention": params["brow_convention"],
            "lip_points": params["lip_points"],
            "lid_points": params["lid_points"],
            "nose_points": params["nose_points"],
            "outline_jaw": params["outline_jaw"],
            "camera": scene.camera.to_json(),
            "assets": _assets_used(params),
            "params": params,
        }
        return SampleOutput(out, seg, points, vis, meta)


#: Linear value a white surface lit like the face's camera-facing skin shows before the
#: sample's own exposure_ev: skin (albedo about 0.3-0.5) lands near sRGB 140-170, as in photos.
EXPOSURE_TARGET = 1.4


def _facing_face_normals(scene) -> np.ndarray:
    """Camera-space normals of the head vertices inside the face's 2D box that face the camera
    (every fourth: plenty for a mean)."""
    from synthmarks.landmarks import bounding_box

    head = scene.head
    pos, nrm = head.pos[::4], head.nrm[::4]
    x0, y0, x1, y1 = bounding_box(scene.camera.project(scene.landmarks_cam[:68]))
    xy = scene.camera.project(pos)
    inside = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
    view = -pos / np.linalg.norm(pos, axis=1, keepdims=True)
    keep = inside & ((nrm * view).sum(1) > 0.3)
    return nrm[keep] if keep.sum() >= 8 else view[:1]


def _assets_used(params: dict) -> dict:
    """Which CC0 assets a sample used (names; None for a procedural layer)."""
    lk = params.get("v2")
    if not lk:
        return {}
    return {
        "skin": lk["skin"],
        "hair": lk["hair_card"],
        "eyebrows": lk["brow_card"],
        "eyelashes": lk["lash_card"],
        "iris": lk["iris"],
        "hdri": lk["hdri"],
        "hdri_background": lk["hdri_background"],
    }


def write_sample(out_dir: Path, index: int, s: SampleOutput) -> None:
    """Write the four files of one sample, each atomically, the landmark file last."""
    stem = out_dir / f"{index:06d}"
    write_image(f"{stem}.png", s.image)
    write_image(f"{stem}_seg.png", s.seg)
    write_json(f"{stem}_meta.json", s.meta)
    write_text(f"{stem}_ldmks.txt", landmark_text(s.points))


def scan(out_dir: Path) -> tuple[set[int], set[int]]:
    """(complete sample indices, indices with only some files) in an output folder."""
    found: dict[int, set[str]] = {}
    for p in out_dir.iterdir():
        m = _NAME.match(p.name)
        if m:
            found.setdefault(int(m.group(1)), set()).add(m.group(2))
    done = {i for i, s in found.items() if len(s) == len(SUFFIXES)}
    return done, set(found) - done


def find_damaged(out_dir: Path, done: Iterable[int], size: int) -> dict[int, str]:
    """The complete-looking samples whose files fail :func:`integrity.sample_problem`."""
    problems = {i: integrity.sample_problem(out_dir, i, size) for i in sorted(done)}
    return {i: why for i, why in problems.items() if why}


def clean_partial(out_dir: Path, partial: Iterable[int], shard: Shard = WHOLE) -> None:
    """Remove the pieces of unfinished samples and leftover temporary files of ``shard``.

    Only files of indices the shard owns are touched (another shard's live writer may be
    writing the rest); a whole-folder writer, which excludes every other, also removes
    temporary files that belong to no sample.
    """
    for i in partial:
        for suf in SUFFIXES:
            (out_dir / f"{i:06d}{suf}").unlink(missing_ok=True)
    for p in out_dir.glob(".*.tmp*"):
        m = _TMP.match(p.name)
        if (m and owns(shard, int(m.group(1)))) or (not m and shard == WHOLE):
            p.unlink(missing_ok=True)


#: Settings that say where inputs are, not what is made: a run may resume (or another shard
#: join it) with its assets found elsewhere.
_WHERE_KEYS = ("assets",)

#: Revision of the photoreal look's code, kept in the run record: a folder never mixes faces of
#: two revisions (records without it are revision 1). 2: iris textures coloured at population
#: frequencies, procedural sclera; skin tone shifts with diffusion-compressed melanin ratios.
#: 3: beards and stubble fit the face (none on female skins, the seen hair's colour, ending under
#: the chin). 4: beards as blended fur shells, mostly short, reaching up the cheeks by a sampled
#: amount (one opaque shell at 0.2-1.6 cm drew a hard-edged bib of speckles); baked skins leave
#: the nostrils to the geometry (skins.BAKE_VERSION 2). 5: teeth lit (the neutral head's baked
#: occlusion, lips closed, had made every tooth near-black in an open mouth). 6: soft shadows, as
#: wide as the key light (``key_radius_deg``; every key had been a point casting knife edges).
#: 7: MakeHuman's brows (cards and painted) registered 2.2 mm higher (``register.BROW_LIFT_CM``).
#: 8: the exposure meter reads the face's albedo, so light skin no longer clips
#: (``Worker._albedo_meter``; ``meter_albedo_ref=0`` draws revision 7: :func:`drawn_revision`).
LOOK_REVISION = 8


def drawn_revision(cfg: SynthConfig) -> int:
    """The look revision this code draws with ``cfg``. Revision 8 differs from 7 only by the
    meter's albedo reading, so with it off the pixels are revision 7's, and a set made by
    revision 7 (the released default's) resumes and re-renders the same."""
    return LOOK_REVISION if cfg.meter_albedo_ref > 0 else 7


def recorded_revision(record: dict) -> int | None:
    """The look revision of a run record's faces: None for the v1 look (it did not change), 1 for
    photoreal faces recorded before revisions were."""
    if record["config"].get("look", "v1") == "v1":
        return None
    return record.get("look_revision", 1)


def _differences(old: dict, new: dict) -> str:
    """What a recorded run has that a new one would not, as ``name=recorded`` (the first few):
    the one-line error then says which flag or --set resumes it."""
    pairs = [("seed", old.get("seed"), new.get("seed"))]
    oc, nc = old.get("config") or {}, new.get("config") or {}
    pairs += [(k, oc.get(k), nc.get(k)) for k in sorted(set(oc) | set(nc))]
    diff = [f"{k}={a!r} here, not {b!r}" for k, a, b in pairs if a != b]
    return "; ".join(diff[:3]) + (f" and {len(diff) - 3} more" if len(diff) > 3 else "")


def check_run_file(
    out_dir: Path,
    seed: int,
    cfg: SynthConfig,
    note: dict | None = None,
    look_revision: int | None = None,
) -> None:
    """Refuse a folder whose run record has another seed, config or look revision; else
    (re)write the record (with ``note``, which is not compared). Render and relabel both follow
    this rule, so a folder never holds samples of two settings. ``look_revision``: that of the
    faces written (relabel passes its source's; None: what this code draws with ``cfg``)."""
    config = {k: v for k, v in cfg.to_json().items() if k not in _WHERE_KEYS}
    if look_revision is None:
        look_revision = drawn_revision(cfg)
    revision = None if config.get("look") == "v1" else look_revision
    run = {"seed": int(seed), "config": config, "look_revision": revision}
    path = out_dir / RUN_FILE
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old is not None and isinstance(old.get("config"), dict):
            # settings added since that run was made read as their defaults
            old["config"] = {
                k: v
                for k, v in SynthConfig.from_json(old["config"]).to_json().items()
                if k not in _WHERE_KEYS
            }
            old["look_revision"] = recorded_revision(old)
            if old["look_revision"] != run["look_revision"]:
                raise SynthmarksError(
                    f"{out_dir} holds faces of an earlier revision of the photoreal look "
                    f"({old['look_revision']}, this code draws {run['look_revision']}); "
                    "render into a new --out folder"
                    + (
                        ", or resume with --set meter_albedo_ref=0"
                        if old["look_revision"] == 7
                        else ""
                    )
                )
        new = json.loads(json.dumps(run))
        if old is not None and {k: old.get(k) for k in run} != new:
            raise SynthmarksError(
                f"{out_dir} holds a run with another seed or config ({RUN_FILE}: "
                f"{_differences(old, new)}); use a new --out folder or the same settings to "
                "resume it"
            )
    write_json(path, {**run, **(note or {}), "version": __version__})


# --- worker processes -------------------------------------------------------------------------

_WORKER: Worker | None = None


def _init_worker(cfg_json: dict, face_model: str | None, workers: int) -> None:
    from synthmarks.synth.render import configure_threads

    _exit_with_parent(os.getppid())
    configure_threads(workers)
    global _WORKER
    _WORKER = Worker(SynthConfig.from_json(cfg_json), face_model)


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed stops within a second instead of rendering on unowned
    (the parent's folder lock went with it, so a resumed run may already be cleaning up)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="synth-parent-watch").start()


def _work(task: tuple[str, int, int]) -> int:
    out_dir, seed, index = task
    assert _WORKER is not None
    write_sample(Path(out_dir), index, _WORKER.make(_WORKER.params(seed, index)))
    return index


def _local_samples(
    out: Path, seed: int, todo: list[int], cfg: SynthConfig, face_model: str
) -> Iterator[int]:
    worker = Worker(cfg, face_model)
    for i in todo:
        write_sample(out, i, worker.make(worker.params(seed, i)))
        yield i


def _pool_samples(
    out: Path, seed: int, todo: list[int], cfg: SynthConfig, face_model: str, workers: int
) -> Iterator[int]:
    """Render ``todo`` in ``workers`` spawned processes; yields indices as they finish.

    ``ProcessPoolExecutor`` rather than ``multiprocessing.Pool``: when a worker dies (OOM killer,
    ``kill``) Pool silently replaces it and waits forever for its lost task, while the executor
    marks itself broken, which becomes a one-line error here. Finished samples stay; the
    interrupted ones are partial files that the next run removes and redoes.
    """
    ctx = mp.get_context("spawn")
    queue = iter(todo)
    made = 0
    with ProcessPoolExecutor(
        workers, ctx, initializer=_init_worker, initargs=(cfg.to_json(), face_model, workers)
    ) as pool:
        running: set[Future] = set()
        try:
            while True:  # a few tasks in flight per worker, not the whole list at once
                for i in itertools.islice(queue, 4 * workers - len(running)):
                    running.add(pool.submit(_work, (str(out), int(seed), i)))
                if not running:
                    return
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield fut.result()
                    made += 1
        except BrokenProcessPool:
            raise SynthmarksError(
                f"a synth worker process died (killed, or out of memory?) after {made} of "
                f"{len(todo)} samples; run the same command again to resume"
                + ("" if workers == 1 else ", with fewer --workers if memory is short")
            ) from None
        finally:
            for fut in running:
                fut.cancel()


def generate(
    out_dir: str | Path,
    count: int,
    seed: int = 0,
    cfg: SynthConfig | None = None,
    workers: int = 0,
    face_model: str | None = None,
    progress: bool = True,
    on_sample: Callable[[int], None] | None = None,
    shard: tuple[int, int] = (1, 1),
) -> dict:
    """Make samples 0..count-1 in ``out_dir`` (skipping finished ones); returns a summary.

    ``workers=0`` renders in this process (tests, debugging); otherwise a spawn pool with one GL
    context per worker. ``on_sample(index)`` is called after each finished sample.
    ``shard=(k, n)`` makes only the k-th of n disjoint slices (indices i with i % n == k - 1):
    n processes or machines sharing one seeded set, whose union is the set a single run makes.
    The shard of the folder is locked for the whole run (:mod:`synthmarks.synth.lock`), so a
    second writer of any of its indices stops at once instead of deleting what this one writes.
    """
    cfg = (cfg or SynthConfig()).validate()
    if count < 0:
        raise SynthmarksError(f"--count must be >= 0, not {count}")
    k, n = shard
    if not (n >= 1 and 1 <= k <= n):
        raise SynthmarksError(f"--shard must be K/N with 1 <= K <= N, not {k}/{n}")
    out = Path(out_dir)
    prepare_out_dir(out, "--out")
    from synthmarks.synth.facemodel import find_face_model

    face_model = str(find_face_model(face_model))  # fail early, in the parent, with one line
    with FolderLock(out, shard):
        if cfg.look == "v2":
            # the one-off registration and skin bakes happen here, once, not in every worker
            from synthmarks.synth.appearance import prepare
            from synthmarks.synth.facemodel import load_face_model

            cfg.assets = str(prepare(load_face_model(face_model), cfg.assets))
        check_run_file(out, seed, cfg)
        done, partial = scan(out)
        mine = range(k - 1, count, n)
        done &= set(mine)
        damaged = find_damaged(out, done, cfg.size)
        # pieces of unfinished samples go at any index the shard owns, also beyond this count
        # (left by an interrupted larger run; nothing complete is lost)
        clean_partial(out, {i for i in partial if owns(shard, i)} | set(damaged), shard)
        done -= set(damaged)
        todo = [i for i in mine if i not in done]
        t0 = time.perf_counter()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(mine), initial=len(mine) - len(todo), unit="img", desc="synth")
        try:
            if workers <= 0:
                finished = _local_samples(out, seed, todo, cfg, face_model)
            else:
                finished = _pool_samples(out, seed, todo, cfg, face_model, workers) if todo else ()
            for i in finished:
                if bar:
                    bar.update(1)
                if on_sample:
                    on_sample(i)
        finally:
            if bar:
                bar.close()
    elapsed = time.perf_counter() - t0
    return {
        "made": len(todo),
        "skipped": len(mine) - len(todo),
        "damaged": damaged,  # index -> what was wrong; remade
        "seconds": elapsed,
        "images_per_second": len(todo) / elapsed if elapsed > 0 and todo else 0.0,
    }
