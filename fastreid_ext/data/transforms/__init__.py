from .build import CrossModalityTransform, build_cm_transforms
from .channel import RandomChannelExchange

__all__ = ["CrossModalityTransform", "RandomChannelExchange", "build_cm_transforms"]
