"""The Streamlit user interface: thin pages that only call :mod:`mapapp` functions.

Only this package (and ``streamlit_app.py``) imports Streamlit.  Modules:

``app``            page config, navigation and the frame shown on every view
``chrome``         quick exit, emergency numbers, demonstration banner, language switch
``resources``      layers and indexes built once per process (``st.cache_resource``)
``assets``         serves Leaflet from the app itself (no CDN for maps)
``search_page``    the search view
``safety_page``    "Naviguer en sécurité": what the app does and cannot erase
``coverage_page``  the coordinator's coverage view (written separately)
"""

__all__: list[str] = []
