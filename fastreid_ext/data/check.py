"""Checking the configured datasets before a run: identities, images, attributes, their agreement, bad files.

Every problem is collected and named (file, camera, identity) instead of stopping at the first.
"""
import itertools
import os
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from fastreid.config import CfgNode
from fastreid.data.datasets import DATASET_REGISTRY

from .data_utils import check_image
from .datasets.attributes import load_attributes
from .datasets.bases import MODALITY_NAMES, person_id


@dataclass
class CameraRow:
    """One split and camera (``camera`` "all": the whole split). ``differ`` of ``shared``: identities of the
    camera also seen in another camera of the split whose vectors differ there, summed over camera pairs."""

    split: str
    camera: str
    modality: str
    identities: int
    images: int
    without_attributes: int
    bad_images: int
    differ: int = 0
    shared: int = 0


@dataclass
class DatasetCheck:
    name: str
    dataset_dir: str = ""
    attributes: str = "none"
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def pair_disagreement(vectors: dict[tuple[int, int], np.ndarray]) -> dict[tuple[int, int], tuple[int, int]]:
    """``(cam_a, cam_b) -> (differ, shared)`` over camera pairs: identities with a vector in both cameras,
    and those whose two vectors differ. ``vectors``: ``(cam, pid) -> (A,) array``."""
    by_camera = defaultdict(dict)
    for (cam, pid), vector in vectors.items():
        by_camera[cam][pid] = vector
    counts = {}
    for a, b in itertools.combinations(sorted(by_camera), 2):
        shared = sorted(set(by_camera[a]) & set(by_camera[b]))
        differ = sum(not np.array_equal(by_camera[a][p], by_camera[b][p]) for p in shared)
        counts[a, b] = (differ, len(shared))
    return counts


def check_dataset(cfg: CfgNode, name: str, decode: bool = False) -> DatasetCheck:
    """Build dataset ``name`` with the options of ``cfg`` and check it (see :func:`format_check`).

    The dataset is built without its attributes and image check, which are then run item by item so
    that every problem is found; ``decode`` also decodes every image (headers and end markers only without).
    """
    cls = DATASET_REGISTRY.get(name)
    options = cls.from_config(cfg)
    try:
        data = cls(**{**options, "attributes": "", "check_images": False})
    except (OSError, RuntimeError, ValueError) as e:
        return DatasetCheck(name, problems=[f"{name} cannot be built: {e}"])
    result = DatasetCheck(name, data.dataset_dir)
    splits = {"train": data.train, "query": data.query, "gallery": data.gallery}
    table = None
    try:
        known = {person_id(item[1]) for items in splits.values() for item in items}
        table = load_attributes(options["attributes"], data.dataset_dir, known, data.cameras)
    except (OSError, ValueError) as e:
        result.problems.append(str(e))
    if table is not None:
        form = "per camera" if table.per_camera else "the same in every camera"
        result.attributes = f"{table.source} ({len(table.names)} attributes, {form})"
    elif options["attributes"]:
        path = os.path.join(data.dataset_dir, options["attributes"])
        result.attributes = f"none ({path} not found or unreadable)"

    bad = {path: reason for path in data.image_files for reason in (check_image(path, decode),) if reason}
    result.problems.extend(f"{path}: {reason}" for path, reason in bad.items())
    failed = {}
    for split, items in splits.items():
        result.rows.extend(_split_rows(split, items, table, bad, failed))
    result.problems.extend(failed.values())
    return result


def _split_rows(split, items, table, bad, failed):
    """The :class:`CameraRow` of each camera of ``split`` and of the whole split; lookup errors go to
    ``failed`` ((cam, pid) -> message), once per camera and identity."""
    vectors, groups = {}, defaultdict(list)
    for path, pid, cam, modality, _ in items:
        pid = person_id(pid)
        groups[cam, modality].append((path, pid))
        if table is None:
            continue
        try:
            vectors[cam, pid] = table.vector(cam, pid, path)
        except (OSError, ValueError) as e:
            failed.setdefault((cam, pid), str(e))
    pairs = pair_disagreement(vectors)
    rows = []
    for (cam, modality), members in sorted(groups.items()):
        counts = [c for key, c in pairs.items() if cam in key]
        rows.append(CameraRow(split, str(cam), MODALITY_NAMES[modality], len({p for _, p in members}),
                              len(members), sum((cam, p) not in vectors for _, p in members),
                              sum(path in bad for path, _ in members),
                              sum(d for d, _ in counts), sum(s for _, s in counts)))
    rows.append(CameraRow(split, "all", "", len({person_id(item[1]) for item in items}), len(items),
                          sum(row.without_attributes for row in rows), sum(row.bad_images for row in rows),
                          sum(d for d, _ in pairs.values()), sum(s for _, s in pairs.values())))
    return rows


def check_datasets(cfg: CfgNode, decode: bool = False) -> list:
    """:func:`check_dataset` of every dataset of ``DATASETS.NAMES`` and ``DATASETS.TESTS``, each once."""
    names = dict.fromkeys(list(cfg.DATASETS.NAMES) + list(cfg.DATASETS.TESTS))
    return [check_dataset(cfg, name, decode) for name in names]


def format_check(result: DatasetCheck) -> str:
    """The table of ``result`` (one line per split and camera) and its problems, as printed by the tool.

    Without attributes: items of the split without a vector. Disagreement: of the identities seen in two
    cameras of the split, those with different vectors in the two, summed over camera pairs.
    """
    lines = [f"{result.name}: {result.dataset_dir or '(not built)'}", f"attributes: {result.attributes}"]
    if result.rows:
        header = ("split", "camera", "modality", "identities", "images", "without attributes", "bad images",
                  "disagreement")
        table = [header] + [(r.split, r.camera, r.modality, str(r.identities), str(r.images),
                             str(r.without_attributes), str(r.bad_images), _rate(r.differ, r.shared))
                            for r in result.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            lines.append("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w)
                                   for i, (cell, w) in enumerate(zip(row, widths))))
    lines.append(f"{len(result.problems)} problem(s)" + (":" if result.problems else ""))
    lines += [f"  {problem}" for problem in result.problems]
    return "\n".join(lines)


def _rate(differ, shared):
    return f"{differ}/{shared} ({100.0 * differ / shared:.1f}%)" if shared else "-"
