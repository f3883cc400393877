"""HTTP front ends: the REST API and the light phone page, on FastAPI.

FastAPI code lives only here; the core never imports it.  Build the app with
:func:`mapapp.web.app.create_app`.
"""

__all__: list[str] = []
