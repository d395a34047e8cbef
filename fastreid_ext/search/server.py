"""A small web page to search a saved gallery index with query images: the library of ``tools/serve.py``.

Python's ``ThreadingHTTPServer``, no other dependency. Endpoints:

- ``GET /``, ``/page.css``, ``/page.js``: the page (``static/``, package data): upload a query image or pick a
  sample, see the top-k gallery matches with their scores and metadata.
- ``GET /api/info``: the index (kind, metric, count, dim, model fingerprint), the gallery and query
  modalities, the default k and the sample queries.
- ``POST /api/search?k=K&name=FILE[&where=EXPR]``: the body is one image file, raw or as the one file of a
  multipart form (``curl -F image=@query.jpg``), sent with a Content-Length or chunked; returns ``{"query",
  "matches", "metric", "seconds"}`` (see :func:`~fastreid_ext.search.pipeline.search`), among the gallery items
  that satisfy ``where`` when given.
- ``GET /api/search?sample=I&k=K[&where=EXPR]``: the same for sample query ``I``.
- ``GET /api/describe?where=EXPR&k=K``: no query image; the items that satisfy ``where``, ranked by the joint
  probability of the attributes it names (:func:`~fastreid_ext.search.pipeline.describe`).
- ``GET /gallery/<id>``, ``GET /sample/<I>``: a gallery image (from the path the index records) or a sample
  query image. Only those: the server reads no other file.

Errors are JSON ``{"error": message}`` with status 400 (bad request, e.g. an upload that is not an image or a
malformed Content-Length), 404 (unknown id or path), 405 (PUT, DELETE, PATCH), 408 (the upload stopped), 411 (no
length) or 413 (upload over :data:`MAX_UPLOAD_BYTES`, or an image header over ``max_pixels``). Uploads are
decoded and their features extracted by a pool of ``workers`` threads, outside the lock that serialises
index searches; each request logs one access line.
"""
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any, Optional, Union
from urllib.parse import parse_qs, urlsplit

import numpy as np
import torch
from fastreid.config import CfgNode

from ..data.data_utils import check_image
from ..data.datasets.bases import MODALITY_NAMES, Item
from ..retrieval.index import GalleryIndex
from ..retrieval.where import WhereError
from .pipeline import describe, extract_items, search_features
from .sources import UNKNOWN
from .uploads import RequestError, check_decodes, check_pixels, read_body, upload_file

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# URL path -> (file of the package's static/ folder, content type).
PAGE_FILES = {"/": ("page.html", "text/html; charset=utf-8"), "/page.css": ("page.css", "text/css; charset=utf-8"),
              "/page.js": ("page.js", "text/javascript; charset=utf-8")}
MAX_PIXELS = 40_000_000
_GALLERY_ID = re.compile(r"[0-9]{1,18}")  # an int64 id, never -1


def pick_samples(items: Sequence[Item], n: int) -> list[Item]:
    """``n`` items spread evenly over ``items`` (all when there are at most ``n``)."""
    if len(items) <= n:
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))]


class SearchService:
    """What the page does, without HTTP: search with an uploaded or a sample image, find the images to show.

    Args:
        model: a model in eval mode and cfg its frozen config (``load_trained_model``).
        index, extraction: from :func:`~fastreid_ext.search.pipeline.open_index` with this model's config.
        query_modality: modality of the queries (0 visible, 1 infrared).
        samples: query :class:`~fastreid_ext.data.datasets.bases.Item` s the page lists.
        k: the default number of matches.
        attribute_threshold: the page's "yes" for an attribute is a predicted probability at least this.
        max_pixels: the largest upload, in pixels (read from the image header before decoding).
        workers: threads that decode queries and extract their features, at most that many at once.
    """

    def __init__(self, model: torch.nn.Module, cfg: CfgNode, index: GalleryIndex, extraction: dict,
                 query_modality: int, samples: Iterable[Item] = (), k: int = 10, attribute_threshold: float = 0.5,
                 max_pixels: int = MAX_PIXELS, workers: int = 2) -> None:
        cfg = cfg.clone()
        cfg.defrost()
        cfg.DATALOADER.NUM_WORKERS = 0  # one image a request: worker processes would only add start-up time
        cfg.freeze()
        self.model, self.cfg, self.index, self.extraction = model, cfg, index, extraction
        self.query_modality, self.samples, self.k = query_modality, list(samples), k
        self.attribute_threshold = attribute_threshold
        self.max_pixels = max_pixels
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(workers, thread_name_prefix="search-worker")

    def close(self) -> None:
        """Stop the worker threads (after the requests in flight)."""
        self._workers.shutdown()

    def info(self) -> dict:
        return {
            "kind": self.index.kind, "metric": self.index.metric, "count": len(self.index), "dim": self.index.dim,
            "model_fingerprint": self.index.model_fingerprint, "k": min(self.k, len(self.index)),
            "gallery_modalities": [MODALITY_NAMES[m] for m in self.extraction["modalities"]],
            "query_modality": MODALITY_NAMES[self.query_modality],
            "attributes": self.extraction.get("attributes", []), "cameras": self._cameras(),
            "attribute_threshold": self.attribute_threshold,
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

    def _cameras(self):
        if "camid" not in self.index.columns:
            return []
        camids = self.index.column("camid")
        return sorted(int(c) for c in np.unique(camids[~np.isnan(camids)]))

    def _features(self, item, upload_name):
        if upload_name is not None:
            check_decodes(item.img_path, upload_name)
        return extract_items(self.model, self.cfg, [item], verbose=False)["features"]

    def _search(self, item, k, where=None, upload_name=None):
        start = time.perf_counter()
        if where:
            try:
                self.index.matching(where)  # a bad expression is refused before any extraction
            except WhereError as e:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
        features = self._workers.submit(self._features, item, upload_name).result()
        with self._lock:
            result = search_features(self.index, [item], features, k, where or None)[0]
        return {**result, "metric": self.index.metric, "seconds": time.perf_counter() - start}

    def describe(self, where: Optional[str], k: Optional[Union[int, str]] = None) -> dict:
        """The gallery items that satisfy ``where``, by joint probability; ``matching`` counts them all."""
        k = self._k(k)
        if not where:
            raise RequestError(HTTPStatus.BAD_REQUEST, "describe needs a where expression")
        start = time.perf_counter()
        try:
            result = describe(self.index, self.extraction, where, k)
            matching = int(self.index.matching(where).sum())
        except WhereError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
        return {**result, "metric": "joint probability", "matching": matching,
                "seconds": time.perf_counter() - start}

    def search_sample(self, sample: Union[int, str], k: Optional[Union[int, str]] = None,
                      where: Optional[str] = None) -> dict:
        """The matches of sample query ``sample`` (its position in ``samples``)."""
        k = self._k(k)
        item = self.samples[self._sample_position(sample)]
        result = self._search(item._replace(modality=self.query_modality), k, where)
        result["query"].update(sample=int(sample), img_path=os.path.basename(item.img_path))
        return result

    def search_upload(self, data: bytes, name: str = "upload", k: Optional[Union[int, str]] = None,
                      where: Optional[str] = None) -> dict:
        """The matches of an uploaded image file (bytes); :class:`RequestError` if it is not an image."""
        k = self._k(k)
        if not data:
            raise RequestError(HTTPStatus.BAD_REQUEST, "The upload is empty: send one image file")
        check_pixels(data, name, self.max_pixels)
        with tempfile.TemporaryDirectory(prefix="search-upload-") as folder:
            path = os.path.join(folder, "query")
            with open(path, "wb") as f:
                f.write(data)
            problem = check_image(path)
            if problem is not None:
                raise RequestError(HTTPStatus.BAD_REQUEST,
                                   f"{name!r} is not an image the server can read (JPEG, PNG or BMP): "
                                   f"{problem.split(' (')[0]}")  # the detail would name the temporary file
            result = self._search(Item(path, UNKNOWN, UNKNOWN, self.query_modality, None), k, where, name)
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

    def sample_image(self, sample: Union[int, str]) -> str:
        """The file of sample query ``sample``."""
        return self.samples[self._sample_position(sample)][0]

    def gallery_image(self, gallery_id: Union[int, str]) -> str:
        """The file the index records for gallery id ``gallery_id``."""
        try:
            if not _GALLERY_ID.fullmatch(str(gallery_id)):
                raise ValueError(gallery_id)
            return self.index.metadata([int(gallery_id)])[0]["img_path"]
        except (ValueError, KeyError):
            raise RequestError(HTTPStatus.NOT_FOUND, f"no gallery image with id {gallery_id!r}") from None


def _known(value):
    return None if value == UNKNOWN else value


class SearchHandler(BaseHTTPRequestHandler):
    """HTTP glue: routes to the server's :class:`SearchService` (``self.server.service``)."""

    server_version = "fastreid-ext-search"
    timeout = 60  # seconds a client may stay silent (socket timeout)

    def do_GET(self) -> None:
        self._respond(self._get)

    do_HEAD = do_GET  # the same status and headers, no body

    def do_POST(self) -> None:
        self._respond(self._post)

    def do_PUT(self) -> None:
        self._respond(self._other)

    do_DELETE = do_PATCH = do_PUT

    def _other(self, service, path, query):
        raise RequestError(HTTPStatus.METHOD_NOT_ALLOWED,
                           f"{self.command} is not served: GET a page, or POST /api/search")

    def _get(self, service, path, query):
        if path in PAGE_FILES:
            name, content_type = PAGE_FILES[path]
            return self._send(HTTPStatus.OK, files(__package__).joinpath("static", name).read_bytes(), content_type)
        if path == "/api/info":
            return self._send_json(service.info())
        if path == "/api/search":
            return self._send_json(service.search_sample(_one(query, "sample"), _one(query, "k"),
                                                         _one(query, "where")))
        if path == "/api/describe":
            return self._send_json(service.describe(_one(query, "where"), _one(query, "k")))
        if path.startswith("/gallery/"):
            return self._send_file(service.gallery_image(path[len("/gallery/"):]))
        if path.startswith("/sample/"):
            return self._send_file(service.sample_image(path[len("/sample/"):]))
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def _post(self, service, path, query):
        if path != "/api/search":
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path}")
        body = read_body(self.headers, self.rfile, MAX_UPLOAD_BYTES)
        data, name = upload_file(body, self.headers.get("Content-Type"), _one(query, "name"))
        self._send_json(service.search_upload(data, name or "upload", _one(query, "k"), _one(query, "where")))

    def _respond(self, route):
        self._start = time.perf_counter()
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
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, payload, status=HTTPStatus.OK):
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send_file(self, path):
        if not os.path.isfile(path):
            raise RequestError(HTTPStatus.NOT_FOUND, f"image file {path} is missing")
        with open(path, "rb") as f:
            body = f.read()
        self._send(HTTPStatus.OK, body, mimetypes.guess_type(path)[0] or "application/octet-stream")

    def log_request(self, code: Union[int, str] = "-", size: Union[int, str] = "-") -> None:
        """The access log: one line per request, with its time."""
        seconds = time.perf_counter() - getattr(self, "_start", time.perf_counter())
        status = getattr(code, "value", code)
        logger.info('%s "%s" %s %.3f s', self.address_string(), self.requestline, status, seconds)

    def log_error(self, format: str, *args: Any) -> None:  # a malformed request also gets its access line
        logger.debug("%s %s", self.address_string(), format % args)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def _one(query, key):
    """The value of ``key`` in a parsed query string, or None."""
    return (query.get(key) or [None])[0]


def make_server(service: SearchService, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A ``ThreadingHTTPServer`` serving ``service`` on ``host:port`` (port 0: a free one); call
    ``serve_forever()``, and ``shutdown()`` from another thread."""
    server = _SearchServer((host, port), SearchHandler)
    server.service = service
    return server


class _SearchServer(ThreadingHTTPServer):
    def server_close(self):
        super().server_close()
        self.service.close()
