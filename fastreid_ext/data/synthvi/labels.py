"""Per-camera attribute labels: an identity's attributes as an annotator sees them in one camera.

Like the released SYSU-MM01 labels, the same identity may get different labels in two cameras (view, light).
"""
from collections.abc import Sequence

import numpy as np

from ..datasets.attributes import AttributeTable
from .camera import INFRARED, Camera
from .person import ATTRIBUTE_NAMES, Person
from .seeds import STREAM_LABELS

FRONT, BACK, SIDE = range(3)
# Dirichlet concentration of a camera's shares of front, back and side views of the people it sees.
VIEW_CONCENTRATION = (2.0, 2.0, 3.0)
SLIP = 0.003  # chance that the annotator gets one attribute of one (identity, camera) wrong
_GLASSES, _BACKPACK = ATTRIBUTE_NAMES.index("glasses"), ATTRIBUTE_NAMES.index("backpack")


def seen_attributes(attributes: np.ndarray, view: int, modality: int) -> np.ndarray:
    """(8,) uint8: the ``attributes`` an annotator can see in ``view`` (FRONT, BACK, SIDE) and ``modality``.

    From the front a backpack shows only its straps; glasses are not seen from behind, nor in infrared
    (low-contrast frames at the size of a face); the rest is seen from every side.
    """
    seen = np.array(attributes, dtype=np.uint8)
    if view == FRONT:
        seen[_BACKPACK] = 0
    if view == BACK or modality == INFRARED:
        seen[_GLASSES] = 0
    return seen


def camera_view_shares(seed: int, camid: int, modality: int) -> np.ndarray:
    """(3,) shares of FRONT, BACK, SIDE views of a camera: where it looks decides what it sees of people."""
    return np.random.default_rng([seed, STREAM_LABELS, 0, camid, modality]).dirichlet(VIEW_CONCENTRATION)


def camera_label(person: Person, camera: Camera, seed: int) -> np.ndarray:
    """(8,) uint8 label of ``person`` in ``camera``: a view drawn from the camera's shares, what that view
    shows (:func:`seen_attributes`), and an annotator's slips."""
    rng = np.random.default_rng([seed, STREAM_LABELS, person.pid, camera.camid, camera.modality])
    view = rng.choice(3, p=camera_view_shares(seed, camera.camid, camera.modality))
    seen = seen_attributes(person.attributes, view, camera.modality)
    return np.where(rng.random(len(seen)) < SLIP, 1 - seen, seen).astype(np.uint8)


def camera_labels(people: Sequence[Person], cameras: Sequence[Camera], present: np.ndarray,
                  seed: int) -> AttributeTable:
    """The :class:`AttributeTable` of ``(camid, pid)`` for every identity ``present`` (num_ids, num_cameras)
    bool in a camera. A camera number shared by two cameras (LLCM's visible and infrared views of one camera)
    gets one row per identity: that of the first of them, in ``cameras`` order, that shows it."""
    vectors = {}
    for c, camera in enumerate(cameras):
        for i, person in enumerate(people):
            if present[i, c] and (camera.camid, person.pid) not in vectors:
                vectors[camera.camid, person.pid] = camera_label(person, camera, seed).astype(np.float32)
    return AttributeTable(ATTRIBUTE_NAMES, vectors, "SynthVI")
