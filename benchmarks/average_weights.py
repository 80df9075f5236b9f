"""Average the weights of checkpoints of one lineage (a "model soup"): does it beat the last one?

The v3 stages each fine-tune the stage before with one cosine cycle, so their weights lie near
each other, which is where averaging snapshots along a run has helped other models (SWA). The
result keeps the last checkpoint's metadata; floating-point tensors (weights and batch-norm
statistics) are averaged, integer ones (batch counts) taken from the last. Score it with
``synthmarks eval`` like any checkpoint (docs/experiments.md, stage 5, records the outcome).

    python benchmarks/average_weights.py --out soup.pt checkpoints/v3/stage{4,5}.pt
"""

from __future__ import annotations

import argparse

import torch

from synthmarks.fileio import atomic_path
from synthmarks.models.checkpoint import read_checkpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", help="checkpoints of one architecture, last one last")
    ap.add_argument("--out", required=True, help="where to write the averaged checkpoint")
    args = ap.parse_args()
    cks = [read_checkpoint(p) for p in args.checkpoints]
    if len({str(c["model_config"]) for c in cks}) != 1:
        raise SystemExit("average_weights: the checkpoints are not one architecture")
    last = cks[-1]
    state = {
        k: sum(c["state_dict"][k] for c in cks) / len(cks) if v.is_floating_point() else v
        for k, v in last["state_dict"].items()
    }
    payload = {k: v for k, v in last.items() if k != "train_state"}
    payload["state_dict"] = state
    payload["metrics"] = {"averaged": list(args.checkpoints)}
    with atomic_path(args.out) as tmp:
        torch.save(payload, tmp)
    print(f"wrote {args.out} (mean of {len(cks)})")


if __name__ == "__main__":
    main()
