"""Call-time arguments of compiled functions: matching, conversion, checks.

Two paths. The *fast path* is a small checker generated once per function: a
single boolean expression, true when every argument is already an ndarray of
the input's dtype, rank and sizes (named dimensions consistent), or for a 0-d
float64 input a NumPy float64 scalar (a Python float is converted to one
first). It costs about 25 ns per scalar input and a few tens per array input,
against about a microsecond per input for the general path. Whenever it says no, the *general path* runs: it converts lists and
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
    """A function of the positional arguments: the arguments to call the generated
    function with (Python floats for 0-d float64 inputs become NumPy float64
    scalars) when they need no other conversion and pass every dtype, rank and
    size test; None when the general path must run (it converts, or raises the
    error naming the input). Cheapest tests first: a NumPy float64 scalar is
    settled by its type alone (its dtype and rank are fixed), a ``.dtype``
    read costs ~15 type tests."""
    if len(inputs) > GENERATED_LIMIT:
        return _table_checker(inputs)
    params = [f"a{i}" for i in range(len(inputs))]
    converts, tests, first_seen = [], [], {}
    for param, node in zip(params, inputs):
        if node.shape == () and node.dtype is FLOAT64:
            converts.append(f"    if type({param}) is float:\n        {param} = float64({param})")
            tests.append(f"(type({param}) is float64 or type({param}) is ndarray"
                         f" and {param}.dtype is float64_ and {param}.ndim == 0)")
            continue
        tests += [f"type({param}) is ndarray", f"{param}.dtype is {node.dtype.name}_",
                  f"{param}.ndim == {node.ndim}"]
        for axis, dim in enumerate(node.shape):
            size = f"{param}.shape[{axis}]"
            if isinstance(dim, int):
                tests.append(f"{size} == {dim}")
            elif dim in first_seen:
                tests.append(f"{size} == {first_seen[dim]}")
            else:
                first_seen[dim] = size
    body = "\n        and ".join(tests) or "True"
    arguments = "".join(f"{p}, " for p in params)
    source = (f"def fast_check({', '.join(params)}):\n" + "".join(c + "\n" for c in converts)
              + f"    if ({body}):\n        return ({arguments})\n    return None\n")
    namespace = {"ndarray": np.ndarray, "float64": np.float64,
                 **{f"{name}_": dtype for name, dtype in _DTYPES.items()}}
    exec(compile(source, "<symgrad argument checker>", "exec"), namespace)
    return namespace["fast_check"]


def _table_checker(inputs):
    """The fast-path test as a loop: (dtype, shape) per input, named sizes bound on the way."""
    table = [(node.dtype, node.shape, node.shape == () and node.dtype is FLOAT64)
             for node in inputs]

    def fast_check(*args):
        sizes: dict = {}
        checked = []
        for value, (dtype, shape, scalar) in zip(args, table):
            if scalar and type(value) is float:
                value = np.float64(value)
            if scalar and type(value) is np.float64:
                checked.append(value)
                continue
            if type(value) is not np.ndarray or value.dtype is not dtype or value.ndim != len(shape):
                return None
            for dim, size in zip(shape, value.shape):
                expected = sizes.setdefault(dim, size) if isinstance(dim, str) else dim
                if expected != size:
                    return None
            checked.append(value)
        return checked
    return fast_check
