"""Helpers of the fault-injection suite: the CLI in a child process, ways to kill it, checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "synthmarks", *args]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=timeout)


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append((int(d.name), cmd))
    return out


def kill9(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def one_line_error(proc: subprocess.CompletedProcess | subprocess.Popen, stderr: str) -> str:
    """The CLI's contract for bad input: status 2 and one line on stderr, no traceback."""
    assert proc.returncode == 2, f"status {proc.returncode}: {stderr}"
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def files(folder: Path) -> dict[str, bytes]:
    """Every sample file's bytes (the run record, which holds the version, aside)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "synth_run.json"}


def run_read_only(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with ``folder`` read-only: a read-only bind mount in a user namespace when
    we are root (root writes through permission bits), else permission bits."""
    import pytest

    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return run_cli(*args)
        finally:
            folder.chmod(0o755)
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root without user namespaces: cannot make a read-only folder")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    cmd = ["unshare", "-r", "-m", "sh", "-c", script, str(folder), *cli(*args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
