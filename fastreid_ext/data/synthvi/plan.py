"""The shape of a SynthVI set: identities per split, which camera sees which identity, and how many images.

A :class:`Shape` asks for a real dataset's counts; :func:`present_by_fraction` and :func:`allocate_images`
turn it into a presence matrix and per-(identity, camera) image counts, before anything is rendered.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .camera import INFRARED, VISIBLE


@dataclass(frozen=True)
class Shape:
    """Counts a writer lays out instead of ``ids`` x ``images_per_camera``.

    Args:
        splits: identities of each of the writer's splits, in its order (SYSU-MM01: train, val, test).
        presence: per camera of the writer (its ``CAMERAS`` order), the fraction of a split's identities it sees.
        images: per image group of the writer (``IMAGE_GROUPS``: splits that share a count), the
            (visible, infrared) image totals.
    """

    splits: tuple
    presence: tuple
    images: tuple


@dataclass(frozen=True)
class Plan:
    """What a writer will write: ``splits`` maps a split name to its pids (ascending); ``counts`` (num_ids,
    num_cameras) int holds the images of ``pids[i]`` in camera ``camids[c]`` (0: absent)."""

    pids: np.ndarray
    camids: tuple
    modalities: tuple
    splits: dict
    counts: np.ndarray

    def images(self, pids: Iterable[int], modality: int) -> dict[int, int]:
        """Images of the identities ``pids`` in the cameras of ``modality``, per camera id."""
        rows = np.isin(self.pids, list(pids))
        return {camid: int(self.counts[rows, c].sum()) for c, camid in enumerate(self.camids)
                if self.modalities[c] == modality}


def present_by_fraction(rng: np.random.Generator, modalities: Sequence[int], groups: Sequence[np.ndarray],
                        fractions: Sequence[float]) -> np.ndarray:
    """(num_ids, num_cameras) bool: camera c sees exactly ``round(fractions[c] * len(g))`` identities of each
    index array ``g`` of ``groups``; an identity left without a visible or an infrared camera is then added to
    one camera of that modality (as in the real sets, every identity is seen in both)."""
    num_ids = sum(len(g) for g in groups)
    present = np.zeros((num_ids, len(modalities)), bool)
    for group in groups:
        for c, fraction in enumerate(fractions):
            present[rng.choice(group, int(round(fraction * len(group))), replace=False), c] = True
    return seen_in_both_modalities(rng, present, modalities)


def seen_in_both_modalities(rng: np.random.Generator, present: np.ndarray, modalities: Sequence[int]) -> np.ndarray:
    """``present`` (num_ids, num_cameras) bool, changed in place and returned: an identity missing from every
    camera of a modality is put in one of them, drawn from ``rng``."""
    for modality in (VISIBLE, INFRARED):
        columns = np.array([c for c, m in enumerate(modalities) if m == modality])
        picks = rng.choice(columns, len(present))
        missing = ~present[:, columns].any(axis=1)
        present[np.flatnonzero(missing), picks[missing]] = True
    return present


def allocate_images(rng: np.random.Generator, present: np.ndarray, modalities: Sequence[int],
                    groups: Sequence[np.ndarray], totals: Sequence[tuple[int, int]]) -> np.ndarray:
    """(num_ids, num_cameras) int: for each index array ``g`` of ``groups`` and its (visible, infrared)
    ``totals``, the images of a modality split as evenly as possible over the (identity, camera) pairs of
    ``g`` present in that modality's cameras, the remainder going one each to pairs drawn from ``rng``."""
    counts = np.zeros(present.shape, np.int64)
    for group, group_totals in zip(groups, totals):
        for modality, total in zip((VISIBLE, INFRARED), group_totals):
            columns = [c for c, m in enumerate(modalities) if m == modality]
            sub = present[np.ix_(group, columns)]
            rows, cols = np.nonzero(sub)
            if total < len(rows):
                raise ValueError(f"{total} images cannot cover the {len(rows)} (identity, camera) pairs present")
            share = np.full(len(rows), total // len(rows))
            share[rng.permutation(len(rows))[: total % len(rows)]] += 1
            counts[np.asarray(group)[rows], np.asarray(columns)[cols]] = share
    return counts
