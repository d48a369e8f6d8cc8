"""Lowering graphs to NumPy source: emit, memory planning, specialization, loop batching.

Importing the package registers the compiler's two graph passes with the
rewrite engine (``symgrad.rewrite.engine``): loop batching, then compile-time
specialization.
"""
from . import loop_batching, specialize

__all__ = ["loop_batching", "specialize"]
