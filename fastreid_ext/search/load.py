"""A bounded load test of the search server: POST given bodies to ``/api/search`` over a fixed number of
connections, and time each request (count-limited by the bodies, time-limited by a deadline)."""
import http.client
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Optional
from urllib.parse import urlsplit

import numpy as np


def _post(url, label, body, timeout, deadline):
    if time.perf_counter() > deadline:
        return {"label": label, "status": None, "seconds": None}
    parts = urlsplit(url)
    start = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", f"{parts.path}?{parts.query}", body,
                           {"Content-Type": "application/octet-stream"})
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = None  # no answer (refused, reset or timed out)
    finally:
        connection.close()
    return {"label": label, "status": status, "seconds": time.perf_counter() - start}


def run_load(url: str, requests: Iterable[tuple[str, bytes]], concurrency: int = 8, timeout: float = 120.0,
             time_limit: float = 600.0) -> list[dict]:
    """POST each ``(label, body)`` of ``requests`` to ``url`` (e.g.
    ``http://127.0.0.1:8000/api/search?k=10``), ``concurrency`` at a time, in order.

    Returns:
        one dict per request, in order: ``label``, ``status`` (None: no answer, or not sent because
        ``time_limit`` seconds had passed) and ``seconds`` (the round trip).
    """
    deadline = time.perf_counter() + time_limit
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(_post, url, label, body, timeout, deadline) for label, body in requests]
        return [future.result() for future in futures]


def summarize(records: Iterable[dict], label: Optional[str] = None) -> dict:
    """``count``, ``answered``, ``errors_5xx``, ``p50_s``, ``p95_s`` and ``max_s`` of the records of ``label``
    (all when None) from :func:`run_load`."""
    chosen = [r for r in records if label is None or r["label"] == label]
    seconds = np.array([r["seconds"] for r in chosen if r["status"] is not None])
    return {"count": len(chosen), "answered": len(seconds),
            "errors_5xx": sum(1 for r in chosen if r["status"] is not None and r["status"] >= 500),
            "p50_s": float(np.percentile(seconds, 50)) if len(seconds) else None,
            "p95_s": float(np.percentile(seconds, 95)) if len(seconds) else None,
            "max_s": float(seconds.max()) if len(seconds) else None}
