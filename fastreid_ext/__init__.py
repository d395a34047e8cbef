"""Cross-modality (visible-infrared) person re-identification on top of FastReID.

Importing this package patches FastReID for modern Python/PyTorch/CPU (see :mod:`fastreid_ext.compat`),
registers every dataset, sampler, backbone, head, meta-architecture and loss it provides, and imports
the projects listed in :data:`PROJECTS` so that their components and config keys are registered too.
"""
import importlib

from . import compat

compat.apply()

# Project packages (``projects/<Name>/<package>``) that register into FastReID when imported.
PROJECTS = ("paenet",)

from . import ablation, data, evaluation, modeling, retrieval  # noqa: E402  (after the shims)

for _name in PROJECTS:
    importlib.import_module(_name)
