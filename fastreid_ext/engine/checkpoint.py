"""Strict, atomic checkpoints on top of FastReID's :class:`Checkpointer`."""
import logging
import os

import torch
from fastreid.utils.checkpoint import Checkpointer

from ..utils import atomic_write

logger = logging.getLogger(__name__)


class IncompatibleCheckpointError(RuntimeError):
    """A checkpoint's state dict does not match the model (strict loading)."""


class CMCheckpointer(Checkpointer):
    """FastReID's checkpointer with atomic writes and strict loading.

    Args:
        strict: missing, unexpected or shape-mismatched keys raise
            :class:`IncompatibleCheckpointError` listing them (``MODEL.STRICT_LOAD``). With
            ``strict=False`` the matching keys load and every skipped key is logged.
        extra_state: a dict saved in every checkpoint (e.g. the config), returned by ``load``.
    """

    def __init__(self, model, save_dir="", *, strict=True, extra_state=None, **kwargs):
        super().__init__(model, save_dir, **kwargs)
        self.strict = strict
        self.extra_state = dict(extra_state or {})

    def save(self, name, **kwargs):
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        for key, obj in self.checkpointables.items():
            data[key] = obj.state_dict()
        data.update(self.extra_state)
        data.update(kwargs)
        basename = f"{name}.pth"
        path = os.path.join(self.save_dir, basename)
        self.logger.info("Saving checkpoint to %s", path)
        atomic_write(path, lambda f: torch.save(data, f))
        self.tag_last_checkpoint(basename)

    def tag_last_checkpoint(self, last_filename_basename):
        atomic_write(os.path.join(self.save_dir, "last_checkpoint"),
                     lambda f: f.write(last_filename_basename), mode="w")

    def load(self, path, checkpointables=None):
        if path and not os.path.isfile(path):
            raise FileNotFoundError(f"Checkpoint not found: {path} (MODEL.WEIGHTS or last_checkpoint)")
        self._path = path
        return super().load(path, checkpointables)

    def _load_file(self, f):
        # Checkpoints hold tensors, numbers, strings and plain containers only, so they load
        # under torch's safe ``weights_only`` unpickler (the default since torch 2.6).
        return torch.load(f, map_location=torch.device("cpu"), weights_only=True)

    def _load_model(self, checkpoint):
        state = checkpoint["model"]
        self._convert_ndarray_to_tensor(state)
        state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
        checkpoint["model"] = state
        model_state = self.model.state_dict()
        missing = sorted(set(model_state) - set(state))
        unexpected = sorted(set(state) - set(model_state))
        shapes = sorted((k, tuple(v.shape), tuple(model_state[k].shape)) for k, v in state.items()
                        if k in model_state and tuple(v.shape) != tuple(model_state[k].shape))
        if self.strict and (missing or unexpected or shapes):
            lines = [f"Checkpoint {getattr(self, '_path', '')} does not match the model "
                     "(strict loading; set MODEL.STRICT_LOAD False to load the matching keys only):"]
            lines += [f"  missing in checkpoint: {k}" for k in missing]
            lines += [f"  unexpected in checkpoint: {k}" for k in unexpected]
            lines += [f"  shape mismatch: {k}: checkpoint {a} vs model {b}" for k, a, b in shapes]
            raise IncompatibleCheckpointError("\n".join(lines))
        for k in missing:
            logger.warning("Skipped (missing in checkpoint): %s", k)
        for k in unexpected:
            logger.warning("Skipped (not in model): %s", k)
        for k, a, b in shapes:
            logger.warning("Skipped (shape %s in checkpoint, %s in model): %s", a, b, k)
        return super()._load_model(checkpoint)

    def _log_incompatible_keys(self, incompatible):
        # Every skipped key was already reported by ``_load_model``.
        pass
