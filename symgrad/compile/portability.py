"""Where a compile-time specialization is valid: on every backend, or NumPy's only.

A pass that builds ops only NumPy's runtime lowers (SciPy's LAPACK, helpers that
range-check labels, a buffer written in place) declares itself ``NUMPY_ONLY``;
one whose result every dialect of :mod:`symgrad.compile.portable` lowers is
``PORTABLE``.
"""
from __future__ import annotations

NUMPY_ONLY, PORTABLE = False, True


def valid(portable: bool, backend: str) -> bool:
    """Whether a rule (``portable`` or NumPy-only) applies on ``backend``."""
    return portable or backend == "numpy"
