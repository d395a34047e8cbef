"""File writing that never leaves a truncated file behind."""
import os
import tempfile


def atomic_write(path, write_fn, mode="wb"):
    """Write ``path`` through ``write_fn(file)`` into a temporary file, then rename it into place.

    A crash mid-write leaves the previous file intact, never a truncated one.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
