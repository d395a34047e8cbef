"""Cross-modality (visible-infrared) person re-identification on top of FastReID.

Importing it patches FastReID (:mod:`.compat`), registers every component and loads the installed projects.
"""
from . import compat

compat.apply()

from . import ablation, data, evaluation, modeling, retrieval  # noqa: E402  (after the shims)
from .config import load_projects  # noqa: E402

load_projects()

__all__ = ["ablation", "compat", "data", "evaluation", "modeling", "retrieval"]
