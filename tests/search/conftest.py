import contextlib
import os
import threading
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.config import get_cfg
from fastreid_ext.search.pipeline import build_index, open_index
from fastreid_ext.search.server import SearchService, make_server

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


class ColourAttributeModel(ColourModel):
    """:class:`ColourModel` that also predicts 8 attribute probabilities from colour, over 255: its features
    (red, green, blue, each of the top then the bottom half), then the brightness of the top and the bottom."""

    def forward(self, batch):
        features = super().forward(batch)["features"]
        probs = torch.cat([features, features.reshape(-1, 3, 2).mean(1)], 1) / 255
        return {"features": features, "attr_probs": probs}


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


def indexed_service(model, cfg, items, directory, samples=(), **kwargs):
    """A :class:`SearchService` of infrared queries over ``items``, indexed with ``model`` in ``directory``."""
    build_index(model, cfg, items, directory)
    index, extraction = open_index(directory, cfg)
    return SearchService(model, cfg, index, extraction, 1, samples, **kwargs)


@contextlib.contextmanager
def serving(service):
    """Serve ``service`` on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    server = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
