"""What keeps a rerun cheap when fifty sessions search at once (issue 14).

The load benchmark (``bench/bench_load.py --only app``) measures the server
CPU per rerun; these tests pin down the mechanisms behind the figures, so a
change that brings the old costs back fails here and not only in a benchmark:
a rerun that does not change the search ("modifier") does not search again,
a card is one Markdown element (not three), the store's stamp is read at most
once a second in a live server, the big resources are out of the garbage
collector's sight, and the per-rerun timing writes nothing unless asked.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mapapp.geo.communes import Geography
from mapapp.search import SearchIndex
from mapapp.settings import Settings
from mapapp.ui import profiling, resources

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, geo: Geography) -> Path:
    """An empty store (the demo data is shown) and no map tiles."""
    from tests.conftest import _cache_dir

    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(_cache_dir()))
    return tmp_path


def _search(at: AppTest) -> AppTest:
    at.text_input(key="f_place").input("Grenoble")
    at.button_group(key="f_obstacles").set_value(["garde-enfants"])
    next(b for b in at.button if b.proto.is_form_submitter).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_modifier_reuses_the_search_and_cards_are_one_element_each(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _search(at)
    cards = [m.value for m in at.markdown if m.value.startswith("**")]
    numbered = [c for c in cards if c[2:].split("\\.", 1)[0].isdigit()]
    assert numbered, "no card listed"
    # title, meta line and summary in one element: the meta line and a summary
    # icon sit in the same Markdown as the title (before: three elements)
    assert all(":small[" in c and ":material/" in c for c in numbered), numbered[0]

    def no_search(self: SearchIndex, q: object) -> pd.DataFrame:
        raise AssertionError("the search ran again for a rerun that does not change it")

    monkeypatch.setattr(SearchIndex, "nearest", no_search)
    at.button(key="edit_search").click().run()  # "modifier": the form unfolds, results stay
    assert not at.exception, [e.value for e in at.exception]
    again = [m.value for m in at.markdown if m.value.startswith("**")]
    assert [c for c in again if c in numbered] == numbered
    assert at.text_input(key="f_place").value == "Grenoble"


@pytest.mark.slow
def test_a_new_search_is_not_served_from_the_kept_one(app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _search(at)
    first = at.session_state["search_results"]
    at.button(key="edit_search").click().run()
    at.text_input(key="f_place").input("Voiron")
    next(b for b in at.button if b.proto.is_form_submitter).click().run()
    assert not at.exception, [e.value for e in at.exception]
    second = at.session_state["search_results"]
    assert second.key != first.key
    assert any("Voiron" in h.value for h in at.subheader)


def test_stamp_read_once_per_interval_in_a_live_server(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []

    def counted(s: Settings) -> str:
        reads.append(1)
        return f"g{len(reads)}"

    monkeypatch.setattr("mapapp.catalog.store_stamp", counted)
    monkeypatch.setattr(resources, "_STAMPS", resources.StampClock(60.0))
    monkeypatch.setattr(resources, "_live_server", lambda: True)
    assert [resources.stamp(settings) for _ in range(50)] == ["g1"] * 50
    monkeypatch.setattr(resources, "_live_server", lambda: False)  # AppTest, bare mode
    assert resources.stamp(settings) == "g2" and resources.stamp(settings) == "g3"


def test_outside_a_server_the_stamp_is_read_every_time() -> None:
    assert resources._live_server() is False  # pytest is no `streamlit run`


@pytest.mark.slow
def test_the_catalogue_is_frozen_out_of_the_collector(settings: Settings) -> None:
    gc.unfreeze()
    resources._catalog.clear()
    resources._last_catalog.clear()
    resources.catalog(settings)
    assert gc.get_freeze_count() > 100_000  # the catalogue, the geography, the modules


def test_timing_writes_nothing_unless_the_benchmark_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(profiling.PROFILE_ENV, raising=False)
    ran: list[int] = []
    profiling.measured(lambda: ran.append(1))
    assert ran == [1] and not any(tmp_path.iterdir())
    monkeypatch.setenv(profiling.PROFILE_ENV, str(tmp_path))
    monkeypatch.setenv(profiling.MODE_ENV, "cpu")
    monkeypatch.setattr(profiling, "rerun_kind", lambda: "search")
    profiling.measured(lambda: ran.append(2))
    kind, cpu_ms, gc_ms = (tmp_path / "cpu.txt").read_text().split()
    assert ran == [1, 2] and kind == "search" and float(cpu_ms) >= 0 and float(gc_ms) >= 0
    gc_file = f"gc-{os.getpid()}.txt"  # the process's collections per generation so far
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpu.txt", gc_file]  # no profile
    counts = [float(v) for v in (tmp_path / gc_file).read_text().split()]
    assert len(counts) == 6 and all(v >= 0 for v in counts)


def test_no_full_collection_after_every_rerun() -> None:
    """Streamlit's ``runner.postScriptGC`` (a full collection after each rerun) stays off.

    Measured at 50 sessions (``bench/bench_load.py --only app``): with it,
    47 of the 57 ms of server CPU per search went to those collections (each
    walks every live object of every session); without, 4 ms, and the same
    resident memory.
    """
    from mapapp.commands.serve import HARDENED, streamlit_command

    cmd = streamlit_command(host="127.0.0.1", port=8501)
    assert cmd[cmd.index("--runner.postScriptGC") + 1] == "false"
    assert HARDENED["runner.postScriptGC"] == "false"


@pytest.mark.slow
def test_sheets_and_plan_pdf_are_written_only_when_asked(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search rerun writes no sheet: the downloads hold a function called on the click.

    Before, every rerun of every session wrote the text and CSV sheets (and,
    with two needs, the plan's PDF) whether or not anyone downloaded them.
    """
    import mapapp.render.sheet
    from mapapp.ui import search_page

    def not_now(*args: object, **kwargs: object) -> str:
        raise AssertionError("a sheet was written during a rerun")

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    with monkeypatch.context() as m:
        m.setattr(search_page, "sheet_text", not_now)
        m.setattr(search_page, "sheet_csv", not_now)
        m.setattr(mapapp.render.sheet, "sheet_pdf", not_now)
        at.text_input(key="f_place").input("Grenoble")
        at.button_group(key="f_obstacles").set_value(["garde-enfants", "numerique"])
        next(b for b in at.button if b.proto.is_form_submitter).click().run()
        assert not at.exception, [e.value for e in at.exception]
    assert any("plan" in h.value.lower() for h in at.subheader)  # two needs: the plan was drawn
    found = at.session_state["search_results"]
    text = found.sheet_text().decode("utf-8")  # what the click writes
    assert "Grenoble" in text and found.cards[0].name in text
    csv_bytes = found.sheet_csv()
    assert csv_bytes.startswith("\ufeff".encode()) and found.cards[0].name.encode() in csv_bytes


def test_markdown_escaping_table_matches_the_pattern() -> None:
    """The translation table escapes exactly what the pattern names, whatever the text."""
    from mapapp.render import text

    everything = "".join(chr(c) for c in range(0x20, 0x3000))
    by_pattern = text._MD_SPECIAL.sub(r"\\\1", everything)
    assert everything.translate(text._MD_TABLE) == by_pattern
    assert text.escape_markdown("[x](javascript:y)") == r"\[x\]\(javascript\:y\)"


def test_cards_written_from_the_cache_follow_each_search() -> None:
    """The Markdown kept per service never carries one search's distance into another's."""
    from mapapp.render import cards as cards_module
    from mapapp.render.cards import card_markdown, cards_from_frame
    from mapapp.schema import actors_frame

    frame = actors_frame(
        [
            {
                "id": "x:1",
                "nom": "Point relais",
                "commune": "Voiron",
                "precision": "commune",
                "telephone": "01 99 00 00 01",
                "horaires_accueil": "Mo 09:00-12:00",
            }
        ]
    )
    seen = []
    for km in (3.0, 12.0, 3.0):
        frame["distance_km"] = [km]
        md = card_markdown(cards_from_frame(frame, lang="fr")[0], "fr")
        seen.append(md.details)
    assert "3\\,0 km" in seen[0] and "12 km" in seen[1], seen  # escaped: "3,0 km"
    assert seen[2] == seen[0]  # the same search again: the same card
    assert cards_module._detail_rows.cache_info().hits >= 2  # the record's rows were reused
