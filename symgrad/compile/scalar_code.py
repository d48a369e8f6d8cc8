"""Graphs of scalars compiled to Python float arithmetic.

When every value a compiled function handles is a 0-d float64 (its inputs,
intermediates and outputs; bools from comparisons, and int or bool constants,
may appear in between) and every op has a ``scalar`` lowering on its record
(``"{0} * {1}"``, ``"_scalar_exp({0})"``), :func:`symgrad.function` runs this
module's code instead of NumPy's: the arguments become Python floats, the body
is ``math`` and operator arithmetic (no 0-d arrays, no ufunc dispatch, no NumPy
error state), and each output is wrapped as ``np.float64`` (``np.bool_``), the
types the NumPy code returns. A deep scalar chain's value and gradient cost a
few tens of nanoseconds per node instead of about a microsecond.

The values are NumPy's: ``+ - * /`` and comparisons are the same IEEE
operations, and where ``math`` would raise (``exp`` overflow, ``log`` of a
negative number, a division by zero) the helpers of :mod:`symgrad.ops.runtime`
return NumPy's inf or nan instead. ``exp``, ``log``, ``tanh`` and ``pow`` come
from the C library rather than NumPy's own SIMD kernels, so they may differ from
NumPy's results in the last bit (tests/test_scalar_code.py bounds it).

Any other graph, any op whose record has no ``scalar`` form, ``optimize=False``
and ``nan_guard=True`` keep the NumPy code unchanged. The statements are the
NumPy emitter's (:class:`symgrad.compile.emit._BodyEmitter` with the record's
``scalar`` template in place of ``numpy``), so scalars read once are inlined
the same way; runs of like statements (a deep chain's layers, forward and
backward) are written as loops (:mod:`symgrad.compile.rolling`), so the source
and CPython's ``compile()`` of it do not grow with the depth.
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..ir.shapes import format_shape
from ..ops import runtime, structure
from ..rewrite.engine import run_passes
from .arguments import GENERATED_LIMIT
from .lowering import LoweringContext, Namer, is_safe_identifier
from . import rolling
from .memory_plan import Plan, read_counts

FLOAT64, BOOL = np.dtype("float64"), np.dtype("bool")
_HELPER_CALL = re.compile(r"\b(_scalar_\w+)\(")
#: How outputs are wrapped: the types NumPy's code returns for 0-d results.
_WRAPPERS = {FLOAT64: "_float64", BOOL: "_bool"}


def is_scalar_graph(inputs, order) -> bool:
    """Whether every input is a 0-d float64, and every other node of ``order`` a 0-d
    float64 or bool of an op with a ``scalar`` form (int and bool constants too)."""
    if any(node.shape or node.dtype is not FLOAT64 for node in inputs):
        return False
    constant, input_ = structure.constant, structure.input_
    for node in order:  # identity tests only: a dtype's ``name`` is computed in Python
        if node.shape:
            return False
        op, dtype = node.op, node.dtype
        if op is constant:
            continue
        if op is input_:
            if dtype is not FLOAT64:
                return False
            continue
        if op.scalar is None or dtype is not FLOAT64 and dtype is not BOOL:
            return False
        for operand in node.operands:
            if operand.dtype is FLOAT64:
                break
        else:
            if node.operands:
                return False  # a bool computed from bools is NumPy's logic, not Python's ints
    return True


def helpers_of(order) -> list:
    """The run-time helpers the ``scalar`` templates of ``order`` call, each once."""
    names = dict.fromkeys(name for op in dict.fromkeys(n.op for n in order)
                          if op.scalar for name in _HELPER_CALL.findall(op.scalar))
    return [getattr(runtime, name) for name in names]


def literal(value: np.ndarray) -> str:
    """Python source for a 0-d constant: a float, int or bool literal, or ``math.inf``/``math.nan``."""
    item = value.item()
    if isinstance(item, float) and not math.isfinite(item):
        text = "math.nan" if math.isnan(item) else f"{'-' if item < 0 else ''}math.inf"
    else:
        text = repr(item)
    return f"({text})" if text.startswith("-") else text


def generate(inputs, outputs, order, name: str, emitter_class) -> str | None:
    """The scalar module's source, or None when the graph (after the compiler's
    passes) is not all scalars. ``emitter_class`` writes the statements."""
    if not is_safe_identifier(name):
        raise ValueError(f"function name {name!r} is not a safe Python identifier")
    if not is_scalar_graph(inputs, order):
        return None
    passed, passed_order = run_passes(outputs, order, scalar=True)
    if passed_order is not order and not is_scalar_graph(inputs, passed_order):
        return None  # (passes that change nothing return the very order they got)
    outputs, order = passed, passed_order
    helpers, helper_names = runtime.embed(helpers_of(order))
    namer = Namer()
    namer.taken.update({name, "arguments", "math", "tuple", "_array", *helper_names, *_WRAPPERS.values()})
    constants = {node: literal(node.value) for node in order if node.op is structure.constant}
    memory = Plan(uses=read_counts(order, outputs))  # 0-d: nothing to free or reuse
    statements = rolling.plan(order, memory.uses, {**dict.fromkeys(inputs), **constants}, outputs)
    runs, elements = rolling.find_runs(statements, inputs)
    # The inputs a statement reads by name get variables (all, in straight code; the
    # docstring's too), claimed first so that they keep the names they have; the
    # others only rolled loops read, off ``arguments``.
    named = rolling.read_by_name(statements, runs, outputs) if runs else None
    var = {node: namer.claim(node.name, f"arg{i}") if named is None or node in named
           or i < DOC_INPUTS else f"arguments[{i}]" for i, node in enumerate(inputs)}
    var.update(constants)
    emitter = emitter_class(var, namer, LoweringContext({}), memory, None, {})
    emitter.lowering = "scalar"
    if runs:
        for node in outputs:
            memory.uses[node] += 1  # outputs are statements of their own (see rolling.plan)
        lengths = {rolling.ARGUMENTS: len(inputs)}
        body = rolling.emit_body(emitter, order, runs, lengths)
        returns = _returns(outputs, [var[node] for node in outputs],
                           rolling.returned(outputs, var, elements, lengths))
        unpacking = [f"    {var[node]} = arguments[{i}]" for i, node in enumerate(inputs)
                     if node in named]
    else:
        body = emitter.emit(order)
        returns = _returns(outputs, emitter.sources(outputs, (0,) * len(outputs)))
        unpacking = [f"    {''.join(var[node] + ', ' for node in inputs)}= arguments"] * bool(inputs)
    lines = ['"""Python float code generated by symgrad."""', "import math", "",
             "import numpy as np", "from numpy import array as _array, bool_ as _bool, float64 as _float64", ""]
    for source in helpers:
        lines += ["", source]
    # One sequence unpacked, not one parameter per input: CPython compiles a signature
    # of 10^4 parameters ~0.05 s slower than the same names unpacked from a tuple (and
    # rolled loops read the inputs they step through off it).
    lines += ["", "", f"def {name}(arguments):",
              f'    """Inputs: {_inputs_doc(inputs, var) or "none"} (as Python floats, in this order)."""']
    lines += unpacking + body + [f"    return {returns}", ""]
    return "\n".join(lines)


#: The docstring lists this many inputs, then how many more there are: a 10^4-layer
#: chain's 20,001 would make a docstring of 0.7 MB for CPython's ``compile()``.
DOC_INPUTS = 32


def _inputs_doc(inputs, var) -> str:
    """The inputs (variable, name, shape, dtype), the first ``DOC_INPUTS`` of them, as
    docstring text: escaped, so no name ends the docstring."""
    dtypes = {d: str(d) for d in {n.dtype for n in inputs}}  # str(dtype) runs Python code
    doc = "; ".join(f"{var[n]}: {n.name!r} {format_shape(n.shape)} {dtypes[n.dtype]}"
                    for n in inputs[:DOC_INPUTS])
    if len(inputs) > DOC_INPUTS:
        doc += f"; and {len(inputs) - DOC_INPUTS} more"
    return ascii(doc)[1:-1].replace('"', r"\x22")


#: From this many outputs, all float64, they are wrapped at once: one array, then its
#: items (half the time of wrapping each, and less source for ``compile()``).
ARRAY_RETURN = 8


def _returns(outputs, sources, items=None) -> str:
    """The returned tuple: each output a NumPy scalar, as the NumPy code returns.
    ``items``: the array's items when they are not ``sources`` (``*results[a:b]`` of
    rolled loops, :func:`symgrad.compile.rolling.returned`)."""
    if len(outputs) >= ARRAY_RETURN and all(node.dtype is FLOAT64 for node in outputs):
        return f"tuple(_array(({', '.join(sources if items is None else items)}), _float64))"
    wrapped = [f"{_WRAPPERS[node.dtype]}({source})" for node, source in zip(outputs, sources)]
    return ", ".join(wrapped) + ("," if len(wrapped) == 1 else "")


def as_float(value):
    """A NumPy float64 scalar or 0-d float64 array as a Python float; None otherwise."""
    if type(value) is np.float64 or type(value) is np.ndarray and value.dtype is FLOAT64 \
            and value.ndim == 0:
        return float(value)
    return None


def checker(inputs):
    """The fast argument path of a scalar function: its arguments as Python floats
    (a float is taken as it is, a NumPy float64 scalar or 0-d float64 array is
    converted), or None when the general path must run (it converts the rest, or
    raises the error naming the input)."""
    if len(inputs) > GENERATED_LIMIT:
        def check_all(*args):
            checked = [a if type(a) is float else as_float(a) for a in args]
            return None if None in checked else checked
        return check_all
    params = [f"a{i}" for i in range(len(inputs))]
    tests = "".join(f"    if type({p}) is not float:\n        {p} = as_float({p})\n"
                    f"        if {p} is None:\n            return None\n" for p in params)
    source = (f"def scalar_check({', '.join(params)}):\n{tests}"
              f"    return ({''.join(p + ', ' for p in params)})\n")
    namespace = {"as_float": as_float}
    exec(compile(source, "<symgrad scalar argument checker>", "exec"), namespace)
    return namespace["scalar_check"]
