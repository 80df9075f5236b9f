"""Arguments of ``synthmarks synth`` (argparse and the settings' names only here; the renderer is
imported in ``run``)."""

from __future__ import annotations

import argparse
import os

from synthmarks.config import add_set_argument
from synthmarks.synth.sampling import (
    BROW_CONVENTIONS,
    JAW_CONVENTIONS,
    LID_POINTS,
    LIP_POINTS,
    NOSE_POINTS,
    OUTLINE_JAWS,
    XRAY_JAWS,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="output folder (Face Synthetics layout); a rerun resumes it")
    p.add_argument(
        "--count",
        type=int,
        help="number of faces (default 100; with --relabel: the first COUNT faces, default all)",
    )
    p.add_argument("--seed", type=int, default=0, help="run seed; sample i uses rng([seed, i])")
    p.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: CPU count; 0 renders in this process)",
    )
    p.add_argument(
        "--face-model",
        metavar="PATH",
        help="ICT FaceXModel folder, ICT-FaceKit zip or tar.xz "
        "(else $SYNTHMARKS_FACE_MODEL, $SYNTHMARKS_SHARED/assets, ../shared, cache)",
    )
    p.add_argument(
        "--download-face-model",
        action="store_true",
        help="download the public ICT-FaceKit archive (MIT) into the cache and exit",
    )
    p.add_argument("--backgrounds", metavar="DIR", help="extra folder of background photos")
    p.add_argument(
        "--assets",
        metavar="DIR",
        help="CC0 assets of the photoreal look: makehuman/ and hdri/ (else $SYNTHMARKS_ASSETS, "
        "$SYNTHMARKS_SHARED/assets, ../shared/assets, the cache); --set look=v1 needs none",
    )
    p.add_argument(
        "--download-assets",
        action="store_true",
        help="download the public CC0 assets (MakeHuman, Poly Haven) into the cache and exit",
    )
    p.add_argument(
        "--shard",
        metavar="K/N",
        default="1/1",
        help="render only the K-th of N disjoint slices of the set (N processes or machines "
        "share one set; their union equals a single run)",
    )
    p.add_argument(
        "--jaw-convention",
        choices=JAW_CONVENTIONS,
        default="xray",
        help="xray: true jaw line (Face Synthetics; also AFLW2000-3D, whose points project a "
        "fitted 3-D face); outline: jaw points follow the visible face outline when the head "
        "turns, as 300-W's annotators drew them (docs/experiments.md)",
    )
    p.add_argument(
        "--xray-jaw",
        choices=XRAY_JAWS,
        default="3dmm",
        help="depth of the x-ray jaw: 3dmm (default), where 3-D morphable models and so "
        "AFLW2000-3D put it, 2-2.6 cm behind ICT's jaw vertices; raised: the same lifted "
        "3.5-8 mm to the height of AFLW2000-3D's frontal labels, matched: that height "
        "compared at the same pitch, 0.3-4.5 mm (experiments); mesh: on "
        "those vertices (sets made before)",
    )
    p.add_argument(
        "--brow-convention",
        choices=BROW_CONVENTIONS,
        default="centre",
        help="centre (default): brow points on the middle of the drawn brow, as AFLW2000-3D, "
        "300-W and Face Synthetics label them; edge: on ICT's brow line (releases before v3)",
    )
    p.add_argument(
        "--lip-points",
        choices=LIP_POINTS,
        default="aligned",
        help="aligned (default): inner-lip points and 56/58 on the vertical lines through the "
        "cupid's bow peaks 50/52, as the 68-point mark-up puts them; mesh: on ICT's landmark "
        "vertices, 3-5 mm further out (sets made before)",
    )
    p.add_argument(
        "--lid-points",
        choices=LID_POINTS,
        default="mesh",
        help="mesh (default): the eyelid points 37/38, 40/41, 43/44, 46/47 on ICT's landmark "
        "vertices, which crowd each lid's outer corner; even: at thirds of each lid in the "
        "image, as 300-W's annotators spread them (measured, not adopted: docs/experiments.md)",
    )
    p.add_argument(
        "--nose-points",
        choices=NOSE_POINTS,
        default="mesh",
        help="mesh (default): the nose points 31/32/34/35 on ICT's landmark vertices, level "
        "with the subnasale 33; rim: on the nostril wing's lower outer edge seen from the front, "
        "2-3 mm higher and further out, as the labelled references put them (measured, not "
        "adopted on its own: docs/experiments.md)",
    )
    p.add_argument(
        "--outline-jaw",
        choices=OUTLINE_JAWS,
        default="even",
        help="even (default): the outline jaw's points 4-12 on the jaw's lower edge as seen, "
        "where 300-W's annotators draw a frontal chin, and every point spaced evenly along the "
        "outline, as the 68-point mark-up spaces them; silhouette: the same edge, the points "
        "where ICT's vertices march to (sets made before); lines: marching sideways only, "
        "which leaves them on ICT's vertices on the front of the chin (sets made before that)",
    )
    p.add_argument(
        "--relabel",
        metavar="SRC",
        help="instead of rendering: copy the set SRC into --out labelled with --jaw-convention, "
        "--brow-convention, --xray-jaw, --lip-points and --outline-jaw (same images, "
        "hard-linked; labels re-made from each sample's saved parameters)",
    )
    p.add_argument(
        "--supersample",
        type=int,
        default=1,
        help="render at this multiple of --size and area-average (slower, smoother)",
    )
    add_set_argument(p, "p_occluder=0", "SynthConfig in synthmarks/synth/sampling.py")
    p.add_argument("--preview", action="store_true", help="also write OUT/preview.png")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _shard(text: str) -> tuple[int, int]:
    from synthmarks.errors import SynthmarksError

    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise SynthmarksError(f"--shard {text!r}: expected K/N, e.g. --shard 2/4")
    return int(k), int(n)


def run(args: argparse.Namespace) -> int:
    from synthmarks.errors import SynthmarksError
    from synthmarks.synth.facemodel import download_face_model

    if args.download_face_model:
        path = download_face_model()
        print(f"ICT Face Model archive saved to {path}")
        if not args.out and not args.download_assets:
            return 0
    if args.download_assets:
        from synthmarks.synth.assets import download_assets

        print(f"assets saved to {download_assets()}")
        if not args.out:
            return 0
    if not args.out:
        raise SynthmarksError("--out DIR is required")
    from synthmarks.fileio import prepare_out_dir

    prepare_out_dir(args.out, "--out")  # a bad --out fails now, not after a minute's conversion
    if not args.relabel:
        from synthmarks.synth.sampling import SynthConfig

        # a bad --set fails before the face model is looked for or converted
        cfg = SynthConfig(
            size=args.size,
            supersample=args.supersample,
            jaw_convention=args.jaw_convention,
            brow_convention=args.brow_convention,
            xray_jaw=args.xray_jaw,
            lip_points=args.lip_points,
            outline_jaw=args.outline_jaw,
            lid_points=args.lid_points,
            nose_points=args.nose_points,
            backgrounds=args.backgrounds,
            assets=args.assets,
        ).with_overrides(args.overrides)
    convert_face_model_once(args.face_model, quiet=args.no_progress)

    if args.relabel:
        from synthmarks.synth.relabel import relabel

        r = relabel(
            args.relabel,
            args.out,
            args.jaw_convention,
            args.face_model,
            not args.no_progress,
            brow_convention=args.brow_convention,
            xray_jaw=args.xray_jaw,
            lip_points=args.lip_points,
            outline_jaw=args.outline_jaw,
            lid_points=args.lid_points,
            nose_points=args.nose_points,
            count=args.count,
            assets=args.assets,
        )
        print(
            f"relabel: {r['relabelled']} relabelled ({r['moved']} with points moved), "
            f"{r['skipped']} already there"
        )
        return 0

    from synthmarks.synth.generate import generate
    from synthmarks.synth.preview import write_preview

    if args.backgrounds:
        from synthmarks.synth.backgrounds import BackgroundBank

        BackgroundBank(args.backgrounds)  # a bad folder fails here, before any worker starts
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    summary = generate(
        args.out,
        100 if args.count is None else args.count,
        args.seed,
        cfg,
        workers=workers,
        face_model=args.face_model,
        progress=not args.no_progress,
        shard=_shard(args.shard),
    )
    for why in summary["damaged"].values():
        print(f"synth: remade a damaged sample ({why})")
    look = f"{cfg.look} look"
    if cfg.look == "v2" and cfg.p_look_v1:
        look += f", {cfg.p_look_v1:.0%} of faces in v1"
    print(
        f"synth ({look}): {summary['made']} made, {summary['skipped']} already there, "
        f"{summary['images_per_second']:.1f} images/s"
    )
    if args.preview:
        path = write_preview(args.out)
        if path:
            print(f"preview: {path}")
    return 0


def convert_face_model_once(face_model: str | None, quiet: bool = False) -> None:
    """The first run converts the upstream model files into the cache (about 40 s on 2 cores).
    Done here, with a line saying so, it neither looks like a hang nor inflates the progress
    bar's time estimate; later runs find the cache and skip this."""
    import sys
    import time

    from synthmarks.synth.facemodel import cache_path_for, find_face_model, load_face_model

    source = find_face_model(face_model)
    cache = cache_path_for(source)
    if cache.exists():
        return
    if not quiet:
        print(
            f"synth: converting the ICT Face Model into {cache} (once; about a minute, later "
            "runs load it in under a second)",
            file=sys.stderr,
            flush=True,
        )
    start = time.perf_counter()
    load_face_model(source)
    if not quiet:
        print(
            f"synth: face model converted in {time.perf_counter() - start:.0f} s", file=sys.stderr
        )
