"""Config keys of PAENet: ``MODEL.PAE.*`` (Sec. 3.2) and ``MODEL.AAL.*`` (Sec. 3.3); the number of attributes is
``MODEL.HEADS.NUM_ATTRIBUTES``, the predictor ``MODEL.HEADS.ATTR_PRED``, lambda of Eq. 11 ``MODEL.LOSSES.ATTR.SCALE``.
"""
from fastreid.config import CfgNode as CN

__all__ = ["add_paenet_config"]


def add_paenet_config(cfg):
    """Add PAENet's keys to ``cfg`` (in place)."""
    _C = cfg

    _C.MODEL.PAE = CN()
    # Progressive attribute embedding on/off (Table 3: rows b and d have it).
    _C.MODEL.PAE.ENABLED = True
    # Which embeddings run, in cascade: 1 cross-attention, 2 spatial attention, 3 channel gates (Table 5).
    _C.MODEL.PAE.EMBEDDINGS = (1, 2, 3)
    # d of Eq. 3: attention dim of Embedding-I and p1/p2 dim of Embedding-II; 0 = C (the paper: 2048).
    _C.MODEL.PAE.EMBED_DIM = 0
    # Attention heads of Embedding-I (Eq. 3 writes one).
    _C.MODEL.PAE.NUM_HEADS = 1
    # Hidden size of the FFN of Eq. 4; 0 = C (as the released code).
    _C.MODEL.PAE.FFN_DIM = 0
    # Embedding-III: 0 = the paper's n FCs 2C -> C; r > 0 = shared FC 2C -> r + ReLU, then n FCs r -> C.
    _C.MODEL.PAE.GATE_DIM = 0
    # Attributes fed to PAE in training: "pred" (predictor's, what PAE reads at test time) or "gt" (labels).
    _C.MODEL.PAE.TRAIN_ATTRIBUTES = "pred"
    # Attributes fed to PAE at test time: "pred" (predictor's probabilities), "gt", or "none" (bypass PAE).
    _C.MODEL.PAE.TEST_ATTRIBUTES = "pred"

    _C.MODEL.AAL = CN()
    # Attribute-based auxiliary learning on/off (Table 3: rows c and d have it); training only.
    _C.MODEL.AAL.ENABLED = True
    # Size of each attribute feature f_atr_i (Sec. 3.3; the paper gives none).
    _C.MODEL.AAL.FEAT_DIM = 256
    # BatchNorm before the sigmoids of W1 (Eq. 8) and W2 (Eq. 10), as the released code; False: the text's.
    _C.MODEL.AAL.SIGMOID_BN = False
