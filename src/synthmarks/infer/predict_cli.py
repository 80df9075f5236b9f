"""``synthmarks predict``: faces and landmarks for images and folders of images.

Drawn copies mirror the inputs under ``--out`` (``photos/a/face.png`` -> ``OUT/photos/a/face.jpg``),
so two images of one name never write one file, and nothing is ever written over an input. An
unreadable image is skipped with a warning naming it (``--strict`` stops instead); the others still
get their results. Exit status: 0, or 1 when some images were skipped, or 2 on a user error.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".webp", ".tif", ".tiff"}


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by predict, video and live."""
    p.add_argument(
        "--model",
        "-m",
        help="'default' (the fast released model, the default), 'large' (the more accurate "
        "released model), a checkpoint (.pt) or an .onnx file",
    )
    add_backend_argument(p)
    p.add_argument(
        "--jaw",
        default=None,
        choices=["outline", "xray"],
        help="jaw points 0-16: the visible face outline or the x-ray jaw line (default: the "
        "outline where the model has one, else its x-ray jaw); asking a model without an outline "
        "head for the outline gives the x-ray jaw and says so",
    )
    p.add_argument(
        "--roll",
        default="auto",
        choices=["auto", "none"],
        help="auto: also find faces on their side or upside down (extra model passes for unsure "
        "faces; on still images the detector also looks at the image turned by 90, 180 and 270 "
        "degrees, 4x its time); none: one pass at the detector's orientation",
    )
    p.add_argument(
        "--detector",
        default="auto",
        choices=["auto", "yunet", "dlib", "haar"],
        help="face detector (auto: YuNet when its file is found, else dlib HOG; docs/detection.md)",
    )
    p.add_argument(
        "--detector-model",
        help="the YuNet .onnx file (else $SYNTHMARKS_YUNET, the shared assets, the cache: "
        "`synthmarks download yunet`)",
    )
    p.add_argument(
        "--min-score",
        type=float,
        default=0.5,
        help="smallest face score in [0, 1] a detection needs (the same scale for every detector)",
    )


def add_drawing_arguments(p: argparse.ArgumentParser, fps: bool = False) -> None:
    p.add_argument("--no-box", action="store_true", help="draw the points only, no box or score")
    if fps:
        p.add_argument("--no-fps", action="store_true", help="no frame-rate counter on the frames")


def add_backend_argument(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    """``--backend``, as ``Landmarker(backend=...)`` takes it (also used by eval)."""
    p.add_argument(
        "--backend",
        default=default,
        choices=["auto", "onnx", "torch"],
        help="what runs the model: auto follows the file (.onnx: ONNX Runtime, .pt: PyTorch); "
        "onnx on a .pt exports it in memory first",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inputs", nargs="+", type=Path, help="image files or folders (searched recursively)"
    )
    p.add_argument("--out", "-o", type=Path, required=True, help="folder for the drawn images")
    p.add_argument("--json", action="store_true", help="also write results.json")
    p.add_argument("--csv", action="store_true", help="also write results.csv")
    p.add_argument("--strict", action="store_true", help="stop at an unreadable image")
    add_model_arguments(p)
    add_drawing_arguments(p)
    p.add_argument(
        "--flip-tta",
        action="store_true",
        help="average each face with its mirror image (more accurate, 2x model time)",
    )


def collect_images(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """(image, its place under --out) for every image: a folder's images keep their path below
    the folder's own name; a file given by a relative path inside the working folder keeps it."""
    from synthmarks.errors import SynthmarksError

    found: list[tuple[Path, Path]] = []
    for path in inputs:
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise SynthmarksError(f"{path}: no images in this folder")
            top = Path(path.resolve().name or "root")
            found += [(f, top / f.relative_to(path)) for f in files]
        elif path.is_file():
            inside = not path.is_absolute() and ".." not in path.parts
            found.append((path, path if inside else Path(path.name)))
        else:
            raise SynthmarksError(f"{path}: no such file or directory")
    return found


def drawn_paths(images: list[tuple[Path, Path]], out: Path) -> list[Path]:
    """Where each drawn copy goes: OUT/<place>.jpg, or OUT/<place>_<ext>.jpg for images that
    would share one name (face.png and face.jpg), numbered if even that repeats."""
    first = [place.with_suffix(".jpg") for _, place in images]
    counts = Counter(first)
    names = [
        p if counts[p] == 1 else place.with_name(f"{place.stem}_{place.suffix[1:].lower()}.jpg")
        for p, (_, place) in zip(first, images, strict=True)
    ]
    seen: Counter = Counter()
    for i, name in enumerate(names):
        seen[name] += 1
        if seen[name] > 1:
            names[i] = name.with_name(f"{name.stem}_{seen[name]}.jpg")
    return [out / n for n in names]


def check_outputs(inputs: list[Path], images: list[Path], outputs: list[Path], out: Path) -> None:
    """Refuse, before any work, to write where an input is (over an input image, or anywhere
    inside an input folder: the drawn copies would become inputs of the next run) or where
    nothing can be written."""
    from synthmarks.errors import SynthmarksError
    from synthmarks.fileio import prepare_out_dir

    folders = [p.resolve() for p in inputs if p.is_dir()]
    taken = {p.resolve() for p in images}
    for o in (p.resolve() for p in [out, *outputs]):
        if o in taken:
            raise SynthmarksError(f"--out {out}: would write over the input image {o}")
        inside = next((f for f in folders if o == f or f in o.parents), None)
        if inside is not None:
            raise SynthmarksError(f"--out {out}: would write inside the input folder {inside}")
    prepare_out_dir(out, "--out")  # and it can be written: a bad --out costs no work


def run(args: argparse.Namespace) -> int:
    import sys

    from tqdm import tqdm

    from synthmarks import fileio, viz
    from synthmarks.data.sample import read_image
    from synthmarks.errors import SynthmarksError
    from synthmarks.infer.landmarker import Landmarker
    from synthmarks.infer.results import csv_rows, image_record, model_fields, write_csv

    images = collect_images(args.inputs)
    drawn = drawn_paths(images, args.out)
    files = [f for f, _ in images]
    results = [args.out / "results.json", args.out / "results.csv"]
    check_outputs(args.inputs, files, drawn + results, args.out)
    lm = Landmarker(
        args.model,
        backend=args.backend,
        detector=args.detector,
        flip_tta=args.flip_tta,
        detector_model=args.detector_model,
        jaw=args.jaw,
        roll=args.roll,
    )
    model = model_fields(lm)
    records, rows, no_face, skipped = [], [], [], []
    for path, dst in tqdm(
        list(zip(files, drawn, strict=True)), desc="predict", unit="img", disable=len(files) < 5
    ):
        try:
            image = read_image(path)
        except SynthmarksError as exc:
            if args.strict or len(files) == 1:
                raise
            tqdm.write(f"synthmarks predict: warning: skipped {exc}", file=sys.stderr)
            skipped.append({"source": str(path), "error": str(exc)})
            continue
        faces = lm.detect(image, min_score=args.min_score)
        fileio.write_image(dst, viz.draw_faces(image, faces, boxes=not args.no_box))
        rec = image_record(str(path), (image.shape[1], image.shape[0]), faces, model)
        records.append({**rec, "drawn": str(dst)})
        rows += csv_rows(rec)
        if not faces:
            no_face.append(str(path))
    if not records:
        raise SynthmarksError("no readable image among the inputs")
    if args.json:
        summary = {**model, "images": records, "no_face": no_face, "skipped": skipped}
        fileio.write_json(results[0], summary)
    if args.csv:
        write_csv(results[1], rows)
    total = sum(len(r["faces"]) for r in records)
    print(f"{len(records)} images, {total} faces -> {args.out}")
    if no_face:
        shown = ", ".join(no_face[:10]) + (" ..." if len(no_face) > 10 else "")
        print(f"no face found in {len(no_face)} image(s): {shown}")
    if skipped:
        print(f"skipped {len(skipped)} unreadable image(s)", file=sys.stderr)
    return 1 if skipped else 0
