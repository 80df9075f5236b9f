"""The dataset returns targets in the models' convention, the cache changes nothing but speed,
and the sampler is seeded, sharded and skippable."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from synthmarks.data import crop
from synthmarks.data.augment import AugmentConfig, Augmenter
from synthmarks.data.dataset import (
    EpochSampler,
    ImageCache,
    LandmarkDataset,
    mean_target,
)
from synthmarks.data.sample import Sample
from synthmarks.landmarks import bounding_box
from synthmarks.models.mean_shape import DEFAULT_MEAN_SHAPE_68

SIZE = 64


def make_samples(root: Path, n: int = 6) -> list[Sample]:
    """Smooth random images (so bilinear resampling differences stay small) with face points."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        small = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
        img = cv2.resize(small, (240, 240), interpolation=cv2.INTER_CUBIC)
        path = root / f"{i:06d}.png"
        cv2.imwrite(str(path), img)
        pts = DEFAULT_MEAN_SHAPE_68 * rng.uniform(110, 150) + rng.uniform(40, 60, 2)
        samples.append(Sample(path, pts.astype(np.float32)))
    return samples


def test_targets_match_the_evaluation_crop(tmp_path):
    samples = make_samples(tmp_path)
    ds = LandmarkDataset(samples, Augmenter(AugmentConfig(enabled=False), SIZE, 1.3))
    item = ds[0]
    assert item["image"].shape == (SIZE, SIZE, 3) and item["image"].dtype == torch.uint8
    m = crop.box_crop_matrix(bounding_box(samples[0].points), SIZE, 1.3)
    expected = (crop.apply(m, samples[0].points) + 0.5) / SIZE
    np.testing.assert_allclose(item["target"].numpy(), expected, atol=1e-5)
    assert item["visibility"].shape == (68,) and bool((item["visibility"] == 1).all())


def test_cache_gives_the_same_crops(tmp_path):
    samples = make_samples(tmp_path)
    aug = Augmenter(
        AugmentConfig(color_p=0, noise_p=0, jpeg_p=0, occlude_p=0, blur_p=0, gray_p=0), SIZE, 1.3
    )
    cache = ImageCache.build(samples, tmp_path / "cache", SIZE, 1.3, 1.75, progress=False)
    plain, cached = LandmarkDataset(samples, aug), LandmarkDataset(samples, aug, cache=cache)
    for i in range(len(samples)):
        a, b = plain[(3, i)], cached[(3, i)]
        np.testing.assert_array_equal(a["target"].numpy(), b["target"].numpy())
        diff = np.abs(a["image"].numpy().astype(int) - b["image"].numpy().astype(int))
        assert diff.mean() < 4.0, diff.mean()
    again = ImageCache.build(samples, tmp_path / "cache", SIZE, 1.3, 1.75, progress=False)
    assert again.path == cache.path  # reused, not rebuilt
    samples[0].points = samples[0].points + 1.0
    changed = ImageCache.build(samples, tmp_path / "cache", SIZE, 1.3, 1.75, progress=False)
    assert changed.path != cache.path  # new labels, new cache


def test_sampler_is_seeded_sharded_and_skippable():
    s = EpochSampler(10, seed=3, rank=0, world_size=1)
    s.set_epoch(2)
    first = list(s)
    assert list(s) == first and all(e == 2 for e, _ in first)
    assert sorted(i for _, i in first) == list(range(10))
    s.set_epoch(3)
    assert list(s) != first
    ranks = [EpochSampler(10, seed=3, rank=r, world_size=3) for r in range(3)]
    for r in ranks:
        r.set_epoch(2)
    shards = [list(r) for r in ranks]
    assert {len(x) for x in shards} == {4}  # padded to equal length
    assert {i for x in shards for _, i in x} == set(range(10))
    ranks[1].set_epoch(2, skip=3)
    assert list(ranks[1]) == shards[1][3:] and len(ranks[1]) == 1


def test_mean_target_is_the_mean_shape(tmp_path):
    samples = make_samples(tmp_path)
    shape = mean_target(samples, SIZE, 1.3, 68)
    assert shape.shape == (68, 2)
    assert 0.0 < shape.min() and shape.max() < 1.0
    np.testing.assert_allclose(shape.mean(0), [0.5, 0.5], atol=0.08)
