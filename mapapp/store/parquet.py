"""GeoParquet store: one actors file under ``MAPAPP_DATA_DIR``, written atomically.

Why GeoParquet: a single-user or read-mostly deployment needs no database; a
100k-row layer loads in well under a second and keeps list columns typed.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from mapapp.errors import StoreError
from mapapp.schema import validate_actors

__all__ = ["ParquetStore"]


class ParquetStore:
    """Actors as ``<data_dir>/actors.parquet``.

    Examples
    --------
    >>> import tempfile
    >>> from mapapp.schema import actors_frame
    >>> store = ParquetStore(tempfile.mkdtemp())
    >>> store.is_empty()
    True
    >>> store.write_actors(actors_frame([{"id": "x:1", "latitude": 45.0, "longitude": 5.0}]))
    >>> len(store.read_actors())
    1
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)

    @property
    def actors_path(self) -> Path:
        """Path of the actors GeoParquet file."""
        return self.data_dir / "actors.parquet"

    def is_empty(self) -> bool:
        """True when no actors were ever written."""
        return not self.actors_path.exists()

    def stamp(self) -> str:
        """A string that changes whenever a new version of the actors is committed.

        Caches key on it; it is cheap (one ``stat``), so pages may call it on
        every run.
        """
        try:
            st = self.actors_path.stat()
        except OSError:
            return "empty"
        return f"{st.st_mtime_ns}-{st.st_size}"

    def read_actors(self) -> gpd.GeoDataFrame:
        """Read all actors."""
        try:
            return gpd.read_parquet(self.actors_path)
        except FileNotFoundError:
            raise StoreError(
                f"no actors in {self.data_dir}; run 'mapapp ingest' or unset MAPAPP_DATA_DIR"
            ) from None
        except Exception as exc:  # pyarrow raises several unrelated types
            raise StoreError(
                f"cannot read {self.actors_path} ({exc}); delete it and import again"
            ) from exc

    def write_actors(self, actors: gpd.GeoDataFrame) -> None:
        """Validate then replace all actors (atomic rename, never a half-written file)."""
        validate_actors(actors)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.actors_path.with_suffix(".parquet.tmp")
            actors.to_parquet(tmp, index=False)
            tmp.replace(self.actors_path)
        except OSError as exc:
            raise StoreError(
                f"cannot write to {self.data_dir} ({exc}); check MAPAPP_DATA_DIR"
            ) from exc
