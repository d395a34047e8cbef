"""Dual-stream ResNet (Eq. 1 of PAENet): ``F = conv_s(conv_v(I))`` for a visible image, ``conv_s(conv_t(I))``
for an infrared one; FastReID's ResNet stages, the first shared one named by ``MODEL.BACKBONE.SHARED_FROM``.
"""
import logging
from collections.abc import Sequence
from typing import Callable

import torch
from fastreid.config import CfgNode
from fastreid.layers import Non_local
from fastreid.modeling.backbones import BACKBONE_REGISTRY
from fastreid.modeling.backbones.resnet import build_resnet_backbone
from torch import nn

from ...compat import set_nonlocal_width
from .pretrained import hub_checkpoint

logger = logging.getLogger(__name__)

__all__ = ["STAGES", "ResNetStages", "DualStreamResNet", "build_dual_stream_resnet_backbone"]

STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")
_STEM_MODULES = ("conv1", "bn1", "relu", "maxpool")


def _stage_of(key):
    """The stage a ResNet state-dict key belongs to (``conv1.weight`` -> stem), or None."""
    head = key.split(".", 1)[0]
    if head in _STEM_MODULES:
        return "stem"
    if head.startswith("NL_"):  # FastReID's non-local blocks of layer k are NL_k
        head = "layer" + head[3:]
    return head if head in STAGES else None


class ResNetStages(nn.Module):
    """A run of consecutive stages of a FastReID ``ResNet``, keeping its parameter names.

    Args:
        resnet: a ``fastreid.modeling.backbones.resnet.ResNet``; its modules are taken, not copied.
        stages: consecutive names from :data:`STAGES`.
    """

    def __init__(self, resnet: nn.Module, stages: Sequence[str]) -> None:
        super().__init__()
        self.stages = tuple(stages)
        for stage in self.stages:
            if stage == "stem":
                for name in _STEM_MODULES:
                    setattr(self, name, getattr(resnet, name))
                continue
            k = stage[-1]
            setattr(self, stage, getattr(resnet, stage))
            if hasattr(resnet, f"NL_{k}"):
                setattr(self, f"NL_{k}", getattr(resnet, f"NL_{k}"))
            setattr(self, f"NL_{k}_idx", list(getattr(resnet, f"NL_{k}_idx")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) -> (B, C_out, h, w) after the stages, in order."""
        for stage in self.stages:
            if stage == "stem":
                x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
                continue
            k = stage[-1]
            nl_idx = getattr(self, f"NL_{k}_idx")
            for i, block in enumerate(getattr(self, stage)):
                x = block(x)
                if i in nl_idx:  # a non-local block follows the i-th residual block (AGW)
                    x = getattr(self, f"NL_{k}")[nl_idx.index(i)](x)
        return x


class DualStreamResNet(nn.Module):
    """A visible and an infrared stream up to ``shared_from``, then one shared trunk.

    Args:
        make_resnet: () -> FastReID ``ResNet``; called three times (visible, infrared, shared),
            each part keeping only its stages.
        shared_from: the first shared stage, one of layer1..layer4. "layer1" (PAENet §4.2): only
            the stem is modality-specific; "layer3": stem to layer2 are (MMD-ReID's share_net=3).
    """

    def __init__(self, make_resnet: Callable[[], nn.Module], shared_from: str = "layer1") -> None:
        super().__init__()
        if shared_from not in STAGES[1:]:
            raise ValueError(f"MODEL.BACKBONE.SHARED_FROM must be one of {STAGES[1:]}, got {shared_from!r}")
        k = STAGES.index(shared_from)
        self.visible = ResNetStages(make_resnet(), STAGES[:k])
        self.infrared = ResNetStages(make_resnet(), STAGES[:k])
        self.shared = ResNetStages(make_resnet(), STAGES[k:])

    def forward(self, x: torch.Tensor, modalities: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: (B, 3, H, W) float, normalised images.
            modalities: (B,) long, 0 visible / 1 infrared: the stream each image goes through.
        Returns:
            (B, C, h, w) float feature maps, in the order of ``x``.
        """
        if modalities.shape != x.shape[:1]:
            raise ValueError(f"modalities must have shape ({x.shape[0]},), got {tuple(modalities.shape)}")
        outputs, indices = [], []
        for modality, stream in enumerate((self.visible, self.infrared)):
            idx = torch.nonzero(modalities == modality, as_tuple=True)[0]
            if len(idx):
                outputs.append(stream(x.index_select(0, idx)))
                indices.append(idx)
        order = torch.cat(indices) if indices else modalities.new_empty(0)
        if len(order) != len(modalities):
            raise ValueError(f"modalities must be 0 (visible) or 1 (infrared), got values "
                             f"{sorted(set(modalities.tolist()))}")
        # Row j of the concatenation is image order[j]: argsort(order) puts them back in batch order.
        return self.shared(torch.cat(outputs).index_select(0, torch.argsort(order)))

    def load_pretrained(self, path: str) -> None:
        """Load single-stream ResNet weights into both streams and the shared trunk, strictly.

        Args:
            path: a ``torch.save``-d state dict in torchvision's (``resnet50-*.pth``) or FastReID's
                ResNet key format, or a FastReID checkpoint (``{"model": ...}``), whose
                ``backbone.*`` entries are used. Ignored by design: torchvision's classifier
                (``fc.*``), the other modules of a checkpoint and, when the file has no non-local
                weights at all, the missing ``NL_*`` blocks (new, identity at start, as in AGW).
        Raises:
            FileNotFoundError: naming the path.
            KeyError: listing the keys missing from the file and the unexpected ones.
        """
        try:
            state_dict = _resnet_state_dict(torch.load(path, map_location="cpu"))
        except FileNotFoundError:
            raise FileNotFoundError(f"MODEL.BACKBONE.PRETRAIN_PATH: no file {path}") from None
        missing, unexpected = set(), {k for k in state_dict if _stage_of(k) is None and not k.startswith("fc.")}
        for part in (self.visible, self.infrared, self.shared):
            subset = {k: v for k, v in state_dict.items() if _stage_of(k) in part.stages}
            try:
                result = part.load_state_dict(subset, strict=False)
            except RuntimeError as e:
                raise RuntimeError(f"{path} (MODEL.BACKBONE.PRETRAIN_PATH): {e}") from None
            missing.update(result.missing_keys)
            unexpected.update(result.unexpected_keys)
        if not any(k.startswith("NL_") for k in state_dict):
            missing = {k for k in missing if not k.startswith("NL_")}
        if missing or unexpected:
            raise KeyError(f"{path} (MODEL.BACKBONE.PRETRAIN_PATH) does not fit the backbone: "
                           f"missing keys {sorted(missing)}; unexpected keys {sorted(unexpected)}")
        logger.info("Loaded pretrained weights from %s into both streams and the shared stages", path)


def _resnet_state_dict(obj):
    """The ResNet state dict of a loaded file: plain state dict or FastReID checkpoint."""
    if "model" in obj and isinstance(obj["model"], dict):
        prefix = "backbone."
        return {k[len(prefix):]: v for k, v in obj["model"].items() if k.startswith(prefix)}
    return obj


@BACKBONE_REGISTRY.register()
def build_dual_stream_resnet_backbone(cfg: CfgNode) -> DualStreamResNet:
    """Build a :class:`DualStreamResNet` from ``MODEL.BACKBONE.*`` (FastReID's ResNet keys + SHARED_FROM).

    Each part is built by FastReID's ``build_resnet_backbone`` without its pretraining (which
    downloads through gdown); the weights come from ``MODEL.BACKBONE.PRETRAIN_PATH`` or, when it is
    empty, torchvision's ImageNet file in torch's hub cache, IBN-Net's with ``WITH_IBN`` (see
    :func:`hub_checkpoint`).
    """
    bb = cfg.MODEL.BACKBONE
    single = cfg.clone()
    single.defrost()
    single.MODEL.BACKBONE.PRETRAIN = False
    model = DualStreamResNet(lambda: build_resnet_backbone(single), bb.SHARED_FROM)
    if bb.NL_INTER_CHANNELS > 0:
        for block in model.modules():
            if isinstance(block, Non_local):
                set_nonlocal_width(block, bb.NL_INTER_CHANNELS)
    if bb.PRETRAIN:
        model.load_pretrained(bb.PRETRAIN_PATH or hub_checkpoint(bb.DEPTH, bb.WITH_IBN))
    return model
