import io
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from PIL import Image

from fastreid_ext.search import server as server_module
from fastreid_ext.search.pipeline import build_index, open_index
from fastreid_ext.search.server import SearchService, make_server, pick_samples
from fastreid_ext.search.sources import image_items


@pytest.fixture
def served(colour_setup, tmp_path):
    """A running server over the colour gallery, with the two infrared queries as samples; yields its URL."""
    s = colour_setup
    build_index(s.model, s.cfg, image_items([s.gallery], 0), str(tmp_path / "index"))
    index, extraction = open_index(str(tmp_path / "index"), s.cfg)
    service = SearchService(s.model, s.cfg, index, extraction, 1, image_items([s.queries], 1), k=3)
    server = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _get(url, data=None):
    """(status, body bytes, content type) of a GET, or of a POST of ``data``."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers["Content-Type"]


def _json(url, data=None):
    status, body, content_type = _get(url, data)
    assert content_type == "application/json"
    return status, json.loads(body)


def test_info_and_page(served):
    status, info = _json(served + "/api/info")
    assert status == 200
    assert {key: info[key] for key in ("kind", "metric", "count", "dim", "k", "gallery_modalities", "query_modality")} \
        == {"kind": "flat", "metric": "cosine", "count": 4, "dim": 6, "k": 3, "gallery_modalities": ["visible"],
            "query_modality": "infrared"}
    assert info["samples"] == [{"sample": 0, "name": "0001.png", "pid": 1, "camid": 3},
                               {"sample": 1, "name": "0001.png", "pid": 3, "camid": 6}]
    status, page, content_type = _get(served + "/")
    assert status == 200 and content_type == "text/html; charset=utf-8"
    assert b"<title>Cross-modality person search</title>" in page
    for path, content_type, text in (("/page.css", "text/css", b"--same"), ("/page.js", "text/javascript", b"/api/info")):
        status, body, served_type = _get(served + path)
        assert status == 200 and served_type == f"{content_type}; charset=utf-8" and text in body


def test_search_a_sample_and_an_upload(served, colour_setup):
    status, result = _json(served + "/api/search?sample=1&k=2")
    assert status == 200 and result["metric"] == "cosine"
    # The blue identity-3 query finds the blue identity-3 image of camera 4 first.
    assert result["query"] == {"img_path": "0001.png", "pid": 3, "camid": 6, "modality": 1, "sample": 1}
    assert [(m["rank"], m["pid"], m["camid"]) for m in result["matches"]][0] == (1, 3, 4)
    assert len(result["matches"]) == 2

    with open(os.path.join(colour_setup.queries, "cam6/0003/0001.png"), "rb") as f:
        status, uploaded = _json(served + "/api/search?name=blue.png", f.read())
    assert status == 200
    assert uploaded["query"] == {"img_path": "blue.png", "pid": None, "camid": None, "modality": 1}
    assert [m["id"] for m in uploaded["matches"]] == [m["id"] for m in result["matches"]] + [
        uploaded["matches"][2]["id"]]
    assert [m["score"] for m in uploaded["matches"][:2]] == pytest.approx([m["score"] for m in result["matches"]])


def test_images(served, colour_setup):
    status, body, content_type = _get(served + "/gallery/0")
    with open(os.path.join(colour_setup.gallery, "cam1/0001/0001.png"), "rb") as f:
        assert (status, body, content_type) == (200, f.read(), "image/png")
    status, body, _ = _get(served + "/sample/1")
    with open(os.path.join(colour_setup.queries, "cam6/0003/0001.png"), "rb") as f:
        assert (status, body) == (200, f.read())


def test_errors(served, monkeypatch):
    assert _json(served + "/api/search?name=notes.txt", b"not an image") == (400, {
        "error": "'notes.txt' is not an image the server can read (JPEG, PNG or BMP): unreadable"})
    assert _json(served + "/api/search", b"") == (400, {"error": "The upload is empty: send one image file"})
    truncated = io.BytesIO()
    Image.new("RGB", (8, 16)).save(truncated, "JPEG")
    assert _json(served + "/api/search?name=cut.jpg", truncated.getvalue()[:-2]) == (400, {
        "error": "'cut.jpg' is not an image the server can read (JPEG, PNG or BMP): truncated JPEG"})
    assert _json(served + "/api/search?sample=0&k=5") == (400, {
        "error": "k must be from 1 to the gallery size 4, got 5"})
    assert _json(served + "/api/search?sample=0&k=two") == (400, {"error": "k must be an integer, got 'two'"})
    assert _json(served + "/api/search?sample=2") == (404, {"error": "no sample query 2 (there are 2)"})
    assert _json(served + "/api/search") == (400, {"error": "sample must be an integer, got None"})
    assert _json(served + "/gallery/9") == (404, {"error": "no gallery image with id '9'"})
    assert _json(served + "/gallery/x") == (404, {"error": "no gallery image with id 'x'"})
    assert _json(served + "/etc/passwd") == (404, {"error": "no such page: /etc/passwd"})
    assert _json(served + "/api/info", b"x") == (404, {"error": "no such endpoint: POST /api/info"})
    monkeypatch.setattr(server_module, "MAX_UPLOAD_BYTES", 4)
    assert _json(served + "/api/search", b"12345") == (413, {"error": "The upload has 5 bytes; the limit is 4"})


def test_pick_samples():
    assert pick_samples(list(range(3)), 8) == [0, 1, 2]
    assert pick_samples(list(range(10)), 4) == [0, 3, 6, 9]


def test_where_filters_searches_and_describe(served):
    status, info = _json(served + "/api/info")
    assert (info["attributes"], info["cameras"]) == ([], [1, 2, 4])  # the colour model predicts no attribute
    _, everything = _json(served + "/api/search?sample=1&k=4")
    where = urllib.parse.quote("camid in (1, 2) and not img_path == 'x'")
    status, some = _json(served + f"/api/search?sample=1&k=2&where={where}")
    assert status == 200 and [m["camid"] for m in some["matches"]] != [] and \
        all(m["camid"] in (1, 2) for m in some["matches"])
    assert [m["id"] for m in some["matches"]] == [m["id"] for m in everything["matches"] if m["camid"] in (1, 2)][:2]
    status, described = _json(served + f"/api/describe?k=4&where={urllib.parse.quote('camid == 1')}")
    # No attribute described: every fitting item has joint probability 1, in id order.
    assert status == 200 and described["matching"] == 2
    assert [(m["camid"], m["score"]) for m in described["matches"]] == [(1, 1.0), (1, 1.0)]
    assert [m["id"] for m in described["matches"]] == sorted(m["id"] for m in described["matches"])
    status, error = _json(served + f"/api/search?sample=1&where={urllib.parse.quote('backpack >= 0.5')}")
    assert status == 400 and "unknown column 'backpack'" in error["error"] and "'camid'" in error["error"]
    status, error = _json(served + "/api/describe?k=2")
    assert status == 400 and "describe needs a where expression" in error["error"]
