"""``preview.png``: a contact sheet of a few identities, each seen in visible light and in infrared side by side,
with its attribute values written under, to check by eye that the attributes show in both modalities."""
from collections.abc import Sequence

import cv2
import numpy as np

from .camera import INFRARED, VISIBLE, Camera
from .person import ATTRIBUTE_NAMES, Person
from .render import render_image
from .seeds import image_rng

ZOOM = 2  # pixels of the sheet per image pixel
COLUMNS = 3
LINE = 14  # text line height, sheet pixels
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _tile(person, cameras, seed):
    """(h, w, 3) uint8: two images per modality (images 1 and 2 of its first camera), then the attributes."""
    images = [
        render_image(person, camera, image_rng(seed, person.pid, camera.camid, camera.modality, n))
        for camera in cameras for n in (1, 2)
    ]
    strip = np.hstack(images)
    strip = cv2.resize(strip, None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_NEAREST)
    lines = [f"id {person.pid:04d}   vis | ir"]
    lines += [f"{name} {int(value)}" for name, value in zip(ATTRIBUTE_NAMES, person.attributes)]
    text = np.full((LINE * len(lines) + 6, strip.shape[1], 3), 255, np.uint8)
    for row, line in enumerate(lines):
        cv2.putText(text, line, (4, LINE * (row + 1)), FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([strip, text])


def write_preview(path: str, people: Sequence[Person], cameras: Sequence[Camera], seed: int, count: int = 6) -> None:
    """Write the contact sheet of the first ``count`` identities to ``path`` (PNG)."""
    shown = [next(c for c in cameras if c.modality == m) for m in (VISIBLE, INFRARED)]
    tiles = [_tile(person, shown, seed) for person in people[:count]]
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % COLUMNS)
    tiles = [cv2.copyMakeBorder(t, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(200, 200, 200)) for t in tiles]
    rows = [np.hstack(tiles[i:i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
    if not cv2.imwrite(path, np.vstack(rows)):
        raise OSError(f"cv2.imwrite could not write {path}")
