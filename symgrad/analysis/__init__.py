"""Structural facts about nodes (symmetry, definiteness, sign) read off op records."""
