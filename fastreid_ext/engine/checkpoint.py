"""Strict, atomic, bounded checkpoints on top of FastReID's :class:`Checkpointer`."""
import logging
import os
import pickle
import re
from typing import Any, Optional

import torch
from fastreid.config import CfgNode
from fastreid.utils.checkpoint import Checkpointer

from ..utils import CheckpointError, MissingFileError, atomic_write

logger = logging.getLogger(__name__)

# Keys listed per kind of mismatch in the message; the rest are counted.
_LISTED = 5
# Config keys that do not shape the model's state dict.
_NOT_ARCHITECTURE = ("MODEL.WEIGHTS", "MODEL.DEVICE", "MODEL.STRICT_LOAD", "MODEL.BACKBONE.PRETRAIN",
                     "MODEL.LOSSES.")
# The periodic checkpoints of FastReID's PeriodicCheckpointer: model_<epoch>.pth.
_PERIODIC = re.compile(r"^model_(\d+)\.pth$")



class IncompatibleCheckpointError(CheckpointError):
    """A checkpoint's state dict does not match the model (strict loading)."""


def read_checkpoint(path: str) -> dict:
    """The dict saved in ``path``, loaded on CPU under torch's safe ``weights_only`` unpickler.

    Raises:
        CheckpointError: the file is missing, truncated or not a checkpoint (naming it).
    """
    if not os.path.isfile(path):
        raise MissingFileError(f"checkpoint not found: {path} (MODEL.WEIGHTS or last_checkpoint)")
    try:
        # Checkpoints hold tensors, numbers, strings and plain containers only, so they load
        # under torch's safe ``weights_only`` unpickler (the default since torch 2.6).
        return torch.load(path, map_location=torch.device("cpu"), weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"{path} cannot be read as a checkpoint, it may be truncated or of another "
                              f"format ({type(error).__name__}: {str(error).splitlines()[0]})") from error


def _model_settings(config_text):
    """``{"MODEL.BACKBONE.DEPTH": "50x", ...}``: the model keys of a dumped config."""
    def flatten(node, prefix):
        for key, value in node.items():
            if isinstance(value, CfgNode):
                yield from flatten(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value
    if not config_text:
        return {}
    settings = dict(flatten(CfgNode.load_cfg(config_text).MODEL, "MODEL."))
    return {k: v for k, v in settings.items() if not k.startswith(_NOT_ARCHITECTURE)}


def _architecture_guess(checkpoint_config, model_config):
    """``"checkpoint MODEL.BACKBONE.DEPTH 18x, config 50x"``: model keys whose values differ, or ""."""
    ours, theirs = _model_settings(model_config), _model_settings(checkpoint_config)
    differ = [f"checkpoint {k} {theirs[k]}, config {ours[k]}" for k in ours if k in theirs and ours[k] != theirs[k]]
    return "; ".join(differ[:3])


def _mismatch_message(path, missing, unexpected, shapes, guess):
    lines = [f"checkpoint {path} does not match the model: {len(missing)} missing, {len(unexpected)} unexpected "
             f"and {len(shapes)} mis-shaped keys" + (f" (likely cause: {guess})" if guess else "")
             + "; set MODEL.STRICT_LOAD False to load the matching keys only"]
    lines += [f"  missing in checkpoint: {k}" for k in missing[:_LISTED]]
    lines += [f"  unexpected in checkpoint: {k}" for k in unexpected[:_LISTED]]
    lines += [f"  shape mismatch: {k}: checkpoint {a} vs model {b}" for k, a, b in shapes[:_LISTED]]
    hidden = sum(max(len(keys) - _LISTED, 0) for keys in (missing, unexpected, shapes))
    if hidden:
        lines.append(f"  ... and {hidden} more")
    return "\n".join(lines)


class CMCheckpointer(Checkpointer):
    """FastReID's checkpointer with atomic writes, strict loading and bounded disk use.

    Args:
        strict: missing, unexpected or shape-mismatched keys raise
            :class:`IncompatibleCheckpointError` listing them (``MODEL.STRICT_LOAD``). With
            ``strict=False`` the matching keys load and every skipped key is logged.
        extra_state: a dict saved in every checkpoint (e.g. the config), returned by ``load``.
        keep: after saving a periodic ``model_<epoch>.pth``, delete the older ones so that the
            last ``keep`` remain (``SOLVER.CHECKPOINT_KEEP``); 0 keeps them all.
        final_weights_only: ``model_final.pth`` holds the model, the extra state and the epoch but
            no optimizer or scheduler state (``SOLVER.FINAL_WEIGHTS_ONLY``).
    """

    def __init__(self, model: torch.nn.Module, save_dir: str = "", *, strict: bool = True,
                 extra_state: Optional[dict] = None, keep: int = 0, final_weights_only: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(model, save_dir, **kwargs)
        if keep < 0:
            raise ValueError(f"SOLVER.CHECKPOINT_KEEP must be >= 0 (0 keeps every checkpoint), got {keep}")
        self.strict = strict
        self.extra_state = dict(extra_state or {})
        self.keep = keep
        self.final_weights_only = final_weights_only

    def save(self, name: str, **kwargs: Any) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        if not (self.final_weights_only and name == "model_final"):
            for key, obj in self.checkpointables.items():
                data[key] = obj.state_dict()
        data.update(self.extra_state)
        data.update(kwargs)
        basename = f"{name}.pth"
        path = os.path.join(self.save_dir, basename)
        self.logger.info("Saving checkpoint to %s", path)
        atomic_write(path, lambda f: torch.save(data, f))
        self.tag_last_checkpoint(basename)
        if self.keep and _PERIODIC.match(basename):
            self._prune()

    def _prune(self):
        """Delete the periodic checkpoints older than the last ``keep`` (by epoch number)."""
        found = sorted((int(m.group(1)), f) for f in os.listdir(self.save_dir) if (m := _PERIODIC.match(f)))
        for _, old in found[:-self.keep]:
            self.logger.info("Removing old checkpoint %s (SOLVER.CHECKPOINT_KEEP %d)", old, self.keep)
            os.remove(os.path.join(self.save_dir, old))

    def tag_last_checkpoint(self, last_filename_basename: str) -> None:
        atomic_write(os.path.join(self.save_dir, "last_checkpoint"),
                     lambda f: f.write(last_filename_basename), mode="w")

    def load(self, path: str, checkpointables: Optional[list[str]] = None) -> dict:
        if path and not os.path.isfile(path):
            raise MissingFileError(f"checkpoint not found: {path} (MODEL.WEIGHTS or last_checkpoint)")
        self._path = path
        return super().load(path, checkpointables)

    def _load_file(self, f):
        return read_checkpoint(f)

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
            guess = _architecture_guess(checkpoint.get("config"), self.extra_state.get("config"))
            raise IncompatibleCheckpointError(_mismatch_message(getattr(self, "_path", ""), missing, unexpected,
                                                                shapes, guess))
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
