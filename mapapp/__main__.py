"""``python -m mapapp`` is the ``mapapp`` command."""

from mapapp.cli import main

if __name__ == "__main__":
    main()
