"""Call-time arguments of compiled functions: matching, conversion, checks.

Two paths. The *fast path* is a small checker generated once per function: a
single boolean expression, true when every argument is already an ndarray of
the input's dtype, rank and sizes (named dimensions consistent). It costs
about a microsecond at any number of inputs, against several for the general
path. Whenever it says no, the *general path* runs: it converts lists and
scalars, casts safely, binds named dimensions and raises an error naming the
offending input. Both accept exactly the same calls with the same results.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Node
from ..ir.shapes import bind_dims, format_shape

_ALLOWED_KINDS = {"float64": "fiub", "int64": "iub", "bool": "b"}
_DTYPES = {name: np.dtype(name) for name in _ALLOWED_KINDS}  # np.dtype(name) costs ~0.3 µs a call
FLOAT64 = _DTYPES["float64"]
#: The argument types the fast path takes as they are: arrays, and NumPy's float64
#: scalars for 0-d float64 inputs (they compute exactly as 0-d arrays do).
_SCALAR_TYPES = (np.ndarray, np.float64)


def convert(node: Node, value, who: str) -> np.ndarray:
    """``value`` as an array of the input's dtype, or a TypeError naming it."""
    try:
        array = np.asarray(value)
    except Exception as err:
        raise TypeError(f"{who}: cannot convert {type(value).__name__} to an array ({err})") from None
    kind, want = array.dtype.kind, node.dtype.name
    if kind not in _ALLOWED_KINDS[want]:
        raise TypeError(f"{who} must be {want}, got {array.dtype} (not safely castable)")
    if kind == "u" and want == "int64" and array.size and array.max() > np.iinfo(np.int64).max:
        raise TypeError(f"{who}: values too large for int64")
    return array if array.dtype == want else array.astype(want)


def match_arguments(name: str, inputs, positions: dict, args, kwargs) -> list:
    """Values in ``inputs`` order from positional and keyword arguments."""
    if len(args) > len(inputs):
        raise TypeError(f"{name}() takes {len(inputs)} inputs, got {len(args)}")
    values = list(args) + [None] * (len(inputs) - len(args))
    given = [True] * len(args) + [False] * (len(inputs) - len(args))
    for key, value in kwargs.items():
        if key not in positions:
            raise TypeError(f"{name}() got an unknown input {key!r}; inputs are "
                            f"{[n.name for n in inputs]}")
        i = positions[key]
        if given[i]:
            raise TypeError(f"{name}() got input {key!r} twice")
        values[i], given[i] = value, True
    for node, ok in zip(inputs, given):
        if not ok:
            raise TypeError(f"{name}() is missing input {node.name!r} {format_shape(node.shape)}")
    return values


def bind_arguments(inputs, values) -> tuple:
    """(checked arrays, {dimension name: size}); errors name the input."""
    bindings: dict = {}
    arrays = []
    for node, value in zip(inputs, values):
        if node.shape == () and type(value) is float and node.dtype is FLOAT64:
            arrays.append(np.float64(value))  # a Python float: NumPy's float64 semantics
            continue
        who = f"input {node.name!r}"
        array = convert(node, value, who)
        bind_dims(node.shape, array.shape, bindings, who)
        arrays.append(array)
    return arrays, {name: size for name, (size, _) in bindings.items()}


#: Above this many inputs the checker is a loop over a table (compiling one
#: huge boolean expression would cost more than the calls it saves).
GENERATED_LIMIT = 512


def fast_checker(inputs):
    """A function of the positional arguments: True when the fast path applies."""
    if len(inputs) > GENERATED_LIMIT:
        return _table_checker(inputs)
    params = [f"a{i}" for i in range(len(inputs))]
    tests, first_seen = [], {}
    for param, node in zip(params, inputs):
        kind = (f"(type({param}) is ndarray or type({param}) is float64)"
                if node.shape == () and node.dtype is FLOAT64 else f"type({param}) is ndarray")
        tests += [kind, f"{param}.dtype is {node.dtype.name}_", f"{param}.ndim == {node.ndim}"]
        for axis, dim in enumerate(node.shape):
            size = f"{param}.shape[{axis}]"
            if isinstance(dim, int):
                tests.append(f"{size} == {dim}")
            elif dim in first_seen:
                tests.append(f"{size} == {first_seen[dim]}")
            else:
                first_seen[dim] = size
    body = "\n        and ".join(tests) or "True"
    source = f"def fast_check({', '.join(params)}):\n    return ({body})\n"
    namespace = {"ndarray": np.ndarray, "float64": np.float64,
                 **{f"{name}_": dtype for name, dtype in _DTYPES.items()}}
    exec(compile(source, "<symgrad argument checker>", "exec"), namespace)
    return namespace["fast_check"]


def _table_checker(inputs):
    """The fast-path test as a loop: (dtype, shape) per input, named sizes bound on the way."""
    table = [(node.dtype, node.shape, _SCALAR_TYPES if node.shape == () and node.dtype is FLOAT64
              else (np.ndarray,)) for node in inputs]

    def fast_check(*args):
        sizes: dict = {}
        for value, (dtype, shape, types) in zip(args, table):
            if type(value) not in types or value.dtype is not dtype or value.ndim != len(shape):
                return False
            for dim, size in zip(shape, value.shape):
                expected = sizes.setdefault(dim, size) if isinstance(dim, str) else dim
                if expected != size:
                    return False
        return True
    return fast_check
