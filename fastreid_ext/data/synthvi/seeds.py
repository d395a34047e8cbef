"""Random streams of the generator, ``numpy.random.default_rng([seed, stream, ...])``, keyed by what they draw,
so files are byte-identical for a seed whatever the rendering order or the number of workers.
"""
import numpy as np

STREAM_PEOPLE = 1  # [seed, STREAM_PEOPLE, pid]
STREAM_CAMERAS = 2  # [seed, STREAM_CAMERAS, scene]
STREAM_LAYOUT = 3  # [seed, STREAM_LAYOUT, format index]: cameras per identity, splits, trials
STREAM_IMAGES = 4  # [seed, STREAM_IMAGES, pid, camid, modality, n]
STREAM_LABELS = 5  # [seed, STREAM_LABELS, pid (0: the camera), camid, modality]: per-camera attribute labels


def image_rng(seed: int, pid: int, camid: int, modality: int, n: int) -> np.random.Generator:
    """The generator of image ``n`` of identity ``pid`` in camera (``camid``, ``modality``)."""
    return np.random.default_rng([seed, STREAM_IMAGES, pid, camid, modality, n])
