import numpy as np
import pytest
import torch
from torch import nn

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.evaluation.extractor import extract


class RowModel(nn.Module):
    """features: the first pixel row of the red channel; attr_probs: the first two green pixels / 10."""

    def __init__(self, with_attributes=True, as_tensor=False):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.with_attributes, self.as_tensor = with_attributes, as_tensor
        self.seen_training = []

    def forward(self, batch):
        self.seen_training.append(self.training)
        features = batch["images"][:, 0, 0, :] * self.scale
        if self.as_tensor:
            return features
        out = {"features": features}
        if self.with_attributes:
            out["attr_probs"] = batch["images"][:, 1, 0, :2] / 10
        return out


def _batch(rows, pids, paths, attributes=True):
    images = torch.zeros(len(rows), 3, 1, 3)
    images[:, 0, 0, :] = torch.tensor(rows, dtype=torch.float32)
    images[:, 1, 0, :] = torch.tensor(rows, dtype=torch.float32) + 1
    batch = {"images": images, "targets": torch.tensor(pids), "camids": torch.tensor([3] * len(pids)),
             "modalities": torch.tensor([1] * len(pids)), "img_paths": paths}
    if attributes:
        batch["attributes"] = torch.tensor([[1.0, 0.0]] * len(pids))
    return batch


def _loader(attributes=True):
    return [_batch([[1, 2, 3], [4, 5, 9]], [7, 8], ["a.jpg", "b.jpg"], attributes),
            _batch([[0, 0, 6]], [9], ["c.jpg"], attributes)]


def test_extract_collects_outputs_and_batch_fields_in_order():
    model = RowModel()
    out = extract(model, _loader())
    np.testing.assert_array_equal(out["features"], [[1, 2, 3], [4, 5, 9], [0, 0, 6]])
    np.testing.assert_allclose(out["attr_probs"], [[0.2, 0.3], [0.5, 0.6], [0.1, 0.1]], rtol=1e-6)
    np.testing.assert_array_equal(out["pids"], [7, 8, 9])
    np.testing.assert_array_equal(out["camids"], [3, 3, 3])
    np.testing.assert_array_equal(out["modalities"], [1, 1, 1])
    np.testing.assert_array_equal(out["attributes"], [[1, 0]] * 3)
    assert out["img_paths"] == ["a.jpg", "b.jpg", "c.jpg"]
    assert out["features"].dtype == np.float32 and out["pids"].dtype == np.int64
    assert model.seen_training == [False, False] and model.training  # eval inside, restored after


def test_flip_averages_image_and_mirror():
    model = RowModel()
    out = extract(model, _loader(), flip=True)
    # Row [1, 2, 3] mirrored is [3, 2, 1]: mean [2, 2, 2]; [4, 5, 9] -> [6.5, 5, 6.5]; [0, 0, 6] -> [3, 0, 3].
    np.testing.assert_array_equal(out["features"], [[2, 2, 2], [6.5, 5, 6.5], [3, 0, 3]])
    # Green row is red + 1: first two pixels [2, 3] and mirrored [4, 3] -> [3, 3] / 10.
    np.testing.assert_allclose(out["attr_probs"][0], [0.3, 0.3], rtol=1e-6)
    assert len(model.seen_training) == 4


def test_tensor_output_is_read_as_features():
    out = extract(RowModel(as_tensor=True), _loader(attributes=False))
    assert set(out) == {"features", "pids", "camids", "modalities", "img_paths"}


def test_bad_model_output_and_batches_are_named():
    class ListModel(nn.Module):
        def forward(self, batch):
            return [batch["images"]]

    with pytest.raises(TypeError, match="must return a dict with 'features'"):
        extract(ListModel(), _loader())
    batch = _batch([[1, 2, 3]], [1], ["a.jpg"])
    del batch["modalities"]
    with pytest.raises(KeyError, match="lacks \\['modalities'\\]"):
        extract(RowModel(), [batch])
    mixed = [_batch([[1, 2, 3]], [1], ["a.jpg"]), _batch([[1, 2, 3]], [1], ["b.jpg"], attributes=False)]
    with pytest.raises(ValueError, match="batches disagree on their fields"):
        extract(RowModel(), mixed)
