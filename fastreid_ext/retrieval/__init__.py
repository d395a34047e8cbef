from .index import FingerprintMismatchError, GalleryIndex, METRICS, gpu_available
from .kinds import INDEX_KINDS, IndexKind, get_kind, register_kind
from .persistence import IndexIntegrityError, checkpoint_fingerprint
