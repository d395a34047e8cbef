import pytest
import torch
from fastreid.modeling.heads import build_heads

import fastreid_ext  # noqa: F401
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg


def head_cfg(*opts):
    cfg = get_cfg()
    cfg.MODEL.BACKBONE.FEAT_DIM = 8
    cfg.MODEL.HEADS.NAME = "CMEmbeddingHead"
    cfg.MODEL.HEADS.NUM_CLASSES = 3
    cfg.MODEL.HEADS.POOL_LAYER = "GeneralizedMeanPooling"
    cfg.MODEL.HEADS.WITH_BNNECK = True
    cfg.MODEL.HEADS.NECK_FEAT = "before"
    cfg.merge_from_list(list(opts))
    return cfg


FEAT_MAP = torch.rand(4, 8, 3, 2, generator=torch.Generator().manual_seed(0)) + 0.1
BATCH = {"targets": torch.tensor([0, 1, 2, 1])}


def gem(x, p=3.0):
    return x.pow(p).mean(dim=(2, 3)).pow(1 / p)


def test_training_outputs_follow_the_contract():
    head = build_heads(head_cfg()).train()
    out = head(FEAT_MAP, BATCH)
    assert set(out) == {"features", "cls_outputs", "pred_class_logits"}
    assert torch.allclose(out["features"], gem(FEAT_MAP), atol=1e-6)  # pooled, before the BNNeck
    assert out["cls_outputs"].shape == (4, 3) and out["cls_outputs"].requires_grad
    assert not out["pred_class_logits"].requires_grad
    assert torch.equal(out["pred_class_logits"], out["cls_outputs"].detach())


def test_eval_returns_the_bnneck_feature():
    head = build_heads(head_cfg()).eval()
    bn = head.bottleneck[0]
    expected = (gem(FEAT_MAP) - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    out = head(FEAT_MAP, {})
    assert set(out) == {"features"}
    assert torch.allclose(out["features"], expected, atol=1e-5)


def test_attribute_predictor():
    head = build_heads(head_cfg("MODEL.HEADS.NUM_ATTRIBUTES", 5, "MODEL.HEADS.ATTR_PRED.ENABLED", True,
                                "MODEL.HEADS.ATTR_PRED.NORM", "none"))
    logits = head.train()(FEAT_MAP, BATCH)["attr_pred_logits"]
    fc = head.attr_predictor
    assert torch.allclose(logits, gem(FEAT_MAP) @ fc.weight.T + fc.bias, atol=1e-6)
    probs = head.eval()(FEAT_MAP, {})["attr_probs"]
    assert torch.allclose(probs, torch.sigmoid(logits), atol=1e-6)
    with pytest.raises(ValueError, match="MODEL.HEADS.NUM_ATTRIBUTES"):
        build_heads(head_cfg("MODEL.HEADS.ATTR_PRED.ENABLED", True))


def test_attribute_predictor_bn_norm():
    opts = ("MODEL.HEADS.NUM_ATTRIBUTES", 5, "MODEL.HEADS.ATTR_PRED.ENABLED", True)
    plain = build_heads(head_cfg(*opts)).train()
    head = build_heads(head_cfg(*opts, "MODEL.HEADS.ATTR_PRED.NORM", "BN")).train()
    bn, fc = head.attr_predictor
    pooled = gem(FEAT_MAP)
    expected = (pooled - pooled.mean(0)) / torch.sqrt(pooled.var(0, unbiased=False) + bn.eps) @ fc.weight.T + fc.bias
    logits = head(FEAT_MAP, BATCH)["attr_pred_logits"]
    assert torch.allclose(logits, expected, atol=1e-5)
    # A feature ten times larger moves the plain FC's logits tenfold, not the normalised ones.
    assert torch.allclose(head(10 * FEAT_MAP, BATCH)["attr_pred_logits"], logits, atol=1e-4)
    assert not torch.allclose(plain(10 * FEAT_MAP, BATCH)["attr_pred_logits"],
                              plain(FEAT_MAP, BATCH)["attr_pred_logits"])
    with pytest.raises(ValueError, match="MODEL.HEADS.ATTR_PRED.NORM must be one of"):
        build_heads(head_cfg(*opts, "MODEL.HEADS.ATTR_PRED.NORM", "LN"))
