"""Config keys that fastreid_ext adds to FastReID's defaults, grouped by the module that reads them.

Projects (e.g. PAENet) register their own ``add_*_config`` in :data:`CONFIG_EXTENSIONS`; ``get_cfg()``
applies them all, so one config tree serves every project.
"""
from fastreid.config import CfgNode as CN

# name -> fn(cfg) adding a project's keys; filled by the projects on import.
CONFIG_EXTENSIONS = {}


def add_cm_config(cfg):
    """Add every fastreid_ext key to ``cfg`` (in place)."""
    _add_engine_config(cfg)
    _add_data_config(cfg)
    _add_model_config(cfg)
    _add_eval_config(cfg)
    _add_retrieval_config(cfg)


def _add_engine_config(cfg):
    # "auto": CUDA when available, else CPU. Any torch device string is accepted too.
    cfg.MODEL.DEVICE = "auto"
    # Loading MODEL.WEIGHTS fails on missing/unexpected/mismatched keys; False loads what matches.
    cfg.MODEL.STRICT_LOAD = True
    # Data-loading worker processes per training/test loader.
    cfg.DATALOADER.NUM_WORKERS = 2
    # Run seed; negative draws one and records it in config.yaml. Epoch e reseeds with (SEED, e, rank).
    cfg.SEED = -1
    # torch.use_deterministic_algorithms: bit-exact repeats at some speed cost.
    cfg.DETERMINISTIC = False
    # Iterations between log lines / metrics.json / tensorboard writes.
    cfg.SOLVER.LOG_PERIOD = 20


def _add_data_config(cfg):
    pass


def _add_model_config(cfg):
    pass


def _add_eval_config(cfg):
    pass


def _add_retrieval_config(cfg):
    pass
