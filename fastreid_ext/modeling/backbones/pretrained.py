"""ImageNet ResNet weights for ``MODEL.BACKBONE.PRETRAIN`` without a path: hub cache or torchvision
(IBN-Net's files, FastReID's ``model_urls``, for ``WITH_IBN``)."""
import glob
import logging
import os

import torch
from fastreid.modeling.backbones.resnet import model_urls
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


def _download_url(url: str, path: str) -> None:
    """Fetch ``url`` to ``path`` (torch.hub's downloader)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.hub.download_url_to_file(url, path, progress=False)


def _not_found(name, url, wanted, error):
    return FileNotFoundError(
        f"MODEL.BACKBONE.PRETRAIN True without PRETRAIN_PATH: {name} is not in torch's hub cache and "
        f"could not be downloaded ({type(error).__name__}: {error}). Place {url} at {wanted} "
        "(the directory follows $TORCH_HOME), or set MODEL.BACKBONE.PRETRAIN_PATH")


def _ibn_hub_checkpoint(depth: str) -> str:
    """The path of IBN-Net's ImageNet ResNet-``depth``-IBN-a file (the one FastReID's ``model_urls``
    names) in ``$TORCH_HOME/hub/checkpoints``, downloaded there if missing; the error names the file,
    the directory and the URL."""
    key = f"ibn_{depth}"
    if key not in model_urls:
        have = sorted(k[len("ibn_"):] for k in model_urls if k.startswith("ibn_"))
        raise ValueError(f"MODEL.BACKBONE.PRETRAIN and WITH_IBN True without PRETRAIN_PATH: no IBN-Net ImageNet "
                         f"weights for MODEL.BACKBONE.DEPTH {depth!r} (have {have}); set MODEL.BACKBONE.PRETRAIN_PATH")
    url = model_urls[key]
    name = os.path.basename(url)
    wanted = os.path.join(torch.hub.get_dir(), "checkpoints", name)
    if not os.path.isfile(wanted):
        try:
            _download_url(url, wanted)
        except Exception as e:  # urllib, ssl and socket errors alike
            raise _not_found(name, url, wanted, e) from None
    logger.info("ImageNet IBN-a weights from torch's hub cache: %s", wanted)
    return wanted


def hub_checkpoint(depth: str, with_ibn: bool = False) -> str:
    """The path of torchvision's ImageNet ResNet-``depth`` file in ``$TORCH_HOME/hub/checkpoints``
    (with ``with_ibn``: IBN-Net's ResNet-IBN-a file, the one FastReID's ``model_urls`` names).

    A file already there named ``resnet<depth>-*.pth`` is used (torchvision's own name first); else
    torchvision downloads it there. Where that fails (no network), the error names the file to
    place, the directory and the URL.
    """
    if with_ibn:
        return _ibn_hub_checkpoint(depth)
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
        raise _not_found(name, weights.url, wanted, e) from None
    return wanted
