"""The search's one-call query validation accepts and refuses exactly what FastAPI does.

Reference: the same endpoint signature (the search's own, with its 17
parameters) served by FastAPI's ordinary route.  Both routes echo the values
they were given, so a difference in parsing, defaults, repeated values or
refusals shows as a different answer.
"""

from __future__ import annotations

import inspect
import json
import typing
import warnings
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from mapapp.web.api import search_services
from mapapp.web.fastquery import FastQueryRoute

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

QUERIES = [
    "lat=45.19&lon=5.73",
    "code_commune=93066&obstacles=logement&obstacles=mobilite&match=all",
    "code_commune=9306",  # bad pattern
    "code_commune=2A004&code_commune=93066",  # repeated scalar: the last one
    "commune=&lat=1",  # empty string: too short
    "lat=abc",
    "lat=91&lon=0",
    "lat=45&lon=5&size=0",
    "lat=45&lon=5&size=100&page=100",
    "lat=45&lon=5&page=1.5",
    "lat=45&lon=5&obstacles=nope",
    "lat=45&lon=5&obstacles=" + "&obstacles=".join(["logement"] * 13),  # too many
    "lat=45&lon=5&types=creche&publics=femmes&publics=jeunes&frais=gratuit",
    "lat=45&lon=5&frais=gratuit&frais=payant&frais=gratuit",  # three: too many
    "lat=45&lon=5&open_now=yes&place_reservee_libre=0",
    "lat=45&lon=5&open_now=maybe",
    "lat=45&lon=5&radius_km=0",
    "lat=45&lon=5&radius_km=1e3&lang=en",
    "lat=45&lon=5&lang=de",
    "lat=45&lon=5&unknown=1&match=",
    "obstacles=",
    "",
]


def _echo_app(route_class: type[APIRoute]) -> FastAPI:
    hints = typing.get_type_hints(search_services, include_extras=True)
    sig = inspect.signature(search_services)
    params = [p.replace(annotation=hints[p.name]) for p in sig.parameters.values()]

    async def echo(request: Request, **values: Any) -> Response:
        return JSONResponse(json.loads(json.dumps(values, default=str)))

    echo.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "type": e["type"]} for e in exc.errors()]
        return JSONResponse(errors, status_code=422)

    app.router.add_api_route("/s", echo, route_class_override=route_class)
    return app


@pytest.fixture(scope="module")
def clients() -> tuple[TestClient, TestClient]:
    return TestClient(_echo_app(APIRoute)), TestClient(_echo_app(FastQueryRoute))


@pytest.mark.parametrize("query", QUERIES)
def test_same_values_and_same_refusals_as_fastapi(
    clients: tuple[TestClient, TestClient], query: str
) -> None:
    plain, fast = (c.get(f"/s?{query}") for c in clients)
    assert fast.status_code == plain.status_code, fast.text
    assert fast.json() == plain.json()


def test_the_search_route_uses_it() -> None:
    from mapapp.web.api import router

    found = [r for r in router.routes if getattr(r, "path", "") == "/api/v1/services"]
    assert [type(r) for r in found] == [FastQueryRoute]
