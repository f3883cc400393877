"""Any CSV, JSON or GeoJSON through a small declarative mapping file (TOML or YAML).

Why declarative: a coordinator's spreadsheet or a network's export has its
own columns; describing them in ten lines of TOML is something she can do
and review, where code is not.  The format is documented in
``docs/mapping.md``; shipped mappings live in ``mapapp/mappings/`` and are
recognised automatically by their ``[detect]`` signature.

Examples
--------
>>> m = Mapping.from_dict({"name": "demo", "source": "demo",
...     "columns": {"source_id": "ref", "nom": ["enseigne", "raison"], "source_type": "kind"},
...     "actor_type": {"from": "kind", "map": {"ML": "mission-locale"}},
...     "constants": {"modes_accueil": ["en-presentiel"]}})
>>> row = m.stage({"ref": 7, "raison": "Mission locale", "kind": "ML"})
>>> row["source_id"], row["nom"], row["actor_type"], row["modes_accueil"]
('7', 'Mission locale', 'mission-locale', ['en-presentiel'])

A dotted name reaches into a column that holds a JSON object as text (DORA
diff exports keep each record so):

>>> m = Mapping.from_dict({"name": "dora", "columns": {"nom": "data.nom",
...     "commune": "data.adresse.commune"}})
>>> row = m.stage({"data": '{"nom": "Atelier", "adresse": {"commune": "Lyon"}}'})
>>> row["nom"], row["commune"]
('Atelier', 'Lyon')
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mapapp.errors import InputFormatError
from mapapp.sources._base import STAGING_COLUMNS, Adapter, RawChunk, chunk_records
from mapapp.sources._io import Probe, flatten, iter_flat_records, parse_list, probe
from mapapp.taxonomy import ActorType, Obstacle

__all__ = [
    "MappedAdapter",
    "Mapping",
    "column_present",
    "load_mapping",
    "lookup",
    "shipped_mappings",
]

_TOP_KEYS = {
    "name",
    "label",
    "description",
    "source",
    "dataset",
    "detect",
    "read",
    "columns",
    "constants",
    "actor_type",
    "obstacles",
    "required",
}
_LIST_TARGETS = {"thematiques", "publics", "frais", "modes_accueil", "zone_eligibilite"}


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""
    )


def _json_object(value: Any) -> MappingABC[str, Any] | None:
    """The object a cell holds as JSON text (``'{"nom": ...}'``), flattened; else None."""
    if isinstance(value, MappingABC):
        return flatten(value)
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    return flatten(decoded) if isinstance(decoded, MappingABC) else None


def lookup(rec: MappingABC[str, Any], name: str) -> Any:
    """The value of column ``name``, following a dotted path into JSON text.

    ``"data.nom"`` is the column ``data.nom`` when there is one, else the key
    ``nom`` of the JSON object held as text in column ``data`` (at any depth:
    ``"data.adresse.commune"``, or JSON text inside JSON text).

    Examples
    --------
    >>> lookup({"data": '{"a": {"b": 1}}', "x.y": 2}, "data.a.b"), lookup({"x.y": 2}, "x.y")
    (1, 2)
    >>> lookup({"data": "not json"}, "data.a") is None
    True
    """
    if name in rec:
        return rec[name]
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in rec:
            inner = _json_object(rec[head])
            return None if inner is None else lookup(inner, ".".join(parts[cut:]))
    return None


def column_present(columns: set[str] | frozenset[str], name: str) -> bool:
    """Whether ``name`` is a column, or a dotted path into one (JSON text).

    Examples
    --------
    >>> column_present({"id", "data"}, "data.nom"), column_present({"id"}, "nom")
    (True, False)
    """
    if name in columns:
        return True
    parts = name.split(".")
    return any(".".join(parts[:cut]) in columns for cut in range(len(parts) - 1, 0, -1))


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (see ``docs/mapping.md``)."""

    name: str
    source: str
    label: str = ""
    dataset: str = ""
    detect_columns: tuple[str, ...] = ()
    detect_values: dict[str, str] = field(default_factory=dict)
    records_key: str | None = None
    separator: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    type_from: str | None = None
    type_map: dict[str, str] = field(default_factory=dict)
    type_default: str | None = None
    obstacles_from: str | None = None
    obstacles_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: MappingABC[str, Any], *, origin: str = "mapping") -> Mapping:
        """Validate and build a mapping; errors name the bad key and the valid ones."""
        unknown = set(raw) - _TOP_KEYS
        if unknown:
            raise InputFormatError(
                f"{origin}: unknown key(s) {sorted(unknown)}; valid keys are {sorted(_TOP_KEYS)}"
            )
        name = str(raw.get("name") or "").strip()
        if not name:
            raise InputFormatError(f"{origin}: a mapping needs a 'name'")
        columns: dict[str, tuple[str, ...]] = {}
        for target, spec in dict(raw.get("columns") or {}).items():
            if target not in STAGING_COLUMNS:
                raise InputFormatError(
                    f"{origin}: [columns] {target!r} is not a column mapapp knows; use one of "
                    f"{', '.join(sorted(STAGING_COLUMNS))}"
                )
            names = (spec,) if isinstance(spec, str) else tuple(str(s) for s in spec)
            columns[target] = names
        constants = dict(raw.get("constants") or {})
        for target in constants:
            if target not in STAGING_COLUMNS:
                raise InputFormatError(f"{origin}: [constants] {target!r} is not a known column")
        at = dict(raw.get("actor_type") or {})
        type_map = {str(k): str(v) for k, v in dict(at.get("map") or {}).items()}
        valid_types = {t.value for t in ActorType}
        for v in [*type_map.values(), *([at["default"]] if "default" in at else [])]:
            if v not in valid_types:
                raise InputFormatError(
                    f"{origin}: [actor_type] value {v!r} is not an actor type; use one of "
                    f"{', '.join(sorted(valid_types))}"
                )
        ob = dict(raw.get("obstacles") or {})
        ob_map = {str(k): tuple(parse_list(v)) for k, v in dict(ob.get("map") or {}).items()}
        valid_o = {o.value for o in Obstacle}
        for values in ob_map.values():
            for v in values:
                if v not in valid_o:
                    raise InputFormatError(
                        f"{origin}: [obstacles] value {v!r} is not an obstacle; use one of "
                        f"{', '.join(sorted(valid_o))}"
                    )
        detect = dict(raw.get("detect") or {})
        read = dict(raw.get("read") or {})
        return cls(
            name=name,
            source=str(raw.get("source") or name),
            label=str(raw.get("label") or raw.get("description") or name),
            dataset=str(raw.get("dataset") or name),
            detect_columns=tuple(str(c) for c in detect.get("columns") or ()),
            detect_values={str(k): str(v) for k, v in dict(detect.get("values") or {}).items()},
            records_key=read.get("records") or None,
            separator=read.get("separator") or None,
            columns=columns,
            constants=constants,
            type_from=at.get("from"),
            type_map=type_map,
            type_default=at.get("default"),
            obstacles_from=ob.get("from"),
            obstacles_map=ob_map,
            required=tuple(str(c) for c in raw.get("required") or ()),
        )

    def matches(self, p: Probe) -> bool:
        """Whether the probed file carries this mapping's signature."""
        if not self.detect_columns and not self.detect_values:
            return False
        if not all(c in p.columns for c in self.detect_columns):
            return False
        if self.detect_values:
            if not p.sample:
                return False
            first = p.sample[0]
            return all(str(first.get(k)) == v for k, v in self.detect_values.items())
        return True

    def check_columns(self, p: Probe) -> list[str]:
        """Check that every mapped column is in the file; never fall back silently.

        A missing required column (``required``, the id, the name) is an
        error; a missing optional column is returned as a warning for the
        report.
        """
        if p.kind == "empty" or not p.columns:
            return []
        needed: list[tuple[str, ...]] = [(c,) for c in self.required]
        for target in ("source_id", "nom"):
            if target in self.columns:
                needed.append(self.columns[target])
        missing = [
            n[0] for n in dict.fromkeys(needed) if not any(column_present(p.columns, c) for c in n)
        ]
        if missing:
            raise InputFormatError(
                f"{p.path}: required column(s) {missing} missing for mapping {self.name!r}; "
                f"the file has {sorted(p.columns)[:15]}; rename the column or edit the mapping"
            )
        where = " (premiers enregistrements / first records)" if p.kind != "csv" else ""
        return [
            f"{p.path.name}: colonne {names[0]!r} absente{where}, {target!r} restera vide / "
            f"column {names[0]!r} not found, {target!r} left empty (mapping {self.name!r})"
            for target, names in self.columns.items()
            if not any(column_present(p.columns, c) for c in names)
        ]

    def _get(self, rec: MappingABC[str, Any], names: tuple[str, ...]) -> Any:
        for name in names:
            value = lookup(rec, name)
            if not _blank(value):
                return value
        return None

    def stage(self, rec: MappingABC[str, Any]) -> dict[str, Any]:
        """Staging row of one input record."""
        out: dict[str, Any] = {}
        for target, value in self.constants.items():
            out[target] = value
        for target, names in self.columns.items():
            value = self._get(rec, names)
            if value is None:
                continue
            if target in _LIST_TARGETS and self.separator and isinstance(value, str):
                value = parse_list(value, sep=self.separator)
            out[target] = value
        located = "coords" in out or "latitude" in out or "x_l93" in out
        if not located and rec.get("_geometry") is not None:
            out["coords"] = rec["_geometry"]
        out["source"] = self.source
        sid = out.get("source_id")
        # a row without an id gets one from its content when its group is read
        # (mapapp.sources.content_id), counted in the import report
        out["source_id"] = "" if _blank(sid) else str(sid).strip()
        if self.type_from is not None:
            code = self._get(rec, (self.type_from,))
            mapped = self.type_map.get(str(code).strip()) if code is not None else None
            if mapped is not None:
                out["actor_type"] = mapped
            elif self.type_default is not None:
                out["actor_type"] = self.type_default
            if code is not None:
                out.setdefault("source_codes", [str(code).strip()])
        if self.obstacles_from is not None:
            code = self._get(rec, (self.obstacles_from,))
            if code is not None and str(code).strip() in self.obstacles_map:
                out["obstacles"] = list(self.obstacles_map[str(code).strip()])
        return out


def _load_text(text: str, suffix: str, origin: str) -> Mapping:
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            raw = tomllib.loads(text)
    except Exception as exc:  # tomllib and yaml raise their own error types
        raise InputFormatError(f"{origin}: not a valid mapping file ({exc})") from None
    if not isinstance(raw, MappingABC):
        raise InputFormatError(f"{origin}: a mapping file must be a table of keys")
    return Mapping.from_dict(raw, origin=origin)


def shipped_mappings() -> list[Mapping]:
    """The mappings shipped in ``mapapp/mappings/`` (recognised automatically)."""
    folder = resources.files("mapapp") / "mappings"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".toml", ".yaml", ".yml")):
            out.append(_load_text(entry.read_text("utf-8"), Path(entry.name).suffix, entry.name))
    return out


def load_mapping(ref: str | Path) -> Mapping:
    """A mapping from a file path, or the name of a shipped mapping."""
    path = Path(ref)
    if path.is_file():
        return _load_text(path.read_text("utf-8"), path.suffix.lower(), str(path))
    for m in shipped_mappings():
        if m.name == str(ref):
            return m
    names = ", ".join(m.name for m in shipped_mappings())
    raise InputFormatError(
        f"no mapping file {ref!r}; give a path to a .toml/.yaml file or one of: {names}"
    )


class MappedAdapter(Adapter):
    """Reads files through a :class:`Mapping`."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.name = f"mapping:{mapping.name}"
        self.label = mapping.label
        #: Mapped columns absent from the files read (for the import report).
        self.warnings: list[str] = []

    def detect(self, p: Probe) -> bool:
        """The mapping's signature is present."""
        return self.mapping.matches(p)

    def dataset(self, paths: list[Path]) -> str:
        """The mapping's dataset name."""
        return self.mapping.dataset

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:
        """Stream staging rows of every file."""
        probes = [probe(p) for p in paths]
        for p in probes:
            self.warnings += self.mapping.check_columns(p)
        return chunk_records(self._records(probes), adapter=self.name)

    def _records(
        self, probes: list[Probe]
    ) -> Iterator[tuple[str, MappingABC[str, Any], dict[str, Any] | str]]:
        for p in probes:
            for n, rec in iter_flat_records(p, key=self.mapping.records_key):
                origin = f"{p.path.name}#{n}"
                if not isinstance(rec, MappingABC):
                    yield origin, {"value": rec}, "not a record (expected an object)"
                else:
                    yield origin, rec, self.mapping.stage(rec)
