from .errors import CheckpointError, ConfigError, DatasetError, GalleryIndexError, MissingFileError, UserError
from .file_io import atomic_write, remove_stale_temporaries

__all__ = ["CheckpointError", "ConfigError", "DatasetError", "GalleryIndexError", "MissingFileError", "UserError",
           "atomic_write", "remove_stale_temporaries"]
