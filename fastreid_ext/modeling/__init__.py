"""Backbones, heads, meta-architectures and losses, registered in FastReID's registries on import."""
from . import backbones, heads, losses, meta_arch
from .losses import CM_LOSS_REGISTRY, build_losses

__all__ = ["CM_LOSS_REGISTRY", "backbones", "build_losses", "heads", "losses", "meta_arch"]
