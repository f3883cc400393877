"""Search filters: publics for any number of values, fees, modes, opening hours by time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery


def test_publics_filter_is_exact_past_62_distinct_values() -> None:
    """Each row welcomes only its own public; asking for one must find one row.

    The old index gave each value one of 62 bits (modulo), so ``p0`` and
    ``p62`` shared a bit and asking for ``p0`` also returned ``p62``'s row.
    """
    rows = [
        {
            "id": f"p:{i}",
            "obstacles": ["mobilite"],
            "publics": [f"p{i}"],
            "latitude": 48.0 + i * 1e-3,
            "longitude": 2.0,
        }
        for i in range(70)
    ]
    index = SearchIndex(actors_frame(rows))
    for wanted in ("p0", "p1", "p62", "p69"):
        res = index.nearest(SearchQuery(lat=48.0, lon=2.0, publics=(wanted,), limit=100))
        assert res["id"].tolist() == [f"p:{wanted[1:]}"], wanted
    both = index.nearest(SearchQuery(lat=48.0, lon=2.0, publics=("p3", "p64"), limit=100))
    assert sorted(both["id"]) == ["p:3", "p:64"]


def _index() -> SearchIndex:
    base = {"obstacles": ["numerique"], "longitude": 2.0}
    return SearchIndex(
        actors_frame(
            [
                # Paris, open Monday 09-12 (local)
                {
                    **base,
                    "id": "a:paris",
                    "latitude": 48.0,
                    "code_insee": "75111",
                    "horaires_accueil": "Mo 09:00-12:00",
                    "frais": ["gratuit"],
                },
                # La Réunion (UTC+4), open Monday 09-12 local
                {
                    **base,
                    "id": "a:reunion",
                    "latitude": 48.001,
                    "code_insee": "97411",
                    "horaires_accueil": "Mo 09:00-12:00",
                    "frais": ["payant"],
                    "modes_accueil": ["en-presentiel", "a-distance"],
                },
                # unknown hours
                {
                    **base,
                    "id": "a:unknown",
                    "latitude": 48.002,
                    "code_postal": "97400",
                    "horaires_accueil": "",
                    "frais": ["adhesion"],
                },
                # unreadable hours
                {**base, "id": "a:bad", "latitude": 48.003, "horaires_accueil": "lundi 9h-12h"},
            ]
        )
    )


def _ids(index: SearchIndex, **kw: object) -> list[str]:
    q = SearchQuery(lat=48.0, lon=2.0, limit=10, **kw)  # type: ignore[arg-type]
    return sorted(index.nearest(q)["id"])


def test_open_now_reads_each_service_in_its_own_time_zone() -> None:
    index = _index()
    # Monday 7 Dec 2026 06:30 UTC = 07:30 Paris (closed), 10:30 Réunion (open)
    early = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert _ids(index, open_at=early) == ["a:reunion"]
    # 09:30 UTC = 10:30 Paris (open), 13:30 Réunion (closed)
    later = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert _ids(index, open_at=later) == ["a:paris"]
    # A naive time is the wall clock where each service is: both open at 10:00
    assert _ids(index, open_at=datetime(2026, 12, 7, 10, 0)) == ["a:paris", "a:reunion"]


def test_open_on_a_day() -> None:
    index = _index()
    assert _ids(index, open_day=date(2026, 12, 7)) == ["a:paris", "a:reunion"]  # a Monday
    assert _ids(index, open_day=date(2026, 12, 8)) == []  # a Tuesday


def test_fees_and_modes_filters() -> None:
    index = _index()
    assert _ids(index, frais=("payant", "adhesion")) == ["a:reunion", "a:unknown"]
    assert _ids(index, modes=("a-distance",)) == ["a:reunion"]
    # no hours filter: unknown and unreadable hours are kept
    assert len(_ids(index)) == 4
