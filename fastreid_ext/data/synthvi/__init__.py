"""SynthVI: a synthetic visible-infrared re-identification dataset in the on-disk formats of SYSU-MM01,
RegDB and LLCM, with the paper's 8 attributes drawn on every person: ``make_synthvi(root, format="sysu")``.
"""
import os
from typing import Optional

import numpy as np

from .camera import draw_camera
from .person import ATTRIBUTE_NAMES, draw_people
from .plan import Plan, Shape
from .presets import PRESETS
from .preview import write_preview
from .writers import WRITERS, WriteOptions

__all__ = ["ATTRIBUTE_NAMES", "PRESETS", "WRITERS", "make_synthvi", "plan_synthvi"]


def _check(format, images_per_camera):
    if format not in WRITERS:
        raise ValueError(f"make_synthvi: unknown format {format!r}; expected one of {sorted(WRITERS)}")
    if images_per_camera < 1:
        raise ValueError(f"make_synthvi: images_per_camera must be at least 1, got {images_per_camera}")


def plan_synthvi(format: str = "sysu", ids: int = 100, seed: int = 0, images_per_camera: int = 10,
                 shape: Optional[Shape] = None, **rendering) -> Plan:
    """The :class:`~.plan.Plan` (splits, images per identity and camera) that :func:`make_synthvi` with the
    same arguments writes, computed without rendering: ``plan_synthvi(**PRESETS["sysu"])`` (the rendering
    arguments, e.g. ``size``, do not change the plan)."""
    _check(format, images_per_camera)
    writer = WRITERS[format]()
    pids = np.arange(1, ids + 1)
    modalities = [modality for _, modality, _ in writer.CAMERAS]
    return writer.plan(pids, modalities, WriteOptions(seed, images_per_camera, 1, shape))[0]


def make_synthvi(out_dir: str, format: str = "sysu", ids: int = 100, seed: int = 0, hard: bool = False,
                 images_per_camera: int = 10, size: tuple[int, int] = (128, 64), processes: int = 2,
                 preview: bool = True, shape: Optional[Shape] = None) -> str:
    """Write a synthetic dataset under ``out_dir`` and return its root (``out_dir/<SYSU-MM01|RegDB|LLCM>``).

    Args:
        format: a key of :data:`WRITERS` ("sysu", "regdb", "llcm").
        ids: number of identities, pids 1..ids.
        seed: the same seed writes byte-identical files.
        hard: identities share colours from a small palette; stronger light and viewpoint changes, more noise.
        images_per_camera: images of an identity in each camera it appears in.
        size: (H, W) of the images.
        processes: rendering processes (1: render in this process); the files do not depend on it.
        preview: also write ``<root>/preview.png``.
        shape: a :class:`~.plan.Shape` (a real set's splits and image counts, see :data:`PRESETS`) in place
            of ``images_per_camera`` images of each identity in each camera it appears in.
    """
    _check(format, images_per_camera)
    writer = WRITERS[format]()
    people = draw_people(ids, seed, hard)
    cameras = [draw_camera(camid, modality, scene, seed, hard, tuple(size))
               for camid, modality, scene in writer.CAMERAS]
    root = os.path.join(out_dir, writer.DIRNAME)
    os.makedirs(root, exist_ok=True)
    writer.write(root, people, cameras, WriteOptions(seed, images_per_camera, processes, shape))
    if preview:
        write_preview(os.path.join(root, "preview.png"), people, cameras, seed)
    return root
