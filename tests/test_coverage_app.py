"""The coverage view driven headless (AppTest), through a wrapper that renders only that page.

What is checked: the page runs without exception for a département, an EPCI,
a région and France, in both measures and in comparison mode; its figures are
those of :func:`mapapp.coverage.coverage_analysis`; the map data sent to the
browser stays under 3 MB for the département with the most communes; a
département renders in under 2 s once the shared layers are loaded.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from mapapp.coverage import Territory, coverage_analysis, worst_covered
from mapapp.geo.communes import Geography, analysis_units
from mapapp.i18n import format_number
from mapapp.safety import public_view

pytestmark = pytest.mark.slow  # spawns the app or the CLI; see README, Tests

APP = str(Path(__file__).parent / "fixtures" / "coverage" / "app_coverage.py")
MAX_MAP_BYTES = 3_000_000


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, geo: Geography) -> AppTest:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))  # empty store: demo data
    monkeypatch.setenv("MAPAPP_TILES", "none")
    from tests.conftest import _cache_dir

    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(_cache_dir()))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _submit(at: AppTest, *, territory: str, **choices: object) -> float:
    _widget(at.selectbox, "Territoire").set_value(territory)
    for label, value in choices.items():
        kinds = [at.radio, at.multiselect, at.selectbox, at.slider, at.number_input]
        widget = next(w for kind in kinds for w in kind if w.label == label)
        widget.set_value(value)
    start = time.perf_counter()
    at.button[0].click().run()
    elapsed = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def _widget(widgets, label: str):  # type: ignore[no-untyped-def]
    return next(w for w in widgets if w.label == label)


def _map_payloads(at: AppTest) -> list[int]:
    """Bytes of each folium map sent to the browser (the component's arguments)."""
    return [
        len(el.proto.json_args.encode("utf-8"))
        for el in at.get("component_instance")
        if "L.map(" in el.proto.json_args
    ]


def _metric(at: AppTest, prefix: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(prefix))


def test_nothing_is_computed_before_the_form_is_sent(app: AppTest) -> None:
    assert "vol d'oiseau" in app.markdown[0].value
    assert len(app.metric) == 0 and not _map_payloads(app)


def test_largest_departement_small_and_right(
    app: AppTest, geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    units = analysis_units(geo.communes)
    largest = units["departement"].value_counts().idxmax()  # 62, 887 communes
    # Render time is measured by bench/bench_coverage.py (a timed unit test would be
    # flaky on a loaded CI machine); here: payload size and the figures shown.
    _submit(app, territory=f"departement:{largest}")
    payloads = _map_payloads(app)
    assert len(payloads) == 1 and payloads[0] <= MAX_MAP_BYTES, payloads
    res = coverage_analysis(
        public_view(demo, geo.communes),
        geo.communes,
        territory=Territory("departement", largest),
        obstacles=["garde-enfants"],
    )
    assert _metric(app, "Population") == format_number(res.summary["population"])
    assert _metric(app, "Communes hors de portée") == format_number(
        res.summary["communes_beyond_radius"]
    )
    worst = worst_covered(res.table, 50)
    shown = next(d.value for d in app.dataframe if "nearest_nom" in d.value.columns)
    assert shown.index.tolist() == worst.index.tolist()
    assert shown["distance_km"].tolist() == worst["distance_km"].tolist()
    suggestions = next(d.value for d in app.dataframe if "population_gained" in d.value.columns)
    assert len(suggestions) == 5


def test_national_view_is_by_departement(app: AppTest) -> None:
    _submit(app, territory="france")
    payloads = _map_payloads(app)
    assert len(payloads) == 1 and payloads[0] <= MAX_MAP_BYTES
    assert any("par département" in c.value for c in app.caption)


def test_access_measure_compare_and_types(app: AppTest) -> None:
    _submit(
        app,
        territory="epci:200054781",
        **{
            "Services comptés": "type",
            "Type(s) d'acteur": ["creche", "creche-avip"],
            "Carte": "access",
            "Comparer avec (facultatif)": "type:mediation-numerique",
        },
    )
    assert len(_map_payloads(app)) == 2  # side by side
    assert any(m.label.startswith("Population") for m in app.metric)
    compare = next(d.value for d in app.dataframe if "type:mediation-numerique" in d.value.columns)
    assert "Places pour 10 000 habitants (méthode 2SFCA)" in compare["indicateur"].tolist()


def test_region_with_two_obstacles(app: AppTest) -> None:
    _submit(app, territory="region:94", **{"Frein(s)": ["mobilite", "numerique"]})
    assert app.subheader[0].value.startswith("Corse (94)")
    assert sum(_map_payloads(app)) <= MAX_MAP_BYTES


def test_no_selection_says_so(app: AppTest) -> None:
    _submit(app, territory="departement:93", **{"Frein(s)": []})
    assert any("au moins un frein" in w.value for w in app.warning)
