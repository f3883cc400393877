"""The plan on the search page, in a real Chromium: phone and desktop widths, French and English.

The app runs on the embedded demonstration data (an empty store), so the
issue's case applies: Saint-Denis (93), childcare + mobility + digital help.
Checks: every need shown under its heading with the plan on top; the PDF
downloaded from the page reads back with every need; the share link holds
service ids only and opens that list; printing prints the plan, not the
interface; "all needs at once" with 0 results offers the plan.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .appdriver import open_app, wait_idle
from .conftest import _require_chromium
from .harness import AppServer, start_app

pytestmark = pytest.mark.browser

NEEDS_FR = ("Garde d'enfants", "Mobilité", "Numérique")
NEEDS_EN = ("Childcare", "Mobility", "Digital skills")
TEXT = {
    "fr": {
        "place": "Commune ou code postal",
        "search": "Rechercher",
        "plan": "Votre plan",
        "places": "Lieux où aller",
        "pdf": "Télécharger la fiche (PDF)",
        "share": "Lien à partager",
        "all": "tous ces besoins à la fois",
        "sheet": "Fiche ressources",
        "shared": "Liste partagée",
    },
    "en": {
        "place": "Town or postcode",
        "search": "Search",
        "plan": "Your plan",
        "places": "Places to go",
        "pdf": "Download the sheet (PDF)",
        "share": "Link to share",
        "all": "all of these needs at once",
        "sheet": "Resource sheet",
        "shared": "Shared list",
    },
}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on an empty store: the demonstration data."""
    _require_chromium()
    work = tmp_path_factory.mktemp("plan-app")
    server = start_app(work, tiles="none", data_dir=work / "data")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium(browser: Any) -> Any:
    """The run's one Chromium: a second sync Playwright in one process is refused."""
    return browser


def _page(chromium: Any, width: int) -> Any:
    context = chromium.new_context(
        viewport={"width": width, "height": 900},
        locale="fr-FR",
        accept_downloads=True,
        service_workers="block",
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def _search(page: Any, lang: str, *, match_all: bool = False) -> None:
    if lang == "en":
        page.get_by_text("English", exact=True).click()
        wait_idle(page)
    tx = TEXT[lang]
    page.get_by_role("textbox", name=tx["place"], exact=True).fill("Saint-Denis 93")
    for need in NEEDS_EN if lang == "en" else NEEDS_FR:
        page.get_by_role("button", name=need, exact=True).first.click()
    if match_all:
        page.get_by_text(tx["all"], exact=True).click()
    page.get_by_role("button", name=tx["search"], exact=True).click()
    wait_idle(page, settle=1.0)
    page.get_by_text(tx["plan"], exact=True).first.wait_for()


def _cli_ids(server: AppServer) -> list[str]:
    import json
    import os
    import sys

    env = {**os.environ, "MAPAPP_DATA_DIR": str(server.data_dir)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mapapp",
            "plan",
            "--near",
            "Saint-Denis 93",
            "--radius",
            "100",
            "--obstacle",
            "garde-enfants",
            "--obstacle",
            "mobilite",
            "--obstacle",
            "numerique",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return list(json.loads(out.stdout)["services"])


def _text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    return " ".join(out.stdout.split())


@pytest.mark.parametrize(("width", "lang"), [(375, "fr"), (1366, "en"), (375, "en"), (1366, "fr")])
def test_plan_on_the_page(
    demo_server: AppServer, chromium: Any, tmp_path: Path, width: int, lang: str
) -> None:
    page = _page(chromium, width)
    open_app(page, demo_server.url)
    _search(page, lang)
    tx = TEXT[lang]
    plan = page.locator(".st-key-plan_print")
    body = plan.inner_text()
    assert tx["places"] in body
    for need in NEEDS_EN if lang == "en" else NEEDS_FR:
        assert need in body, need
    page.screenshot(path=str(tmp_path / f"plan-{width}-{lang}.png"), full_page=False)
    # no horizontal scrolling at phone width
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1

    # the PDF the page offers
    with page.expect_download() as info:
        page.get_by_role("button", name=tx["pdf"]).click()
    pdf = tmp_path / "sheet.pdf"
    info.value.save_as(pdf)
    sheet = _text(pdf)
    assert tx["sheet"] in sheet
    for need in NEEDS_EN if lang == "en" else NEEDS_FR:
        assert need in sheet

    # printing prints the plan, not the interface
    page.emulate_media(media="print")
    printed = tmp_path / "printed.pdf"
    page.pdf(path=str(printed), format="A4")
    paper = _text(printed)
    assert tx["places"] in paper
    assert tx["place"] not in paper and tx["search"] + " " not in paper
    page.emulate_media(media="screen")

    # the share link: ids only, and it opens that list
    link = page.locator("[data-testid=stCode]").filter(has_text="services=").first.inner_text()
    link = link.strip()
    query = link.split("?", 1)[1]
    assert query.startswith("services=")
    for secret in ("Saint", "93200", "garde", "mobilite", "numerique", "lat", "lon", "radius"):
        assert secret not in query, secret
    # the page and `mapapp plan` agree for the same inputs (the page's default radius)
    assert query.split("=", 1)[1].split(",") == _cli_ids(demo_server)
    other = _page(chromium, width)
    other.goto(link)
    wait_idle(other, settle=1.5)
    other.get_by_text(TEXT["fr"]["shared"], exact=True).wait_for()
    shared = other.locator(".st-key-plan_print").inner_text()
    stops = plan.locator("li").all_inner_texts()
    assert stops
    for stop in stops:  # every place of the plan is in the shared list
        assert stop.rsplit(" (", 1)[0].strip() in shared, stop
    other.context.close()
    page.context.close()


def test_all_needs_at_once_with_nothing_offers_the_plan(
    demo_server: AppServer, chromium: Any
) -> None:
    page = _page(chromium, 1366)
    open_app(page, demo_server.url)
    _search(page, "fr", match_all=True)
    body = page.locator(".st-key-plan_print").inner_text()
    for need in NEEDS_FR:
        assert need in body
    page.context.close()
