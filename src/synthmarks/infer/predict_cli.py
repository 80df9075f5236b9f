"""``synthmarks predict``: faces and landmarks for images and folders of images."""

from __future__ import annotations

import argparse
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".webp", ".tif", ".tiff"}


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by predict, video and live."""
    p.add_argument("--model", "-m", help="checkpoint (.pt) or .onnx (default: the released model)")
    add_backend_argument(p)
    p.add_argument("--detector", default="auto", choices=["auto", "dlib", "haar"])


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
    add_model_arguments(p)
    p.add_argument(
        "--flip-tta",
        action="store_true",
        help="average each face with its mirror image (more accurate, 2x model time)",
    )


def collect_images(inputs: list[Path]) -> list[Path]:
    from synthmarks.errors import SynthmarksError

    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise SynthmarksError(f"{path}: no images in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise SynthmarksError(f"{path}: no such file or directory")
    return files


def check_outputs(files: list[Path], out: Path) -> None:
    """Before any work: ``--out`` is a writable folder, no drawing would overwrite an input
    image, and no two inputs would be drawn onto the same output file."""
    from synthmarks.errors import SynthmarksError
    from synthmarks.fileio import prepare_out_dir

    prepare_out_dir(out, "--out")
    inputs = {f.resolve() for f in files}
    drawn: dict[str, Path] = {}
    for f in files:
        name = f"{f.stem}.jpg"
        if name in drawn:
            raise SynthmarksError(
                f"{drawn[name]} and {f} would both be drawn as {out / name}; "
                "predict them into separate --out folders"
            )
        drawn[name] = f
    for name in [*drawn, "results.json", "results.csv"]:
        if (out / name).resolve() in inputs:
            raise SynthmarksError(f"--out {out}: would overwrite the input image {out / name}")


def run(args: argparse.Namespace) -> int:
    import csv
    import io

    from tqdm import tqdm

    from synthmarks import fileio, viz
    from synthmarks.data.sample import read_image
    from synthmarks.infer.landmarker import Landmarker
    from synthmarks.infer.results import CSV_HEADER, csv_rows, face_record

    files = collect_images(args.inputs)
    check_outputs(files, args.out)
    lm = Landmarker(
        args.model, backend=args.backend, detector=args.detector, flip_tta=args.flip_tta
    )
    records, rows, total = [], [], 0
    for path in tqdm(files, desc="predict", unit="img", disable=len(files) < 5):
        image = read_image(path)
        faces = lm.detect(image)
        total += len(faces)
        fileio.write_image(args.out / f"{path.stem}.jpg", viz.draw_faces(image, faces))
        records.append({"image": str(path), "faces": [face_record(f) for f in faces]})
        rows += csv_rows(str(path), 0, faces)
    if args.json:
        fileio.write_json(args.out / "results.json", records)
    if args.csv:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        fileio.write_text(args.out / "results.csv", buf.getvalue())
    print(f"{len(files)} images, {total} faces -> {args.out}")
    return 0
