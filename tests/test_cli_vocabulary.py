"""What a newcomer types at ``mapapp search``: vocabularies, coordinates, radius, ``--help``."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mapapp.errors import UnknownVocabularyError
from mapapp.i18n import VOCABULARIES
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.vocabulary import (
    DEFAULT_RADIUS_KM,
    PUBLICS,
    parse_actor_type_text,
    parse_obstacle_text,
    parse_public_text,
)

Cli = Callable[..., subprocess.CompletedProcess[str]]
ROOT = Path(__file__).resolve().parents[1]


# --- the vocabulary parser ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("childcare", "garde-enfants"),  # the English label, in one word
        ("Childcare", "garde-enfants"),
        ("Garde d'enfants", "garde-enfants"),  # the French label
        ("violence", "violences"),  # a part of "Violence, separation", singular
        ("housing", "logement"),
        ("Mobilité", "mobilite"),
        ("digital skills", "numerique"),
        ("debt", "finances"),
        ("jobs", "emploi"),
    ],
)
def test_obstacle_labels_and_english_names_are_read(text: str, expected: str) -> None:
    obstacle, note = parse_obstacle_text(text)
    assert obstacle.value == expected
    assert expected in note and text in note  # the person sees what was searched


def test_every_slug_reads_as_itself_without_a_note() -> None:
    for o in Obstacle:
        assert parse_obstacle_text(o.value) == (o, "")
    for t in ActorType:
        assert parse_actor_type_text(t.value) == (t, "")
    for p in PUBLICS:
        assert parse_public_text(p) == (p, "")


def test_every_label_reads_back_to_its_value() -> None:
    # Labels are shown in the app and the docs: typing one must find its value.
    for o in Obstacle:
        assert parse_obstacle_text(o.label("fr"))[0] is o
        assert parse_obstacle_text(o.label("en"))[0] is o
    for t in ActorType:
        assert parse_actor_type_text(t.label("fr"))[0] is t
        assert parse_actor_type_text(t.label("en"))[0] is t
    for p, (fr, en) in VOCABULARIES["publics"].items():
        assert parse_public_text(fr)[0] == p
        assert parse_public_text(en)[0] == p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("femme", "femmes"),
        ("Women", "femmes"),
        ("jeunes-16-26", "jeunes"),
        ("Job seekers", "demandeurs-emploi"),
    ],
)
def test_public_spellings(text: str, expected: str) -> None:
    assert parse_public_text(text)[0] == expected


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_public_text, "zzz"),
        (parse_public_text, "childcare"),
        (parse_obstacle_text, "zzz"),
        (parse_obstacle_text, "femmes"),
        (parse_actor_type_text, "insertion"),  # only a qualifier of two labels
        (parse_actor_type_text, "bakery"),
    ],
)
def test_unknown_values_are_refused_with_the_valid_list(
    parse: Callable[[str], object], text: str
) -> None:
    with pytest.raises(UnknownVocabularyError) as err:
        parse(text)
    message = str(err.value)
    assert text in message
    assert "valid values" in message and "Valeurs possibles" in message


def test_the_radius_has_one_home() -> None:
    # The app, the CLI and the API read the same constant.
    import click

    from mapapp.commands.search import search_command
    from mapapp.ui import search_page

    assert search_page.DEFAULT_RADIUS_KM is DEFAULT_RADIUS_KM == 100
    radius = next(p for p in search_command.params if p.name == "radius_km")
    assert isinstance(radius, click.Option) and radius.default == DEFAULT_RADIUS_KM


# --- the command, end to end ---------------------------------------------------------


@pytest.mark.slow
def test_unknown_public_is_a_usage_error(mapapp_cli: Cli) -> None:
    for value in ("zzz", "enfantz"):
        proc = mapapp_cli("search", "--near", "75011", "--public", value)
        assert proc.returncode == 2, proc.stdout
        assert "femmes" in proc.stderr and "demandeurs-emploi" in proc.stderr
        assert proc.stdout == ""


@pytest.mark.slow
def test_english_obstacle_is_mapped_and_said(mapapp_cli: Cli) -> None:
    proc = mapapp_cli(
        "search", "--near", "93200", "--obstacle", "childcare", "--public", "Families",
        "--limit", "3", "--format", "csv",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "garde-enfants" in proc.stderr and "familles" in proc.stderr
    rows = proc.stdout.strip().splitlines()[1:]
    assert len(rows) == 3 and all("garde-enfants" in r for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize(("lat", "lon"), [("91", "0"), ("0", "181"), ("-90.5", "2")])
def test_out_of_range_coordinates_are_a_usage_error(mapapp_cli: Cli, lat: str, lon: str) -> None:
    proc = mapapp_cli("search", "--lat", lat, "--lon", lon)
    assert proc.returncode == 2
    assert "Unexpected error" not in proc.stderr
    assert "range" in proc.stderr


@pytest.mark.slow
def test_default_radius_and_what_lies_beyond(mapapp_cli: Cli) -> None:
    # In the middle of the Atlantic nothing lies within 100 km: say so and name the nearest.
    proc = mapapp_cli("search", "--lat", "40", "--lon", "-30", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().count("\n") == 0  # the header only
    assert "100 km" in proc.stderr and "(démo)" in proc.stderr and "--radius 0" in proc.stderr
    unlimited = mapapp_cli("search", "--lat", "40", "--lon", "-30", "--radius", "0", "--limit", "1")
    assert unlimited.returncode == 0 and "(démo)" in unlimited.stdout


@pytest.mark.slow
def test_radius_default_bounds_results(mapapp_cli: Cli) -> None:
    proc = mapapp_cli("search", "--near", "Saint-Denis 974", "--limit", "500", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    distances = [float(line.split(",")[0]) for line in proc.stdout.strip().splitlines()[1:]]
    assert distances and max(distances) <= DEFAULT_RADIUS_KM


def test_help_is_fast_and_lists_commands() -> None:
    # Measured as the child's CPU time (user + system), which the load of a
    # shared machine does not inflate; idle, wall time is within a few ms of it.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mapapp", "--help"]
    subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=60)  # warm the disk
    times = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    assert proc.returncode == 0
    for name in ("search", "ingest", "fetch", "coverage", "serve"):
        assert f"  {name} " in proc.stdout
    assert min(times) < 0.3, times


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys; from mapapp.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('mapapp.commands.')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]"
