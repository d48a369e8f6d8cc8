"""Naming and literals shared by the two printers of generated source.

:mod:`symgrad.compile.emit` writes the source a compiled function executes (buffer
plumbing included), :mod:`symgrad.compile.readable` the one a person reads
(``sg.codegen``, ``f.source``); both name variables, write constants and bind
named dimensions the same way, with the helpers here.
"""
from __future__ import annotations

import builtins
import keyword
import math
import operator

import numpy as np

from ..ops import runtime
from ..ir.template_forms import numpy_dtype
from ..ir.shapes import Count, Size

RESERVED = frozenset(dir(builtins)) | {"np", "numpy"}


#: Array constants above this many bytes are not written into a compiled
#: function's source (hex doubles it, and ``compile`` then holds it several
#: times): they are bound into its namespace (``sg.codegen`` still writes them).
SOURCE_CONSTANT_BYTES = 4096


def is_safe_identifier(name: str) -> bool:
    """A name that may appear verbatim in generated source."""
    return (isinstance(name, str) and name.isidentifier() and name.isascii()
            and not keyword.iskeyword(name) and not name.startswith("_")
            and name not in RESERVED)


class Namer:
    """Unique identifiers: preferred names when safe and free, mangled otherwise."""

    def __init__(self):
        self.taken: set = set(RESERVED)
        self.safe_prefixes: dict = {}

    def claim(self, preferred: str, fallback: str) -> str:
        return self._unique(preferred if is_safe_identifier(preferred) else fallback)

    def numbered(self, prefix: str, k: int) -> str:
        """``<prefix>_<k>`` (``t<k>`` if that is not safe), unique; the check is
        made once per prefix (a digit suffix never changes the verdict)."""
        safe = self.safe_prefixes.get(prefix)
        if safe is None:
            safe = self.safe_prefixes[prefix] = is_safe_identifier(f"{prefix}_0")
        return self._unique(f"{prefix}_{k}" if safe else f"t{k}")

    def _unique(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


class LoweringContext:
    """What an op's emitter may ask about while lowering one node."""

    def __init__(self, dim_vars: dict, operands=()):
        self.dim_vars = dim_vars
        self.operands = operands
        self.used_dims: set = set()

    def at(self, operands) -> "LoweringContext":
        self.operands = operands
        return self

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        if isinstance(d, Size):  # a derived size: arithmetic on the names' variables
            return d.source(self.dim)
        if d not in self.dim_vars:
            raise ValueError(f"the outputs use the dimension {d!r}, but no input has a "
                             f"dimension named {d!r}, so its size is unknown at call time")
        self.used_dims.add(d)
        return self.dim_vars[d]

    def shape(self, shape) -> str:
        parts = [self.dim(d) for d in shape]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def ndim(self, i: int) -> int:
        return self.operands[i].ndim


def literal(array: np.ndarray) -> str | None:
    """Inline source for a scalar constant, or None when it must be hoisted."""
    if array.ndim != 0:
        return None
    value = array.item()
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value >= 0 else f"({value})"
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "(-np.inf)"
    return repr(value) if value >= 0 and not repr(value).startswith("-") else f"({value!r})"


def constant_source(array: np.ndarray) -> str:
    """Exact, parse-safe source for an array constant (an empty one through
    ``reshape``: its ``tolist()`` would lose the shape)."""
    small = 0 < array.size <= 16 and (array.dtype.kind != "f" or bool(np.all(np.isfinite(array))))
    if small:
        return f"np.array({array.tolist()!r}, dtype={numpy_dtype(array.dtype.name)})"
    return (f"np.frombuffer(bytes.fromhex({array.tobytes().hex()!r}), "
            f"dtype={numpy_dtype(array.dtype.name)}).reshape({array.shape!r})")


def constant_variable(array: np.ndarray, namer: Namer, constants: list,
                      bound: dict | None) -> str:
    """How source reads a constant: a literal for a scalar, else a module-level
    variable whose definition goes into ``constants`` (with ``bound``, a dict to
    fill, an array above ``SOURCE_CONSTANT_BYTES`` is bound there instead)."""
    text = literal(array)
    if text is not None:
        return text
    name = namer.claim("", f"_c{len(constants)}")
    if bound is not None and array.nbytes > SOURCE_CONSTANT_BYTES:
        bound[name] = array  # read-only, as the hex form would be
        constants.append(f"# {name}: {array.dtype.name} constant of shape "
                         f"{array.shape!r}, bound when compiled")
    else:
        constants.append(f"{name} = {constant_source(array)}")
    return name


def helper_sources(order) -> tuple:
    """(source blocks, names they bind) of the run-time helpers the ops of
    ``order`` call, each op's in order (:func:`symgrad.ops.runtime.embed`)."""
    ops = dict.fromkeys(map(operator.attrgetter("op"), order))  # each op once, in order
    return runtime.embed([h for op in ops for h in op.helpers])


def dimension_variables(inputs, var: dict, namer: Namer) -> tuple:
    """({dim name: variable}, {dim name: source reading it off the first input that has
    it}); a boolean input's :class:`Count` (``x[m]``'s length) is its number of Trues."""
    dim_vars, dim_source = {}, {}
    for node in inputs:
        for axis, d in enumerate(node.shape):
            if isinstance(d, str) and d not in dim_vars:
                dim_vars[d] = namer.claim(d, f"dim{len(dim_vars)}")
                dim_source[d] = f"{var[node]}.shape[{axis}]"
    for node in inputs:  # x[m]'s length: the count of a boolean input, read off it
        if node.dtype == "bool" and node.shape:
            d = Count(node.name, node.shape)
            dim_vars.setdefault(d, namer.claim(f"nnz_{var[node]}", f"dim{len(dim_vars)}"))
            dim_source[d] = f"int({var[node]}.sum())"
    return dim_vars, dim_source


def float_operands(node, args: list) -> list:
    """Operand sources cast to float64 where the node is a float64 result of bool or int
    operands only: NumPy would compute it in their own dtype (``True + True`` is
    ``True``, ``exp`` of a bool is float16, ``-k`` wraps in int64, ``np.outer`` and
    ``np.trace`` of ints are ints), while the node's type, and so every consumer (and
    the buffer reuse that writes a float result into it), says float64. Not for ops
    whose record says it ``reads_indices`` (``one_hot``'s labels, ``where``'s condition)."""
    if node.dtype is not _FLOAT64 or not node.operands or node.op.reads_indices:
        return args  # (a node's dtype is NumPy's one float64 instance: no str parsed)
    for o in node.operands:
        if o.dtype is _FLOAT64:
            return args
    return [f"np.asarray({a}, dtype=np.float64)" for a in args]


_FLOAT64 = np.dtype("float64")

