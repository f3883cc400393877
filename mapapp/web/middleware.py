"""What every API response gets: privacy headers, a per-client rate limit, query-free logs.

Why pure ASGI middleware rather than FastAPI dependencies: they must hold for
every response, the 404 of an unknown path and the 500 of a bug included.

* **No trace of the person.** A search's query string holds her place and
  needs.  :class:`QueryFreeAccessLog` rewrites uvicorn's access-log records
  so they carry neither the query string nor the client address, whoever
  starts the server; ``mapapp api`` also turns the access log off.
* **Headers.** ``Referrer-Policy: no-referrer`` (a link followed from a
  result does not tell the site where she came from), ``Cache-Control:
  no-store`` on the API (no shared cache keeps a search),
  ``X-Content-Type-Options: nosniff``.
* **Rate limit.** An in-process token bucket per client; the client key is a
  keyed hash of the address with a per-process random key, so not even memory
  holds a readable address list.  Each worker process limits on its own: with
  N workers a client gets at most N times the rate.

Examples
--------
>>> bucket = TokenBuckets(per_minute=60, burst=2)
>>> [bucket.take("a", now=0.0) for _ in range(3)]
[0.0, 0.0, 1.0]
>>> bucket.take("a", now=1.0), bucket.take("b", now=1.0)
(0.0, 0.0)
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ExactRoutes",
    "QueryFreeAccessLog",
    "RateLimit",
    "SecurityHeaders",
    "TokenBuckets",
    "quiet_access_log",
]


class QueryFreeAccessLog(logging.Filter):
    """Drop the query string and the client address from uvicorn access-log records.

    uvicorn logs ``(client_addr, method, full_path, http_version, status_code)``.

    Examples
    --------
    >>> rec = logging.LogRecord("uvicorn.access", logging.INFO, "", 0,
    ...     '%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", "/api/v1/services?commune=x", "1.1", 200),
    ...     None)
    >>> QueryFreeAccessLog().filter(rec), rec.getMessage()
    (True, '- - "GET /api/v1/services HTTP/1.1" 200')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3:
            path = str(args[2]).split("?", 1)[0]
            record.args = ("-", args[1], path, *args[3:])
        return True


def quiet_access_log() -> None:
    """Install :class:`QueryFreeAccessLog` on uvicorn's access logger (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryFreeAccessLog) for f in logger.filters):
        logger.addFilter(QueryFreeAccessLog())


class SecurityHeaders:
    """Add privacy and security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, api_prefix: str = "/api/") -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = str(scope.get("path", "")).startswith(self.api_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"referrer-policy", b"x-content-type-options")
                    and not (is_api and k.lower() == b"cache-control")
                ]
                headers += [
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                ]
                if is_api:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ExactRoutes:
    """Answer a GET of a few exact paths by calling their handler, without the router.

    Why: FastAPI finds a request's route by trying its routes one by one (a
    dozen here, with the light page's and the register's) and then runs its
    generic request handler; for the vocabulary answers that was about half
    the server's CPU per request, and a sixth of a search's
    (``bench/bench_api_cpu.py``).  The handlers given are the routes' own
    (the search's :class:`~mapapp.web.fastquery.FastQueryRoute` handler, the
    vocabularies' cached bytes), so an answer is the same bytes either way.

    Only successes are answered here: when a handler raises (a problem, an
    invalid parameter, a bug), the request goes through the whole stack
    again, whose exception handlers turn it into problem details.  Every
    handler served here reads only: running one twice changes nothing.  It
    sits inside the headers and rate-limit middleware, which apply as before.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, Callable[[Request], Awaitable[Response]]],
    ) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = str(scope["path"])
            root = str(scope.get("root_path", ""))
            handler = self.routes.get(path[len(root) :] if root and path.startswith(root) else path)
            if handler is not None:
                try:
                    response = await handler(Request(scope, receive))
                except Exception:  # answered by the whole stack: problem details
                    await self.app(scope, receive, send)
                    return
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TokenBuckets:
    """Token buckets per client key: ``per_minute`` tokens a minute, at most ``burst`` saved.

    :meth:`take` returns 0 when a token was taken, else the seconds to wait.
    Old keys are forgotten past ``max_clients`` (least recently seen first).
    """

    def __init__(self, *, per_minute: float, burst: float, max_clients: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, *, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class RateLimit:
    """Answer 429 (problem details, ``Retry-After``) past the per-client rate."""

    def __init__(self, app: ASGIApp, *, per_minute: float, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix
        self.enabled = per_minute > 0
        self.buckets = TokenBuckets(
            per_minute=max(per_minute, 1e-9), burst=max(1.0, per_minute / 4)
        )
        self._salt = secrets.token_bytes(16)

    def _key(self, scope: Scope) -> str:
        client = scope.get("client") or ("", 0)
        return hashlib.blake2b(str(client[0]).encode(), key=self._salt, digest_size=12).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or not str(scope.get("path", "")).startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self._key(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        await _send_problem(scope, send, wait)


async def _send_problem(scope: Scope, send: Send, wait: float) -> None:
    import json

    from mapapp.web.problems import PROBLEM_JSON, negotiate_lang, problem_body

    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    query = scope.get("query_string", b"").decode("latin-1")
    param = next((p[5:] for p in query.split("&") if p.startswith("lang=")), None)
    lang = negotiate_lang(param, headers.get("accept-language"))
    body: dict[str, Any] = problem_body("too-many-requests", 429, lang, str(scope.get("path", "")))
    raw = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(raw)).encode()),
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
