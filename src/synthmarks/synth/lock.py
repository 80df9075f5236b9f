"""Who may write into a synth folder: one live writer per shard, held by an OS file lock.

Each writer holds an exclusive ``flock`` on ``.synth-lock-K-of-N`` (``K-of-N`` is its shard; a
plain run is shard ``1-of-1``, which owns every index) for as long as it runs. The kernel drops
the lock when the process ends, however it ends (``kill -9`` included), so a lock left by a dead
process is simply taken over: there is no pid to guess about and no window in which two starting
writers can both decide that a lock is stale. The file holds the holder's pid, host and start
time only so that the error can name it.

Writers of disjoint shards (``--shard 1/2`` and ``--shard 2/2``) run side by side; a writer whose
indices overlap a live one's (``1/1`` with anything, ``1/2`` with ``1/4``) stops before touching
a file. POSIX only (``fcntl``).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import socket
import time
from pathlib import Path

from synthmarks.errors import SynthmarksError

PREFIX = ".synth-lock-"
_NAME = re.compile(r"^\.synth-lock-(\d+)-of-(\d+)$")

Shard = tuple[int, int]  # (K, N): indices i with i % N == K - 1
WHOLE: Shard = (1, 1)


def owns(shard: Shard, index: int) -> bool:
    k, n = shard
    return index % n == k - 1


def overlap(a: Shard, b: Shard) -> bool:
    """Do two shards share an index? i = ka-1 (mod na) and i = kb-1 (mod nb) is solvable iff the
    residues agree modulo gcd(na, nb) (Chinese remainder theorem)."""
    g = math.gcd(a[1], b[1])
    return (a[0] - 1) % g == (b[0] - 1) % g


class FolderLock:
    """An exclusive claim on ``shard`` of ``folder``; use as a context manager."""

    def __init__(self, folder: Path, shard: Shard = WHOLE, what: str = "synth") -> None:
        self.folder, self.shard, self.what = Path(folder), shard, what
        self.path = self.folder / f"{PREFIX}{shard[0]}-of-{shard[1]}"
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        while True:  # retry if the file we locked was unlinked by its releasing owner meanwhile
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise SynthmarksError(self._busy(self.path)) from None
            if _same_file(fd, self.path):
                break
            os.close(fd)
        self._fd = fd
        for other in self.folder.glob(PREFIX + "*"):
            m = _NAME.match(other.name)
            if not m or other == self.path or not overlap(self.shard, (int(m[1]), int(m[2]))):
                continue
            if _held(other):
                self.release()
                raise SynthmarksError(self._busy(other))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({**record, "what": self.what}).encode(), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # unlinked while still locked: see acquire's check
        finally:
            os.close(self._fd)
            self._fd = None

    def _busy(self, path: Path) -> str:
        try:
            holder = json.loads(path.read_text())
            who = (
                f"{holder.get('what', 'synth')} pid {holder['pid']} on {holder['host']}, "
                f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['started']))}"
            )
        except (OSError, ValueError, KeyError, TypeError):
            who = "another process"
        m = _NAME.match(path.name)
        shard = "" if not m or m[2] == "1" else f" (shard {m[1]}/{m[2]})"
        return f"{self.folder} is being written by {who}{shard}; wait for it or use another --out"


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _held(path: Path) -> bool:
    """Is someone holding the lock on ``path``? (Probing takes it for an instant if not.)"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
