"""Split a rendered set by look: one folder of links per look, for training on one look at a time.

A set rendered with ``--set p_look_v1=0.5`` draws each face in the procedural (v1) or the
photoreal (v2) look; its ``meta.json`` says which. Training the same checkpoint on each half
for the same steps measures what the look is worth at that model's level (docs/experiments.md,
"The large model's input size", stage 17) without rendering the faces twice. The halves are
symbolic links, so they cost no disk and the rendered set stays as it is.

    python benchmarks/split_by_look.py data/synth/v3r8_seed29_384
    -> data/synth/v3r8_seed29_384_v1/, data/synth/v3r8_seed29_384_v2/
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

FILES = (".png", "_ldmks.txt", "_meta.json", "_seg.png")


def split_by_look(root: Path) -> Counter[str]:
    """Link each face's files into ``<root>_<look>/``; returns the number of faces per look."""
    counts: Counter[str] = Counter()
    for meta_path in sorted(root.glob("*_meta.json")):
        look = json.loads(meta_path.read_text()).get("look", "v1")
        stem = meta_path.name[: -len("_meta.json")]
        out = root.with_name(f"{root.name}_{look}")
        out.mkdir(exist_ok=True)
        for suffix in FILES:
            target = root / (stem + suffix)
            link = out / target.name
            if target.exists() and not link.exists():
                link.symlink_to(target.resolve())
        counts[look] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a folder written by `synthmarks synth`")
    args = parser.parse_args()
    if not args.root.is_dir():
        print(f"split_by_look: {args.root} is not a folder", file=sys.stderr)
        return 2
    counts = split_by_look(args.root)
    if not counts:
        print(f"split_by_look: {args.root} holds no *_meta.json (not a synth set)", file=sys.stderr)
        return 2
    for look, n in sorted(counts.items()):
        print(f"{args.root.name}_{look}: {n} faces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
