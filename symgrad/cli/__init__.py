"""The ``symgrad`` command line."""
