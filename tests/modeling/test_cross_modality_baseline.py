import pytest
import torch
from fastreid.modeling.meta_arch import build_model
from fastreid.utils.events import EventStorage

import fastreid_ext  # noqa: F401  (first: patches FastReID before it is imported)
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.modeling.losses import CrossEntropyLoss
from fastreid_ext.modeling.meta_arch import CrossModalityBaseline


def tiny_cfg(*opts):
    """ResNet-18 dual stream, GeM + BNNeck head, CE + margin MMD + hetero-centre triplet."""
    cfg = get_cfg()
    cfg.merge_from_list([
        "MODEL.DEVICE", "cpu",
        "MODEL.META_ARCHITECTURE", "CrossModalityBaseline",
        "MODEL.BACKBONE.NAME", "build_dual_stream_resnet_backbone",
        "MODEL.BACKBONE.DEPTH", "18x",
        "MODEL.BACKBONE.FEAT_DIM", 512,
        "MODEL.HEADS.NAME", "CMEmbeddingHead",
        "MODEL.HEADS.NUM_CLASSES", 3,
        "MODEL.HEADS.POOL_LAYER", "GeneralizedMeanPooling",
        "MODEL.HEADS.WITH_BNNECK", True,
        "MODEL.LOSSES.NAME", ("CrossEntropyLoss", "MarginMMDLoss", "HeteroCenterTripletLoss"),
        "MODEL.LOSSES.MMD.MARGIN", None,
        *opts,
    ])
    return cfg


def make_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "images": torch.rand(8, 3, 64, 32, generator=g) * 255,
        "targets": torch.tensor([0, 0, 1, 1, 0, 0, 1, 1]),
        "camids": torch.tensor([1, 1, 2, 2, 3, 3, 3, 3]),
        "modalities": torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]),
        "attributes": torch.randint(0, 2, (8, 4), generator=g).float(),
        "img_paths": [f"p{i}.jpg" for i in range(8)],
    }


def test_two_sgd_steps_give_one_entry_per_loss():
    torch.manual_seed(0)
    model = build_model(tiny_cfg()).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    stem_before = model.backbone.infrared.conv1.weight.detach().clone()
    batch = make_batch()
    images_before = batch["images"].clone()
    with EventStorage(0) as storage:
        for _ in range(2):
            losses = model(batch)
            assert set(losses) == {"loss_cls", "loss_mmd", "loss_hct"}
            total = sum(losses.values())
            assert torch.isfinite(total)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            storage.step()
        assert "cls_accuracy" in storage.histories()
    assert not torch.equal(model.backbone.infrared.conv1.weight, stem_before)
    assert torch.equal(batch["images"], images_before)  # normalised out of place


def test_losses_compute_in_fp32_under_autocast():
    torch.manual_seed(0)
    cfg = tiny_cfg("MODEL.HEADS.NUM_ATTRIBUTES", 4, "MODEL.HEADS.ATTR_PRED.ENABLED", True,
                   "MODEL.LOSSES.NAME", ("CrossEntropyLoss", "MarginMMDLoss", "HeteroCenterTripletLoss",
                                         "AttributeBCELoss"))
    model = build_model(cfg).train()
    seen = {}
    model.heads.register_forward_hook(lambda m, i, out: seen.update(head=out["features"].dtype))
    for loss in model.losses:
        loss.register_forward_hook(lambda m, i, out: seen.update({
            m.loss_name: (i[0]["features"].dtype, out.dtype, torch.is_autocast_enabled("cpu"))}))
    with EventStorage(0), torch.autocast("cpu", dtype=torch.bfloat16):
        losses = model(make_batch())
    assert seen.pop("head") == torch.bfloat16  # autocast was on for the network
    assert seen == {name: (torch.float32, torch.float32, False) for name in losses}
    assert set(losses) == {"loss_cls", "loss_mmd", "loss_hct", "loss_attr"}


def test_eval_returns_features():
    torch.manual_seed(0)
    model = build_model(tiny_cfg()).eval()
    with torch.no_grad():
        out = model(make_batch())
    assert set(out) == {"features"} and out["features"].shape == (8, 512)


def test_attribute_predictor_and_loss_through_the_config():
    torch.manual_seed(0)
    cfg = tiny_cfg("MODEL.HEADS.NUM_ATTRIBUTES", 4, "MODEL.HEADS.ATTR_PRED.ENABLED", True,
                   "MODEL.LOSSES.NAME", ("CrossEntropyLoss", "AttributeBCELoss"),
                   "MODEL.LOSSES.ATTR.SCALE", 0.5)
    model = build_model(cfg)
    with EventStorage(0):
        losses = model.train()(make_batch())
    assert set(losses) == {"loss_cls", "loss_attr"} and losses["loss_attr"] > 0
    with torch.no_grad():
        out = model.eval()(make_batch())
    assert out["attr_probs"].shape == (8, 4)
    assert ((out["attr_probs"] > 0) & (out["attr_probs"] < 1)).all()


def test_one_stream_fastreid_backbone_is_accepted():
    cfg = tiny_cfg("MODEL.BACKBONE.NAME", "build_resnet_backbone", "MODEL.LOSSES.NAME", ("CrossEntropyLoss",))
    model = build_model(cfg).eval()
    batch = make_batch()
    del batch["modalities"]
    with torch.no_grad():
        assert model(batch)["features"].shape == (8, 512)


def test_missing_modalities_and_duplicate_losses_are_errors():
    model = build_model(tiny_cfg()).eval()
    batch = make_batch()
    del batch["modalities"]
    with pytest.raises(KeyError, match="modalities"):
        model(batch)
    with pytest.raises(ValueError, match="loss_cls"):
        CrossModalityBaseline(backbone=model.backbone, heads=model.heads,
                              losses=[CrossEntropyLoss(), CrossEntropyLoss(eps=0.1)],
                              pixel_mean=[0.0] * 3, pixel_std=[1.0] * 3)
