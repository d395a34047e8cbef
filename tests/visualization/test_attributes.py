import cv2
import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.visualization.attributes import attribute_accuracy, attribute_table, plot_attribute_accuracy

# 4 visible and 2 infrared images, 2 attributes.
GT = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=np.float32)
PROBS = np.array([[0.9, 0.1], [0.2, 0.3], [0.6, 0.7], [0.7, 0.2], [0.4, 0.1], [0.1, 0.8]], dtype=np.float32)
MODALITIES = np.array([0, 0, 0, 0, 1, 1])


def test_attribute_accuracy_per_modality():
    scores = attribute_accuracy(GT, PROBS, MODALITIES, threshold=0.5)
    assert list(scores) == ["visible", "infrared", "all"]
    count, per, mean = scores["visible"]
    # Attribute 0: positives 2/2 right, negatives 1/2 right; attribute 1: positives 1/2, negatives 2/2.
    assert count == 4 and per == pytest.approx([0.75, 0.75]) and mean == pytest.approx(0.75)
    count, per, mean = scores["infrared"]
    # Attribute 0: the positive missed, the negative right; attribute 1: both right.
    assert count == 2 and per == pytest.approx([0.5, 1.0]) and mean == pytest.approx(0.75)
    count, per, _ = scores["all"]
    assert count == 6 and per == pytest.approx([(2 / 3 + 2 / 3) / 2, (2 / 3 + 1) / 2])


def test_attribute_accuracy_leaves_out_an_absent_modality():
    assert list(attribute_accuracy(GT[:4], PROBS[:4], MODALITIES[:4])) == ["visible", "all"]


def test_attribute_table_is_markdown_in_percent():
    table = attribute_table(["gender", "backpack"], attribute_accuracy(GT, PROBS, MODALITIES))
    lines = table.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")[1:-1]] == [
        "Attribute", "visible (4 images)", "infrared (2 images)", "all (6 images)"]
    assert [cell.strip() for cell in lines[2].split("|")[1:-1]] == ["gender", "75.00", "50.00", "66.67"]
    assert [cell.strip() for cell in lines[4].split("|")[1:-1]] == ["mean (mA)", "75.00", "75.00", "75.00"]


def test_plot_attribute_accuracy_writes_a_png(tmp_path):
    out = tmp_path / "attributes.png"
    plot_attribute_accuracy(str(out), ["gender", "backpack"], attribute_accuracy(GT, PROBS, MODALITIES), "test")
    image = cv2.imread(str(out))
    assert image.shape == (396, 605, 3)  # 5.5 x 3.6 inches at 110 dpi
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10
