"""Where files the package does not ship come from, and the one explicit command that fetches them.

Every such file is looked up in the same order: the flag, an environment variable,
``$SYNTHMARKS_SHARED/assets``, ``../shared/assets`` (a project checkout), then the user cache
(``$SYNTHMARKS_CACHE`` or ``~/.cache/synthmarks``). Nothing is ever fetched at run time: a
download happens only when the user asks for it (``synthmarks download yunet``), and its sha256
is checked before the file is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from synthmarks.errors import SynthmarksError


@dataclass(frozen=True)
class Asset:
    """A file named by its place under ``assets/`` of the shared folder and of the cache."""

    name: str  # what the user types: `synthmarks download NAME`
    relpath: str  # under assets/ (shared folder) and under the cache folder
    env: str  # environment variable that names the file directly
    url: str  # public location of the exact bytes
    sha256: str
    licence: str

    def cached(self, cache_dir: Path | None = None) -> Path:
        return (cache_dir or default_cache_dir()) / self.relpath


#: OpenCV's YuNet face detector, as opencv_zoo publishes it (MIT there; Apache-2.0 upstream).
YUNET = Asset(
    name="yunet",
    relpath="yunet/face_detection_yunet_2023mar.onnx",
    env="SYNTHMARKS_YUNET",
    url="https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
    "face_detection_yunet_2023mar.onnx",
    sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
    licence="Apache-2.0 (ShiqiYu/libfacedetection.train); listed as MIT by opencv_zoo",
)
ASSETS = {a.name: a for a in (YUNET,)}


def default_cache_dir() -> Path:
    """``$SYNTHMARKS_CACHE`` or ``~/.cache/synthmarks``."""
    env = os.environ.get("SYNTHMARKS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "synthmarks"


def candidates(asset: Asset) -> list[Path]:
    """The places looked at after the flag and the environment variable, in order."""
    places = []
    shared = os.environ.get("SYNTHMARKS_SHARED")
    if shared:
        places.append(Path(shared).expanduser() / "assets" / asset.relpath)
    places.append(Path.cwd().parent / "shared" / "assets" / asset.relpath)
    places.append(asset.cached())
    return places


def find(asset: Asset, path: str | os.PathLike | None = None) -> Path | None:
    """The asset's file, or None when it is nowhere; a flag or variable naming a missing file
    is an error (the user asked for that file), not a reason to look elsewhere."""
    for given, label in ((path, ""), (os.environ.get(asset.env), f"{asset.env}=")):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise SynthmarksError(f"{label}{p}: no such file")
            return p
    return next((p for p in candidates(asset) if p.is_file()), None)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def download(asset: Asset, cache_dir: Path | None = None) -> Path:
    """Fetch the asset's public file into the cache (atomically, sha256 checked)."""
    from synthmarks.fileio import atomic_path

    dest = asset.cached(cache_dir)
    if dest.is_file() and sha256_of(dest) == asset.sha256:
        return dest
    try:
        with urllib.request.urlopen(asset.url, timeout=60) as resp, atomic_path(dest) as tmp:  # noqa: S310
            with open(tmp, "wb") as fh:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
            got = sha256_of(tmp)
            if got != asset.sha256:
                raise SynthmarksError(f"{asset.url}: sha256 {got[:12]}... is not the expected file")
    except OSError as exc:
        raise SynthmarksError(f"could not download {asset.name} from {asset.url}: {exc}") from None
    return dest


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("asset", choices=sorted(ASSETS), help="what to fetch")
    p.add_argument("--cache", type=Path, help="folder to keep it in (default: the user cache)")


def run(args: argparse.Namespace) -> int:
    """``synthmarks download yunet``: the only command that reaches the network."""
    asset = ASSETS[args.asset]
    dest = download(asset, args.cache)
    print(f"{asset.name}: {dest} (sha256 ok; licence: {asset.licence})")
    return 0
