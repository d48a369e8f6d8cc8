"""The package's version, in the bottom layer so that every layer may read it."""
__version__ = "0.1.0"
