"""The import report: terminal summary, JSON, and a readable Markdown page.

Why: "nothing lost" must be checkable.  Every input row is *loaded*,
*merged* (same id read again, a structure joined to its services, or a
duplicate of a place another source already gives) or *quarantined* (with
its reason and the original row).  The JSON report carries ``read``,
``loaded``, ``merged`` and ``quarantined`` at its top level, and
``read == loaded + merged + quarantined`` always holds (``balanced``).

Examples
--------
>>> r = new_report()
>>> r["read"], r["balanced"]
(0, True)
>>> print(summary_lines(r)[0])
0 lignes lues : 0 chargées, 0 fusionnée(s), 0 en quarantaine (le compte est juste) / Read 0 rows: 0 loaded, 0 merged, 0 quarantined (counts add up).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["bump", "new_report", "summary_lines", "write_report"]


def new_report() -> dict[str, Any]:
    """An empty report with every section in place."""
    return {
        "mapapp_import_report": 1,
        "read": 0,
        "loaded": 0,
        "merged": 0,
        "quarantined": 0,
        "balanced": True,
        "started": "",
        "finished": "",
        "inputs": [],
        "store": {},
        "by_dataset": {},
        "by_source": {},
        "by_actor_type": {},
        "by_obstacle": {},
        "merged_by_reason": {},
        "merges": [],
        "quarantined_by_reason": {},
        "repaired": {"rows": 0, "by_kind": {}},
        "precision": {},
        "insee_from": {},
        "unknown_thematiques": {},
        "unknown_type_codes": {},
        "confidential": {"rows": 0, "by_reason": {}, "records": []},
        "opening_hours": {"valid": 0, "invalid": 0, "with_warnings": 0, "invalid_examples": []},
        "geocoding": {},
        "changes": {"added": [], "updated": [], "gone": []},
        "cut_fields": {},
        "degraded": [],
        "warnings": [],
        "repairs": [],
        "quarantine": [],
    }


def bump(table: dict[str, Any], key: str, field: str | None = None, by: int = 1) -> None:
    """Add ``by`` to ``table[key]`` (or ``table[key][field]``)."""
    if field is None:
        table[key] = table.get(key, 0) + by
    else:
        row = table.setdefault(key, {})
        row[field] = row.get(field, 0) + by


def _kind(repair: str) -> str:
    """The kind of a repair message, without its row-specific numbers."""
    if repair.startswith("geocoded"):
        return "geocoded (BAN)"
    if repair.startswith("point ("):
        return "point rejected (outside declared commune or France)"
    if repair.startswith("declared commune"):
        return "INSEE code taken from the point (declared code disagreed)"
    if repair.startswith("commune name"):
        return "commune from the postcode alone (the row names another place)"
    if repair.startswith("unknown INSEE code"):
        return "unknown INSEE code ignored"
    return repair


def repair_kinds(repairs: list[str]) -> list[str]:
    """Kinds of a row's repair messages (see :func:`_kind`)."""
    return [_kind(r) for r in repairs]


def summary_lines(report: dict[str, Any]) -> list[str]:
    """A few lines for the terminal, French first, then English (as every CLI message).

    Examples
    --------
    >>> r = {"read": 3, "loaded": 2, "merged": 1, "quarantined": 0, "balanced": True,
    ...      "store": {"added": 2, "total": 2}, "repaired": {"rows": 0},
    ...      "quarantined_by_reason": {}, "unknown_thematiques": [],
    ...      "opening_hours": {"invalid": 0}}
    >>> print("\\n".join(summary_lines(r)))
    3 lignes lues : 2 chargées, 1 fusionnée(s), 0 en quarantaine (le compte est juste) / Read 3 rows: 2 loaded, 1 merged, 0 quarantined (counts add up).
    Store : 2 ajoutée(s), 0 mise(s) à jour, 0 inchangée(s), 0 disparue(s) de leur source (gardées ; --prune les retire), 2 fiches en tout / Store: 2 added, 0 updated, 0 unchanged, 0 gone from their source (kept; --prune removes them), 2 actors in all.
    """
    ok = report["balanced"]
    check_fr = "le compte est juste" if ok else "LE COMPTE EST FAUX : signalez-le"
    check = "counts add up" if ok else "COUNTS DO NOT ADD UP: please report"
    read, loaded, merged, quar = (report[k] for k in ("read", "loaded", "merged", "quarantined"))
    lines = [
        f"{read} lignes lues : {loaded} chargées, {merged} fusionnée(s), {quar} en quarantaine "
        f"({check_fr}) / Read {read} rows: {loaded} loaded, {merged} merged, "
        f"{quar} quarantined ({check})."
    ]
    store = report.get("store") or {}
    if store:
        add, upd, same, gone, total = (
            store.get(k, 0) for k in ("added", "updated", "unchanged", "gone", "total")
        )
        lines.append(
            f"Store : {add} ajoutée(s), {upd} mise(s) à jour, {same} inchangée(s), {gone} "
            f"disparue(s) de leur source (gardées ; --prune les retire), {total} fiches en tout"
            f" / Store: {add} added, {upd} updated, {same} unchanged, {gone} gone from their "
            f"source (kept; --prune removes them), {total} actors in all."
        )
    lines += _safety_lines(report)
    lines += _detail_lines(report)
    return lines


def _detail_lines(report: dict[str, Any]) -> list[str]:
    """What the import merged, repaired, placed roughly, quarantined or hid (FR / EN)."""
    lines: list[str] = []
    earlier = sum(1 for m in report.get("merges") or [] if not m.get("this_import", True))
    if earlier:
        lines.append(
            f"Fiches d'imports précédents fusionnées dans une fiche plus riche de celui-ci : "
            f"{earlier} / records of earlier imports now merged into a richer record of this "
            "one (see 'merges' in the report, 'mapapp duplicates')."
        )
    lines += [str(note) for note in report.get("notes") or []]
    rep = report["repaired"]
    if rep["rows"]:
        kinds = ", ".join(f"{k}: {v}" for k, v in Counter(rep["by_kind"]).most_common(4))
        lines.append(f"Lignes réparées / repaired rows: {rep['rows']} ({kinds}).")
    prec = report.get("precision") or {}
    if prec.get("commune"):
        lines.append(
            f"Placées à la commune seulement / placed at commune precision only: {prec['commune']}."
        )
    for reason, count in Counter(report["quarantined_by_reason"]).most_common(3):
        lines.append(f"En quarantaine / quarantined {count}: {reason}")
    conf = report.get("confidential") or {}
    if conf.get("rows"):
        why = ", ".join(f"{k}: {v}" for k, v in Counter(conf["by_reason"]).most_common())
        lines.append(
            f"Confidentielles (adresse masquée) / confidential (address hidden): {conf['rows']} "
            f"({why})."
        )
    if report["unknown_thematiques"]:
        n = len(report["unknown_thematiques"])
        lines.append(f"Thématiques inconnues gardées / unknown thématiques kept: {n} distinct.")
    hours = report["opening_hours"]
    if hours["invalid"]:
        lines.append(
            "Horaires hors syntaxe OpenStreetMap (gardés dans la description) / opening hours "
            f"not in OpenStreetMap syntax (kept in the description): {hours['invalid']}."
        )
    geo = report.get("geocoding") or {}
    if geo.get("unavailable"):
        lines.append(
            "Géocodeur injoignable : lignes sans coordonnées placées à leur commune / geocoder "
            "unreachable: rows without coordinates were placed at their commune."
        )
    return lines


def _safety_lines(report: dict[str, Any]) -> list[str]:
    """What the import refused to lose: degraded updates, cut rows, cut values."""
    lines = [f"Attention / warning: {w}" for w in report.get("warnings") or []]
    degraded = (report.get("store") or {}).get("degraded", 0)
    if degraded:
        lines.append(
            f"Mises à jour dégradées non appliquées / degraded updates not applied: {degraded} "
            "(old records kept; listed in the report; --accept-degraded applies them)."
        )
        lines += [f"  {d['id']}: {'; '.join(d['lost'])}" for d in report["degraded"][:3]]
    truncated = sum(
        v for k, v in report["quarantined_by_reason"].items() if k.startswith("truncated")
    )
    if truncated:
        lines.append(
            f"Lignes coupées par la fin du fichier / rows cut by the end of their file: "
            f"{truncated} (quarantined as 'truncated'; the stored records are untouched)."
        )
    if report.get("prune_skipped"):
        lines.append(f"--prune: {report['prune_skipped']}.")
    cut = report.get("cut_fields") or {}
    if cut:
        fields = ", ".join(f"{k}: {v}" for k, v in Counter(cut).most_common())
        lines.append(f"Valeurs trop longues coupées / over-long values cut: {fields}.")
    return lines


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> list[str]:
    def esc(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown page a coordinator can read."""
    lines = ["# Import report", ""]
    lines += [f"- {line}" for line in summary_lines(report)] + [""]
    lines += [f"Started {report['started']}, finished {report['finished']}.", ""]
    lines += ["## Inputs", ""]
    lines += _table(
        [(i["dataset"], i["format"], ", ".join(i["files"])) for i in report["inputs"]],
        ("dataset", "format", "files"),
    )
    lines += ["## Per dataset", ""]
    lines += _table(
        [
            (k, v.get("read", 0), v.get("loaded", 0), v.get("merged", 0), v.get("quarantined", 0))
            for k, v in report["by_dataset"].items()
        ],
        ("dataset", "read", "loaded", "merged", "quarantined"),
    )
    lines += ["## Per source", ""]
    lines += _table(
        [
            (
                k,
                v.get("loaded", 0),
                v.get("merged", 0),
                v.get("repaired", 0),
                v.get("commune_precision", 0),
            )
            for k, v in sorted(report["by_source"].items())
        ],
        ("source", "loaded", "merged", "repaired", "at commune only"),
    )
    lines += ["## Per actor type and per obstacle (loaded rows)", ""]
    lines += _table(sorted(report["by_actor_type"].items()), ("actor type", "rows"))
    lines += _table(sorted(report["by_obstacle"].items()), ("obstacle", "rows"))
    lines += ["## Repairs", ""]
    lines += _table(Counter(report["repaired"]["by_kind"]).most_common(), ("repair", "rows"))
    lines += ["## Merged", ""]
    lines += _table(Counter(report["merged_by_reason"]).most_common(), ("reason", "rows"))
    merges = report.get("merges") or []
    if merges:
        lines += [
            f"First {min(200, len(merges))} of {len(merges)} merged records (rule, match):",
            "",
        ]
        lines += _table(
            [
                (
                    m["id"],
                    m["linked_to"],
                    m["rule"],
                    "" if m["distance_m"] is None else f"{m['distance_m']:.0f} m",
                    "" if m["name_score"] is None else f"{m['name_score']:.0f}",
                    m["reason_fr"],
                )
                for m in merges[:200]
            ],
            ("record", "matched with", "rule", "distance", "name score", "raison"),
        )
    over = report.get("duplicate_overrides")
    if over:
        lines += [
            f"Overrides applied from {over['file']}: {over['joins']} join(s), "
            f"{over['splits']} split(s).",
            "",
        ]
        if over["unknown_ids"]:
            lines += [
                "Ids named there but absent from the store: " + ", ".join(over["unknown_ids"][:50]),
                "",
            ]
    lines += ["## Quarantine", ""]
    lines += _table(Counter(report["quarantined_by_reason"]).most_common(), ("reason", "rows"))
    q = report["quarantine"]
    if q:
        lines += [f"First {min(50, len(q))} of {len(q)} quarantined rows:", ""]
        lines += _table(
            [
                (r["origin"], r["reason"], json.dumps(r["original"], ensure_ascii=False)[:160])
                for r in q[:50]
            ],
            ("origin", "reason", "original row"),
        )
    conf = report.get("confidential") or {}
    if conf.get("records"):
        lines += ["## Confidential records (address hidden)", ""]
        lines += _table(
            [
                (
                    c["id"],
                    c["nom"],
                    "; ".join(f"{w['en']} ({w['field']}: {w['term']})" for w in c["reasons"]),
                )
                for c in conf["records"]
            ],
            ("id", "name", "why"),
        )
    if report["unknown_thematiques"]:
        lines += ["## Unknown vocabulary (kept on the records)", ""]
        lines += _table(
            Counter(report["unknown_thematiques"]).most_common(50), ("thématique", "rows")
        )
    if report["unknown_type_codes"]:
        lines += _table(
            Counter(report["unknown_type_codes"]).most_common(50), ("type code", "rows")
        )
    if report.get("degraded"):
        lines += ["## Degraded updates not applied (old record kept)", ""]
        lines += _table(
            [(d["id"], d["origin"], "; ".join(d["lost"])) for d in report["degraded"][:200]],
            ("id", "origin", "what would be lost"),
        )
    if report.get("cut_fields"):
        lines += ["## Over-long values cut", ""]
        lines += _table(Counter(report["cut_fields"]).most_common(), ("field", "values cut"))
    gone = report["changes"]["gone"]
    if gone:
        lines += ["## Gone from their source (kept in the store)", ""]
        lines += [f"- {g}" for g in gone[:200]] + [""]
    return "\n".join(lines)


def write_report(report: dict[str, Any], path: Path) -> tuple[Path, Path]:
    """Write ``path`` (JSON) and the Markdown page beside it; return both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), "utf-8")
    md = path.with_suffix(".md")
    md.write_text(markdown(report), "utf-8")
    return path, md
