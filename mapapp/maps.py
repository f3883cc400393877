"""Moved to :mod:`mapapp.render.search_map` and :mod:`mapapp.render.text` (issue 18).

Kept as a re-export only so that branches written before the move still
import; new code imports from :mod:`mapapp.render`.
"""

from mapapp.render.search_map import MAX_MARKERS, MapPoint, map_html_bytes, results_map
from mapapp.render.text import escape_text

__all__ = ["MAX_MARKERS", "MapPoint", "escape_text", "map_html_bytes", "results_map"]
