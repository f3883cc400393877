"""Geocoding of public service addresses at import, through the national address base.

Why here and only here: a service without coordinates is better placed at
its street than at its commune, and the national address base (BAN, served
by the Géoplateforme geocoder) is open and precise.  Only the *public*
addresses of services are ever sent, at import; a user's own search never
is (DOMAIN.md, safety rule 2).  geopy's ``BANFrance`` still defaults to a
retired address, so the domain always comes from
``Settings.geocoder_domain`` (``data.geopf.fr/geocodage``).

Answers are cached on disk (SQLite in the cache folder), so re-importing
asks nothing twice; requests are rate-limited and retried; a result is
accepted only at street precision (``housenumber`` or ``street``), above a
score threshold, and in the expected commune when one is declared.  After a
few network failures in a row the geocoder declares itself unavailable and
the import goes on with commune-level placement.

Examples
--------
>>> import tempfile, pathlib
>>> g = AddressGeocoder(domain="data.geopf.fr/geocodage",
...                     cache_path=pathlib.Path(tempfile.mkdtemp()) / "geocode.sqlite")
>>> g.query_text("221 Rue du Marche", "97438", "Sainte-Marie")
'221 Rue du Marche 97438 Sainte-Marie'
>>> g.accept({"properties": {"score": 0.93, "type": "housenumber", "citycode": "97418"},
...           "geometry": {"coordinates": [55.53, -20.9]}}, expected_insee="97418").lat
-20.9
>>> g.accept({"properties": {"score": 0.93, "type": "municipality", "citycode": "97418"},
...           "geometry": {"coordinates": [55.53, -20.9]}}) is None
True
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AddressGeocoder", "GeocodeResult", "GeocodeStats"]

_ACCEPTED_TYPES = frozenset({"housenumber", "street"})
_PLM_PREFIX = {"75056": "751", "69123": "6938", "13055": "132"}


@dataclass(frozen=True)
class GeocodeResult:
    """An accepted geocoding answer."""

    lat: float
    lon: float
    score: float
    kind: str
    citycode: str
    label: str


@dataclass
class GeocodeStats:
    """What the geocoder did during one import (for the report)."""

    asked: int = 0
    cache_hits: int = 0
    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    failures: int = 0
    unavailable: bool = False
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        """Count a rejected answer and why."""
        self.rejected += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class AddressGeocoder:
    """Cached, rate-limited BAN geocoding of public addresses.

    Parameters
    ----------
    domain : str
        Geocoder domain and path, e.g. ``data.geopf.fr/geocodage``.
    cache_path : Path
        SQLite file of cached answers (created when needed).
    min_score : float, keyword-only
        Lowest accepted BAN score (0-1).
    timeout : float, keyword-only
        Seconds to wait for one answer.
    min_delay : float, keyword-only
        Seconds between two requests (the Géoplateforme allows 50 a second;
        we stay well below).
    retries : int, keyword-only
        Extra attempts after a timeout or a server error.
    max_failures : int, keyword-only
        Consecutive failures after which the geocoder gives up for this run.
    adapter_factory : callable, optional
        geopy adapter factory (tests replay recorded answers through one).
    """

    def __init__(
        self,
        *,
        domain: str,
        cache_path: Path,
        min_score: float = 0.7,
        timeout: float = 5.0,
        min_delay: float = 0.05,
        retries: int = 2,
        max_failures: int = 3,
        adapter_factory: Callable[..., Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # imported here: geopy (and requests) take 0.15 s to import, and an
        # import without geocoding (--no-geocode) never needs them
        from geopy.geocoders import BANFrance

        kwargs: dict[str, Any] = {"domain": domain, "timeout": timeout, "user_agent": "mapapp"}
        if adapter_factory is not None:
            kwargs["adapter_factory"] = adapter_factory
        self._ban = BANFrance(**kwargs)
        self.cache_path = Path(cache_path)
        self.min_score = min_score
        self.min_delay = min_delay
        self.retries = retries
        self.max_failures = max_failures
        self.stats = GeocodeStats()
        self._sleep = sleep
        self._last = 0.0
        self._consecutive_failures = 0
        self._db: sqlite3.Connection | None = None

    # -- cache -------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.cache_path)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (query TEXT PRIMARY KEY, feature TEXT)"
            )
        return self._db

    def close(self) -> None:
        """Close the cache file."""
        if self._db is not None:
            self._db.commit()
            self._db.close()
            self._db = None

    @staticmethod
    def query_text(adresse: str, code_postal: str, commune: str) -> str:
        """The text sent to the geocoder: address, postcode and commune."""
        text = " ".join(str(p).strip() for p in (adresse, code_postal, commune) if p)
        return re.sub(r"\s+", " ", text).strip()

    def _cached(self, query: str) -> tuple[bool, Any]:
        row = (
            self._conn().execute("SELECT feature FROM answers WHERE query = ?", (query,)).fetchone()
        )
        if row is None:
            return False, None
        return True, json.loads(row[0])

    def _store(self, query: str, feature: Any) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO answers (query, feature) VALUES (?, ?)",
            (query, json.dumps(feature)),
        )
        self._conn().commit()

    # -- network -----------------------------------------------------------
    def _ask(self, query: str) -> tuple[bool, Any]:
        """``(answered, first feature or None)``; ``answered`` is False on failure."""
        from geopy.exc import GeocoderQueryError, GeopyError

        for attempt in range(self.retries + 1):
            wait = self.min_delay - (time.monotonic() - self._last)
            if wait > 0:
                self._sleep(wait)
            self._last = time.monotonic()
            self.stats.requests += 1
            try:
                location = self._ban.geocode(query, limit=1, exactly_one=True)
            except GeocoderQueryError:
                return True, None  # the service refused this text: no answer will come
            except GeopyError:
                if attempt < self.retries:
                    self._sleep(min(2.0, 0.5 * (attempt + 1)))
                    continue
                return False, None
            return True, (location.raw if location is not None else None)
        return False, None

    def lookup(self, query: str) -> Any:
        """The first feature the geocoder answers for ``query`` (cached), or None."""
        self.stats.asked += 1
        hit, feature = self._cached(query)
        if hit:
            self.stats.cache_hits += 1
            return feature
        if self.stats.unavailable:
            return None
        answered, feature = self._ask(query)
        if not answered:
            self.stats.failures += 1
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.max_failures:
                self.stats.unavailable = True
            return None
        self._consecutive_failures = 0
        self._store(query, feature)
        return feature

    def accept(self, feature: Any, *, expected_insee: str = "") -> GeocodeResult | None:
        """The result if ``feature`` is precise, confident and in the expected commune."""
        if not isinstance(feature, Mapping):
            self.stats.reject("no answer")
            return None
        props = feature.get("properties") or {}
        coords = (feature.get("geometry") or {}).get("coordinates") or []
        score = float(props.get("score") or 0.0)
        kind = str(props.get("type") or "")
        citycode = str(props.get("citycode") or "")
        if kind not in _ACCEPTED_TYPES:
            self.stats.reject(f"precision {kind or 'unknown'}")
            return None
        if score < self.min_score:
            self.stats.reject("score below threshold")
            return None
        if expected_insee and citycode != expected_insee:
            prefix = _PLM_PREFIX.get(expected_insee)
            if not (prefix and citycode.startswith(prefix)):
                self.stats.reject("other commune")
                return None
        if len(coords) < 2:
            self.stats.reject("no coordinates")
            return None
        self.stats.accepted += 1
        return GeocodeResult(
            lat=float(coords[1]),
            lon=float(coords[0]),
            score=score,
            kind=kind,
            citycode=citycode,
            label=str(props.get("label") or ""),
        )

    def geocode(
        self, adresse: str, code_postal: str, commune: str, *, expected_insee: str = ""
    ) -> GeocodeResult | None:
        """Geocode one public address; None when not found precisely enough."""
        if not str(adresse or "").strip():
            return None
        feature = self.lookup(self.query_text(adresse, code_postal, commune))
        return self.accept(feature, expected_insee=expected_insee)
