"""The silhouette of a person in a pose, as a map of body-part labels (no colour, no light); units of the
person's height P, ``x`` from the centre line, ``y`` from the top of the head; parts painted back to front.
"""
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

# Part labels of the map; shading (render.py) gives each one a colour and an infrared brightness.
BACKGROUND, SKIN, HAIR, TOP, BOTTOM, SHOES, GLASSES, BACKPACK, SATCHEL, FACE = range(10)
NUM_PARTS = 10

FOOT_LINE = 0.98  # the soles, fraction of the canvas height


@dataclass(frozen=True)
class Pose:
    back: bool  # seen from behind: no face or glasses, the backpack covers the back
    arms: tuple  # (left, right) outward angle of the upper arms, radians
    elbows: tuple  # (left, right) extra outward bend of the forearms, radians
    legs: tuple  # (left, right) outward angle of the legs (stride), radians


def draw_pose(rng: np.random.Generator) -> Pose:
    """A walking pose; always the same number of draws, whatever the person."""
    back = bool(rng.random() < 0.4)
    arms = tuple(float(a) for a in rng.uniform(0.04, 0.3, 2))
    elbows = tuple(float(a) for a in rng.uniform(-0.1, 0.25, 2))
    legs = tuple(float(a) for a in rng.uniform(0.0, 0.1, 2))
    return Pose(back, arms, elbows, legs)


class _Painter:
    """Paints labels on a (H, W) uint8 canvas in the person's units."""

    def __init__(self, person, shape):
        self.labels = np.zeros(shape, np.uint8)
        self.unit = person.height * shape[0]
        self.top = FOOT_LINE * shape[0] - self.unit
        self.cx = shape[1] / 2.0

    def xy(self, x, y):
        return int(round(self.cx + x * self.unit)), int(round(self.top + y * self.unit))

    def polygon(self, points, label):
        cv2.fillPoly(self.labels, [np.array([self.xy(x, y) for x, y in points], np.int32)], label)

    def limb(self, a, b, width, label):
        cv2.line(self.labels, self.xy(*a), self.xy(*b), label, max(1, int(round(width * self.unit))))

    def ellipse(self, centre, axes, label):
        size = (max(1, int(round(axes[0] * self.unit))), max(1, int(round(axes[1] * self.unit))))
        cv2.ellipse(self.labels, self.xy(*centre), size, 0, 0, 360, label, -1)

    def rectangle(self, x0, y0, x1, y1, label):
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], label)


@dataclass(frozen=True)
class _Frame:
    """Vertical landmarks (fractions of the height) and widths of one person."""

    shoulder_y: float
    waist_y: float
    crotch_y: float
    knee_y: float
    head_w: float
    arm_w: float
    thigh_w: float
    shin_w: float

    @classmethod
    def of(cls, person):
        return cls(
            shoulder_y=0.175,
            waist_y=0.46 - person.leg,
            crotch_y=0.53 - person.leg,
            knee_y=0.74 - person.leg / 2,
            head_w=0.047 * person.head,
            arm_w=0.2 * person.shoulder + 0.01,
            thigh_w=0.45 * person.hip,
            shin_w=0.34 * person.hip,
        )


def _arm_points(person, frame, side, outward, bend):
    """Shoulder, elbow and wrist of the arm on ``side`` (-1 left, +1 right of the image)."""
    shoulder = (side * (person.shoulder / 2 - frame.arm_w / 2), frame.shoulder_y + 0.02)
    elbow = (shoulder[0] + side * 0.175 * np.sin(outward), shoulder[1] + 0.175 * np.cos(outward))
    angle = outward + bend
    wrist = (elbow[0] + side * 0.16 * np.sin(angle), elbow[1] + 0.16 * np.cos(angle))
    return shoulder, elbow, wrist


def _leg_points(person, frame, side, outward):
    """Hip joint, knee and ankle of the leg on ``side``."""
    hip = (side * person.hip / 4, frame.crotch_y - 0.03)
    knee = (hip[0] + side * (frame.knee_y - hip[1]) * np.sin(outward), frame.knee_y)
    ankle = (knee[0] + side * (0.955 - frame.knee_y) * np.sin(outward), 0.955)
    return hip, knee, ankle


def _paint_lower_body(paint, person, frame, pose):
    skirt = person.attribute("lower_body_type") == 1
    long_lower = person.attribute("lower_body_length") == 1
    for side, outward in zip((-1, 1), pose.legs):
        hip, knee, ankle = _leg_points(person, frame, side, outward)
        paint.limb(hip, knee, frame.thigh_w, SKIN)
        paint.limb(knee, ankle, frame.shin_w, SKIN)
        paint.ellipse((ankle[0] + side * 0.008, 0.978), (0.035, 0.02), SHOES)
        if not skirt:
            hem = ankle if long_lower else (hip[0] + 0.8 * (knee[0] - hip[0]), hip[1] + 0.8 * (knee[1] - hip[1]))
            paint.limb(hip, knee if long_lower else hem, frame.thigh_w * 1.08, BOTTOM)
            if long_lower:
                paint.limb(knee, ankle, frame.shin_w * 1.15, BOTTOM)
    if skirt:
        hem_y, flare = (0.84, 0.07) if long_lower else (0.65, 0.04)
        half_w, half_h = person.waist / 2, person.hip / 2 + flare
        paint.polygon([(-half_w, frame.waist_y), (half_w, frame.waist_y), (half_h, hem_y), (-half_h, hem_y)], BOTTOM)
    else:
        half_w, half_h = person.waist / 2, person.hip / 2
        y = frame.crotch_y
        paint.polygon([(-half_w, frame.waist_y), (half_w, frame.waist_y), (half_h, y), (-half_h, y)], BOTTOM)


def _paint_torso(paint, person, frame):
    s, w, h = person.shoulder / 2, person.waist / 2, (person.waist + person.hip) / 4
    y0, y1 = frame.shoulder_y, frame.waist_y + 0.03
    paint.limb((0, 0.12), (0, y0), 0.045, SKIN)  # neck
    paint.polygon([(-s + 0.02, y0 - 0.012), (s - 0.02, y0 - 0.012), (s, y0 + 0.02), (w, y1 - 0.04), (h, y1),
                   (-h, y1), (-w, y1 - 0.04), (-s, y0 + 0.02)], TOP)


def _paint_arms(paint, person, frame, pose):
    long_sleeves = person.attribute("sleeve_length") == 1
    for side, outward, bend in zip((-1, 1), pose.arms, pose.elbows):
        shoulder, elbow, wrist = _arm_points(person, frame, side, outward, bend)
        paint.limb(shoulder, elbow, frame.arm_w, SKIN)
        paint.limb(elbow, wrist, frame.arm_w * 0.85, SKIN)
        paint.ellipse(wrist, (0.02, 0.024), SKIN)
        cuff = wrist if long_sleeves else tuple(a + 0.5 * (b - a) for a, b in zip(shoulder, elbow))
        paint.limb(shoulder, elbow if long_sleeves else cuff, frame.arm_w * 1.12, TOP)
        if long_sleeves:
            paint.limb(elbow, cuff, frame.arm_w, TOP)


def _paint_head(paint, person, frame, pose):
    hw = frame.head_w
    paint.ellipse((0, 0.062), (hw * 1.08, 0.07), HAIR)
    if pose.back:
        return
    paint.ellipse((0, 0.077), (hw * 0.93, 0.057), SKIN)
    for side in (-1, 1):
        paint.ellipse((side * hw * 0.42, 0.07), (0.007, 0.006), FACE)
    paint.limb((-hw * 0.3, 0.108), (hw * 0.3, 0.108), 0.006, FACE)
    if person.attribute("glasses"):
        for side in (-1, 1):
            x = side * hw * 0.42
            paint.rectangle(x - 0.021, 0.06, x + 0.021, 0.082, GLASSES)
        paint.limb((-hw, 0.066), (hw, 0.066), 0.008, GLASSES)


def _paint_long_hair(paint, person, frame, pose, behind):
    """Long hair: behind the shoulders in front view (``behind``), over the upper back from behind."""
    w0, w1 = frame.head_w * 1.1 * person.hair_volume, frame.head_w * 1.3 * person.hair_volume
    if behind or pose.back:
        paint.polygon([(-w0, 0.07), (w0, 0.07), (w1, 0.27), (-w1, 0.27)], HAIR)
        return
    for side in (-1, 1):
        paint.polygon([(side * frame.head_w * 0.75, 0.09), (side * w0, 0.07), (side * w1, 0.25),
                       (side * frame.head_w * 0.85, 0.25)], HAIR)


def _paint_backpack(paint, person, frame, pose, on_top):
    s = person.shoulder / 2
    if pose.back and on_top:
        paint.rectangle(-0.75 * s, 0.2, 0.75 * s, 0.44, BACKPACK)
        paint.rectangle(-0.6 * s, 0.18, 0.6 * s, 0.21, BACKPACK)
    elif not pose.back and not on_top:
        paint.rectangle(-1.2 * s, 0.2, 1.2 * s, 0.42, BACKPACK)
    elif not pose.back:
        for side in (-1, 1):
            paint.limb((side * 0.55 * s, frame.shoulder_y - 0.005), (side * 0.6 * s, 0.37), 0.022, BACKPACK)


def _paint_satchel(paint, person, frame, pose):
    side = -person.satchel_side if pose.back else person.satchel_side
    x_bag = -side * (person.hip / 2 + 0.03)
    paint.limb((side * 0.7 * person.shoulder / 2, frame.shoulder_y), (x_bag, frame.waist_y), 0.016, SATCHEL)
    paint.rectangle(x_bag - 0.065, frame.waist_y - 0.01, x_bag + 0.065, frame.waist_y + 0.1, SATCHEL)


def paint_person(person: Any, pose: Pose, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 map of part labels for ``person`` in ``pose`` on a canvas of ``shape`` = (H, W)."""
    paint = _Painter(person, shape)
    frame = _Frame.of(person)
    long_hair = person.attribute("hair_length") == 1
    backpack = person.attribute("backpack") == 1
    if backpack:
        _paint_backpack(paint, person, frame, pose, on_top=False)
    if long_hair and not pose.back:
        _paint_long_hair(paint, person, frame, pose, behind=True)
    _paint_lower_body(paint, person, frame, pose)
    _paint_torso(paint, person, frame)
    if backpack:
        _paint_backpack(paint, person, frame, pose, on_top=True)
    _paint_arms(paint, person, frame, pose)
    if person.attribute("satchel"):
        _paint_satchel(paint, person, frame, pose)
    _paint_head(paint, person, frame, pose)
    if long_hair:
        _paint_long_hair(paint, person, frame, pose, behind=False)
    return paint.labels


def _stripes(y, x, period):
    return np.floor(y / period) % 2 == 1


def _bars(y, x, period):
    return np.floor(x / period) % 2 == 1


def _checks(y, x, period):
    return _stripes(y, x, period) ^ _bars(y, x, period)


def _dots(y, x, period):
    return ((y % period) - period / 2) ** 2 + ((x % period) - period / 2) ** 2 < (0.3 * period) ** 2


def _chest_logo(y, x, period):
    # a patch on the chest, about 5 x 4 periods
    return (np.abs(x) < 2.5 * period) & (y > 2 * period) & (y < 6 * period)


def _plain(y, x, period):
    return np.zeros(np.broadcast_shapes(y.shape, x.shape), bool)


# person.pattern -> fn(y, x, period): print mask; y, x in canvas pixels from the neck, broadcastable grids.
PATTERN_MASKS = {
    "plain": _plain,
    "hstripes": _stripes,
    "vstripes": _bars,
    "checks": _checks,
    "dots": _dots,
    "chest_logo": _chest_logo,
}


def pattern_mask(person: Any, pose: Pose, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: where the print of the top garment is (to be intersected with the TOP label).

    A chest logo is on the front only.
    """
    unit = person.height * shape[0]
    y0 = FOOT_LINE * shape[0] - unit + _Frame.of(person).shoulder_y * unit
    y, x = np.ogrid[: shape[0], : shape[1]]
    pattern = "plain" if person.pattern == "chest_logo" and pose.back else person.pattern
    mask = PATTERN_MASKS[pattern](y - y0, x - shape[1] / 2.0, person.pattern_period * unit)
    return np.broadcast_to(mask, shape)
