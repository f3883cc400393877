"""Safety rules: confidential records never leave with their street, point or phone; safe links.

The property tests generate frames mixing confidential and public records,
then look for each confidential record's secrets in *every* value of its
public row (and in the JSON the UI would send), instead of checking only the
columns ``public_view`` is known to touch.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapapp.geo.communes import Geography
from mapapp.safety import (
    SHELTER_LINE,
    VIOLENCE_LINE,
    ConfidentialReason,
    confidentiality,
    public_view,
    safe_url,
    tel_url,
)
from mapapp.schema import actors_frame

# A tiny reference geography: two known communes, hand-placed points.
COMMUNES = pd.DataFrame(
    {"nom": ["Grenoble", "Voiron"], "lat": [45.18, 45.36], "lon": [5.72, 5.59]},
    index=pd.Index(["38185", "38563"], name="code_insee"),
)
UNKNOWN_CODE = "38999"

#: Names the one rule hides whatever the flag says (see _hidden).
SHELTER_NAMES = ["Abri ", "CHRS Les Tilleuls "]

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=3, max_size=12)
_hostile_bits = st.sampled_from(
    ["", "<b>", "{{7*7}}", "${x}", "'", '"', "\u202e", "\u200b", "\n", "é"]
)


@st.composite
def _records(draw: st.DrawFn) -> list[dict[str, object]]:
    n = draw(st.integers(min_value=1, max_value=8))
    out: list[dict[str, object]] = []
    for i in range(n):
        code = draw(st.sampled_from(["38185", "38563", UNKNOWN_CODE, ""]))
        base_lat, base_lon = (
            (45.5, 5.5) if code not in COMMUNES.index else tuple(COMMUNES.loc[code, ["lat", "lon"]])
        )
        # Keep the true point visibly apart from the commune point (>= ~100 m).
        dlat = draw(st.floats(min_value=0.001, max_value=0.05)) * draw(st.sampled_from([-1, 1]))
        dlon = draw(st.floats(min_value=0.001, max_value=0.05)) * draw(st.sampled_from([-1, 1]))
        # Streets always hold digits and " rue ", so no public value (the
        # placeholder, 3919, an INSEE code) can contain one by accident.
        # The "x" keeps a drawn word from being a shelter word ("abri", "chu").
        street = f"{draw(st.integers(1, 999))} rue {draw(_words)}x{draw(_hostile_bits)}"
        phone = "06" + "".join(
            str(d) for d in draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
        )
        sep = draw(st.sampled_from(["", " ", "."]))
        written = sep.join(phone[j : j + 2] for j in range(0, 10, 2))
        confidential = draw(st.booleans())
        mention = draw(st.sampled_from(["", street, written, f"Accueil {street}, tél {written}"]))
        out.append(
            {
                "id": f"t:{i}",
                "nom": draw(st.sampled_from([*SHELTER_NAMES, "Crèche "])) + mention,
                "description": draw(st.sampled_from(["", "Venir au ", "Appeler le "])) + mention,
                "actor_type": draw(st.sampled_from(["hebergement", "cidff", "creche"])),
                "confidential": confidential,
                "adresse": street,
                "complement_adresse": draw(st.sampled_from(["", "Bâtiment B, 2e étage"])),
                "telephone": written,
                "courriel": draw(st.sampled_from(["", f"abri{i}@exemple.fr"])),
                "siret": draw(st.sampled_from(["", "12345678900017"])),
                "referral_phone": draw(st.sampled_from(["", "", "04 76 00 00 01"])),
                "code_insee": code,
                "latitude": base_lat + dlat,
                "longitude": base_lon + dlon,
            }
        )
    return out


def _hidden(rec: dict[str, object]) -> bool:
    """Which generated records must be hidden: flagged, typed shelter, or named one."""
    named = any(str(rec["nom"]).startswith(n) for n in SHELTER_NAMES)
    return bool(rec["confidential"]) or rec["actor_type"] == "hebergement" or named


def _strings_of(row: pd.Series) -> list[str]:
    """Every value of a row as text, list items included (geometry as WKT)."""
    out: list[str] = []
    for value in row.to_numpy():
        if isinstance(value, list | tuple | np.ndarray):
            out.extend(str(v) for v in value)
        elif hasattr(value, "wkt"):
            out.append(value.wkt)
        else:
            out.append(str(value))
    return out


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records())
def test_no_confidential_secret_survives_public_view(records: list[dict[str, object]]) -> None:
    actors = actors_frame(records)
    before = actors.copy()
    shown = public_view(actors, COMMUNES)

    # The input is never modified.
    pd.testing.assert_frame_equal(actors.drop(columns="geometry"), before.drop(columns="geometry"))
    assert list(shown.index) == list(actors.index)

    for i, rec in enumerate(records):
        row = shown.iloc[i]
        if not _hidden(rec):
            # Public records pass untouched.
            assert row["adresse"] == rec["adresse"]
            assert row["telephone"] == rec["telephone"]
            assert row["latitude"] == pytest.approx(rec["latitude"])
            continue
        texts = _strings_of(row)
        blob = "\n".join(texts)
        street = str(rec["adresse"])
        assert street.lower() not in blob.lower(), f"street {street!r} leaked"
        private_digits = re.sub(r"\D", "", str(rec["telephone"]))
        for text in texts:
            assert private_digits not in re.sub(r"[\s.\-]", "", text), "private phone leaked"
        if rec["courriel"]:
            assert str(rec["courriel"]) not in blob
        if rec["siret"]:
            assert str(rec["siret"]) not in blob
        # The true coordinates are gone: the point is the commune's or none at all.
        code = str(rec["code_insee"])
        if code in COMMUNES.index:
            assert (row["latitude"], row["longitude"]) == tuple(COMMUNES.loc[code, ["lat", "lon"]])
            assert (row.geometry.y, row.geometry.x) == (row["latitude"], row["longitude"])
            assert row["precision"] == "commune"
        else:
            assert math.isnan(row["latitude"]) and math.isnan(row["longitude"])
            assert row.geometry.is_empty
            assert row["precision"] == "none"
        for coord in (rec["latitude"], rec["longitude"]):
            assert repr(coord) not in blob and f"{coord:.5f}" not in blob
        # Its own referral line, else 3919 for a violence service, else 115.
        expected_phone = rec["referral_phone"] or (
            VIOLENCE_LINE if rec["actor_type"] == "cidff" else SHELTER_LINE
        )
        assert row["telephone"] == expected_phone
        assert bool(row["confidential"])
        assert row["adresse"] == row["complement_adresse"] == row["courriel"] == ""


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(_records())
def test_public_view_is_idempotent_and_json_clean(records: list[dict[str, object]]) -> None:
    once = public_view(actors_frame(records), COMMUNES)
    twice = public_view(once, COMMUNES)
    pd.testing.assert_frame_equal(once.drop(columns="geometry"), twice.drop(columns="geometry"))
    # What a map layer would receive: GeoJSON of the public view.
    payload = once.to_json(na="null")
    json.loads(payload)  # valid JSON (no NaN)
    for rec in records:
        if _hidden(rec):
            assert str(rec["adresse"]).lower() not in payload.lower()
            assert f"{rec['latitude']:.6f}"[:-1] not in payload


@pytest.mark.slow
def test_real_commune_point_is_inside_the_commune(geo: Geography) -> None:
    actors = actors_frame(
        [
            {
                "id": "h:1",
                "actor_type": "hebergement",
                "confidential": True,
                "code_insee": "38185",
                "adresse": "12 rue Secrète",
                "latitude": 45.1901,
                "longitude": 5.7301,
            }
        ]
    )
    shown = public_view(actors, geo.communes)
    point = shown.geometry.iloc[0]
    assert geo.communes.loc["38185"].geometry.contains(point)
    assert shown.loc[0, "latitude"] == geo.communes.loc["38185", "lat"]
    assert shown.loc[0, "latitude"] != pytest.approx(45.1901, abs=1e-6)


@pytest.mark.slow
def test_public_view_of_parquet_roundtrip_with_numpy_lists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mapapp.store import ParquetStore

    store = ParquetStore(tmp_path)
    store.write_actors(
        actors_frame(
            [
                {
                    "id": "h:1",
                    "confidential": True,
                    "code_insee": "38185",
                    "adresse": "7 rue du Refuge",
                    "obstacles": ["logement"],
                    "latitude": 45.19,
                    "longitude": 5.73,
                }
            ]
        )
    )
    shown = public_view(store.read_actors(), COMMUNES)
    assert shown.loc[0, "adresse"] == ""
    assert list(shown.loc[0, "obstacles"]) == ["logement"]


def test_no_confidential_record_is_a_no_op() -> None:
    actors = actors_frame([{"id": "a:1", "adresse": "1 rue A", "latitude": 45.2, "longitude": 5.7}])
    shown = public_view(actors, COMMUNES)
    assert shown is not actors
    assert shown.loc[0, "adresse"] == "1 rue A"


@pytest.mark.parametrize(
    ("actor_type", "flag", "nom", "hidden", "line"),
    [
        ("hebergement", False, "Les Tilleuls", True, SHELTER_LINE),  # shelter, nobody said
        ("hebergement", "non", "Les Tilleuls", True, SHELTER_LINE),  # no way to make it public
        ("hebergement", False, "Abri femmes victimes de violences", True, VIOLENCE_LINE),
        ("cidff", False, "CIDFF", False, None),
        ("cidff", True, "CIDFF", True, VIOLENCE_LINE),  # a source flag is never turned off
        ("creche", True, "Crèche", True, SHELTER_LINE),
        ("autre", False, "CHRS Horizon", True, SHELTER_LINE),  # typed anyhow, named a shelter
        ("autre", False, "Médiathèque", False, None),
    ],
)
@pytest.mark.slow
def test_the_one_rule_in_the_public_view(
    actor_type: str, flag: object, nom: str, hidden: bool, line: str | None
) -> None:
    frame = actors_frame(
        [
            {
                "id": "a:1",
                "nom": nom,
                "actor_type": actor_type,
                "adresse": "9 rue Z",
                "telephone": "04 76 00 00 09",
                "code_insee": "38185",
                "latitude": 45.19,
                "longitude": 5.73,
            }
        ]
    )
    frame["confidential"] = pd.Series([flag], dtype=object)
    before = frame.copy()
    shown = public_view(frame, COMMUNES)
    assert bool(shown.loc[0, "confidential"]) is hidden
    assert (shown.loc[0, "adresse"] == "") is hidden
    assert shown.loc[0, "telephone"] == (line if hidden else "04 76 00 00 09")
    assert (shown.loc[0, "precision"] == "commune") is hidden
    pd.testing.assert_frame_equal(frame, before)  # input untouched


def test_confidentiality_reasons_are_typed_and_bilingual() -> None:
    frame = pd.DataFrame(
        {
            "nom": ["Centre d'Hébergement d'Urgence", "EPN"],
            "actor_type": ["autre", "autre"],
            "source_type": ["CHRS;ACI", ""],
            "confidential": ["", ""],
        }
    )
    found = confidentiality(frame)
    assert found[1] == []
    reasons = {(f.reason, f.field) for f in found[0]}
    assert reasons == {
        (ConfidentialReason.SHELTER_NAME, "nom"),
        (ConfidentialReason.SHELTER_CODE, "source_type"),
    }
    for reason in ConfidentialReason:
        assert reason.message("fr") != reason.message("en")


GOOD_URLS = [
    ("https://www.cidff.fr", "https://www.cidff.fr"),
    ("http://example.org/a/b?c=d&e=f#g", "http://example.org/a/b?c=d&e=f#g"),
    ("HTTPS://EXAMPLE.ORG", "HTTPS://EXAMPLE.ORG"),
    ("https://localhost:8501/", "https://localhost:8501/"),
    ("  https://example.org  ", "https://example.org"),
    ("www.france-travail.fr", "https://www.france-travail.fr"),
    ("example.org/contact", "https://example.org/contact"),
    ("tel:3919", "tel:3919"),
    ("tel:+33476000000", "tel:+33476000000"),
    ("mailto:contact@cidff38.fr", "mailto:contact@cidff38.fr"),
    ("mailto:a.b@c.fr?subject=RDV", "mailto:a.b@c.fr?subject=RDV"),
]

BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\x00script:alert(1)",
    "\x01javascript:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "javascript&colon;alert(1)",
    "\u200bjavascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "ftp://example.org",
    "blob:https://example.org/x",
    "//evil.example",
    "https:evil.example",
    "https://",
    'https://example.org/"onmouseover="alert(1)',
    "https://example.org/<script>",
    "https://example.org/{{7*7}}",
    "https://exa mple.org",
    "https://example.org/\u202egpj.exe",
    "tel:<script>",
    "tel:javascript:alert(1)",
    "mailto:javascript:alert(1)",
    "mailto:<a@b.fr>",
    "sms:114",  # emergency sms: links come from the emergency config, not data
    "",
    "   ",
    "x" * 3000,
    "not a url",
]


@pytest.mark.parametrize(("url", "expected"), GOOD_URLS)
def test_safe_url_accepts(url: str, expected: str) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize("url", BAD_URLS)
def test_safe_url_refuses(url: str) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize("value", [None, 3.5, float("nan"), b"https://x.org", ["https://x.org"]])
def test_safe_url_refuses_non_strings(value: object) -> None:
    assert safe_url(value) is None


_SCHEME_RE = re.compile(r"^(https?|tel|mailto):", re.IGNORECASE)
_FORBIDDEN = set("<>\"'`{}\\") | {chr(c) for c in range(0x20)} | {" ", "\x7f"}


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(codec="ascii")),
        st.builds(
            lambda s, t: s + t,
            st.sampled_from(
                ["javascript:", "https://", "tel:", "mailto:", "data:", "http:", "JAVA"]
            ),
            st.text(),
        ),
    )
)
def test_safe_url_only_lets_safe_links_through(text: str) -> None:
    out = safe_url(text)
    if out is None:
        return
    assert _SCHEME_RE.match(out), out
    assert not (set(out) & _FORBIDDEN), out
    assert out in {text.strip(), "https://" + text.strip()}
    # What a browser would do: drop tabs/newlines, lowercase the scheme.
    assert not out.lower().lstrip().startswith(("javascript", "data", "vbscript"))


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("3919", "tel:3919"),
        ("0 800 30 030", "tel:080030030"),
        ("04.76.00.00.00", "tel:0476000000"),
        ("+33 4 76 00 00 00", "tel:+33476000000"),
        ("", None),
        ("appelez-nous", None),
        ("<script>", None),
        ("12;alert(1)", None),
    ],
)
def test_tel_url(phone: str, expected: str | None) -> None:
    assert tel_url(phone) == expected


def test_a_shelters_source_page_link_is_not_shown() -> None:
    """Its page at the source may carry the street: the public view drops the link."""
    actors = actors_frame(
        [
            {
                "id": "s:1",
                "confidential": True,
                "code_insee": "38185",
                "latitude": 45.19,
                "longitude": 5.72,
                "lien_source": "https://example.org/structures/abri-1",
            },
            {
                "id": "p:1",
                "code_insee": "38185",
                "latitude": 45.19,
                "longitude": 5.72,
                "lien_source": "https://example.org/services/public-1",
            },
        ]
    )
    shown = public_view(actors, COMMUNES).set_index("id")
    assert shown.at["s:1", "lien_source"] == ""
    assert shown.at["p:1", "lien_source"] == "https://example.org/services/public-1"
