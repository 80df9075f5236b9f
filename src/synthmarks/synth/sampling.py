"""Every random choice of a synthetic face, drawn from one seeded generator and kept as JSON.

A sample is a pure function of its parameter record (``sample_params`` output), so the record saved
beside each image re-makes it exactly. Randomness that is cheaper to leave as a seed (noise fields,
occluder shapes, sensor noise) is itself a seed inside the record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthmarks.errors import SynthmarksError

JAW_CONVENTIONS = ("xray", "outline")
#: Depths of the x-ray jaw (synth/labels.py, ``xray_jaw``)
XRAY_JAWS = ("3dmm", "raised", "matched", "mesh")
LOOKS = ("v1", "v2")
BROW_CONVENTIONS = ("edge", "centre")  # see synth/labels.py
#: Where the inner-lip points and points 56/58 sit along their lip lines (synth/labels.py)
LIP_POINTS = ("aligned", "mesh")
#: Where the lid points sit along their lids (synth/labels.py)
LID_POINTS = ("mesh", "even")
#: Where the nostril wings 31/35 and points 32/34 sit on the lower nose (synth/labels.py)
NOSE_POINTS = ("mesh", "rim")
#: Where the outline jaw runs on a frontal face (synth/labels.py)
OUTLINE_JAWS = ("even", "silhouette", "lines")


def check_conventions(jaw: str, brow: str, name: str) -> None:
    """Raise a one-line error for an unknown label convention; ``name`` is how the setting is
    spelt to the user, with ``{kind}`` for jaw/brow (``--{kind}-convention`` on the CLI)."""
    for kind, value, allowed in (("jaw", jaw, JAW_CONVENTIONS), ("brow", brow, BROW_CONVENTIONS)):
        if value not in allowed:
            raise SynthmarksError(
                f"{name.format(kind=kind)} must be one of {', '.join(allowed)}, not {value!r}"
            )


#: Expression groups: the shapes a real face tends to combine, with how likely each group is used.
EXPRESSION_GROUPS: dict[str, tuple[float, list[str]]] = {
    "smile": (0.30, ["mouthSmile_L", "mouthSmile_R", "cheekSquint_L", "cheekSquint_R"]),
    "jaw_open": (0.30, ["jawOpen"]),
    "blink": (0.12, ["eyeBlink_L", "eyeBlink_R"]),
    "squint": (0.15, ["eyeSquint_L", "eyeSquint_R"]),
    "wide": (0.10, ["eyeWide_L", "eyeWide_R"]),
    "brow_up": (0.20, ["browInnerUp_L", "browInnerUp_R", "browOuterUp_L", "browOuterUp_R"]),
    "brow_down": (0.15, ["browDown_L", "browDown_R"]),
    "frown": (0.12, ["mouthFrown_L", "mouthFrown_R"]),
    "pucker": (0.08, ["mouthPucker"]),
    "funnel": (0.06, ["mouthFunnel"]),
    "lips_roll": (0.06, ["mouthRollLower", "mouthRollUpper"]),
    "lower_down": (0.12, ["mouthLowerDown_L", "mouthLowerDown_R"]),
    "upper_up": (0.10, ["mouthUpperUp_L", "mouthUpperUp_R"]),
    "stretch": (0.10, ["mouthStretch_L", "mouthStretch_R"]),
    "press": (0.08, ["mouthPress_L", "mouthPress_R"]),
    "shrug": (0.06, ["mouthShrugLower", "mouthShrugUpper"]),
    "dimple": (0.06, ["mouthDimple_L", "mouthDimple_R"]),
    "mouth_side": (0.08, ["mouthLeft", "mouthRight"]),
    "jaw_side": (0.06, ["jawLeft", "jawRight", "jawForward"]),
    "cheek_puff": (0.04, ["cheekPuff_L", "cheekPuff_R"]),
    "sneer": (0.06, ["noseSneer_L", "noseSneer_R"]),
}
#: Groups whose left/right shapes should move together (symmetric) most of the time.
_PAIRED_ONE_OF = {"mouth_side", "jaw_side"}

#: Hair colours (linear-ish RGB, 0..1): black, browns, blond, red, grey/white.
HAIR_COLOURS = np.array(
    [
        [0.020, 0.016, 0.014],
        [0.045, 0.030, 0.022],
        [0.09, 0.055, 0.035],
        [0.16, 0.10, 0.06],
        [0.30, 0.20, 0.11],
        [0.50, 0.38, 0.22],
        [0.62, 0.50, 0.32],
        [0.30, 0.10, 0.04],
        [0.45, 0.43, 0.41],
        [0.75, 0.73, 0.70],
    ]
)
HAIR_COLOUR_P = np.array([0.22, 0.2, 0.17, 0.12, 0.08, 0.05, 0.03, 0.04, 0.05, 0.04])

IRIS_COLOURS = np.array(
    [
        [0.12, 0.06, 0.03],
        [0.25, 0.14, 0.06],
        [0.35, 0.25, 0.12],
        [0.25, 0.32, 0.18],
        [0.22, 0.33, 0.45],
        [0.35, 0.45, 0.55],
        [0.30, 0.32, 0.33],
    ]
)
IRIS_COLOUR_P = np.array([0.35, 0.25, 0.1, 0.08, 0.1, 0.07, 0.05])


#: Side of ICT-FaceKit's neutral 68-point box, cm (14.7 wide, 13.8 tall): converts a camera
#: distance into the focal length that frames an average face at the drawn ``face_scale``.
FACE_BOX_CM = 14.7


@dataclass
class SynthConfig:
    """Settings of one ``synthmarks synth`` run; saved with the output so a resume must match."""

    size: int = 256
    supersample: int = 1
    jaw_convention: str = "xray"
    brow_convention: str = "centre"
    #: Depth of the x-ray jaw points (synth/labels.py): "3dmm", where 3-D morphable models and
    #: so AFLW2000-3D put them, 2-2.6 cm behind ICT-FaceKit's jaw vertices; "mesh", on those
    #: vertices (runs made before); "raised", the 3dmm points lifted 3.5-8 mm to the height of
    #: AFLW2000-3D's frontal labels, "matched" the same height compared at the same pitch
    #: (experiments). docs/experiments.md, "The x-ray jaw's depth" and "... height".
    xray_jaw: str = "3dmm"
    #: Points 61/63/65/67 (inner lips) and 56/58 (lower lip): "aligned", on the vertical lines
    #: through the cupid's bow peaks 50/52, where the 68-point mark-up puts them; "mesh", on
    #: ICT-FaceKit's landmark vertices, 3-5 mm further out (runs made before).
    #: docs/experiments.md, "The lip points".
    lip_points: str = "aligned"
    #: The lid points 37/38, 40/41, 43/44, 46/47: "mesh", on ICT-FaceKit's landmark vertices,
    #: which crowd each lid's outer corner; "even", at thirds of each lid in the image, as
    #: 300-W's annotators spread them (an experiment, not adopted: the x-ray references keep
    #: them nearer the corner; docs/experiments.md, "The jaw's and the lids' spacing").
    lid_points: str = "mesh"
    #: Nose points 31/35 (the nostril wings) and 32/34: "mesh", on ICT-FaceKit's landmark
    #: vertices, level with the subnasale 33; "rim", on the nostril wing's lower outer edge
    #: seen from the front, 2-3 mm higher and further out, where all four labelled references
    #: put them (measured: AFW -0.03, resolved, the x-ray sets level; not adopted on its own;
    #: docs/experiments.md, "The nose's wings").
    nose_points: str = "mesh"
    #: The outline jaw (``jaw_convention="outline"`` and meta.json's ``jaws``): "even", points
    #: 4-12 on the jaw's lower edge as seen, where 300-W's annotators draw a frontal face's
    #: chin, and points 1-7 and 9-15 spaced evenly along that outline, as the 68-point mark-up
    #: spaces them; "silhouette", the same edge with the points where ICT's vertices march to,
    #: crowded towards the chin (runs made before); "lines", marching sideways only, which
    #: leaves points 4-12 on ICT's vertices on the front of the chin, 0.5-1 cm higher (runs
    #: made before that). docs/experiments.md, "The chin" and "The jaw's and the lids' spacing".
    outline_jaw: str = "even"
    yaw_max: float = 90.0
    pitch_max: float = 40.0
    roll_max: float = 45.0
    #: Fraction of samples whose yaw is uniform over +-yaw_max; the rest are near-frontal.
    p_wide_yaw: float = 0.45
    #: Side of the 68-point box as a fraction of the image side (min, max).
    face_scale: tuple[float, float] = (0.22, 0.72)
    #: Camera-to-face distance in cm, log-uniform (min, max): from a selfie at arm's length to
    #: across a room, where photographs of faces are taken; the focal length follows from it
    #: and the face's size in the image. ``None`` (runs made before it) draws a 28-140 mm focal
    #: length over the image instead, which put half the faces closer than 60 cm (one in seven
    #: closer than 30), with a perspective that pulls the jaw 8 % inwards on average
    #: (docs/experiments.md, "the jaw").
    camera_distance_cm: tuple[float, float] | None = (35.0, 300.0)
    identity_sigma: float = 1.2
    p_hair: float = 0.88
    p_long_hair: float = 0.30
    p_beard: float = 0.18
    p_stubble: float = 0.25
    p_makeup: float = 0.30
    p_glasses: float = 0.15
    p_headwear: float = 0.10
    p_clothing: float = 0.95
    p_occluder: float = 0.35
    p_photo_background: float = 0.55
    backgrounds: str | None = None
    #: "v2": the photoreal layers below (MakeHuman skins and cards, HDRI light); "v1": the
    #: procedural look alone (runs made before v2 read as v1).
    look: str = "v2"
    #: Folder of the CC0 assets (else found: synth/assets.py).
    assets: str | None = None
    p_real_skin: float = 0.85
    p_skin_tone_shift: float = 0.5
    p_hair_cards: float = 0.8
    p_card_brows: float = 0.7
    p_card_lashes: float = 0.7
    p_texture_eyes: float = 0.9
    p_hdri_light: float = 0.85
    p_hdri_background: float = 0.8
    p_shadows: float = 0.85
    #: Share of a v2 run's faces drawn in the v1 look all through (look mixing: the procedural
    #: skin, cap hair and key light beside the photographed ones, so that no one rendering
    #: style is all a model learns a face from). Each such face is the v1 run's face of its
    #: seed and index, pixel for pixel.
    p_look_v1: float = 0.0
    #: Share of faces whose lips are parted on top of their drawn expression (a little jaw
    #: drop, upper lip raised and lower lip lowered, teeth showing). Faces in photographs talk,
    #: breathe and smile with their lips apart: the inner lips of half of AFW's and two thirds of
    #: AFLW2000-3D's faces are apart by more than a tenth of the nose's length, against a quarter
    #: of the generator's faces without it, and a model trained on those reads real open mouths
    #: as 0.3-0.5x as open as they are (docs/experiments.md, "Mouths"). Drawn last, from the
    #: face's own generator, so 0 leaves every face of a run as it was. 0.4 (56 % of faces open)
    #: since two training seeds put it ahead of revision 4 on AFW and Face Synthetics.
    p_parted_lips: float = 0.4
    #: Angular radius (degrees) of the shadow-casting key light, log-uniform (min, max): from
    #: the sun (0.27) to a window or softbox beside the face (20 and more). A shadow's edge is
    #: as soft as the light is wide (its penumbra spans twice the occluder's distance times the
    #: tangent of this angle); revision 4's point light drew every nose, lip and hair shadow
    #: with a knife edge, which photographs lit by windows and overcast sky rarely show, and a
    #: model trained on it scored worse on Face Synthetics than one with no shadows at all
    #: (docs/experiments.md, "Soft shadows"). (0, 0): the point light. Drawn last.
    key_radius_deg: tuple[float, float] = (0.5, 20.0)
    #: Linear skin luminance above which an HDRI-lit face is exposed down, by the square root of
    #: its skin's albedo over this (a camera meters the light a face reflects; look revision 8).
    #: Revisions 2-7 metered the light falling on the face alone and clipped the palest skins in
    #: 6 % of photoreal faces against 0.3-1.5 % of real ones (docs/synth.md, "Exposure"). 0: off,
    #: revision 7's exposure, pixel for pixel (the released default's sets).
    meter_albedo_ref: float = 0.35
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> SynthConfig:
        check_conventions(self.jaw_convention, self.brow_convention, "{kind}_convention")
        if not 32 <= self.size <= 2048:
            raise SynthmarksError(f"--size must be between 32 and 2048, not {self.size}")
        for name, allowed in (
            ("xray_jaw", XRAY_JAWS),
            ("lip_points", LIP_POINTS),
            ("lid_points", LID_POINTS),
            ("nose_points", NOSE_POINTS),
            ("outline_jaw", OUTLINE_JAWS),
            ("look", LOOKS),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise SynthmarksError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.supersample not in (1, 2, 3, 4):
            raise SynthmarksError(f"supersample must be 1..4, not {self.supersample}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not (isinstance(value, int | float) and 0 <= value <= 1):
                raise SynthmarksError(f"{f.name} is a probability: 0..1, not {value!r}")
        lo, hi = self.face_scale
        if not 0.05 <= lo <= hi <= 1.5:
            raise SynthmarksError(
                f"face_scale must be 0.05 <= min <= max <= 1.5, not {self.face_scale}"
            )
        lo, hi = self.key_radius_deg
        if not (0 <= lo <= hi <= 45 and (lo > 0 or hi == 0)):
            raise SynthmarksError(
                "key_radius_deg must be 0 < min <= max <= 45 degrees, or (0, 0) for a point "
                f"light, not {self.key_radius_deg}"
            )
        if not (isinstance(self.meter_albedo_ref, int | float) and 0 <= self.meter_albedo_ref <= 1):
            raise SynthmarksError(
                f"meter_albedo_ref is a skin luminance: 0 (off) to 1, not {self.meter_albedo_ref!r}"
            )
        if self.camera_distance_cm is not None:
            near, far = self.camera_distance_cm
            if not 10 <= near <= far <= 10_000:
                raise SynthmarksError(
                    "camera_distance_cm must be 10 <= min <= max <= 10000 (cm), "
                    f"not {self.camera_distance_cm}"
                )
        return self

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["face_scale"] = list(self.face_scale)
        d["key_radius_deg"] = list(self.key_radius_deg)
        if self.camera_distance_cm is not None:
            d["camera_distance_cm"] = list(self.camera_distance_cm)
        return d

    def with_overrides(self, items: list[str]) -> SynthConfig:
        """A copy with ``--set KEY=VALUE`` overrides applied (``p_occluder=0``,
        ``face_scale=[0.3,0.6]``): how an ablation turns one appearance feature off without a new
        flag per field. The syntax and checks are every command's (:mod:`synthmarks.config`)."""
        from synthmarks import config

        return config.build(SynthConfig, self.to_json(), overrides=items)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SynthConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw.setdefault("look", "v1")  # made before the photoreal look existed
        kw.setdefault("brow_convention", "edge")  # made before brows had a convention
        kw.setdefault("xray_jaw", "mesh")  # made when the x-ray jaw was ICT's vertices
        kw.setdefault("lip_points", "mesh")  # made when the lip points were ICT's vertices
        kw.setdefault("lid_points", "mesh")  # made when the lid points were ICT's vertices
        kw.setdefault("nose_points", "mesh")  # made when the nose points were ICT's vertices
        kw.setdefault("outline_jaw", "lines")  # made when the outline only marched sideways
        kw.setdefault("camera_distance_cm", None)  # made when the focal length was drawn
        kw.setdefault("p_parted_lips", 0.0)  # made before lips were parted on top
        kw.setdefault("key_radius_deg", (0.0, 0.0))  # made when every key light was a point
        kw.setdefault("meter_albedo_ref", 0.0)  # made when the meter read the light alone
        for key in ("face_scale", "camera_distance_cm", "key_radius_deg"):
            if kw.get(key) is not None:
                kw[key] = tuple(kw[key])
        return cls(**kw).validate()


def _f(x: Any) -> Any:
    """Plain Python numbers/lists for JSON."""
    if isinstance(x, np.ndarray):
        return [_f(v) for v in x.tolist()]
    if isinstance(x, list | tuple):
        return [_f(v) for v in x]
    if isinstance(x, np.floating | float):
        return round(float(x), 6)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _skin_tone(rng: np.random.Generator) -> list[float]:
    """Skin albedo from melanin and haemoglobin amounts, covering light to very dark skin.

    A two-chromophore blend: melanin absorbs strongly towards blue, haemoglobin adds red. The
    melanin amount is drawn from a broad mixture so every Fitzpatrick type is common.
    """
    melanin = float(
        np.clip(
            rng.choice(
                [rng.uniform(0.0, 0.35), rng.uniform(0.3, 0.7), rng.uniform(0.6, 1.0)],
                p=[0.45, 0.33, 0.22],
            ),
            0,
            1,
        )
    )
    hb = rng.uniform(0.2, 0.8)
    light = np.array([0.78, 0.60, 0.50])
    dark = np.array([0.16, 0.085, 0.05])
    base = light * (dark / light) ** melanin
    base = base * (1 + hb * np.array([0.10, -0.06, -0.04]) * (1 - 0.5 * melanin))
    base *= rng.uniform(0.92, 1.08, 3) ** 0.5  # slight hue jitter (yellow/olive/pink undertones)
    return _f(np.clip(base, 0.02, 0.95))


def _expression(rng: np.random.Generator, names: list[str]) -> dict[str, float]:
    weights: dict[str, float] = {}
    if rng.random() < 0.25:  # a quarter of faces are neutral
        return weights
    for group, (p, shapes) in EXPRESSION_GROUPS.items():
        if rng.random() >= p:
            continue
        strength = float(rng.beta(1.6, 1.6))
        if group in _PAIRED_ONE_OF:
            weights[str(rng.choice(shapes))] = strength * 0.8
            continue
        asym = rng.random() < 0.2
        for s in shapes:
            w = strength * (rng.uniform(0.3, 1.0) if asym else rng.uniform(0.85, 1.0))
            weights[s] = round(max(weights.get(s, 0.0), w), 4)
    if "jawOpen" in weights and rng.random() < 0.5:
        weights["jawOpen"] = round(weights["jawOpen"] * rng.uniform(0.2, 1.0), 4)
    return {k: v for k, v in weights.items() if k in names}


def _parted_lips(
    rng: np.random.Generator, weights: dict[str, float], names: list[str]
) -> dict[str, float]:
    """``weights`` with the lips drawn apart: the jaw dropped a little (ICT's jawOpen at 0.03-0.3
    parts the inner lips by 4-21 % of the nose's length) and the lips pulled off the teeth
    (mouthUpperUp / mouthLowerDown, together up to another 15 %); half of these faces also
    smile, because in photographs most open mouths are smiles showing the teeth, which ICT's
    smile shapes alone never part. A mouth the expression already opened further stays so."""
    lift = rng.uniform(0.0, 0.6, 2)
    parted = {
        "jawOpen": rng.uniform(0.03, 0.3),
        "mouthUpperUp_L": lift[0],
        "mouthUpperUp_R": lift[0] * rng.uniform(0.8, 1.0),
        "mouthLowerDown_L": lift[1],
        "mouthLowerDown_R": lift[1] * rng.uniform(0.8, 1.0),
    }
    if rng.random() < 0.5:
        smile = rng.uniform(0.4, 1.0)
        for side in "LR":
            parted[f"mouthSmile_{side}"] = smile * rng.uniform(0.85, 1.0)
            parted[f"cheekSquint_{side}"] = smile * rng.uniform(0.3, 0.8)
    out = dict(weights)
    for k, v in parted.items():
        if k in names:
            out[k] = round(max(out.get(k, 0.0), float(v)), 4)
    return out


def _pose(rng: np.random.Generator, cfg: SynthConfig) -> list[float]:
    if rng.random() < cfg.p_wide_yaw:
        yaw = rng.uniform(-cfg.yaw_max, cfg.yaw_max)
    else:
        yaw = rng.normal(0, 15)
    pitch = rng.normal(0, 12) if rng.random() < 0.8 else rng.uniform(-cfg.pitch_max, cfg.pitch_max)
    roll = rng.normal(0, 9) if rng.random() < 0.85 else rng.uniform(-cfg.roll_max, cfg.roll_max)
    return _f(
        [
            np.clip(pitch, -cfg.pitch_max, cfg.pitch_max),
            np.clip(yaw, -cfg.yaw_max, cfg.yaw_max),
            np.clip(roll, -cfg.roll_max, cfg.roll_max),
        ]
    )


def sample_params(
    rng: np.random.Generator,
    cfg: SynthConfig,
    expression_names: list[str],
    catalogue: dict | None = None,
) -> dict:
    """Draw one face's full parameter record (JSON-serialisable).

    ``catalogue`` (:meth:`Appearance.catalogue`) lists the photoreal assets to draw from; the
    v2 choices come from their own generator, seeded after every v1 draw, so a v2 face shares
    its identity, pose, expression and camera with the v1 face of the same seed and index."""
    p: dict[str, Any] = {}
    p["identity"] = _f(np.clip(rng.normal(0, cfg.identity_sigma, 100), -3.5, 3.5))
    p["expression"] = _expression(rng, expression_names)
    blink = max(p["expression"].get("eyeBlink_L", 0), p["expression"].get("eyeBlink_R", 0))
    # [yaw (+ towards the subject's left), pitch (+ up)]; eyes rarely turn far from the head
    p["gaze_deg"] = _f(
        [
            np.clip(rng.normal(0, 14), -30, 30) * (1 - blink),
            np.clip(rng.normal(0, 7), -18, 18) * (1 - blink),
        ]
    )
    p["pose_deg"] = _pose(rng, cfg)
    p["body_yaw_frac"] = _f(rng.uniform(0.3, 1.0))  # how much of the head yaw the torso follows

    # Camera: a distance (or, in older runs, a 35 mm-equivalent focal length over the image);
    # one draw either way, so the draws after it are the same for both.
    near, far = cfg.camera_distance_cm or (28.0, 140.0)
    drawn = float(np.exp(rng.uniform(np.log(near), np.log(far))))
    p["face_scale"] = _f(rng.uniform(*cfg.face_scale))
    if cfg.camera_distance_cm is None:
        p["focal_35mm"] = _f(drawn)
    else:  # the focal length that shows a face of average size this big from that far
        p["camera_distance_cm"] = _f(drawn)
        p["focal_35mm"] = _f(36.0 * p["face_scale"] * drawn / FACE_BOX_CM)
    p["face_center"] = _f(rng.uniform(0.5 - 0.12, 0.5 + 0.12, 2))

    # Skin
    skin = {
        "albedo": _skin_tone(rng),
        "redness": _f(rng.uniform(0.0, 1.0)),
        "noise_amp": _f(rng.uniform(0.04, 0.16)),
        "pores": _f(rng.uniform(0.02, 0.12)),
        "freckles": _f(rng.uniform(0, 0.6) if rng.random() < 0.2 else 0.0),
        "blemishes": _f(rng.uniform(0, 0.5) if rng.random() < 0.3 else 0.0),
        "age": _f(rng.uniform(0, 1)),
        "spec": _f(rng.uniform(0.15, 0.6)),
        "roughness": _f(rng.uniform(0.3, 0.7)),
        "noise_offset": _f(rng.uniform(0, 1, 4)),
    }
    p["skin"] = skin
    makeup = rng.random() < cfg.p_makeup
    p["makeup"] = {
        "lipstick": _f(rng.uniform(0.2, 0.9) if makeup and rng.random() < 0.7 else 0.0),
        "lip_colour": _f(rng.uniform([0.3, 0.02, 0.05], [0.75, 0.2, 0.3])),
        "eyeshadow": _f(rng.uniform(0.2, 0.8) if makeup and rng.random() < 0.6 else 0.0),
        "eyeshadow_colour": _f(rng.uniform([0.05, 0.03, 0.03], [0.5, 0.35, 0.45])),
        "eyeliner": _f(rng.uniform(0.3, 1.0) if makeup and rng.random() < 0.5 else 0.0),
        "blush": _f(rng.uniform(0.1, 0.5) if makeup and rng.random() < 0.5 else 0.0),
    }
    hair_i = int(rng.choice(len(HAIR_COLOURS), p=HAIR_COLOUR_P))
    hair_col = HAIR_COLOURS[hair_i] * rng.uniform(0.8, 1.2, 3) ** 0.3
    brow_col = hair_col * rng.uniform(0.6, 1.0) if hair_i < 8 else HAIR_COLOURS[1] * 2
    p["brows"] = {
        "colour": _f(brow_col),
        "thickness": _f(rng.uniform(0.5, 1.5)),
        "density": _f(rng.uniform(0.45, 1.0)),
        "arch": _f(rng.uniform(-0.3, 0.4)),
    }
    has_hair = rng.random() < cfg.p_hair
    p["hair"] = {
        "present": bool(has_hair),
        "colour": _f(hair_col),
        "thickness_cm": _f(rng.uniform(0.15, 1.6)),
        "front_y": _f(rng.uniform(7.0, 11.5)),
        "recession": _f(rng.uniform(0.0, 3.0) if rng.random() < 0.35 else rng.uniform(0, 0.8)),
        "side_y": _f(rng.uniform(-1.0, 5.0)),
        "back_y": _f(rng.uniform(-9.0, -2.0)),
        "fringe": _f(rng.uniform(0.0, 5.0) if rng.random() < 0.25 else 0.0),
        "long": bool(has_hair and rng.random() < cfg.p_long_hair),
        "length_cm": _f(rng.uniform(8, 35)),
        "side_cover": _f(rng.uniform(0.0, 1.0)),
        "strand_scale": _f(rng.uniform(0.6, 1.6)),
        "shine": _f(rng.uniform(0.1, 0.6)),
        "seed": int(rng.integers(1 << 31)),
    }
    stubble = rng.random() < cfg.p_stubble
    beard = rng.random() < cfg.p_beard
    p["facial_hair"] = {
        "stubble": _f(rng.uniform(0.3, 1.0) if stubble or beard else 0.0),
        "beard": bool(beard),
        "beard_length_cm": _f(rng.uniform(0.2, 1.6)),
        "moustache": _f(rng.uniform(0.4, 1.0) if beard and rng.random() < 0.8 else 0.0),
        "beard_top": _f(rng.uniform(0.0, 1.0)),
        "colour": _f(
            hair_col if rng.random() < 0.8 else HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
        ),
    }
    p["eyes"] = {
        "iris_colour": _f(
            IRIS_COLOURS[rng.choice(len(IRIS_COLOURS), p=IRIS_COLOUR_P)]
            * rng.uniform(0.7, 1.3, 3) ** 0.4
        ),
        "pupil": _f(rng.uniform(0.25, 0.5)),
        "sclera": _f(rng.uniform([0.55, 0.5, 0.45], [0.85, 0.8, 0.78])),
    }
    p["teeth"] = _f(rng.uniform([0.55, 0.5, 0.38], [0.9, 0.86, 0.78]))
    p["glasses"] = None
    if rng.random() < cfg.p_glasses:
        p["glasses"] = {
            "width": _f(rng.uniform(4.6, 6.0)),
            "height": _f(rng.uniform(2.6, 4.6)),
            "roundness": _f(rng.uniform(0.1, 1.0)),
            "thickness": _f(rng.uniform(0.08, 0.45)),
            "offset_y": _f(rng.uniform(-0.5, 0.4)),
            "distance": _f(rng.uniform(1.2, 2.2)),
            "colour": _f(rng.uniform(0, 1, 3) ** 2.5 * (0.1 if rng.random() < 0.5 else 1.0)),
            "tint": _f(rng.uniform(0.0, 0.7) if rng.random() < 0.2 else 0.0),
        }
    p["headwear"] = None
    if rng.random() < cfg.p_headwear:
        p["headwear"] = {
            "kind": str(rng.choice(["beanie", "cap"])),
            "brim_y": _f(rng.uniform(6.0, 10.5)),
            "tilt": _f(rng.uniform(-0.15, 0.15)),
            "colour": _f(rng.uniform(0, 1, 3) ** 1.8),
            "pattern": _f(rng.uniform(0, 1)),
        }
    p["clothing"] = {
        "present": bool(rng.random() < cfg.p_clothing),
        "colour": _f(rng.uniform(0, 1, 3) ** 1.6),
        "collar_y": _f(rng.uniform(-19.0, -12.5)),
        "pattern": int(rng.integers(4)),
        "pattern_colour": _f(rng.uniform(0, 1, 3)),
        "shoulder": _f(rng.uniform(17.0, 23.0)),
    }
    # Lighting: a key light, an optional fill, hemispheric ambient tied to the background.
    key_dir = _f([rng.uniform(-1, 1), rng.uniform(-0.4, 1.0), rng.uniform(0.1, 1.0)])
    p["light"] = {
        "key_dir": key_dir,
        "key_colour": _f(
            np.array([1.0, rng.uniform(0.85, 1.0), rng.uniform(0.7, 1.05)]) * rng.uniform(0.6, 2.2)
        ),
        "fill_dir": _f([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.0, 1.0)]),
        "fill_colour": _f(rng.uniform(0.0, 0.6, 3) * (rng.random() < 0.6)),
        "ambient": _f(rng.uniform(0.15, 0.7)),
        "env_from_background": _f(rng.uniform(0.3, 1.0)),
        # read by no renderer (shadows are the v2 look's own layer); still drawn so that every
        # later draw, and so face i of a seed, stays what it was
        "shadow": _f(rng.uniform(0.3, 1.0)),
        "exposure": _f(rng.uniform(0.85, 1.2)),
    }
    p["background"] = {
        "photo": bool(rng.random() < cfg.p_photo_background),
        "seed": int(rng.integers(1 << 31)),
    }
    p["occluders"] = {
        "count": int(rng.integers(1, 4)) if rng.random() < cfg.p_occluder else 0,
        "seed": int(rng.integers(1 << 31)),
    }
    p["camera_fx"] = {
        "blur": _f(rng.uniform(0, 1.2) if rng.random() < 0.3 else 0.0),
        "noise": _f(rng.uniform(0, 0.04)),
        "jpeg": int(rng.integers(35, 95)) if rng.random() < 0.4 else 0,
        "gamma": _f(rng.uniform(0.85, 1.15)),
        "saturation": _f(rng.uniform(0.7, 1.2)),
        "vignette": _f(rng.uniform(0, 0.35)),
        "grey": bool(rng.random() < 0.04),
        "seed": int(rng.integers(1 << 31)),
    }
    p["jaw_convention"] = cfg.jaw_convention
    p["brow_convention"] = cfg.brow_convention
    p["xray_jaw"] = cfg.xray_jaw
    p["lip_points"] = cfg.lip_points
    p["lid_points"] = cfg.lid_points
    p["nose_points"] = cfg.nose_points
    p["outline_jaw"] = cfg.outline_jaw
    # Both looks make these two draws, so the parted lips drawn after them are the same for a
    # face of either look (a mixed run's v1 faces are the v1 run's, mouths included).
    photoreal_seed = int(rng.integers(1 << 62))
    drawn_v1 = rng.random() < cfg.p_look_v1  # it changes no other choice
    if cfg.look == "v2":
        if catalogue is None:
            raise SynthmarksError("the photoreal look needs its asset catalogue")
        if not drawn_v1:
            p["v2"] = _photoreal(np.random.default_rng(photoreal_seed), cfg, p, catalogue)
    if cfg.p_parted_lips > 0 and rng.random() < cfg.p_parted_lips:  # the last draws
        p["expression"] = _parted_lips(rng, p["expression"], expression_names)
    if "v2" in p:
        lo, hi = cfg.key_radius_deg
        u = rng.random()
        p["v2"]["key_radius_deg"] = _f(lo * (hi / lo) ** u if lo > 0 else 0.0)
    return p


#: Melanin-like absorption per channel: a tone shift darkens blue most and red least. Melanin's
#: absorption falls with wavelength about as lambda^-3.3 (0.71 : 1 : 1.74 at 610 / 550 / 465 nm),
#: but light diffusing through skin makes the log-reflectance follow its square root (0.84 : 1 :
#: 1.32); scaled so that a shift of 0.8 darkens green 0.35x. The raw ratios (0.6, 1.3, 2.0 before)
#: tripled red against blue at the extremes and gave the orange and grey-blue casts.
_MELANIN_RGB = np.array([1.09, 1.3, 1.72])


def _photoreal(r: np.random.Generator, cfg: SynthConfig, p: dict, cat: dict) -> dict:
    """The photoreal layers of one face: which skin, cards, iris and environment, and how."""
    lk: dict[str, Any] = {}
    real_skin = r.random() < cfg.p_real_skin
    lk["skin"] = str(r.choice(cat["skins"])) if real_skin else None
    shift = r.uniform(-0.8, 0.8) if r.random() < cfg.p_skin_tone_shift else 0.0
    lk["skin_gain"] = _f(np.exp(-shift * _MELANIN_RGB) * r.uniform(0.93, 1.07, 3))
    lk["bump"] = _f(r.uniform(0.05, 0.3))
    hair_card = p["hair"]["present"] and not p["headwear"] and r.random() < cfg.p_hair_cards
    lk["hair_card"] = str(r.choice(list(cat["hair"]))) if hair_card else None
    if lk["hair_card"] is not None and r.random() < 0.6:  # recoloured to the drawn hair colour
        mean = np.maximum(np.asarray(cat["hair"][lk["hair_card"]]), 0.004)
        lk["hair_tint"] = _f(np.clip(np.asarray(p["hair"]["colour"]) / mean, 0.15, 6.0))
    else:
        lk["hair_tint"] = _f(r.uniform(0.85, 1.15, 3))
    lk["brow_card"] = str(r.choice(cat["eyebrows"])) if r.random() < cfg.p_card_brows else None
    lk["brow_tint"] = p["brows"]["colour"]
    lk["lash_card"] = str(r.choice(cat["eyelashes"])) if r.random() < cfg.p_card_lashes else None
    lk["lash_tint"] = _f(np.asarray(p["brows"]["colour"]) * 0.5)
    lk["iris"] = str(r.choice(cat["irises"])) if r.random() < cfg.p_texture_eyes else None
    hdri = r.random() < cfg.p_hdri_light
    lk["hdri"] = str(r.choice(cat["hdri"])) if hdri else None
    lk["env_yaw"] = _f(r.uniform(0, 360))
    lk["env_tilt"] = _f(r.normal(0, 8))
    lk["exposure_ev"] = _f(r.normal(0, 0.45))
    lk["hdri_background"] = bool(hdri and r.random() < cfg.p_hdri_background)
    lk["background_blur"] = _f(r.uniform(0.3, 3.5))
    lk["shadows"] = bool(r.random() < cfg.p_shadows)
    _facial_hair(r, p, lk, cat)
    return lk


def _facial_hair(r: np.random.Generator, p: dict, lk: dict, cat: dict) -> None:
    """Beard and stubble that belong to the face they are on (look revision 3).

    Revision 2 drew them as v1 did, independent of everything else, and they looked pasted on:
    a beard on a woman's photographed skin, a pale blond bib under dark hair (the scalp hair then
    showed its card's own colour, the beard the drawn one), running down the neck to the collar.
    Now a female skin has neither, the beard takes the colour of the hair that is seen, a little
    darker, thinner in some faces (``beard_density``), and it ends 0-2 cm below the chin
    (``beard_neck_cm``: the renderer fades it out there).
    Drawn last, so that every earlier choice of a face is the one revision 2 made.
    """
    fh = p["facial_hair"]
    if lk["skin"] is not None and "female" in lk["skin"]:
        fh.update(beard=False, stubble=0.0, moustache=0.0)
    seen = np.asarray(p["hair"]["colour"])
    if lk["hair_card"] is not None:
        seen = np.asarray(cat["hair"][lk["hair_card"]]) * np.asarray(lk["hair_tint"])
    fh["colour"] = _f(np.clip(seen * r.uniform(0.5, 0.9), 0.0, 1.0))
    lk["beard_neck_cm"] = _f(r.uniform(0.0, 2.0))
    lk["beard_density"] = _f(r.uniform(0.6, 1.0))
    # revision 4: fur shells, mostly short (log-uniform 1.5 mm - 1.2 cm; the v1 draw, uniform
    # 0.2-1.6 cm, stood off the jaw like a bib)
    fh["beard_length_cm"] = _f(0.15 * 8.0 ** r.uniform())


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of a run seeded ``seed``, whatever the order and count."""
    return np.random.default_rng([int(seed), int(index)])
