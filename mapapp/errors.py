"""Errors raised by mapapp.

Every error derives from :class:`MapappError` so callers (the CLI, the UI) can
catch them all in one place and show the message instead of a traceback.  Each
specific error also subclasses the matching built-in, so code that expects a
``ValueError`` or a ``LookupError`` keeps working.  Messages say what was wrong
*and* what to do about it.

Examples
--------
>>> try:
...     raise UnknownPlaceError("no commune matches 'Xyz'; try a postcode")
... except LookupError as exc:
...     print(isinstance(exc, MapappError), exc)
True no commune matches 'Xyz'; try a postcode
"""

from __future__ import annotations

__all__ = [
    "AmbiguousPlaceError",
    "ConfigurationError",
    "DataValidationError",
    "InputFormatError",
    "MapappError",
    "OfflineError",
    "StoreBusyError",
    "StoreError",
    "UnknownPlaceError",
    "UnknownVocabularyError",
]


class MapappError(Exception):
    """Base class of every error mapapp raises on purpose."""


class ConfigurationError(ValueError, MapappError):
    """A setting (environment variable, config file) is missing or invalid."""


class DataValidationError(ValueError, MapappError):
    """A layer or record breaks a rule (ids not unique, coordinates off, ...)."""


class InputFormatError(ValueError, MapappError):
    """An input file cannot be read as the format it claims or seems to be."""


class UnknownPlaceError(LookupError, MapappError):
    """A place name, postcode or INSEE code matches no commune."""


class AmbiguousPlaceError(LookupError, MapappError):
    """A place name matches several communes; ``choices`` lists them.

    Parameters
    ----------
    message : str
        What was ambiguous and what to do.
    choices : list of tuple
        ``(code_insee, label)`` pairs the user may choose from.
    """

    def __init__(self, message: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(message)
        self.choices = choices


class UnknownVocabularyError(KeyError, MapappError):
    """A slug is not part of the controlled vocabulary (obstacle, actor type)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class OfflineError(ConnectionError, MapappError):
    """The machine cannot reach the server of an online source."""


class StoreError(OSError, MapappError):
    """The store (GeoParquet folder or PostGIS) cannot be read or written."""


class StoreBusyError(StoreError):
    """Another import holds the store's writer lock (raised only when not waiting)."""
