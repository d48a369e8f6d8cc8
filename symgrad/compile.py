"""Lowering graphs to straight-line NumPy source, and the callable around it.

``codegen`` schedules the nodes (topological order, dead code never emitted),
names them (user names where they are safe identifiers, mangled otherwise),
and emits one statement per node into a self-contained module that imports
NumPy only. :class:`Function` executes that very source and adds what a
caller needs: argument conversion, dtype and shape checks that bind named
dimensions, and error messages naming the offending input.
"""
from __future__ import annotations

import builtins
import itertools
import keyword
import linecache
import math

import numpy as np

from .graph import Node, as_node_list, inputs_of, toposort
from .shapes import bind_dims, format_shape

RESERVED = frozenset(dir(builtins)) | {"np", "numpy"}
_COUNTER = itertools.count()


def is_safe_identifier(name: str) -> bool:
    """A name that may appear verbatim in generated source."""
    return (isinstance(name, str) and name.isidentifier() and name.isascii()
            and not keyword.iskeyword(name) and not name.startswith("_")
            and name not in RESERVED)


class Namer:
    """Unique identifiers: preferred names when safe and free, mangled otherwise."""

    def __init__(self):
        self.taken: set = set(RESERVED)

    def claim(self, preferred: str, fallback: str) -> str:
        base = preferred if is_safe_identifier(preferred) else fallback
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
        self.used_dims.add(d)
        return self.dim_vars[d]

    def shape(self, shape) -> str:
        parts = [self.dim(d) for d in shape]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def ndim(self, i: int) -> int:
        return self.operands[i].ndim


def _literal(array: np.ndarray) -> str | None:
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


def _constant_source(array: np.ndarray) -> str:
    """Exact, parse-safe source for an array constant."""
    small = array.size <= 16 and (array.dtype.kind != "f" or bool(np.all(np.isfinite(array))))
    if small:
        return f"np.array({array.tolist()!r}, dtype=np.{array.dtype.name})"
    return (f"np.frombuffer(bytes.fromhex({array.tobytes().hex()!r}), "
            f"dtype=np.{array.dtype.name}).reshape({array.shape!r})")


def _helper_sources(order) -> list:
    seen: dict = {}
    for node in order:
        for name, source in node.op.helpers:
            seen.setdefault(name, source.strip("\n"))
    return list(seen.values())


def check_signature(inputs, outputs) -> tuple:
    """Validated (inputs, outputs, single) for function/codegen."""
    inputs, _ = as_node_list(inputs, "inputs")
    outs, single = as_node_list(outputs, "outputs")
    for node in inputs:
        if node.op.name != "input":
            raise TypeError(f"function inputs must be input nodes, got {node!r}")
    if len(set(inputs)) != len(inputs):
        raise ValueError("an input is listed twice in inputs")
    inputs_of(outs + inputs)
    listed = set(inputs)
    for node in inputs_of(outs):
        if node not in listed:
            raise ValueError(f"the outputs depend on input {node.name!r} "
                             f"{format_shape(node.shape)}, which is not in inputs")
    return inputs, outs, single


def codegen(inputs, outputs, name: str = "f") -> str:
    """Source of a self-contained module (imports NumPy only) defining ``name``."""
    return _generate(*check_signature(inputs, outputs)[:2], name)


def _generate(inputs, outputs, name: str) -> str:
    if not is_safe_identifier(name):
        raise ValueError(f"function name {name!r} is not a safe Python identifier")
    namer = Namer()
    namer.taken.add(name)
    order = toposort(outputs)
    helpers = _helper_sources(order)
    for source in helpers:
        namer.taken.add(source.split("(")[0].split()[-1])
    var = {node: namer.claim(node.name, f"arg{i}") for i, node in enumerate(inputs)}
    dim_vars, dim_source = {}, {}
    for node in inputs:
        for axis, d in enumerate(node.shape):
            if isinstance(d, str) and d not in dim_vars:
                dim_vars[d] = namer.claim(d, f"dim{len(dim_vars)}")
                dim_source[d] = f"{var[node]}.shape[{axis}]"
    ctx = LoweringContext(dim_vars)
    constants, body = [], []
    for node in order:
        if node in var:
            continue
        if node.op.name == "constant":
            literal = _literal(node.value)
            if literal is not None:
                var[node] = literal
                continue
            var[node] = namer.claim("", f"_c{len(constants)}")
            constants.append(f"{var[node]} = {_constant_source(node.value)}")
            continue
        var[node] = namer.claim(f"{node.op.name}_{len(body)}", f"t{len(body)}")
        body.append(f"    {var[node]} = {_lower(node, var, ctx)}")
    bindings = [f"    {dim_vars[d]} = {dim_source[d]}" for d in dim_vars if d in ctx.used_dims]
    returns = _return_values(outputs, var)
    signature = ", ".join(var[node] for node in inputs)
    doc = "; ".join(f"{var[n]}: {ascii(n.name)} {format_shape(n.shape)} {n.dtype}" for n in inputs)
    lines = ['"""NumPy code generated by symgrad."""', "import numpy as np", ""]
    lines += [f"{c}" for c in constants]
    for source in helpers:
        lines += ["", source]
    lines += ["", "", f"def {name}({signature}):", f'    """Inputs: {doc or "none"}."""']
    lines += bindings + body + [f"    return {returns}", ""]
    return "\n".join(lines)


def _lower(node: Node, var: dict, ctx: LoweringContext) -> str:
    args = [var[o] for o in node.operands]
    ctx.at(node.operands)
    lowering = node.op.numpy
    if callable(lowering):
        return lowering(args, dict(node.attrs), ctx)
    return lowering.format(*args, **node.attrs)


def _return_values(outputs, var) -> str:
    """Output expressions: each a fresh array the caller owns."""
    parts, seen = [], set()
    for node in outputs:
        source = var[node]
        if node.op.view or node in seen:
            source = f"np.array({source})"
        seen.add(node)
        parts.append(source)
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _convert(node: Node, value, who: str) -> np.ndarray:
    """``value`` as an array of the input's dtype, or a TypeError naming it."""
    try:
        array = np.asarray(value)
    except Exception as err:
        raise TypeError(f"{who}: cannot convert {type(value).__name__} to an array ({err})") from None
    kind, want = array.dtype.kind, node.dtype
    allowed = {"float64": "fiub", "int64": "iub", "bool": "b"}[want]
    if kind not in allowed:
        raise TypeError(f"{who} must be {want}, got {array.dtype} (not safely castable)")
    if kind == "u" and want == "int64" and array.size and array.max() > np.iinfo(np.int64).max:
        raise TypeError(f"{who}: values too large for int64")
    return array if array.dtype == want else array.astype(want)


class Function:
    """A compiled graph: call it with arrays, positionally or by input name."""

    def __init__(self, inputs, outputs, name: str = "f"):
        self.inputs, self.outputs, self._single = check_signature(inputs, outputs)
        self.name = name
        self.source = _generate(self.inputs, self.outputs, name)
        filename = f"<symgrad-{next(_COUNTER)}:{name}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace: dict = {}
        exec(compile(self.source, filename, "exec"), namespace)
        self._fn = namespace[name]
        self._positions = {node.name: i for i, node in enumerate(self.inputs)}

    def __reduce__(self):
        outputs = self.outputs[0] if self._single else list(self.outputs)
        return (Function, (list(self.inputs), outputs, self.name))

    def __repr__(self):
        args = ", ".join(f"{n.name}{format_shape(n.shape)}" for n in self.inputs)
        return f"<symgrad.Function {self.name}({args}) -> {len(self.outputs)} output(s)>"

    def _arguments(self, args, kwargs) -> list:
        if len(args) > len(self.inputs):
            raise TypeError(f"{self.name}() takes {len(self.inputs)} inputs, got {len(args)}")
        values = list(args) + [None] * (len(self.inputs) - len(args))
        given = [True] * len(args) + [False] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            if key not in self._positions:
                raise TypeError(f"{self.name}() got an unknown input {key!r}; inputs are "
                                f"{[n.name for n in self.inputs]}")
            i = self._positions[key]
            if given[i]:
                raise TypeError(f"{self.name}() got input {key!r} twice")
            values[i], given[i] = value, True
        for node, ok in zip(self.inputs, given):
            if not ok:
                raise TypeError(f"{self.name}() is missing input {node.name!r} "
                                f"{format_shape(node.shape)}")
        return values

    def bind(self, *args, **kwargs) -> tuple:
        """(checked arrays, {dimension name: size}) for a call."""
        values = self._arguments(args, kwargs)
        bindings: dict = {}
        arrays = []
        for node, value in zip(self.inputs, values):
            who = f"input {node.name!r}"
            array = _convert(node, value, who)
            bind_dims(node.shape, array.shape, bindings, who)
            arrays.append(array)
        return arrays, {name: size for name, (size, _) in bindings.items()}

    def __call__(self, *args, **kwargs):
        arrays, _ = self.bind(*args, **kwargs)
        with np.errstate(all="ignore"):
            results = self._fn(*arrays)
        return results[0] if self._single else results


def function(inputs, outputs, name: str = "f") -> Function:
    """Compile ``outputs`` (a node or a list) into a NumPy callable of ``inputs``."""
    return Function(inputs, outputs, name)
