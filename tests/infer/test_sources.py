"""A bad video source is one line on stderr and exit 2, in a real process.

``live --camera -1`` once segfaulted inside OpenCV: a crash in C++ kills the interpreter, which an
in-process test (tests/infer/test_commands.py) cannot see as anything but a dead test run. Here
each command runs as a user runs it, in its own process, and must end with status 2 (a segfault
is -11) and one line naming the source.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "synthmarks", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("-1", "camera index -1: must be 0 or more"),  # the segfault
        ("/dev/video99", "/dev/video99: no such video device"),
        ("no-such-clip.mp4", "no-such-clip.mp4: no such video file"),
        ("junk", "cannot be opened as a video"),  # a file that is not a video
        ("folder", "is a folder, not a video"),
    ],
)
@pytest.mark.parametrize("command", ["live", "video"])
def test_a_bad_source_is_one_line_and_exit_2(command, source, message, tmp_path):
    (tmp_path / "junk").write_bytes(b"not a video")
    (tmp_path / "folder").mkdir()
    if source in ("junk", "folder", "no-such-clip.mp4"):
        source = str(tmp_path / source)
    if command == "live":
        # a display is needed before a camera is opened: pretend one, nothing gets that far
        r = run(["live", "--camera", source], {"DISPLAY": ":99"})
    else:
        r = run(["video", source, str(tmp_path / "out.mp4")])
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "out.mp4").exists()
