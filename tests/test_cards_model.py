"""One card model, three renderings: the page (Markdown), the text sheet and the PDF say the same.

Why: the search page, the plan and the sheets used to build card text each on
their own, and drifted (today's hours only on the plan, "contact inconnu" only
on the plan, the referral line worded three ways).  These tests hold them to
one model (:mod:`mapapp.servicecard`) and to one strings table.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest

from mapapp.geo.communes import Geography
from mapapp.plan import build_plan
from mapapp.render.cards import card_markdown, card_text, cards_from_frame, sheet_text
from mapapp.render.sheet import SheetOptions, write_sheet
from mapapp.render.text import escape_markdown
from mapapp.safety import public_view
from mapapp.schema import actors_frame
from mapapp.servicecard import LINE_KINDS, card_lines, card_title, service_cards

ROOT = Path(__file__).resolve().parents[1]
#: Monday 7 December 2026, 07:30 UTC: 08:30 in Paris, 11:30 in La Réunion (UTC+4).
MONDAY = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
#: Sunday 6 December 2026, 22:30 UTC: still Sunday in Paris, already Monday 02:30 in La Réunion.
SUNDAY_NIGHT = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
STREET = "12 impasse des Secrets"


def _actors(geo: Geography) -> gpd.GeoDataFrame:
    """Four services north of Saint-Denis (93)'s centre, in their public view: ordinary,
    hostile, confidential (a shelter, which the public view puts at its commune), no contact."""
    centre = geo.communes.loc["93066"]
    lat, lon = float(centre["lat"]), float(centre["lon"])

    def rec(key: str, nom: str, need: str, north_km: float, **more: object) -> dict[str, object]:
        place = {"commune": "Saint-Denis", "code_postal": "93200", "code_insee": "93066"}
        where = {"latitude": lat + north_km / 111.2, "longitude": lon}
        return {"id": f"t:{key}", "nom": nom, "obstacles": [need], **place, **where, **more}

    raw = actors_frame(
        [
            rec(
                "garage",
                "Garage solidaire",
                "mobilite",
                0.5,
                structure_nom="Association Roule",
                source="dora",
                adresse="3 rue A",
                telephone="01 99 00 00 01",
                courriel="garage@example.org",
                lien_source="https://dora.example.org/services/garage",
                horaires_accueil="Mo-Fr 09:00-12:00",
                frais=["gratuit"],
                publics=["femmes"],
            ),
            rec(
                "inject",
                "<script>alert(1)</script> **gras** [x](javascript:y) =SUM(A1)",
                "numerique",
                1.0,
                adresse="5 rue *B*",
                site_web="https://epn.example.org/",
                horaires_accueil="Sa 09:00-12:00",
            ),
            rec(
                "abri",
                "Accueil de jour femmes",
                "violences",
                1.5,
                adresse=STREET,
                confidential=True,
                telephone="06 00 00 00 99",
                lien_source="https://soliguide.example.org/abri",
            ),
            rec("nocontact", "Crèche sans contact", "garde-enfants", 2.0, adresse="7 rue C"),
        ]
    )
    return public_view(raw, geo.communes)


@pytest.fixture(scope="module")
def _public_frame(geo: Geography) -> gpd.GeoDataFrame:
    out = _actors(geo).drop(columns="geometry")
    out["distance_km"] = [0.5, 1.0, 1.5, 2.0]
    return out


@pytest.fixture
def frame(_public_frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A fresh copy per test (the public view is built once per module: about 1 s)."""
    return _public_frame.copy()


def _markdown_plain(md: str) -> str:
    """What a person reads of Streamlit Markdown: markers and escapes gone, links as their text."""
    md = re.sub(r"(?<!\\)\*\*", "", md)  # bold markers (escaped data stays)
    md = re.sub(r"(?<!\\)\]\(<[^>]*>\)", "]", md)  # link targets
    md = re.sub(r":material/[a-z_]+: ", "", md)
    md = re.sub(r"(?<!\\)[\[\]]", "", md)
    return re.sub(r"\\(.)", r"\1", md)


# -- item 3: today's hours on every search card, in the service's own time zone ---------


def test_a_search_card_shows_todays_hours(frame: gpd.GeoDataFrame) -> None:
    cards = {c.id: c for c in cards_from_frame(frame, lang="fr", when=MONDAY)}
    assert cards["t:garage"].today == "aujourd'hui : 09:00-12:00"
    assert cards["t:inject"].today == "fermé aujourd'hui"  # open on Saturdays only
    assert cards["t:nocontact"].today == ""  # no hours: nothing invented
    summary = card_markdown(cards["t:garage"], "fr").summary
    today = cards["t:garage"].today
    assert f"**{escape_markdown(today)}**" in summary, "today's hours stand out on the card"
    en = cards_from_frame(frame, lang="en", when=MONDAY)[0]
    assert en.today == "today: 09:00-12:00"


def test_search_cards_default_to_now() -> None:
    # Without an explicit "now", a search card still says what today is
    # (always hours, every day of the week).
    frame = actors_frame([{"id": "a", "nom": "A", "horaires_accueil": "Mo-Su 08:00-20:00"}])
    assert cards_from_frame(frame)[0].today == "aujourd'hui : 08:00-20:00"


def test_todays_hours_are_read_in_the_services_time_zone() -> None:
    # The same hours, one service in Paris, one in La Réunion; at 22:30 UTC on
    # a Sunday it is Sunday evening in Paris and Monday 02:30 in La Réunion.
    frame = actors_frame(
        [
            {"id": "p", "nom": "P", "code_insee": "93066", "horaires_accueil": "Mo 09:00-12:00"},
            {"id": "r", "nom": "R", "code_insee": "97411", "horaires_accueil": "Mo 09:00-12:00"},
        ]
    )
    paris, reunion = cards_from_frame(frame, when=SUNDAY_NIGHT)
    assert paris.today == "fermé aujourd'hui"
    assert reunion.today == "aujourd'hui : 09:00-12:00"


# -- item 2: one model, three renderings ------------------------------------------


def test_the_search_and_the_plan_build_the_same_cards(frame: gpd.GeoDataFrame) -> None:
    assert cards_from_frame(frame, when=MONDAY, ranked=False) == service_cards(frame, when=MONDAY)


def test_every_kind_of_line_has_its_icon_on_the_page() -> None:
    from mapapp.render.cards import _ICONS

    assert set(_ICONS) == set(LINE_KINDS)


def test_what_a_card_says(frame: gpd.GeoDataFrame) -> None:
    cards = {c.id: c for c in cards_from_frame(frame, lang="fr", when=MONDAY)}
    kinds = {i: [line.kind for line in card_lines(c, "fr")] for i, c in cards.items()}
    for found in kinds.values():
        assert found == sorted(found, key=LINE_KINDS.index), "lines in the one order"
    assert kinds["t:garage"] == [
        "needs",
        "where",
        "phone",
        "email",
        "source",
        "hours",
        "today",
        "conditions",
    ]
    assert "contact_unknown" in kinds["t:nocontact"] and "phone" not in kinds["t:nocontact"]
    abri = cards["t:abri"]
    assert kinds["t:abri"][:3] == ["needs", "where", "confidential"]
    assert abri.source_href is None and abri.distance is None
    assert abri.where.startswith("adresse précise non connue, dans la commune de Saint-Denis")
    assert "appelez le 3919" in abri.confidential_note
    garage = {line.kind: line for line in card_lines(cards["t:garage"], "fr")}
    assert garage["where"].text == "0,5 km à vol d'oiseau · 3 rue A, 93200 Saint-Denis"
    assert garage["conditions"].text == "Public : Femmes · Frais : Gratuit"
    assert garage["source"].href == "https://dora.example.org/services/garage"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_page_and_text_sheet_show_every_line_of_the_model(
    frame: gpd.GeoDataFrame, lang: str
) -> None:
    cards = cards_from_frame(frame, lang=lang, when=MONDAY)
    text = sheet_text(cards, lang=lang)
    for card in cards:
        md = card_markdown(card, lang)
        page = _markdown_plain("\n".join((md.title, md.meta, md.summary)))
        rows = card_text(card, lang)
        assert rows[0] == card_title(card) and card_title(card) in page
        for line in card_lines(card, lang):
            assert line.text in page, (card.id, line.kind, page)
            assert any(line.text in row for row in rows), (card.id, line.kind)
            assert line.text.replace("\n", " ") in text, (card.id, line.kind)
        # the links a page offers are the model's, no other
        hrefs = set(re.findall(r"\]\(<([^>]*)>\)", md.summary))
        assert hrefs == {x.href for x in card_lines(card, lang) if x.href}
    assert STREET not in text and "soliguide" not in text and "06 00 00 00 99" not in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils reads the PDF back")
@pytest.mark.slow
def test_the_pdf_shows_every_line_of_the_model(geo: Geography, tmp_path: Path) -> None:
    actors = _actors(geo)
    centre = geo.communes.loc["93066"]
    plan = build_plan(
        actors,
        lat=float(centre["lat"]),
        lon=float(centre["lon"]),
        obstacles=["mobilite", "numerique", "violences", "garde-enfants"],
    )
    path = write_sheet(plan, tmp_path / "s.pdf", SheetOptions(lang="fr", when=MONDAY))
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    flat = " ".join(out.stdout.split())
    cards = plan.cards(lang="fr", when=MONDAY)
    assert len(cards) == 4
    for card in cards.values():
        assert card.name in flat
        for line in card_lines(card, "fr"):
            assert " ".join(line.text.split()) in flat, (card.id, line.kind)
    assert "aujourd'hui : 09:00-12:00" in flat and "contact inconnu" in flat
    assert "soliguide" not in flat and STREET not in flat and "06 00 00 00 99" not in flat


# -- item 1: one home for strings ---------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "mapapp/web/light.py",
        "mapapp/ui/plan_view.py",
        "mapapp/render/sheet.py",
        "mapapp/render/cards.py",
        "mapapp/servicecard.py",
    ],
)
def test_no_page_keeps_its_own_string_table(module: str) -> None:
    source = (ROOT / module).read_text(encoding="utf-8")
    tables = re.findall(r"^\w+: dict\[str, tuple\[str, str\]\] = \{", source, flags=re.M)
    assert not tables, f"{module}: strings belong in mapapp.i18n.STRINGS"
    # no entry of the shape  "key": ("French", "English")  either
    pairs = re.findall(r'^\s*"[a-z0-9_]+": \(\s*"', source, flags=re.M)
    assert not pairs, (module, pairs)


def test_light_page_strings_come_from_the_one_table() -> None:
    from mapapp.i18n import STRINGS
    from mapapp.web import light

    assert light.STRINGS, "the light page has strings"
    for key, pair in light.STRINGS.items():
        assert STRINGS[f"light_{key}"] == pair
