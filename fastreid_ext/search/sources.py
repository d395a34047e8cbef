"""What to index or search: image files and folders, or a split of a registered cross-modality dataset.

Both give dataset :class:`~fastreid_ext.data.datasets.bases.Item` s. Image files have no attributes
and say nothing about who or where they are, except in the SYSU-MM01 layout (``.../cam<N>/<pid>/<file>``),
which gives the camera and the person id; elsewhere both are unknown: -1 in the items, ``None`` in the
index metadata.
"""
import os
import re
from collections.abc import Sequence
from typing import Optional

from fastreid.config import CfgNode

from ..data.build import build_cm_dataset
from ..data.data_utils import is_image_file
from ..data.datasets.bases import MODALITY_NAMES, Item

# .../cam<camera>/<person id>/<file> (SYSU-MM01 and the SynthVI sets written in its layout).
_SYSU_PATH = re.compile(r"(?:^|[\\/])cam(\d+)[\\/](\d+)[\\/][^\\/]+$")
UNKNOWN = -1


def modality_code(name: str) -> int:
    """``"visible"`` -> 0, ``"infrared"`` -> 1."""
    codes = {v: k for k, v in MODALITY_NAMES.items()}
    if name not in codes:
        raise ValueError(f"unknown modality {name!r}: expected one of {sorted(codes)}")
    return codes[name]


def parse_camera_and_pid(path: str) -> tuple[int, int]:
    """``(camid, pid)`` of a SYSU-MM01-style path, else ``(UNKNOWN, UNKNOWN)``."""
    match = _SYSU_PATH.search(path)
    return (int(match.group(1)), int(match.group(2))) if match else (UNKNOWN, UNKNOWN)


def list_image_files(paths: Sequence[str]) -> list[str]:
    """The image files of ``paths`` (files, or folders searched recursively, in name order), absolute."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                files.extend(os.path.join(folder, name) for name in sorted(names) if is_image_file(name))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"no such image file or folder: {path}")
    if not files:
        raise ValueError(f"no image file (extensions .jpg, .jpeg, .png, .bmp) in {list(paths)}")
    return [os.path.abspath(file) for file in files]


def image_items(paths: Sequence[str], modality: int) -> list[Item]:
    """Items of the image files under ``paths``, all of ``modality`` (0 visible, 1 infrared)."""
    items = []
    for file in list_image_files(paths):
        camid, pid = parse_camera_and_pid(file)
        items.append(Item(file, pid, camid, modality, None))
    return items


def dataset_items(cfg: CfgNode, name: str, split: str, setting: Optional[str] = None, trial: int = 0) -> list[Item]:
    """The ``split`` (``query`` or ``gallery``) of trial ``trial`` of ``setting`` (None: the dataset's first
    default setting) of the registered dataset ``name`` (built with the options of ``cfg``:
    ``DATASETS.ROOT``, ``DATASETS.<NAME>.*``)."""
    splits = ("query", "gallery")
    if split not in splits:
        raise ValueError(f"unknown split {split!r}: expected one of {splits}")
    dataset = build_cm_dataset(cfg, name)
    query, gallery = dataset.test_split(setting or dataset.default_settings()[0], trial)
    return query if split == "query" else gallery
