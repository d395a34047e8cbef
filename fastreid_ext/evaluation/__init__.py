"""Cross-modality evaluation: ranking and attribute metrics (pure numpy), CPU re-ranking, the feature
extractor, and the FastReID evaluator that ties them together."""
from .attr_metrics import attribute_metrics
from .cm_evaluator import DATASET_PROTOCOLS, CrossModalityEvaluator, metric_key
from .extractor import extract
from .metrics import (
    PROTOCOLS,
    FeatureDistance,
    MatrixDistance,
    RankingProtocol,
    eval_llcm,
    eval_regdb,
    eval_sysu,
    evaluate_ranking,
    hidden_mask,
)
from .rerank import re_ranking

__all__ = ["DATASET_PROTOCOLS", "PROTOCOLS", "CrossModalityEvaluator", "FeatureDistance", "MatrixDistance",
           "RankingProtocol", "attribute_metrics", "eval_llcm", "eval_regdb", "eval_sysu", "evaluate_ranking",
           "extract", "hidden_mask", "metric_key", "re_ranking"]
