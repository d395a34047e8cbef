"""Figures of a trained model: rank lists, t-SNE, attention maps and attribute recognition (PNG files); one
module per figure kind, pure functions of arrays and paths, fed by :mod:`.visualizer`.
"""
from .attention import attention_maps, overlay_heatmap, plot_attention
from .attributes import attribute_accuracy, attribute_table, plot_attribute_accuracy
from .rank_list import draw_rank_lists, frame, rank_lists
from .tsne import plot_tsne, tsne_points
from .visualizer import FIGURES, FigureOptions, SplitFeatures, default_setting, load_split_features, visualize

__all__ = ["FIGURES", "FigureOptions", "SplitFeatures", "attention_maps", "attribute_accuracy", "attribute_table",
           "default_setting", "draw_rank_lists", "frame", "load_split_features", "overlay_heatmap", "plot_attention",
           "plot_attribute_accuracy", "plot_tsne", "rank_lists", "tsne_points", "visualize"]
