"""Figures of a trained model: rank lists, t-SNE, attention maps and attribute recognition (PNG files).

One module per figure kind, each a set of pure functions of arrays and paths; :mod:`.visualizer` feeds
them from a trained model and a test split.
"""
from .attention import attention_maps, overlay_heatmap, plot_attention
from .attributes import attribute_accuracy, attribute_table, plot_attribute_accuracy
from .rank_list import draw_rank_lists, frame, rank_lists
from .tsne import plot_tsne, tsne_points
from .visualizer import FIGURES, FigureOptions, SplitFeatures, default_setting, load_split_features, visualize
