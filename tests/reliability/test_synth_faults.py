"""`synthmarks synth` under faults: a second writer, kill -9 of the parent and of a worker, stale
locks, damaged samples on resume, relabel into a folder of another convention.

Every run here is a few 64-pixel faces; an uninterrupted in-process run is the reference that an
interrupted-and-resumed one must equal byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from faults import children, files, kill9, one_line_error, run_cli, start_cli, wait_for

from synthmarks.errors import SynthmarksError

SIZE, SEED, COUNT = 64, 3, 6
ENDLESS = 100_000  # a run that is still going whenever the test acts on it


def synth_args(out: Path, face_model: Path, count: int = COUNT, *extra: str) -> list[str]:
    return [
        "synth",
        "--out",
        str(out),
        "--count",
        str(count),
        "--seed",
        str(SEED),
        "--size",
        str(SIZE),
        "--face-model",
        str(face_model),
        "--no-progress",
        "--set",
        "look=v1",  # the fast look: these tests are about files, not faces
        *extra,
    ]


def generate(out: Path, face_model: Path, count: int = COUNT) -> dict:
    from synthmarks.synth.generate import generate
    from synthmarks.synth.sampling import SynthConfig

    return generate(
        out, count, SEED, SynthConfig(look="v1", size=SIZE), 0, str(face_model), progress=False
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory, face_model) -> Path:
    out = tmp_path_factory.mktemp("synth_ref")
    generate(out, face_model)
    return out


def n_samples(folder: Path) -> int:
    return len(list(folder.glob("*_ldmks.txt")))


def resumed_equals_reference(out: Path, face_model: Path, reference: Path, *extra: str) -> None:
    """Resume the interrupted run to COUNT samples: they equal the uninterrupted run's, and no
    piece of an unfinished sample or temp file is left."""
    again = run_cli(*synth_args(out, face_model, COUNT, *extra))
    assert again.returncode == 0, again.stderr
    got = files(out)
    assert {k: v for k, v in got.items() if k < f"{COUNT:06d}"} == files(reference)
    done = {k[:6] for k in got if k.endswith("_ldmks.txt")}
    assert all(k[:6] in done for k in got if not k.startswith(".synth-lock")), sorted(got)


def test_second_writer_is_refused_and_nothing_is_lost(tmp_path, face_model, reference):
    out = tmp_path / "set"
    first = start_cli(*synth_args(out, face_model, ENDLESS, "--workers", "0"))
    try:
        wait_for(lambda: n_samples(out) >= 1, what="the first sample")
        before = {p.name for p in out.glob("0*")}
        second = run_cli(*synth_args(out, face_model, 0))  # used to delete the first's files
        err = one_line_error(second, second.stderr)
        assert "is being written by synth pid" in err and str(first.pid) in err
        assert first.poll() is None, "the first run must still be going"
        assert before <= {p.name for p in out.glob("0*")}, "the second run removed files"
    finally:
        kill9(first.pid)
        first.wait(timeout=30)
    # the killed run's lock is stale: a resume takes it over and completes the set
    assert list(out.glob(".synth-lock-*")), "the killed run's lock file should still be there"
    resumed_equals_reference(out, face_model, reference, "--workers", "0")


def test_a_resume_removes_unfinished_samples_beyond_its_count(tmp_path, face_model, reference):
    """An interrupted larger run can leave a sample half-written past this run's count (the
    race the second-writer test hit on a busy machine): the resume removes its pieces too, and
    only those; in a shard, only its own indices."""
    import shutil

    out = tmp_path / "set"
    shutil.copytree(reference, out)
    image = (out / "000000.png").read_bytes()

    def piece(i: int) -> Path:
        (out / f"{i:06d}.png").write_bytes(image)
        return out / f"{i:06d}.png"

    piece(COUNT + 3)
    resumed_equals_reference(out, face_model, reference, "--workers", "0")
    # shard 1/2 owns the even indices: it removes COUNT + 4's piece, not COUNT + 5's
    even, odd = piece(COUNT + 4), piece(COUNT + 5)
    again = run_cli(*synth_args(out, face_model, COUNT, "--workers", "0", "--shard", "1/2"))
    assert again.returncode == 0, again.stderr
    assert not even.exists() and odd.exists()


def test_two_shards_write_one_folder_at_once(tmp_path, face_model, reference):
    out = tmp_path / "set"
    args = [
        synth_args(out, face_model, COUNT, "--workers", "0", "--shard", k) for k in ("1/2", "2/2")
    ]
    shards = [start_cli(*a) for a in args]
    for proc in shards:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    assert files(out) == files(reference)  # the union is the single run's set, no lock left


def test_killed_parent_and_its_orphan_workers_then_resume(tmp_path, face_model, reference):
    out = tmp_path / "set"
    proc = start_cli(*synth_args(out, face_model, ENDLESS, "--workers", "1"))
    wait_for(lambda: n_samples(out) >= 2, what="two samples")
    workers = [pid for pid, cmd in children(proc.pid) if "spawn_main" in cmd]
    assert workers, children(proc.pid)
    kill9(proc.pid)
    proc.wait(timeout=30)
    # the orphaned worker notices its parent is gone and stops
    wait_for(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), 30, "orphans")
    resumed_equals_reference(out, face_model, reference, "--workers", "0")


def test_killed_worker_is_reported_not_waited_for(tmp_path, face_model, reference):
    out = tmp_path / "set"
    proc = start_cli(*synth_args(out, face_model, ENDLESS, "--workers", "1"))
    try:
        wait_for(lambda: n_samples(out) >= 1, what="the first sample")
        workers = [pid for pid, cmd in children(proc.pid) if "spawn_main" in cmd]
        assert len(workers) == 1, children(proc.pid)
        kill9(workers[0])
        _, stderr = proc.communicate(timeout=60)  # before the fix: it waited forever
    finally:
        if proc.poll() is None:
            kill9(proc.pid)
    assert "worker process died" in one_line_error(proc, stderr)
    resumed_equals_reference(out, face_model, reference, "--workers", "0")


def test_a_damaged_sample_is_not_trusted_on_resume(tmp_path, face_model, reference):
    out = tmp_path / "set"
    shutil.copytree(reference, out)
    png = out / "000001.png"
    png.write_bytes(png.read_bytes()[: png.stat().st_size // 2])  # cut short
    (out / "000002_ldmks.txt").write_text("1 2\n" * 70 + "nan 3\n")  # 71 rows, one not finite
    (out / "000003_meta.json").write_text("{")
    summary = generate(out, face_model)
    assert sorted(summary["damaged"]) == [1, 2, 3], summary["damaged"]
    assert "000001.png: truncated" in summary["damaged"][1]
    assert summary["made"] == 3 and summary["skipped"] == COUNT - 3
    assert files(out) == files(reference)


def test_relabel_into_a_folder_of_another_convention_is_refused(tmp_path, face_model, reference):
    from synthmarks.synth.relabel import relabel

    dst = tmp_path / "outline"
    relabel(reference, dst, "outline", str(face_model), progress=False, count=2)
    record = (dst / "synth_run.json").read_text()
    with pytest.raises(SynthmarksError, match="another seed or config"):
        relabel(reference, dst, "xray", str(face_model), progress=False)
    assert (dst / "synth_run.json").read_text() == record
    assert n_samples(dst) == 2
    assert json.loads(record)["config"]["jaw_convention"] == "outline"
    # same settings: resumes; a damaged relabelled sample is redone
    (dst / "000000_ldmks.txt").write_text("garbage\n")
    r = relabel(reference, dst, "outline", str(face_model), progress=False, count=3)
    assert r == {"relabelled": 2, "skipped": 1, "moved": r["moved"]}


def test_relabel_into_a_folder_being_written_is_refused(tmp_path, face_model, reference):
    from synthmarks.synth.lock import FolderLock
    from synthmarks.synth.relabel import relabel

    dst = tmp_path / "dst"
    dst.mkdir()
    with FolderLock(dst), pytest.raises(SynthmarksError, match="being written by synth pid"):
        relabel(reference, dst, "outline", str(face_model), progress=False)


def test_disjoint_shards_share_a_folder_overlapping_ones_do_not(tmp_path):
    from synthmarks.synth.lock import FolderLock, overlap

    assert overlap((1, 2), (1, 4)) and overlap((1, 1), (2, 3)) and overlap((2, 4), (4, 6))
    assert not overlap((1, 2), (2, 2)) and not overlap((1, 4), (2, 6))
    with FolderLock(tmp_path, (1, 2)), FolderLock(tmp_path, (2, 2)):  # disjoint: both run
        for clash in ((1, 1), (1, 4), (2, 2)):
            with pytest.raises(SynthmarksError, match=r"being written by synth pid \d+.*shard"):
                FolderLock(tmp_path, clash).acquire()
    assert not list(tmp_path.glob(".synth-lock-*")), "a released lock removes its file"
    with FolderLock(tmp_path, (1, 1)):
        pass


def test_cleanup_leaves_other_shards_files_alone(tmp_path):
    from synthmarks.synth.generate import clean_partial

    names = [".000001.png.x1.tmp.png", ".000002_ldmks.txt.x2.tmp.txt", ".synth_run.json.x.tmp"]
    names += ["000003.png", "000004.png"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    clean_partial(tmp_path, [4], shard=(1, 2))  # owns the even indices
    assert sorted(os.listdir(tmp_path)) == sorted(
        [".000001.png.x1.tmp.png", ".synth_run.json.x.tmp", "000003.png"]
    )
    clean_partial(tmp_path, [3], shard=(1, 1))
    assert os.listdir(tmp_path) == []
