"""The ``synthmarks`` command: one subcommand per stage.

Each stage keeps its arguments in a light ``<stage>/cli.py`` module (``add_arguments(parser)`` and
``run(args) -> int``) that imports its heavy dependencies only when run, so ``synthmarks --help``
stays instant. User errors (:class:`SynthmarksError`) become one line on stderr and exit status 2,
and so does a stage whose optional dependencies are not installed (it names the extra to add).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from synthmarks import __version__
from synthmarks.errors import SynthmarksError, SynthmarksWarning

#: subcommand -> (module holding add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("synthmarks.synth.cli", "render synthetic faces with exact 68+2 landmark labels"),
    "train": ("synthmarks.train.cli", "train a landmark model from a YAML config"),
    "eval": ("synthmarks.eval.cli", "score a model on a labelled dataset (NME, FR, AUC, CED)"),
    "predict": ("synthmarks.infer.predict_cli", "find faces and landmarks in images"),
    "video": ("synthmarks.infer.video_cli", "annotate a video file with tracked landmarks"),
    "live": ("synthmarks.infer.live_cli", "show webcam landmarks in a window"),
    "export": ("synthmarks.infer.export_cli", "export a checkpoint to ONNX (optionally int8)"),
    "bench": ("synthmarks.bench", "time the models, detector and video pipeline on this machine"),
    "download": (
        "synthmarks.locate",
        "fetch a public file synthmarks can use (the YuNet detector)",
    ),
}

#: commands that need an extra (`pip install synthmarks` is inference only: predict, video, live)
EXTRAS = {"train": "train", "export": "train", "bench": "train", "eval": "eval", "synth": "synth"}
#: top-level modules only the extras install; a command missing one names its extra
OPTIONAL_MODULES = {
    "torch",
    "onnx",
    "yaml",
    "omegaconf",
    "tensorboard",
    "scipy",
    "matplotlib",
    "moderngl",
    "skimage",
    "OpenEXR",
    "PIL",
    "face_recognition_models",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthmarks",
        description="Facial landmarks learned from synthetic faces alone.",
    )
    parser.add_argument("--version", action="version", version=f"synthmarks {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a stage not built yet
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Print a :class:`SynthmarksWarning` as one line, like the CLI's errors (not Python's
    file:line form with a source line a user has no use for); other warnings as usual."""
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, SynthmarksWarning):
            print(f"synthmarks {command}: warning: {message}", file=sys.stderr)
        else:
            original(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def _empty_argument(argv: list[str]) -> str | None:
    """What an empty argument stands for, if there is one: ``Path("")`` is the working folder,
    so ``predict "$IMAGE"`` with the variable unset would search every image below it (and
    ``--out ""`` write there). No option takes an empty value, so none is read as one."""
    for i, arg in enumerate(argv):
        if arg == "":
            before = argv[i - 1] if i > 0 and argv[i - 1].startswith("-") else None
            return f"{before} is empty" if before else "an empty argument"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    empty = _empty_argument(argv)
    if empty:
        command = next((a for a in argv if a in COMMANDS), None)
        name = f"synthmarks {command}" if command else "synthmarks"
        print(
            f"{name}: error: {empty} (an unset shell variable?); nothing was run", file=sys.stderr
        )
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        with _one_line_warnings(args.command):
            return int(args._run(args) or 0)
    except SynthmarksError as exc:
        print(f"synthmarks {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in OPTIONAL_MODULES:
            raise
        extra = "train" if top in ("torch", "onnx") else EXTRAS.get(args.command, "train")
        print(
            f"synthmarks {args.command}: error: needs {top}, which the inference-only install "
            f"leaves out: pip install 'synthmarks[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"synthmarks {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
