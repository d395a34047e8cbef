"""PAENet's ablation grids (Tables 3 and 6, and where the attribute gain comes from), at the budget of
``configs/synthvi.yml`` on SYSU-MM01 all-search single-shot; runs and results: docs/ablation.md.
"""
from fastreid_ext.ablation import GRID_REGISTRY, Cell, Grid

from .head import TEST_ATTRIBUTE_SOURCES

CONFIG = "projects/PAENet/configs/synthvi.yml"

# Each baseline's MODEL.LOSSES.NAME (without the attribute loss): MMD-ReID (ID + margin MMD + HCT), AGW, HCT.
BASELINE_LOSSES = {
    "mmd": ("CrossEntropyLoss", "MarginMMDLoss", "HeteroCenterTripletLoss"),
    "agw": ("CrossEntropyLoss", "WeightedRegularizedTriplet"),
    "hct": ("CrossEntropyLoss", "HeteroCenterTripletLoss"),
}
_BASELINES = {name: (losses, ("MODEL.BACKBONE.WITH_NL", "True") if name == "agw" else ())
              for name, losses in BASELINE_LOSSES.items()}
# Departures from the recipe that the attributes grid measures: the plain-FC attribute predictor, the
# paper's ground-truth attributes in training, the released code's BatchNorm before the W1 / W2 sigmoids.
_VARIANTS = {"pred-none": ("MODEL.HEADS.ATTR_PRED.NORM", "none"),
             "train-gt": ("MODEL.PAE.TRAIN_ATTRIBUTES", "gt"),
             "sigmoid-bn": ("MODEL.AAL.SIGMOID_BN", "True")}


def _baseline(name, attr_loss=False, config=CONFIG):
    """A training run of the baseline head (GeM + BNNeck) of baseline ``name`` on ``config``: (run name, cell
    kwargs). ``attr_loss`` adds the attribute classifier and its loss (Eq. 11) without feeding attributes."""
    losses, opts = _BASELINES[name]
    losses = losses + ("AttributeBCELoss",) if attr_loss else losses
    return (name + "+attr-loss" if attr_loss else name,
            dict(config_file=config, opts=("MODEL.HEADS.NAME", "CMEmbeddingHead", "MODEL.HEADS.ATTR_PRED.ENABLED",
                                           str(attr_loss), "MODEL.LOSSES.NAME", str(losses), *opts)))


def _paenet(name, pae=True, aal=True, attributes="pred", variant=None, config=CONFIG):
    """A training run of the PAENet head on baseline ``name`` + the attribute loss (Eq. 11), with PAE and/or
    AAL, reporting test-time attributes ``attributes``: (run name, cell kwargs). ``variant``: a key of
    ``_VARIANTS`` (the config's own recipe when None); ``config``: the run's YAML."""
    losses, opts = _BASELINES[name]
    run = name + "+pae" * pae + "+aal" * aal
    if variant is not None:
        run, opts = f"{run}+{variant}", (*opts, *_VARIANTS[variant])
    return run, dict(config_file=config, attributes=attributes,
                     opts=("MODEL.PAE.ENABLED", str(pae), "MODEL.AAL.ENABLED", str(aal),
                           "MODEL.LOSSES.NAME", str(losses + ("AttributeBCELoss",)),
                           "TEST.ATTRIBUTES", str(list(TEST_ATTRIBUTE_SOURCES)), *opts))


def _cell(config, run_and_kwargs):
    run, kwargs = run_and_kwargs
    return Cell(config, run, **kwargs)


@GRID_REGISTRY.register()
def table3():
    """Table 3: the MMD baseline, +PAE, +AAL, +PAE+AAL (test-time attributes predicted)."""
    return Grid("table3", (
        _cell("baseline", _baseline("mmd")),
        _cell("pae", _paenet("mmd", aal=False)),
        _cell("aal", _paenet("mmd", pae=False)),
        _cell("pae+aal", _paenet("mmd")),
    ), description=table3.__doc__)


@GRID_REGISTRY.register()
def table6():
    """Table 6: PAE+AAL plugged into the AGW (WRT + non-local), HCT and MMD baselines."""
    cells = []
    for name in ("agw", "hct", "mmd"):
        cells += [_cell(name, _baseline(name)), _cell(f"{name}+pae+aal", _paenet(name))]
    return Grid("table6", tuple(cells), description=table6.__doc__)


@GRID_REGISTRY.register()
def attributes():
    """Where does the attribute gain come from, and what do the recipe's choices do? The MMD baseline, the
    baseline with the attribute loss alone, PAENet tested with gt, pred and none (one training each seed),
    PAENet with the old plain-FC predictor (``MODEL.HEADS.ATTR_PRED.NORM none``), trained on gt as in the
    paper (``MODEL.PAE.TRAIN_ATTRIBUTES gt``), and with BN before the W1 / W2 sigmoids (released code)."""
    sources = {None: ("gt", "pred", "none"), "pred-none": ("pred", "none"), "train-gt": ("gt", "pred"),
               "sigmoid-bn": ("pred",)}
    return Grid("attributes", (
        _cell("baseline", _baseline("mmd")),
        _cell("baseline+attr-loss", _baseline("mmd", attr_loss=True)),
        *(_cell(f"pae+aal{'+' + variant if variant else ''}/{source}",
                _paenet("mmd", attributes=source, variant=variant))
          for variant, names in sources.items() for source in names),
    ), description=attributes.__doc__)


@GRID_REGISTRY.register()
def budget():
    """Table 3's baseline and PAE+AAL at twice the budget (12 epochs, the rate dropped for the last two)."""
    longer = ("SOLVER.MAX_EPOCH", "12", "SOLVER.STEPS", "[9]", "TEST.EVAL_PERIOD", "12")
    cells = []
    for config, (run, kwargs) in (("baseline", _baseline("mmd")), ("pae+aal", _paenet("mmd"))):
        cells.append(Cell(config, run + "-12ep", **{**kwargs, "opts": (*kwargs["opts"], *longer)}))
    return Grid("budget", tuple(cells), description=budget.__doc__)
