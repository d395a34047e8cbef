import pytest
import torch

import fastreid_ext  # noqa: F401
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.modeling.losses import CM_LOSS_REGISTRY, build_losses, hetero_center_triplet_loss, margin_mmd_loss

NAMES = ("CrossEntropyLoss", "MarginMMDLoss", "HeteroCenterTripletLoss", "WeightedRegularizedTriplet",
         "TripletLoss", "AttributeBCELoss")


def test_every_name_builds_its_class_in_order_with_distinct_entries():
    cfg = get_cfg()
    cfg.MODEL.LOSSES.NAME = NAMES
    losses = build_losses(cfg)
    assert [type(loss).__name__ for loss in losses] == list(NAMES)
    assert [loss.loss_name for loss in losses] == [
        "loss_cls", "loss_mmd", "loss_hct", "loss_wrt", "loss_triplet", "loss_attr"]
    assert all(type(loss) is CM_LOSS_REGISTRY.get(name) for loss, name in zip(losses, NAMES))


def test_config_keys_reach_the_losses():
    cfg = get_cfg()
    cfg.MODEL.LOSSES.NAME = ("MarginMMDLoss", "HeteroCenterTripletLoss")
    cfg.MODEL.LOSSES.MMD.MARGIN = None
    cfg.MODEL.LOSSES.MMD.SCALE = 0.25
    cfg.MODEL.LOSSES.HCT.MARGIN = 5.0
    cfg.MODEL.LOSSES.HCT.SCALE = 2.0
    mmd, hct = build_losses(cfg)
    feats = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [3.0, 1.0]], dtype=torch.float64)
    batch = {"targets": torch.tensor([0, 0, 1, 1]), "modalities": torch.tensor([0, 1, 0, 1])}
    outputs = {"features": feats}
    assert mmd(outputs, batch).item() == pytest.approx(
        0.25 * margin_mmd_loss(feats, batch["targets"], batch["modalities"], margin=None).item())
    assert hct(outputs, batch).item() == pytest.approx(
        2.0 * hetero_center_triplet_loss(feats, batch["targets"], batch["modalities"], margin=5.0).item())
    assert hct(outputs, batch).item() > 0


def test_unknown_name_is_an_error_naming_the_key():
    cfg = get_cfg()
    cfg.MODEL.LOSSES.NAME = ("CrossEntropyLoss", "CircleLoss")
    with pytest.raises(KeyError, match="MODEL.LOSSES.NAME.*CircleLoss"):
        build_losses(cfg)
