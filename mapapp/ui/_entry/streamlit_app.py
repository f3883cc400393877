"""Entry script used by ``mapapp serve`` when the package is installed without its source tree.

It lives alone in this folder because Streamlit puts a script's folder on
``sys.path``: nothing here can shadow another module.
"""

from mapapp.ui.app import main

if __name__ == "__main__":  # Streamlit runs this file as __main__; imports do nothing
    main()
