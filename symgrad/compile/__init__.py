"""Lowering graphs to NumPy source: emit, memory planning, specialization, loop batching.

Importing the package registers the compiler's three graph passes with the
rewrite engine (``symgrad.rewrite.engine``): loop batching, matrix chains in
their cheapest bracketing, then compile-time specialization.
"""
from . import chains, loop_batching, specialize

__all__ = ["chains", "loop_batching", "specialize"]
