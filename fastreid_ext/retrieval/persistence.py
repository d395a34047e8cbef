"""On-disk layout of a saved gallery index, and the fingerprint of the model that made it.

A saved index is a directory::

    gallery.json     header: format, dim, metric, normalisation, kind, params, count,
                     model fingerprint, and the manifest: the byte size and SHA-256 of every other file
    index.faiss      the faiss index (always a CPU index)
    ids.npz          ``ids``: ids in insertion order
    metadata.jsonl   one JSON object per id (only when metadata were given)
    *.json           the caller's extra records (e.g. how the features were extracted), if any

Every file is written to a temporary file and renamed into place, the header last: a crash leaves
the previous header, and a file that does not have the size its header records is reported as
truncated or overwritten instead of being read. Loading also compares each file's SHA-256 with the
manifest (unless told not to, for very large indexes), so a same-size corruption is refused too.
"""
import hashlib
import io
import json
import os
from typing import Optional

import faiss
import numpy as np

from ..utils import GalleryIndexError, atomic_write

FORMAT_VERSION = 2
HEADER_FILE = "gallery.json"
INDEX_FILE = "index.faiss"
IDS_FILE = "ids.npz"
METADATA_FILE = "metadata.jsonl"


class IndexIntegrityError(GalleryIndexError):
    """A file of a saved index does not have the SHA-256 its manifest records: it was corrupted or changed.

    Attributes:
        path: the file; expected, actual: the recorded and the actual hex digests.
    """

    def __init__(self, path: str, header_path: str, expected: str, actual: str) -> None:
        super().__init__(f"Gallery index file {path} is corrupted or was changed: its SHA-256 is {actual}, "
                         f"{header_path} records {expected}. Rebuild the index (tools/retrieve.py build), or "
                         "restore the file from a copy")
        self.path, self.expected, self.actual = path, expected, actual


def file_sha256(path: str) -> str:
    """The hex SHA-256 of the file ``path``, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_fingerprint(path: str, length: int = 16) -> str:
    """The first ``length`` hex digits of the sha256 of the file ``path`` (a model checkpoint)."""
    return file_sha256(path)[:length]


def _write_metadata(f, ids, columns):
    names = list(columns)
    for row, i in enumerate(ids):
        f.write(json.dumps({"id": int(i), **{n: columns[n][row] for n in names}}) + "\n")


def _write_ids(f, ids):
    buffer = io.BytesIO()
    np.savez(buffer, ids=ids)
    f.write(buffer.getbuffer())


def _json_writer(record):
    return lambda f: json.dump(record, f, indent=2, sort_keys=True)


def save_gallery(directory: str, header: dict, index: faiss.Index, ids: np.ndarray, columns: dict[str, list],
                 extra: Optional[dict[str, dict]] = None) -> None:
    """Write a gallery to ``directory`` (created if needed).

    Args:
        header: JSON-able dict describing the index; ``format`` and ``files`` (the manifest: name ->
            ``{"bytes", "sha256"}``) are added.
        index: a CPU faiss index.
        ids: (N,) int64 ids.
        columns: metadata name -> N JSON scalars (may be empty).
        extra: ``*.json`` file name -> JSON-able dict, written alongside and listed in the manifest.
    """
    os.makedirs(directory, exist_ok=True)
    writers = {INDEX_FILE: lambda f: faiss.write_index(index, faiss.PyCallbackIOWriter(f.write)),
               IDS_FILE: lambda f: _write_ids(f, ids)}
    if columns:
        writers[METADATA_FILE] = lambda f: _write_metadata(f, ids, columns)
    for name, record in (extra or {}).items():
        if name in writers or name == HEADER_FILE or not name.endswith(".json"):
            raise ValueError(f"extra index file {name!r}: expected a *.json name other than {HEADER_FILE}")
        writers[name] = _json_writer(record)
    files = {}
    for name, write in writers.items():
        path = os.path.join(directory, name)
        atomic_write(path, write, mode="w" if name.endswith((".json", ".jsonl")) else "wb")
        files[name] = {"bytes": os.path.getsize(path), "sha256": file_sha256(path)}
    header = {"format": FORMAT_VERSION, **header, "files": files}
    atomic_write(os.path.join(directory, HEADER_FILE), _json_writer(header), mode="w")
    if METADATA_FILE not in files and os.path.exists(os.path.join(directory, METADATA_FILE)):
        os.remove(os.path.join(directory, METADATA_FILE))  # left by an earlier save


def read_header(directory: str) -> dict:
    """Read and check the header of a saved gallery, and that its files have their recorded sizes."""
    path = os.path.join(directory, HEADER_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No gallery index in {directory}: {path} is missing")
    try:
        with open(path) as f:
            header = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a gallery index header: {e}") from e
    if header.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: gallery index format {header.get('format')!r}, this version "
                         f"reads format {FORMAT_VERSION}")
    for name, recorded in header["files"].items():
        file = os.path.join(directory, name)
        if not os.path.isfile(file):
            raise FileNotFoundError(f"Gallery index file {file} is missing (listed in {path})")
        if os.path.getsize(file) != recorded["bytes"]:
            raise ValueError(f"Gallery index file {file} has {os.path.getsize(file)} bytes, "
                             f"{path} records {recorded['bytes']}: it is truncated or was overwritten")
    return header


def verify_files(directory: str, header: dict) -> None:
    """Raise :class:`IndexIntegrityError` for the first file of the manifest of ``header`` (from
    :func:`read_header`) whose SHA-256 differs from the recorded one. Reads every byte of the index."""
    for name, recorded in header["files"].items():
        path = os.path.join(directory, name)
        actual = file_sha256(path)
        if actual != recorded["sha256"]:
            raise IndexIntegrityError(path, os.path.join(directory, HEADER_FILE), recorded["sha256"], actual)


def _read_metadata(path, ids):
    columns, n_rows = {}, 0
    with open(path) as f:
        for n_rows, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {n_rows}: {e}") from e
            expected = int(ids[n_rows - 1]) if n_rows <= len(ids) else None
            if record.pop("id", None) != expected or expected is None:
                raise ValueError(f"{path}, line {n_rows}: its id does not match ids.npz "
                                 f"(expected {expected})")
            for name in record.keys() - columns.keys():
                columns[name] = [None] * (n_rows - 1)
            for name, values in columns.items():
                values.append(record.get(name))
    if n_rows != len(ids):
        raise ValueError(f"{path} has {n_rows} rows for the {len(ids)} ids of ids.npz")
    return columns


def load_gallery(directory: str, header: dict) -> tuple[faiss.Index, np.ndarray, dict[str, list]]:
    """Read what :func:`save_gallery` wrote, after :func:`read_header`.

    Returns:
        (CPU faiss index, ids (N,) int64, columns dict).
    """
    path = os.path.join(directory, INDEX_FILE)
    try:
        index = faiss.read_index(path)
    except RuntimeError as e:
        raise ValueError(f"Cannot read faiss index {path}: {e}") from e
    path = os.path.join(directory, IDS_FILE)
    try:
        with np.load(path) as arrays:
            ids = arrays["ids"].astype(np.int64)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"Cannot read gallery ids {path}: {e}") from e
    columns = {}
    if METADATA_FILE in header["files"]:
        columns = _read_metadata(os.path.join(directory, METADATA_FILE), ids)
    return index, ids, columns
