"""Cross-modality (visible-infrared) person re-identification on top of FastReID.

Importing this package patches FastReID for modern Python/PyTorch/CPU (see :mod:`fastreid_ext.compat`)
and registers every dataset, sampler, backbone, meta-architecture and loss it provides.
"""
from . import compat

compat.apply()
