import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.data.datasets.bases import INFRARED, VISIBLE
from fastreid_ext.visualization import FIGURES, FigureOptions, default_setting, load_split_features, visualize
from tests.conftest import REPO


@pytest.fixture(scope="module")
def split(trained_tiny):
    return load_split_features(trained_tiny)


def test_split_features_cover_query_then_gallery(split):
    assert split.setting == default_setting(split.dataset) == "all-1shot-seeded"
    assert split.extracted["img_paths"] == [item[0] for item in split.query + split.gallery]
    assert (split.extracted["modalities"][split.q_rows] == INFRARED).all()
    assert (split.extracted["modalities"][split.g_rows] == VISIBLE).all()
    assert split.extracted["attr_probs"].shape == (len(split.query) + len(split.gallery), 8)


def test_visualize_writes_every_figure(split, tmp_path):
    with threadpool_limits(1):  # scikit-learn's t-SNE threads spin on a busy machine
        written = visualize(split, str(tmp_path), options=FigureOptions(num_queries=3, topk=4, tsne_ids=2,
                                                                        attention_ids=2))
    names = ["rank_list.png", "tsne.png", "attention.png", "attributes.png", "attributes.md"]
    assert written == [str(tmp_path / name) for name in names]
    shapes = {name: cv2.imread(str(tmp_path / name)).shape for name in names if name.endswith(".png")}
    assert shapes["attention.png"][1] == round(110 * (0.3 + 4 * 0.95 + 0.1))  # 2 identities x 2 modalities
    assert shapes["rank_list.png"][0] > shapes["rank_list.png"][1] / 4  # 3 rows of 1 query + 4 images
    for shape in shapes.values():
        assert min(shape[:2]) >= 250
    table = (tmp_path / "attributes.md").read_text()
    assert "| gender" in table and "visible (" in table and "infrared (" in table


def test_visualize_rejects_unknown_figures(split, tmp_path):
    with pytest.raises(KeyError, match="unknown figure"):
        visualize(split, str(tmp_path), figures=["rank_list", "heatmap"])
    assert set(FIGURES) == {"rank_list", "tsne", "attention", "attributes"}


@pytest.mark.slow
def test_tool_writes_figures_config_and_log(trained_tiny, tmp_path):
    out = tmp_path / "vis"
    cmd = [sys.executable, os.path.join(REPO, "tools", "visualize.py"), "--config-file",
           "projects/PAENet/configs/synthvi.yml", "--out", str(out), "--figures", "rank_list", "attributes",
           "--num-queries", "2", "MODEL.WEIGHTS", trained_tiny.MODEL.WEIGHTS,
           "DATASETS.ROOT", trained_tiny.DATASETS.ROOT,
           "MODEL.BACKBONE.DEPTH", "18x", "MODEL.BACKBONE.FEAT_DIM", "512", "INPUT.SIZE_TEST", "[64,32]",
           "MODEL.DEVICE", "cpu", "DATALOADER.NUM_WORKERS", "0"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(os.listdir(out)) == ["attributes.md", "attributes.png", "config.yaml", "log.txt", "rank_list.png"]
    assert "Attribute recognition" in (out / "log.txt").read_text()
    assert np.asarray(cv2.imread(str(out / "rank_list.png"))).ndim == 3
