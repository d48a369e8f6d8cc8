"""Lowering graphs to NumPy source: emit, memory planning, specialization, loop batching."""
