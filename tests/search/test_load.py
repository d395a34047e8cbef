"""A bounded load test of the search server on 127.0.0.1: 200 uploads over 8 connections, once with a 40 MP
upload among them; the big one must not stall the small ones behind the search lock."""
import io
import os

import pytest
from PIL import Image

from fastreid_ext.search.load import run_load, summarize
from fastreid_ext.search.sources import image_items

from .conftest import indexed_service, serving

pytestmark = pytest.mark.slow

REQUESTS, CONCURRENCY = 200, 8


@pytest.fixture
def url(colour_setup, tmp_path):
    s = colour_setup
    service = indexed_service(s.model, s.cfg, image_items([s.gallery], 0), str(tmp_path / "index"), k=3, workers=2)
    with serving(service) as base:
        yield f"{base}/api/search?k=3"


def test_load_with_a_40_mp_upload_mixed_in(url, colour_setup):
    with open(os.path.join(colour_setup.queries, "cam6/0003/0001.png"), "rb") as f:
        small = f.read()
    big = io.BytesIO()
    Image.new("RGB", (8000, 5000), (30, 40, 220)).save(big, "JPEG")  # 40 MP: at the default limit
    baseline = run_load(url, [("small", small)] * REQUESTS, CONCURRENCY, time_limit=300)
    mixed = [("small", small)] * (REQUESTS - 1)
    mixed.insert(REQUESTS // 10, ("big", big.getvalue()))
    mixed = run_load(url, mixed, CONCURRENCY, time_limit=300)
    alone, together, big_s = summarize(baseline), summarize(mixed, "small"), summarize(mixed, "big")["max_s"]
    print(f"\nsmall uploads alone: {alone}\nwith one 40 MP upload: {together}\nthe 40 MP upload: {big_s:.2f} s")
    assert [r["status"] for r in baseline] == [200] * REQUESTS
    assert [r["status"] for r in mixed] == [200] * REQUESTS  # the 40 MP upload too: no 4xx, no 5xx
    # Decoding happens outside the search lock, in a pool of 2 workers: the small requests keep flowing while
    # the big one decodes. Serialised behind it, those in flight would wait its whole time.
    assert together["max_s"] < 0.6 * big_s
    assert together["p95_s"] <= 2 * alone["p95_s"] + 0.5
