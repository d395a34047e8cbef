"""A small web page to search a saved gallery index with query images: the library of ``tools/serve.py``.

Python's ``ThreadingHTTPServer``, no other dependency. Endpoints:

- ``GET /``: the page (:data:`~fastreid_ext.retrieval.search_page.PAGE`): upload a query image or pick a
  sample, see the top-k gallery matches with their scores and metadata.
- ``GET /api/info``: the index (kind, metric, count, dim, model fingerprint), the gallery and query
  modalities, the default k and the sample queries.
- ``POST /api/search?k=K&name=FILE``: the body is one image file; returns ``{"query", "matches",
  "metric", "seconds"}`` (see :func:`~fastreid_ext.retrieval.pipeline.search`).
- ``GET /api/search?sample=I&k=K``: the same for sample query ``I``.
- ``GET /gallery/<id>``, ``GET /sample/<I>``: a gallery image (from the path the index records) or a sample
  query image. Only those: the server reads no other file.

Errors are JSON ``{"error": message}`` with status 400 (bad request, e.g. an upload that is not an image),
404 (unknown id or path) or 413 (upload over :data:`MAX_UPLOAD_BYTES`).
"""
import json
import logging
import mimetypes
import os
import tempfile
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np

from ..data.data_utils import check_image
from ..data.datasets.bases import MODALITY_NAMES, Item
from .pipeline import search
from .search_page import PAGE
from .sources import UNKNOWN

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class RequestError(Exception):
    """A request the server refuses; ``status`` is its HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def pick_samples(items, n):
    """``n`` items spread evenly over ``items`` (all when there are at most ``n``)."""
    if len(items) <= n:
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))]


class SearchService:
    """What the page does, without HTTP: search with an uploaded or a sample image, find the images to show.

    Args:
        model: a model in eval mode and cfg its frozen config (``load_trained_model``).
        index, extraction: from :func:`~fastreid_ext.retrieval.pipeline.open_index` with this model's config.
        query_modality: modality of the queries (0 visible, 1 infrared).
        samples: query :class:`~fastreid_ext.data.datasets.bases.Item` s the page lists.
        k: the default number of matches.
    """

    def __init__(self, model, cfg, index, extraction, query_modality, samples=(), k=10):
        cfg = cfg.clone()
        cfg.defrost()
        cfg.DATALOADER.NUM_WORKERS = 0  # one image a request: worker processes would only add start-up time
        cfg.freeze()
        self.model, self.cfg, self.index, self.extraction = model, cfg, index, extraction
        self.query_modality, self.samples, self.k = query_modality, list(samples), k
        self._lock = threading.Lock()

    def info(self):
        return {
            "kind": self.index.kind, "metric": self.index.metric, "count": len(self.index), "dim": self.index.dim,
            "model_fingerprint": self.index.model_fingerprint, "k": min(self.k, len(self.index)),
            "gallery_modalities": [MODALITY_NAMES[m] for m in self.extraction["modalities"]],
            "query_modality": MODALITY_NAMES[self.query_modality],
            "samples": [{"sample": i, "name": os.path.basename(item.img_path), "pid": _known(item.pid),
                         "camid": _known(item.camid)} for i, item in enumerate(self.samples)],
        }

    def _k(self, k):
        try:
            k = self.k if k is None else int(k)
        except (TypeError, ValueError):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"k must be an integer, got {k!r}") from None
        if not 1 <= k <= len(self.index):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"k must be from 1 to the gallery size {len(self.index)}, "
                                                       f"got {k}")
        return k

    def _search(self, item, k):
        start = time.perf_counter()
        with self._lock:
            result = search(self.model, self.cfg, self.index, [item], k)[0]
        return {**result, "metric": self.index.metric, "seconds": time.perf_counter() - start}

    def search_sample(self, sample, k=None):
        """The matches of sample query ``sample`` (its position in ``samples``)."""
        k = self._k(k)
        item = self.samples[self._sample_position(sample)]
        result = self._search(item._replace(modality=self.query_modality), k)
        result["query"].update(sample=int(sample), img_path=os.path.basename(item.img_path))
        return result

    def search_upload(self, data, name="upload", k=None):
        """The matches of an uploaded image file (bytes); :class:`RequestError` if it is not an image."""
        k = self._k(k)
        if not data:
            raise RequestError(HTTPStatus.BAD_REQUEST, "The upload is empty: send one image file")
        with tempfile.TemporaryDirectory(prefix="search-upload-") as folder:
            path = os.path.join(folder, "query")
            with open(path, "wb") as f:
                f.write(data)
            problem = check_image(path)
            if problem is not None:
                raise RequestError(HTTPStatus.BAD_REQUEST,
                                   f"{name!r} is not an image the server can read (JPEG, PNG or BMP): "
                                   f"{problem.split(' (')[0]}")  # the detail would name the temporary file
            result = self._search(Item(path, UNKNOWN, UNKNOWN, self.query_modality, None), k)
        result["query"]["img_path"] = name
        return result

    def _sample_position(self, sample):
        try:
            position = int(sample)
        except (TypeError, ValueError):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"sample must be an integer, got {sample!r}") from None
        if not 0 <= position < len(self.samples):
            raise RequestError(HTTPStatus.NOT_FOUND, f"no sample query {position} (there are {len(self.samples)})")
        return position

    def sample_image(self, sample):
        """The file of sample query ``sample``."""
        return self.samples[self._sample_position(sample)][0]

    def gallery_image(self, gallery_id):
        """The file the index records for gallery id ``gallery_id``."""
        try:
            return self.index.metadata([int(gallery_id)])[0]["img_path"]
        except (ValueError, KeyError):
            raise RequestError(HTTPStatus.NOT_FOUND, f"no gallery image with id {gallery_id!r}") from None


def _known(value):
    return None if value == UNKNOWN else value


class SearchHandler(BaseHTTPRequestHandler):
    """HTTP glue: routes to the server's :class:`SearchService` (``self.server.service``)."""

    server_version = "fastreid-ext-search"

    def do_GET(self):
        self._respond(self._get)

    def do_POST(self):
        self._respond(self._post)

    def _get(self, service, path, query):
        if path == "/":
            return self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
        if path == "/api/info":
            return self._send_json(service.info())
        if path == "/api/search":
            return self._send_json(service.search_sample(_one(query, "sample"), _one(query, "k")))
        if path.startswith("/gallery/"):
            return self._send_file(service.gallery_image(path[len("/gallery/"):]))
        if path.startswith("/sample/"):
            return self._send_file(service.sample_image(path[len("/sample/"):]))
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def _post(self, service, path, query):
        if path != "/api/search":
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_UPLOAD_BYTES:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"The upload has {length} bytes; the limit is {MAX_UPLOAD_BYTES}")
        data = self.rfile.read(length)
        self._send_json(service.search_upload(data, _one(query, "name") or "upload", _one(query, "k")))

    def _respond(self, route):
        url = urlsplit(self.path)
        try:
            route(self.server.service, url.path, parse_qs(url.query))
        except RequestError as e:
            self._send_json({"error": str(e)}, e.status)
        except Exception as e:  # the page shows the message instead of a dropped connection
            logger.exception("Request %s failed", self.path)
            self._send_json({"error": f"{type(e).__name__}: {e}"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, payload, status=HTTPStatus.OK):
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send_file(self, path):
        if not os.path.isfile(path):
            raise RequestError(HTTPStatus.NOT_FOUND, f"image file {path} is missing")
        with open(path, "rb") as f:
            body = f.read()
        self._send(HTTPStatus.OK, body, mimetypes.guess_type(path)[0] or "application/octet-stream")

    def log_message(self, format, *args):
        logger.info("%s %s", self.address_string(), format % args)


def _one(query, key):
    """The value of ``key`` in a parsed query string, or None."""
    return (query.get(key) or [None])[0]


def make_server(service, host="127.0.0.1", port=8000):
    """A ``ThreadingHTTPServer`` serving ``service`` on ``host:port`` (port 0: a free one); call
    ``serve_forever()``, and ``shutdown()`` from another thread."""
    server = ThreadingHTTPServer((host, port), SearchHandler)
    server.service = service
    return server
