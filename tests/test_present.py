"""mapapp.render.cards (and .text): cards, distances, hours, Markdown escaping, printable sheets."""

from __future__ import annotations

import csv
import io
import re
import string

import geopandas as gpd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapapp.emergency import load_emergency
from mapapp.i18n import format_km
from mapapp.render.cards import (
    cards_from_frame,
    format_hours,
    sheet_csv,
    sheet_text,
)
from mapapp.render.text import escape_markdown
from mapapp.schema import actors_frame


def _frame(**overrides: object) -> gpd.GeoDataFrame:
    row = {
        "id": "x:1",
        "nom": "Crèche Les Lucioles",
        "structure_nom": "Association Lucioles",
        "actor_type": "creche",
        "obstacles": ["garde-enfants", "emploi"],
        "publics": ["familles"],
        "frais": ["payant"],
        "adresse": "3 rue des Écoles",
        "code_postal": "93200",
        "commune": "Saint-Denis",
        "telephone": "01 99 00 00 01",
        "courriel": "contact@example.org",
        "site_web": "https://example.org/lucioles",
        "horaires_accueil": "Mo-Fr 08:00-18:00",
        "latitude": 48.93,
        "longitude": 2.35,
        **overrides,
    }
    frame = actors_frame([row])
    frame["distance_km"] = [1.26]
    return frame


def test_card_fields_in_french_and_english() -> None:
    fr = cards_from_frame(_frame(), lang="fr")[0]
    en = cards_from_frame(_frame(), lang="en")[0]
    assert fr.needs == ("Garde d'enfants", "Emploi, formation")
    assert en.needs == ("Childcare", "Jobs, training")
    assert (fr.distance, en.distance) == ("1,3 km", "1.3 km")
    assert (fr.hours, en.hours) == ("lun.-ven. 08:00-18:00", "Mon-Fri 08:00-18:00")
    assert fr.where == "3 rue des Écoles, 93200 Saint-Denis"
    assert fr.phone_href == "tel:0199000001"
    assert fr.email_href == "mailto:contact@example.org"
    assert fr.website_href == "https://example.org/lucioles"
    assert (fr.publics, en.publics) == (("Familles",), ("Families",))


def test_hostile_links_are_dropped() -> None:
    card = cards_from_frame(
        _frame(site_web="javascript:alert(1)", courriel="x@y.z?cc=<b>", telephone="<b>1</b>")
    )[0]
    assert card.website_href is None and card.email_href is None and card.phone_href is None


def test_remote_cards_have_no_distance() -> None:
    frame = _frame(modes_accueil=["a-distance"]).drop(columns="distance_km")
    card = cards_from_frame(frame, ranked=False)[0]
    assert card.distance is None and card.rank is None


@pytest.mark.parametrize(
    ("km", "fr", "en"),
    [
        (0.0, "0,0 km", "0.0 km"),
        (0.95, "0,9 km", "0.9 km"),
        (9.94, "9,9 km", "9.9 km"),
        (9.96, "10 km", "10 km"),
        (123.4, "123 km", "123 km"),
    ],
)
def test_format_km(km: float, fr: str, en: str) -> None:
    assert (format_km(km, "fr"), format_km(km, "en")) == (fr, en)


@pytest.mark.parametrize(
    ("osm", "fr"),
    [
        ("Mo-Fr 09:00-12:00,14:00-17:00", "lun.-ven. 09:00-12:00, 14:00-17:00"),
        ("Tu,Th 09:00-12:30; We 14:00-18:00", "mar., jeu. 09:00-12:30 ; mer. 14:00-18:00"),
        ("Mo-Sa 09:00-12:00; PH off", "lun.-sam. 09:00-12:00 ; jours fériés fermé"),
        ("24/7", "24 h/24, 7 j/7"),
        ("lundi 9h-12h", "lundi 9h-12h"),
        ("", ""),
    ],
)
def test_format_hours(osm: str, fr: str) -> None:
    assert format_hours(osm, "fr") == fr


_PUNCT = set(string.punctuation)


@given(st.text(max_size=200))
def test_escape_markdown_leaves_no_live_punctuation(text: str) -> None:
    out = escape_markdown(text)
    live = re.sub(r"\\.", "", out)  # drop every escaped pair
    assert not (_PUNCT & set(live)), out
    assert "\n" not in out and "\x00" not in out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Zs"))))
def test_escape_markdown_round_trips(text: str) -> None:
    assert re.sub(r"\\(.)", r"\1", escape_markdown(text)) == text


def test_sheet_text_lists_results_emergency_and_demo_warning() -> None:
    cards = cards_from_frame(_frame(nom="Crèche\n<b>x</b>"))
    text = sheet_text(
        cards,
        lang="fr",
        place="Saint-Denis (93)",
        needs=["Garde d'enfants"],
        demo=True,
        emergency=load_emergency(),
    )
    assert text.startswith("Fiche ressources\n")
    assert "données de démonstration" in text
    assert "Autour de : Saint-Denis (93)" in text
    assert "\n1. Crèche <b>x</b>\n   Association Lucioles · Crèche, multi-accueil\n" in text, (
        "one line, plain text"
    )
    assert "\n   1,3 km à vol d'oiseau · 3 rue des Écoles, 93200 Saint-Denis\n" in text
    assert "3919" in text and "114 (SMS)" in text and "0800 30 030" in text


def test_sheet_text_for_a_confidential_record_says_so() -> None:
    cards = cards_from_frame(_frame(confidential=True, adresse="", telephone="3919"), lang="en")
    text = sheet_text(cards, lang="en")
    assert "Confidential address" in text and "3919" in text


def test_sheet_csv_defuses_formulas_and_keeps_rows() -> None:
    cards = cards_from_frame(_frame(nom='=HYPERLINK("http://evil")', telephone="+33199000001"))
    rows = list(csv.reader(io.StringIO(sheet_csv(cards, lang="fr"))))
    assert rows[0][0] == "#" and len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    assert rows[1][6] == "'+33199000001"
    assert rows[1][4] == "1.26"
