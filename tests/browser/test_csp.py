"""The security headers documented in docs/deployment.md work with the app, in a real browser.

The headers are read from the nginx example of ``docs/deployment.md`` and
added to every response of the app (as the reverse proxy would), with the
default tile server configured.  The search, the map, the exports and the
quick exit must work, with 0 Content-Security-Policy violations in any frame.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from . import appdriver as drv
from .harness import ROOT, AppServer, Recorder

pytestmark = pytest.mark.browser

DOC = ROOT / "docs" / "deployment.md"
_HEADER = re.compile(r'add_header\s+([A-Za-z-]+)\s+"([^"]+)"\s+always;')
_SPY = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def documented_headers() -> dict[str, str]:
    """The response headers of the nginx example in docs/deployment.md."""
    headers = dict(_HEADER.findall(DOC.read_text(encoding="utf-8")))
    headers.pop("Strict-Transport-Security", None)  # meaningless over plain http
    return headers


def test_the_doc_has_the_headers() -> None:
    headers = documented_headers()
    for name in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert name in headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors" in csp and "object-src 'none'" in csp
    assert "connect-src 'self'" in csp


def _proxy(context: Any, server: AppServer, headers: dict[str, str]) -> None:
    app = urlsplit(server.url).netloc

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(drv.NEUTRAL_PREFIX):
            route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=drv.NEUTRAL_BODY
            )
        elif urlsplit(url).netloc == app:
            response = route.fetch()
            kept = {
                k: v
                for k, v in response.headers.items()
                if k.lower() not in {"content-length", "content-encoding", "transfer-encoding"}
            }
            route.fulfill(status=response.status, headers={**kept, **headers}, body=response.body())
        else:
            route.abort()

    context.route("**/*", handle)


def _violations(page: Any) -> list[str]:
    out: list[str] = []
    for frame in page.frames:
        try:
            out += frame.evaluate("window.__csp || []")
        except Exception:
            continue
    return out


def test_app_works_under_the_documented_policy(
    tiles_server: AppServer, desktop_session: Recorder
) -> None:
    page = desktop_session.page
    context = page.context
    _proxy(context, tiles_server, documented_headers())
    context.add_init_script(_SPY)
    desktop_session.allowed_hosts.add("tile.openstreetmap.org")
    desktop_session.expected_hosts.add(urlsplit(drv.NEUTRAL_PREFIX).hostname or "")
    csp_console: list[str] = []
    page.on(
        "console",
        lambda m: csp_console.append(m.text) if "Content Security Policy" in m.text else None,
    )

    drv.open_app(page, tiles_server.url)
    drv.search(page, "Grenoble", expect=10)
    frame = drv.map_frame(page, markers=11)
    assert len(drv.open_all_tooltips(frame)) == 11
    buttons = page.locator("[data-testid=stDownloadButton] button")
    with page.expect_download() as info:
        buttons.first.click()
    assert Path(info.value.path()).stat().st_size > 0
    violations = _violations(page) + csp_console
    assert violations == [], f"the documented policy breaks the app: {violations[:5]}"

    page.get_by_role("link", name=drv.QUICK_EXIT_NAME).click()
    page.wait_for_url(f"{drv.NEUTRAL_PREFIX}**")
