from .index import METRICS, FingerprintMismatchError, GalleryIndex, gpu_available
from .kinds import INDEX_KIND_REGISTRY, IndexKind, get_kind
from .persistence import IndexIntegrityError, checkpoint_fingerprint
from .where import WhereError, parse_where
