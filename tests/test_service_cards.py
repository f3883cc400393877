"""Cards people can act on, from a data·inclusion export: organisation, source link, contact."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mapapp.catalog import load_public_actors
from mapapp.servicecard import service_cards
from mapapp.settings import Settings
from mapapp.sources import read


def _export(folder: Path) -> Path:
    folder.mkdir()
    structures = [
        {
            "id": "S1",
            "source": "dora",
            "nom": "Association Mobilité 974",
            "lien_source": "https://dora.example.org/structures/s1",
            "adresse": "1 rue de Paris",
            "code_postal": "97400",
            "code_insee": "97411",
            "commune": "Saint-Denis",
            "latitude": -20.8795,
            "longitude": 55.4490,
            "telephone": "0262000001",
            "typologie": "ASSO",
        },
        # a shelter (typology CHRS): confidential by its type
        {"id": "S2", "source": "soliguide", "nom": "Les Oiseaux", "typologie": "CHRS"},
    ]
    services = [
        # joined to its structure: takes its phone, address and (no link of its own) its page
        {
            "id": "A",
            "structure_id": "S1",
            "source": "dora",
            "nom": "Aide au permis",
            "thematiques": ["mobilite--preparer-un-permis"],
            "frais": ["gratuit"],
            "modes_accueil": ["en-presentiel"],
        },
        # its own page wins over the structure's
        {
            "id": "B",
            "structure_id": "S1",
            "source": "dora",
            "nom": "Location de scooters",
            "thematiques": ["mobilite--louer-un-vehicule"],
            "lien_source": "https://dora.example.org/services/b",
        },
        # structure missing from the file (as 1,928 of La Réunion's 2,705)
        {
            "id": "C",
            "structure_id": "missing",
            "source": "france-travail",
            "nom": "Aide à la mobilité",
            "thematiques": ["mobilite--aides-a-la-mobilite"],
            "adresse": "2 rue B",
            "code_insee": "97411",
            "commune": "Saint-Denis",
            "latitude": -20.881,
            "longitude": 55.451,
        },
        # a shelter: its source page would show the street
        {
            "id": "D",
            "structure_id": "S2",
            "source": "soliguide",
            "nom": "CHRS Les Oiseaux",
            "thematiques": ["logement-hebergement--etre-accompagne-pour-se-loger"],
            "adresse": "9 chemin Caché",
            "code_insee": "97411",
            "commune": "Saint-Denis",
            "latitude": -20.882,
            "longitude": 55.452,
            "lien_source": "https://soliguide.example.org/fiche/d",
        },
    ]
    (folder / "structures.json").write_text(json.dumps(structures))
    (folder / "services.json").write_text(json.dumps(services))
    return folder


def test_staging_carries_the_source_link(tmp_path: Path) -> None:
    rows = read(_export(tmp_path / "di"), download_dir=tmp_path).set_index("source_id")
    assert rows.loc["A", "lien_source"] == "https://dora.example.org/structures/s1"
    assert rows.loc["B", "lien_source"] == "https://dora.example.org/services/b"


@pytest.mark.slow
def test_cards_from_an_imported_export(
    mapapp_cli: Callable[..., subprocess.CompletedProcess[str]], settings: Settings, tmp_path: Path
) -> None:
    out = mapapp_cli("ingest", str(_export(tmp_path / "di")), "--no-geocode", "--quiet")
    assert out.returncode == 0, out.stderr
    actors = load_public_actors(settings).actors.set_index("source_id", drop=False)
    cards = {c.id.split(":", 1)[1]: c for c in service_cards(actors, lang="fr")}
    a, b, c, d = cards["A"], cards["B"], cards["C"], cards["D"]
    assert a.organisation == "Association Mobilité 974" and a.name == "Aide au permis"
    assert a.source_href == "https://dora.example.org/structures/s1"
    assert a.phone_href == "tel:0262000001" and not a.contact_unknown
    assert b.source_href == "https://dora.example.org/services/b"
    # the missing structure: the service's own name and its source, not "Autre structure"
    assert c.name == "Aide à la mobilité" and c.organisation == "France Travail"
    assert c.source_name == "France Travail" and c.type_label != "Autre structure"
    assert c.contact_unknown
    # the shelter: no street, no link to its page, its referral line
    assert d.confidential and d.source_href is None
    assert "Caché" not in d.where and d.where.startswith("adresse précise non connue")
    assert d.phone in ("115", "3919") and d.phone in d.confidential_note
