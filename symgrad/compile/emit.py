"""Lowering graphs to straight-line NumPy source, and the callable around it.

``codegen`` rewrites sums of outer products into one matrix product
(:mod:`symgrad.compile.loop_batching`), lowers what has a cheaper form (:mod:`symgrad.compile.specialize`),
schedules the nodes (topological order, dead code never emitted), names them
(user names where they are safe identifiers, mangled otherwise), and emits
one statement per node into the executed module (``f.executed_source``; it
imports NumPy, ``threading`` and ``sys`` only) (a scalar computed from scalars with a single consumer is
written inline into it, nesting at most ``INLINE_DEPTH`` deep, with only the
parentheses :mod:`symgrad.ir.template_forms` finds Python needs).
The graph is walked once up front (``check_signature``); fusion, the memory
plan and emission reuse that order. The memory plan (:mod:`symgrad.compile.memory_plan`)
adds ``del`` where arrays die and lets elementwise statements write into a
dying operand's buffer (``np.add(a, b, out=a)``). :class:`Function` executes
that very source and adds what a caller needs: argument conversion, dtype and
shape checks that bind named dimensions (a generated fast path, then the
general one: :mod:`symgrad.compile.arguments`), error messages naming the offending
input, and optionally the NaN guard (:mod:`symgrad.compile.nan_guard`).

Aliasing rule: every call returns fresh arrays the caller owns (no two
outputs share memory, none shares memory with an argument or with a later
call's results); arguments are never written. Intermediates that never reach
an output are written into scratch buffers kept across calls, one set per
thread (:mod:`symgrad.compile.buffers`), so concurrent calls from several threads are
safe; large outputs are written into buffers an earlier call returned once
nothing refers to them any more (recycled, per thread).
"""
from __future__ import annotations

import itertools
import linecache
import weakref

import numpy as np

from ..ops import runtime, structure
from .arguments import bind_arguments, fast_checker, match_arguments
from .buffers import (POOL_NAME, RECYCLE_HELPERS, SCRATCH_HELPERS, SHAPES_NAME, SLOTS_NAME,
                      SWAPPED_OUT_FORM, SWAPPED_TN_FORM, TN_HELPERS, TN_OUT_FORM,
                      assign_recycled, assign_slots, swapped_product, tn_product)
from ..ir.graph import as_node_list, describe, gc_paused, inputs_of, toposort
from .nan_guard import GUARD_NAME, make_guard
from .memory_plan import inline_depth, plan, statement_order
from .readable import readable_source
from .portable import BackendError, dialect, lacking, lacks_message
from .arguments import portable_arguments
from ..ir.shapes import derived_dims, format_shape
from . import error_state, scalar_code
from ..ir.template_forms import ATOM, template_form
from .lowering import (LoweringContext, Namer,
                       constant_variable, dimension_variables, float_operands, helper_sources,
                       is_safe_identifier)
from ..rewrite import simplify_walking
from ..rewrite.engine import run_passes
from ..rewrite.algebra import CONSTANT_EVALUATOR

_COUNTER = itertools.count()


def check_signature(inputs, outputs) -> tuple:
    """Validated (inputs, outputs, single, order) for function/codegen; ``order``
    is the toposort of outputs + inputs (the only graph walk before fusion)."""
    inputs, _ = as_node_list(inputs, "inputs")
    outs, single = as_node_list(outputs, "outputs")
    for node in inputs:
        if node.op is not structure.input_:
            raise TypeError(f"function inputs must be input nodes, got {node!r}")
    if len(set(inputs)) != len(inputs):
        raise ValueError("an input is listed twice in inputs")
    listed = set(inputs)
    order = statement_order(outs, inputs)
    for node in inputs_of(order=order):  # also checks that names are unambiguous
        if node not in listed:
            raise ValueError(f"the outputs depend on input {node.name!r} "
                             f"{format_shape(node.shape)}, which is not in inputs")
    return inputs, outs, single, order


def optimized_signature(inputs, outputs, optimize: bool, backend: str,
                        checked: tuple | None = None) -> tuple:
    """:func:`check_signature` of the graph to compile: with ``optimize`` the
    outputs after the stability, algebraic and closed-form rewrites
    (:func:`symgrad.simplify`), else exactly as built. ``checked``: the
    :func:`check_signature` of the arguments, when the caller already has it."""
    dialect(backend)  # a ValueError naming the backends
    checked = check_signature(inputs, outputs) if checked is None else checked
    if not optimize:
        return checked
    inputs, outs, single, order = checked
    simplified = simplify_walking(list(outs), order)  # walks the checked order
    if all(a is b for a, b in zip(simplified, outs)):  # already simplified: same order
        return checked
    return inputs, simplified, single, statement_order(simplified, inputs)


def codegen(inputs, outputs, name: str = "f", optimize: bool = True,
            backend: str = "numpy") -> str:
    """Source of a self-contained module (NumPy backend: imports NumPy only) defining
    ``name``, written as a person would (:mod:`symgrad.compile.readable`): ``f.source``.

    ``optimize=True`` (default) compiles the simplified graph; ``False`` the
    graph exactly as built. ``backend="array_api"`` or ``"jax"``: the source
    written against the namespace of the inputs (``xp``, from array-api-compat's
    ``array_namespace``); see :func:`function`."""
    inputs, outputs, _, order = optimized_signature(inputs, outputs, optimize, backend)
    return readable_source(inputs, outputs, order, name, dialect=dialect(backend))


def _generate(inputs, outputs, order, name: str, guard_nodes: list | None = None,
              bound: dict | None = None) -> str:
    """Module source; ``order`` is the toposort of outputs (unused inputs may
    follow). With ``guard_nodes`` (a list to fill) a NaN-guarded variant
    calling ``_nan_guard(value, index, *operands)`` after every statement.
    With ``bound`` (a dict to fill) large constants go there, by variable name,
    instead of into the source."""
    if not is_safe_identifier(name):
        raise ValueError(f"function name {name!r} is not a safe Python identifier")
    namer = Namer()
    namer.taken.update((name, GUARD_NAME))
    if guard_nodes is None:  # the guard names the user's nodes, so no rewriting there
        outputs, order = run_passes(outputs, order)
    helpers, helper_names = helper_sources(order)
    namer.taken.update(helper_names
                       | runtime.embed(SCRATCH_HELPERS + RECYCLE_HELPERS + TN_HELPERS)[1])
    var = {node: namer.claim(node.name, f"arg{i}") for i, node in enumerate(inputs)}
    dim_vars, dim_source = dimension_variables(inputs, var, namer)
    ctx = LoweringContext(dim_vars)
    memory = plan(order, outputs, inplace=guard_nodes is None)
    slots = assign_slots(order, outputs, memory) if guard_nodes is None else {}
    recycled = assign_recycled(order, outputs, memory) if guard_nodes is None else {}
    emitter = _BodyEmitter(var, namer, ctx, memory, guard_nodes, slots)
    emitter.recycled = recycled
    emitter.bound = bound
    body = emitter.guard_inputs(inputs) + emitter.emit(order)
    if slots:
        shapes, sizes = _slot_shapes(emitter.slot_shapes, ctx)
        helpers += runtime.embed(SCRATCH_HELPERS)[0] + [shapes]
        body.insert(0, f"    {SLOTS_NAME} = _thread_scratch({sizes}, {SHAPES_NAME})")
    if emitter.tn:
        helpers += runtime.embed(TN_HELPERS)[0]
    if recycled:
        helpers += runtime.embed(RECYCLE_HELPERS)[0]
        body.insert(0, f"    {POOL_NAME} = _thread_pool({len(recycled)})")
    bindings = [f"    {dim_vars[d]} = {dim_source[d]}" for d in dim_vars if d in ctx.used_dims]
    returns = _return_values(outputs, emitter)
    signature = ", ".join(var[node] for node in inputs)
    doc = "; ".join(f"{var[n]}: {n.name!r} {format_shape(n.shape)} {n.dtype}" for n in inputs)
    doc = ascii(doc)[1:-1].replace('"', r"\x22")  # names and dims never end the docstring
    title = "NumPy code generated by symgrad" + (" (NaN-guarded)" if guard_nodes is not None else "")
    lines = [f'"""{title}."""'] + ["import sys"] * bool(recycled)
    lines += ["import threading"] * bool(slots or recycled) + ["import numpy as np", ""]
    lines += emitter.constants
    for source in helpers:
        lines += ["", source]
    lines += ["", "", f"def {name}({signature}):", f'    """Inputs: {doc or "none"}."""']
    lines += bindings + body + [f"    return {returns}", ""]
    return "\n".join(lines)


def _slot_shapes(shapes: dict, ctx) -> tuple:
    """(source of ``_slot_shapes``, a function of the sizes the scratch slots' shapes
    depend on returning those shapes, slot by slot; the source of the tuple of those
    sizes at the call), for ``shapes``, {slot: its symbolic shape}; the sizes used are
    marked in ``ctx`` (so the function body binds them)."""
    own = LoweringContext(ctx.dim_vars)
    listed = ", ".join(own.shape(shapes[k]) for k in range(len(shapes)))
    ctx.used_dims |= own.used_dims
    names = [v for d, v in ctx.dim_vars.items() if d in own.used_dims]
    sizes = ", ".join(names)
    source = (f"def {SHAPES_NAME}({sizes}):\n"
              f"    return ({listed}{',' if len(shapes) == 1 else ''})")
    return source, f"({sizes}{',' if len(names) == 1 else ''})"


class _BodyEmitter:
    """Statements of the function body: one per node, then ``del`` of the arrays
    that die there (see :mod:`symgrad.compile.memory_plan`), and the NaN-guard calls.

    Exception: a scalar computed from scalars with a single consumer is written
    inline into that consumer (``_inlined``), parenthesized where Python's
    grammar needs it (``template_form``). Deep scalar graphs (10^4-layer
    chains) otherwise spend most of CPython's ``compile()`` on one-use
    temporaries; the expressions stay short (``INLINE_DEPTH``).
    """

    #: The op record field lowering a node (:mod:`symgrad.compile.scalar_code` uses ``scalar``).
    lowering = "numpy"

    def __init__(self, var, namer, ctx, memory, guard_nodes, slots):
        self.var, self.namer, self.ctx, self.memory = var, namer, ctx, memory
        self.guard_nodes, self.slots = guard_nodes, slots
        self.constants: list = []
        self.bound: dict | None = None  # see _generate
        self.recycled: dict = {}  # output buffer node -> pool index (see buffers.assign_recycled)
        self.assigned: set = set()
        #: inlined node -> (its source unparenthesized, how tightly it binds)
        self.inline: dict = {}
        self.depths: dict = {}  # inlined node -> its nesting depth (memory_plan.inline_depth)
        self.tn = False  # whether a statement calls _dot_tn
        self._lowerings: dict = {}  # op -> (its lowering, the lowering's template_form)
        self.slot_shapes: dict = {}  # scratch slot -> the (symbolic) shape of its buffer

    def guard_inputs(self, inputs) -> list:
        if self.guard_nodes is None:
            return []
        return [self._guard(node) for node in inputs if node.dtype == "float64"]

    def _guard(self, node, operands=()) -> str:
        self.guard_nodes.append(node)
        args = "".join(f", {self.var[o]}" for o in operands)
        return f"    {GUARD_NAME}({self.var[node]}, {len(self.guard_nodes) - 1}{args})"

    def emit(self, order) -> list:
        body, var, assigned = [], self.var, self.assigned
        dies_after, uses = self.memory.dies_after, self.memory.uses
        guarded = self.guard_nodes is not None
        constant = structure.constant
        inlined, statement, numbered = self._inlined, self.statement, self.namer.numbered
        for node in order:
            if node in var:
                continue
            if node.op is constant:
                self._constant(node)
                continue
            if not guarded and not node.shape and uses.get(node) == 1 and inlined(node):
                continue
            name = var[node] = numbered(node.op.name, len(assigned))
            assigned.add(node)
            body.append(f"    {name} = {statement(node)}")
            if guarded and node.dtype == "float64":
                body.append(self._guard(node, node.operands))
            if node in dies_after:
                dead = [var[d] for d in dies_after[node] if d in assigned]
                if dead:
                    body.append(f"    del {', '.join(dead)}")
        return body

    def _inlined(self, node) -> bool:
        """Write ``node``, a scalar read once, into its consumer instead of a
        statement when its operands are scalars too and the nesting allows."""
        depth = inline_depth(node, self.depths)
        if depth is None:
            return False
        self.depths[node] = depth
        lowering, form = self._lowering(node.op)
        self.inline[node] = (self._lower(node, lowering, form), form[0])  # 0-d: no buffer to reuse
        return True

    def _lowering(self, op) -> tuple:
        """(``op``'s lowering in this emitter's field, its ``template_form``), once per op."""
        found = self._lowerings.get(op)
        if found is None:
            lowering = getattr(op, self.lowering)
            found = self._lowerings[op] = (lowering, template_form(lowering))
        return found

    def _constant(self, node) -> None:
        self.var[node] = constant_variable(node.value, self.namer, self.constants, self.bound)

    def statement(self, node) -> str:
        """The source of the value of ``node``, a statement (its operands emitted)."""
        target = self.memory.reuse.get(node)
        slot = self.slots.get(node)
        if target is None and slot is None:
            return self._lower(node) if node not in self.recycled else self._recycled(node)
        form = self._tn_form(node) or node.op.out_form
        args = float_operands(node, self.sources(node.operands, template_form(form)[1]))
        if target is not None:
            return form.format(*args, out=self.var[target])
        self.slot_shapes[slot] = node.shape
        return form.format(*args, out=f"{SLOTS_NAME}[{slot}]")

    def _recycled(self, node) -> str:
        """The statement of a node whose buffer is returned: into a recycled buffer."""
        swapped = swapped_product(node)
        form = self._tn_form(node, swapped) or (SWAPPED_OUT_FORM if swapped else node.op.out_form)
        args = float_operands(node, self.sources(node.operands, template_form(form)[1]))
        shape = self.ctx.shape(node.shape[::-1] if swapped else node.shape)
        return form.format(*args, out=f"_recycled({POOL_NAME}, {self.recycled[node]}, {shape})")

    def _tn_form(self, node, swapped: bool = False) -> str | None:
        """The form of a product ``_dot_tn`` forms (see ``buffers.tn_product``), else None."""
        if not tn_product(node):
            return None
        self.tn = True
        return SWAPPED_TN_FORM if swapped else TN_OUT_FORM

    def _lower(self, node, lowering=None, form=None) -> str:
        """The node's own lowering (``lowering``, ``form``: :meth:`_lowering`, if known)."""
        if lowering is None:
            lowering, form = self._lowering(node.op)
        args = float_operands(node, self.sources(node.operands, form[1]))
        if type(lowering) is str:
            return lowering.format(*args, **node.attrs) if node.attrs else lowering.format(*args)
        return lowering(args, dict(node.attrs), self.ctx.at(node.operands))

    def sources(self, operands, needs=()) -> list:
        """Source of each operand; an inlined one goes in without its parentheses
        when it binds at least as tightly as its slot ``needs`` (default ATOM).
        Inlined nodes have one reader (and no variable), so they are used up here."""
        args, var, take = [], self.var, self.inline.pop
        for i, operand in enumerate(operands):
            inlined = take(operand, None)
            if inlined is None:
                args.append(var[operand])
            elif inlined[1] >= (needs[i] if i < len(needs) else ATOM):
                args.append(inlined[0])
            else:
                args.append(f"({inlined[0]})")
        return args


def _return_values(outputs, emitter) -> str:
    """Output expressions (any expression is safe in the tuple): each a fresh
    array the caller owns."""
    parts, seen = [], set()
    for node, source in zip(outputs, emitter.sources(outputs, (0,) * len(outputs))):
        if node.op.view or node in seen:
            source = f"np.array({source})"
        seen.add(node)
        parts.append(source)
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


class Function:
    """A compiled graph: call it with arrays, positionally or by input name.

    ``nan_guard=True`` compiles a checked variant that raises
    ``FloatingPointError`` at the first node whose value is not finite, naming
    the node and its operands' value ranges (slower: a debugging aid).
    """

    def __init__(self, inputs, outputs, name: str = "f", nan_guard: bool = False,
                 optimize: bool = True, backend: str = "numpy"):
        self.optimize, self.backend = bool(optimize), backend
        with gc_paused():
            self._build(inputs, outputs, name, bool(nan_guard))

    def _build(self, inputs, outputs, name: str, nan_guard: bool) -> None:
        # the guard names the user's own nodes, so a guarded build is never rewritten
        optimize = self.optimize and not nan_guard
        checked = check_signature(inputs, outputs)
        self.inputs, self.outputs, self._single, _ = checked
        _, compiled, _, order = optimized_signature(inputs, outputs, optimize, self.backend,
                                                    checked)
        self.name = name
        self.nan_guard = nan_guard
        self._dialect = dialect(self.backend)
        if nan_guard and not self._dialect.numpy:
            raise ValueError(f"nan_guard=True needs backend='numpy' (got {self.backend!r}): "
                             "the guard inspects every value, which a lazy or traced "
                             "array cannot give")
        guard_nodes: list | None = [] if self.nan_guard else None
        bound: dict = {}
        if self._dialect.numpy:
            scalar = scalar_code.generate(self.inputs, compiled, order, name, _BodyEmitter) \
                if optimize else None  # Python floats when every value is a scalar
            self._scalar = scalar is not None
            self.executed_source = scalar or _generate(self.inputs, compiled, order, name,
                                                       guard_nodes, bound)
            self._gaps: dict = {}
        else:  # the readable array-API source is what runs (no buffers to manage)
            self._scalar = False
            self.executed_source = readable_source(self.inputs, compiled, order, name, bound,
                                                   self._dialect)
            self._gaps = lacking(order, self.backend)
        self._accepted = set() if self.backend == "jax" else None  # checked signatures
        self._compiled = (compiled, order)
        self._readable = None
        source = self.executed_source
        filename = f"<symgrad-{next(_COUNTER)}:{name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        # the source stays readable in tracebacks while the function lives, and goes with it
        weakref.finalize(self, linecache.cache.pop, filename, None)
        namespace: dict = {GUARD_NAME: make_guard(guard_nodes)} if self.nan_guard else {}
        namespace.update(bound)
        exec(compile(source, filename, "exec"), namespace)
        self._fn = namespace[name]
        if self.backend == "jax":
            import jax  # an optional dependency: pip install "symgrad[jax]"
            self._fn = jax.jit(self._fn)
        self._positions = {node.name: i for i, node in enumerate(self.inputs)}
        self._fast = scalar_code.checker(self.inputs) if self._scalar else fast_checker(self.inputs)
        #: derived sizes (``n-1`` of ``x[1:]``) with the first node of each: checked >= 0
        #: (the compiled graph's order, already walked: no second walk of the graph;
        #: none in a graph of scalars)
        self._derived = {} if self._scalar else {d: node for node in order if node.shape
                                                 for d in derived_dims(node.shape)}

    @property
    def source(self) -> str:
        """The readable module source (``sg.codegen``'s text for these arguments),
        printed on first access. What runs is :attr:`executed_source`: the same
        NumPy calls, plus buffer reuse, ``del`` and the NaN-guard calls."""
        if self._readable is None:
            self._readable = readable_source(self.inputs, *self._compiled, self.name, {},
                                             self._dialect)
        return self._readable

    def __reduce__(self):
        outputs = self.outputs[0] if self._single else list(self.outputs)
        return (Function, (list(self.inputs), outputs, self.name, self.nan_guard,
                           self.optimize, self.backend))

    def __repr__(self):
        args = ", ".join(f"{n.name}{format_shape(n.shape)}" for n in self.inputs)
        return f"<symgrad.Function {self.name}({args}) -> {len(self.outputs)} output(s)>"

    def bind(self, /, *args, **kwargs) -> tuple:
        """(checked arrays, {dimension name: size}) for a call (``self`` is
        positional-only, so an input may be named ``self``)."""
        values = match_arguments(self.name, self.inputs, self._positions, args, kwargs)
        return bind_arguments(self.inputs, values)

    def __call__(self, /, *args, **kwargs):
        if not self._dialect.numpy:
            return self._call_portable(args, kwargs)
        checked = None if kwargs or len(args) != len(self.inputs) else self._fast(*args)
        if self._derived:
            checked, sizes = self.bind(*args, **kwargs)
            self._check_derived(sizes)
        elif checked is None:
            checked = self.bind(*args, **kwargs)[0]
            if self._scalar:
                checked = [float(a) for a in checked]
        try:
            if self._scalar:  # Python floats (one sequence): no NumPy error state to set
                results = self._fn(checked)
            else:
                token = error_state.ignore()
                try:
                    results = self._fn(*checked)
                finally:
                    error_state.restore(token)
        except IndexError:
            better = self._index_error(checked)
            if better is None:
                raise
            raise better from None
        return results[0] if self._single else results

    def _check_derived(self, sizes: dict) -> None:
        """A derived size must not be negative at the bound sizes (``x[2:-2]`` needs n >= 4)."""
        for dim, node in self._derived.items():
            if dim.evaluate(sizes) < 0:
                bound = ", ".join(f"{n}={sizes[n]}" for n in dim.names)
                raise ValueError(f"{self.name}: {describe(node)} has the size {dim} = "
                                 f"{dim.evaluate(sizes)} at {bound}; the inputs are too small")

    def _call_portable(self, args, kwargs):
        """A call of an array-API backend: arguments checked, not converted (Dask data
        with NumPy parameters: those promoted to one-chunk Dask arrays), the results
        in the inputs' library (lazy for a lazy one)."""
        values = args if not kwargs and len(args) == len(self.inputs) else \
            match_arguments(self.name, self.inputs, self._positions, args, kwargs)
        args, library = portable_arguments(self.inputs, values, self.backend, self._accepted)
        gaps = self._gaps.get(library)
        if gaps:
            raise BackendError(lacks_message(gaps, library, self.backend))
        if library == "jax":  # traced and compiled: NumPy's error state is never read
            results = self._fn(*args)
        else:
            with np.errstate(all="ignore"):
                results = self._fn(*args)
        return results[0] if self._single else results

    def _index_error(self, args) -> IndexError | None:
        """The error naming the index, operand and dimension when an int index on
        a named dimension is out of range at this call (NumPy's own names none)."""
        sizes = self.bind(*args)[1]
        for node in toposort(self.outputs):
            if node.op is not structure.getitem:
                continue
            x = node.operands[0]
            for axis, (entry, dim) in enumerate(zip(node.attrs["index"], x.shape)):
                if isinstance(entry, int) and isinstance(dim, str) and dim in sizes \
                        and not -sizes[dim] <= entry < sizes[dim]:
                    return IndexError(f"getitem({describe(x)}): index {entry} is out of bounds "
                                      f"for axis {axis} with size {dim}={sizes[dim]}")
        return None


def function(inputs, outputs, optimize: bool = True, backend: str = "numpy", *,
             name: str = "f", nan_guard: bool = False) -> Function:
    """Compile ``outputs`` (a node or a list) into a NumPy callable of ``inputs``.

    ``optimize=True`` (default) runs the stability, algebraic and closed-form
    rewrites first (:func:`symgrad.simplify`), so naive forms such as
    ``log(softmax(a))`` compile stably; ``optimize=False`` compiles the graph
    exactly as built. Every call returns fresh arrays the caller owns;
    arguments are never modified. ``nan_guard=True``: see :class:`Function`
    (it compiles the graph as built, so that it can name the user's nodes).

    ``backend``: ``"numpy"`` (default; arrays of another library raise a
    ``TypeError``, never converted), ``"array_api"`` (runs on the array-API
    library the inputs come from: NumPy, CuPy, PyTorch, JAX, Dask,
    ``array-api-strict``; arguments are checked, not converted; lazy inputs give
    lazy outputs; Dask data may come with NumPy parameters) or ``"jax"`` (the
    array-API source compiled by ``jax.jit``; returns JAX arrays). An op without a
    lowering for the backend raises :class:`~symgrad.compile.portable.BackendError`
    (a ``NotImplementedError``) naming it when compiling; see docs/backends.md.
    """
    return Function(inputs, outputs, name, nan_guard, optimize, backend)


def _evaluate_constant(node):
    """The folding evaluator the rewrite layer calls: the graph as built, compiled."""
    return function([], node, optimize=False)()


CONSTANT_EVALUATOR.append(_evaluate_constant)
