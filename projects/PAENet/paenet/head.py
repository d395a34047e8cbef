"""``PAENetHead``: the baseline head with PAE and AAL on top (PAENet Fig. 2), under the head contract of
``CMEmbeddingHead``; the Table 3 switches and the test-time attribute sources are in projects/PAENet/README.md."""
from fastreid.config import configurable
from fastreid.modeling.heads import REID_HEADS_REGISTRY, EmbeddingHead

from fastreid_ext.modeling.heads import CMEmbeddingHead

from .aal import AttributeAuxiliaryLearning, identity_weights, sigmoid_bn2d
from .pae import PAE

__all__ = ["PAENetHead"]

TRAIN_ATTRIBUTE_SOURCES = ("gt", "pred")
TEST_ATTRIBUTE_SOURCES = ("gt", "pred", "none")


@REID_HEADS_REGISTRY.register()
class PAENetHead(CMEmbeddingHead):
    """GeM + BNNeck + classifier of the baseline, PAE (Eq. 3-7), AAL (Eq. 8-9) and Eq. 10.

    ``forward(feat_map (B, C, h, w), batch)``. Training returns ``features`` (B, C) f_id before the
    BNNeck, ``cls_outputs``, ``pred_class_logits``, and ``attr_logits`` (B, n) with AAL and
    ``attr_pred_logits`` (B, n) with the predictor. Evaluation returns ``features`` (B, C) (BNNeck of
    f_id) and ``attr_probs`` (B, n) with the predictor; with ``return_maps=True`` also ``maps``:
    ``emb2`` (B, 1, h, w) the Embedding-II attention and ``w2`` (B, h, w) the channel mean of W2,
    each present when computed.

    Args:
        pae: a :class:`PAE`, or None (no PAE).
        aal: an :class:`AttributeAuxiliaryLearning`, or None (no AAL).
        train_attributes: ``gt`` or ``pred``, the attributes PAE reads in training.
        test_attributes: ``gt``, ``pred`` or ``none``, the attributes PAE reads at test time.
        w2_norm: a BatchNorm2d before the sigmoid of W2 (Eq. 10), as the released code, or None.
        **kwargs: the arguments of ``CMEmbeddingHead``.
    """

    MAP_TITLES = {"emb2": "Embedding-II (Eq. 5)", "w2": "W2 (Eq. 10)"}

    @configurable
    def __init__(self, *, pae=None, aal=None, train_attributes="pred", test_attributes="pred", w2_norm=None,
                 **kwargs):
        super().__init__(**kwargs)
        if train_attributes not in TRAIN_ATTRIBUTE_SOURCES:
            raise ValueError(f"MODEL.PAE.TRAIN_ATTRIBUTES must be one of {TRAIN_ATTRIBUTE_SOURCES}, "
                             f"got {train_attributes!r}")
        if test_attributes not in TEST_ATTRIBUTE_SOURCES:
            raise ValueError(f"MODEL.PAE.TEST_ATTRIBUTES must be one of {TEST_ATTRIBUTE_SOURCES}, "
                             f"got {test_attributes!r}")
        if pae is not None and self.attr_predictor is None and "pred" in (train_attributes, test_attributes):
            raise ValueError("MODEL.PAE.TRAIN_ATTRIBUTES/TEST_ATTRIBUTES 'pred' needs the attribute "
                             "predictor: set MODEL.HEADS.ATTR_PRED.ENABLED True")
        self.pae = pae
        self.aal = aal
        self.w2_norm = w2_norm
        self.train_attributes = train_attributes
        self.test_attributes = test_attributes

    @classmethod
    def from_config(cls, cfg):
        args = super().from_config(cfg)
        channels, num_attributes = cfg.MODEL.BACKBONE.FEAT_DIM, cfg.MODEL.HEADS.NUM_ATTRIBUTES
        pae_cfg, aal_cfg = cfg.MODEL.PAE, cfg.MODEL.AAL
        if (pae_cfg.ENABLED or aal_cfg.ENABLED) and num_attributes <= 0:
            raise ValueError("MODEL.PAE.ENABLED / MODEL.AAL.ENABLED need MODEL.HEADS.NUM_ATTRIBUTES > 0, "
                             f"got {num_attributes}")
        if pae_cfg.ENABLED:
            args["pae"] = PAE(channels, num_attributes, embeddings=pae_cfg.EMBEDDINGS,
                              embed_dim=pae_cfg.EMBED_DIM, num_heads=pae_cfg.NUM_HEADS, ffn_dim=pae_cfg.FFN_DIM,
                              gate_dim=pae_cfg.GATE_DIM)
            if aal_cfg.SIGMOID_BN:
                args["w2_norm"] = sigmoid_bn2d(channels)
        if aal_cfg.ENABLED:
            args["aal"] = AttributeAuxiliaryLearning(channels, num_attributes, feat_dim=aal_cfg.FEAT_DIM,
                                                     sigmoid_bn=aal_cfg.SIGMOID_BN)
        args.update(train_attributes=pae_cfg.TRAIN_ATTRIBUTES, test_attributes=pae_cfg.TEST_ATTRIBUTES)
        return args

    def forward(self, feat_map, batch, return_maps=False):
        """feat_map: (B, C, h, w) F; batch: the batch dict (``targets``, and ``attributes`` for ``gt``)."""
        pooled = self.pool_layer(feat_map)[..., 0, 0]
        pred_logits = self.attr_predictor(pooled) if self.attr_predictor is not None else None
        attributes = self._pae_attributes(batch, pred_logits)
        pae_out = self.pae(feat_map, attributes) if attributes is not None else None
        w2 = identity_weights(pae_out, self.w2_norm) if pae_out is not None else None
        id_map = feat_map if w2 is None else w2 * feat_map

        if self.training:
            outputs = EmbeddingHead.forward(self, id_map, batch["targets"])
            outputs["pred_class_logits"] = outputs["pred_class_logits"].detach()
            if pred_logits is not None:
                outputs["attr_pred_logits"] = pred_logits
            if self.aal is not None:
                outputs["attr_logits"] = self.aal(self._pooled_fused(feat_map, pae_out), pooled)
        else:
            outputs = {"features": EmbeddingHead.forward(self, id_map)}
            if pred_logits is not None:
                outputs["attr_probs"] = pred_logits.sigmoid()
        if return_maps:
            maps = {}
            if pae_out is not None and pae_out.attention is not None:
                maps["emb2"] = pae_out.attention
            if w2 is not None:
                maps["w2"] = w2.mean(dim=1)
            outputs["maps"] = maps
        return outputs

    def _pae_attributes(self, batch, pred_logits):
        """(B, n) attributes for PAE, or None when PAE does not run."""
        if self.pae is None:
            return None
        source, key = ((self.train_attributes, "MODEL.PAE.TRAIN_ATTRIBUTES") if self.training
                       else (self.test_attributes, "MODEL.PAE.TEST_ATTRIBUTES"))
        if source == "none":
            return None
        if source == "pred":
            return pred_logits.sigmoid().detach()
        if "attributes" not in batch:
            raise KeyError(f"PAENetHead: {key} is 'gt' but the batch has no 'attributes'; "
                           "use 'pred' for data without attribute labels")
        return batch["attributes"]

    def _pooled_fused(self, feat_map, pae_out):
        """(B, n, C) pooled fused maps f_i for AAL: PAE's, or n copies of GAP(F) without PAE."""
        if pae_out is not None:
            return pae_out.pooled()
        b, c = feat_map.shape[:2]
        return feat_map.mean(dim=(2, 3))[:, None].expand(b, self.aal.num_attributes, c)
