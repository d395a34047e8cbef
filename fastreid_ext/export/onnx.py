"""The inference model as ONNX: ``(images, modalities[, attributes]) -> features[, attr_probs]``, one graph
with a dynamic batch axis for any batch, mixed modalities included.
"""
import inspect
import logging
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..modeling.backbones.dual_stream_resnet import DualStreamResNet

logger = logging.getLogger(__name__)

__all__ = ["ExportableModel", "export_onnx", "onnx_inputs", "run_onnx", "reference_outputs", "check_modalities"]

BATCH_AXIS = "batch"


def _bad_modalities(modalities):
    """The values of ``modalities`` other than 0 (visible) and 1 (infrared), sorted."""
    values = np.unique(np.asarray(modalities.cpu() if torch.is_tensor(modalities) else modalities))
    return [v.item() for v in values if v not in (0, 1)]


def check_modalities(modalities: Union[torch.Tensor, np.ndarray, Sequence[int]]) -> None:
    """Raise ``ValueError`` naming the values of ``modalities`` (B,) that are neither 0 nor 1."""
    bad = _bad_modalities(modalities)
    if bad:
        raise ValueError(f"modalities must be 0 (visible) or 1 (infrared), got {bad}: the graph has no "
                         "stem for another modality")


def checked_modalities(modalities: torch.Tensor) -> torch.Tensor:
    """``modalities`` (B,) int64, refusing values other than 0 and 1 in PyTorch and in the exported graph.

    In the graph the modalities index a 2-entry table (a Gather), once as ``m`` and once as ``1 - m``:
    both are in range only for m in {0, 1} (Gather also takes -1 and -2, which the second index rules
    out), so ONNX Runtime fails on another value instead of routing the image as a visible one.
    """
    if not torch.jit.is_tracing():
        check_modalities(modalities)
    table = torch.arange(2, dtype=torch.int64, device=modalities.device)
    return table[torch.stack([modalities, 1 - modalities])][0]


class ExportableModel(nn.Module):
    """A ``CrossModalityBaseline`` in eval mode as ``forward(images, modalities[, attributes])``.

    The dual-stream backbone routes each image by its modality with data-dependent indexing
    (``nonzero``/``index_select`` and a Python branch on the count), which tracing would freeze to the
    batch it saw; this wrapper instead runs both modality-specific stages on every image and keeps each
    image's own result with ``torch.where`` (the same numbers; the extra cost is one stem, or more stages
    with a later ``MODEL.BACKBONE.SHARED_FROM``).

    Args:
        model: the trained ``CrossModalityBaseline`` (its modules are shared, not copied).
        attr_probs: also return the predicted attribute probabilities (when the head predicts them).
        flip: average the outputs of each image and of its horizontal flip, as the evaluator's extractor
            does with ``TEST.FLIP.ENABLED``.
        normalize: L2-normalise the features, as the cosine metric of the evaluator and of the gallery
            index does (``TEST.METRIC cosine``, the default). The raw BNNeck features amplify float
            rounding through channels of small running variance; the unit features are the ones
            retrieval compares.
    Inputs: ``images`` (B, 3, H, W) float 0..255; ``modalities`` (B,) int64, 0 visible / 1 infrared;
    ``attributes`` (B, A) float, only when :attr:`needs_attributes` (the head reads ground-truth
    attributes at test time, ``MODEL.PAE.TEST_ATTRIBUTES gt``).
    Outputs: ``features`` (B, D), then ``attr_probs`` (B, A) if requested.
    """

    def __init__(self, model: nn.Module, attr_probs: bool = True, flip: bool = False, normalize: bool = True) -> None:
        super().__init__()
        routed = "modalities" in inspect.signature(model.backbone.forward).parameters
        if routed and not isinstance(model.backbone, DualStreamResNet):
            raise TypeError(f"no export-friendly routing for the backbone {type(model.backbone).__name__}: "
                            "fastreid_ext.export.onnx knows DualStreamResNet only")
        self.model = model.eval()
        self.needs_attributes = getattr(model.heads, "test_attributes", None) == "gt"
        self.attr_probs = attr_probs and getattr(model.heads, "attr_predictor", None) is not None
        self.flip = flip
        self.normalize = normalize

    @property
    def input_names(self) -> list[str]:
        return ["images", "modalities"] + (["attributes"] if self.needs_attributes else [])

    @property
    def output_names(self) -> list[str]:
        return ["features"] + (["attr_probs"] if self.attr_probs else [])

    def _feature_map(self, images, modalities):
        """Normalised images (B, 3, H, W) -> (B, C, h, w), routed by modality without indexing."""
        backbone = self.model.backbone
        if not isinstance(backbone, DualStreamResNet):
            return backbone(images)
        infrared = (modalities == 1).view(-1, 1, 1, 1)
        return backbone.shared(torch.where(infrared, backbone.infrared(images), backbone.visible(images)))

    def _head(self, images, batch):
        outputs = self.model.heads(self._feature_map(images, batch["modalities"]), batch)
        return [outputs["features"]] + ([outputs["attr_probs"]] if self.attr_probs else [])

    def forward(self, images: torch.Tensor, modalities: torch.Tensor,
                attributes: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, ...]:
        batch = {"modalities": checked_modalities(modalities)}
        if self.needs_attributes:
            batch["attributes"] = attributes
        images = self.model.preprocess_image({"images": images})
        outputs = self._head(images, batch)
        if self.flip:
            outputs = [(a + b) / 2 for a, b in zip(outputs, self._head(images.flip(3), batch))]
        if self.normalize:
            outputs[0] = F.normalize(outputs[0], dim=1)
        return tuple(outputs)


def onnx_inputs(wrapper: ExportableModel, batch_size: int, image_size: Sequence[int], num_attributes: int = 0,
                modalities: Optional[Sequence[int]] = None, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Example inputs of ``wrapper``: random 0..255 images of ``image_size`` (H, W), the given
    ``modalities`` (default: alternating 0, 1) and, when it reads them, ``num_attributes`` random 0/1
    attributes."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(batch_size, 3, *image_size, generator=generator) * 255
    if modalities is None:
        modalities = torch.arange(batch_size) % 2
    check_modalities(modalities)
    inputs = [images, torch.as_tensor(modalities, dtype=torch.int64)]
    if wrapper.needs_attributes:
        if num_attributes <= 0:
            raise ValueError("the head reads ground-truth attributes (MODEL.PAE.TEST_ATTRIBUTES gt): give "
                             f"their number (MODEL.HEADS.NUM_ATTRIBUTES), got {num_attributes}")
        inputs.append(torch.randint(0, 2, (batch_size, num_attributes), generator=generator).float())
    return tuple(inputs)


def export_onnx(model: nn.Module, path: str, image_size: Sequence[int], num_attributes: int = 0,
                attr_probs: bool = True, flip: bool = False, opset: int = 17,
                normalize: bool = True) -> ExportableModel:
    """Write the inference graph of ``model`` (a ``CrossModalityBaseline``) to ``path``.

    Args:
        image_size: (H, W) of the inputs (``INPUT.SIZE_TEST``); the batch axis is dynamic.
        num_attributes: A of the ``attributes`` input (``MODEL.HEADS.NUM_ATTRIBUTES``), needed when the
            head reads ground-truth attributes.
        attr_probs, flip, normalize: as :class:`ExportableModel`.
    Returns:
        the :class:`ExportableModel` that was exported (for checks against the ONNX graph).
    """
    wrapper = ExportableModel(model, attr_probs, flip, normalize).eval()
    axes = {name: {0: BATCH_AXIS} for name in wrapper.input_names + wrapper.output_names}
    with torch.no_grad():
        # The TorchScript-based exporter: the torch.export-based one needs the onnxscript package.
        torch.onnx.export(wrapper, onnx_inputs(wrapper, 2, image_size, num_attributes), path,
                          input_names=wrapper.input_names, output_names=wrapper.output_names, dynamic_axes=axes,
                          opset_version=opset, dynamo=False)
    logger.info("Exported %s -> %s to %s", wrapper.input_names, wrapper.output_names, path)
    return wrapper


def run_onnx(path: str, inputs: Sequence, names: Sequence[str]) -> list[np.ndarray]:
    """Run the ONNX graph at ``path`` with onnxruntime (CPU) on ``inputs`` (tensors, in the order of
    ``names``); returns its outputs as numpy arrays."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = {name: np.asarray(value.cpu().numpy() if torch.is_tensor(value) else value)
            for name, value in zip(names, inputs)}
    if "modalities" in feed:
        check_modalities(feed["modalities"])
    return session.run(None, feed)


@torch.no_grad()
def reference_outputs(wrapper: ExportableModel, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """The outputs of the wrapped PyTorch model itself (its own modality routing) on ``inputs`` (in the
    order of ``wrapper.input_names``), averaged with the flipped images' when ``wrapper.flip``, as
    numpy arrays in the order of ``wrapper.output_names``."""
    batch = dict(zip(wrapper.input_names, inputs))
    outputs = [wrapper.model(batch)]
    if wrapper.flip:
        outputs.append(wrapper.model(dict(batch, images=batch["images"].flip(3))))
    results = [np.mean([out[name].cpu().numpy() for out in outputs], axis=0) for name in wrapper.output_names]
    if wrapper.normalize:
        results[0] = results[0] / np.linalg.norm(results[0], axis=1, keepdims=True)
    return results
