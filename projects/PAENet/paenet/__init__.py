"""PAENet (ACM MM 2022): progressive attribute embedding (PAE) and attribute-based auxiliary learning (AAL)
as FastReID components; importing it registers ``PAENetHead`` and the ``MODEL.PAE/AAL`` keys (see README.md).
"""
import fastreid_ext  # noqa: F401  (patches FastReID before it is imported)
from fastreid_ext.config import CONFIG_EXTENSIONS

from . import ablation, reproduce
from .aal import AttributeAuxiliaryLearning, identity_weights
from .config import add_paenet_config
from .head import PAENetHead
from .pae import PAE, PAEOutput

CONFIG_EXTENSIONS["paenet"] = add_paenet_config
