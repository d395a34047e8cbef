"""Cross-modality (visible-infrared) person re-identification on top of FastReID.

Importing this package patches FastReID (:mod:`fastreid_ext.compat`), registers every component it provides
and imports the installed projects (:func:`fastreid_ext.config.load_projects`), so theirs are registered too.
"""
from . import compat

compat.apply()

from . import ablation, data, evaluation, modeling, retrieval  # noqa: E402  (after the shims)
from .config import load_projects  # noqa: E402

load_projects()

__all__ = ["ablation", "compat", "data", "evaluation", "modeling", "retrieval"]
