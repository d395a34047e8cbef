"""Channel augmentations of visible images used in VI-ReID (cf. channel exchange, Ye et al., ICCV 2021), on
``(3, H, W)`` float tensors (0..255, after FastReID's ``ToTensor``), drawing from torch's RNG.
"""
import torch


class RandomChannelExchange:
    """With probability ``prob``, copy one channel chosen uniformly (R, G or B) into all three.

    img: (3, H, W) float -> (3, H, W) float.
    """

    def __init__(self, prob: float = 0.5):
        self.prob = prob

    def __call__(self, img):
        if torch.rand(()).item() >= self.prob:
            return img
        channel = int(torch.randint(3, ()))
        return img[channel:channel + 1].expand_as(img).clone()

    def __repr__(self):
        return f"{self.__class__.__name__}(prob={self.prob})"
