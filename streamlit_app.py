"""Entry point of the web app: ``streamlit run streamlit_app.py`` (or ``mapapp serve``)."""

from mapapp.ui.app import main

main()
