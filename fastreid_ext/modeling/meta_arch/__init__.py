from .cross_modality_baseline import CrossModalityBaseline

__all__ = ["CrossModalityBaseline"]
