"""Alembic migrations of the PostGIS store (run by :func:`mapapp.store.postgis.migrate`)."""
