"""Drawing a synthetic identity: body build, clothing colours, materials and patterns, and the 8 attributes
(what stays the same across its images); colours are (B, G, R) floats in 0..255, as OpenCV writes them.
"""
from dataclasses import dataclass

import cv2
import numpy as np

from .body import PATTERN_MASKS
from .seeds import STREAM_PEOPLE

# The 8 attributes of the paper (Sec. 4.1, from Zhang et al.), in its order. 1 means the first value the paper
# lists: gender male, hair long, glasses yes, sleeves long, lower body dress/skirt (0: trousers),
# lower body long, backpack yes, satchel yes.
ATTRIBUTE_NAMES = (
    "gender",
    "hair_length",
    "glasses",
    "sleeve_length",
    "lower_body_type",
    "lower_body_length",
    "backpack",
    "satchel",
)

# Infrared brightness (0..255) of each material at body temperature: thermal emission depends on the
# material (emissivity, thickness), never on the dye, so two shirts of one material look alike in IR.
MATERIALS = {
    "cotton": 172.0,
    "synthetic": 148.0,
    "denim": 132.0,
    "wool": 112.0,
    "leather": 84.0,
    "nylon": 98.0,
    "canvas": 120.0,
}
TOP_MATERIALS = ("cotton", "synthetic", "denim", "wool", "leather")
BOTTOM_MATERIALS = ("cotton", "denim", "wool", "synthetic")
BAG_MATERIALS = ("nylon", "leather", "canvas")

# Prints on the top garment; the print ink changes the material's IR brightness by `pattern_contrast`.
PATTERNS = tuple(PATTERN_MASKS)

# hard=True draws clothing from these few colours, so many identities share colours.
HARD_PALETTE = np.array(
    [
        (30, 30, 30),  # black
        (110, 50, 30),  # navy
        (128, 128, 128),  # grey
        (225, 225, 225),  # white
        (40, 40, 170),  # red
    ],
    dtype=np.float32,
)
SKIN_TONES = np.array([(120, 150, 200), (95, 130, 185), (70, 100, 150), (50, 70, 110)], dtype=np.float32)
HAIR_COLOURS = np.array([(20, 20, 25), (30, 45, 70), (60, 100, 150), (150, 150, 150)], dtype=np.float32)


@dataclass(frozen=True)
class Person:
    """One identity. Lengths are fractions of the person's height, brightness offsets are 0..255 units."""

    pid: int
    attributes: np.ndarray  # (8,) uint8, order of ATTRIBUTE_NAMES
    height: float  # fraction of the canonical canvas height
    shoulder: float  # shoulder width
    waist: float
    hip: float
    head: float  # head width scale (1: average)
    leg: float  # shift of the waist/knee line (positive: longer legs)
    hair_volume: float  # long-hair width scale
    heat: float  # body-heat offset of the skin in infrared (metabolism is personal)
    skin: np.ndarray  # (3,) colour
    hair: np.ndarray
    top: np.ndarray
    print_colour: np.ndarray  # colour of the top's pattern
    bottom: np.ndarray
    shoes: np.ndarray
    bag: np.ndarray
    top_material: str
    bottom_material: str
    bag_material: str
    pattern: str
    pattern_period: float  # fraction of the height
    pattern_contrast: float  # relative IR darkening of the printed parts
    satchel_side: int  # +1: strap on the right shoulder of the image, -1: left

    def attribute(self, name: str) -> int:
        return int(self.attributes[ATTRIBUTE_NAMES.index(name)])


def _colour(rng, hard):
    """A clothing colour: any hue (normal) or one of a few palette colours (hard)."""
    if hard:
        return HARD_PALETTE[rng.integers(len(HARD_PALETTE))].copy()
    hsv = np.array([[[rng.integers(180), rng.integers(60, 256), rng.integers(40, 256)]]], dtype=np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def draw_attributes(rng: np.random.Generator) -> np.ndarray:
    """(8,) uint8 with the correlations of real pedestrians (long hair and skirts mostly on women)."""
    male = rng.random() < 0.5
    long_hair = rng.random() < (0.12 if male else 0.75)
    glasses = rng.random() < 0.25
    long_sleeves = rng.random() < 0.5
    skirt = (not male) and rng.random() < 0.45
    long_lower = rng.random() < (0.4 if skirt else 0.7)
    backpack = rng.random() < 0.35
    satchel = rng.random() < 0.3
    values = (male, long_hair, glasses, long_sleeves, skirt, long_lower, backpack, satchel)
    return np.array(values, dtype=np.uint8)


def draw_person(pid: int, seed: int, hard: bool = False) -> Person:
    """The identity ``pid`` of the dataset drawn with ``seed``; independent of how many identities there are."""
    rng = np.random.default_rng([seed, STREAM_PEOPLE, pid])
    attributes = draw_attributes(rng)
    male = bool(attributes[0])
    return Person(
        pid=pid,
        attributes=attributes,
        height=float(rng.uniform(0.86, 0.95) if male else rng.uniform(0.80, 0.89)),
        shoulder=float(rng.uniform(0.25, 0.30) if male else rng.uniform(0.20, 0.24)),
        waist=float(rng.uniform(0.17, 0.21) if male else rng.uniform(0.14, 0.17)),
        hip=float(rng.uniform(0.18, 0.21) if male else rng.uniform(0.20, 0.24)),
        head=float(rng.uniform(0.9, 1.1)),
        leg=float(rng.uniform(-0.025, 0.025)),
        hair_volume=float(rng.uniform(1.0, 1.4)),
        heat=float(rng.uniform(-15.0, 15.0)),
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))].copy(),
        hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))].copy(),
        top=_colour(rng, hard),
        print_colour=_colour(rng, hard),
        bottom=_colour(rng, hard),
        shoes=_colour(rng, hard) * 0.5,
        bag=_colour(rng, hard),
        top_material=TOP_MATERIALS[rng.integers(len(TOP_MATERIALS))],
        bottom_material=BOTTOM_MATERIALS[rng.integers(len(BOTTOM_MATERIALS))],
        bag_material=BAG_MATERIALS[rng.integers(len(BAG_MATERIALS))],
        pattern=PATTERNS[rng.integers(len(PATTERNS))],
        pattern_period=float(rng.uniform(0.025, 0.05)),
        pattern_contrast=float(rng.uniform(0.12, 0.3)),
        satchel_side=int(rng.choice((-1, 1))),
    )


def draw_people(num_ids: int, seed: int, hard: bool = False) -> list[Person]:
    """Identities with pids 1..num_ids."""
    return [draw_person(pid, seed, hard) for pid in range(1, num_ids + 1)]
