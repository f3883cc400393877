"""The PostGIS store's first schema: actors of the current version, side tables, generations.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

* ``mapapp_actors``: one row per record of the committed version; list
  fields as ``text[]``; ``geom`` a point in EPSG:4326 with a GiST index, so
  SQL clients (QGIS, a département's tools) can query it spatially;
* ``mapapp_tables``: side tables (import ledger, duplicate clusters...) as
  Parquet bytes, so any table a backend is given round-trips with its types;
* ``mapapp_generation``: one row per commit; the newest id is the stamp.
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TEXT = [
    "source",
    "source_id",
    "structure_id",
    "structure_nom",
    "nom",
    "description",
    "actor_type",
    "source_type",
    "siret",
    "adresse",
    "complement_adresse",
    "code_postal",
    "code_insee",
    "commune",
    "precision",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "date_maj",
    "referral_phone",
    "cluster_id",
]
_LISTS = [
    "thematiques",
    "obstacles",
    "publics",
    "frais",
    "modes_accueil",
    "zone_eligibilite",
    "sources",
]
_FLOATS = ["latitude", "longitude", "capacite"]
_BOOLS = ["confidential", "demo", "duplicate"]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    columns = ["id text PRIMARY KEY"]
    columns += [f"{c} text NOT NULL DEFAULT ''" for c in _TEXT]
    columns += [f"{c} text[] NOT NULL DEFAULT '{{}}'" for c in _LISTS]
    columns += [f"{c} double precision" for c in _FLOATS]
    columns += [f"{c} boolean NOT NULL DEFAULT false" for c in _BOOLS]
    columns.append("geom geometry(Point, 4326)")
    op.execute(f"CREATE TABLE mapapp_actors ({', '.join(columns)})")
    op.execute("CREATE INDEX mapapp_actors_geom_gist ON mapapp_actors USING gist (geom)")
    op.execute("CREATE INDEX mapapp_actors_obstacles_gin ON mapapp_actors USING gin (obstacles)")
    op.execute("CREATE TABLE mapapp_tables (name text PRIMARY KEY, payload bytea NOT NULL)")
    op.execute(
        "CREATE TABLE mapapp_generation ("
        "id bigserial PRIMARY KEY, committed_at timestamptz NOT NULL DEFAULT now(), "
        "records integer NOT NULL, report jsonb)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE mapapp_generation")
    op.execute("DROP TABLE mapapp_tables")
    op.execute("DROP TABLE mapapp_actors")
