import http.client
import io
import json
import logging
import os
import socket
import struct
import urllib.error
import urllib.parse
import urllib.request
import zlib

import pytest
from PIL import Image

from fastreid_ext.search import server as server_module
from fastreid_ext.search.server import pick_samples
from fastreid_ext.search.sources import image_items

from .conftest import indexed_service, serving


@pytest.fixture
def served(colour_setup, tmp_path):
    """A running server over the colour gallery, with the two infrared queries as samples; yields its URL."""
    s = colour_setup
    with serving(indexed_service(s.model, s.cfg, image_items([s.gallery], 0), str(tmp_path / "index"),
                                 image_items([s.queries], 1), k=3)) as url:
        yield url


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
    pages = (("/page.css", "text/css", b"--same"), ("/page.js", "text/javascript", b"/api/info"))
    for path, content_type, text in pages:
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


def _raw(url, method="POST", path="/api/search", headers=(), body=b"", shut=False):
    """(status, JSON body) of a request sent byte by byte, headers as given (none added)."""
    host, port = url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        sock.sendall(head.encode() + b"\r\n" + body)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header(width, height):
    """A valid PNG header claiming ``width`` x ``height`` RGB pixels, followed by the data of a few of them."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 100))
            + _chunk(b"IEND", b""))


def _upload(colour_setup):
    with open(os.path.join(colour_setup.queries, "cam6/0003/0001.png"), "rb") as f:
        return f.read()


def test_content_length_must_be_given_and_valid(served):
    assert _raw(served, headers=[("Content-Length", "-1")], body=b"x" * 30) == (400, {
        "error": "Content-Length must be a number of bytes, got '-1'"})
    assert _raw(served, headers=[("Content-Length", "abc")], body=b"x") == (400, {
        "error": "Content-Length must be a number of bytes, got 'abc'"})
    status, body = _raw(served)
    assert status == 411 and body["error"].startswith("The upload has no Content-Length: send the image")
    assert _raw(served, headers=[("Content-Length", "3"), ("Content-Length", "4")], body=b"abcd") == (400, {
        "error": "Conflicting Content-Length headers: ['3', '4']"})
    assert _raw(served, headers=[("Content-Length", "100")], body=b"x" * 10, shut=True) == (400, {
        "error": "The upload ended after 10 of its 100 bytes"})
    status, body = _raw(served, headers=[("Transfer-Encoding", "gzip")], body=b"x")
    assert status == 411 and "Transfer-Encoding 'gzip'" in body["error"]


def test_chunked_and_multipart_uploads(served, colour_setup):
    image = _upload(colour_setup)
    status, raw = _json(served + "/api/search?k=3&name=blue.png", image)
    assert status == 200
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(image[i:i + 50]), image[i:i + 50]) for i in range(0, len(image), 50))
    status, chunked = _raw(served, path="/api/search?k=3&name=blue.png",
                           headers=[("Transfer-Encoding", "chunked")], body=chunks + b"0\r\n\r\n")
    assert status == 200 and chunked["matches"] == raw["matches"]
    status, body = _raw(served, headers=[("Transfer-Encoding", "chunked")], body=b"zz\r\n")
    assert (status, body) == (400, {"error": "Malformed chunk size b'zz' in the chunked upload"})

    # As curl -F image=@blue.png sends it (with another form field besides).
    boundary = "------------------------d74496d66958873e"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n3\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"blue.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    headers = [("Content-Type", f"multipart/form-data; boundary={boundary}"), ("Content-Length", str(len(form)))]
    status, multipart = _raw(served, path="/api/search?k=3", headers=headers, body=form)
    assert status == 200 and multipart["matches"] == raw["matches"]
    assert multipart["query"]["img_path"] == "blue.png"
    no_file = form.replace(b'; filename="blue.png"', b"")
    status, body = _raw(served, headers=[headers[0], ("Content-Length", str(len(no_file)))], body=no_file)
    assert (status, body) == (400, {"error": "The multipart upload holds 0 files: send one image "
                                             "(curl -F image=@query.jpg)"})
    cut = form[:-30]
    status, body = _raw(served, headers=[headers[0], ("Content-Length", str(len(cut)))], body=cut)
    assert (status, body) == (400, {"error": "The multipart upload is incomplete (no closing boundary)"})


def test_pixel_limit_before_decoding(served, colour_setup, tmp_path):
    # A forged header: 12000 x 12000 pixels that are not there.
    assert _json(served + "/api/search?name=forged.png", _png_header(12000, 12000)) == (413, {
        "error": "'forged.png' is 12000x12000 = 144.0 MP; the limit is 40 MP (--max-pixels)"})
    # Beyond PIL's own decompression-bomb limit, where opening the header already fails.
    status, body = _json(served + "/api/search?name=bomb.png", _png_header(100000, 100000))
    assert status == 413 and body["error"].startswith("'bomb.png' is over the pixel limit: Image size")
    # A real image one row over 40 MP.
    picture = io.BytesIO()
    Image.new("RGB", (8000, 5001), (90, 90, 200)).save(picture, "JPEG")
    assert _json(served + "/api/search?name=big.jpg", picture.getvalue()) == (413, {
        "error": "'big.jpg' is 8000x5001 = 40.0 MP; the limit is 40 MP (--max-pixels)"})


def test_an_image_whose_data_do_not_decode(served, colour_setup):
    png = bytearray(_upload(colour_setup))
    at = png.index(b"IDAT")
    length = struct.unpack(">I", png[at - 4:at])[0]
    png[at + 4:at + 4 + length] = b"\x00" * length  # not a zlib stream, with a valid CRC
    png[at + 4 + length:at + 8 + length] = struct.pack(">I", zlib.crc32(bytes(png[at:at + 4 + length])))
    status, body = _json(served + "/api/search?name=broken.png", bytes(png))
    assert status == 400 and body["error"].startswith("'broken.png' cannot be decoded: ")


def test_malformed_paths_and_ids_are_4xx(served):
    for path in ("/gallery/-1", "/gallery/abc", "/gallery/", "/gallery/0/x", "/gallery/1.0", "/gallery/%30",
                 "/gallery/99999999999999999999", "/gallery/" + "9" * 18):
        assert _json(served + path) == (404, {"error": f"no gallery image with id {path[9:]!r}"}), path
    for path in ("/sample/-1", "/sample/99999999999999999999", "/api/search?sample=-1"):
        assert _json(served + path)[0] == 404, path
    for path in ("/sample/abc", "/api/search?sample=0&k=1e400", "/api/search?sample=0&k=-3"):
        assert _json(served + path)[0] == 400, path
    assert _raw(served, method="DELETE", path="/gallery/0") == (405, {
        "error": "DELETE is not served: GET a page, or POST /api/search"})
    for path, status in (("/gallery/0", 200), ("/gallery/-1", 404)):  # HEAD: GET's status and length, no body
        connection = http.client.HTTPConnection(*served.rsplit("/", 1)[1].split(":"), timeout=30)
        connection.request("HEAD", path)
        response = connection.getresponse()
        assert response.status == status and int(response.headers["Content-Length"]) > 0
        assert response.read() == b""
        connection.close()


def test_one_access_line_per_request_and_no_progress_bar(served, colour_setup, caplog, capfd):
    image = _upload(colour_setup)
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert _json(served + "/api/search?k=2", image)[0] == 200
        assert _json(served + "/api/search?sample=0")[0] == 200
        assert _json(served + "/gallery/abc")[0] == 404
    lines = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    assert len(lines) == 5, lines
    assert lines[0].startswith('127.0.0.1 "POST /api/search?k=2 HTTP/1.1" 200 ') and lines[0].endswith(" s")
    assert lines[4].startswith('127.0.0.1 "GET /gallery/abc HTTP/1.1" 404 ')
    assert "Extracting features" not in capfd.readouterr().err


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
