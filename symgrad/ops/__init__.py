"""Op records by family: importing this package registers every op.

Each op is declared once, in one of the modules below, as an :class:`Op` record
holding every fact about it; :mod:`symgrad.ops.base` has the declaring helpers.
"""
from .base import Sample, Spec, add_all, broadcast_to, draw, is_constant, zeros  # noqa: F401

# Importing the op modules registers every op.
from . import elementwise, reductions, structure, linalg, transcendental  # noqa: E402,F401
from . import special  # noqa: E402,F401
from . import products  # noqa: E402,F401
from . import shaping  # noqa: E402,F401
from . import scans  # noqa: E402,F401
from . import indexing  # noqa: E402,F401
from . import decompositions  # noqa: E402,F401
