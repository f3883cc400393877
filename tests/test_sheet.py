"""The printable sheet, read back: its text (pdftotext) and its QR codes (pdftoppm + zbarimg)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mapapp.catalog import load_public_actors
from mapapp.geo.communes import Geography
from mapapp.plan import build_plan
from mapapp.render.sheet import SheetOptions, write_sheet
from mapapp.safety import public_view
from mapapp.schema import actors_frame
from mapapp.settings import Settings

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="poppler-utils and zbar-tools are needed to read the PDF back",
)

STREET = "12 impasse des Secrets"
WHEN = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _qr_codes(path: Path, tmp: Path) -> list[str]:
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(tmp / "page")], check=True)
    found: list[str] = []
    for png in sorted(tmp.glob("page*.png")):
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True
        )
        found += [line for line in out.stdout.splitlines() if line]
    return found


def _actors(geo: Geography):  # type: ignore[no-untyped-def]
    base = {
        "longitude": 2.3574,
        "code_insee": "93066",
        "commune": "Saint-Denis",
        "code_postal": "93200",
    }
    raw = actors_frame(
        [
            {
                **base,
                "id": "t:garage",
                "nom": "Garage solidaire",
                "obstacles": ["mobilite"],
                "latitude": 48.937,
                "adresse": "3 rue A",
                "telephone": "01 99 00 00 01",
                "lien_source": "https://dora.example.org/services/garage",
                "horaires_accueil": "Mo-Fr 09:00-12:00",
                "frais": ["gratuit"],
            },
            {
                **base,
                "id": "t:inject",
                "nom": '<script>alert(1)</script> **gras** =HYPERLINK("x")',
                "obstacles": ["numerique"],
                "latitude": 48.938,
                "adresse": "5 rue B",
                "site_web": "https://epn.example.org/",
                "lien_source": "javascript:alert(1)",
            },
            {
                **base,
                "id": "t:abri",
                "nom": "Accueil de jour femmes",
                "obstacles": ["violences"],
                "latitude": 48.939,
                "adresse": STREET,
                "confidential": True,
                "telephone": "06 00 00 00 99",
                "lien_source": "https://soliguide.example.org/abri",
            },
            {
                **base,
                "id": "t:nocontact",
                "nom": "Crèche sans contact",
                "obstacles": ["garde-enfants"],
                "latitude": 48.936,
                "adresse": "7 rue C",
            },
        ]
    )
    return public_view(raw, geo.communes)


def test_sheet_says_what_it_must_and_nothing_it_must_not(geo: Geography, tmp_path: Path) -> None:
    actors = _actors(geo)
    plan = build_plan(
        actors,
        lat=48.93697,
        lon=2.359756,
        obstacles=["mobilite", "numerique", "violences", "garde-enfants"],
    )
    path = write_sheet(
        plan,
        tmp_path / "fiche.pdf",
        SheetOptions(lang="fr", when=WHEN, place="Saint-Denis (93)", filters="gratuit seulement"),
    )
    text = _pdf_text(path)
    flat = " ".join(text.split())
    for expected in (
        "Fiche ressources",
        "7 décembre 2026",
        "Besoins : Mobilité, Numérique, Violences, séparation, Garde d'enfants",
        "Filtres : gratuit seulement",
        "Le plan",
        "4 lieux couvrent vos 4 besoins",
        "Garage solidaire",
        "01 99 00 00 01",
        "aujourd'hui : 09:00-12:00",
        "Frais : Gratuit",
        "contact inconnu",
        # the confidential record: at its commune, with its referral line
        "Accueil de jour femmes",
        "adresse précise non connue, dans la commune de Saint-Denis",
        "3919",
        "Numéros d'urgence",
        "112",
        # markup is shown as the text it is
        "<script>alert(1)</script> **gras** =HYPERLINK",
    ):
        assert expected in flat, expected
    assert STREET not in flat and "impasse des Secrets" not in flat
    assert "06 00 00 00 99" not in flat  # its own number is not public
    assert "soliguide" not in flat and "javascript" not in flat
    codes = _qr_codes(path, tmp_path)
    # one code per service with a safe page: the source page, else the website;
    # none for the confidential record (its page may show the street)
    assert sorted(codes) == ["https://dora.example.org/services/garage", "https://epn.example.org/"]


@pytest.mark.slow
def test_sheet_in_english_from_the_command(
    mapapp_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    path = tmp_path / "sheet.pdf"
    out = mapapp_cli(
        "plan",
        "--near",
        "Saint-Denis 93",
        "--obstacle",
        "garde-enfants",
        "--obstacle",
        "mobilite",
        "--obstacle",
        "numerique",
        "--pdf",
        str(path),
        "--lang",
        "en",
        "--free-only",
    )
    assert out.returncode == 0, out.stderr
    flat = " ".join(_pdf_text(path).split())
    for expected in (
        "Resource sheet",
        "Needs: Childcare, Mobility, Digital skills",
        "Filters: free of charge only",
        "Demonstration data",
        "Emergency numbers",
        "The plan",
    ):
        assert expected in flat, expected
    assert "Fiche ressources" not in flat
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "pts (A4)" in info


@pytest.mark.slow
def test_demo_sheet_has_every_need_of_the_saint_denis_case(
    settings: Settings, geo: Geography, tmp_path: Path
) -> None:
    actors = load_public_actors(settings, communes=geo.communes).actors
    plan = build_plan(
        actors, lat=48.93697, lon=2.359756, obstacles=["garde-enfants", "mobilite", "numerique"]
    )
    path = write_sheet(plan, tmp_path / "s.pdf", SheetOptions(when=WHEN, demo=True))
    flat = " ".join(_pdf_text(path).split())
    for name in {
        n for need in plan.needs for n in (plan.cards()[p.id].name for p in need.services)
    }:
        assert name in flat
