"""Exports of the public view: data·inclusion v1 JSON, CSV, GeoJSON.

Every export starts from :func:`mapapp.catalog.load_public_actors`, so a
confidential record leaves at its commune, without street or private phone.
"""

from mapapp.export.datainclusion import (
    V1_FIELDS,
    ValidationReport,
    services_v1,
    to_v1_service,
    validate_services,
)

__all__ = ["V1_FIELDS", "ValidationReport", "services_v1", "to_v1_service", "validate_services"]
