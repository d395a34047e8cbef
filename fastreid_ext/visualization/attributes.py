"""Attribute recognition per attribute and modality: FastAttr's mA (balanced accuracy) as a bar chart and a table."""
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from tabulate import tabulate

from ..data.datasets.bases import INFRARED, MODALITY_NAMES, VISIBLE
from ..evaluation.attr_metrics import attribute_metrics

__all__ = ["attribute_accuracy", "attribute_table", "plot_attribute_accuracy"]

_SUBSET_COLORS = {"visible": "#4c9be8", "infrared": "#d9534f", "all": "#7f7f7f"}


def attribute_accuracy(gt: ArrayLike, probs: ArrayLike, modalities: ArrayLike,
                       threshold: float = 0.5) -> dict[str, tuple[int, np.ndarray, float]]:
    """Per-attribute mA of the visible images, the infrared images and all of them.

    Args:
        gt: (N, A) {0, 1}; probs: (N, A) predicted probabilities; modalities: (N,) int, 0 visible /
            1 infrared; threshold: as in :func:`~fastreid_ext.evaluation.attr_metrics.attribute_metrics`.
    Returns:
        OrderedDict subset -> (number of images, (A,) float64 mA per attribute, mean mA), for the
        subsets that have images, in the order visible, infrared, all.
    """
    modalities = np.asarray(modalities)
    subsets = [(MODALITY_NAMES[m], modalities == m) for m in (VISIBLE, INFRARED)]
    subsets.append(("all", np.ones(len(modalities), dtype=bool)))
    scores = OrderedDict()
    for name, mask in subsets:
        if mask.any():
            metrics = attribute_metrics(np.asarray(gt)[mask], np.asarray(probs)[mask], threshold)
            scores[name] = (int(mask.sum()), metrics["mA_per_attribute"], metrics["mA"])
    return scores


def attribute_table(names: Sequence[str], scores: dict[str, tuple[int, np.ndarray, float]]) -> str:
    """A markdown table (percent): one row per attribute and a mean row, one column per subset."""
    headers = ["Attribute"] + [f"{subset} ({count} images)" for subset, (count, _, _) in scores.items()]
    rows = [[name] + [100 * per[a] for _, per, _ in scores.values()] for a, name in enumerate(names)]
    rows.append(["mean (mA)"] + [100 * mean for _, _, mean in scores.values()])
    return tabulate(rows, headers=headers, tablefmt="pipe", floatfmt=".2f")


def plot_attribute_accuracy(out_path: str, names: Sequence[str], scores: dict[str, tuple[int, np.ndarray, float]],
                            title: str = "") -> None:
    """Write a grouped bar chart PNG: per attribute (and their mean), one bar per subset of ``scores``."""
    labels = list(names) + ["mean"]
    x = np.arange(len(labels))
    width = 0.8 / len(scores)
    fig = Figure(figsize=(max(5.5, 0.75 * len(labels) + 1.5), 3.6), dpi=110)
    ax = fig.add_axes([0.09, 0.27, 0.89, 0.58])
    for i, (subset, (count, per, mean)) in enumerate(scores.items()):
        values = 100 * np.append(per, mean)
        ax.bar(x + (i - (len(scores) - 1) / 2) * width, values, width, label=f"{subset} ({count})",
               color=_SUBSET_COLORS.get(subset))
    ax.axhline(50, color="black", linewidth=0.6, linestyle=":")  # chance level of a balanced accuracy
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_ylabel("mA (balanced accuracy, %)", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, ncol=len(scores), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.suptitle(title, fontsize=9)
    fig.savefig(out_path)
