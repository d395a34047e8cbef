import pytest
import torch
from fastreid.modeling.heads import build_heads

import fastreid_ext  # noqa: F401
import paenet  # noqa: F401  (registers PAENetHead and MODEL.PAE / MODEL.AAL)
from fastreid_ext.config import get_cfg

C, N_ATTR, NUM_CLASSES, H, W = 16, 3, 4, 4, 2


def _cfg(**pae):
    cfg = get_cfg()
    cfg.MODEL.HEADS.NAME = "PAENetHead"
    cfg.MODEL.BACKBONE.FEAT_DIM = C
    cfg.MODEL.HEADS.NUM_CLASSES = NUM_CLASSES
    cfg.MODEL.HEADS.POOL_LAYER = "GeneralizedMeanPooling"
    cfg.MODEL.HEADS.NECK_FEAT = "before"
    cfg.MODEL.HEADS.NUM_ATTRIBUTES = N_ATTR
    cfg.MODEL.HEADS.ATTR_PRED.ENABLED = True
    cfg.MODEL.PAE.EMBED_DIM = 8
    cfg.MODEL.PAE.NUM_HEADS = 2
    cfg.MODEL.PAE.FFN_DIM = 8
    cfg.MODEL.AAL.FEAT_DIM = 4
    for key, value in pae.items():
        node, name = key.split("__")
        cfg.MODEL[node][name] = value
    return cfg


def _head(**pae):
    torch.manual_seed(0)
    return build_heads(_cfg(**pae))


def _batch():
    attributes = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    return {"targets": torch.tensor([0, 1, 2, 3]), "modalities": torch.tensor([0, 1, 0, 1]),
            "attributes": attributes}


def _feat_map():
    torch.manual_seed(1)
    return torch.rand(4, C, H, W)


def test_training_outputs_follow_the_head_contract():
    head = _head().train()
    outputs = head(_feat_map(), _batch())
    assert set(outputs) == {"features", "cls_outputs", "pred_class_logits", "attr_logits", "attr_pred_logits"}
    assert outputs["features"].shape == (4, C)
    assert outputs["cls_outputs"].shape == (4, NUM_CLASSES)
    assert not outputs["pred_class_logits"].requires_grad
    assert outputs["attr_logits"].shape == outputs["attr_pred_logits"].shape == (4, N_ATTR)
    loss = sum(v.sum() for k, v in outputs.items() if k != "pred_class_logits")
    loss.backward()
    for name in ("pae.emb1.q_proj.weight", "pae.emb2.p2.weight", "pae.emb3.fc.weight", "aal.fc.weight",
                 "attr_predictor.1.weight", "weight"):
        assert head.get_parameter(name).grad.abs().sum() > 0, name


def test_training_feature_depends_on_gt_attributes():
    head = _head(PAE__TRAIN_ATTRIBUTES="gt").train()
    batch = _batch()
    out_a = head(_feat_map(), batch)["features"]
    batch["attributes"] = 1 - batch["attributes"]
    out_b = head(_feat_map(), batch)["features"]
    assert not torch.allclose(out_a, out_b)


def test_eval_gt_uses_the_dataset_attributes():
    head = _head(PAE__TEST_ATTRIBUTES="gt").eval()
    batch = _batch()
    out_a = head(_feat_map(), batch)
    batch["attributes"] = 1 - batch["attributes"]
    out_b = head(_feat_map(), batch)
    assert set(out_a) == {"features", "attr_probs"}
    assert out_a["features"].shape == (4, C)
    assert not torch.allclose(out_a["features"], out_b["features"])
    del batch["attributes"]
    with pytest.raises(KeyError, match="MODEL.PAE.TEST_ATTRIBUTES"):
        head(_feat_map(), batch)


def test_eval_pred_reads_no_dataset_attributes():
    head = _head(PAE__TEST_ATTRIBUTES="pred").eval()
    batch = _batch()
    del batch["attributes"]
    outputs = head(_feat_map(), batch)
    probs = outputs["attr_probs"]
    assert probs.shape == (4, N_ATTR)
    # The same as feeding the predicted probabilities as labels.
    gt_head = _head(PAE__TEST_ATTRIBUTES="gt").eval()
    expected = gt_head(_feat_map(), dict(batch, attributes=probs))["features"]
    torch.testing.assert_close(outputs["features"], expected)


def test_eval_none_is_the_baseline_feature_of_the_same_network():
    head = _head(PAE__TEST_ATTRIBUTES="none").eval()
    batch = _batch()
    out_a = head(_feat_map(), batch)["features"]
    batch["attributes"] = 1 - batch["attributes"]
    torch.testing.assert_close(head(_feat_map(), batch)["features"], out_a)
    expected = head.bottleneck(head.pool_layer(_feat_map()))[..., 0, 0]
    torch.testing.assert_close(out_a, expected)


def test_eval_maps_for_visualisation():
    head = _head().eval()
    outputs = head(_feat_map(), _batch(), return_maps=True)
    assert outputs["maps"]["emb2"].shape == (4, 1, H, W)
    assert outputs["maps"]["w2"].shape == (4, H, W)
    assert set(_head(PAE__EMBEDDINGS=(1, 3)).eval()(_feat_map(), _batch(), return_maps=True)["maps"]) == {"w2"}


@pytest.mark.parametrize("pae_on, aal_on", [(False, False), (True, False), (False, True), (True, True)])
def test_table3_rows(pae_on, aal_on):
    head = _head(PAE__ENABLED=pae_on, AAL__ENABLED=aal_on).train()
    outputs = head(_feat_map(), _batch())
    assert ("attr_logits" in outputs) == aal_on
    assert (head.pae is not None) == pae_on
    if not pae_on:  # f_id = GeM(F), the baseline's pooled feature
        torch.testing.assert_close(outputs["features"], head.pool_layer(_feat_map())[..., 0, 0])


def test_train_with_predicted_attributes_reads_no_dataset_attributes_in_the_head():
    head = _head(PAE__TRAIN_ATTRIBUTES="pred", AAL__ENABLED=False).train()
    batch = _batch()
    del batch["attributes"]
    outputs = head(_feat_map(), batch)
    assert set(outputs) == {"features", "cls_outputs", "pred_class_logits", "attr_pred_logits"}


@pytest.mark.parametrize("node, key, value", [
    ("PAE", "TEST_ATTRIBUTES", "labels"),
    ("PAE", "TRAIN_ATTRIBUTES", "none"),
    ("HEADS", "NUM_ATTRIBUTES", 0),
    ("HEADS.ATTR_PRED", "ENABLED", False),
])
def test_config_errors_name_the_key(node, key, value):
    cfg = _cfg()
    cfg.MODEL.merge_from_list([f"{node}.{key}", value])
    with pytest.raises(ValueError, match=f"MODEL.{node}.{key}"):
        build_heads(cfg)
