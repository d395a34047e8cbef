"""The one feature extractor, shared by evaluation, retrieval and visualisation (the batch and output dicts:
:func:`extract`).
"""
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Union

import numpy as np
import torch
from fastreid.evaluation.evaluator import inference_context
from fastreid.utils import comm
from tqdm import tqdm

logger = logging.getLogger(__name__)

__all__ = ["extract", "OutputCollector", "concat_results"]

# Batch fields copied into the result, as (batch key, result key).
_BATCH_FIELDS = (("targets", "pids"), ("camids", "camids"), ("modalities", "modalities"))
# Model outputs averaged over an image and its horizontal flip.
_FLIP_AVERAGED = ("features", "attr_probs")


def _numpy(value):
    return value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)


def _as_dict(outputs):
    if torch.is_tensor(outputs):
        return {"features": outputs}
    if not isinstance(outputs, dict) or "features" not in outputs:
        found = f"a dict with keys {sorted(outputs)}" if isinstance(outputs, dict) else type(outputs).__name__
        raise TypeError(f"the model must return a dict with 'features' (B, D) and optionally 'attr_probs' "
                        f"(B, A); got {found}")
    return outputs


def concat_results(parts: Sequence[dict]) -> dict:
    """Concatenate result dicts (e.g. one per batch or per process) key by key; ``img_paths`` stay a list."""
    if not parts:
        raise ValueError("nothing was extracted: the data loader yielded no batch")
    keys = set(parts[0])
    for part in parts[1:]:
        if set(part) != keys:
            raise ValueError(f"batches disagree on their fields: {sorted(keys)} vs {sorted(part)} "
                             f"(e.g. 'attr_probs' or 'attributes' present in some batches only)")
    result = {key: np.concatenate([part[key] for part in parts]) for key in keys if key != "img_paths"}
    result["img_paths"] = [path for part in parts for path in part["img_paths"]]
    return result


class OutputCollector:
    """Accumulates (batch, model outputs) pairs into the arrays of :func:`extract`."""

    def __init__(self) -> None:
        self._parts = []

    def add(self, inputs: dict, outputs: Union[dict, torch.Tensor]) -> None:
        outputs = _as_dict(outputs)
        part = {"features": _numpy(outputs["features"]).astype(np.float32)}
        if "attr_probs" in outputs:
            part["attr_probs"] = _numpy(outputs["attr_probs"]).astype(np.float32)
        missing = [key for key, _ in _BATCH_FIELDS if key not in inputs] + (
            [] if "img_paths" in inputs else ["img_paths"])
        if missing:
            raise KeyError(f"the batch lacks {missing}; test batches carry images, targets, camids, "
                           f"modalities and img_paths")
        for batch_key, key in _BATCH_FIELDS:
            part[key] = _numpy(inputs[batch_key]).astype(np.int64).reshape(-1)
        part["img_paths"] = list(inputs["img_paths"])
        if "attributes" in inputs:
            part["attributes"] = _numpy(inputs["attributes"]).astype(np.float32)
        self._parts.append(part)

    def result(self) -> dict:
        return concat_results(self._parts)


def _forward(model, batch, flip):
    outputs = _as_dict(model(batch))
    if not flip:
        return outputs
    flipped = _as_dict(model(dict(batch, images=batch["images"].flip(dims=[3]))))
    return {key: (value + flipped[key]) / 2 if key in _FLIP_AVERAGED else value for key, value in outputs.items()}


@torch.no_grad()
def extract(model: torch.nn.Module, data_loader: Iterable[dict], flip: bool = False, verbose: bool = True) -> dict:
    """Run ``model`` (temporarily in eval mode) over ``data_loader``.

    The model takes a batch dict (``images`` (B, 3, H, W) 0..255, ``targets``, ``camids``, ``modalities``,
    optional ``attributes``, ``img_paths``) and returns a dict with ``features`` (B, D) and optionally
    ``attr_probs`` (B, A); a bare (B, D) tensor is read as ``{"features": tensor}``.

    Args:
        flip: average the outputs of each image and of its horizontal flip (``TEST.FLIP.ENABLED``);
            models do not flip by themselves.
        verbose: show a progress bar and log the time taken (off for a server's one-image requests).
    Returns:
        dict of numpy arrays: ``features`` (N, D) float32, ``attr_probs`` (N, A) float32 when the model
        outputs them, ``pids``, ``camids``, ``modalities`` (N,) int64, ``attributes`` (N, A) float32 when
        the batches carry them, and ``img_paths`` (list of N str), in loader order.
    """
    collector = OutputCollector()
    start = time.perf_counter()
    with inference_context(model):
        for batch in tqdm(data_loader, desc="Extracting features", unit="batch",
                          disable=not (verbose and comm.is_main_process())):
            collector.add(batch, _forward(model, batch, flip))
    result = collector.result()
    if verbose:
        logger.info("Extracted %d features of dimension %d in %.1f s%s", *result["features"].shape,
                    time.perf_counter() - start, " (with flipped images)" if flip else "")
    return result
