"""Rendering one image of an identity seen by a camera: shading of the part map, placement, light and noise.
Infrared brightness comes from body heat and material only, so colour cannot be matched across modalities.
"""
import cv2
import numpy as np

from .body import (
    BACKPACK,
    BOTTOM,
    FACE,
    GLASSES,
    HAIR,
    NUM_PARTS,
    SATCHEL,
    SHOES,
    SKIN,
    TOP,
    draw_pose,
    paint_person,
    pattern_mask,
)
from .camera import INFRARED, VISIBLE, Camera
from .person import MATERIALS, Person

SUPERSAMPLE = 2  # the silhouette is painted at this multiple of the image size, then area-downsampled
THERMAL_BLUR = 0.7  # sigma (pixels) of the softness of thermal optics


def _visible_palette(person):
    """(NUM_PARTS, 3) colours and the (3,) colour of the print."""
    lut = np.zeros((NUM_PARTS, 3), np.float32)
    lut[SKIN], lut[HAIR], lut[TOP], lut[BOTTOM] = person.skin, person.hair, person.top, person.bottom
    lut[SHOES], lut[BACKPACK], lut[SATCHEL] = person.shoes, person.bag, person.bag * 0.8
    lut[GLASSES], lut[FACE] = 25.0, 45.0
    return lut, person.print_colour


def _infrared_palette(person):
    """(NUM_PARTS, 1) brightness and the (1,) brightness of the print; no colour enters."""
    lut = np.zeros((NUM_PARTS, 1), np.float32)
    lut[SKIN], lut[FACE] = 225.0 + person.heat, 185.0 + person.heat
    lut[HAIR], lut[SHOES], lut[GLASSES] = 78.0, 68.0, 22.0
    lut[TOP] = MATERIALS[person.top_material] + 0.4 * person.heat
    lut[BOTTOM] = MATERIALS[person.bottom_material] + 0.4 * person.heat
    lut[BACKPACK] = MATERIALS[person.bag_material]
    lut[SATCHEL] = MATERIALS[person.bag_material] * 0.9
    return lut, lut[TOP] * (1.0 - person.pattern_contrast)


# modality -> fn(person): (part lookup table (NUM_PARTS, C), print value (C,))
PALETTES = {VISIBLE: _visible_palette, INFRARED: _infrared_palette}
# modality -> depth of the shading across the body (rounded surfaces under directional light)
SHADING = {VISIBLE: 0.3, INFRARED: 0.08}


def shade(person: Person, labels: np.ndarray, printed: np.ndarray, modality: int) -> np.ndarray:
    """(H, W, C) float32 image of the parts in ``labels`` (H, W); ``printed`` (H, W) bool marks the print."""
    lut, print_value = PALETTES[modality](person)
    image = lut[labels]
    image[printed & (labels == TOP)] = print_value
    width = labels.shape[1]
    x = (np.arange(width, dtype=np.float32) - width / 2.0) / (0.3 * person.height * labels.shape[0])
    profile = np.clip(1.0 - SHADING[modality] * x**2, 1.0 - SHADING[modality], 1.0)
    return image * profile[None, :, None]


def _as_hwc(array):
    """OpenCV drops a trailing channel axis of 1; put it back."""
    return array.reshape(array.shape[0], array.shape[1], -1)


def _warp(layers, scale, squeeze, mirror, angle, shift):
    """Scale, foreshorten, mirror and rotate (degrees) ``layers`` (H, W, K) about the centre, then shift (dx, dy)."""
    h, w = layers.shape[:2]
    centre = np.array([w / 2.0, 0.55 * h])
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    linear = rotation @ np.diag([scale * squeeze * (-1.0 if mirror else 1.0), scale])
    matrix = np.hstack([linear, (centre + shift - linear @ centre)[:, None]])
    return _as_hwc(cv2.warpAffine(layers, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0))


def render_image(person: Person, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) uint8 BGR image of ``person`` by ``camera``, with (H, W) = ``camera.size``.

    Every per-image choice (pose, viewpoint, light, noise) comes from ``rng`` in a fixed order that does not
    depend on the person, so two identities rendered with equal generators differ only by their looks.
    Infrared images have three equal channels.
    """
    h, w = camera.size
    jitter = camera.jitter
    pose = draw_pose(rng)
    scale = camera.scale * (1.0 + jitter.scale * rng.uniform(-1, 1))
    shift = jitter.shift * rng.uniform(-1, 1, 2) * (w, 0.5 * w)
    angle = jitter.rotation * rng.uniform(-1, 1)
    mirror = bool(rng.random() < 0.5)
    light = 1.0 + jitter.light * rng.uniform(-1, 1, 4) * (1.0, 0.3, 0.3, 0.3)
    blur = jitter.blur * rng.random()
    noise = rng.standard_normal((h, w, camera.background.shape[2]), dtype=np.float32) * jitter.noise

    shape = (h * SUPERSAMPLE, w * SUPERSAMPLE)
    labels = paint_person(person, pose, shape)
    person_image = shade(person, labels, pattern_mask(person, pose, shape), camera.modality)
    layers = np.dstack([person_image, (labels > 0).astype(np.float32)])
    shift = (camera.shift * w + shift[0]) * SUPERSAMPLE, shift[1] * SUPERSAMPLE
    layers = _warp(layers, scale, camera.squeeze, mirror, angle, np.array(shift))
    layers = _as_hwc(cv2.resize(layers, (w, h), interpolation=cv2.INTER_AREA))
    alpha = layers[:, :, -1:]
    image = alpha * layers[:, :, :-1] + (1.0 - alpha) * camera.background

    tint = light[0] * (light[1:] if camera.modality == VISIBLE else 1.0)
    ramp = 1.0 + camera.light_slope * (np.arange(w, dtype=np.float32) / w - 0.5)
    image = image * (camera.gain * tint) * ramp[None, :, None]
    if camera.modality == INFRARED:
        blur += THERMAL_BLUR
    if blur > 0.3:
        image = _as_hwc(cv2.GaussianBlur(image, (0, 0), blur))
    image = np.clip(np.rint(image + noise), 0, 255).astype(np.uint8)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
