"""One writer per on-disk format (SYSU-MM01, RegDB, LLCM), each laying out files exactly as the real set does.

A writer decides which identity appears in which camera, the splits, the file names and the index files;
rendering is :mod:`.render`'s, file writing :mod:`.files`'s. Add a format by registering a class here.

Attribute files: ``attributes.csv`` in the per-camera form ``pid,cam,<8 names>``, one row per identity and
camera it appears in, with the labels of :mod:`.labels` (an identity's labels may differ between cameras);
pid is the folder id (``cam1/0001``, ``Visible/7``, ``test_vis/cam1/0012``), not an idx file's relabelled
index. SYSU-MM01 also gets ``attributes/cam<N>_att.mat`` as released with PAENet: variable ``cam<N>_att``,
uint8 (8, W_N), column pid - 1 for identity pid in camera N, W_N the largest such pid, zero columns for
the other ids.
"""
import os
from dataclasses import dataclass

import numpy as np

from .camera import INFRARED, VISIBLE
from .files import ImageJob, savemat, write_attribute_files, write_images, write_text
from .labels import camera_labels
from .seeds import STREAM_LAYOUT

WRITERS = {}  # format name -> writer class


def register_writer(name):
    def register(cls):
        WRITERS[name] = cls
        return cls

    return register


@dataclass(frozen=True)
class WriteOptions:
    seed: int
    images_per_camera: int
    processes: int


def draw_presence(rng, cameras, num_ids, probability):
    """(num_ids, num_cameras) bool: which identity appears in which camera.

    Like the real sets, identities miss cameras, but each has at least one visible and one infrared camera.
    """
    present = rng.random((num_ids, len(cameras))) < probability
    for modality in (VISIBLE, INFRARED):
        columns = np.array([i for i, camera in enumerate(cameras) if camera.modality == modality])
        picks = rng.choice(columns, num_ids)
        missing = ~present[:, columns].any(axis=1)
        present[np.flatnonzero(missing), picks[missing]] = True
    return present


def _split_sizes(num_ids, fractions, minimums, dataset):
    """Sizes of consecutive splits: ``round(fraction * num_ids)`` but at least ``minimum``; the first takes the rest."""
    tail = [max(minimum, int(round(fraction * num_ids))) for fraction, minimum in zip(fractions, minimums)]
    if num_ids - sum(tail) < 1:
        raise ValueError(f"{dataset}: ids={num_ids} is too few; at least {sum(minimums) + 1} identities are needed")
    return [num_ids - sum(tail)] + tail


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
    TRIALS = 10

    def write(self, root, people, cameras, options):
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 0])
        pids = np.array([p.pid for p in people])
        train, val, _ = _split_sizes(len(pids), (0.2, 0.2), (1, 2), self.DIRNAME)
        order = rng.permutation(pids)
        splits = {"train_id": order[:train], "val_id": order[train:train + val], "test_id": order[train + val:]}
        present = draw_presence(rng, cameras, len(pids), self.PRESENCE)
        k = options.images_per_camera
        jobs = [
            ImageJob(os.path.join(root, f"cam{camera.camid}", f"{person.pid:04d}", f"{n:04d}.jpg"), i, c, n)
            for i, person in enumerate(people) for c, camera in enumerate(cameras) if present[i, c]
            for n in range(1, k + 1)
        ]
        write_images(jobs, people, cameras, options.seed, options.processes)
        for name, ids in splits.items():
            write_text(os.path.join(root, "exp", f"{name}.txt"), [",".join(str(pid) for pid in sorted(ids))])
        savemat(os.path.join(root, "exp", "rand_perm_cam.mat"), {"rand_perm_cam": self._permutations(rng, present, k)})
        write_attribute_files(root, camera_labels(people, cameras, present, options.seed))

    def _permutations(self, rng, present, images):
        """The ``rand_perm_cam`` cell (see the class docstring) for ``present`` (num_ids, 6) bool."""
        cell = np.empty((present.shape[1], 1), dtype=object)
        for c in range(present.shape[1]):
            row = np.empty((1, present.shape[0]), dtype=object)
            for i in range(present.shape[0]):
                if present[i, c]:
                    row[0, i] = np.stack([rng.permutation(images) + 1 for _ in range(self.TRIALS)]).astype(np.float64)
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

    def write(self, root, people, cameras, options):
        if len(people) < 2:
            raise ValueError(f"{self.DIRNAME}: ids={len(people)} is too few; at least 2 identities are needed")
        files = {}  # (modality, pid) -> relative paths
        jobs = []
        for i, person in enumerate(people):
            for c, camera in enumerate(cameras):
                folder, prefix, _ = self.FOLDERS[camera.modality]
                for n in range(1, options.images_per_camera + 1):
                    relative = f"{folder}/{person.pid}/{prefix}_{person.pid:05d}_{n:02d}.bmp"
                    files.setdefault((camera.modality, person.pid), []).append(relative)
                    jobs.append(ImageJob(os.path.join(root, relative), i, c, n))
        write_images(jobs, people, cameras, options.seed, options.processes)
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 1])
        pids = np.array([p.pid for p in people])
        for trial in range(1, self.TRIALS + 1):
            order = rng.permutation(pids)
            for split, ids in (("train", order[: len(pids) // 2]), ("test", order[len(pids) // 2:])):
                labels = _relabelled(ids)
                for modality, (_, _, name) in self.FOLDERS.items():
                    lines = [f"{path} {labels[pid]}" for pid in sorted(labels) for path in files[modality, pid]]
                    write_text(os.path.join(root, "idx", f"{split}_{name}_{trial}.txt"), lines)
        present = np.ones((len(people), len(cameras)), bool)
        write_attribute_files(root, camera_labels(people, cameras, present, options.seed), mats=False)


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
    SUFFIX = {VISIBLE: "vis", INFRARED: "nir"}

    def write(self, root, people, cameras, options):
        rng = np.random.default_rng([options.seed, STREAM_LAYOUT, 2])
        pids = np.array([p.pid for p in people])
        train = _split_sizes(len(pids), (1 / 3,), (2,), self.DIRNAME)[0]
        order = rng.permutation(pids)
        train_ids, test_ids = set(order[:train].tolist()), sorted(order[train:].tolist())
        present = draw_presence(rng, cameras, len(pids), self.PRESENCE)
        jobs, train_files = [], {VISIBLE: [], INFRARED: []}
        for i, person in enumerate(people):
            split = "train" if person.pid in train_ids else "test"
            for c, camera in enumerate(cameras):
                if not present[i, c]:
                    continue
                suffix = self.SUFFIX[camera.modality]
                for n in range(1, options.images_per_camera + 1):
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
