"""The register of reserved crèche places, its history and its accounts (issue 17).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Mutable between imports, so outside the generations: see
:mod:`mapapp.store.reserved_db` (the embedded store keeps the same tables in
SQLite).  Times are ``timestamptz``, validity dates ``date``; the history is
append-only (no foreign key to ``places``: it outlives a deleted entry).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mapapp_reserved_meta (key text PRIMARY KEY, value text NOT NULL);
        INSERT INTO mapapp_reserved_meta (key, value) VALUES ('version', '0');
        CREATE TABLE mapapp_reserved_places (
            actor_id text PRIMARY KEY,
            partner text NOT NULL DEFAULT '',
            places_reserved integer NOT NULL DEFAULT 0 CHECK (places_reserved >= 0),
            places_free integer NOT NULL DEFAULT 0
                CHECK (places_free >= 0 AND places_free <= places_reserved),
            valid_from date,
            valid_until date,
            ages text NOT NULL DEFAULT '',
            hours text NOT NULL DEFAULT '',
            who_may_refer text NOT NULL DEFAULT '',
            confirmed_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE mapapp_reserved_history (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL,
            actor_id text NOT NULL,
            field text NOT NULL,
            old_value text,
            new_value text,
            changed_by text NOT NULL
        );
        CREATE INDEX mapapp_reserved_history_actor ON mapapp_reserved_history (actor_id);
        CREATE TABLE mapapp_reserved_users (
            name text PRIMARY KEY,
            password_hash text NOT NULL,
            role text NOT NULL CHECK (role IN ('admin', 'coordinator')),
            scopes text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL
        );
        CREATE TABLE mapapp_reserved_sessions (
            id_hash text PRIMARY KEY,
            user_name text NOT NULL,
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL
        );
        CREATE TABLE mapapp_reserved_form_tokens (
            token_hash text PRIMARY KEY,
            session_hash text NOT NULL,
            expires_at timestamptz NOT NULL
        );
        """
    )


def downgrade() -> None:
    for name in ("form_tokens", "sessions", "users", "history", "places", "meta"):
        op.execute(f"DROP TABLE mapapp_reserved_{name}")
