"""The register's CSV import and export, its commands, and crèches added by hand.

Nothing lost: every row is loaded or quarantined with a reason, the counts add
up, an unknown crèche id is quarantined, and no exported cell runs as a
formula.  The commands run as a user would run them (a subprocess on a
temporary data folder).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapapp.csv_export import FORMULA_START
from mapapp.errors import DataValidationError, InputFormatError, StoreError
from mapapp.reserved import free_places
from mapapp.reserved.csvio import import_file, import_text
from mapapp.reserved.register import apply_change, history, read_entry
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store

KNOWN = {"c:1", "c:2", "c:3"}


def test_every_row_is_loaded_or_quarantined_with_its_reason(settings: Settings) -> None:
    text = (
        "actor_id;places_reserved;places_free;partner;valid_until\n"
        "c:1;3;1;Entreprise A;2027-06-30\n"
        "c:404;1;0;;\n"  # not a crèche of the directory
        ";1;0;;\n"  # no id
        "c:1;9;9;;\n"  # the same crèche again
        "c:2;1;4;;\n"  # more free than reserved
        "c:3;1;0;;30/06/2027\n"  # a date the register cannot read
        "c:3;1;0\n"  # too few cells
        "\n"  # a blank line is not a row
    )
    result = import_text(settings, text, known=KNOWN, by="import:t.csv")
    codes = [q["reason_code"] for q in result.quarantined]
    assert codes == [
        "unknown-creche",
        "no-id",
        "duplicate-row",
        "bad-value",
        "bad-value",
        "bad-shape",
    ]
    assert [q["line"] for q in result.quarantined] == [3, 4, 5, 6, 7, 8]
    assert (result.read, result.loaded) == (7, 1)
    assert result.read == result.loaded + len(result.quarantined)
    entry = read_entry(settings, "c:1")
    assert entry is not None and (entry.places_reserved, entry.partner) == (3, "Entreprise A")
    assert read_entry(settings, "c:2") is None and read_entry(settings, "c:404") is None
    assert {h["changed_by"] for h in history(settings)} == {"import:t.csv"}
    # The quarantine file says why, in both languages, and keeps the row's cells.
    rows = list(csv.DictReader(io.StringIO(result.quarantine_csv())))
    assert rows[0]["actor_id"] == "c:404" and "not a crèche" in rows[0]["reason_en"]
    assert "plus de places libres" in rows[3]["reason_fr"]


def test_a_column_the_file_lacks_keeps_its_value(settings: Settings) -> None:
    apply_change(settings, "c:1", {"places_reserved": 2, "ages": "0-3 ans", "partner": "A"}, by="a")
    result = import_text(
        settings, "actor_id,places_reserved,places_free\nc:1,2,2\n", known=KNOWN, by="import:x"
    )
    assert result.loaded == 1
    entry = read_entry(settings, "c:1")
    assert entry is not None and (entry.places_free, entry.ages, entry.partner) == (
        2,
        "0-3 ans",
        "A",
    )


def test_a_file_without_the_required_columns_loads_nothing(settings: Settings) -> None:
    with pytest.raises(InputFormatError, match="missing columns: places_free"):
        import_text(settings, "actor_id,places_reserved\nc:1,2\n", known=KNOWN, by="x")
    with pytest.raises(InputFormatError, match="empty file"):
        import_text(settings, "", known=KNOWN, by="x")
    assert free_places(settings).empty


def test_windows_spreadsheet_files_are_read(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "registre.csv"
    path.write_bytes(
        "actor_id;places_reserved;places_free;ages\r\nc:1;2;1;3 mois à 3 ans\r\n".encode("cp1252")
    )
    result = import_file(settings, path, known=KNOWN)
    assert result.loaded == 1
    entry = read_entry(settings, "c:1")
    assert entry is not None and entry.ages == "3 mois à 3 ans"
    assert history(settings)[0]["changed_by"] == "import:registre.csv"


# -- the commands, as a user runs them ---------------------------------------------------
def _records() -> object:
    return actors_frame(
        [
            {
                "id": "t:creche-1",
                "source": "t",
                "nom": "=Crèche Les Lucioles",  # hostile name: must not run in a spreadsheet
                "actor_type": "creche",
                "code_insee": "93066",
                "commune": "Saint-Denis",
                "latitude": 48.936,
                "longitude": 2.357,
            },
            {
                "id": "t:cidff",
                "source": "t",
                "nom": "CIDFF",
                "actor_type": "cidff",
                "code_insee": "93066",
                "commune": "Saint-Denis",
                "latitude": 48.937,
                "longitude": 2.358,
            },
        ]
    )


@pytest.fixture
def filled(settings: Settings) -> Settings:
    store = open_store(settings)
    with store.writer():
        store.commit(_records(), {})  # type: ignore[arg-type]
    return settings


def run(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.data_dir.parent),
        "MAPAPP_DATA_DIR": str(settings.data_dir),
        "MAPAPP_CACHE_DIR": str(settings.cache_dir),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    return subprocess.run(
        [sys.executable, "-m", "mapapp", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_import_export_commands_round_trip_and_defuse_formulas(
    filled: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "actor_id,places_reserved,places_free,partner,who_may_refer\n"
        't:creche-1,2,1,"=HYPERLINK(""http://x"")",@CIDFF\n'
        "t:cidff,1,0,,\n"
        "t:unknown,1,0,,\n",
        encoding="utf-8",
    )
    loaded = run(filled, "reserved", "import", str(source))
    assert loaded.returncode == 0, loaded.stderr
    assert "rows read: 3; chargées / loaded: 1" in loaded.stdout
    assert "quarantined: 2" in loaded.stdout
    quarantine = next(filled.data_dir.glob("reserved-quarantine-*.csv"))
    assert {
        r["actor_id"] for r in csv.DictReader(io.StringIO(quarantine.read_text(encoding="utf-8")))
    } == {
        "t:cidff",
        "t:unknown",
    }
    out = tmp_path / "out.csv"
    exported = run(filled, "reserved", "export", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["actor_id"] for r in rows] == ["t:creche-1"]
    assert rows[0]["nom"] == "'=Crèche Les Lucioles" and rows[0]["partner"].startswith("'=")
    for row in rows:
        assert not any(v.startswith(FORMULA_START) for v in row.values())
    public = run(filled, "reserved", "export", "--public")
    assert "HYPERLINK" not in public.stdout and "'@CIDFF" in public.stdout
    # The export imports back unchanged: nothing written, not even a confirmation.
    before = len(history(filled))
    again = run(filled, "reserved", "import", str(out))
    assert "unchanged: 1" in again.stdout, again.stdout + again.stderr
    assert len(history(filled)) == before
    entry = read_entry(filled, "t:creche-1")
    assert entry is not None and entry.partner == '=HYPERLINK("http://x")'


@pytest.mark.slow
def test_users_add_reads_the_password_from_stdin_never_argv(filled: Settings) -> None:
    added = run(
        filled,
        "users",
        "add",
        "Amina",
        "--role",
        "coordinator",
        "--scope",
        "dep:93",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    listed = run(filled, "users", "list")
    assert "amina\tcoordinator\tdep:93" in listed.stdout
    assert "correct horse" not in listed.stdout + added.stdout
    bad = run(
        filled, "users", "add", "xena", "--role", "coordinator", "--password-stdin", stdin="y" * 20
    )
    assert bad.returncode == 2 and "needs a scope" in bad.stderr and "Traceback" not in bad.stderr
    option = run(filled, "users", "add", "bob", "--role", "admin", "--password", "secret")
    assert option.returncode != 0  # there is no way to give it on the command line


@pytest.mark.slow
def test_a_company_crèche_added_by_hand_is_a_crèche_at_its_commune(filled: Settings) -> None:
    from mapapp.reserved.creches import creches
    from mapapp.reserved.manual import add_creche

    added = add_creche(filled, "Crèche d'entreprise Les P'tits Loups", "93200")
    assert added.actor_id == "manuel:creche-d-entreprise-les-p-tits-loups-93066"
    assert added.precision == "commune"
    table = creches(filled)
    assert table.loc[added.actor_id, "departement"] == "93"
    actors = open_store(filled).read_actors().set_index("id")
    assert actors.loc[added.actor_id, "actor_type"] == "creche"
    assert "garde-enfants" in list(actors.loc[added.actor_id, "obstacles"])
    assert "t:creche-1" in actors.index  # the imported records are kept
    with pytest.raises(DataValidationError, match="already exists"):
        add_creche(filled, "Crèche d'entreprise Les P'tits Loups", "93066")
    with pytest.raises(DataValidationError, match="not in France"):
        add_creche(filled, "Crèche Y", "93066", lat=10.0, lon=2.0)


def test_adding_a_crèche_to_an_empty_store_says_to_import_first(settings: Settings) -> None:
    from mapapp.reserved.manual import add_creche

    with pytest.raises(StoreError, match="import the directory first"):
        add_creche(settings, "Crèche Z", "93066")
    assert open_store(settings).is_empty()
