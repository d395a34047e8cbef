"""Errors a user can fix: the tools print them as a message (exit code 2), without a traceback."""


class UserError(Exception):
    """Base of the errors that name what is wrong (file, key, identity) and how to fix it."""


class ConfigError(UserError, ValueError):
    """A config file or ``KEY VALUE`` override that cannot be used."""


class DatasetError(UserError, RuntimeError):
    """A dataset that is missing or does not have the expected layout."""


class CheckpointError(UserError, RuntimeError):
    """A checkpoint file that cannot be read or does not match the model."""


class GalleryIndexError(UserError, ValueError):
    """A saved gallery index that cannot be used."""


class MissingFileError(UserError, FileNotFoundError):
    """A file named by a flag or a config key (a checkpoint, a list) that does not exist."""
