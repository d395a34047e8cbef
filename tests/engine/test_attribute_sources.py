"""The test-time attribute sources CMTrainer.test evaluates (and the benchmarks time)."""
import pytest
from fastreid.modeling import build_model

from fastreid_ext.engine import CMTrainer
from fastreid_ext.engine.trainer import attribute_source
from fastreid_ext.utils import ConfigError
from tests.conftest import tiny_cfg


def _model(synthvi_root, tmp_path, *opts):
    cfg = tiny_cfg(synthvi_root, tmp_path, "projects/PAENet/configs/synthvi.yml", "MODEL.HEADS.NUM_CLASSES", 4, *opts)
    return cfg, build_model(cfg)


def test_sources_are_the_configured_ones_else_the_heads_own(synthvi_root, tmp_path):
    cfg, model = _model(synthvi_root, tmp_path, "TEST.ATTRIBUTES", "['none', 'gt']")
    assert CMTrainer.test_attribute_sources(cfg, model) == ["none", "gt"]
    cfg, model = _model(synthvi_root, tmp_path, "TEST.ATTRIBUTES", "[]", "MODEL.PAE.TEST_ATTRIBUTES", "gt")
    assert CMTrainer.test_attribute_sources(cfg, model) == [model.heads.test_attributes] == ["gt"]


def test_a_head_without_attributes_has_one_source_and_refuses_others(synthvi_root, tmp_path):
    baseline = ("MODEL.HEADS.NAME", "CMEmbeddingHead")
    cfg, model = _model(synthvi_root, tmp_path, *baseline, "TEST.ATTRIBUTES", "[]")
    assert CMTrainer.test_attribute_sources(cfg, model) == ["n/a"]
    cfg, model = _model(synthvi_root, tmp_path, *baseline, "TEST.ATTRIBUTES", "['pred']")
    with pytest.raises(ConfigError, match=r"TEST.ATTRIBUTES \['pred'\] needs a head that reads attributes; "
                                          "CMEmbeddingHead does not"):
        CMTrainer.test_attribute_sources(cfg, model)


def test_attribute_source_switches_the_head_and_restores_it(synthvi_root, tmp_path):
    cfg, model = _model(synthvi_root, tmp_path, "MODEL.PAE.TEST_ATTRIBUTES", "pred")
    with pytest.raises(RuntimeError):
        with attribute_source(model, "gt"):
            assert model.heads.test_attributes == "gt"
            raise RuntimeError
    assert model.heads.test_attributes == "pred"
