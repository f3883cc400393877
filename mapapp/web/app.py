"""The FastAPI application: the REST API (and, when present, the light phone page).

Why a factory: tests, ``mapapp api`` and ``uvicorn --factory`` each build an
app on their own :class:`~mapapp.settings.Settings`; nothing is read or
loaded at import time.  Run it with::

    mapapp api --host 127.0.0.1 --port 8000 --workers 2
    # or: uvicorn --factory mapapp.web.app:create_app --no-access-log --http httptools --loop uvloop

Every response carries ``Referrer-Policy: no-referrer`` and API responses
``Cache-Control: no-store``; CORS is closed unless
``MAPAPP_API_CORS_ORIGINS`` lists origins; each client is limited to
``MAPAPP_API_RATE_LIMIT`` requests a minute; errors are RFC 9457 problem
details in French or English; the access log, if on, never shows a query
string nor a client address; FastAPI's OpenTelemetry hooks are off (they
would record URLs).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mapapp import __version__
from mapapp.settings import Settings
from mapapp.web.middleware import ExactRoutes, RateLimit, SecurityHeaders, quiet_access_log
from mapapp.web.models import Problem
from mapapp.web.problems import PROBLEM_JSON, ApiProblem, negotiate_lang, problem_body
from mapapp.web.state import ApiState

__all__ = ["create_app"]

_log = logging.getLogger("mapapp.web")


def _lang(request: Request) -> str:
    return negotiate_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _problem(request: Request, slug: str, status: int, **extra: object) -> JSONResponse:
    lang = negotiate_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    body = problem_body(slug, status, lang, request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def on_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return _problem(request, exc.slug, exc.status, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: never the rejected value (it may be her place).
        errors = [
            {"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return _problem(request, "invalid-parameters", 422, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "route-not-found", 405: "method-not-allowed"}.get(exc.status_code)
        response = _problem(request, slug or "invalid-parameters", exc.status_code)
        if exc.headers and "Allow" in exc.headers:  # RFC 9110: a 405 lists what is allowed
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    @app.exception_handler(Exception)
    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        # The type only: a message or traceback could carry request data.
        _log.error("unexpected %s on %s", type(exc).__name__, request.url.path)
        return _problem(request, "internal-error", 500)


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document with every 4xx/5xx answer as ``application/problem+json``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            problem = {"$ref": "#/components/schemas/Problem"}
            for item in schema.get("paths", {}).values():
                for operation in item.values():
                    for code, response in operation.get("responses", {}).items():
                        if code[0] in "45":
                            response["content"] = {PROBLEM_JSON: {"schema": problem}}
                    operation["responses"].setdefault(
                        "429",
                        {
                            "description": "Too many requests",
                            "content": {PROBLEM_JSON: {"schema": problem}},
                        },
                    )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _exact_routes() -> dict[str, Callable[[Request], Awaitable[Response]]]:
    """The API's hot GETs and their handlers, for :class:`~mapapp.web.middleware.ExactRoutes`."""
    from mapapp.web.api import list_obstacles, list_types, router
    from mapapp.web.fastquery import FastQueryRoute

    async def obstacles(_: Request) -> Response:
        return await list_obstacles()

    async def types(_: Request) -> Response:
        return await list_types()

    routes: dict[str, Callable[[Request], Awaitable[Response]]] = {
        "/api/v1/obstacles": obstacles,
        "/api/v1/types": types,
    }
    for route in router.routes:
        if isinstance(route, FastQueryRoute) and route.methods == {"GET"}:
            handler = route.direct_handler()
            if handler is not None:
                routes[route.path] = handler
    return routes


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the index before the worker accepts requests (none waits for a first build)."""
    # When the store is unreadable now, requests answer 503 until it is readable.
    with suppress(ApiProblem):
        await run_in_threadpool(app.state.mapapp.snapshot)
    # What is alive now (modules, geography, index, the first snapshot) lives as
    # long as the worker: keep it out of the cyclic collector.  A full collection
    # over it takes about 90 ms (bench/bench_api_cpu.py), during which the worker
    # answers nobody: the tail of the load test.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # an app built again in the same process (tests) frees this one


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application on ``settings`` (default: from the environment).

    Examples
    --------
    >>> import tempfile
    >>> app = create_app(Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()}))
    >>> sorted(p for p in app.openapi()["paths"])
    ['/api/v1/coverage', '/api/v1/obstacles', '/api/v1/plan', '/api/v1/services', '/api/v1/services/{service_id}', '/api/v1/types']
    """
    from mapapp.web import light, reserved
    from mapapp.web.api import router

    settings = settings or Settings.from_env()
    quiet_access_log()
    app = FastAPI(
        title="mapapp API",
        version=__version__,
        description=(
            "Services qui lèvent les freins à l'emploi, près d'un lieu ; couverture d'un "
            "territoire. / Services that remove obstacles to work, near a place; coverage "
            "of a territory. Records follow data·inclusion v1."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=_lifespan,
        # FastAPI's own OpenTelemetry hooks off: with a provider configured
        # anywhere in the process they would record URLs (her place and needs,
        # in the query string) and exception messages; unconfigured, they
        # still cost a check on every request.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.mapapp = ApiState(settings)
    _install_error_handlers(app)
    app.include_router(router)
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]

    # The light phone page (/m): its own router, headers and templates.
    light.mount(app, settings)
    # The coordinators' pages of the register of reserved places (/registre).
    reserved.mount(app, settings)

    # Middleware: the last added runs first.  The rate limit answers inside the
    # headers middleware so its 429 gets the same headers; the hot GETs are
    # answered inside both, without the router.
    app.add_middleware(ExactRoutes, routes=_exact_routes())
    app.add_middleware(RateLimit, per_minute=settings.api_rate_limit)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.api_cors_origins),
            allow_methods=["GET"],
            allow_headers=["Accept-Language"],
            allow_credentials=False,
        )
    # CORS closed (the default): no middleware at all, so no answer ever carries
    # an Access-Control-* header (a preflight gets the 405 problem), and no
    # request pays for the Origin check.
    app.add_middleware(SecurityHeaders)
    return app
