"""BAN geocoding through geopy, replaying recorded Géoplateforme answers (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderUnavailable

from mapapp.geo.geocode import AddressGeocoder
from mapapp.ingest import ingest
from mapapp.settings import Settings
from mapapp.store import open_store

FIX = Path(__file__).parent / "fixtures" / "ingest"
ANSWERS = {
    "221 Rue du Marche 97438 Sainte-Marie": "housenumber.json",
    "SITE DU DOMAINE 97438 Sainte-Marie": "municipality.json",
    "quelque part 38000 Grenoble": "low_score.json",
    "1 place Bellecour 38000 Grenoble": "other_commune.json",
}


class Replay(BaseSyncAdapter):
    """A geopy adapter that answers from recorded files and logs the URLs asked."""

    urls: ClassVar[list[str]] = []
    down = False

    def __init__(self, *, proxies: Any = None, ssl_context: Any = None) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        Replay.urls.append(url)
        if Replay.down:
            raise GeocoderUnavailable("Connection refused")
        q = parse_qs(urlparse(url).query)["q"][0]
        name = ANSWERS.get(q, "empty.json")
        return json.loads((FIX / "geocode" / name).read_text())

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        return json.dumps(self.get_json(url, timeout=timeout, headers=headers))


@pytest.fixture
def geocoder(tmp_path: Path) -> AddressGeocoder:
    Replay.urls = []
    Replay.down = False
    return AddressGeocoder(
        domain="data.geopf.fr/geocodage",
        cache_path=tmp_path / "geocode.sqlite",
        adapter_factory=Replay,
        min_delay=0,
        sleep=lambda s: None,
    )


def test_requests_go_to_the_geoplateforme(geocoder: AddressGeocoder) -> None:
    res = geocoder.geocode("221 Rue du Marche", "97438", "Sainte-Marie", expected_insee="97418")
    assert res is not None and res.kind == "housenumber"
    assert (res.lat, res.lon) == (-20.921291, 55.526475)
    assert Replay.urls[0].startswith("https://data.geopf.fr/geocodage/search?")


@pytest.mark.parametrize(
    ("adresse", "cp", "commune", "expected", "reason"),
    [
        ("SITE DU DOMAINE", "97438", "Sainte-Marie", "97418", "precision municipality"),
        ("quelque part", "38000", "Grenoble", "38185", "score below threshold"),
        ("1 place Bellecour", "38000", "Grenoble", "38185", "other commune"),
        ("zzzz", "", "", "", "no answer"),
    ],
)
def test_imprecise_answers_are_rejected(
    geocoder: AddressGeocoder, adresse: str, cp: str, commune: str, expected: str, reason: str
) -> None:
    assert geocoder.geocode(adresse, cp, commune, expected_insee=expected) is None
    assert geocoder.stats.reasons == {reason: 1}


def test_answers_are_cached_on_disk(geocoder: AddressGeocoder, tmp_path: Path) -> None:
    geocoder.geocode("221 Rue du Marche", "97438", "Sainte-Marie")
    geocoder.close()
    again = AddressGeocoder(
        domain="data.geopf.fr/geocodage",
        cache_path=tmp_path / "geocode.sqlite",
        adapter_factory=Replay,
        min_delay=0,
    )
    assert again.geocode("221 Rue du Marche", "97438", "Sainte-Marie") is not None
    assert len(Replay.urls) == 1 and again.stats.cache_hits == 1


def test_unreachable_geocoder_gives_up_after_retries(geocoder: AddressGeocoder) -> None:
    Replay.down = True
    for i in range(5):
        assert geocoder.geocode(f"{i} rue X", "38000", "Grenoble") is None
    assert geocoder.stats.unavailable
    # 3 failures x (1 try + 2 retries), then no more requests
    assert len(Replay.urls) == 9


@pytest.mark.slow
def test_pipeline_geocodes_rows_without_a_point(
    settings: Settings, geocoder: AddressGeocoder, tmp_path: Path
) -> None:
    report = ingest(
        [FIX / "geocode_missing.csv"],
        settings=settings,
        mapping=FIX / "geocode_missing.toml",
        geocoder=geocoder,
        report_path=tmp_path / "r.json",
    )
    actors = open_store(settings).read_actors().set_index("source_id")
    assert actors.loc["a", "precision"] == "address"
    assert actors.loc["a", "latitude"] == pytest.approx(-20.921291)
    assert actors.loc["b", "precision"] == "commune"  # municipality answer refused
    assert report["geocoding"]["accepted"] == 1
    assert report["repaired"]["by_kind"]["geocoded (BAN)"] == 1


@pytest.mark.slow
def test_no_geocode_never_asks(settings: Settings, tmp_path: Path) -> None:
    Replay.urls = []
    ingest(
        [FIX / "geocode_missing.csv"],
        settings=settings,
        mapping=FIX / "geocode_missing.toml",
        geocode=False,
        report_path=tmp_path / "r.json",
    )
    assert Replay.urls == []
