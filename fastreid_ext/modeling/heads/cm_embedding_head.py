"""``CMEmbeddingHead``: FastReID's EmbeddingHead under the cross-modality head contract (its docstring).
"""
import torch
from fastreid.config import CfgNode, configurable
from fastreid.layers.weight_init import weights_init_classifier
from fastreid.modeling.heads import REID_HEADS_REGISTRY, EmbeddingHead
from torch import nn

__all__ = ["CMEmbeddingHead"]

ATTR_PRED_NORMS = ("none", "BN")


@REID_HEADS_REGISTRY.register()
class CMEmbeddingHead(EmbeddingHead):
    """Pooling (e.g. GeM) + BNNeck + classifier, and an optional attribute predictor.

    The contract every head of :class:`~fastreid_ext.modeling.meta_arch.CrossModalityBaseline`
    follows: ``head(feat_map, batch)`` with ``feat_map`` (B, C, h, w) and the batch dict (heads read
    ``targets``, ``modalities``, ``attributes`` as they need). Training returns ``features`` (B, D)
    for the metric losses, ``cls_outputs`` (B, num_classes) for the ID loss, ``pred_class_logits``
    (detached, for the logged accuracy) and optionally ``attr_logits`` / ``attr_pred_logits`` (B, A);
    evaluation returns ``features`` (B, D) for retrieval and optionally ``attr_probs`` (B, A).

    ``MAP_TITLES``: name -> figure label of each map a head returns with ``return_maps=True`` (none here).

    As in AGW and MMD-ReID, the metric losses see the pooled feature (``NECK_FEAT: before``) and
    retrieval uses the BNNeck feature (FastReID's EmbeddingHead always returns it at test time).

    Args:
        num_attributes: A, the number of binary attributes.
        attr_pred: add an FC from the pooled feature to A logits: ``attr_pred_logits`` in
            training, ``attr_probs`` (their sigmoid) at test time.
        attr_pred_norm: ``"BN"``: a BatchNorm1d of the pooled feature before that FC, or ``"none"``.
        **kwargs: the arguments of FastReID's ``EmbeddingHead``.
    """

    MAP_TITLES = {}

    @configurable
    def __init__(self, *, num_attributes: int = 0, attr_pred: bool = False, attr_pred_norm: str = "BN",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if attr_pred and num_attributes <= 0:
            raise ValueError("MODEL.HEADS.ATTR_PRED.ENABLED needs MODEL.HEADS.NUM_ATTRIBUTES > 0, "
                             f"got {num_attributes}")
        if attr_pred_norm not in ATTR_PRED_NORMS:
            raise ValueError(f"MODEL.HEADS.ATTR_PRED.NORM must be one of {ATTR_PRED_NORMS}, got {attr_pred_norm!r}")
        self.attr_predictor = None
        if attr_pred:
            fc = nn.Linear(kwargs["feat_dim"], num_attributes)
            fc.apply(weights_init_classifier)
            norm = nn.BatchNorm1d(kwargs["feat_dim"]) if attr_pred_norm == "BN" else None
            self.attr_predictor = fc if norm is None else nn.Sequential(norm, fc)

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        args = super().from_config(cfg)
        args.update(num_attributes=cfg.MODEL.HEADS.NUM_ATTRIBUTES, attr_pred=cfg.MODEL.HEADS.ATTR_PRED.ENABLED,
                    attr_pred_norm=cfg.MODEL.HEADS.ATTR_PRED.NORM)
        return args

    def forward(self, feat_map: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """feat_map: (B, C, h, w); batch: the batch dict (``targets`` is read in training)."""
        if self.training:
            outputs = super().forward(feat_map, batch["targets"])
            outputs["pred_class_logits"] = outputs["pred_class_logits"].detach()
        else:
            outputs = {"features": super().forward(feat_map)}
        if self.attr_predictor is not None:
            logits = self.attr_predictor(self.pool_layer(feat_map)[..., 0, 0])
            if self.training:
                outputs["attr_pred_logits"] = logits
            else:
                outputs["attr_probs"] = logits.sigmoid()
        return outputs
