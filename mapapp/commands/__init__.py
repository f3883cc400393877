"""Sub-commands of the ``mapapp`` CLI, one module each, registered in :mod:`mapapp.cli`."""
