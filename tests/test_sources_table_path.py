"""The column-wise reading of data·inclusion services tables stages exactly like the row path.

Why: :meth:`DataInclusionExport._table_chunks` replaces, for services
CSV/Parquet files read without structures, one dict per row by whole-column
operations; every staging value, origin, original row and quarantined cut
row must be the same as :func:`stage` + :func:`join_service` record by record.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _datainclusion_reference import reference_chunks

from mapapp.sources._io import probe
from mapapp.sources.datainclusion import DataInclusionExport

FIX = Path(__file__).parent / "fixtures" / "ingest"

_AWKWARD = (
    "ID,Nom,name,Source,structure_id,Lat,longitude,typologie,reseaux_porteurs,thematiques,"
    "code_insee,Profils,telephone\n"
    "s1,Aide,x,dora,t1,\"20,9\",55.5,CCAS,\"['france-services']\",['mobilite'],97411,{jeunes},\n"
    's2,   ,Autre, ,t2,,,,,,,"",01 02\n'
    "s3,Trois,,  emplois ,,48.1,2.3,ASSO,,,75056,femmes,\n"
    ",Sans id,,dora,t3,48.2,2.4,,,,,,\n"
)


def _both(path: Path) -> tuple[list, list]:  # type: ignore[type-arg]
    adapter = DataInclusionExport()
    p = probe(path)
    fast = list(adapter._table_chunks([p]))
    slow = list(reference_chunks([], [p]))  # the record-by-record reader of before
    return fast, slow


def _rows(chunks: list) -> pd.DataFrame:  # type: ignore[type-arg]
    frames = [c.rows for c in chunks if len(c.rows)]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return rows.reindex(columns=sorted(rows.columns)).astype(object)


@pytest.mark.parametrize(
    "name",
    [
        "formats/dora_diff.csv",
        "sources/di_v0_csv/services.csv",
        "malformed/no_name.csv",
        "malformed/no_id.csv",
        "malformed/abroad.csv",
        "awkward.csv",
        "awkward_cut.csv",
    ],
)
def test_table_path_stages_like_the_record_path(name: str, tmp_path: Path) -> None:
    if name.startswith("awkward"):
        path = tmp_path / "services.csv"
        text = _AWKWARD + ("s9,Coupé,,dora,t9,48." if name == "awkward_cut.csv" else "")
        path.write_text(text, "utf-8")
    else:
        path = FIX / name
    fast, slow = _both(path)
    pd.testing.assert_frame_equal(_rows(fast), _rows(slow))
    assert [o for c in fast for o in c.origins] == [o for c in slow for o in c.origins]
    fast_orig = [dict(r) for c in fast for r in c.originals]
    slow_orig = [dict(r) for c in slow for r in c.originals]
    assert fast_orig == slow_orig
    assert [q for c in fast for q in c.quarantined] == [q for c in slow for q in c.quarantined]
    if name == "awkward_cut.csv":
        assert [q[1][:9] for c in fast for q in c.quarantined] == ["truncated"]
