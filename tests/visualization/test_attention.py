import cv2
import numpy as np
import torch

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.data.build import build_cm_dataset, build_cm_test_loader
from fastreid_ext.engine import load_trained_model
from fastreid_ext.visualization.attention import attention_maps, overlay_heatmap, plot_attention

IMAGE = np.full((8, 4, 3), 100, dtype=np.uint8)
HEAT = np.array([[0.0, 1.0], [3.0, 2.0]])  # hottest bottom-left, coldest top-left


def test_overlay_alpha_zero_is_the_image():
    np.testing.assert_array_equal(overlay_heatmap(IMAGE, HEAT, alpha=0.0), IMAGE)


def test_overlay_jet_is_red_where_hot_and_blue_where_cold():
    colored = overlay_heatmap(IMAGE, HEAT, alpha=1.0)
    assert colored.shape == IMAGE.shape and colored.dtype == np.uint8
    # OpenCV's jet: 255 -> (128, 0, 0) RGB dark red, 0 -> (0, 0, 128) RGB dark blue; corners keep their value.
    np.testing.assert_array_equal(colored[-1, 0], [128, 0, 0])
    np.testing.assert_array_equal(colored[0, 0], [0, 0, 128])


def test_overlay_blends_linearly_and_constant_maps_are_blue():
    colored = overlay_heatmap(IMAGE, np.full((2, 2), 0.3), alpha=0.5)
    np.testing.assert_array_equal(colored, np.broadcast_to([50, 50, 114], IMAGE.shape))


def test_plot_attention_writes_a_png_with_a_row_per_map(tmp_path):
    images = np.stack([IMAGE, IMAGE + 50])
    maps = {"emb2": np.stack([HEAT, HEAT.T[::-1]]), "w2": np.stack([HEAT, HEAT])}
    out = tmp_path / "attention.png"
    plot_attention(str(out), images, maps, ["visible id 1", "infrared id 1"], {"emb2": "Embedding-II"}, "test")
    image = cv2.imread(str(out))
    # At 110 dpi: 0.3 + 2 x 0.95 + 0.1 inches wide; 3 rows of 1.9 + 0.1, captions 0.25 and a title line 0.26 high.
    assert image.shape == (716, 253, 3)


def test_attention_maps_of_paenet(trained_tiny):
    model, cfg = load_trained_model(trained_tiny)
    query, gallery = build_cm_dataset(cfg, cfg.DATASETS.TESTS[0]).test_split("all-1shot-seeded", 0)
    batch = next(iter(build_cm_test_loader(cfg, query[:2] + gallery[:2])))
    maps = attention_maps(model, batch)
    with torch.no_grad():
        h, w = model.extract(model.preprocess_image(batch), batch).shape[2:]
    assert set(maps) == {"emb2", "w2"}
    assert maps["emb2"].shape == (4, h, w) and maps["w2"].shape == (4, h, w)
    np.testing.assert_allclose(maps["emb2"].sum(axis=(1, 2)), 1, rtol=1e-5)  # a softmax over positions
    assert ((maps["w2"] > 0) & (maps["w2"] < 1)).all()  # channel mean of a sigmoid
