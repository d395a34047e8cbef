"""Cameras of a synthetic dataset: a static scene (background, viewpoint, light) and per-image jitter ranges.
A visible and an infrared camera on one scene share its layout and viewpoint, not its colours or light.
"""
from dataclasses import dataclass

import cv2
import numpy as np

from .person import HARD_PALETTE
from .seeds import STREAM_CAMERAS

VISIBLE, INFRARED = 0, 1


@dataclass(frozen=True)
class Jitter:
    """Per-image ranges: each draw is uniform in [-x, x]."""

    scale: float  # relative person scale
    shift: float  # translation, fraction of the image width
    rotation: float  # degrees
    light: float  # relative brightness (and, in visible light, colour) change
    blur: float  # largest Gaussian blur sigma, pixels
    noise: float  # sensor noise sigma, 0..255 units


@dataclass(frozen=True)
class Camera:
    camid: int
    modality: int  # VISIBLE or INFRARED
    background: np.ndarray  # (H, W, C) float32, C = 3 (B, G, R) in visible light, 1 in infrared
    gain: np.ndarray  # (C,) light colour x brightness (visible) or sensor gain (infrared)
    scale: float  # person scale of the viewpoint
    shift: float  # horizontal offset of the person, fraction of the width
    squeeze: float  # horizontal foreshortening of an oblique viewpoint (1: frontal)
    light_slope: float  # left-to-right illumination gradient, relative
    jitter: Jitter

    @property
    def size(self) -> tuple[int, int]:
        return self.background.shape[:2]


def _jitter(modality, hard):
    if hard:
        light = 0.2 if modality == INFRARED else 0.35  # a thermal sensor's gain drifts less than daylight
        return Jitter(scale=0.14, shift=0.12, rotation=9.0, light=light, blur=1.2, noise=10.0 + 3.0 * modality)
    return Jitter(scale=0.05, shift=0.05, rotation=3.0, light=0.1, blur=0.0, noise=3.0 + 2.0 * modality)


def _layout(rng, size, hard):
    """Geometry of a scene's background: a floor line and wall objects (doors, windows, posters, lamps)."""
    h, w = size
    floor = int(h * rng.uniform(0.62, 0.85))
    boxes = []
    for _ in range(rng.integers(3, 8) if hard else rng.integers(1, 4)):
        x0, y0 = int(rng.integers(-w // 4, w)), int(rng.integers(0, floor))
        bw, bh = int(rng.integers(w // 8, w // 2)), int(rng.integers(h // 10, h // 2))
        boxes.append((x0, y0, x0 + bw, y0 + bh))
    return floor, boxes


def _clutter_colour(rng, hard):
    """Colour of a background object; hard=True uses the clothing palette, so clutter looks like clothes."""
    if hard:
        return HARD_PALETTE[rng.integers(len(HARD_PALETTE))]
    return rng.uniform(20, 240, 3)


def _background(rng, size, floor, boxes, modality, hard):
    """(H, W, C) float32: wall, floor and boxes; colours in visible light, temperatures in infrared."""
    h, w = size
    if modality == INFRARED:
        wall, ground = rng.uniform(35, 95), rng.uniform(50, 110)
        tones = [rng.uniform(25, 170) for _ in boxes]
        image = np.full((h, w, 1), wall, np.float32)
    else:
        wall = rng.uniform(70, 220) * rng.uniform(0.75, 1.25, 3)  # painted walls and floors: greyish tints
        ground = rng.uniform(50, 180) * rng.uniform(0.75, 1.25, 3)
        tones = [_clutter_colour(rng, hard) for _ in boxes]
        image = np.empty((h, w, 3), np.float32)
        image[:] = wall
    image[floor:] = ground
    for (x0, y0, x1, y1), tone in zip(boxes, tones):
        cv2.rectangle(image, (x0, y0), (x1, y1), np.broadcast_to(tone, (image.shape[2],)).tolist(), -1)
    ramp = np.linspace(1.1, 0.9, h, dtype=np.float32)[:, None, None]
    return image * ramp


def draw_camera(camid: int, modality: int, scene: int, seed: int, hard: bool = False,
                size: tuple[int, int] = (128, 64)) -> Camera:
    """Camera ``camid`` of ``modality`` looking at ``scene``; ``size`` = (H, W) of its images."""
    scene_rng = np.random.default_rng([seed, STREAM_CAMERAS, scene])
    floor, boxes = _layout(scene_rng, size, hard)
    scale = float(scene_rng.uniform(0.88, 1.04))
    shift = float(scene_rng.uniform(-0.06, 0.06))
    squeeze = float(scene_rng.uniform(0.8, 1.0))
    rng = np.random.default_rng([seed, STREAM_CAMERAS, scene, modality])
    background = _background(rng, size, floor, boxes, modality, hard)
    spread = 0.3 if hard else 0.12
    if modality == INFRARED:
        gain = np.array([rng.uniform(0.85, 1.15)], np.float32)
    else:
        brightness = rng.uniform(0.55, 1.3) if hard else rng.uniform(0.8, 1.15)
        gain = (brightness * (1.0 + rng.uniform(-spread, spread, 3))).astype(np.float32)
    return Camera(
        camid=camid,
        modality=modality,
        background=background,
        gain=gain,
        scale=scale,
        shift=shift,
        squeeze=squeeze,
        light_slope=float(rng.uniform(-spread, spread) * 2),
        jitter=_jitter(modality, hard),
    )
