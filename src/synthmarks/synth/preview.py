"""Contact sheets of generated samples with their landmarks (hidden points in red)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthmarks.data.sample import read_image
from synthmarks.fileio import write_image
from synthmarks.viz import contact_sheet, draw_landmarks


def sample_thumbnails(out_dir: Path, limit: int = 48, size: int = 256) -> list[np.ndarray]:
    import cv2

    out = []
    for ld in sorted(Path(out_dir).glob("*_ldmks.txt"))[:limit]:
        stem = ld.name[: -len("_ldmks.txt")]
        img = read_image(ld.with_name(stem + ".png"))
        pts = np.loadtxt(ld, dtype=np.float64).reshape(-1, 2)
        vis = None
        meta = ld.with_name(stem + "_meta.json")
        if meta.is_file():
            vis = np.asarray(json.loads(meta.read_text()).get("visibility", [True] * len(pts)))
        k = size / img.shape[1]
        if k != 1:
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
            pts = (pts + 0.5) * k - 0.5
        out.append(draw_landmarks(img, pts, radius=1, visibility=vis))
    return out


def write_preview(out_dir: Path, limit: int = 48, cols: int = 8) -> Path | None:
    """``out_dir/preview.png``: the first ``limit`` samples with landmarks drawn."""
    thumbs = sample_thumbnails(out_dir, limit)
    if not thumbs:
        return None
    path = Path(out_dir) / "preview.png"
    write_image(path, contact_sheet(thumbs, cols=min(cols, len(thumbs)), tile=thumbs[0].shape[0]))
    return path


def _images(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in Path(folder).glob("*.png")
        if not p.name.endswith("_seg.png") and p.name != "preview.png"
    )


def comparison_figure(
    ours: Path, shared: Path, out_path: Path, n: int = 8, tile: int = 128, v1: Path | None = None
) -> Path:
    """Rows of our faces (two rows; with ``v1``, a folder of the same seed rendered with the v1
    look, one row of those same faces under it), Face Synthetics samples and real AFLW2000-3D dev
    photos, side by side. Reference images are downscaled thumbnails for documentation only.
    """
    import cv2

    def thumbs(paths: list[Path]) -> list[np.ndarray]:
        out = []
        for p in paths[:n]:
            img = read_image(p)
            out.append(cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA))
        return out

    ours_imgs = _images(ours)
    fs = _images(Path(shared) / "data" / "facesynthetics-100")
    real = sorted((Path(shared) / "data" / "aflw2000-3d-dev").glob("*.jpg"))
    rows = [("synthmarks", thumbs(ours_imgs)), ("synthmarks", thumbs(ours_imgs[n:]))]
    if v1 is not None:
        rows = [
            ("synthmarks v2", thumbs(ours_imgs)),
            ("same faces, v1", thumbs(_images(v1))),
            ("synthmarks v2", thumbs(ours_imgs[n:])),
        ]
    rows += [("Face Synthetics", thumbs(fs[::7])), ("AFLW2000-3D (real)", thumbs(real[::11]))]
    images = [im for _, row in rows for im in row]
    labels = [name if i == 0 else "" for name, row in rows for i in range(len(row))]
    write_image(out_path, contact_sheet(images, cols=n, labels=labels, tile=tile))
    return Path(out_path)


def main(argv: list[str] | None = None) -> int:
    """``python -m synthmarks.synth.preview OUT [--compare SHARED --figure PATH]``."""
    import argparse

    ap = argparse.ArgumentParser(description="contact sheets of a synth output folder")
    ap.add_argument("out", type=Path)
    ap.add_argument(
        "--compare",
        type=Path,
        help="shared folder with facesynthetics-100 and "
        "aflw2000-3d-dev: write a side-by-side figure",
    )
    ap.add_argument("--figure", type=Path, default=Path("synth_vs_real.png"))
    ap.add_argument("--v1", type=Path, help="the same seed rendered with --set look=v1: a row")
    args = ap.parse_args(argv)
    print(write_preview(args.out))
    if args.compare:
        print(comparison_figure(args.out, args.compare, args.figure, v1=args.v1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
