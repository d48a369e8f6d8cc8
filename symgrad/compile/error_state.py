"""NumPy's floating-point error state, set to "ignore" around a compiled call.

Compiled code runs with every floating-point warning off (``exp`` overflowing to
``inf`` in a sigmoid is part of the design, not an accident to report), as
``with np.errstate(all="ignore")`` would do. That statement builds a new error
state on every entry (``_make_extobj``: ~1 µs of a ~50 µs MLP step at batch 32).
NumPy 2 keeps the state in a context variable, so :func:`ignore` sets the
context variable to an "ignore" state made once from the state in force and
cached while that state is the one in force (a caller's own ``np.errstate``
makes a new one: made again then), and :func:`restore` resets it. Same effect,
same scoping (per thread and per asyncio task), about a fifth of the cost.
Without those NumPy internals (a future NumPy), both fall back to
``np.errstate``.
"""
from __future__ import annotations

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as _STATE
    from numpy._core.umath import _make_extobj
except ImportError:  # pragma: no cover - NumPy internals moved: the public path
    _STATE = None

#: (the error state last seen in force, that state with every error ignored)
_CACHED: tuple = (None, None)


def ignore():
    """Every floating-point error ignored from here until :func:`restore` of the token."""
    global _CACHED
    if _STATE is None:  # pragma: no cover
        manager = np.errstate(all="ignore")
        manager.__enter__()
        return manager
    current = _STATE.get()
    seen, ignoring = _CACHED
    if current is not seen:
        ignoring = _make_extobj(all="ignore")  # from the state in force: keeps its bufsize
        _CACHED = (current, ignoring)
    return _STATE.set(ignoring)


def restore(token) -> None:
    """The error state in force before the :func:`ignore` that gave ``token``."""
    if _STATE is None:  # pragma: no cover
        token.__exit__(None, None, None)
        return
    _STATE.reset(token)
