"""`pip install synthmarks` is inference only: predict, video and the API never import torch or any
other optional package, and the wheel and sdist carry what a user needs (configs, LICENSE)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: top-level packages only the extras install ([train], [eval], [synth], [compare])
OPTIONAL = ("torch", "onnx", "yaml", "tensorboard", "scipy", "matplotlib", "moderngl", "skimage")

BLOCKER = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"inference imported {{name}}", name=name)
sys.meta_path.insert(0, Blocker())
"""


def run_blocked(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_inference_never_imports_optional_packages(shared, tmp_path):
    image = shared / "data/real-68pt/lfpw-train/image_0001.png"
    code = f"""
from synthmarks.cli import main
assert main(["predict", {str(image)!r}, "--out", "out", "--json", "--csv"]) == 0
from synthmarks import Landmarker
faces = Landmarker().detect({str(image)!r})
assert len(faces) == 1, faces
print("ok", len(faces))
"""
    done = run_blocked(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok 1" in done.stdout and (tmp_path / "out/results.csv").is_file()


def test_a_stage_without_its_extra_says_which(tmp_path):
    code = """
from synthmarks.cli import main
raise SystemExit(main(["train", "--config", "tiny"]))
"""
    done = run_blocked(code, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "pip install 'synthmarks[train]'" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.slow
def test_wheel_and_sdist_carry_configs_and_licence(tmp_path):
    pytest.importorskip("setuptools")
    for kind in ("wheel", "sdist"):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from setuptools import build_meta as b; b.build_{kind}({str(tmp_path)!r})",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "synthmarks/configs/tiny.yaml" in names and "synthmarks/configs/__init__.py" in names
    assert any(n.startswith("synthmarks/configs/experiments/") for n in names)
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
    meta = next(n for n in names if n.endswith("METADATA"))
    requires = [
        line
        for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert requires and not any(
        p in line for line in requires for p in ("torch", "scipy", "moderngl")
    )
    sdist = next(tmp_path.glob("*.tar.gz"))
    import tarfile

    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("/LICENSE") for m in members)
    assert any(m.endswith("src/synthmarks/configs/tiny.yaml") for m in members)


def test_configs_ship_in_the_package(tmp_path, monkeypatch):
    from synthmarks import configs

    monkeypatch.chdir(tmp_path)  # far from the checkout's configs/ link
    tiny = configs.resolve("tiny")
    assert tiny.is_file() and tiny.parent == configs.HERE
    assert (
        configs.resolve("experiments/aug_none.yaml") == configs.HERE / "experiments/aug_none.yaml"
    )
    assert configs.resolve("nope") == Path("nope")  # the loader says it is missing
    assert "tiny" in configs.names() and (REPO / "configs/tiny.yaml").resolve() == tiny
