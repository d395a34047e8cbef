"""One writer per on-disk format (SYSU-MM01, RegDB, LLCM), each laying out files exactly as the real set does
(its attribute files: docs/datasets.md). Add a format by registering a class here.
"""
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .camera import INFRARED, VISIBLE, Camera
from .files import ImageJob, savemat, write_attribute_files, write_images, write_text
from .labels import camera_labels
from .person import Person
from .plan import Plan, allocate_images, present_by_fraction, seen_in_both_modalities
from .seeds import STREAM_LAYOUT

WRITERS = {}  # format name -> writer class


def register_writer(name: str) -> Callable[[type], type]:
    def register(cls):
        WRITERS[name] = cls
        return cls

    return register


@dataclass(frozen=True)
class WriteOptions:
    seed: int
    images_per_camera: int
    processes: int
    shape: object = None  # a plan.Shape: the counts of a real set instead of ids x images_per_camera


def draw_presence(rng: np.random.Generator, modalities: Sequence[int], num_ids: int, probability: float) -> np.ndarray:
    """(num_ids, num_cameras) bool: which identity appears in which camera (``modalities``: one per camera).

    Like the real sets, identities miss cameras, but each has at least one visible and one infrared camera.
    """
    return seen_in_both_modalities(rng, rng.random((num_ids, len(modalities))) < probability, modalities)


def _split_sizes(num_ids, fractions, minimums, dataset):
    """Sizes of consecutive splits: ``round(fraction * num_ids)`` but at least ``minimum``; the first takes the rest."""
    tail = [max(minimum, int(round(fraction * num_ids))) for fraction, minimum in zip(fractions, minimums)]
    if num_ids - sum(tail) < 1:
        raise ValueError(f"{dataset}: ids={num_ids} is too few; at least {sum(minimums) + 1} identities are needed")
    return [num_ids - sum(tail)] + tail


def _shape_splits(shape, num_ids, dataset):
    if sum(shape.splits) != num_ids:
        raise ValueError(f"{dataset}: the shape's splits {shape.splits} hold {sum(shape.splits)} identities, "
                         f"not ids={num_ids}")
    return list(shape.splits)


def _draw_counts(rng, pids, modalities, shape, split_ids, image_groups):
    """(num_ids, num_cameras) int images per identity and camera for ``shape`` (see :mod:`.plan`).

    ``split_ids``: the pids of each split in the writer's order; ``image_groups``: splits sharing a total."""
    index = {pid: i for i, pid in enumerate(pids.tolist())}
    split_rows = [np.array([index[pid] for pid in ids], np.int64) for ids in split_ids]
    present = present_by_fraction(rng, modalities, split_rows, shape.presence)
    groups = [np.concatenate([split_rows[s] for s in group]) for group in image_groups]
    return allocate_images(rng, present, modalities, groups, shape.images)


def _relabelled(pids):
    """pid -> label 0..k-1 in ascending pid order, as the real index files do."""
    return {pid: label for label, pid in enumerate(sorted(pids))}


@register_writer("sysu")
class SysuWriter:
    """``SYSU-MM01/cam{1..6}/<pid 4 digits>/<n 4 digits>.jpg``; cameras 3 and 6 are infrared.

    ``exp/{train,val,test}_id.txt`` hold one comma-separated line of ids (60% / 20% / 20%, at least 2 test ids);
    ``exp/rand_perm_cam.mat`` holds ``rand_perm_cam``: a 6 x 1 cell, one per camera, of 1 x max_id cells whose
    entry pid - 1 is a 10 x n double array of 1-based image numbers (10 random trials), empty where absent.
    """

    DIRNAME = "SYSU-MM01"
    CAMERAS = ((1, VISIBLE, 1), (2, VISIBLE, 2), (3, INFRARED, 3), (4, VISIBLE, 4), (5, VISIBLE, 5), (6, INFRARED, 6))
    PRESENCE = 0.8
    IMAGE_GROUPS = ((0, 1), (2,))  # a Shape's image totals: train + val (the 395 training ids), test
    TRIALS = 10

    def plan(self, pids: np.ndarray, modalities: Sequence[int],
             options: WriteOptions) -> tuple[Plan, np.random.Generator]:
        """(:class:`Plan` of ``pids`` ascending, the layout generator that then draws the trials)."""
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 0])
        if options.shape is None:
            train, val, _ = _split_sizes(len(pids), (0.2, 0.2), (1, 2), self.DIRNAME)
        else:
            train, val, _ = _shape_splits(options.shape, len(pids), self.DIRNAME)
        order = rng.permutation(pids)
        split_ids = (order[:train], order[train:train + val], order[train + val:])
        if options.shape is None:
            counts = draw_presence(rng, modalities, len(pids), self.PRESENCE) * options.images_per_camera
        else:
            counts = _draw_counts(rng, pids, modalities, options.shape, split_ids, self.IMAGE_GROUPS)
        splits = {name: np.sort(ids) for name, ids in zip(("train_id", "val_id", "test_id"), split_ids)}
        return Plan(pids, tuple(c for c, _, _ in self.CAMERAS), tuple(modalities), splits, counts), rng

    def write(self, root: str, people: Sequence[Person], cameras: Sequence[Camera], options: WriteOptions) -> None:
        plan, rng = self.plan(np.array([p.pid for p in people]), [c.modality for c in cameras], options)
        present = plan.counts > 0
        jobs = [
            ImageJob(os.path.join(root, f"cam{camera.camid}", f"{person.pid:04d}", f"{n:04d}.jpg"), i, c, n)
            for i, person in enumerate(people) for c, camera in enumerate(cameras)
            for n in range(1, plan.counts[i, c] + 1)
        ]
        write_images(jobs, people, cameras, options.seed, options.processes)
        for name, ids in plan.splits.items():
            write_text(os.path.join(root, "exp", f"{name}.txt"), [",".join(str(pid) for pid in ids)])
        savemat(os.path.join(root, "exp", "rand_perm_cam.mat"),
                {"rand_perm_cam": self._permutations(rng, plan.counts)})
        write_attribute_files(root, camera_labels(people, cameras, present, options.seed))

    def _permutations(self, rng, counts):
        """The ``rand_perm_cam`` cell (see the class docstring) for ``counts`` (num_ids, 6) images (0: absent)."""
        cell = np.empty((counts.shape[1], 1), dtype=object)
        for c in range(counts.shape[1]):
            row = np.empty((1, counts.shape[0]), dtype=object)
            for i in range(counts.shape[0]):
                if counts[i, c]:
                    row[0, i] = np.stack([rng.permutation(counts[i, c]) + 1
                                          for _ in range(self.TRIALS)]).astype(np.float64)
                else:
                    row[0, i] = np.zeros((0, 0))
            cell[c, 0] = row
        return cell


@register_writer("regdb")
class RegdbWriter:
    """``RegDB/{Visible,Thermal}/<pid>/{v,t}_<pid 5 digits>_<n 2 digits>.bmp``: every identity in both cameras.

    ``idx/{train,test}_{visible,thermal}_{t}.txt`` for trials t = 1..10: lines ``<relative path> <label>``; each
    trial draws half of the identities (rounded down) for training and the rest for testing; labels are
    0..k-1 in ascending pid order within each split.
    """

    DIRNAME = "RegDB"
    CAMERAS = ((1, VISIBLE, 1), (2, INFRARED, 1))  # one dual camera: one scene seen in both modalities
    FOLDERS = {VISIBLE: ("Visible", "v", "visible"), INFRARED: ("Thermal", "t", "thermal")}
    TRIALS = 10

    def plan(self, pids: np.ndarray, modalities: Sequence[int], options: WriteOptions) -> tuple[Plan, None]:
        """(:class:`Plan`: every identity in both cameras, ``images_per_camera`` each; no fixed split, None)."""
        counts = np.full((len(pids), len(modalities)), options.images_per_camera, np.int64)
        return Plan(pids, tuple(c for c, _, _ in self.CAMERAS), tuple(modalities), {}, counts), None

    def write(self, root: str, people: Sequence[Person], cameras: Sequence[Camera], options: WriteOptions) -> None:
        if len(people) < 2:
            raise ValueError(f"{self.DIRNAME}: ids={len(people)} is too few; at least 2 identities are needed")
        plan, _ = self.plan(np.array([p.pid for p in people]), [c.modality for c in cameras], options)
        files = {}  # (modality, pid) -> relative paths
        jobs = []
        for i, person in enumerate(people):
            for c, camera in enumerate(cameras):
                folder, prefix, _ = self.FOLDERS[camera.modality]
                for n in range(1, plan.counts[i, c] + 1):
                    relative = f"{folder}/{person.pid}/{prefix}_{person.pid:05d}_{n:02d}.bmp"
                    files.setdefault((camera.modality, person.pid), []).append(relative)
                    jobs.append(ImageJob(os.path.join(root, relative), i, c, n))
        write_images(jobs, people, cameras, options.seed, options.processes)
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 1])
        for trial in range(1, self.TRIALS + 1):
            order = rng.permutation(plan.pids)
            for split, ids in (("train", order[: len(order) // 2]), ("test", order[len(order) // 2:])):
                labels = _relabelled(ids)
                for modality, (_, _, name) in self.FOLDERS.items():
                    lines = [f"{path} {labels[pid]}" for pid in sorted(labels) for path in files[modality, pid]]
                    write_text(os.path.join(root, "idx", f"{split}_{name}_{trial}.txt"), lines)
        write_attribute_files(root, camera_labels(people, cameras, plan.counts > 0, options.seed), mats=False)


@register_writer("llcm")
class LlcmWriter:
    """``LLCM/{train,test}_{vis,nir}/cam<c>/<pid 4 digits>/<pid>_c<cc>_<n 4 digits>_{vis,nir}.jpg``.

    9 cameras, each with a visible and a near-infrared version except camera 3 (visible only); the two
    versions of a camera share its scene. About a third of the identities are test identities.
    ``idx/train_vis.txt`` and ``idx/train_nir.txt``: lines ``<path relative to LLCM/> <label>``, labels 0..k-1
    in ascending pid order; ``idx/test_id.txt``: one comma-separated line of the test ids.
    """

    DIRNAME = "LLCM"
    CAMERAS = tuple((c, VISIBLE, c) for c in range(1, 10)) + tuple((c, INFRARED, c) for c in (1, 2, 4, 5, 6, 7, 8, 9))
    PRESENCE = 0.45
    IMAGE_GROUPS = ((0,), (1,))  # a Shape's image totals: train, test
    SUFFIX = {VISIBLE: "vis", INFRARED: "nir"}

    def plan(self, pids: np.ndarray, modalities: Sequence[int],
             options: WriteOptions) -> tuple[Plan, np.random.Generator]:
        """(:class:`Plan` of ``pids`` ascending, the layout generator)."""
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 2])
        if options.shape is None:
            train = _split_sizes(len(pids), (1 / 3,), (2,), self.DIRNAME)[0]
        else:
            train = _shape_splits(options.shape, len(pids), self.DIRNAME)[0]
        order = rng.permutation(pids)
        split_ids = (order[:train], order[train:])
        if options.shape is None:
            counts = draw_presence(rng, modalities, len(pids), self.PRESENCE) * options.images_per_camera
        else:
            counts = _draw_counts(rng, pids, modalities, options.shape, split_ids, self.IMAGE_GROUPS)
        splits = {name: np.sort(ids) for name, ids in zip(("train", "test"), split_ids)}
        return Plan(pids, tuple(c for c, _, _ in self.CAMERAS), tuple(modalities), splits, counts), rng

    def write(self, root: str, people: Sequence[Person], cameras: Sequence[Camera], options: WriteOptions) -> None:
        plan, _ = self.plan(np.array([p.pid for p in people]), [c.modality for c in cameras], options)
        present = plan.counts > 0
        train_ids, test_ids = set(plan.splits["train"].tolist()), plan.splits["test"].tolist()
        jobs, train_files = [], {VISIBLE: [], INFRARED: []}
        for i, person in enumerate(people):
            split = "train" if person.pid in train_ids else "test"
            for c, camera in enumerate(cameras):
                suffix = self.SUFFIX[camera.modality]
                for n in range(1, plan.counts[i, c] + 1):
                    name = f"{person.pid:04d}_c{camera.camid:02d}_{n:04d}_{suffix}.jpg"
                    relative = f"{split}_{suffix}/cam{camera.camid}/{person.pid:04d}/{name}"
                    jobs.append(ImageJob(os.path.join(root, relative), i, c, n))
                    if split == "train":
                        train_files[camera.modality].append((person.pid, relative))
        write_images(jobs, people, cameras, options.seed, options.processes)
        labels = _relabelled(train_ids)
        for modality, files in train_files.items():
            lines = [f"{relative} {labels[pid]}" for pid, relative in files]
            write_text(os.path.join(root, "idx", f"train_{self.SUFFIX[modality]}.txt"), lines)
        write_text(os.path.join(root, "idx", "test_id.txt"), [",".join(str(pid) for pid in test_ids)])
        write_attribute_files(root, camera_labels(people, cameras, present, options.seed), mats=False)
