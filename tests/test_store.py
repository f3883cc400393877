"""The embedded store: generations, one writer at a time, all-or-nothing commits, rollback.

The concurrency and crash tests run real ``mapapp ingest`` processes: two at
once on one store, and one killed (SIGKILL, through the test-only hook
``MAPAPP_TEST_CRASH_AT``) at each step of its commit.  After each, the store
must be exactly the old generation or exactly the new one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from mapapp.errors import StoreBusyError, StoreError
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.merge import read_clusters, read_ledger
from mapapp.store.parquet import CRASH_STEPS, ParquetStore

FIX = Path(__file__).parent / "fixtures" / "ingest" / "bounded"
MAPPING = str(FIX / "bounded.toml")
# Aubervilliers: every generated point lies in the commune
_LAT, _LON = 48.9146, 2.3821


def _records(prefix: str, n: int) -> list[dict]:  # type: ignore[type-arg]
    return [
        {
            "id": f"{prefix}:{i}",
            "source": prefix,
            "source_id": str(i),
            "nom": f"Lieu {i}",
            "latitude": _LAT,
            "longitude": _LON,
            "code_insee": "93001",
        }
        for i in range(n)
    ]


def _csv(path: Path, prefix: str, n: int) -> Path:
    lines = ["id,nom,adresse,cp,ville,lat,lon,tel,description"]
    lines += [
        f"{prefix}{i},Lieu {prefix} {i},{i} rue du Moutier,93300,Aubervilliers,"
        f"{_LAT + (i % 97) * 1e-5:.6f},{_LON + (i % 89) * 1e-5:.6f},,"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data.parent),
        "MAPAPP_DATA_DIR": str(data),
        "MAPAPP_CACHE_DIR": os.environ.get("MAPAPP_CACHE_DIR")
        or str(Path.home() / ".cache" / "mapapp"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    return env | extra


def _ingest_cmd(*files: Path, dataset: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "mapapp", "ingest", *map(str, files), "--mapping", MAPPING]
    cmd += ["--no-geocode", "--quiet"]
    return cmd + (["--dataset", dataset] if dataset else [])


# -- generations --------------------------------------------------------------------


def test_each_commit_is_a_generation_and_rollback_restores_the_previous(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "data")
    store.write_actors(actors_frame(_records("a", 2)))
    first = store.stamp()
    with store.writer():
        second = store.commit(
            actors_frame(_records("a", 5)),
            {"ledger": pd.DataFrame({"dataset": ["d"], "id": ["x"]})},
        )
    assert second != first and store.stamp() == second
    assert len(store.read_actors()) == 5 and len(read_ledger(store)) == 1
    with store.writer():
        gen = store.rollback()
    assert gen.name == first == store.stamp()
    assert len(store.read_actors()) == 2 and len(read_ledger(store)) == 0
    with store.writer():
        store.rollback(second)  # a rollback can itself be undone
    assert len(store.read_actors()) == 5


def test_old_generations_are_pruned(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "data", keep=3)
    for n in range(1, 6):
        store.write_actors(actors_frame(_records("a", n)))
    names = [g.name[:6] for g in store.generations()]
    assert names == ["000005", "000004", "000003"]
    assert len(list((tmp_path / "data" / "generations").iterdir())) == 3


def test_commit_outside_the_writer_lock_is_refused(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "data")
    with pytest.raises(StoreError, match="writer"):
        store.commit(actors_frame(_records("a", 1)), {})
    assert store.is_empty()


def test_a_flat_store_of_earlier_versions_is_read_then_migrated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # the layout the code before issue 10 wrote
    actors_frame(_records("old", 3)).to_parquet(data / "actors.parquet", index=False)
    pd.DataFrame({"dataset": ["old"] * 3, "id": [f"old:{i}" for i in range(3)]}).to_parquet(
        data / "imports.parquet", index=False
    )
    store = ParquetStore(data)
    assert not store.is_empty() and store.stamp().startswith("flat-")
    assert len(store.read_actors()) == 3 and len(read_ledger(data)) == 3
    store.write_actors(actors_frame(_records("new", 1)))
    assert not (data / "actors.parquet").exists()  # moved into a generation
    assert [g.name for g in store.generations()][-1] == "000000-flat"
    assert len(read_ledger(store)) == 3  # the side tables came along
    with store.writer():
        store.rollback()
    assert set(store.read_actors()["id"]) == {"old:0", "old:1", "old:2"}


# -- one writer at a time ------------------------------------------------------------------


@pytest.mark.slow
def test_no_wait_refuses_while_another_import_holds_the_store(
    tmp_path: Path, mapapp_cli: object, settings: Settings
) -> None:
    store = ParquetStore(settings.data_dir)
    with store.writer():
        with pytest.raises(StoreBusyError), ParquetStore(settings.data_dir).writer(wait=False):
            pass
        run = mapapp_cli  # type: ignore[assignment]
        proc = run(  # type: ignore[operator]
            "ingest", str(FIX / "base.csv"), "--mapping", MAPPING, "--no-geocode", "--no-wait"
        )
    assert proc.returncode == 2, proc.stderr
    assert f"by process {os.getpid()}" in proc.stderr
    assert "occupé" in proc.stderr and "Traceback" not in proc.stderr
    assert store.is_empty()


@pytest.mark.slow
def test_a_second_import_waits_says_for_whom_and_then_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = ParquetStore(data)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.writer():
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    proc = subprocess.Popen(
        _ingest_cmd(FIX / "base.csv"),
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        started = str((store.holder() or {}).get("started"))
        deadline = time.monotonic() + 240  # the machine may be slow to start Python
        while not any("waiting" in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, lines
            time.sleep(0.2)
        time.sleep(1)
        assert proc.poll() is None  # still waiting
        assert store.is_empty()  # it wrote nothing meanwhile
    finally:
        release.set()
        holder.join()
    proc.wait(timeout=240)
    reader.join()
    proc.stderr.close()  # type: ignore[union-attr]
    err = "".join(lines)
    assert proc.returncode == 0, err
    hhmm = started[11:16]  # the holder's own start time, as it wrote it in the lock file
    assert f"waiting for the import started at {hhmm} by process {os.getpid()}" in err
    assert f"En attente de l'import lancé à {hhmm} par le processus {os.getpid()}" in err
    assert len(store.read_actors()) == 3


@pytest.mark.slow
def test_two_concurrent_imports_both_land(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = _csv(tmp_path / "base.csv", "z", 200)
    subprocess.run(_ingest_cmd(base, dataset="base"), env=_env(data), check=True, timeout=300)
    a = _csv(tmp_path / "a.csv", "a", 6000)
    b = _csv(tmp_path / "b.csv", "b", 6000)
    procs = [
        subprocess.Popen(
            _ingest_cmd(path, dataset=name),
            env=_env(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path, name in ((a, "import-a"), (b, "import-b"))
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    # they did overlap: one of them had to wait for the other
    assert any("waiting for the import started at" in err for _, err in results), results
    store = ParquetStore(data)
    assert len(store.read_actors()) == 200 + 6000 + 6000
    ledger = read_ledger(store)
    assert ledger.groupby("dataset").size().to_dict() == {
        "base": 200,
        "import-a": 6000,
        "import-b": 6000,
    }
    history = store.read_table("history")
    assert history is not None and len(history) == 3
    assert sorted(json.loads(d)[0] for d in history["datasets"]) == ["base", "import-a", "import-b"]


# -- all or nothing -----------------------------------------------------------------------


def _snapshot(data: Path) -> dict[str, object]:
    store = ParquetStore(data)
    clusters = read_clusters(store)
    history = store.read_table("history")
    return {
        "stamp": store.stamp(),
        "ids": sorted(store.read_actors()["id"]),
        "ledger": sorted(map(tuple, read_ledger(store)[["dataset", "id"]].to_numpy().tolist())),
        "clusters": sorted(clusters["id"]),
        "history": 0 if history is None else len(history),
        "report": (store.read_report() or {}).get("inputs"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("step", CRASH_STEPS)
def test_a_crash_at_any_commit_step_leaves_the_old_or_the_new_generation(
    step: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    old_csv = _csv(tmp_path / "old.csv", "o", 50)
    new_csv = _csv(tmp_path / "new.csv", "n", 80)
    subprocess.run(_ingest_cmd(old_csv), env=_env(data), check=True, timeout=300)
    old = _snapshot(data)
    crashed = subprocess.run(
        _ingest_cmd(new_csv),
        env=_env(data, MAPAPP_TEST_CRASH_AT=step),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert crashed.returncode == -9, crashed.stderr  # killed, as by kill -9
    assert ParquetStore(data).holder() is None  # the kernel released its lock
    after = _snapshot(data)
    if step == "switched":  # the new generation is complete and current
        assert after["ids"] == sorted(
            [f"bx:o{i}" for i in range(50)] + [f"bx:n{i}" for i in range(80)]
        )
        assert after["history"] == 2 and after["report"] != old["report"]
        assert len(after["ledger"]) == 130 and len(after["clusters"]) == 130  # type: ignore[arg-type]
    else:  # exactly the old one, every table of it
        assert after == old
    # the next run sees a consistent store and finishes the job
    again = subprocess.run(
        _ingest_cmd(new_csv), env=_env(data), capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    expected = "0 added" if step == "switched" else "80 added"
    assert expected in again.stdout
    assert len(ParquetStore(data).read_actors()) == 130
    leftovers = [p.name for p in (data / "generations").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_catalog_reads_never_wait_for_the_writer(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path / "data")
    store.write_actors(actors_frame(_records("a", 2)))
    settings = Settings.from_env({"MAPAPP_DATA_DIR": str(tmp_path / "data")})
    with store.writer():
        started = time.monotonic()
        assert len(open_store(settings).read_actors()) == 2
        assert open_store(settings).stamp() == store.stamp()
        assert time.monotonic() - started < 5
