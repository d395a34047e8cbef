"""Ablation grids: named sets of configurations trained for the same budget over several seeds."""
from .grid import GRID_REGISTRY, Cell, Grid
from .runner import run_grid, summarise

__all__ = ["Cell", "GRID_REGISTRY", "Grid", "run_grid", "summarise"]
