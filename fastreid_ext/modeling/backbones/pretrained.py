"""ImageNet ResNet weights for ``MODEL.BACKBONE.PRETRAIN`` without a path: hub cache or torchvision."""
import glob
import logging
import os

import torch
from torchvision import models

logger = logging.getLogger(__name__)

# MODEL.BACKBONE.DEPTH -> torchvision's ImageNet weights (the files FastReID's ResNets load).
TORCHVISION_WEIGHTS = {
    "18x": models.ResNet18_Weights.IMAGENET1K_V1,
    "34x": models.ResNet34_Weights.IMAGENET1K_V1,
    "50x": models.ResNet50_Weights.IMAGENET1K_V1,
    "101x": models.ResNet101_Weights.IMAGENET1K_V1,
}


def _download(weights) -> None:
    """Fetch ``weights`` into torch's hub cache (torchvision's weights API)."""
    weights.get_state_dict(progress=False, check_hash=True)


def hub_checkpoint(depth: str) -> str:
    """The path of torchvision's ImageNet ResNet-``depth`` file in ``$TORCH_HOME/hub/checkpoints``.

    A file already there named ``resnet<depth>-*.pth`` is used (torchvision's own name first); else
    torchvision downloads it there. Where that fails (no network), the error names the file to
    place, the directory and the URL.
    """
    if depth not in TORCHVISION_WEIGHTS:
        raise ValueError(f"MODEL.BACKBONE.PRETRAIN True without PRETRAIN_PATH: no torchvision ImageNet "
                         f"weights for MODEL.BACKBONE.DEPTH {depth!r} (have {sorted(TORCHVISION_WEIGHTS)}); "
                         "set MODEL.BACKBONE.PRETRAIN_PATH")
    weights = TORCHVISION_WEIGHTS[depth]
    directory = os.path.join(torch.hub.get_dir(), "checkpoints")
    name = os.path.basename(weights.url)
    wanted = os.path.join(directory, name)
    found = sorted(glob.glob(os.path.join(directory, f"resnet{depth[:-1]}-*.pth")))
    if os.path.isfile(wanted) or found:
        path = wanted if os.path.isfile(wanted) else found[0]
        logger.info("ImageNet weights from torch's hub cache: %s", path)
        return path
    try:
        _download(weights)
    except Exception as e:  # urllib, ssl and socket errors alike
        raise FileNotFoundError(
            f"MODEL.BACKBONE.PRETRAIN True without PRETRAIN_PATH: {name} is not in torch's hub cache and "
            f"could not be downloaded ({type(e).__name__}: {e}). Place {weights.url} at {wanted} "
            "(the directory follows $TORCH_HOME), or set MODEL.BACKBONE.PRETRAIN_PATH") from None
    return wanted
