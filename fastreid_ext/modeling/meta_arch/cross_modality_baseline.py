"""``CrossModalityBaseline``: backbone + head + a list of registered losses (Eq. 1-2 of PAENet), each chosen in
YAML (``MODEL.BACKBONE.NAME``, ``MODEL.HEADS.NAME``, ``MODEL.LOSSES.NAME``).
"""
import inspect
from collections.abc import Sequence

import torch
from fastreid.config import CfgNode, configurable
from fastreid.modeling.backbones import build_backbone
from fastreid.modeling.heads import build_heads
from fastreid.modeling.losses import log_accuracy
from fastreid.modeling.meta_arch import META_ARCH_REGISTRY
from torch import nn

from ..losses import build_losses

__all__ = ["CrossModalityBaseline"]


@META_ARCH_REGISTRY.register()
class CrossModalityBaseline(nn.Module):
    """A visible-infrared ReID model.

    Input: the batch dict of the data loaders, ``images`` (B, 3, H, W) float 0..255, ``targets``
    (B,) long, ``camids`` (B,) long, ``modalities`` (B,) long 0 visible / 1 infrared, ``attributes``
    (B, A) float when the dataset has them, ``img_paths``; tensors are moved to the model's device.
    Training returns the loss dict, one entry per loss (``loss_cls``, ``loss_mmd``, ...). Evaluation
    returns the head's dict: ``features`` (B, D) and, when the head predicts attributes,
    ``attr_probs`` (B, A).

    Args:
        backbone: module mapping normalised images (B, 3, H, W) to feature maps (B, C, h, w); it
            is also given ``modalities`` when its ``forward`` has a ``modalities`` argument.
        heads: module ``(feat_map, batch) -> dict`` following the head contract.
        losses: loss modules ``(outputs, batch) -> Tensor`` with distinct ``loss_name``.
        pixel_mean, pixel_std: per-channel normalisation on the 0..255 scale.
    """

    @configurable
    def __init__(self, *, backbone: nn.Module, heads: nn.Module, losses: Sequence[nn.Module],
                 pixel_mean: Sequence[float], pixel_std: Sequence[float]) -> None:
        super().__init__()
        names = [loss.loss_name for loss in losses]
        if len(set(names)) != len(names):
            raise ValueError(f"MODEL.LOSSES.NAME gives two losses the same loss-dict entry: {names}")
        self.backbone = backbone
        self.heads = heads
        self.losses = nn.ModuleList(losses)
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean, dtype=torch.float32).view(1, -1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std, dtype=torch.float32).view(1, -1, 1, 1), False)
        self._backbone_takes_modalities = "modalities" in inspect.signature(backbone.forward).parameters

    @classmethod
    def from_config(cls, cfg: CfgNode) -> dict:
        return {
            "backbone": build_backbone(cfg),
            "heads": build_heads(cfg),
            "losses": build_losses(cfg),
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
        }

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        batch = {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in batch.items()}
        images = self.preprocess_image(batch)
        outputs = self.heads(self.extract(images, batch), batch)
        if self.training:
            return self.compute_losses(outputs, batch)
        return outputs

    def compute_losses(self, outputs: dict, batch: dict) -> dict[str, torch.Tensor]:
        """The loss dict, computed in fp32 even under autocast (AMP): the head's floating outputs are cast
        up and autocast is off, so the MMD and centre distances, their exponentials and the softmaxes
        neither overflow nor lose the small differences they measure."""
        outputs = {k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v
                   for k, v in outputs.items()}
        with torch.autocast(self.device.type, enabled=False):
            log_accuracy(outputs["pred_class_logits"], batch["targets"])
            return {loss.loss_name: loss(outputs, batch) for loss in self.losses}

    def preprocess_image(self, batch: dict) -> torch.Tensor:
        """(B, 3, H, W) 0..255 images -> normalised float images (the batch is left unchanged)."""
        return (batch["images"].float() - self.pixel_mean) / self.pixel_std

    def extract(self, images: torch.Tensor, batch: dict) -> torch.Tensor:
        """Normalised images (B, 3, H, W) -> backbone feature maps (B, C, h, w)."""
        if not self._backbone_takes_modalities:
            return self.backbone(images)
        if "modalities" not in batch:
            raise KeyError("CrossModalityBaseline: the batch has no 'modalities' (B,) tensor, which the "
                           f"backbone {type(self.backbone).__name__} needs to route each image")
        return self.backbone(images, batch["modalities"])
