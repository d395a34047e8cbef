"""SOLVER.ATTR_PRED_LR_FACTOR scales the attribute predictor's learning rate, and only its."""
import pytest

from fastreid_ext.engine import CMTrainer
from tests.conftest import tiny_cfg


@pytest.mark.parametrize("factor", [1.0, 0.1])
def test_predictor_rate_factor(synthvi_root, tmp_path, factor):
    cfg = tiny_cfg(synthvi_root, tmp_path, "projects/PAENet/configs/synthvi.yml",
                   "SOLVER.ATTR_PRED_LR_FACTOR", factor, "MODEL.HEADS.NUM_CLASSES", 8)
    model = CMTrainer.build_model(cfg)
    optimizer, _ = CMTrainer.build_optimizer(cfg, model)
    rate = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    heads = cfg.SOLVER.BASE_LR * cfg.SOLVER.HEADS_LR_FACTOR
    fc = model.heads.attr_predictor[1]
    assert rate[id(fc.weight)] == pytest.approx(heads * factor)
    assert rate[id(fc.bias)] == pytest.approx(heads * factor * cfg.SOLVER.BIAS_LR_FACTOR)
    assert rate[id(model.heads.bottleneck[0].weight)] == pytest.approx(heads)  # the BNNeck keeps the heads' rate
    backbone = next(model.backbone.parameters())
    assert rate[id(backbone)] == pytest.approx(cfg.SOLVER.BASE_LR)
