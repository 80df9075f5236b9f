"""Everything the photoreal look (``look: v2``) draws from, loaded once per process.

Skins baked into ICT's atlas, hair/eyebrow/eyelash cards bound to ICT's head, iris textures and
environment maps, all from the CC0 assets folder (:mod:`synthmarks.synth.assets`). The first use
on a machine registers MakeHuman's head onto ICT's and bakes the skins (about a minute, cached
beside the face model); :func:`prepare` does that in the parent before workers start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.synth import register
from synthmarks.synth.assets import BROWS, HAIR, IRISES, LASHES, find_assets
from synthmarks.synth.cards import CardSet, brow_centre_offsets, load_cards
from synthmarks.synth.facemodel import FaceModel
from synthmarks.synth.hdri import HdriBank
from synthmarks.synth.skins import SkinBank

#: Iris radius as a fraction of MakeHuman's eye texture width (both eyes of the texture share
#: it; measured on the eight textures: the iris edge sits 0.10-0.12 of the width from the pupil).
IRIS_RADIUS_TEX = 0.11


@dataclass
class Iris:
    """A MakeHuman eye texture. The renderer takes its structure (fibres, crypts, the darker
    limbal ring, the pupil) as luminance relative to ``luminance`` and colours it with the
    sample's iris colour, drawn at population frequencies (mostly brown): seven of the eight
    textures are blue, green or grey, and used as they are they gave most faces pale, glowing
    eyes. Its whitish sclera is replaced by the procedural one as well."""

    name: str
    rgba: np.ndarray  # (S, S, 4) uint8
    centre: tuple[float, float]  # pupil centre in OpenGL texture coordinates (v up)
    radius: float = IRIS_RADIUS_TEX  # iris radius in texture coordinates
    #: mean linear luminance of the iris ring (pupil excluded): the level that maps to the
    #: sample's iris colour
    luminance: float = 1.0


def _iris(path: Path) -> Iris:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise SynthmarksError(f"{path}: unreadable iris texture")
    rgb = img[..., [2, 1, 0]] if img.ndim == 3 else np.repeat(img[..., None], 3, -1)
    h, w = rgb.shape[:2]
    # the upper-right eyeball of the texture: its pupil is the darkest blob there
    quad = rgb[: h // 2, w // 2 :].astype(np.float32).mean(-1)
    dark = quad <= np.percentile(quad, 0.5)
    ys, xs = np.nonzero(dark)
    cx, cy = xs.mean() + w // 2, ys.mean()
    small = cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA)
    rgba = np.dstack([small, np.full((512, 512), 255, np.uint8)])
    # the ring between pupil and limbus, in the linear light the shader works in
    yy, xx = np.mgrid[:h, :w]
    r = np.hypot(xx - cx, yy - cy) / (IRIS_RADIUS_TEX * w)
    ring = (r > 0.45) & (r < 0.9)
    linear = (rgb[ring].astype(np.float64) / 255.0) ** 2.2
    lum = float((linear @ np.array([0.2126, 0.7152, 0.0722])).mean())
    centre = ((cx + 0.5) / w, 1 - (cy + 0.5) / h)
    return Iris(path.stem.replace("_eye", ""), rgba, centre, luminance=lum)


@dataclass
class BrowCentres:
    """Where the photoreal look's brows are drawn (cm above landmarks 17-26, neutral head):
    per eyebrow card, and for a baked skin alone, whose own painted brows lie where MakeHuman
    puts its brow cards (their average)."""

    cards: dict[str, np.ndarray]
    skin: np.ndarray


@dataclass
class Appearance:
    assets: Path
    skins: SkinBank
    cards: dict[str, list[CardSet]]  # hair, eyebrows, eyelashes
    irises: list[Iris]
    hdri: HdriBank
    brows: BrowCentres

    def catalogue(self) -> dict:
        """What the sampler draws from: asset names, and each hair card's mean colour (linear
        RGB), which recolouring divides by."""
        names = self.names()
        names["hair"] = {c.name: [float(x) for x in c.mean_colour] for c in self.cards["hair"]}
        return names

    def names(self) -> dict[str, list[str]]:
        """What each sampled index means (for the parameter records)."""
        return {
            "skins": self.skins.names,
            "hair": [c.name for c in self.cards["hair"]],
            "eyebrows": [c.name for c in self.cards["eyebrows"]],
            "eyelashes": [c.name for c in self.cards["eyelashes"]],
            "irises": [i.name for i in self.irises],
            "hdri": self.hdri.names,
        }


def prepare(model: FaceModel, assets: str | Path | None, progress: Callable = print) -> Path:
    """Find the assets and make the cached registration and bakes (once per machine)."""
    root = find_assets(assets)
    reg = register.load(model, root, progress)
    SkinBank(model, reg, root, progress=progress)
    return root


def _brow_centres(model: FaceModel, cards: list[CardSet]) -> BrowCentres:
    offsets = {c.name: brow_centre_offsets(c, model) for c in cards}
    return BrowCentres(offsets, np.mean(list(offsets.values()), 0) if offsets else np.zeros(10))


def load_brow_centres(
    model: FaceModel, assets: str | Path | None, brow_lift_cm: float = register.BROW_LIFT_CM
) -> BrowCentres:
    """Only the brow positions (what re-labelling needs), without textures or lights;
    ``brow_lift_cm`` is that of the faces' look revision (:func:`register.brow_lift`)."""
    root = find_assets(assets)
    reg = register.load(model, root, lambda *_: None, brow_lift_cm)
    return _brow_centres(model, load_cards(model, reg, root, "eyebrows", BROWS))


def load_appearance(model: FaceModel, assets: str | Path | None) -> Appearance:
    root = find_assets(assets)
    reg = register.load(model, root, progress=lambda *_: None)
    cards = {
        kind: load_cards(model, reg, root, kind, names)
        for kind, names in (("hair", HAIR), ("eyebrows", BROWS), ("eyelashes", LASHES))
    }
    irises = []
    for n in IRISES:
        p = root / f"makehuman/proxies/eyes/materials/{n}_eye.png"
        if p.exists():
            irises.append(_iris(p))
    app = Appearance(
        root,
        SkinBank(model, reg, root, progress=lambda *_: None),
        cards,
        irises,
        HdriBank(root),
        _brow_centres(model, cards["eyebrows"]),
    )
    for what, items in app.names().items():
        if not items:
            raise SynthmarksError(f"{root}: no usable {what} in the assets folder")
    return app
