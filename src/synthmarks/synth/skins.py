"""MakeHuman's photo-derived skins baked into ICT-FaceKit's UV atlas, once, and cached.

Each skin is resampled through the registration's bake map (:mod:`synthmarks.synth.register`):
every ICT texel takes the colour of the nearest point of the warped hm08 head. Then

* the lid margins and the mouth slit are filled from the skin around them: MakeHuman paints the
  opening itself dark, and a millimetre of registration error would put that dark line on ICT's
  lids or lips;
* so are MakeHuman's painted nostrils (:func:`_nostrils`): ICT's nostril geometry and its
  occlusion draw them;
* texels outside ICT's UV islands are filled by a pull-push blur, so filtering at an island's
  edge never reads black;
* alpha holds the texture's fine relief (luminance minus its blur): pores, wrinkles and lip lines
  for the renderer's bump mapping, so light catches the same detail the colour shows.

The face's mean colour (linear RGB, measured on the cheeks and forehead) is kept with each bake:
the sampler shifts a skin's tone relative to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthmarks.fileio import atomic_path, write_json
from synthmarks.synth.assets import SKINS
from synthmarks.synth.register import BAKE_H, BAKE_W, Registration

#: Bumped whenever the bake changes.
BAKE_VERSION = 2
#: How far (texels of the 1024-texel face tile, about 0.3 mm each) around the eye and mouth
#: openings the skin is re-filled from its surroundings: hm08's inner lip, pale and wet, lands
#: a few millimetres into ICT's lips.
EYE_MARGIN_TX = 6
MOUTH_MARGIN_TX = 14
#: A painted nostril: darker than this fraction of the nose base's median luminance, grown by
#: the margin (texels).
NOSTRIL_DARK = 0.6
NOSTRIL_MARGIN_TX = 4


@dataclass
class BakedSkin:
    name: str
    rgba: np.ndarray  # (BAKE_H, BAKE_W, 4) uint8: sRGB colour + relief (128 = flat)
    mean_linear: np.ndarray  # (3,) mean linear RGB of the face's skin


def _openings(valid: np.ndarray, landmark_px: np.ndarray) -> np.ndarray:
    """Texels within the margin of ICT's eye and mouth openings (holes in the face tile)."""
    holes = (~valid).astype(np.uint8)
    _, label = cv2.connectedComponents(holes, connectivity=4)
    out = np.zeros(valid.shape, bool)
    for idx, margin in (
        (range(36, 42), EYE_MARGIN_TX),
        (range(42, 48), EYE_MARGIN_TX),
        (range(60, 68), MOUTH_MARGIN_TX),
    ):
        x, y = landmark_px[list(idx)].mean(0)
        hole = (label == label[int(round(y)), int(round(x))]).astype(np.uint8)
        k = 2 * margin + 1
        out |= cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    return out & valid


def _nostrils(rgb: np.ndarray, landmark_px: np.ndarray) -> np.ndarray:
    """Texels of MakeHuman's painted nostrils: much darker than the skin of the nose base.

    hm08's texture paints each nostril as a dark blob with a black core, and its edges become
    steep relief; baked through the registration they sit a little off ICT's own nostrils, and
    rendered they doubled them into gaping black holes above the nose's lower edge, where the
    labels 31-35 are. Filled from the skin around, the nostrils are ICT's geometry, darkened by its
    occlusion as in the v1 look."""
    w = float(np.linalg.norm(landmark_px[35] - landmark_px[31]))
    x0, x1 = landmark_px[31, 0] - 0.25 * w, landmark_px[35, 0] + 0.25 * w
    y0, y1 = landmark_px[30, 1], landmark_px[33, 1] + 0.1 * w
    y0, y1 = min(y0, y1), max(y0, y1)
    lum = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)
    window = np.zeros(lum.shape, bool)
    window[int(y0) : int(np.ceil(y1)) + 1, int(x0) : int(np.ceil(x1)) + 1] = True
    dark = window & (lum < NOSTRIL_DARK * np.median(lum[window]))
    k = 2 * NOSTRIL_MARGIN_TX + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.dilate(dark.astype(np.uint8), disk) > 0


def _pull_push(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown texels from known ones: average known texels down an image pyramid, then
    paste each coarser level into the holes of the finer one on the way back up."""
    levels = [(img.astype(np.float32) * known[..., None], known.astype(np.float32))]
    while min(levels[-1][1].shape) > 4:
        c, w = levels[-1]
        h2, w2 = (c.shape[0] + 1) // 2, (c.shape[1] + 1) // 2
        levels.append(
            (
                cv2.resize(c, (w2, h2), interpolation=cv2.INTER_AREA),
                cv2.resize(w, (w2, h2), interpolation=cv2.INTER_AREA),
            )
        )
    est = levels[-1][0] / np.maximum(levels[-1][1], 1e-6)[..., None]
    for c, w in reversed(levels[:-1]):
        up = cv2.resize(est, (c.shape[1], c.shape[0]), interpolation=cv2.INTER_LINEAR)
        own = c / np.maximum(w, 1e-6)[..., None]
        est = np.where((w > 0.999)[..., None], own, up)
    return np.where(known[..., None], img, est)


def bake(skin_bgr: np.ndarray, reg: Registration, landmark_px: np.ndarray) -> np.ndarray:
    """One skin (hm08 layout, BGR uint8) in ICT's atlas as RGBA (relief in alpha)."""
    h, w = skin_bgr.shape[:2]
    valid = reg.bake_u >= 0
    mx = np.where(valid, reg.bake_u * w - 0.5, -1).astype(np.float32)
    my = np.where(valid, (1 - reg.bake_v) * h - 0.5, -1).astype(np.float32)
    rgb = cv2.remap(skin_bgr, mx, my, cv2.INTER_LINEAR)[..., ::-1]
    fill = _openings(valid, landmark_px) | (_nostrils(rgb, landmark_px) & valid)
    known = valid & ~fill
    rgb = np.clip(_pull_push(rgb, known), 0, 255)
    lum = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2GRAY)
    relief = lum - cv2.GaussianBlur(lum, (0, 0), 3.0)
    relief = np.clip(128 + relief * 1200, 0, 255)
    return np.dstack([rgb, relief]).astype(np.uint8)


def _skin_mean(rgba: np.ndarray, landmark_px: np.ndarray) -> np.ndarray:
    """Mean linear RGB over the cheeks and forehead (no lips, brows, eyes or stubble)."""
    lin = (rgba[..., :3].astype(np.float32) / 255.0) ** 2.2
    pts = []
    for a, b in ((1, 31), (15, 35)):  # cheeks: between the jaw and the nose wings
        pts.append(0.5 * (landmark_px[a] + landmark_px[b]))
    brow = landmark_px[17:27].mean(0)
    eye = landmark_px[36:48].mean(0)
    pts.append(brow + (brow - eye) * 0.8)  # forehead
    r = int(max(4, 0.08 * np.linalg.norm(landmark_px[45] - landmark_px[36])))
    samples = [lin[int(y) - r : int(y) + r, int(x) - r : int(x) + r].reshape(-1, 3) for x, y in pts]
    return np.concatenate(samples).mean(0)


def _landmark_px(model) -> np.ndarray:
    from synthmarks.synth.textures import ATLAS_H, landmark_atlas_px

    return landmark_atlas_px(model) * (BAKE_H / ATLAS_H)


class SkinBank:
    """All baked skins of an assets folder, made on first use and cached beside the face model."""

    def __init__(self, model, reg: Registration, assets: Path, names=SKINS, progress=print):
        self.skins: list[BakedSkin] = []
        tex_dir = assets / "makehuman/skins/textures"
        files = [tex_dir / f"{n}.png" for n in names if (tex_dir / f"{n}.png").exists()]
        key = f"{BAKE_VERSION}|{model.cache_path}|{reg.bake_u.shape}|{float(reg.bake_u.sum()):.6f}"
        key += "|" + "|".join(f"{f.name}:{f.stat().st_size}" for f in files)
        root = Path(model.cache_path).parent if model.cache_path else Path.cwd()
        cache = root / f"skins_{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        index = cache / "skins.json"
        lm_px = _landmark_px(model)
        means = json.loads(index.read_text()) if index.is_file() else {}
        told = False
        for f in files:
            name = f.stem
            path = cache / f"{name}.png"
            rgba = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) if path.is_file() else None
            if rgba is None or rgba.shape != (BAKE_H, BAKE_W, 4) or name not in means:
                if not told:
                    progress(f"baking {len(files)} MakeHuman skins into the ICT atlas (once) ...")
                    told = True
                src = cv2.imread(str(f), cv2.IMREAD_COLOR)
                if src is None:
                    continue
                rgba_rgb = bake(src, reg, lm_px)
                means[name] = [float(x) for x in _skin_mean(rgba_rgb, lm_px)]
                try:
                    ok, buf = cv2.imencode(".png", rgba_rgb[..., [2, 1, 0, 3]])
                    with atomic_path(path) as tmp:
                        tmp.write_bytes(buf.tobytes())
                    write_json(index, means)
                except OSError:
                    pass  # read-only cache: bake again next time
                rgba = rgba_rgb
            else:
                rgba = rgba[..., [2, 1, 0, 3]]
            self.skins.append(BakedSkin(name, np.ascontiguousarray(rgba), np.array(means[name])))

    def __len__(self) -> int:
        return len(self.skins)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.skins]
