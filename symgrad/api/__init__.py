"""The NumPy-named public functions that build graph nodes."""
