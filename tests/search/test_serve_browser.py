"""The search page in a real headless Chromium: upload a query, pick a sample, upload something else."""
import shutil

import numpy as np
import pytest

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.data.build import build_cm_dataset, build_cm_test_loader
from fastreid_ext.engine import load_trained_model
from fastreid_ext.evaluation import extract
from fastreid_ext.search.sources import image_items

from .conftest import ColourAttributeModel, indexed_service, serving

pytestmark = pytest.mark.slow

K = 5


def _browser():
    """A headless Chromium driven by chromedriver, or a skip saying what to install."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed: "
                                                                  "pip install -r requirements-dev.txt")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("chromium not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,900"):
        options.add_argument(argument)
    return webdriver.Chrome(service=webdriver.ChromeService(driver), options=options)


@pytest.fixture
def page(trained_tiny, tmp_path):
    """(browser on the served page, SearchService, the trial-0 query and gallery items)."""
    browser = _browser()
    model, cfg = load_trained_model(trained_tiny)
    query, gallery = build_cm_dataset(cfg, "SYSUMM01").test_split("all-1shot-seeded", 0)
    service = indexed_service(model, cfg, gallery, str(tmp_path / "index"), query, k=K)
    with serving(service) as url:
        try:
            browser.get(url + "/")
            yield browser, service, query, gallery
        finally:
            browser.quit()


def _wait(browser, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 60).until(lambda _: condition())


def _cards(browser):
    from selenium.webdriver.common.by import By

    _wait(browser, lambda: browser.find_element(By.ID, "status").text.startswith("Top "))
    return browser.find_elements(By.CSS_SELECTOR, "#results .result-card")


def test_search_page(page, tmp_path):
    from selenium.webdriver.common.by import By

    browser, service, query, gallery = page
    samples = _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#samples .sample"))
    assert len(samples) == len(query)
    assert f"{len(gallery)} visible images" in browser.find_element(By.ID, "index-info").text

    # Upload an infrared query: k cards, scores sorted, the closest gallery image (by the shared extractor and
    # numpy's cosine) first, with its metadata.
    query_path = query[-1][0]
    browser.find_element(By.ID, "upload").send_keys(query_path)
    cards = _cards(browser)
    assert len(cards) == K
    scores = [float(card.get_attribute("data-score")) for card in cards]
    assert scores == sorted(scores, reverse=True)
    model, cfg = service.model, service.cfg
    features = extract(model, build_cm_test_loader(cfg, [query[-1]] + list(gallery)))["features"]
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    similarity = features[1:] @ features[0]
    best = int(np.argmax(similarity))
    top = cards[0]
    assert int(top.get_attribute("data-id")) == best
    assert scores[0] == pytest.approx(similarity[best], abs=1e-4)
    _, pid, camid, _, _ = gallery[best]
    assert (top.get_attribute("data-pid"), top.get_attribute("data-camid")) == (str(pid), str(camid))
    assert f"id {pid} \u00b7 cam {camid} \u00b7 visible" in top.text
    assert top.text.startswith("#1")
    assert "unknown" in top.get_attribute("class")  # an upload has no known identity

    # Pick a sample: its identity is known, so each card says whether it is the same person.
    samples[0].click()
    cards = _cards(browser)
    assert f"id {query[0][1]} \u00b7 cam {query[0][2]}" in browser.find_element(By.ID, "query-meta").text
    assert [("same" if card.get_attribute("data-pid") == str(query[0][1]) else "other")
            in card.get_attribute("class") for card in cards] == [True] * K

    # Not an image: the page says so and shows no result.
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    browser.find_element(By.ID, "upload").send_keys(str(notes))
    error = browser.find_element(By.ID, "error")
    _wait(browser, error.is_displayed)
    assert "'notes.txt' is not an image the server can read" in error.text
    assert browser.find_elements(By.CSS_SELECTOR, "#results .result-card") == []


def _shown(browser):
    """(ids, attribute dicts, camids) of the result cards on the page; ids None while they change."""
    import json

    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        cards = browser.find_elements(By.CSS_SELECTOR, "#results .result-card")
        return ([int(card.get_attribute("data-id")) for card in cards],
                [json.loads(card.get_attribute("data-attributes")) for card in cards],
                [card.get_attribute("data-camid") for card in cards])
    except StaleElementReferenceException:  # the results were being replaced: nothing settled yet
        return None, [], []


@pytest.fixture
def colour_page(colour_setup, tmp_path):
    """(browser on the page serving the colour gallery indexed with predicted attributes, SearchService)."""
    browser = _browser()
    s = colour_setup
    service = indexed_service(ColourAttributeModel().eval(), s.cfg, image_items([s.gallery], 0),
                              str(tmp_path / "index"), image_items([s.queries], 1), k=3)
    with serving(service) as url:
        try:
            browser.get(url + "/")
            yield browser, service
        finally:
            browser.quit()


def test_attribute_toggles_filter_and_describe(colour_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser, service = colour_page
    # gender is the red of the top half: the red and the orange gallery images are "yes", 2 of 4.
    where = "gender >= 0.5"
    fitting = int(service.index.matching(where).sum())
    assert fitting == 2

    samples = _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#samples .sample"))
    samples[0].click()
    assert len(_cards(browser)) == 3
    selector = "#attributes select[data-attribute='gender']"
    toggle = _wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, selector))
    Select(toggle).select_by_visible_text("yes")
    assert browser.find_element(By.ID, "where").text == f"where {where}"
    # The sample's search runs again with the filter: the page shows what the API returns, every item fitting.
    expected = [m["id"] for m in service.search_sample(0, 3, where)["matches"]]
    assert len(expected) == fitting
    _wait(browser, lambda: _shown(browser)[0] == expected)
    assert all(attrs["gender"] >= 0.5 for attrs in _shown(browser)[1])

    # Describe only, then narrow to one camera: the count and the ranking are the API's.
    browser.find_element(By.ID, "describe-only").click()
    described = service.describe(where, 3)
    _wait(browser, lambda: _shown(browser)[0] == [m["id"] for m in described["matches"]])
    assert browser.find_element(By.ID, "status").text.startswith(f"{fitting} of 4 images fit")
    assert all(attrs["gender"] >= 0.5 for attrs in _shown(browser)[1])
    Select(browser.find_element(By.ID, "camera")).select_by_visible_text("cam 1")
    narrowed = service.describe(f"{where} and camid == 1", 3)
    assert narrowed["matching"] == 1
    _wait(browser, lambda: _shown(browser)[0] == [m["id"] for m in narrowed["matches"]])
    assert browser.find_element(By.ID, "status").text.startswith("1 of 4 images fit")
    assert _shown(browser)[2] == ["1"] and _shown(browser)[1][0]["gender"] >= 0.5
    # "no" inverts it: the other two, by 1 - p(gender).
    Select(browser.find_element(By.ID, "camera")).select_by_visible_text("any")
    Select(toggle).select_by_visible_text("no")
    inverted = service.describe("gender < 0.5", 3)
    _wait(browser, lambda: _shown(browser)[0] == [m["id"] for m in inverted["matches"]])
    assert len(inverted["matches"]) == 2 and all(attrs["gender"] < 0.5 for attrs in _shown(browser)[1])
