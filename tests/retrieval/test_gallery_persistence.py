import hashlib
import json
import os

import faiss
import numpy as np
import pytest

import fastreid_ext  # noqa: F401
from fastreid_ext.retrieval import (
    FingerprintMismatchError,
    GalleryIndex,
    IndexIntegrityError,
    checkpoint_fingerprint,
    persistence,
)

KINDS = ["flat", "ivf", "ivfpq", "hnsw"]


def _gallery(clustered, kind, metric="cosine", fingerprint="model-a"):
    gallery, _ = clustered
    index = GalleryIndex(32, kind, metric, model_fingerprint=fingerprint)
    index.add(gallery, 100 + np.arange(360), metadata=[
        {"img_path": f"cam{i % 4 + 1}/{i:04d}.jpg", "pid": i // 6 if i % 5 else None,
         "camid": i % 4 + 1, "modality": int(i % 4 >= 2)} for i in range(360)])
    return index


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_round_trip_gives_the_same_results(clustered, tmp_path, kind, metric):
    _, queries = clustered
    index = _gallery(clustered, kind, metric)
    scores, ids = index.search(queries, 10)
    index.save(tmp_path / "g")
    loaded = GalleryIndex.load(tmp_path / "g")
    loaded_scores, loaded_ids = loaded.search(queries, 10)
    np.testing.assert_array_equal(loaded_ids, ids)
    np.testing.assert_array_equal(loaded_scores, scores)
    assert (loaded.kind, loaded.metric, loaded.dim, len(loaded)) == (kind, metric, 32, 360)
    assert loaded.params == index.params and loaded.model_fingerprint == "model-a"
    assert loaded.metadata([101, 111]) == index.metadata([101, 111]) == [
        {"id": 101, "img_path": "cam2/0001.jpg", "pid": 0, "camid": 2, "modality": 0},
        {"id": 111, "img_path": "cam4/0011.jpg", "pid": 1, "camid": 4, "modality": 1}]
    assert loaded.metadata([105])[0]["pid"] is None
    with pytest.raises(KeyError):
        loaded.metadata([99])


def test_header_records_the_index(clustered, tmp_path):
    _gallery(clustered, "ivf").save(tmp_path)
    header = json.loads((tmp_path / "gallery.json").read_text())
    assert {k: header[k] for k in ("format", "dim", "metric", "normalized", "kind", "count",
                                   "model_fingerprint")} == {
        "format": 2, "dim": 32, "metric": "cosine", "normalized": True, "kind": "ivf",
        "count": 360, "model_fingerprint": "model-a"}
    assert header["params"]["nlist"] == 9
    assert header["files"] == {
        name: {"bytes": os.path.getsize(tmp_path / name),
               "sha256": hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()}
        for name in ("index.faiss", "ids.npz", "metadata.jsonl")}
    assert sorted(os.listdir(tmp_path)) == ["gallery.json", "ids.npz", "index.faiss",
                                            "metadata.jsonl"]


def test_a_loaded_index_keeps_growing(clustered, tmp_path):
    gallery, queries = clustered
    index = GalleryIndex(32, "ivf", nlist=np.int64(6))  # numpy scalars are saved as numbers
    index.add(gallery[:300], np.arange(300))
    index.set_search_params(nprobe=np.int32(3))
    index.save(tmp_path)
    loaded = GalleryIndex.load(tmp_path)
    assert loaded.params == {"nlist": 6, "nprobe": 3, "train_size": 384}
    loaded.add(gallery[300:], np.arange(300, 360))
    index.add(gallery[300:], np.arange(300, 360))
    np.testing.assert_array_equal(loaded.search(queries, 5)[1], index.search(queries, 5)[1])


def test_checkpoint_fingerprint_is_truncated_sha256(tmp_path):
    path = tmp_path / "model_final.pth"
    path.write_bytes(b"abc")
    assert checkpoint_fingerprint(path) == "ba7816bf8f01cfea"
    assert checkpoint_fingerprint(path, length=64) == hashlib.sha256(b"abc").hexdigest()


def test_fingerprint_mismatch(clustered, tmp_path):
    _, queries = clustered
    index = _gallery(clustered, "flat", fingerprint="ba7816bf8f01cfea")
    index.search(queries, 1, expected_fingerprint="ba7816bf8f01cfea")
    with pytest.raises(FingerprintMismatchError, match="'ba7816bf8f01cfea'.*'0123456789abcdef'"):
        index.search(queries, 1, expected_fingerprint="0123456789abcdef")
    unknown = GalleryIndex(32, "flat")
    unknown.add(queries, np.arange(30))
    with pytest.raises(FingerprintMismatchError, match="None"):
        unknown.search(queries, 1, expected_fingerprint="ba7816bf8f01cfea")


def test_empty_and_untrained_indexes(clustered, tmp_path):
    _, queries = clustered
    GalleryIndex(32, "hnsw").save(tmp_path / "empty")
    loaded = GalleryIndex.load(tmp_path / "empty")
    assert len(loaded) == 0 and not os.path.exists(tmp_path / "empty" / "metadata.jsonl")
    with pytest.raises(ValueError, match="gallery is empty"):
        loaded.search(queries, 1)
    with pytest.raises(ValueError, match="untrained ivf"):
        GalleryIndex(32, "ivf").save(tmp_path / "untrained")


@pytest.mark.parametrize("name", ["gallery.json", "index.faiss", "ids.npz", "metadata.jsonl"])
def test_missing_file_is_named(clustered, tmp_path, name):
    _gallery(clustered, "flat").save(tmp_path)
    os.remove(tmp_path / name)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / name)):
        GalleryIndex.load(tmp_path)


@pytest.mark.parametrize("name", ["index.faiss", "ids.npz", "metadata.jsonl"])
def test_truncated_file_is_named(clustered, tmp_path, name):
    _gallery(clustered, "hnsw").save(tmp_path)
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=f"{tmp_path / name} has {len(data) // 2} bytes, .*"
                                         f"records {len(data)}: it is truncated"):
        GalleryIndex.load(tmp_path)


def test_corrupt_files_are_named(clustered, tmp_path):
    _gallery(clustered, "flat").save(tmp_path)
    data = bytearray((tmp_path / "index.faiss").read_bytes())
    data[:4] = b"XXXX"  # faiss' index type code
    (tmp_path / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexIntegrityError, match=f"{tmp_path / 'index.faiss'} is corrupted"):
        GalleryIndex.load(tmp_path)
    with pytest.raises(ValueError, match=f"Cannot read faiss index {tmp_path / 'index.faiss'}"):
        GalleryIndex.load(tmp_path, verify=False)
    (tmp_path / "gallery.json").write_text("{not json")
    with pytest.raises(ValueError, match="gallery.json is not a gallery index header"):
        GalleryIndex.load(tmp_path)


def test_metadata_that_does_not_match_the_ids_is_named(clustered, tmp_path):
    _gallery(clustered, "flat").save(tmp_path)
    lines = (tmp_path / "metadata.jsonl").read_text().splitlines(keepends=True)
    lines[0], lines[1] = lines[1], lines[0]
    (tmp_path / "metadata.jsonl").write_text("".join(lines))  # same size, rows swapped
    with pytest.raises(IndexIntegrityError, match="metadata.jsonl is corrupted"):
        GalleryIndex.load(tmp_path)
    with pytest.raises(ValueError, match=r"metadata.jsonl, line 1: its id does not match ids.npz "
                                         r"\(expected 100\)"):
        GalleryIndex.load(tmp_path, verify=False)


@pytest.mark.parametrize("kind", KINDS)
def test_a_bit_flipped_file_of_the_same_size_is_refused(clustered, tmp_path, kind):
    _, queries = clustered
    index = _gallery(clustered, kind)
    index.save(tmp_path)
    path = tmp_path / "index.faiss"
    data = bytearray(path.read_bytes())
    recorded = hashlib.sha256(data).hexdigest()
    # One bit near the end of the file: same size, and faiss still reads it.
    data[-64] ^= 0x40
    path.write_bytes(bytes(data))
    actual = hashlib.sha256(data).hexdigest()
    with pytest.raises(IndexIntegrityError) as refused:
        GalleryIndex.load(tmp_path)
    assert (refused.value.path, refused.value.expected, refused.value.actual) == (str(path), recorded, actual)
    assert str(refused.value) == (
        f"Gallery index file {path} is corrupted or was changed: its SHA-256 is {actual}, "
        f"{tmp_path / 'gallery.json'} records {recorded}. Rebuild the index (tools/retrieve.py build), "
        "or restore the file from a copy")
    # Without the check the file loads: the corruption would go unnoticed.
    assert len(GalleryIndex.load(tmp_path, verify=False)) == 360


def test_a_failed_save_leaves_the_previous_index(clustered, tmp_path, monkeypatch):
    gallery, queries = clustered
    index = GalleryIndex(32, "flat")
    index.add(gallery[:100], np.arange(100))
    index.save(tmp_path)
    index.add(gallery[100:], np.arange(100, 360))

    write_index = faiss.write_index

    def crash(index, writer):  # writes the new index, then fails before the rename
        write_index(index, writer)
        raise OSError("disk full")

    monkeypatch.setattr(persistence.faiss, "write_index", crash)
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["gallery.json", "ids.npz", "index.faiss"]
    assert len(GalleryIndex.load(tmp_path)) == 100
    assert faiss.read_index(str(tmp_path / "index.faiss")).ntotal == 100
