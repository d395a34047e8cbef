"""File writing that never leaves a truncated file behind."""
import os
import re
import tempfile
from collections.abc import Callable
from typing import IO, Any

# ``.<name>.<8 random characters>.tmp``: the temporary files of :func:`atomic_write` (mkstemp's names).
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str, write_fn: Callable[[IO], Any], mode: str = "wb") -> None:
    """Write ``path`` through ``write_fn(file)`` into a temporary file, then rename it into place.

    A crash mid-write leaves the previous file intact, never a truncated one (the temporary file stays
    until :func:`remove_stale_temporaries`). The file gets the permissions of ``open()``: 0666 less the umask.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        # mkstemp creates 0600 files; outputs are for other accounts too (serving, sharing).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_temporaries(directory: str) -> list[str]:
    """Delete the temporary files that writes of :func:`atomic_write` killed mid-way left in ``directory``
    (not recursive); returns their paths. Call it before writing into the directory again."""
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if _TEMPORARY.match(name) and os.path.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed
