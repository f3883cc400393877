"""A route whose query parameters are validated in one pydantic call.

Why: FastAPI checks a route's query parameters one by one, with several
Python-level look-ups per parameter and per request (is it a sequence, which
alias, which model...).  For the search, with its 17 parameters, that was
about a third of the server's CPU per request (cProfile over 2,000 searches,
``bench/bench_api_cpu.py --profile``), more than the search itself.

:class:`FastQueryRoute` keeps the endpoint's signature as the one source of
truth: the OpenAPI document is generated from it as before, and at start the
route builds from the same parameters (types, constraints, defaults) one
pydantic model, which validates a request's query string in a single call
in pydantic-core.  Invalid values raise the same
:class:`~fastapi.exceptions.RequestValidationError` (``loc`` starting with
``"query"``), so the problem details are unchanged.

It applies to ``async`` endpoints whose parameters are the request and query
parameters only, and that return a :class:`~starlette.responses.Response`
themselves; any other route falls back to FastAPI's own handler.

Examples
--------
>>> import asyncio
>>> from typing import Annotated
>>> from fastapi import Query
>>> async def x(request: Request, n: Annotated[int, Query(ge=1)] = 1,
...             tag: Annotated[list[str] | None, Query()] = None) -> Response:
...     return Response(f"{n} {tag}")
>>> from concurrent.futures import ThreadPoolExecutor
>>> handler = FastQueryRoute("/x", x).get_route_handler()
>>> def get(qs: str) -> bytes:
...     scope = {"type": "http", "query_string": qs.encode(), "headers": []}
...     async def call() -> bytes:
...         return (await handler(Request(scope))).body
...     try:  # a loop of its own, in a thread: the caller may be inside one
...         with ThreadPoolExecutor(1) as pool:
...             return pool.submit(asyncio.run, call()).result()
...     except RequestValidationError as exc:
...         return exc.errors()[0]["loc"]
>>> get("n=3&tag=a&tag=b"), get("other=1"), get("n=0")
(b"3 ['a', 'b']", b'1 None', ('query', 'n'))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi._compat import field_annotation_is_sequence
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["FastQueryRoute"]


class FastQueryRoute(APIRoute):
    """An :class:`~fastapi.routing.APIRoute` validating its query string with one model."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.direct_handler() or super().get_route_handler()

    def direct_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
        """The one-model handler, or None when the endpoint is not of the kind it serves.

        It needs nothing from FastAPI's request machinery (no dependencies, no
        exit stack), so :class:`~mapapp.web.middleware.ExactRoutes` may call it
        without the router.
        """
        d = self.dependant
        simple = not (
            d.path_params or d.header_params or d.cookie_params or d.body_params or d.dependencies
        )
        if not (simple and d.request_param_name and inspect.iscoroutinefunction(d.call)):
            return None
        model, sequences = _query_model(self.name, d.query_params)
        names = {p.alias: p.name for p in d.query_params}
        endpoint = d.call
        request_name = d.request_param_name

        async def handler(request: Request) -> Response:
            # Starlette's QueryParams, without building the multi-dict: a
            # repeated scalar keeps its last value, a list all of them in order.
            raw = request.scope.get("query_string", b"").decode("latin-1")
            given: dict[str, Any] = {}
            for alias, value in parse_qsl(raw, keep_blank_values=True):
                if alias not in names:
                    continue
                if alias in sequences:
                    given.setdefault(alias, []).append(value)
                else:
                    given[alias] = value
            try:
                values = model.model_validate(given)
            except ValidationError as exc:
                raise RequestValidationError(
                    [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
                ) from None
            kwargs = {names[a]: getattr(values, names[a]) for a in names}
            response: Response = await endpoint(**{request_name: request}, **kwargs)
            return response

        return handler


def _query_model(name: str, params: list[Any]) -> tuple[type[BaseModel], set[str]]:
    """One model from FastAPI's query-parameter fields (aliases as the input names)."""
    fields: dict[str, Any] = {}
    sequences: set[str] = set()
    for p in params:
        info = p.field_info
        if field_annotation_is_sequence(info.annotation):
            sequences.add(p.alias)
        fields[p.name] = (info.annotation, info)
    config = ConfigDict(extra="ignore", populate_by_name=False)
    model: type[BaseModel] = create_model(f"{name}_query", __config__=config, **fields)
    return model, sequences
