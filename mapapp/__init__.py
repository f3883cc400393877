"""mapapp: a map of the actors who help people back to work, by obstacle."""

__version__ = "0.1.0"
