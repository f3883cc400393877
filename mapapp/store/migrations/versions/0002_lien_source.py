"""Add ``lien_source`` (the record's page at its source, data·inclusion v1).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE mapapp_actors ADD COLUMN lien_source text NOT NULL DEFAULT ''")


def downgrade() -> None:
    op.execute("ALTER TABLE mapapp_actors DROP COLUMN lien_source")
