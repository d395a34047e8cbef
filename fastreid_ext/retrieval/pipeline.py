"""Index a gallery with a trained model, and search it: the library behind ``tools/retrieve.py`` and the
search server (:mod:`~fastreid_ext.retrieval.server`).

An index directory is a saved :class:`~fastreid_ext.retrieval.GalleryIndex` whose model fingerprint is
the :func:`~fastreid_ext.retrieval.persistence.checkpoint_fingerprint` of ``MODEL.WEIGHTS``, plus
``extraction.json``: the checkpoint path, the modalities of the gallery images, and the config values
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

import numpy as np
from fastreid.config import CfgNode

from ..data.build import build_cm_test_loader
from ..data.datasets.bases import MODALITY_NAMES
from ..engine.defaults import build_config
from ..evaluation.extractor import extract
from ..utils import atomic_write
from .index import FingerprintMismatchError, GalleryIndex
from .persistence import checkpoint_fingerprint, read_header
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


def inference_config(config_file, opts):
    """get_cfg -> merge_from_file -> merge_from_list -> device -> freeze, without the output directory
    that training's :func:`~fastreid_ext.engine.defaults.setup` writes into."""
    return build_config(config_file, opts)


def _flatten(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def extraction_settings(cfg):
    """``{"MODEL.BACKBONE.DEPTH": "18x", ...}``: the config values that shape the features, JSON values."""
    return {key: json.loads(json.dumps(value)) for key, value in _flatten(cfg)
            if key.startswith(_SETTING_PREFIXES) and not key.startswith(_NOT_SETTINGS)}


def model_fingerprint(cfg):
    return checkpoint_fingerprint(cfg.MODEL.WEIGHTS)


def extract_items(model, cfg, items):
    """Features of dataset items: the dict of :func:`~fastreid_ext.evaluation.extractor.extract`, in item order."""
    extracted = extract(model, build_cm_test_loader(cfg, items), flip=cfg.TEST.FLIP.ENABLED)
    if extracted["img_paths"] != [item[0] for item in items]:
        raise RuntimeError("the test loader did not return the images in order")
    return extracted


def _known(value):
    return None if value == UNKNOWN else int(value)


def _metadata(items):
    return {"img_path": [item[0] for item in items], "pid": [_known(item[1]) for item in items],
            "camid": [_known(item[2]) for item in items], "modality": [int(item[3]) for item in items]}


def build_index(model, cfg, items, directory, chunk_size=50000):
    """Extract the features of ``items`` (the gallery) ``chunk_size`` at a time, index them (``RETRIEVAL.*``;
    ids are item positions; metadata ``img_path``, ``pid``, ``camid``, ``modality``) and save to ``directory``.

    Returns:
        the :class:`GalleryIndex`.
    """
    if not items:
        raise ValueError("build_index: no gallery image to index")
    index = None
    for start in range(0, len(items), chunk_size):
        chunk = items[start:start + chunk_size]
        features = extract_items(model, cfg, chunk)["features"]
        if index is None:
            index = GalleryIndex(cfg, dim=features.shape[1], model_fingerprint=model_fingerprint(cfg))
        index.add(features, np.arange(start, start + len(chunk)), metadata=_metadata(chunk))
        logger.info("Indexed %d of %d gallery images", start + len(chunk), len(items))
    index.save(directory)
    extraction = {"weights": os.path.abspath(cfg.MODEL.WEIGHTS), "settings": extraction_settings(cfg),
                  "modalities": sorted({int(item[3]) for item in items})}
    atomic_write(os.path.join(directory, EXTRACTION_FILE),
                 lambda f: json.dump(extraction, f, indent=2, sort_keys=True), mode="w")
    logger.info("Saved %r to %s", index, directory)
    return index


def read_extraction(directory):
    """The ``extraction.json`` of an index directory."""
    path = os.path.join(directory, EXTRACTION_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: {directory} was not written by build_index "
                                "(tools/retrieve.py build)")
    with open(path) as f:
        return json.load(f)


def index_info(directory):
    """Header of a saved index (kind, metric, count, dim, model fingerprint, params, ...) and its extraction
    record (weights, modalities)."""
    header = read_header(directory)
    extraction = read_extraction(directory)
    return {**{key: header[key] for key in ("kind", "metric", "count", "dim", "model_fingerprint", "params")},
            "weights": extraction["weights"],
            "modalities": [MODALITY_NAMES[m] for m in extraction["modalities"]]}


def open_index(directory, cfg):
    """Load the index of ``directory`` for searching with the model of ``cfg``: its checkpoint and feature
    settings must be those the gallery was indexed with.

    Returns:
        (:class:`GalleryIndex`, the extraction record).
    """
    extraction = read_extraction(directory)
    indexed, expected = read_header(directory)["model_fingerprint"], model_fingerprint(cfg)
    if indexed != expected:
        raise FingerprintMismatchError(
            f"{directory} was indexed with the checkpoint {extraction['weights']} (fingerprint {indexed!r}), but "
            f"MODEL.WEIGHTS is {cfg.MODEL.WEIGHTS} (fingerprint {expected!r}): search with that checkpoint, or "
            "index the gallery again with this one")
    index = GalleryIndex.load(directory, expected_fingerprint=expected)
    settings = extraction_settings(cfg)
    changed = sorted(key for key in settings.keys() | extraction["settings"].keys()
                     if settings.get(key) != extraction["settings"].get(key))
    if changed:
        listing = "; ".join(f"{key}: indexed with {extraction['settings'].get(key)!r}, now {settings.get(key)!r}"
                            for key in changed)
        raise ValueError(f"{directory}: the gallery features were extracted with other settings ({listing}): "
                         "use the config the gallery was indexed with")
    return index, extraction


def default_query_modality(extraction):
    """The other modality than the gallery's (cross-modality search); None for a mixed gallery."""
    modalities = extraction["modalities"]
    return 1 - modalities[0] if len(modalities) == 1 else None


def search(model, cfg, index, items, k):
    """The top-k gallery matches of each query item.

    Returns:
        one dict per query: ``query`` (``img_path``, ``pid``, ``camid`` (None when unknown), ``modality``) and
        ``matches``, best first: ``rank`` (1-based), ``score`` (cosine similarity, higher is better; or
        squared L2 distance, lower is better) and the gallery metadata (``id``, ``img_path``, ``pid``, ``camid``,
        ``modality``).
    """
    if k > len(index):
        logger.warning("Asked for the top %d of a %d-image gallery: returning all of it", k, len(index))
    scores, ids = index.search(extract_items(model, cfg, items)["features"], min(k, len(index)))
    results = []
    for item, row_scores, row_matches in zip(items, scores, index.metadata(ids)):
        query = {"img_path": item[0], "pid": _known(item[1]), "camid": _known(item[2]), "modality": int(item[3])}
        matches = [{"rank": rank, "score": float(score), **{key: match.get(key) for key in _MATCH_KEYS}, **match}
                   for rank, (score, match) in enumerate(zip(row_scores, row_matches), 1) if match is not None]
        results.append({"query": query, "matches": matches})
    return results
