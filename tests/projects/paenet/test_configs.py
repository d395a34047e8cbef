import glob
import os

import pytest
import torch
from fastreid.modeling import build_model
from fastreid.utils.events import EventStorage

import fastreid_ext  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.modeling import CM_LOSS_REGISTRY

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CONFIGS = sorted(glob.glob(os.path.join(REPO, "projects", "PAENet", "configs", "*.yml")))


def test_every_config_is_listed():
    names = {os.path.basename(p) for p in CONFIGS}
    assert {"Base-PAENet.yml", "sysu.yml", "regdb.yml", "llcm.yml", "synthvi.yml", "sysu_agw.yml",
            "sysu_hct.yml", "sysu_gt.yml"} <= names


def _tiny_cfg(path):
    cfg = get_cfg()
    cfg.merge_from_file(path)
    cfg.merge_from_list([
        "MODEL.DEVICE", "cpu", "MODEL.BACKBONE.DEPTH", "18x", "MODEL.BACKBONE.FEAT_DIM", 512,
        "MODEL.BACKBONE.PRETRAIN", False, "MODEL.HEADS.NUM_CLASSES", 2,
        "INPUT.SIZE_TRAIN", [64, 32], "INPUT.SIZE_TEST", [64, 32],
    ])
    return cfg


def _batch():
    # 2 identities x (2 visible + 2 infrared), attributes per identity.
    g = torch.Generator().manual_seed(0)
    attributes = torch.tensor([[1, 0, 1, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 1, 0, 1]], dtype=torch.float32)
    targets = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    return {
        "images": torch.rand(8, 3, 64, 32, generator=g) * 255,
        "targets": targets,
        "camids": torch.tensor([1, 2, 3, 6, 1, 2, 3, 6]),
        "modalities": torch.tensor([0, 0, 1, 1, 0, 0, 1, 1]),
        "attributes": attributes[targets],
        "img_paths": [f"{i}.jpg" for i in range(8)],
    }


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_builds_a_model_that_trains_and_evaluates(path):
    torch.manual_seed(0)
    cfg = _tiny_cfg(path)
    assert cfg.MODEL.HEADS.NAME == "PAENetHead"
    model = build_model(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with EventStorage(0):
        losses = model(_batch())
        expected = {CM_LOSS_REGISTRY.get(name).loss_name for name in cfg.MODEL.LOSSES.NAME}
        assert set(losses) == expected and "loss_attr" in losses
        assert all(torch.isfinite(v) for v in losses.values())
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()

    model.eval()
    batch = _batch()
    if cfg.MODEL.PAE.TEST_ATTRIBUTES == "pred":
        del batch["attributes"]  # "pred" does not read them
    with torch.no_grad():
        outputs = model(batch)
    assert outputs["features"].shape == (8, 512)
    assert outputs["attr_probs"].shape == (8, 8)
