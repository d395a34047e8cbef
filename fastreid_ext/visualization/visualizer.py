"""The figures of a trained model on one test split (what ``tools/visualize.py`` runs): the features are
extracted once (:func:`load_split_features`), then each figure of :data:`FIGURES` draws from them.
"""
import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from fastreid.config import CfgNode

from ..data.build import build_cm_dataset, build_cm_test_loader
from ..data.datasets.bases import INFRARED, MODALITY_NAMES, VISIBLE, CrossModalityDataset, Item
from ..engine.evaluate import load_trained_model
from ..evaluation import DATASET_PROTOCOLS, PROTOCOLS, FeatureDistance, extract
from .attention import attention_maps, plot_attention
from .attributes import attribute_accuracy, attribute_table, plot_attribute_accuracy
from .rank_list import draw_rank_lists, rank_lists
from .tsne import plot_tsne, tsne_points

logger = logging.getLogger(__name__)

__all__ = ["SplitFeatures", "FigureOptions", "load_split_features", "default_setting", "visualize", "FIGURES"]


@dataclass
class SplitFeatures:
    """A trained model and the features of one test split.

    ``extracted`` is the dict of :func:`~fastreid_ext.evaluation.extractor.extract` over
    ``query + gallery``, in that order: rows ``[0, len(query))`` are the queries.
    """
    cfg: object
    model: torch.nn.Module
    dataset: object
    setting: str
    trial: int
    query: list[Item]
    gallery: list[Item]
    extracted: dict

    @property
    def q_rows(self) -> np.ndarray:
        return np.arange(len(self.query))

    @property
    def g_rows(self) -> np.ndarray:
        return np.arange(len(self.query), len(self.query) + len(self.gallery))

    @property
    def label(self) -> str:
        return f"{self.dataset.name} {self.setting}, trial {self.trial}"


@dataclass
class FigureOptions:
    """What the figures draw."""
    num_queries: int = 6  # rank list: queries, spread over the query list
    topk: int = 10  # rank list: gallery images per query
    tsne_ids: int = 10  # t-SNE: identities (the first with images of both modalities)
    attention_ids: int = 4  # attention: identities, a visible and an infrared image of each
    seed: int = 0  # t-SNE: random state


def default_setting(dataset: CrossModalityDataset) -> str:
    """The first of the dataset's default settings whose queries are infrared (else simply the first)."""
    settings = dataset.default_settings()
    for setting in settings:
        if dataset.test_split(setting, 0)[0][0].modality == INFRARED:
            return setting
    return settings[0]


def load_split_features(cfg: CfgNode, setting: str = "", trial: int = 0) -> SplitFeatures:
    """Build the trained model of ``cfg`` and extract trial ``trial`` of ``setting`` (default:
    :func:`default_setting`) of the first dataset of ``DATASETS.TESTS``."""
    model, cfg = load_trained_model(cfg)
    if not cfg.DATASETS.TESTS:
        raise ValueError("DATASETS.TESTS is empty: name the dataset to visualise")
    dataset = build_cm_dataset(cfg, cfg.DATASETS.TESTS[0])
    setting = setting or default_setting(dataset)
    query, gallery = dataset.test_split(setting, trial)
    extracted = extract(model, build_cm_test_loader(cfg, query + gallery), flip=cfg.TEST.FLIP.ENABLED)
    return SplitFeatures(cfg, model, dataset, setting, trial, query, gallery, extracted)


def _attribute_names(split):
    num = split.extracted["attr_probs"].shape[1]
    return list(split.dataset.attribute_names or [f"attribute {a}" for a in range(num)])


def _display_size(size_test, height=128):
    """(H, W) to draw images at: ``height`` pixels high, with the aspect ratio the model sees."""
    return height, round(height * size_test[1] / size_test[0])


def draw_rank_list(split: SplitFeatures, out_dir: str, options: FigureOptions) -> list[str]:
    """``rank_list.png``: ``options.num_queries`` queries with their top-``options.topk`` gallery images."""
    ex, cfg = split.extracted, split.cfg
    picks = split.q_rows[np.unique(np.linspace(0, len(split.query) - 1, options.num_queries).round().astype(int))]
    distance = FeatureDistance(ex["features"][picks], ex["features"][split.g_rows], cfg.TEST.METRIC)
    protocol = PROTOCOLS[DATASET_PROTOCOLS[split.dataset.name]]
    g_pids, g_cams = ex["pids"][split.g_rows], ex["camids"][split.g_rows]
    ranked, matches = rank_lists(distance.block(slice(None), np.arange(len(split.gallery))), ex["pids"][picks],
                                 g_pids, ex["camids"][picks], g_cams, protocol, options.topk)
    notes = [""] * len(picks)
    if "attr_probs" in ex:
        names = _attribute_names(split)
        predicted = ex["attr_probs"][picks] >= cfg.TEST.ATTR_THRES
        notes = ["predicted:\n" + ("\n".join(n for n, p in zip(names, row) if p) or "(none)") for row in predicted]
    q_mod, g_mod = MODALITY_NAMES[split.query[0].modality], MODALITY_NAMES[split.gallery[0].modality]
    path = os.path.join(out_dir, "rank_list.png")
    draw_rank_lists(
        path, [ex["img_paths"][r] for r in picks], [f"query id {ex['pids'][r]} cam{ex['camids'][r]}" for r in picks],
        notes, [ex["img_paths"][r] for r in split.g_rows], ranked, matches,
        [f"id {p} cam{c}" for p, c in zip(g_pids, g_cams)], size=_display_size(cfg.INPUT.SIZE_TEST),
        title=f"{split.label}: {q_mod} queries, top-{ranked.shape[1]} {g_mod} images "
              f"(green: same identity, red: other)")
    return [path]


def _shared_identities(split, limit):
    """The first ``limit`` identities (ascending) with images of both modalities in the split."""
    ex = split.extracted
    both = np.intersect1d(ex["pids"][ex["modalities"] == VISIBLE], ex["pids"][ex["modalities"] == INFRARED])
    if not len(both):
        raise ValueError(f"{split.label}: no identity has both visible and infrared images")
    return both[:limit]


def draw_tsne(split: SplitFeatures, out_dir: str, options: FigureOptions) -> list[str]:
    """``tsne.png``: every image of ``options.tsne_ids`` identities found in both modalities."""
    ex = split.extracted
    rows = np.flatnonzero(np.isin(ex["pids"], _shared_identities(split, options.tsne_ids)))
    points = tsne_points(ex["features"][rows], split.cfg.TEST.METRIC, options.seed)
    path = os.path.join(out_dir, "tsne.png")
    plot_tsne(path, points, ex["pids"][rows], ex["modalities"][rows],
              title=f"t-SNE of {len(rows)} features, {split.label}")
    return [path]


def draw_attention(split: SplitFeatures, out_dir: str, options: FigureOptions) -> list[str]:
    """``attention.png``: a visible and an infrared image of each of ``options.attention_ids`` identities."""
    ex, every = split.extracted, split.query + split.gallery
    items = [every[np.flatnonzero((ex["pids"] == pid) & (ex["modalities"] == modality))[0]]
             for pid in _shared_identities(split, options.attention_ids) for modality in (VISIBLE, INFRARED)]
    images, maps = [], []
    for batch in build_cm_test_loader(split.cfg, items):
        images.append(batch["images"].permute(0, 2, 3, 1).clamp(0, 255).round().byte().numpy())
        maps.append(attention_maps(split.model, batch))
    if not maps[0]:
        logger.warning("attention: the head %s returns no maps (return_maps); figure skipped",
                       type(split.model.heads).__name__)
        return []
    maps = {name: np.concatenate([part[name] for part in maps]) for name in maps[0]}
    path = os.path.join(out_dir, "attention.png")
    plot_attention(path, np.concatenate(images), maps, [f"{MODALITY_NAMES[i.modality]} id {i.pid}" for i in items],
                   getattr(split.model.heads, "MAP_TITLES", {}),
                   title=f"Attention, {split.label}\n(each map scaled to its range: blue low, red high)")
    return [path]


def draw_attributes(split: SplitFeatures, out_dir: str, options: FigureOptions) -> list[str]:
    """``attributes.png`` and ``attributes.md``: mA per attribute of the visible and infrared images."""
    ex = split.extracted
    if "attr_probs" not in ex or "attributes" not in ex:
        logger.warning("attributes: the model predicts no attributes or %s has no labels; figure skipped",
                       split.dataset.name)
        return []
    names = _attribute_names(split)
    scores = attribute_accuracy(ex["attributes"], ex["attr_probs"], ex["modalities"], split.cfg.TEST.ATTR_THRES)
    table = attribute_table(names, scores)
    logger.info("Attribute recognition, %s (threshold %.2f):\n%s", split.label, split.cfg.TEST.ATTR_THRES, table)
    png, md = os.path.join(out_dir, "attributes.png"), os.path.join(out_dir, "attributes.md")
    plot_attribute_accuracy(png, names, scores, title=f"Attribute recognition, {split.label}")
    with open(md, "w") as f:
        f.write(f"Attribute recognition (mA, %, threshold {split.cfg.TEST.ATTR_THRES:.2f}), {split.label}\n\n"
                f"{table}\n")
    return [png, md]


# name -> fn(split, out_dir, options) -> written paths; tools/visualize.py offers these names.
FIGURES = OrderedDict([("rank_list", draw_rank_list), ("tsne", draw_tsne), ("attention", draw_attention),
                       ("attributes", draw_attributes)])


def visualize(split: SplitFeatures, out_dir: str, figures: Sequence[str] = tuple(FIGURES),
              options: Optional[FigureOptions] = None) -> list[str]:
    """Draw ``figures`` (names of :data:`FIGURES`) of ``split`` into ``out_dir`` with ``options`` (a
    :class:`FigureOptions`, default if None); returns the written paths."""
    options = options or FigureOptions()
    unknown = [name for name in figures if name not in FIGURES]
    if unknown:
        raise KeyError(f"unknown figure(s) {unknown}; known: {list(FIGURES)}")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name in figures:
        paths = FIGURES[name](split, out_dir, options)
        for path in paths:
            logger.info("%s: wrote %s", name, path)
        written.extend(paths)
    return written
