import os
from types import SimpleNamespace

import fastreid_ext  # noqa: F401  (FastReID import shims)
import numpy as np
import pytest
import torch
from PIL import Image

from fastreid_ext.config import get_cfg


def _exact_topk(gallery, queries, k, metric):
    """Reference top-k by sorting the full score matrix (numpy, float64)."""
    g, q = np.asarray(gallery, np.float64), np.asarray(queries, np.float64)
    if metric == "cosine":
        g = g / np.linalg.norm(g, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        scores = q @ g.T
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    else:
        scores = ((q[:, None, :] - g[None, :, :]) ** 2).sum(-1)
        order = np.argsort(scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), order


def _recall(found, exact):
    return np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)])


@pytest.fixture
def exact_topk():
    """(gallery, queries, k, metric) -> (scores, rows): the reference top-k."""
    return _exact_topk


@pytest.fixture
def recall():
    """(found (Q, k), exact (Q, k)) -> mean fraction of the exact top-k found."""
    return _recall


@pytest.fixture
def clustered():
    """360 gallery and 30 query features (dim 32): 60 identities, 6 gallery images each."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((60, 32)).astype(np.float32)
    pids = np.repeat(np.arange(60), 6)
    gallery = centres[pids] + 0.3 * rng.standard_normal((360, 32)).astype(np.float32)
    query_pids = rng.integers(0, 60, 30)
    queries = centres[query_pids] + 0.3 * rng.standard_normal((30, 32)).astype(np.float32)
    return gallery, queries


# Solid colours of the tiny SYSU-layout image folders below: cam<N>/<pid>/<n>.png.
GALLERY_COLOURS = {"cam1/0001/0001.png": (250, 10, 10), "cam1/0002/0001.png": (10, 250, 10),
                   "cam2/0001/0001.png": (200, 60, 20), "cam4/0003/0001.png": (10, 10, 250)}
QUERY_COLOURS = {"cam3/0001/0001.png": (240, 30, 10), "cam6/0003/0001.png": (30, 40, 220)}


class ColourModel(torch.nn.Module):
    """A real model of no learning: the mean colour of each image half (top, bottom), (B, 6) features."""

    def forward(self, batch):
        images = batch["images"].float()
        halves = images.reshape(*images.shape[:2], 2, -1).mean(-1)
        return {"features": halves.flatten(1)}


def write_images(root, colours):
    """Write each solid-colour 16x8 image of ``colours`` under ``root``; returns their absolute paths."""
    paths = []
    for name, colour in colours.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.new("RGB", (8, 16), colour).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def colour_setup(tmp_path):
    """``model`` (ColourModel), ``cfg`` (frozen, with a MODEL.WEIGHTS file), the image folders ``gallery``
    (visible) and ``queries`` (infrared), and their colours (file name in the folder -> RGB)."""
    weights = tmp_path / "weights.pth"
    torch.save({"model": {}}, weights)
    cfg = get_cfg()
    cfg.merge_from_list(["MODEL.WEIGHTS", str(weights), "MODEL.DEVICE", "cpu", "INPUT.SIZE_TEST", [16, 8],
                         "DATALOADER.NUM_WORKERS", 0, "TEST.IMS_PER_BATCH", 3])
    cfg.freeze()
    write_images(tmp_path / "gallery", GALLERY_COLOURS)
    write_images(tmp_path / "queries", QUERY_COLOURS)
    return SimpleNamespace(model=ColourModel().eval(), cfg=cfg, gallery=str(tmp_path / "gallery"),
                           queries=str(tmp_path / "queries"), gallery_colours=GALLERY_COLOURS,
                           query_colours=QUERY_COLOURS)
