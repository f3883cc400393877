"""Entry point of the web app: ``streamlit run streamlit_app.py`` (or ``mapapp serve``)."""

from mapapp.ui.app import main

if __name__ == "__main__":  # Streamlit runs this file as __main__; imports do nothing
    main()
