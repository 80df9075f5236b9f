"""The training data pipeline: samples -> augmented uint8 crops + normalised targets, repeatably.

Three pieces, each there for a reason:

* :class:`ImageCache` pre-decodes every face once into a uint8 memory map at roughly the model's
  scale (a 512 px PNG costs milliseconds to decode; a 224 px cache row costs microseconds to
  read), so on a 2-core laptop the model, not the loader, is the bottleneck.
* :class:`EpochSampler` shuffles with a (seed, epoch) permutation, shards it across DDP ranks and
  hands the dataset ``(epoch, index)`` keys, so the augmentation of every sample is a pure function
  of (seed, epoch, index) whatever the number of workers or processes, and a resumed run can skip
  the batches it already did.
* :class:`LandmarkDataset` returns HWC uint8 crops, as inference crops them; the trainer
  normalises a whole batch with :func:`synthmarks.infer.runtime.to_model_input`, the function
  inference uses, and permuting the HWC batch to NCHW gives channels-last memory for free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from synthmarks.data import crop
from synthmarks.data.augment import Augmenter
from synthmarks.data.sample import Sample
from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path, write_json
from synthmarks.landmarks import JAW_POINTS, OutputLayout, bounding_box

CACHE_VERSION = 1


class ImageCache:
    """Square uint8 crops around each face, ``margin`` base crops wide, ``size`` pixels a side.

    Stored as ``<key>.npy`` (N, size, size, 3) plus ``<key>.matrices.npy`` (N, 2, 3): original
    image pixels -> cache pixels. The key hashes the image files (path, size, mtime), the labels
    and the geometry, so a changed dataset gets a fresh cache. Written atomically; opened lazily
    (read-only memory map) in each process, so data-loader workers share the page cache.
    """

    def __init__(self, path: Path, matrices: np.ndarray) -> None:
        self.path = path
        self.matrices = matrices
        self._images: np.ndarray | None = None

    @property
    def images(self) -> np.ndarray:
        if self._images is None:
            self._images = np.load(self.path, mmap_mode="r")
        return self._images

    def __getstate__(self) -> dict[str, Any]:  # workers started by spawn re-open the map
        return {"path": self.path, "matrices": self.matrices, "_images": None}

    def __len__(self) -> int:
        return len(self.matrices)

    def get(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(cache image, original-to-cache matrix) of one sample."""
        return self.images[index], self.matrices[index]

    @staticmethod
    def key(samples: Sequence[Sample], size: int, crop_scale: float, margin: float) -> str:
        h = hashlib.sha1(json.dumps([CACHE_VERSION, size, crop_scale, margin]).encode())
        for s in samples:
            st = os.stat(s.image_path)
            h.update(f"{Path(s.image_path).resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
            h.update(np.ascontiguousarray(s.points, np.float32).tobytes())
        return h.hexdigest()[:16]

    @classmethod
    def build(
        cls,
        samples: Sequence[Sample],
        cache_dir: str | Path,
        input_size: int,
        crop_scale: float,
        margin: float,
        threads: int = 2,
        progress: bool = True,
    ) -> ImageCache:
        """Open the cache for these samples, writing it first if it does not exist yet."""
        size = int(round(input_size * margin))
        key = cls.key(samples, size, crop_scale, margin)
        root = Path(cache_dir)
        path, mat_path = root / f"{key}.npy", root / f"{key}.matrices.npy"
        if path.is_file() and mat_path.is_file():
            return cls(path, np.load(mat_path))
        matrices = np.stack([cls._matrix(s.points, size, crop_scale, margin) for s in samples])
        with atomic_path(path) as tmp:
            out = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.uint8, shape=(len(samples), size, size, 3)
            )
            _fill_cache(out, samples, matrices, threads, progress)
            out.flush()
            del out  # close the map before the rename
        with atomic_path(mat_path) as tmp:
            np.save(tmp, matrices)
        write_json(
            root / f"{key}.json",
            {
                "count": len(samples),
                "size": size,
                "margin": margin,
                "crop_scale": crop_scale,
                "first": str(samples[0].image_path) if samples else None,
            },
        )
        return cls(path, matrices)

    @staticmethod
    def _matrix(points: np.ndarray, size: int, crop_scale: float, margin: float) -> np.ndarray:
        box = bounding_box(points)
        return crop.box_crop_matrix(box, size, crop_scale * margin)


def _fill_cache(
    out: np.ndarray, samples: Sequence[Sample], matrices: np.ndarray, threads: int, progress: bool
) -> None:
    from tqdm import tqdm

    size = out.shape[1]

    def fill(i: int) -> None:
        out[i] = crop.warp(samples[i].load_image(), matrices[i], size)

    with ThreadPoolExecutor(max(1, threads)) as pool:  # cv2 decodes without holding the GIL
        list(
            tqdm(
                pool.map(fill, range(len(samples))),
                total=len(samples),
                desc=f"caching {len(samples)} faces at {size}px",
                disable=not progress,
                leave=False,
            )
        )


class LandmarkDataset(Dataset):
    """Augmented crops of labelled faces.

    Items are dicts: ``image`` uint8 (S, S, 3) RGB, ``target`` float32 (N, 2) in normalised crop
    coordinates (``(pixel + 0.5) / S``, the models' convention), ``visibility`` float32 (N,),
    ``index`` int, and with ``with_pose`` ``pose`` float32 (3,) radians (pitch, yaw, roll as seen
    in the augmented crop). Index with an int or an ``(epoch, index)`` key (see
    :class:`EpochSampler`).
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        augmenter: Augmenter,
        num_points: int = 68,
        seed: int = 0,
        cache: ImageCache | None = None,
        with_pose: bool = False,
    ) -> None:
        if cache is not None and len(cache) != len(samples):
            raise ValueError("cache and samples differ in length")
        for s in samples:
            if len(s.points) < num_points:
                raise ValueError(f"{s.image_path}: {len(s.points)} points, need {num_points}")
            if with_pose and s.pose is None:
                raise ValueError(f"{s.image_path}: no head pose")
        self.samples = list(samples)
        self.augmenter = augmenter
        self.num_points = num_points
        self.seed = seed
        self.cache = cache
        self.with_pose = with_pose

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        epoch, index = key if isinstance(key, tuple) else (0, int(key))
        rng = np.random.default_rng([self.seed, epoch, index])
        sample = self.samples[index]
        if self.cache is not None:
            image, image_matrix = self.cache.get(index)
        else:
            image, image_matrix = sample.load_image(), None
        pose = sample.pose if self.with_pose else None
        out = self.augmenter(image, sample.points, sample.visibility, rng, image_matrix, pose)
        n, s = self.num_points, self.augmenter.size
        item = {
            "image": torch.from_numpy(out.image),
            "target": torch.from_numpy((out.points[:n] + 0.5) / s),
            "visibility": torch.from_numpy(out.visibility[:n].astype(np.float32)),
            "index": index,
        }
        if out.pose is not None:
            item["pose"] = torch.from_numpy(np.radians(out.pose).astype(np.float32))
        return item


class EpochSampler(Sampler):
    """Yields ``(epoch, index)`` keys: a seeded per-epoch shuffle, sharded across ranks.

    Like ``DistributedSampler`` it pads the permutation so every rank gets the same number of
    samples (DDP needs equal step counts). ``skip`` drops that many of this rank's first samples,
    which is how a run resumed mid-epoch continues exactly where it stopped.
    """

    def __init__(
        self, size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ) -> None:
        if size <= 0:
            raise ValueError("cannot sample from an empty dataset")
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def per_rank(self) -> int:
        return -(-self.size // self.world_size)

    def __len__(self) -> int:
        return max(self.per_rank() - self.skip, 0)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch, 7919]).permutation(self.size)
        else:
            order = np.arange(self.size)
        total = self.per_rank() * self.world_size
        order = np.resize(order, total)  # pad by repeating from the start
        mine = order[self.rank :: self.world_size][self.skip :]
        return iter([(self.epoch, int(i)) for i in mine])


def mean_target(
    samples: Sequence[Sample],
    input_size: int,
    crop_scale: float,
    num_points: int,
    limit: int = 2000,
) -> np.ndarray:
    """(N, 2) mean normalised target over (up to ``limit``) un-augmented base crops: the training
    set's mean shape, which PIPNet uses for its neighbour table. Needs only the labels."""
    pts = []
    step = max(1, len(samples) // limit)
    for s in list(samples)[::step][:limit]:
        m = crop.box_crop_matrix(bounding_box(s.points), input_size, crop_scale)
        pts.append((crop.apply(m, s.points[:num_points]) + 0.5) / input_size)
    return np.mean(pts, axis=0).astype(np.float32)


def with_outputs(samples: Sequence[Sample], layout: OutputLayout) -> list[Sample]:
    """Samples whose points are the training targets of ``layout``: the scheme points with the
    x-ray jaw first (whatever jaw the set was labelled with), then the outline jaw, both from
    meta.json's ``jaws``; checks that every sample has the pose the layout learns.

    A set rendered before meta.json carried both jaws has no ``jaws``: it is refused with the
    command that adds them (``--relabel`` re-labels the same pixels), not trained on half-labelled.
    """
    if layout.pose:
        missing = next((s for s in samples if s.pose is None), None)
        if missing is not None:
            raise SynthmarksError(
                f"{missing.image_path}: no head pose (meta.json pose_deg); model.pose learns "
                "from synthetic faces rendered by `synthmarks synth`"
            )
    if not layout.outline_jaw:
        return list(samples)
    out = []
    for s in samples:
        if s.jaws is None:
            raise SynthmarksError(
                f"{s.image_path}: meta.json has no 'jaws' (rendered before both jaws were saved); "
                "add them with `synthmarks synth --relabel SRC --out DST`"
            )
        pts = np.array(s.points[: layout.landmarks], np.float32)
        pts[:JAW_POINTS] = s.jaws["xray"]
        pts = np.concatenate([pts, s.jaws["outline"]]).astype(np.float32)
        vis = s.visibility
        if vis is not None:
            vis = np.concatenate([vis[: layout.landmarks], np.ones(JAW_POINTS, bool)])
        out.append(dataclasses.replace(s, points=pts, visibility=vis))
    return out
