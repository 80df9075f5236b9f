"""Shared fixtures: where ../shared is, and small datasets written on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    return Path(os.environ.get("SYNTHMARKS_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared (or $SYNTHMARKS_SHARED); tests that need it skip on a user's machine without it."""
    path = shared_dir()
    if not (path / "data").is_dir():
        pytest.skip(f"shared data not found at {path} (set SYNTHMARKS_SHARED)")
    return path
