"""``CM_LOSS_REGISTRY`` and ``build_losses``: the losses of a model, chosen by ``MODEL.LOSSES.NAME``."""
from fastreid.config import CfgNode
from fastreid.utils.registry import Registry
from torch import nn

CM_LOSS_REGISTRY = Registry("CM_LOSS")
CM_LOSS_REGISTRY.__doc__ = """
A registered loss is an ``nn.Module`` class, ``@configurable`` (its ``from_config`` reads
``MODEL.LOSSES.<KEY>.*``, ``SCALE`` included), with a class attribute ``loss_name`` (its entry in
the loss dict) and ``forward(outputs, batch) -> Tensor`` returning the scalar already multiplied by
its scale. ``outputs`` is the head's training dict, ``batch`` the batch dict on the model's device.
"""


def build_losses(cfg: CfgNode) -> list[nn.Module]:
    """Return one loss module per name in ``cfg.MODEL.LOSSES.NAME``, in that order."""
    losses = []
    for name in cfg.MODEL.LOSSES.NAME:
        try:
            loss_cls = CM_LOSS_REGISTRY.get(name)
        except KeyError:
            raise KeyError(f"MODEL.LOSSES.NAME: no loss named {name!r} in CM_LOSS_REGISTRY; "
                           f"registered: {sorted(CM_LOSS_REGISTRY._obj_map)}") from None
        losses.append(loss_cls(cfg))
    return losses
