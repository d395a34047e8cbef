from .dual_stream_resnet import DualStreamResNet, ResNetStages, build_dual_stream_resnet_backbone

__all__ = ["DualStreamResNet", "ResNetStages", "build_dual_stream_resnet_backbone"]
