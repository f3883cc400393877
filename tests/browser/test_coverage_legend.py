"""The coverage page in Chromium: the legend whole at phone and desktop widths, the
proposed sites in the downloads.

Why in a browser: a label cut by its column ("aucun service dans la zo…") or a
legend left blank in a narrow column only shows once the page is laid out.
Each label must be entirely visible (not clipped by its box, inside the
window) and read exactly as the classes say.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from mapapp.coverage.classes import distance_classes

from . import appdriver as drv
from .harness import AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_LABELS_JS = """() => [...document.querySelectorAll('figure.coverage-legend li')].map(li => {
  const label = li.querySelector('span:last-child');
  const swatch = li.querySelector('span[aria-hidden]');
  const r = label.getBoundingClientRect();
  return {text: label.innerText, clipped: label.scrollWidth > label.clientWidth + 1,
          left: r.left, right: r.right, swatch: getComputedStyle(swatch).backgroundColor};
})"""


@pytest.fixture(params=[375, 1366], ids=lambda w: f"{w}px")
def page_at(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": request.param, "height": 900}, accept_downloads=True
    )
    yield context.new_page()
    context.close()


def _analyse(page: Any, server: AppServer) -> None:
    drv.open_app(page, server.url, "couverture")
    page.get_by_role("button", name="Analyser", exact=True).click()
    page.locator("figure.coverage-legend").first.wait_for(timeout=120_000)
    drv.wait_idle(page, settle=1.0, timeout=120)


def test_legend_is_whole(app_server: AppServer, page_at: Any) -> None:
    page = page_at
    _analyse(page, app_server)
    legend = page.locator("figure.coverage-legend").first
    legend.evaluate("e => e.scrollIntoView({block: 'center'})")
    width = page.viewport_size["width"]
    items = page.evaluate(_LABELS_JS)
    # The France view is by département: the six distance classes, in French.
    expected = list(distance_classes([1.0], lang="fr").labels)
    assert [i["text"] for i in items] == expected
    assert "aucun service dans la zone" in expected[-1]
    for item in items:
        assert not item["clipped"], item
        assert 0 <= item["left"] < item["right"] <= width, item
        assert item["swatch"] not in ("", "rgba(0, 0, 0, 0)"), item
    assert legend.is_visible()


def test_proposed_sites_are_in_every_download(
    app_server: AppServer, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _analyse(page, app_server)
    got: dict[str, bytes] = {}
    for label in ("Tableau (CSV)", "Couche (GeoJSON)", "Couche (GeoPackage)"):
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name=label).click()
        got[label] = info.value.path().read_bytes()
    rows = list(csv.DictReader(io.StringIO(got["Tableau (CSV)"].decode("utf-8"))))
    ranks = sorted(int(r["proposed_site_rank"]) for r in rows if r["proposed_site_rank"])
    assert ranks == list(range(1, len(ranks) + 1)) and 1 <= len(ranks) <= 5, ranks
    # France is drawn by département: the layer lists the same sites by département.
    features = json.loads(got["Couche (GeoJSON)"])["features"]
    listed = [
        s
        for f in features
        for s in (f["properties"].get("proposed_site_communes") or "").split("; ")
        if s
    ]
    assert sorted(int(s.split(".")[0]) for s in listed) == ranks
    assert sum(int(f["properties"]["proposed_sites"] or 0) for f in features) == len(ranks)
    gpkg = tmp_path / "layer.gpkg"
    gpkg.write_bytes(got["Couche (GeoPackage)"])
    layer = pyogrio.read_dataframe(gpkg)
    assert int(layer["proposed_sites"].sum()) == len(ranks)
    context.close()
