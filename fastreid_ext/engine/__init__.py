"""Training and evaluation entry points built on FastReID's engine."""
from .checkpoint import CMCheckpointer, IncompatibleCheckpointError
from .defaults import resolve_device, setup
from .evaluate import evaluate_checkpoint, load_trained_model
from .trainer import CMTrainer

__all__ = ["CMCheckpointer", "CMTrainer", "IncompatibleCheckpointError", "evaluate_checkpoint", "load_trained_model",
           "resolve_device", "setup"]
