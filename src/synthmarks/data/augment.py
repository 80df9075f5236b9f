"""Training augmentations: one affine warp for all geometry, cheap photometric ops on the crop.

Geometry (detector-box jitter in scale and shift, rotation, horizontal flip) is folded into the
single 2x3 matrix that also does the crop, so each sample costs one ``cv2.warpAffine`` and the
labels follow the pixels exactly: they go through the same matrix. A flip also relabels the points
with :data:`~synthmarks.landmarks.FLIP_PERMUTATION` so index 36 is still the subject's right eye
corner. Photometric ops (colour, grayscale, blur, noise, JPEG, occluders) then run on the small
crop, where they are cheap.

Every op has its own probability (0 switches it off) and strength, and draws from the caller's
``numpy.random.Generator``: the dataset seeds one per (seed, epoch, index), which is what makes
training repeatable across processes, data-loader workers and ``--resume``.

With ``enabled=False`` (validation) the crop is exactly the evaluation protocol's: a square of
``crop_scale`` times the longer side of the 68-point box, centred on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthmarks.data import crop
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import bounding_box, flip_permutation
from synthmarks.pose import flip_pose, matrix_roll, rotate_pose


@dataclass
class AugmentConfig:
    """Switches and strengths; a probability of 0 turns an op off. Sizes are crop fractions."""

    enabled: bool = True
    #: crop side multiplier range (log-uniform): a detector's box is not the landmark box
    scale: tuple[float, float] = (0.85, 1.15)
    #: max crop-centre offset, as a fraction of the crop side, in x and y independently
    shift: float = 0.06
    rotate_p: float = 0.6
    rotate_deg: float = 30.0
    flip_p: float = 0.5
    color_p: float = 0.8
    brightness: float = 0.25  # +-, fraction of the 0-255 range
    contrast: float = 0.3  # factor in [1 - c, 1 + c]
    saturation: float = 0.4  # factor in [1 - s, 1 + s]
    channel_gain: float = 0.1  # per-channel white-balance gain in [1 - g, 1 + g]
    gray_p: float = 0.1
    blur_p: float = 0.2
    blur_sigma: tuple[float, float] = (0.3, 1.5)  # pixels of the crop; a third of blurs are motion
    noise_p: float = 0.2
    noise_std: tuple[float, float] = (2.0, 10.0)  # Gaussian noise std in 0-255 units
    jpeg_p: float = 0.3
    jpeg_quality: tuple[int, int] = (30, 90)
    occlude_p: float = 0.3
    occlude_max: int = 2  # occluders per occluded sample: 1..occlude_max
    occlude_size: tuple[float, float] = (0.1, 0.4)  # occluder extent, fraction of the crop side
    #: mark points under an occluder invisible (the loss can still train on them: see TrainConfig)
    occlude_visibility: bool = True
    #: a second face beside the first, partly in the crop (group photos): a copy of the crop's own
    #: face, mirrored or not, pasted this far to the side (its centre, in crop sides) and rescaled
    #: by ``second_face_scale``; 0 (the default) draws nothing, so older runs augment as before
    second_face_p: float = 0.0
    second_face_shift: tuple[float, float] = (0.5, 0.85)
    second_face_scale: tuple[float, float] = (0.8, 1.2)
    #: a face mask over the nose, mouth and chin, shaped from the crop's own points: the
    #: generator draws none, masked faces are common in photographs, and a Face Synthetics face
    #: behind one is the released models' worst; 0 (the default) draws nothing, so older runs
    #: augment as before
    face_mask_p: float = 0.0

    def validate(self) -> AugmentConfig:
        """Raise a one-line error naming every setting out of range (the training config's
        ``augment`` section is checked here)."""
        errs = []
        for name in (
            "rotate_p",
            "flip_p",
            "color_p",
            "gray_p",
            "blur_p",
            "noise_p",
            "jpeg_p",
            "occlude_p",
            "second_face_p",
            "face_mask_p",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                errs.append(f"{name}: a probability must be in [0, 1]")
        for name in (
            "scale",
            "blur_sigma",
            "noise_std",
            "jpeg_quality",
            "occlude_size",
            "second_face_shift",
            "second_face_scale",
        ):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                errs.append(f"{name}: expected [low, high] with 0 <= low <= high")
        if self.scale[0] <= 0:
            errs.append("scale: must be positive")
        if not (1 <= self.jpeg_quality[0] and self.jpeg_quality[1] <= 100):
            errs.append("jpeg_quality: must lie in [1, 100]")
        if not 0 <= self.shift < 0.5:
            errs.append("shift: must be in [0, 0.5)")
        if not 0 <= self.rotate_deg <= 180:
            errs.append("rotate_deg: must be in [0, 180]")
        if self.occlude_max < 1:
            errs.append("occlude_max: must be at least 1")
        for name in ("brightness", "contrast", "saturation", "channel_gain"):
            if not 0 <= getattr(self, name) <= 1:
                errs.append(f"{name}: must be in [0, 1]")
        if errs:
            raise SynthmarksError("config: " + "; ".join(f"augment.{e}" for e in errs))
        return self

    def reach(self) -> float:
        """How far from the base crop's centre, in base-crop sides, an augmented crop can sample:
        a pre-decoded cache must cover at least twice this around each face."""
        if not self.enabled:
            return 0.5
        a = np.deg2rad(min(self.rotate_deg, 45.0) if self.rotate_p > 0 else 0.0)
        return float(self.scale[1] * (np.cos(a) + np.sin(a)) / 2 + self.shift * self.scale[1])


@dataclass
class Augmented:
    """One training crop: RGB uint8 (S, S, 3), points in crop pixels (N, 2), visibility (N,),
    and the head pose (pitch, yaw, roll degrees) as seen in the crop when the sample has one."""

    image: np.ndarray
    points: np.ndarray
    visibility: np.ndarray
    pose: np.ndarray | None = None


class Augmenter:
    """Turns (image, points) into an augmented square crop of ``input_size`` pixels."""

    def __init__(self, cfg: AugmentConfig, input_size: int, crop_scale: float) -> None:
        self.cfg = cfg
        self.size = input_size
        self.crop_scale = crop_scale

    def geometry(self, points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
        """The image-to-crop matrix for this draw and whether it mirrors the face."""
        cfg, s = self.cfg, self.size
        x0, y0, x1, y1 = bounding_box(points)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        side = max(x1 - x0, y1 - y0, 1.0) * self.crop_scale
        if not cfg.enabled:
            return crop.crop_matrix(centre, side, s), False
        lo, hi = np.log(cfg.scale[0]), np.log(cfg.scale[1])
        side *= float(np.exp(rng.uniform(lo, hi)))
        centre = centre + rng.uniform(-cfg.shift, cfg.shift, 2) * side
        angle = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg) if rng.random() < cfg.rotate_p else 0.0
        matrix = crop.crop_matrix(centre, side, s, angle)
        flip = bool(rng.random() < cfg.flip_p)
        if flip:  # mirror the crop: x -> S - 1 - x in the pixel-centre convention
            mirror = np.array([[-1.0, 0.0, s - 1.0], [0.0, 1.0, 0.0]])
            matrix = mirror @ np.vstack([matrix, [0, 0, 1]])
        return matrix, flip

    def __call__(
        self,
        image: np.ndarray,
        points: np.ndarray,
        visibility: np.ndarray | None,
        rng: np.random.Generator,
        image_matrix: np.ndarray | None = None,
        pose: np.ndarray | None = None,
    ) -> Augmented:
        """Crop and augment. ``image_matrix`` maps the original image's pixels to ``image``'s when
        ``image`` is a pre-decoded cache entry rather than the original (labels stay in original
        pixels). ``pose`` (degrees, AFLW convention) follows the geometry: the crop's in-plane
        rotation rolls the camera, a flip negates yaw and roll."""
        n = len(points)
        vis = np.ones(n, bool) if visibility is None else np.asarray(visibility, bool).copy()
        matrix, flip = self.geometry(points, rng)
        warp_matrix = matrix
        if image_matrix is not None:  # crop from the cache: original -> cache is image_matrix
            warp_matrix = matrix @ np.vstack([crop.invert(image_matrix), [0, 0, 1]])
        out = crop.warp(image, warp_matrix, self.size)
        pts = crop.apply(matrix, points)
        if flip:
            perm = flip_permutation(n)
            pts, vis = pts[perm], vis[perm]
        if pose is not None:
            # the rotation of the un-mirrored matrix, then the mirror (flip_pose)
            unmirrored = np.diag([-1.0, 1.0]) @ matrix[:, :2] if flip else matrix[:, :2]
            angle = matrix_roll(unmirrored)
            pose = rotate_pose(pose, angle) if abs(angle) > 1e-9 else np.asarray(pose, np.float32)
            pose = flip_pose(pose) if flip else pose
        if self.cfg.enabled:
            out, vis = self.second_face(out, pts, vis, rng)
            out, vis = self.face_mask(out, pts, vis, rng)
            out = self.photometric(out, rng)
            out, vis = self.occlude(out, pts, vis, rng)
        return Augmented(np.ascontiguousarray(out), pts, vis, pose)

    def photometric(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Colour jitter, grayscale, blur, noise and JPEG, each with its own probability."""
        cfg = self.cfg
        if rng.random() < cfg.color_p:
            f = img.astype(np.float32)
            gain = 1.0 + rng.uniform(-cfg.channel_gain, cfg.channel_gain, 3).astype(np.float32)
            f *= gain
            gray = f @ np.array([0.299, 0.587, 0.114], np.float32)
            sat = rng.uniform(1 - cfg.saturation, 1 + cfg.saturation)
            f = gray[..., None] + (f - gray[..., None]) * sat
            con = rng.uniform(1 - cfg.contrast, 1 + cfg.contrast)
            bright = rng.uniform(-cfg.brightness, cfg.brightness) * 255.0
            f = (f - gray.mean()) * con + gray.mean() + bright
            img = np.clip(f, 0, 255).astype(np.uint8)
        if rng.random() < cfg.gray_p:
            img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        if rng.random() < cfg.blur_p:
            sigma = rng.uniform(*cfg.blur_sigma)
            if rng.random() < 1 / 3:
                img = motion_blur(img, length=max(2.0, 3 * sigma), angle_deg=rng.uniform(0, 180))
            elif sigma > 0:
                img = cv2.GaussianBlur(img, (0, 0), sigma)
        if rng.random() < cfg.noise_p:
            std = rng.uniform(*cfg.noise_std)
            noise = rng.standard_normal(img.shape, dtype=np.float32) * std
            img = np.clip(img + noise, 0, 255).astype(np.uint8)
        if rng.random() < cfg.jpeg_p:
            q = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
            ok, buf = cv2.imencode(
                ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q]
            )
            if ok:
                img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return img

    def second_face(
        self, img: np.ndarray, points: np.ndarray, vis: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Another face beside this one, in front of it where they overlap: the crop's own face
        (mirrored half the time) moved sideways by ``second_face_shift`` crop sides and rescaled,
        pasted through a feathered ellipse around its landmark box. Generated faces are alone in
        their picture; photographs of people often are not. The labels stay the first face's;
        its points under the pasted face become invisible. Measured, not used: worse on AFW and
        Face Synthetics (docs/experiments.md, "A second face in the crop")."""
        cfg, s = self.cfg, self.size
        if cfg.second_face_p <= 0 or rng.random() >= cfg.second_face_p:
            return img, vis
        x0, y0, x1, y1 = bounding_box(points)
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        side = 1.0 if rng.random() < 0.5 else -1.0
        moved = centre + [
            side * rng.uniform(*cfg.second_face_shift) * s,
            rng.uniform(-0.1, 0.1) * s,
        ]
        scale = rng.uniform(*cfg.second_face_scale)
        mirror = -1.0 if rng.random() < 0.5 else 1.0
        # copy = moved + scale * (mirror * (x - cx), y - cy): the face re-centred where it goes
        lin = np.diag([mirror * scale, scale])
        m = np.hstack([lin, (moved - lin @ centre)[:, None]])
        copy = cv2.warpAffine(img, m, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        alpha = np.zeros((s, s), np.float32)
        axes = (max(1, int(0.6 * scale * (x1 - x0))), max(1, int(0.6 * scale * (y1 - y0))))
        cv2.ellipse(alpha, (int(moved[0]), int(moved[1])), axes, 0, 0, 360, 1.0, -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.04 * s))
        a = alpha[..., None]
        img = (img * (1 - a) + copy * a).round().astype(np.uint8)
        return img, vis & ~covered(points, alpha > 0.5)

    def face_mask(
        self, img: np.ndarray, points: np.ndarray, vis: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """A surgical or cloth mask worn over the nose and mouth, drawn before the photometric
        ops so that blur, noise and JPEG treat it like the rest of the photo.

        Its outline is the convex hull of the face's own points: jaw points 1-15 a little
        outside the jaw, the nose bridge at a random height between 27 and 30, and the nose
        base and mouth (which stand out beyond the jaw on a profile), so it turns and scales
        with the face. The cloth is one colour (pale blue, white, black, grey or any), with
        pleats across the face or a fabric grain, shaded by the photo's own blurred brightness
        under it so the scene's light falls on it too; surgical masks get their ear loops.
        Points under it become invisible (labels stay x-ray, as for every occluder). Measured,
        not used in the stages: in 20 % of the crops it reads a masked Face Synthetics face
        (43.6 -> 14.2 %) and costs unmasked real faces a little (AFW +0.07; docs/experiments.md,
        "The next default without gates")."""
        cfg, s = self.cfg, self.size
        if cfg.face_mask_p <= 0 or rng.random() >= cfg.face_mask_p:
            return img, vis
        p = np.asarray(points[:68], np.float64)
        centre = p[27:36].mean(0)
        jaw = centre + (p[1:16] - centre) * rng.uniform(1.04, 1.12)  # a little outside the jaw
        top = p[27] + rng.uniform(0.35, 0.65) * (p[30] - p[27])
        up = p[36:48].mean(0) - p[48:68].mean(0)
        height = max(float(np.linalg.norm(up)), 1.0)
        up = up / height
        # nose and mouth grown about their own centre: on a profile they stand out beyond the
        # jaw, and a mask still covers them
        lower = p[np.r_[31:36, 48:68]]
        lower = lower.mean(0) + (lower - lower.mean(0)) * 1.25
        outline = cv2.convexHull(np.concatenate([jaw, [top], lower]).astype(np.float32))[:, 0]
        alpha = np.zeros((s, s), np.float32)
        cv2.fillPoly(alpha, [np.round(outline * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6)

        surgical = rng.random() < 0.6
        colours = np.array([[150, 190, 215], [235, 238, 240], [35, 35, 40], [120, 120, 125]])
        colour = colours[rng.integers(4)] if rng.random() < 0.85 else rng.integers(0, 256, 3)
        colour = colour * rng.uniform(0.9, 1.1, 3)
        yy, xx = np.mgrid[:s, :s].astype(np.float32)
        v = ((top[0] - xx) * up[0] + (top[1] - yy) * up[1]) / height  # 0 at the top, down
        if surgical:  # pleats: three dark creases across the mask's height
            texture = 1.0 - 0.18 * np.abs(np.sin(np.pi * 3.0 * v / 1.4)) ** 8
        else:
            grain = rng.standard_normal((s, s)).astype(np.float32)
            texture = 1.0 + 0.06 * cv2.GaussianBlur(grain, (0, 0), 0.7)
        lum = cv2.GaussianBlur(img.astype(np.float32).mean(2), (0, 0), 0.05 * s)
        under = lum[alpha > 0.5]
        shade = np.sqrt(lum / max(float(under.mean()) if under.size else 128.0, 1.0))
        cloth = colour[None, None, :] * (np.clip(shade, 0.4, 1.4) * texture)[..., None]
        if surgical:  # ear loops from the mask's two side corners towards each ear
            for upper, low, ear in ((jaw[0], jaw[3], p[0]), (jaw[-1], jaw[-4], p[16])):
                behind_ear = ear + (ear - centre) * 0.15
                for a in (upper, low):
                    cv2.line(
                        alpha,
                        tuple(np.round(a).astype(int)),
                        tuple(np.round(behind_ear).astype(int)),
                        0.9,
                        1,
                        cv2.LINE_AA,
                    )
        a = alpha[..., None]
        img = np.clip(img * (1 - a) + cloth * a, 0, 255).round().astype(np.uint8)
        return img, vis & ~covered(points, alpha > 0.5)

    def occlude(
        self, img: np.ndarray, points: np.ndarray, vis: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random ellipses, polygons and rectangles (random erasing) filled with a flat colour,
        noise, or a patch of the same crop from elsewhere (skin-like texture, the hard case).
        Points under an occluder become invisible when ``occlude_visibility`` is set."""
        cfg, s = self.cfg, self.size
        if rng.random() >= cfg.occlude_p:
            return img, vis
        img = img.copy()
        mask = np.zeros((s, s), np.uint8)
        for _ in range(int(rng.integers(1, cfg.occlude_max + 1))):
            mask[:] = 0
            extent = rng.uniform(*cfg.occlude_size) * s
            cx, cy = rng.uniform(0.15, 0.85, 2) * s
            kind = rng.integers(3)
            if kind == 0:
                axes = (max(1, int(extent / 2)), max(1, int(extent * rng.uniform(0.3, 1.0) / 2)))
                cv2.ellipse(mask, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 1, -1)
            elif kind == 1:
                k = int(rng.integers(3, 9))
                ang = np.sort(rng.uniform(0, 2 * np.pi, k))
                rad = rng.uniform(0.3, 0.5, k) * extent
                poly = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
                cv2.fillPoly(mask, [poly.round().astype(np.int32)], 1)
            else:
                w, h = extent, extent * rng.uniform(0.3, 1.0)
                if rng.random() < 0.5:
                    w, h = h, w
                x0, y0 = int(cx - w / 2), int(cy - h / 2)
                mask[max(y0, 0) : max(y0 + int(h), 0), max(x0, 0) : max(x0 + int(w), 0)] = 1
            img = np.where(mask[..., None].astype(bool), self._fill(img, rng), img)
            if cfg.occlude_visibility:
                vis = vis & ~covered(points, mask > 0)
        return img, vis

    def _fill(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        kind = rng.integers(3)
        if kind == 0:
            return np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), img.shape)
        if kind == 1:
            return rng.integers(0, 256, img.shape, dtype=np.uint8)
        dy, dx = rng.integers(self.size // 4, 3 * self.size // 4, 2)
        return np.roll(img, (int(dy), int(dx)), axis=(0, 1))


def covered(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N,) which points (crop pixels) fall on the (S, S) boolean ``mask``; points off the crop
    are not covered."""
    s = mask.shape[0]
    ij = np.round(points).astype(np.int64)
    inside = (ij >= 0).all(1) & (ij < s).all(1)
    out = np.zeros(len(points), bool)
    out[inside] = mask[ij[inside, 1], ij[inside, 0]]
    return out


def motion_blur(img: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """Blur along a line of ``length`` pixels at ``angle_deg`` (camera shake, fast head motion)."""
    k = int(np.ceil(length)) | 1
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    return cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
