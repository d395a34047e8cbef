"""Identity attribute tables: our ``attributes.csv`` and the per-camera ``camN_att.mat`` files released with PAENet
(formats: docs/datasets.md).
"""
import csv
import logging
import os
import re

import numpy as np

logger = logging.getLogger(__name__)

# The paper's 8 binary identity attributes (Sec. 4.1), in the row order of the released .mat files.
PAPER_ATTRIBUTES = ("gender", "hair_length", "glasses", "sleeve_length", "lower_body_type",
                    "lower_body_length", "backpack", "satchel")


def folder_identities(directory):
    """Sorted integer ids of the numeric sub-folders of ``directory`` (e.g. ``cam1/0001``)."""
    return sorted(int(d) for d in os.listdir(directory)
                  if d.isdigit() and os.path.isdir(os.path.join(directory, d)))


def read_attribute_csv(path):
    """Return ``(names, table)`` from an ``attributes.csv``; errors name the file and line."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0] or rows[0][0].strip() != "pid" or len(rows[0]) < 2:
        raise ValueError(f"{path}:1: expected a header 'pid,<attribute>,...', got {rows[0] if rows else 'an empty file'}")
    names = [name.strip() for name in rows[0][1:]]
    table = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(names) + 1:
            raise ValueError(f"{path}:{line}: expected {len(names) + 1} columns, got {len(row)}")
        try:
            pid = int(row[0])
        except ValueError:
            raise ValueError(f"{path}:{line}: person id {row[0]!r} is not an integer") from None
        if pid in table:
            raise ValueError(f"{path}:{line}: identity {pid} appears twice")
        table[pid] = np.array([_binary(v, f"{path}:{line}: attribute {n!r} of identity {pid}")
                               for n, v in zip(names, row[1:])], dtype=np.float32)
    return names, table


def _binary(value, where):
    try:
        number = float(value)
    except ValueError:
        number = None
    if number not in (0.0, 1.0):
        raise ValueError(f"{where} is {value!r}; attributes must be 0 or 1")
    return number


def read_attribute_mats(mat_dir, camera_ids):
    """Return ``(names, table)`` from the released per-camera files.

    Args:
        mat_dir: directory holding ``cam<N>_att.mat``.
        camera_ids: camera number N -> sorted ids with a folder in that camera (the column order).
    """
    from scipy.io import loadmat

    table, seen_in = {}, {}
    for cam in sorted(camera_ids):
        ids = camera_ids[cam]
        if not ids:
            continue
        path = os.path.join(mat_dir, f"cam{cam}_att.mat")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} is not found (camera {cam} has {len(ids)} identities)")
        key = f"cam{cam}_att"
        mat = loadmat(path)
        if key not in mat:
            raise ValueError(f"{path}: no variable {key!r} (found {sorted(k for k in mat if not k.startswith('__'))})")
        values = np.asarray(mat[key])
        if values.ndim != 2 or values.shape[0] != len(PAPER_ATTRIBUTES):
            raise ValueError(f"{path}: {key} has shape {values.shape}, expected "
                             f"({len(PAPER_ATTRIBUTES)}, number of identities)")
        if values.shape[1] != len(ids):
            raise ValueError(f"{path}: {key} has {values.shape[1]} identity columns but camera {cam} "
                             f"has {len(ids)} identity folders")
        for column, pid in enumerate(ids):
            vector = values[:, column].astype(np.float32)
            if not np.isin(vector, (0, 1)).all():
                raise ValueError(f"{path}: column {column + 1} (identity {pid}) holds "
                                 f"{values[:, column].tolist()}; attributes must be 0 or 1")
            if pid in table and not np.array_equal(table[pid], vector):
                raise ValueError(f"identity {pid} has attributes {table[pid].astype(int).tolist()} in "
                                 f"camera {seen_in[pid]} but {vector.astype(int).tolist()} in {path}")
            table.setdefault(pid, vector)
            seen_in.setdefault(pid, cam)
    return list(PAPER_ATTRIBUTES), table


def write_attribute_csv(path, names, table):
    """Write ``table`` (pid -> 0/1 vector) as an ``attributes.csv``, identities in ascending order."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["pid", *names])
        for pid in sorted(table):
            writer.writerow([pid, *(int(v) for v in table[pid])])


def camera_folder_identities(dataset_dir):
    """``camera number -> sorted ids`` of the ``cam<N>/<id>`` folders of ``dataset_dir`` (the SYSU-MM01 layout)."""
    cameras = (re.fullmatch(r"cam(\d+)", name) for name in sorted(os.listdir(dataset_dir)))
    return {int(m.group(1)): folder_identities(os.path.join(dataset_dir, m.group(0))) for m in cameras if m}


def convert_attribute_mats(mat_dir: str, dataset_dir: str, out_path: str) -> int:
    """Write the released ``cam<N>_att.mat`` of ``mat_dir`` as one CSV; return the number of identities.

    The column order of each file is taken from the ``cam<N>/<id>`` folders of ``dataset_dir``.
    """
    names, table = read_attribute_mats(mat_dir, camera_folder_identities(dataset_dir))
    write_attribute_csv(out_path, names, table)
    return len(table)


def load_attributes(spec, dataset_dir, known_ids, camera_ids=None, key="ATTRIBUTES"):
    """Resolve a dataset's attribute option and read it.

    Args:
        spec: "" for none; else a CSV file or a directory of ``.mat`` files, relative to
            ``dataset_dir`` or absolute. A path that does not exist means no attributes (logged).
        known_ids: every person id of the dataset; a table row for another id is an error.
        camera_ids: camera -> sorted folder ids, needed for a ``.mat`` directory (None: the dataset
            has no released ``.mat`` format).
        key: the config key, named in messages.

    Returns:
        ``(names, table)``, or ``(None, None)`` when the dataset has no attributes.
    """
    if not spec:
        return None, None
    path = os.path.join(dataset_dir, spec)
    if not os.path.exists(path):
        logger.warning("No attribute file %s (%s): the dataset has no attributes", path, key)
        return None, None
    if os.path.isdir(path):
        if camera_ids is None:
            raise ValueError(f"{key} = {spec!r} is a directory, but this dataset has no .mat attribute "
                             f"format; give an attributes.csv")
        names, table = read_attribute_mats(path, camera_ids)
    else:
        names, table = read_attribute_csv(path)
    unknown = sorted(set(table) - set(known_ids))
    if unknown:
        raise ValueError(f"{path}: unknown identities {unknown[:10]}{' ...' if len(unknown) > 10 else ''} "
                         f"({len(unknown)} ids not in the dataset's split files)")
    return names, table
