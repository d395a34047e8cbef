"""Writing the files of a synthetic dataset: images rendered in parallel, attribute files, MAT files.
Everything is a function of the seed (per-image generators; MAT headers get a fixed text, not the time).
"""
import io
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import scipy.io

from ..datasets.attributes import AttributeTable, attribute_matrices, write_attribute_csv
from .camera import Camera
from .person import Person
from .render import render_image
from .seeds import image_rng

# file extension -> cv2.imwrite parameters
IMWRITE_PARAMS = {".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95], ".bmp": []}
MAT_HEADER_BYTES = 116  # the descriptive text at the start of a level-5 MAT-file
MAT_HEADER = b"MATLAB 5.0 MAT-file, Platform: posix, Created by: fastreid_ext.data.synthvi"


@dataclass(frozen=True)
class ImageJob:
    """One image file: image ``n`` (1-based) of ``people[person]`` in ``cameras[camera]``."""

    path: str
    person: int
    camera: int
    n: int


_WORKER = {}  # people, cameras and seed of the current write_images call, in each process


def _start_worker(people, cameras, seed):
    _WORKER.update(people=people, cameras=cameras, seed=seed)


def _write_image(job):
    person, camera = _WORKER["people"][job.person], _WORKER["cameras"][job.camera]
    image = render_image(person, camera, image_rng(_WORKER["seed"], person.pid, camera.camid, camera.modality, job.n))
    extension = os.path.splitext(job.path)[1]
    if not cv2.imwrite(job.path, image, IMWRITE_PARAMS[extension]):
        raise OSError(f"cv2.imwrite could not write {job.path}")


def write_images(jobs: Sequence[ImageJob], people: Sequence[Person], cameras: Sequence[Camera], seed: int,
                 processes: int = 2) -> None:
    """Render and write every :class:`ImageJob`; ``processes`` <= 1 renders in this process."""
    for folder in sorted({os.path.dirname(job.path) for job in jobs}):
        os.makedirs(folder, exist_ok=True)
    if processes <= 1:
        _start_worker(people, cameras, seed)
        try:
            for job in jobs:
                _write_image(job)
        finally:
            _WORKER.clear()
        return
    # OpenCV's thread pool must be stopped before forking: a forked child inherits its locks but not its
    # threads and hangs on them. One thread per process is also what a pool that fills the cores wants.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        chunk = max(1, len(jobs) // (8 * processes))
        with multiprocessing.Pool(processes, _start_worker, (people, cameras, seed)) as pool:
            for _ in pool.imap_unordered(_write_image, jobs, chunksize=chunk):
                pass
    finally:
        cv2.setNumThreads(threads)


def write_attribute_files(root: str, table: AttributeTable, mats: bool = True) -> None:
    """``<root>/attributes.csv`` (per-camera form) and, with ``mats``, ``<root>/attributes/cam<N>_att.mat``
    in the layout of the files released with PAENet (column pid - 1 of each camera's matrix)."""
    write_attribute_csv(os.path.join(root, "attributes.csv"), table)
    if mats:
        for cam, matrix in attribute_matrices(table).items():
            savemat(os.path.join(root, "attributes", f"cam{cam}_att.mat"), {f"cam{cam}_att": matrix})


def write_text(path: str, lines: Iterable[str]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.writelines(line + "\n" for line in lines)


def savemat(path: str, variables: dict) -> None:
    """``scipy.io.savemat`` with a fixed header text, so that equal variables give equal bytes."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    data = buffer.getvalue()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(MAT_HEADER.ljust(MAT_HEADER_BYTES) + data[MAT_HEADER_BYTES:])
