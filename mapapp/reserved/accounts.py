"""Who may change the register: accounts, roles, scopes, sessions and one-time form tokens.

Why each piece:

* **argon2id hashes** (argon2-cffi's defaults: salted, memory-hard): a copy
  of the database does not give the passwords away.  A sign-in for a name
  that does not exist verifies a dummy hash, so it costs the same time
  (the web page also pads every failure to the same delay).
* **roles and scopes**: an *admin* changes every crèche; a *coordinator*
  only those of her scopes, ``dep:93`` (every crèche of the Seine-Saint-Denis)
  or ``creche:<actor id>`` (one crèche).  Everyone else only reads.
* **server-side sessions**: the cookie holds a random id signed with the
  register's secret; the database keeps only its SHA-256 and an expiry, so a
  session ends when it expires or signs out, whatever the browser keeps.
* **one-time form tokens**: every form carries a random token bound to the
  session, consumed by its POST.  A forged request (no token, another
  session's token) and a replayed one (the token already used) are refused.

Examples
--------
>>> parse_scope("dep:93"), parse_scope("DEP:2a"), parse_scope("creche:dora:abc")
('dep:93', 'dep:2A', 'creche:dora:abc')
>>> user = User("amina", Role.COORDINATOR, ("dep:93",))
>>> user.may_edit("x:1", "93"), user.may_edit("x:2", "95")
(True, False)
>>> User("root", Role.ADMIN, ()).may_edit("x:2", "95")
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from mapapp.errors import DataValidationError
from mapapp.settings import Settings
from mapapp.store.reserved_db import now_iso, open_register

__all__ = [
    "SESSION_SECONDS",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "close_session",
    "consume_form_token",
    "issue_form_token",
    "list_users",
    "open_session",
    "parse_scope",
    "session_user",
    "sign",
    "unsign",
]

#: How long a session lasts after sign-in (a working day).
SESSION_SECONDS = 8 * 3600
#: How long a form stays valid after it is shown.
FORM_SECONDS = 2 * 3600
MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_DEP = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


class Role(StrEnum):
    """What an account may do."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class User:
    """A signed-in account: its name, role and scopes (``dep:93``, ``creche:<id>``)."""

    name: str
    role: Role
    scopes: tuple[str, ...] = ()

    def may_edit(self, actor_id: str, departement: str) -> bool:
        """Whether this account may change the crèche ``actor_id`` of ``departement``."""
        if self.role is Role.ADMIN:
            return True
        return f"creche:{actor_id}" in self.scopes or (
            bool(departement) and f"dep:{departement}" in self.scopes
        )


def parse_scope(text: str) -> str:
    """A scope in its canonical form, or a clear error.

    Raises
    ------
    DataValidationError
        Neither ``dep:<code>`` (a département code) nor ``creche:<actor id>``.
    """
    kind, _, value = text.strip().partition(":")
    kind = kind.lower()
    if kind == "dep" and _DEP.match(value.upper()):
        return f"dep:{value.upper()}"
    if kind == "creche" and value.strip():
        return f"creche:{value.strip()}"
    raise DataValidationError(
        f"périmètre invalide {text!r} : dep:93 ou creche:<identifiant> / "
        f"invalid scope {text!r}: dep:93 or creche:<id>"
    )


@cache
def _hasher() -> object:
    from argon2 import PasswordHasher

    return PasswordHasher()


#: The hash of a random password nobody knows, made with argon2-cffi's default
#: parameters: a sign-in for a missing account verifies it, at the same cost.
#: Written out (not computed on first use) so the first failed sign-in is not slower.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$m8Wab3O0riNcoCWfst36nA$87jTNxuh3AIpOxthW823kHrlK6wV1VbFIyF9msK/uX8"


@cache
def _dummy_hash() -> str:
    """:data:`_DUMMY`, or a new one if the library's parameters changed (then cost differs)."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    return hasher.hash(secrets.token_hex(16)) if hasher.check_needs_rehash(_DUMMY) else _DUMMY


def add_user(
    settings: Settings,
    name: str,
    password: str,
    role: Role,
    scopes: list[str] | tuple[str, ...] = (),
    *,
    replace: bool = False,
) -> User:
    """Create (or, with ``replace``, reset) an account.

    Raises
    ------
    DataValidationError
        A bad name, a short password, a coordinator without scope, an existing
        account without ``replace``.
    """
    from argon2 import PasswordHasher

    name = name.strip().lower()
    if not _NAME.match(name):
        raise DataValidationError(
            "nom de compte : 2 à 64 caractères a-z 0-9 . _ @ - / "
            "account name: 2 to 64 characters a-z 0-9 . _ @ -"
        )
    if len(password) < MIN_PASSWORD:
        raise DataValidationError(
            f"mot de passe trop court ({MIN_PASSWORD} caractères au moins) / "
            f"password too short (at least {MIN_PASSWORD} characters)"
        )
    clean = tuple(dict.fromkeys(parse_scope(s) for s in scopes))
    if role is Role.COORDINATOR and not clean:
        raise DataValidationError(
            "une coordinatrice a besoin d'un périmètre (--scope dep:93) / "
            "a coordinator needs a scope (--scope dep:93)"
        )
    hashed = PasswordHasher().hash(password)
    with open_register(settings).transaction() as tx:
        exists = tx.execute("SELECT 1 FROM mapapp_reserved_users WHERE name = %s", (name,))
        if exists and not replace:
            raise DataValidationError(
                f"le compte {name} existe déjà (--replace pour le remplacer) / "
                f"account {name} exists already (--replace to reset it)"
            )
        tx.execute("DELETE FROM mapapp_reserved_users WHERE name = %s", (name,))
        tx.execute("DELETE FROM mapapp_reserved_sessions WHERE user_name = %s", (name,))
        tx.execute(
            "INSERT INTO mapapp_reserved_users (name, password_hash, role, scopes, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (name, hashed, role.value, " ".join(clean), now_iso()),
        )
    return User(name, role, clean)


def list_users(settings: Settings) -> list[User]:
    """Every account (never its hash)."""
    rows = open_register(settings).query(
        "SELECT name, role, scopes FROM mapapp_reserved_users ORDER BY name"
    )
    return [User(n, Role(r), tuple(s.split())) for n, r, s in rows]


def authenticate(settings: Settings, name: str, password: str) -> User | None:
    """The account when ``password`` is right, else None (same work either way)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    key = name.strip().lower()[:64]
    rows = open_register(settings).query(
        "SELECT name, password_hash, role, scopes FROM mapapp_reserved_users WHERE name = %s",
        (key,),
    )
    hashed = rows[0][1] if rows else _dummy_hash()
    hasher = _hasher()
    try:
        hasher.verify(hashed, password[:1024])  # type: ignore[attr-defined]
    except (VerificationError, InvalidHashError):
        return None
    if not rows:
        return None
    found, _, role, scopes = rows[0]
    return User(found, Role(role), tuple(scopes.split()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _secret(settings: Settings) -> bytes:
    db = open_register(settings)
    rows = db.query("SELECT value FROM mapapp_reserved_meta WHERE key = %s", ("secret",))
    if not rows:
        with db.transaction() as tx:
            tx.execute(
                "INSERT INTO mapapp_reserved_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO NOTHING",
                ("secret", secrets.token_hex(32)),
            )
        rows = db.query("SELECT value FROM mapapp_reserved_meta WHERE key = %s", ("secret",))
    return bytes.fromhex(rows[0][0])


def sign(settings: Settings, value: str) -> str:
    """``value.signature``: a cookie value nobody can forge without the register's secret."""
    mac = hmac.new(_secret(settings), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(settings: Settings, signed: str) -> str | None:
    """The value of a :func:`sign` output, or None when the signature is wrong."""
    value, _, mac = signed.rpartition(".")
    expected = hmac.new(_secret(settings), value.encode(), hashlib.sha256).hexdigest()
    return value if value and hmac.compare_digest(mac, expected) else None


def open_session(settings: Settings, user: User, *, seconds: int = SESSION_SECONDS) -> str:
    """Start a session for ``user``; return the session id to sign into the cookie."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with open_register(settings).transaction() as tx:
        tx.execute("DELETE FROM mapapp_reserved_sessions WHERE expires_at < %s", (now_iso(now),))
        tx.execute(
            "INSERT INTO mapapp_reserved_sessions (id_hash, user_name, created_at, expires_at) "
            "VALUES (%s, %s, %s, %s)",
            (_digest(token), user.name, now_iso(now), now_iso(now + timedelta(seconds=seconds))),
        )
    return token


def session_user(settings: Settings, token: str) -> User | None:
    """The account of a live session, or None (unknown, expired or signed out)."""
    rows = open_register(settings).query(
        "SELECT u.name, u.role, u.scopes FROM mapapp_reserved_sessions s "
        "JOIN mapapp_reserved_users u ON u.name = s.user_name "
        "WHERE s.id_hash = %s AND s.expires_at > %s",
        (_digest(token), now_iso()),
    )
    if not rows:
        return None
    name, role, scopes = rows[0]
    return User(name, Role(role), tuple(scopes.split()))


def close_session(settings: Settings, token: str) -> None:
    """Sign out: the session is gone on the server, whatever the browser keeps."""
    with open_register(settings).transaction() as tx:
        tx.execute("DELETE FROM mapapp_reserved_sessions WHERE id_hash = %s", (_digest(token),))
        tx.execute(
            "DELETE FROM mapapp_reserved_form_tokens WHERE session_hash = %s", (_digest(token),)
        )


def issue_form_token(settings: Settings, session: str) -> str:
    """A one-time token for one form of ``session`` (a session id, or a pre-sign-in id)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with open_register(settings).transaction() as tx:
        tx.execute("DELETE FROM mapapp_reserved_form_tokens WHERE expires_at < %s", (now_iso(now),))
        tx.execute(
            "INSERT INTO mapapp_reserved_form_tokens (token_hash, session_hash, expires_at) "
            "VALUES (%s, %s, %s)",
            (_digest(token), _digest(session), now_iso(now + timedelta(seconds=FORM_SECONDS))),
        )
    return token


def consume_form_token(settings: Settings, session: str, token: str) -> bool:
    """True once for a token issued to ``session`` and not expired; False ever after."""
    if not token or not session:
        return False
    with open_register(settings).transaction() as tx:
        rows = tx.execute(
            "DELETE FROM mapapp_reserved_form_tokens "
            "WHERE token_hash = %s AND session_hash = %s AND expires_at > %s RETURNING 1",
            (_digest(token), _digest(session), now_iso()),
        )
    return len(rows) == 1
