"""``mapapp duplicates``: the clusters of records describing one place, and why.

Why a command: a coordinator must be able to check what the import merged
(a wrong merge hides a place from search), see the rule, distance and name
score behind each merge, and fix it in ``duplicates.toml`` (see
``docs/duplicates.md``).  Records are read through the public view, like
every other consumer: no confidential street or point is ever printed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import pandas as pd

from mapapp.csv_export import frame_csv
from mapapp.settings import Settings

__all__ = ["cluster_table", "duplicates_command", "explain_table", "plain_table"]


def _t(key: str, lang: str, **values: Any) -> str:
    from mapapp.i18n import t

    return t(f"dup_{key}", "en" if lang == "en" else "fr", **values)


def _read_clusters(settings: Settings) -> pd.DataFrame | None:
    from mapapp.store import open_store
    from mapapp.store.merge import read_clusters

    store = open_store(settings)
    if store.is_empty():
        return None
    reader = getattr(store, "read_table", None)
    table = reader("clusters") if callable(reader) else None
    return table if table is not None else read_clusters(settings.data_dir)


def _members(settings: Settings, clusters: pd.DataFrame) -> pd.DataFrame:
    """``clusters`` rows with their records' public name, source, type and commune."""
    from mapapp.catalog import load_public_actors

    shown = load_public_actors(settings).actors
    cols = ["id", "nom", "structure_nom", "source", "actor_type", "commune"]
    info = pd.DataFrame(shown.reindex(columns=cols)).drop_duplicates("id").fillna("")
    # A service is named after what it offers; its structure says where it is.
    info["nom"] = [
        f"{n} ({sn})" if sn and sn != n else n
        for n, sn in zip(info["nom"].astype(str), info["structure_nom"].astype(str), strict=True)
    ]
    info = info.drop(columns="structure_nom")
    out = clusters.merge(info, on="id", how="left")
    return out.fillna({"nom": "", "source": "", "actor_type": "", "commune": ""})


def cluster_table(members: pd.DataFrame, lang: str = "fr") -> pd.DataFrame:
    """One row per cluster of several records: size, sources, rules, worst distance and score.

    Examples
    --------
    >>> m = pd.DataFrame({"id": ["a:1", "b:2"], "cluster_id": ["a:1", "a:1"],
    ...     "primary": [True, False], "sources": [["a", "b"], ["a", "b"]],
    ...     "rule": ["near-similar-name"] * 2, "distance_m": [12.0, 12.0],
    ...     "name_score": [100.0, 100.0], "nom": ["PIMMS", "Pimms Grenoble"]})
    >>> cluster_table(m).to_dict("records")[0]["names"]
    'PIMMS | Pimms Grenoble'
    """
    rows = []
    for cid, grp in members.sort_values(["cluster_id", "primary"], ascending=[True, False]).groupby(
        "cluster_id", sort=True
    ):
        rules = sorted({r for r in grp["rule"] if r})
        rows.append(
            {
                "cluster_id": cid,
                "records": len(grp),
                "sources": ",".join(sorted({s for v in grp["sources"] for s in v})),
                "rules": ",".join(rules),
                "max_distance_m": grp["distance_m"].max(),
                "min_name_score": grp["name_score"].min(),
                "names": " | ".join(str(n) for n in grp["nom"]),
            }
        )
    return pd.DataFrame(rows)


def explain_table(members: pd.DataFrame, cluster_id: str, lang: str = "fr") -> pd.DataFrame:
    """The members of one cluster: primary first, each with the rule and match that merged it."""
    from mapapp.ingest.dedupe import MergeRule

    grp = members[members["cluster_id"] == cluster_id].sort_values(
        ["primary", "id"], ascending=[False, True]
    )
    out = grp[
        [
            "id",
            "primary",
            "nom",
            "source",
            "actor_type",
            "commune",
            "rule",
            "linked_to",
            "distance_m",
            "name_score",
        ]
    ].copy()
    out["reason"] = [MergeRule(r).label(lang) if r else "" for r in grp["rule"]]
    return out.reset_index(drop=True)


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        click.echo()
    elif fmt == "csv":
        sys.stdout.write(frame_csv(frame))
    else:
        click.echo(plain_table(frame))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:g}"
    text = str(value)
    return text[:57] + "..." if len(text) > 60 else text


def plain_table(frame: pd.DataFrame) -> str:
    """Left-aligned columns, long cells shortened, empty cells for missing numbers.

    >>> print(plain_table(pd.DataFrame({"id": ["a:1"], "distance_m": [float("nan")]})))
    id   distance_m
    a:1
    """
    head = [str(c) for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    lines = [head, *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


@click.command("duplicates")
@click.option(
    "--explain",
    "explain",
    metavar="ID",
    help="Explain one cluster (a record id or a cluster id): members, rule, distance, score.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
def duplicates_command(explain: str | None, fmt: str, lang: str) -> None:
    """List the clusters of records that describe one place (or --explain one).

    Corrections go in duplicates.toml in the data folder (docs/duplicates.md).
    """
    from mapapp.ingest.overrides import OVERRIDES_FILE

    settings = Settings.from_env()
    clusters = _read_clusters(settings)
    if clusters is None:
        click.echo(_t("no_store", lang), err=True)
        return
    if explain is None:
        size = clusters.groupby("cluster_id")["id"].transform("size")
        members = _members(settings, clusters[size > 1])
        table = cluster_table(members, lang)
        if table.empty and fmt == "table":
            click.echo(_t("none", lang))
            return
        _emit(table, fmt)
        return
    hit = clusters[(clusters["id"] == explain) | (clusters["cluster_id"] == explain)]
    if hit.empty:
        raise click.BadParameter(_t("unknown", lang, id=explain), param_hint="--explain")
    cid = str(hit["cluster_id"].iloc[0])
    rows = explain_table(_members(settings, clusters[clusters["cluster_id"] == cid]), cid, lang)
    if fmt != "table":
        _emit(rows, fmt)
        return
    click.echo(_t("header" if len(rows) > 1 else "alone", lang, cid=cid, n=len(rows)))
    _emit(rows.drop(columns="reason"), fmt)
    for rule, reason in dict(zip(rows["rule"], rows["reason"], strict=True)).items():
        if rule:
            click.echo(f"  {rule}: {reason}")
    click.echo(_t("overrides", lang, path=settings.data_dir / OVERRIDES_FILE), err=True)
