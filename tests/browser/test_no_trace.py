"""No trace of the person (DOMAIN.md safety rule 2), in a real browser.

She types her place and ticks her needs; afterwards her typed text, the place
it resolved to and its point must be nowhere but in her own page: not in the
address bar, not in the server's output, not in any file written by the
server, and the browser's geolocation was never asked for.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import appdriver as drv
from .harness import ALLOWED_HOSTS_NO_TILES, AppServer, Recorder, count_hosts

pytestmark = pytest.mark.browser

#: What she types: oddly written, so that finding it anywhere proves it was copied.
TYPED = "sAiNt-MaRtIn-d hErEs"
RESOLVED = "Martin-d'Hères"  # the commune it resolves to (38421)
POINT = "45.17743"  # the commune's representative point (latitude)

_GEO_SPY = """
(() => {
  window.__geo_calls = 0;
  const g = navigator.geolocation;
  if (!g) { return; }
  for (const name of ["getCurrentPosition", "watchPosition"]) {
    const original = g[name].bind(g);
    g[name] = (...args) => { window.__geo_calls += 1; return original(...args); };
  }
})();
"""


def _written_since(folder: Path, since: float, *, skip: tuple[str, ...] = ()) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(skip)]
        for name in files:
            path = Path(root) / name
            try:
                if path.stat().st_mtime >= since:
                    yield path
            except OSError:
                continue


def test_her_search_leaves_no_trace(app_server: AppServer, browser: object) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900},
        geolocation={"latitude": 45.1774, "longitude": 5.7662},
        permissions=["geolocation"],
    )
    context.add_init_script(_GEO_SPY)
    try:
        page = context.new_page()
        rec = Recorder(page)
        rec.attach()
        log_before = len(app_server.log_text())
        drv.open_app(page, app_server.url)
        page.get_by_role("button", name="Violences, séparation").click()
        drv.search(page, TYPED)
        assert RESOLVED in page.inner_text("body"), "the search did not run"
        drv.map_frame(page)
        drv.open_app(page, app_server.url, "securite")
        page.go_back()
        drv.wait_idle(page)

        # Never in the address bar (nor in the history entry it leaves).
        for text in (TYPED, RESOLVED, "violences", POINT):
            assert text.lower() not in page.url.lower()

        # Geolocation never asked for without an explicit tap.
        calls = sum(
            int(f.evaluate("window.__geo_calls || 0")) for f in page.frames if not f.is_detached()
        )
        assert calls == 0, f"the page asked for the browser's position {calls} time(s)"
        # Nothing of it went to a third party.
        count_hosts(rec)
        assert set(rec.hosts) <= ALLOWED_HOSTS_NO_TILES, set(rec.hosts)
    finally:
        context.close()

    # Not in what the server printed during the session.
    log = app_server.log_text()[log_before:]
    for text in (TYPED, RESOLVED, POINT):
        assert text not in log, f"the server output holds {text!r}"

    # Not in any file written since the server started (its HOME, the store,
    # the caches, the temporary folder).
    folders = [app_server.home, app_server.data_dir, Path(tempfile.gettempdir())]
    cache = os.environ.get("MAPAPP_CACHE_DIR")
    if cache:
        folders.append(Path(cache))
    needles = [t.encode("utf-8") for t in (TYPED, RESOLVED)]
    for folder in folders:
        for path in _written_since(folder, app_server.started, skip=("pytest-of-",)):
            if path == app_server.log or path.stat().st_size > 50_000_000:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            for needle in needles:
                assert needle not in data, f"{path} holds {needle!r}"
