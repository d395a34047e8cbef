"""PAENet's ablation grids (the paper's Tables 3 and 6, and where the attribute gain comes from), all at the
budget of ``configs/synthvi.yml`` and evaluated on SYSU-MM01 all-search single-shot (seeded gallery).

Run them with ``tools/ablate.py --grid NAME --seeds N``.
"""
from fastreid_ext.ablation import GRID_REGISTRY, Cell, Grid

CONFIG = "projects/PAENet/configs/synthvi.yml"

_ID_MMD_HCT = ("CrossEntropyLoss", "MarginMMDLoss", "HeteroCenterTripletLoss")
_AGW = ("CrossEntropyLoss", "WeightedRegularizedTriplet")
_HCT = ("CrossEntropyLoss", "HeteroCenterTripletLoss")


def _baseline(losses, *opts, attr_pred=False):
    """The baseline head (GeM + BNNeck) with ``losses``; ``attr_pred`` adds its attribute classifier."""
    return ("MODEL.HEADS.NAME", "CMEmbeddingHead", "MODEL.HEADS.ATTR_PRED.ENABLED", str(attr_pred),
            "MODEL.LOSSES.NAME", str(losses), *opts)


def _paenet(losses, pae=True, aal=True, *opts):
    """The PAENet head on ``losses`` + the attribute loss (Eq. 11), with PAE and/or AAL."""
    return ("MODEL.PAE.ENABLED", str(pae), "MODEL.AAL.ENABLED", str(aal),
            "MODEL.LOSSES.NAME", str(losses + ("AttributeBCELoss",)), *opts)


@GRID_REGISTRY.register()
def table3():
    """Table 3: the MMD baseline, +PAE, +AAL, +PAE+AAL (test-time attributes predicted)."""
    return Grid("table3", (
        Cell("baseline", "baseline", CONFIG, _baseline(_ID_MMD_HCT)),
        Cell("pae", "pae", CONFIG, _paenet(_ID_MMD_HCT, aal=False), "pred"),
        Cell("aal", "aal", CONFIG, _paenet(_ID_MMD_HCT, pae=False), "pred"),
        Cell("pae+aal", "pae+aal", CONFIG, _paenet(_ID_MMD_HCT), "pred"),
    ), description=table3.__doc__)


@GRID_REGISTRY.register()
def table6():
    """Table 6: PAE+AAL plugged into the AGW (WRT + non-local), HCT and MMD baselines."""
    cells = []
    for name, losses, opts in (("agw", _AGW, ("MODEL.BACKBONE.WITH_NL", "True")), ("hct", _HCT, ()),
                               ("mmd", _ID_MMD_HCT, ())):
        cells.append(Cell(name, name, CONFIG, _baseline(losses, *opts)))
        cells.append(Cell(f"{name}+pae+aal", f"{name}+pae+aal", CONFIG, _paenet(losses, True, True, *opts), "pred"))
    return Grid("table6", tuple(cells), description=table6.__doc__)


@GRID_REGISTRY.register()
def attributes():
    """Does the gain come from feeding attributes or from attribute supervision? PAENet tested with gt, pred
    and none (one training each seed), the MMD baseline, and the baseline with the attribute loss alone."""
    attr_only = _baseline(_ID_MMD_HCT + ("AttributeBCELoss",), attr_pred=True)
    return Grid("attributes", (
        Cell("baseline", "baseline", CONFIG, _baseline(_ID_MMD_HCT)),
        Cell("baseline+attr-loss", "baseline+attr-loss", CONFIG, attr_only),
        Cell("pae+aal/gt", "pae+aal", CONFIG, _paenet(_ID_MMD_HCT), "gt"),
        Cell("pae+aal/pred", "pae+aal", CONFIG, _paenet(_ID_MMD_HCT), "pred"),
        Cell("pae+aal/none", "pae+aal", CONFIG, _paenet(_ID_MMD_HCT), "none"),
    ), description=attributes.__doc__)
