"""Figures of a trained model: rank lists, t-SNE, attention maps and attribute recognition (PNG files); one
module per figure kind, pure functions of arrays and paths, fed by :mod:`.visualizer`.
"""
from .attention import attention_maps, overlay_heatmap, plot_attention
from .attributes import attribute_accuracy, attribute_table, plot_attribute_accuracy
from .rank_list import draw_rank_lists, frame, rank_lists
from .tsne import plot_tsne, tsne_points
from .visualizer import FIGURES, FigureOptions, SplitFeatures, default_setting, load_split_features, visualize
