"""The coordinators' pages (``/registre``): sign in, see the crèches of my scope, change them.

Why plain server-rendered forms: coordinators of a town hall or an
association change a count once a day from any office computer; a form that
works without JavaScript, behind any proxy, is all it takes, and leaves no
script to inject into.

How each boundary is kept (tests in ``tests/test_reserved_web.py``):

* **who**: a signed session cookie (``HttpOnly``, ``SameSite=Strict``,
  ``Secure`` over HTTPS, path ``/registre``) whose id the register keeps
  with an expiry (:mod:`mapapp.reserved.accounts`): expired or signed-out
  sessions are refused by the server, whatever the browser sends;
* **what**: every change checks the account's scope against the crèche's
  département (:meth:`~mapapp.reserved.accounts.User.may_edit`); everyone
  else, signed out included, only reads (the public view is elsewhere);
* **cross-site and replayed requests**: every form carries a one-time
  token bound to the session (the sign-in form to a pre-sign-in cookie),
  consumed by its POST; a POST whose ``Origin`` is another site is refused;
* **guessing**: a failed sign-in is answered with the same page, after the
  same delay (:data:`FAIL_SECONDS`), whether the account exists or not, and
  attempts are limited per account name and per client (:class:`SignInLimits`);
* **pages**: Jinja2 autoescaping, no inline script, a strict
  Content-Security-Policy, ``Cache-Control: no-store``, no framing.

Mounted by :func:`mapapp.web.app.create_app` (``mount``); French by
default, English with ``?lang=en`` (forms carry it along).

Examples
--------
>>> sorted({r.path for r in router.routes})  # type: ignore[attr-defined]
['/registre', '/registre/connexion', '/registre/creche/{actor_id:path}', '/registre/deconnexion', '/registre/style.css']
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mapapp.errors import DataValidationError, MapappError
from mapapp.i18n import Lang, t
from mapapp.reserved import accounts
from mapapp.reserved.accounts import User
from mapapp.settings import Settings
from mapapp.web.problems import negotiate_lang

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FAIL_SECONDS", "mount", "router"]

_HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "mapapp_registre"
PRE_COOKIE = "mapapp_registre_pre"
#: Every failed sign-in takes at least this long, account or not.
FAIL_SECONDS = 1.0
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;
line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;
padding:.3rem;text-align:left}label{display:block;margin:.5rem 0}input[type=text],
input[type=number],input[type=date],input[type=password]{width:100%;max-width:24rem;padding:.3rem}
.error{color:#a00;font-weight:bold}.ok{color:#060}nav form{display:inline}
button{padding:.4rem .8rem;margin:.3rem .3rem .3rem 0}
"""


class _RegisterRoute(APIRoute):
    """A route whose every response carries :data:`HEADERS`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in HEADERS.items():
                response.headers[name] = value
            return response

        return with_headers


router = APIRouter(prefix="/registre", route_class=_RegisterRoute, include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(str(_HERE / "templates" / "reserved")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _settings(request: Request) -> Settings:
    configured = getattr(request.app.state, "mapapp_reserved_settings", None)
    return configured if isinstance(configured, Settings) else Settings.from_env()


def _lang(request: Request, form: Any = None) -> Lang:
    chosen = form.get("lang") if form is not None else request.query_params.get("lang")
    return negotiate_lang(str(chosen) if chosen else None, request.headers.get("accept-language"))


def _render(name: str, lang: Lang, status: int = 200, **context: Any) -> Response:
    def tr(key: str, **values: object) -> str:
        return t(key, lang, **values)

    suffix = "?lang=en" if lang == "en" else ""
    html = _env.get_template(name).render(t=tr, lang=lang, suffix=suffix, **context)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


def _message(lang: Lang, status: int, key: str, link: str = "/registre") -> Response:
    return _render("message.html", lang, status, message=t(key, lang), link=link)


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/registre",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _current(request: Request, settings: Settings) -> tuple[User, str] | None:
    """The signed-in account and its session id, or None."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    token = accounts.unsign(settings, raw) if raw else None
    if not token:
        return None
    user = accounts.session_user(settings, token)
    return (user, token) if user else None


def _foreign_origin(request: Request) -> bool:
    """True when the browser says the form was posted from another site.

    ``Sec-Fetch-Site`` first (browsers send it even under ``Referrer-Policy:
    no-referrer``, which turns a POST's ``Origin`` into ``null``); else
    ``Origin`` when it names a site.  A request with neither (a script, an
    old browser) still needs its one-time token.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin.rstrip("/") != own


# -- the crèches of a scope ---------------------------------------------------------
_CRECHES: dict[tuple[str, str | None, str], pd.DataFrame] = {}
_CRECHES_LOCK = threading.Lock()


def _creches(settings: Settings) -> pd.DataFrame:
    """The crèches, cached per store version (the catalog is read once per import)."""
    from mapapp.catalog import store_stamp
    from mapapp.reserved.creches import creches

    key = (str(settings.data_dir), settings.store_url, store_stamp(settings))
    with _CRECHES_LOCK:
        if key not in _CRECHES:
            _CRECHES.clear()
            _CRECHES[key] = creches(settings)
        return _CRECHES[key]


def _rows(settings: Settings, user: User, dep: str) -> list[dict[str, Any]]:
    from mapapp.reserved.register import read_entries

    frame = _creches(settings)
    entries = {e.actor_id: e for e in read_entries(settings)}
    if user.role is accounts.Role.ADMIN:
        mask = frame.index.isin(list(entries)) | (frame["departement"] == dep).to_numpy()
    else:
        deps = {s[4:] for s in user.scopes if s.startswith("dep:")}
        ids = {s[7:] for s in user.scopes if s.startswith("creche:")}
        mask = frame["departement"].isin(deps).to_numpy() | frame.index.isin(list(ids))
    out = []
    for actor_id, row in frame[mask].iterrows():
        entry = entries.get(str(actor_id))
        out.append(
            {
                "id": str(actor_id),
                "url": "/registre/creche/" + quote(str(actor_id), safe=":"),
                "nom": row["nom"],
                "commune": row["commune"],
                "departement": row["departement"],
                "entry": entry,
            }
        )
    out.sort(key=lambda r: (r["entry"] is None, r["departement"], r["nom"]))
    return out


# -- sign in / out ---------------------------------------------------------------------
def _login_page(
    request: Request, settings: Settings, lang: Lang, status: int, error: bool
) -> Response:
    import secrets

    pre = secrets.token_urlsafe(24)
    token = accounts.issue_form_token(settings, "pre:" + pre)
    response = _render("login.html", lang, status, token=token, error=error)
    _set_cookie(request, response, PRE_COOKIE, accounts.sign(settings, pre), 2 * 3600)
    return response


@router.get("/style.css")
async def style() -> Response:
    """The pages' one style sheet (a file, so the CSP needs no inline style)."""
    return Response(_CSS, media_type="text/css; charset=utf-8")


@router.get("/connexion")
async def login_form(request: Request) -> Response:
    """The sign-in form."""
    settings = _settings(request)
    return await run_in_threadpool(_login_page, request, settings, _lang(request), 200, False)


@router.post("/connexion")
async def login(request: Request) -> Response:
    """Check the password; a failure takes :data:`FAIL_SECONDS` whatever the reason."""
    started = time.monotonic()
    settings = _settings(request)
    form = await request.form()
    lang = _lang(request, form)
    raw_pre = request.cookies.get(PRE_COOKIE, "")
    pre = accounts.unsign(settings, raw_pre) if raw_pre else None
    token = str(form.get("token") or "")
    if _foreign_origin(request) or not pre:
        return _message(lang, 403, "reserved_form_expired", "/registre/connexion" + _suffix(lang))
    valid = await run_in_threadpool(accounts.consume_form_token, settings, "pre:" + pre, token)
    if not valid:
        return _message(lang, 403, "reserved_form_expired", "/registre/connexion" + _suffix(lang))
    name = str(form.get("name") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    limits = getattr(request.app.state, "mapapp_reserved_limits", None)
    client = request.client.host if request.client else ""
    if isinstance(limits, SignInLimits) and not limits.allow(name, client):
        await asyncio.sleep(max(0.0, FAIL_SECONDS - (time.monotonic() - started)))
        return _message(lang, 429, "reserved_too_many", "/registre/connexion" + _suffix(lang))
    user = await run_in_threadpool(accounts.authenticate, settings, name, password)
    if user is None:
        await asyncio.sleep(max(0.0, FAIL_SECONDS - (time.monotonic() - started)))
        return await run_in_threadpool(_login_page, request, settings, lang, 401, True)
    session = await run_in_threadpool(accounts.open_session, settings, user)
    response = RedirectResponse("/registre" + _suffix(lang), status_code=303)
    _set_cookie(
        request,
        response,
        SESSION_COOKIE,
        accounts.sign(settings, session),
        accounts.SESSION_SECONDS,
    )
    response.delete_cookie(PRE_COOKIE, path="/registre")
    return response


def _suffix(lang: Lang) -> str:
    return "?lang=en" if lang == "en" else ""


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    """Sign out (the session ends on the server)."""
    settings = _settings(request)
    form = await request.form()
    lang = _lang(request, form)
    current = await run_in_threadpool(_current, request, settings)
    if current is not None:
        ok = await run_in_threadpool(
            accounts.consume_form_token, settings, current[1], str(form.get("token") or "")
        )
        if not ok or _foreign_origin(request):
            return _message(lang, 403, "reserved_form_expired")
        await run_in_threadpool(accounts.close_session, settings, current[1])
    response = RedirectResponse("/registre/connexion" + _suffix(lang), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/registre")
    return response


# -- list and change -------------------------------------------------------------------
def _list_page(request: Request, settings: Settings, lang: Lang) -> Response:
    current = _current(request, settings)
    if current is None:
        return RedirectResponse("/registre/connexion" + _suffix(lang), status_code=303)
    user, session = current
    dep = request.query_params.get("dep", "").strip().upper()[:3]
    rows = _rows(settings, user, dep)
    token = accounts.issue_form_token(settings, session)
    return _render("list.html", lang, user=user, rows=rows, token=token, dep=dep)


@router.get("")
async def register_list(request: Request) -> Response:
    """The crèches of my scope, with their reserved places (or the sign-in form)."""
    settings = _settings(request)
    return await run_in_threadpool(_list_page, request, settings, _lang(request))


def _creche(settings: Settings, actor_id: str) -> dict[str, Any] | None:
    frame = _creches(settings)
    if actor_id not in frame.index:
        return None
    row = frame.loc[actor_id]
    return {
        "id": actor_id,
        "nom": str(row["nom"]),
        "commune": str(row["commune"]),
        "departement": str(row["departement"]),
    }


def _edit_page(
    request: Request,
    settings: Settings,
    lang: Lang,
    actor_id: str,
    *,
    status: int = 200,
    error: str = "",
    saved: bool = False,
) -> Response:
    from mapapp.reserved.register import history, read_entry

    current = _current(request, settings)
    if current is None:
        return RedirectResponse("/registre/connexion" + _suffix(lang), status_code=303)
    user, session = current
    creche = _creche(settings, actor_id)
    if creche is None:
        return _message(lang, 404, "reserved_unknown_creche")
    if not user.may_edit(actor_id, creche["departement"]):
        return _message(lang, 403, "reserved_out_of_scope")
    entry = read_entry(settings, actor_id)
    token = accounts.issue_form_token(settings, session)
    return _render(
        "edit.html",
        lang,
        status,
        user=user,
        creche=creche,
        entry=entry,
        token=token,
        error=error,
        saved=saved,
        action="/registre/creche/" + quote(actor_id, safe=":"),
        history=history(settings, actor_id)[:20],
    )


@router.get("/creche/{actor_id:path}")
async def edit_form(request: Request, actor_id: str) -> Response:
    """The form to change one crèche's reserved places (in my scope only)."""
    settings = _settings(request)
    saved = request.query_params.get("ok") == "1"
    return await run_in_threadpool(
        lambda: _edit_page(request, settings, _lang(request), actor_id, saved=saved)
    )


def _change(
    request: Request, settings: Settings, actor_id: str, form: dict[str, str], lang: Lang
) -> Response:
    from mapapp.reserved.register import EDITABLE, apply_change, confirm

    current = _current(request, settings)
    if current is None:
        return _message(lang, 401, "reserved_signed_out", "/registre/connexion" + _suffix(lang))
    user, session = current
    if _foreign_origin(request) or not accounts.consume_form_token(
        settings, session, form.get("token", "")
    ):
        return _message(lang, 403, "reserved_form_expired")
    creche = _creche(settings, actor_id)
    if creche is None:
        return _message(lang, 404, "reserved_unknown_creche")
    if not user.may_edit(actor_id, creche["departement"]):
        return _message(lang, 403, "reserved_out_of_scope")
    try:
        if form.get("action") == "confirm":
            confirm(settings, actor_id, by=user.name)
        else:
            apply_change(settings, actor_id, {k: form.get(k, "") for k in EDITABLE}, by=user.name)
    except DataValidationError as exc:
        return _edit_page(request, settings, lang, actor_id, status=422, error=str(exc))
    except MapappError:
        return _message(lang, 503, "reserved_store_unavailable")
    target = "/registre/creche/" + quote(actor_id, safe=":") + "?ok=1"
    return RedirectResponse(target + ("&lang=en" if lang == "en" else ""), status_code=303)


@router.post("/creche/{actor_id:path}")
async def change(request: Request, actor_id: str) -> Response:
    """Save the form, or confirm the entry is still accurate (``action=confirm``)."""
    settings = _settings(request)
    raw = await request.form()
    form = {k: str(v)[:1000] for k, v in raw.items() if isinstance(v, str)}
    lang = _lang(request, raw)
    return await run_in_threadpool(_change, request, settings, actor_id, form, lang)


class SignInLimits:
    """Sign-in attempts allowed per account name and per client, in this process.

    An account name gets :attr:`PER_NAME_BURST` attempts, then one a minute;
    a client address gets :attr:`PER_CLIENT_BURST`, then six a minute.  Keys
    are keyed hashes (a per-process random key): memory holds no readable
    name or address.  Each worker process counts on its own.
    """

    PER_NAME_BURST = 5
    PER_CLIENT_BURST = 20

    def __init__(self) -> None:
        import secrets

        from mapapp.web.middleware import TokenBuckets

        self._salt = secrets.token_bytes(16)
        self.names = TokenBuckets(per_minute=1, burst=self.PER_NAME_BURST)
        self.clients = TokenBuckets(per_minute=6, burst=self.PER_CLIENT_BURST)

    def _key(self, text: str) -> str:
        import hashlib

        return hashlib.blake2b(text.encode(), key=self._salt, digest_size=12).hexdigest()

    def allow(self, name: str, client: str) -> bool:
        """Take one attempt from both budgets; False when either is spent."""
        by_name = self.names.take(self._key(name.strip().lower()))
        by_client = self.clients.take(self._key(client))
        return by_name <= 0 and by_client <= 0


def mount(app: FastAPI, settings: Settings | None = None) -> None:
    """Serve the coordinators' pages on ``app`` at ``/registre``.

    ``settings`` default to the environment's, read on each request.
    """
    if settings is not None:
        app.state.mapapp_reserved_settings = settings
    app.state.mapapp_reserved_limits = SignInLimits()
    app.include_router(router)
