"""``build_cm_transforms``: FastReID's pipeline, with modality-aware channel augmentation."""
from typing import Callable, Optional

import torchvision.transforms as T
from fastreid.config import CfgNode
from fastreid.data.transforms import ToTensor, build_transforms

from ..datasets.bases import VISIBLE
from .channel import RandomChannelExchange


class CrossModalityTransform:
    """``transform(img, modality) -> (3, H, W) float tensor, values 0..255`` (the model normalises).

    ``common`` (PIL -> tensor) and ``post`` (tensor -> tensor, e.g. random erasing) apply to every
    image; ``visible`` (tensor -> tensor) only to visible ones, between the two.
    """

    def __init__(self, common: Callable, visible: Optional[Callable] = None, post: Optional[Callable] = None):
        self.common = common
        self.visible = visible
        self.post = post

    def __call__(self, img, modality):
        img = self.common(img)
        if self.visible is not None and modality == VISIBLE:
            img = self.visible(img)
        return img if self.post is None else self.post(img)

    def __repr__(self):
        return f"{self.__class__.__name__}(common={self.common}, visible={self.visible}, post={self.post})"


def build_cm_transforms(cfg: CfgNode, is_train: bool = True) -> CrossModalityTransform:
    """FastReID's ``build_transforms`` (all its ``INPUT.*`` keys) split at ``ToTensor``, with
    ``INPUT.CHANNEL_AUG`` applied to visible training images after ``ToTensor``."""
    steps = build_transforms(cfg, is_train=is_train).transforms
    cut = next(i for i, step in enumerate(steps) if isinstance(step, ToTensor)) + 1
    visible = []
    aug = cfg.INPUT.CHANNEL_AUG
    if is_train and aug.ENABLED:
        if aug.EXCHANGE_PROB > 0:
            visible.append(RandomChannelExchange(aug.EXCHANGE_PROB))
        if aug.GRAY_PROB > 0:
            visible.append(T.RandomGrayscale(aug.GRAY_PROB))
    return CrossModalityTransform(T.Compose(steps[:cut]), T.Compose(visible) if visible else None,
                                  T.Compose(steps[cut:]) if steps[cut:] else None)
