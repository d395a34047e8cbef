"""Attribute labels of (camera, identity): ``attributes.csv`` and the ``cam<N>_att.mat`` files released with
PAENet, both read into an :class:`AttributeTable` (formats: docs/datasets.md).
"""
import csv
import logging
import os
import re
from collections.abc import Collection, Iterable
from typing import Optional

import numpy as np

logger = logging.getLogger(__name__)

# The paper's 8 binary identity attributes (Sec. 4.1), in the row order of the released .mat files.
PAPER_ATTRIBUTES = ("gender", "hair_length", "glasses", "sleeve_length", "lower_body_type",
                    "lower_body_length", "backpack", "satchel")
_MAT_FILE = re.compile(r"cam(\d+)_att\.mat")


class AttributeTable:
    """0/1 attribute vectors of identities as seen in each camera.

    Args:
        names: the A attribute names.
        vectors: ``(cam, pid) -> (A,) float32``; ``cam`` None is a row of the plain CSV form, which holds
            in every camera.
        source: the file or folder read, named in errors.
        columns: for a released ``.mat`` folder, ``cam -> (file, W)``: the file's columns cover ids 1..W.
    """

    def __init__(self, names: Iterable[str], vectors: dict[tuple[Optional[int], int], np.ndarray], source: str,
                 columns: Optional[dict[int, tuple[str, int]]] = None):
        self.names = list(names)
        self.vectors = vectors
        self.source = source
        self.columns = columns or {}

    @property
    def per_camera(self) -> bool:
        return any(cam is not None for cam, _ in self.vectors)

    def cameras(self) -> list:
        return sorted({cam for cam, _ in self.vectors if cam is not None} | set(self.columns))

    def vector(self, cam: int, pid: int, image: str = "") -> np.ndarray:
        """(A,) float32 of identity ``pid`` in camera ``cam``; a missing one is an error naming ``image``."""
        found = self.vectors.get((cam, pid), self.vectors.get((None, pid)))
        if found is not None:
            return found
        seen = f" (image {image})" if image else ""
        if cam in self.columns:
            path, width = self.columns[cam]
            raise ValueError(f"{path}: camera {cam}, identity {pid}{seen}: cam{cam}_att has W = {width} "
                             f"identity columns, so none for identity {pid} (column pid - 1 = {pid - 1})")
        if self.columns:
            raise FileNotFoundError(f"{os.path.join(self.source, f'cam{cam}_att.mat')} is not found "
                                    f"(camera {cam}, identity {pid}{seen})")
        in_camera = f" in camera {cam}" if self.per_camera else ""
        raise ValueError(f"{self.source}: no attributes for identity {pid}{in_camera}{seen}")


def read_attribute_csv(path: str, cameras: Optional[Collection[int]] = None) -> AttributeTable:
    """Read an ``attributes.csv``: header ``pid,<names>`` (one row per identity, the same in every camera)
    or ``pid,cam,<names>`` (one row per identity and camera). Errors name the file and line.

    Args:
        cameras: the dataset's camera numbers; a ``cam`` outside them is an error (None: not checked).
    """
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [field.strip() for field in rows[0]] if rows else []
    per_camera = header[1:2] == ["cam"]
    names = header[2:] if per_camera else header[1:]
    if not header or header[0] != "pid" or not names:
        raise ValueError(f"{path}:1: expected a header 'pid,<attribute>,...' or 'pid,cam,<attribute>,...', "
                         f"got {rows[0] if rows else 'an empty file'}")
    width = len(header)
    vectors, first_line = {}, {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if per_camera and (len(row) == width - 1 or not row[1].strip()):
            raise ValueError(f"{path}:{line}: a row without a camera in a file with a 'cam' column; one file "
                             f"holds either per-camera rows (pid,cam,...) or per-identity rows (pid,...)")
        if len(row) != width:
            raise ValueError(f"{path}:{line}: expected {width} columns, got {len(row)}")
        pid = _integer(row[0], f"{path}:{line}: person id")
        cam = _integer(row[1], f"{path}:{line}: camera") if per_camera else None
        if cameras is not None and cam is not None and cam not in cameras:
            raise ValueError(f"{path}:{line}: unknown camera {cam} "
                             f"(the dataset's cameras are {sorted(cameras)})")
        key = f"identity {pid}" + (f" in camera {cam}" if per_camera else "")
        if (cam, pid) in vectors:
            raise ValueError(f"{path}:{line}: {key} appears twice (first on line {first_line[cam, pid]})")
        values = row[2:] if per_camera else row[1:]
        vectors[cam, pid] = np.array([_binary(v, f"{path}:{line}: attribute {n!r} of {key}")
                                      for n, v in zip(names, values)], dtype=np.float32)
        first_line[cam, pid] = line
    return AttributeTable(names, vectors, path)


def _integer(value, what):
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} {value.strip()!r} is not an integer") from None


def _binary(value, where):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number not in (0.0, 1.0):
        raise ValueError(f"{where} is {value!r}; attributes must be 0 or 1")
    return number


def read_attribute_mats(mat_dir: str) -> AttributeTable:
    """Read the released per-camera files of ``mat_dir``, as the paper's code does.

    ``cam<N>_att.mat`` holds the variable ``cam<N>_att``, uint8 of shape (8, W_N), rows in the order of
    :data:`PAPER_ATTRIBUTES`; column ``pid - 1`` is identity ``pid`` as seen in camera N. W_N is the largest
    id labelled for camera N, not its number of identity folders, and cameras need not agree.
    """
    from scipy.io import loadmat

    files = sorted((int(m.group(1)), os.path.join(mat_dir, m.group(0)))
                   for m in map(_MAT_FILE.fullmatch, os.listdir(mat_dir)) if m)
    if not files:
        raise FileNotFoundError(f"{mat_dir}: no cam<N>_att.mat file")
    vectors, columns = {}, {}
    for cam, path in files:
        key = f"cam{cam}_att"
        mat = loadmat(path)
        if key not in mat:
            raise ValueError(f"{path}: no variable {key!r} (found {sorted(k for k in mat if not k.startswith('__'))})")
        values = np.asarray(mat[key])
        if values.ndim != 2 or values.shape[0] != len(PAPER_ATTRIBUTES):
            raise ValueError(f"{path}: {key} has shape {values.shape}, expected ({len(PAPER_ATTRIBUTES)}, W)")
        bad = np.flatnonzero(~np.isin(values, (0, 1)).all(axis=0))
        if bad.size:
            others = f" ({bad.size - 1} more such columns)" if bad.size > 1 else ""
            raise ValueError(f"{path}: column {bad[0]} of {key} (identity {bad[0] + 1}) holds "
                             f"{values[:, bad[0]].tolist()}; attributes must be 0 or 1{others}")
        for column in range(values.shape[1]):
            vectors[cam, column + 1] = values[:, column].astype(np.float32)
        columns[cam] = (path, values.shape[1])
    return AttributeTable(PAPER_ATTRIBUTES, vectors, mat_dir, columns)


def attribute_matrices(table: AttributeTable) -> dict:
    """``cam -> (A, W) uint8`` in the released layout: column ``pid - 1``, W the largest pid of the camera,
    zero columns for ids without a row. ``table`` must be per camera."""
    matrices = {}
    for cam in table.cameras():
        pids = [pid for c, pid in table.vectors if c == cam]
        matrix = np.zeros((len(table.names), max(pids)), np.uint8)
        for pid in pids:
            matrix[:, pid - 1] = table.vectors[cam, pid]
        matrices[cam] = matrix
    return matrices


def write_attribute_csv(path: str, table: AttributeTable) -> None:
    """Write ``table`` as an ``attributes.csv`` (per-camera form if the table is); rows by (pid, cam)."""
    per_camera = table.per_camera
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["pid", *(["cam"] if per_camera else []), *table.names])
        for cam, pid in sorted(table.vectors, key=lambda key: (key[1], key[0] or 0)):
            writer.writerow([pid, *([cam] if per_camera else []), *(int(v) for v in table.vectors[cam, pid])])


def convert_attribute_mats(mat_dir: str, out_path: str) -> AttributeTable:
    """Write the released ``cam<N>_att.mat`` of ``mat_dir`` as one per-camera CSV (every column of every
    file, all-zero ones included); return the table."""
    table = read_attribute_mats(mat_dir)
    write_attribute_csv(out_path, table)
    return table


def load_attributes(spec: str, dataset_dir: str, known_ids: Iterable[int], cameras: Collection[int],
                    key: str = "ATTRIBUTES") -> Optional[AttributeTable]:
    """Resolve a dataset's attribute option and read it.

    Args:
        spec: "" for none; else a CSV file or a folder of ``cam<N>_att.mat``, relative to ``dataset_dir``
            or absolute. A path that does not exist means no attributes (logged).
        known_ids: every person id of the dataset; a row of the plain CSV form for another id is an error
            (per-camera rows may cover more ids, as the columns of the released files do).
        cameras: the dataset's camera numbers; a file or row for another camera is an error.
        key: the config key, named in messages.

    Returns:
        an :class:`AttributeTable`, or None when the dataset has no attributes.
    """
    if not spec:
        return None
    path = os.path.join(dataset_dir, spec)
    if not os.path.exists(path):
        logger.warning("No attribute file %s (%s): the dataset has no attributes", path, key)
        return None
    if os.path.isdir(path):
        table = read_attribute_mats(path)
        unknown = [cam for cam in table.cameras() if cam not in cameras]
        if unknown:
            raise ValueError(f"{path}: cam{unknown[0]}_att.mat is for unknown camera {unknown[0]} "
                             f"(the dataset's cameras are {sorted(cameras)})")
        return table
    table = read_attribute_csv(path, cameras)
    if not table.per_camera:
        unknown = sorted({pid for _, pid in table.vectors} - set(known_ids))
        if unknown:
            more = " ..." if len(unknown) > 10 else ""
            raise ValueError(f"{path}: unknown identities {unknown[:10]}{more} "
                             f"({len(unknown)} ids not in the dataset's split files)")
    return table
