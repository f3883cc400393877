"""The API's cheap paths under load: same answers, fewer steps.

* :class:`~mapapp.web.middleware.ExactRoutes` answers the hot GETs without the
  router: its answers must be the router's, byte for byte, and any error must
  still come out of the whole stack as problem details;
* the worker keeps what it loaded out of the cyclic collector while it serves
  (``gc.freeze``) and gives it back when the app stops;
* with PostGIS, checking the store's stamp (every second in each worker)
  borrows a pooled connection instead of opening new ones.
"""

from __future__ import annotations

import gc
import warnings
from pathlib import Path
from typing import Any

import pytest

from mapapp.settings import Settings
from mapapp.web import app as web_app
from mapapp.web.app import create_app
from mapapp.web.middleware import ExactRoutes
from tests._async import run_alone
from tests.test_api import _records, _settings, write_store
from tests.test_store_backends import pg_template, pg_url  # noqa: F401  (fixtures)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

_GETS = [
    "/api/v1/services?lat=45.1885&lon=5.7245&size=5",
    "/api/v1/services?code_commune=38185&obstacles=mobilite",
    "/api/v1/services?commune=Grenoble&frais=gratuit&lang=en",
    "/api/v1/types",
    "/api/v1/obstacles",
    # errors: answered by the whole stack in both apps
    "/api/v1/services?commune=Xqzwv",
    "/api/v1/services?lat=45.1&size=5",
    "/api/v1/services?lat=91&lon=5",
]
_HEADERS = ("content-type", "content-length", "cache-control", "referrer-policy")


def test_exact_routes_answer_as_the_router_does(tmp_path: Path, settings: Settings, monkeypatch):
    s = _settings(tmp_path, settings)
    write_store(s, _records())
    fast = TestClient(create_app(s))
    monkeypatch.setattr(web_app, "_exact_routes", dict)  # no exact route: the router answers all
    routed = TestClient(create_app(s))
    statuses = set()
    for path in _GETS:
        a, b = fast.get(path), routed.get(path)
        statuses.add(a.status_code)
        assert (a.status_code, a.content) == (b.status_code, b.content), path
        assert [a.headers.get(h) for h in _HEADERS] == [b.headers.get(h) for h in _HEADERS], path
    assert statuses == {200, 404, 422}  # successes and problems were both compared


def _scope(method: str = "GET", path: str = "/x") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}


async def _run(middleware: ExactRoutes, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def test_exact_routes_fall_back_to_the_stack_on_errors_and_other_requests():

    from starlette.responses import Response

    inner_calls: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        inner_calls.append(f"{scope['method']} {scope['path']}")
        await Response(b"stack")(scope, receive, send)

    async def ok(_: Any) -> Response:
        return Response(b"fast")

    async def broken(_: Any) -> Response:
        raise ValueError("a bug or a problem")

    mw = ExactRoutes(inner, routes={"/ok": ok, "/broken": broken})
    bodies = {}
    for method, path in (("GET", "/ok"), ("GET", "/broken"), ("POST", "/ok"), ("GET", "/other")):
        scope = _scope(method, path)
        sent = run_alone(lambda scope=scope: _run(mw, scope))
        bodies[f"{method} {path}"] = b"".join(m.get("body", b"") for m in sent)
    assert bodies == {
        "GET /ok": b"fast",
        "GET /broken": b"stack",
        "POST /ok": b"stack",
        "GET /other": b"stack",
    }
    assert inner_calls == ["GET /broken", "POST /ok", "GET /other"]
    # behind a proxy's root path, the route is still found
    sent = run_alone(lambda: _run(mw, {**_scope("GET", "/api/ok"), "root_path": "/api"}))
    assert b"".join(m.get("body", b"") for m in sent) == b"fast"


def test_worker_freezes_its_heap_while_serving_and_releases_it_after(tmp_path, settings):
    gc.unfreeze()
    app = create_app(_settings(tmp_path, settings))
    with TestClient(app) as c:
        assert c.get("/api/v1/services?lat=45.19&lon=5.72").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


@pytest.mark.postgis
def test_postgis_stamp_checks_open_no_new_connection(pg_url, settings, monkeypatch):  # noqa: F811
    import psycopg

    from mapapp.catalog import store_stamp

    s = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_STORE_URL": pg_url,
        }
    )
    assert store_stamp(s).startswith("demo")  # nothing committed: the demonstration data
    write_store(s, _records())
    first = store_stamp(s)
    opened: list[str] = []
    real = psycopg.connect

    def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append("x")
        return real(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", counted)
    stamps = {store_stamp(s) for _ in range(5)}
    assert opened == []  # before the pool: two or three new connections per check
    assert stamps == {first} and first.startswith("pg-")
    write_store(s, _records())  # a commit by the writer: the pooled reads see it
    after = store_stamp(s)
    assert after.startswith("pg-") and after != first


def test_a_search_never_waits_for_the_stamp_check(tmp_path, settings, monkeypatch):
    """The check runs in a thread of its own; before, a search waited for it (the tail)."""
    import time

    from mapapp import catalog
    from mapapp.web import state as web_state

    s = _settings(tmp_path, settings)
    write_store(s, _records())
    app = create_app(s)
    real = catalog.store_stamp
    checks: list[float] = []

    def slow_stamp(settings: Settings) -> str:
        time.sleep(1.5)  # a store far away, or a busy one
        checks.append(time.monotonic())
        return real(settings)

    with TestClient(app) as c:
        monkeypatch.setattr(web_state, "store_stamp", slow_stamp)
        app.state.mapapp.check_seconds = 0.0  # a check is due at every request
        took = []
        for _ in range(5):
            t = time.monotonic()
            assert c.get("/api/v1/services?lat=45.19&lon=5.73").status_code == 200
            took.append(time.monotonic() - t)
        assert max(took) < 1.0, took  # none waited for the 1.5 s check
        deadline = time.monotonic() + 10
        while not checks:  # the check did run, in the background
            assert time.monotonic() < deadline, "no stamp check ran"
            time.sleep(0.1)
