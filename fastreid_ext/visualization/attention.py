"""Attention maps over the images: a jet colour map, blended with the image it was computed on."""
import inspect
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .layout import add_title, title_height, wrap_title

__all__ = ["attention_maps", "overlay_heatmap", "plot_attention"]


@torch.no_grad()
def attention_maps(model: torch.nn.Module, batch: dict) -> dict[str, np.ndarray]:
    """The spatial maps the head of ``model`` (eval mode) exposes with ``return_maps=True``.

    Args:
        model: a ``CrossModalityBaseline``; batch: a test batch dict.
    Returns:
        dict name -> (B, h, w) float32 numpy (the head's ``MAP_TITLES`` label them); empty when the head
        has no maps to give.
    """
    if "return_maps" not in inspect.signature(model.heads.forward).parameters:
        return {}
    batch = {k: v.to(model.device) if torch.is_tensor(v) else v for k, v in batch.items()}
    feat_map = model.extract(model.preprocess_image(batch), batch)
    maps = model.heads(feat_map, batch, return_maps=True)["maps"]
    return {name: value.reshape(value.shape[0], *value.shape[-2:]).float().cpu().numpy()
            for name, value in maps.items()}


def overlay_heatmap(image: np.ndarray, heat: ArrayLike, alpha: float = 0.5) -> np.ndarray:
    """Blend a jet-coloured ``heat`` over ``image``.

    Args:
        image: (H, W, 3) uint8 RGB; heat: (h, w) float, min-max normalised here (a constant map is all
            blue), then resized bilinearly to (H, W).
    Returns:
        (H, W, 3) uint8 RGB: ``(1 - alpha) * image + alpha * jet(heat)``.
    """
    heat = np.asarray(heat, dtype=np.float32)
    span = float(heat.max() - heat.min())
    heat = (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)
    heat = cv2.resize(heat, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    colored = cv2.applyColorMap(np.uint8(np.round(255 * np.clip(heat, 0, 1))), cv2.COLORMAP_JET)
    colored = cv2.cvtColor(colored, cv2.COLOR_BGR2RGB)
    blended = (1 - alpha) * image.astype(np.float32) + alpha * colored.astype(np.float32)
    return np.uint8(np.clip(np.round(blended), 0, 255))


def plot_attention(out_path: str, images: np.ndarray, maps: dict[str, np.ndarray], captions: Sequence[str],
                   map_titles: dict[str, str], title: str = "") -> None:
    """Write a PNG with one column per image: the image, then each map overlaid on it.

    Args:
        images: (N, H, W, 3) uint8 RGB; maps: dict name -> (N, h, w) float; captions: N strings;
        map_titles: dict name -> row label.
    """
    n, h, w = images.shape[:3]
    rows = [None] + list(maps)
    cell_w, label_w = 0.95, 0.3
    cell_h = cell_w * h / w
    fig_w = label_w + cell_w * n + 0.1
    title_lines = wrap_title(title, fig_w)
    fig_h = title_height(title_lines) + 0.25 + (cell_h + 0.1) * len(rows)
    fig = Figure(figsize=(fig_w, fig_h), dpi=110)
    for r, name in enumerate(rows):
        bottom = fig_h - title_height(title_lines) - 0.25 - (r + 1) * (cell_h + 0.1)
        for i in range(n):
            box = [label_w + i * cell_w, bottom, cell_w - 0.05, cell_h]
            ax = fig.add_axes([box[0] / fig_w, box[1] / fig_h, box[2] / fig_w, box[3] / fig_h])
            ax.imshow(images[i] if name is None else overlay_heatmap(images[i], maps[name][i]))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(captions[i], fontsize=6.5, pad=2)
            if i == 0:
                ax.set_ylabel("image" if name is None else map_titles.get(name, name), fontsize=7)
    add_title(fig, title_lines)
    fig.savefig(out_path)
