"""The web front doors of mapapp (REST API and the light page), served by FastAPI."""
