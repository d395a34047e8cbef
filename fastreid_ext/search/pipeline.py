"""Index a gallery with a trained model, and search it: the library behind ``tools/retrieve.py`` and the
search server (:mod:`~fastreid_ext.search.server`).

An index directory is a saved :class:`~fastreid_ext.retrieval.GalleryIndex` whose model fingerprint is
the :func:`~fastreid_ext.retrieval.persistence.checkpoint_fingerprint` of ``MODEL.WEIGHTS``, plus
``extraction.json``: the checkpoint path, the modalities of the gallery images, their root folder (the index
stores their paths relative to it; ``open_index`` may be given another), and the config values
that shape the features (``MODEL.*`` but the weights path, device, losses, pretraining and number of
training classes, and ``INPUT.SIZE_TEST``, ``TEST.FLIP.ENABLED``). Searching it with features of another
checkpoint, or of the same one under other settings, is refused naming the difference: such features are
not comparable with the gallery's.

Features are extracted by the shared extractor (:func:`~fastreid_ext.evaluation.extractor.extract`) over
the test loader (``TEST.IMS_PER_BATCH`` images a batch, ``DATALOADER.NUM_WORKERS`` workers).
"""
import json
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np
import torch
from fastreid.config import CfgNode

from ..data.build import build_cm_test_loader
from ..data.datasets.attributes import PAPER_ATTRIBUTES
from ..data.datasets.bases import MODALITY_NAMES, Item
from ..engine.defaults import build_config
from ..evaluation.extractor import extract
from ..retrieval.index import FingerprintMismatchError, GalleryIndex
from ..retrieval.persistence import checkpoint_fingerprint, read_header, verify_files
from ..retrieval.where import evaluate, joint_probability, parse_where
from .image_root import common_root, relative_to, resolve_image_paths
from .sources import UNKNOWN

logger = logging.getLogger(__name__)

EXTRACTION_FILE = "extraction.json"
# Metadata written by build_index, in the order results show them.
_MATCH_KEYS = ("id", "img_path", "pid", "camid", "modality")
# Settings that shape the features; keys under an excluded prefix do not.
_SETTING_PREFIXES = ("MODEL.", "INPUT.SIZE_TEST", "TEST.FLIP.ENABLED")
# (NUM_CLASSES sizes the training classifier, and load_trained_model may fill it in from the checkpoint.)
_NOT_SETTINGS = ("MODEL.WEIGHTS", "MODEL.DEVICE", "MODEL.LOSSES.", "MODEL.STRICT_LOAD", "MODEL.BACKBONE.PRETRAIN",
                 "MODEL.HEADS.NUM_CLASSES")


def inference_config(config_file: str, opts: Sequence[str]) -> CfgNode:
    """get_cfg -> merge_from_file -> merge_from_list -> device -> freeze, without the output directory
    that training's :func:`~fastreid_ext.engine.defaults.setup` writes into."""
    return build_config(config_file, opts)


def _flatten(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def extraction_settings(cfg: CfgNode) -> dict:
    """``{"MODEL.BACKBONE.DEPTH": "18x", ...}``: the config values that shape the features, JSON values."""
    return {key: json.loads(json.dumps(value)) for key, value in _flatten(cfg)
            if key.startswith(_SETTING_PREFIXES) and not key.startswith(_NOT_SETTINGS)}


def model_fingerprint(cfg: CfgNode) -> str:
    return checkpoint_fingerprint(cfg.MODEL.WEIGHTS)


def extract_items(model: torch.nn.Module, cfg: CfgNode, items: Iterable[Item], verbose: bool = True) -> dict:
    """Features of dataset items: the dict of :func:`~fastreid_ext.evaluation.extractor.extract`, in item order."""
    items = [Item._make(item) for item in items]
    extracted = extract(model, build_cm_test_loader(cfg, items), flip=cfg.TEST.FLIP.ENABLED, verbose=verbose)
    if extracted["img_paths"] != [item.img_path for item in items]:
        raise RuntimeError("the test loader did not return the images in order")
    return extracted


def _known(value):
    return None if value == UNKNOWN else int(value)


def _metadata(items, root, attr_probs, attribute_names):
    columns = {"img_path": relative_to([item.img_path for item in items], root),
               "pid": [_known(item.pid) for item in items],
               "camid": [_known(item.camid) for item in items], "modality": [int(item.modality) for item in items]}
    if attr_probs is not None:
        if attr_probs.shape[1] != len(attribute_names):
            raise ValueError(f"the model predicts {attr_probs.shape[1]} attributes, but {len(attribute_names)} "
                             f"attribute names were given ({list(attribute_names)})")
        columns.update({name: attr_probs[:, a].astype(float).tolist() for a, name in enumerate(attribute_names)})
    return columns


def build_index(model: torch.nn.Module, cfg: CfgNode, items: Sequence[Item], directory: str, chunk_size: int = 50000,
                attribute_names: Sequence[str] = PAPER_ATTRIBUTES) -> GalleryIndex:
    """Extract the features of ``items`` (the gallery) ``chunk_size`` at a time, index them (``RETRIEVAL.*``;
    ids are item positions; metadata ``img_path``, ``pid``, ``camid``, ``modality`` and, for a model that
    predicts attributes, their probabilities as float columns named ``attribute_names``) and save to
    ``directory``.

    Returns:
        the :class:`GalleryIndex`.
    """
    if not items:
        raise ValueError("build_index: no gallery image to index")
    items = [Item._make(item) for item in items]
    index, attributes, root = None, [], common_root([item.img_path for item in items])
    for start in range(0, len(items), chunk_size):
        chunk = items[start:start + chunk_size]
        extracted = extract_items(model, cfg, chunk)
        features, attr_probs = extracted["features"], extracted.get("attr_probs")
        if index is None:
            index = GalleryIndex(cfg, dim=features.shape[1], model_fingerprint=model_fingerprint(cfg))
            attributes = list(attribute_names) if attr_probs is not None else []
        index.add(features, np.arange(start, start + len(chunk)),
                  metadata=_metadata(chunk, root, attr_probs, attribute_names))
        logger.info("Indexed %d of %d gallery images", start + len(chunk), len(items))
    extraction = {"weights": os.path.abspath(cfg.MODEL.WEIGHTS), "settings": extraction_settings(cfg),
                  "modalities": sorted({int(item.modality) for item in items}), "attributes": attributes,
                  "image_root": root}
    index.save(directory, extra={EXTRACTION_FILE: extraction})
    logger.info("Saved %r to %s", index, directory)
    return index


def read_extraction(directory: str) -> dict:
    """The ``extraction.json`` of an index directory."""
    path = os.path.join(directory, EXTRACTION_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: {directory} was not written by build_index "
                                "(tools/retrieve.py build)")
    with open(path) as f:
        return json.load(f)


def index_info(directory: str, verify: bool = True) -> dict:
    """Header of a saved index (kind, metric, count, dim, model fingerprint, params, ...) and its extraction
    record (weights, modalities, image root); ``verify``: check the files' SHA-256 first."""
    header = read_header(directory)
    if verify:
        verify_files(directory, header)
    extraction = read_extraction(directory)
    return {**{key: header[key] for key in ("kind", "metric", "count", "dim", "model_fingerprint", "params")},
            "weights": extraction["weights"], "image_root": extraction["image_root"],
            "modalities": [MODALITY_NAMES[m] for m in extraction["modalities"]],
            "attributes": extraction.get("attributes", []),
            "checksums": "verified" if verify else "not verified"}


def open_index(directory: str, cfg: CfgNode, verify: bool = True,
               image_root: Optional[str] = None) -> tuple[GalleryIndex, dict]:
    """Load the index of ``directory`` for searching with the model of ``cfg``: its checkpoint and feature
    settings must be those the gallery was indexed with.

    Args:
        verify: check the files' SHA-256 (see :meth:`GalleryIndex.load`).
        image_root: the folder that now holds the indexed images, instead of the recorded one.
    Returns:
        (:class:`GalleryIndex` with absolute ``img_path`` metadata, the extraction record).
    """
    extraction = read_extraction(directory)
    indexed, expected = read_header(directory)["model_fingerprint"], model_fingerprint(cfg)
    if indexed != expected:
        raise FingerprintMismatchError(
            f"{directory} was indexed with the checkpoint {extraction['weights']} (fingerprint {indexed!r}), but "
            f"MODEL.WEIGHTS is {cfg.MODEL.WEIGHTS} (fingerprint {expected!r}): search with that checkpoint, or "
            "index the gallery again with this one")
    index = GalleryIndex.load(directory, verify=verify)
    settings = extraction_settings(cfg)
    changed = sorted(key for key in settings.keys() | extraction["settings"].keys()
                     if settings.get(key) != extraction["settings"].get(key))
    if changed:
        listing = "; ".join(f"{key}: indexed with {extraction['settings'].get(key)!r}, now {settings.get(key)!r}"
                            for key in changed)
        raise ValueError(f"{directory}: the gallery features were extracted with other settings ({listing}): "
                         "use the config the gallery was indexed with")
    return _with_image_root(index, extraction, image_root)


def open_gallery(directory: str, verify: bool = True,
                 image_root: Optional[str] = None) -> tuple[GalleryIndex, dict]:
    """Load the index of ``directory`` without a model (an attribute-only search): the arguments and the
    result are those of :func:`open_index`."""
    return _with_image_root(GalleryIndex.load(directory, verify=verify), read_extraction(directory), image_root)


def _with_image_root(index, extraction, image_root):
    extraction["image_root"] = image_root or extraction["image_root"]
    resolve_image_paths(index, extraction["image_root"])
    return index, extraction


def default_query_modality(extraction: dict) -> Optional[int]:
    """The other modality than the gallery's (cross-modality search); None for a mixed gallery."""
    modalities = extraction["modalities"]
    return 1 - modalities[0] if len(modalities) == 1 else None


def search(model: torch.nn.Module, cfg: CfgNode, index: GalleryIndex, items: Sequence[Item], k: int,
           where: Optional[str] = None) -> list[dict]:
    """The top-k gallery matches of each query item, among the gallery items that satisfy ``where`` (see
    :meth:`GalleryIndex.search`).

    Returns:
        one dict per query: ``query`` (``img_path``, ``pid``, ``camid`` (None when unknown), ``modality``) and
        ``matches``, best first: ``rank`` (1-based), ``score`` (cosine similarity, higher is better; or
        squared L2 distance, lower is better) and the gallery metadata (``id``, ``img_path``, ``pid``, ``camid``,
        ``modality``, and the predicted attribute probabilities when the index has them).
    """
    if k > len(index):
        logger.warning("Asked for the top %d of a %d-image gallery: returning all of it", k, len(index))
    return search_features(index, items, extract_items(model, cfg, items)["features"], min(k, len(index)),
                           where=where)


def search_features(index: GalleryIndex, items: Iterable[Item], features: np.ndarray, k: int,
                    where: Optional[str] = None) -> list[dict]:
    """The results of :func:`search` from the (Q, D) ``features`` of the query ``items``, k <= len(index)."""
    scores, ids = index.search(features, k, where=where)
    items = [Item._make(item) for item in items]
    results = []
    for item, row_scores, row_matches in zip(items, scores, index.metadata(ids)):
        query = {"img_path": item.img_path, "pid": _known(item.pid), "camid": _known(item.camid),
                 "modality": int(item.modality)}
        matches = [{"rank": rank, "score": float(score), **{key: match.get(key) for key in _MATCH_KEYS}, **match}
                   for rank, (score, match) in enumerate(zip(row_scores, row_matches), 1) if match is not None]
        results.append({"query": query, "matches": matches})
    return results


def describe(index: GalleryIndex, extraction: dict, where: str, k: int) -> dict:
    """The gallery items that satisfy ``where``, ranked by the joint probability of the attributes it
    describes (:func:`~fastreid_ext.retrieval.where.joint_probability`): an attribute-only search.

    Returns:
        one result shaped as those of :func:`search`: ``query`` (``where``; ``img_path``, ``pid``, ``camid``,
        ``modality`` None) and up to k ``matches`` whose ``score`` is the joint probability (higher first;
        ties in id order).
    """
    tree = parse_where(where, index.columns)
    rows = np.flatnonzero(evaluate(tree, index.column))
    score = joint_probability(tree, index.column, extraction.get("attributes", []), len(index))[rows]
    order = np.lexsort((index.ids[rows], -score))[:k]
    rows, score = rows[order], score[order]
    matches = [{"rank": rank, "score": float(s), **{key: match.get(key) for key in _MATCH_KEYS}, **match}
               for rank, (s, match) in enumerate(zip(score, index.metadata(index.ids[rows])), 1)]
    query = {"img_path": None, "pid": None, "camid": None, "modality": None, "where": where}
    return {"query": query, "matches": matches}
