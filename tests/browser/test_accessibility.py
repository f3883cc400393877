"""Readable by everyone (issue 13): axe-core on every state that matters, language, keyboard.

- axe-core (``axe-playwright-python``) runs the WCAG 2.0/2.1 A and AA rules on
  the form, the results, a card's details, the coverage results and the
  safety page, at 375 px and 1366 px, in French and in English: no violation
  of impact "serious" or "critical".
- The page's ``lang`` follows the language switch; the French page holds no
  English sentence of ours nor Streamlit's own labels, the English page no
  French sentence of ours (read from the rendered text and the accessible
  names).
- Keyboard only: reach the place box, search, open a card's details.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mapapp.i18n import STRINGS, t

from . import appdriver as drv
from .harness import AppServer

pytestmark = pytest.mark.browser

WIDTHS = (375, 1366)
_BLOCKING = ("serious", "critical")
_AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
_TEXT_JS = """() => {
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label],[title],[placeholder]')) {
    for (const a of ['aria-label', 'title', 'placeholder']) {
      const v = el.getAttribute(a); if (v) parts.push(v);
    }
  }
  return parts.join('\\n');
}"""
#: Streamlit's own English labels that must not show on the French page.
_STREAMLIT_EN = ("Skip to main content", "Choose an option", "Help for ", "Main menu")


def _sentences(lang: str) -> list[str]:
    """Our sentences in ``lang`` that differ from the other language (long enough to be telling)."""
    i = 0 if lang == "fr" else 1
    out = []
    for pair in STRINGS.values():
        text, other = pair[i], pair[1 - i]
        if text != other and len(text) > 15 and "{" not in text and "\n" not in text:
            out.append(text)
    return out


@pytest.fixture
def page_at(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _axe(page: Any, state: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    drv.wait_idle(page, settle=0.8)
    # Elements Streamlit dims while a run is in flight are not what she reads.
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=30_000)
    results = Axe().run(page, options=_AXE_OPTIONS).response
    return [
        f"{state}: {v['id']} ({v['impact']}) x{len(v['nodes'])}: "
        f"{v['nodes'][0]['target']} {v['nodes'][0]['failureSummary'][:160]}"
        for v in results["violations"]
        if v.get("impact") in _BLOCKING
    ]


def _choose_language(page: Any, lang: str, expect: str = "Find a service") -> None:
    if lang == "en":
        page.get_by_text("English", exact=True).click()
        page.get_by_text(expect, exact=True).first.wait_for(timeout=30_000)
        drv.wait_idle(page, settle=0.8)


def _safety(page: Any, lang: str) -> None:
    """The safety page through its visible link (a reload would start a new, French session)."""
    page.get_by_role("link", name=t("safety_link", lang), exact=True).click()
    page.get_by_role("heading", name=t("safety_title", lang)).first.wait_for(timeout=30_000)
    drv.wait_idle(page, settle=0.8)


def _coverage_results(page: Any, server: AppServer, lang: str) -> None:
    drv.open_app(page, server.url, "couverture")
    _choose_language(page, lang, expect=t("cov_title", lang))
    button = "Analyse" if lang == "en" else "Analyser"
    page.get_by_role("button", name=button, exact=True).click()
    page.locator("[data-testid=stMetric]").first.wait_for(timeout=120_000)
    drv.wait_idle(page, settle=1.0, timeout=120)


@pytest.mark.parametrize("page_at", WIDTHS, indirect=True)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_serious_axe_violation(app_server: AppServer, page_at: Any, lang: str) -> None:
    page = page_at
    found: list[str] = []
    drv.open_app(page, app_server.url)
    _choose_language(page, lang)
    found += _axe(page, "form")
    box = "Town or postcode" if lang == "en" else drv.PLACE_BOX
    page.get_by_role("textbox", name=box, exact=True).fill("Grenoble")
    page.get_by_role("button", name="Search" if lang == "en" else drv.SEARCH_BUTTON).click()
    page.get_by_text("Modifier" if lang == "fr" else "Change", exact=True).wait_for()
    found += _axe(page, "results")
    page.get_by_text("All details" if lang == "en" else "Tous les détails").first.click()
    found += _axe(page, "card details")
    _safety(page, lang)
    found += _axe(page, "safety")
    _coverage_results(page, app_server, lang)
    found += _axe(page, "coverage results")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("page_at", [375], indirect=True)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_lang_and_no_other_language(app_server: AppServer, page_at: Any, lang: str) -> None:
    page = page_at
    drv.open_app(page, app_server.url)
    _choose_language(page, lang)
    texts = [page.evaluate(_TEXT_JS)]
    assert page.evaluate("document.documentElement.lang") == lang
    box = "Town or postcode" if lang == "en" else drv.PLACE_BOX
    page.get_by_role("textbox", name=box, exact=True).fill("Grenoble")
    page.get_by_role("button", name="Search" if lang == "en" else drv.SEARCH_BUTTON).click()
    page.get_by_text("Modifier" if lang == "fr" else "Change", exact=True).wait_for()
    drv.wait_idle(page, settle=0.8)
    texts.append(page.evaluate(_TEXT_JS))
    _safety(page, lang)
    texts.append(page.evaluate(_TEXT_JS))
    assert page.evaluate("document.documentElement.lang") == lang
    text = "\n".join(texts)
    other = _sentences("en" if lang == "fr" else "fr")
    assert len(other) > 50, "the check would be empty"
    leaked = [s for s in other if s in text]
    if lang == "fr":
        leaked += [s for s in _STREAMLIT_EN if s in text]
    assert not leaked, leaked
    assert any(s in text for s in _sentences(lang)), "the page shows none of its own sentences"


@pytest.mark.parametrize("page_at", [375], indirect=True)
def test_keyboard_only_search_and_card(app_server: AppServer, page_at: Any) -> None:
    page = page_at
    drv.open_app(page, app_server.url)

    def tab_to(test: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return
        raise AssertionError(f"Tab never reached {test}")

    tab_to(f"document.activeElement.getAttribute('aria-label') === '{drv.PLACE_BOX}'")
    page.keyboard.type("Voiron")
    page.keyboard.press("Enter")  # the form sends on Enter
    page.get_by_text("Modifier", exact=True).wait_for(timeout=60_000)
    drv.wait_idle(page)
    tab_to("(document.activeElement.innerText || '').includes('Tous les détails')")
    page.keyboard.press("Enter")
    deadline = time.time() + 10
    while time.time() < deadline and not page.get_by_text("Référence").first.is_visible():
        time.sleep(0.2)
    assert page.get_by_text("Référence").first.is_visible(), "Enter did not open the details"
