"""The graph IR: immutable, hash-consed nodes and the op records that build them.

A :class:`Node` is ``op(*operands, **attrs)`` plus its inferred ``shape`` and
``dtype``. Nodes are interned in a weak table keyed on (op, operands, attrs),
so building the same subexpression twice returns the very same object: common
subexpressions are merged for free and ``is`` is equality. The rebuild
invariant ``node.op(*node.operands, **node.attrs) is node`` holds for every
node, which keeps rewriting, bridges and pickling generic. The leaves (inputs
and constants) are built in :mod:`symgrad.ir.leaves`, re-exported here.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import math
import operator
import threading
import types
import weakref
from _weakref import _remove_dead_weakref  # what WeakValueDictionary uses, atomic
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .shapes import Count, ShapeError, Size, format_shape, normalize_shape

DTYPES = ("float64", "int64", "bool")
REGISTRY: dict = {}
#: The intern table: key -> weak reference (``_Ref``) to the node. A plain dict
#: read in ``Op.__call__`` (a WeakValueDictionary's Python-level get/set cost a
#: fifth of node construction); an entry leaves when its node dies.
_TABLE: dict = {}


class _Ref(weakref.ref):
    """A weak reference that knows its table key: ``weakref.KeyedRef`` without
    its Python-level constructor (0.7 µs -> 0.2 µs, paid once per node)."""

    __slots__ = ("key",)


def _forgetter(table: dict) -> Callable:
    """Weakref callback for ``table``: drop a dead node's entry (atomically, only if still dead).
    The remover is bound now, not looked up at call time: at interpreter exit this
    module's globals are cleared to None while the last nodes still die."""
    return lambda ref, remove=_remove_dead_weakref: remove(table, ref.key)


_forget = _forgetter(_TABLE)


def _intern(key, node):
    """The node interned under ``key``: ``node``, or the live node another thread
    interned first. ``dict.setdefault`` checks and inserts atomically (no lock);
    a losing node is dropped, and its reference's callback removes an entry only
    if that entry is dead, so never the winner's. A dead entry (its node dying
    in another thread) is removed and the insert retried."""
    ref = _Ref(node, _forget)
    ref.key = key
    while True:
        entry = _TABLE.setdefault(key, ref)
        if entry is ref:
            return node
        winner = entry()
        if winner is not None:
            return winner
        _remove_dead_weakref(_TABLE, key)


#: ``AS_NODE[0](value)``: a node for a number or array operand, set by
#: :mod:`symgrad.ir.leaves` (which builds constants on top of this module), so the
#: import order stays one-way: graph, then leaves.
AS_NODE: list = []

#: ``PRINTERS["unicode"]`` and ``PRINTERS["latex"]``: the printers ``str(node)`` and
#: Jupyter's LaTeX display call, set by :mod:`symgrad.printing` (a layer above this one).
PRINTERS: dict = {}
#: Display names users (``node.named("h1")``) and ``grad`` (``d_W1`` for the
#: gradient of ``W1``) gave to nodes: what generated source calls their variables.
#: A side table, not a node field: nodes are interned, so naming never changes
#: a node's identity, its hash or what it computes.
DISPLAY_NAMES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

#: The ops behind Python's operators and NumPy's array methods on nodes, keyed by the
#: operator (``operator.add``, ``operator.neg``) or the ``numpy.ndarray`` method
#: (``np.ndarray.sum``), never by op name: :func:`register` fills it from each record's
#: ``operators`` field, so ``x + y`` builds whatever op declares ``operator.add``.
OPERATORS: dict = {}


class _LeafOps:
    """The two leaf ops, which this layer needs before the ops layer exists:
    ``LEAF_OPS.input`` and ``LEAF_OPS.constant``, set by :func:`register` from the
    record's ``leaf`` field (``"input"`` or ``"constant"``)."""

    input: "Op" = None
    constant: "Op" = None


LEAF_OPS = _LeafOps()


@functools.lru_cache(maxsize=None)
def result_dtype(*dtypes: str) -> str:
    """NumPy promotion restricted to symgrad's dtypes."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


@dataclass(frozen=True)
class Portable:
    """An op's array-API lowering (``Op.array_api``) with what it needs: ``lowering``
    (a template or callable over ``xp``, as ``Op.numpy``; None: the op has no portable
    lowering, ``reason`` says why), the run-time ``helpers`` it calls (functions
    taking the namespace first) and the array libraries whose namespace ``lacks``
    what it calls (``"dask"``, ``"jax"``, ``"torch"``, as array-api-compat names them)."""

    lowering: object = None
    helpers: tuple = ()
    lacks: tuple = ()
    reason: str = ""


@dataclass(frozen=True, eq=False)
class Op:
    """Everything about one operation, in one record.

    ``infer(*operands, **attrs) -> (shape, dtype)`` is the shape rule.
    ``numpy`` is a format template over operand sources ``{0}, {1}`` and attrs,
    or a callable ``(args, attrs, ctx) -> str`` for lowerings needing context.
    ``vjp(g, out, *operands, **attrs)`` returns one node or None per operand;
    ``jvp(tangents, out, *operands, **attrs)`` returns the output tangent
    (tangents hold None for operands without one). ``samples`` gives operand
    specs and attrs on which the tests and ``check_grad`` exercise the op.

    The other fields are the facts the rest of the package reads, so that no
    side module keeps a table of op names:

    * ``leaf``: ``"input"`` or ``"constant"`` for the two leaf ops (no operands, no
      statement), None otherwise.
    * ``operators``: the Python operators and ``numpy.ndarray`` methods this op
      implements on nodes (``(operator.add,)``, ``(np.ndarray.sum,)``; see :data:`OPERATORS`).
    * ``jacobian(sweep, node, operand_jacobians)``: the whole-Jacobian rule of
      :mod:`symgrad.autodiff.jacobians` (None: ``jacobian`` falls back to rows).
    * ``fresh``: the lowering returns a freshly allocated writable array
      (when the result has an axis), so a later statement may write into it.
    * ``out_form``: the lowering writing into a given buffer, ``{out}``
      (``"np.add({0}, {1}, out={out})"``); elementwise ops with one may reuse a
      dying operand's buffer, others (matmul) only scratch buffers.
    * ``scalar``: the op on Python floats and bools, a template like ``numpy``'s
      (``"{0} * {1}"``, ``"_scalar_exp({0})"``, calling helpers of :mod:`symgrad.ops.runtime`
      named ``_scalar_*``) that gives NumPy's value; None: no such form, and a graph using
      the op keeps the NumPy code (:mod:`symgrad.compile.scalar_code`).
    * ``commutative``: the operands may be swapped (rewrite patterns match both orders).
    * ``reads_indices``: some int or bool operand is read as indices, labels or a
      condition (``one_hot``, ``gather``, ``where``), so the compiler never casts the
      op's int or bool operands to float64 (as it does for ``outer`` of ints).
    * ``linear_in``: operand positions the op is linear in (zeros, signs and
      0-d factors move out); ``odd_in`` those a sign moves out of (default
      ``linear_in``).
    * ``facts(node, facts_of)``: the structural facts :mod:`symgrad.analysis.properties`
      proves for a node of this op from its operands' facts.
    * ``uniform(node, value) -> bool``: whether a node of this op is known, at build
      time, to equal ``value`` everywhere (a constant, zeros; a view asks its operand).
      None: never known, so the constant folds give up at once on the node.
    * ``transposed(node)``: the transpose of a 2-D node of this op built without a
      transpose where one cancels (``(Aᵀ B)ᵀ = Bᵀ A``), or None; the transpose's fold
      applies it, so transposes move to the leaves as the graph is built.
    * ``kink``: piecewise, so finite differences may straddle a kink;
      ``positive_result``: the value is positive whatever the operands;
      ``keeps_positive``: positive when the (float) operands are.
    * ``unicode(printer, node, *pieces) -> Piece``: the op's Unicode form, built with
      the printer's generic machinery (:mod:`symgrad.printing.unicode`); None prints
      a function call ``head(args, attr=value)``. ``latex``: the same for LaTeX; None
      uses ``unicode`` (spelled by the LaTeX printer). ``symbol``/``latex_symbol``: the
      op's head in each notation (``σ``, ``\\sigma``, ``≥``; None: the name, in LaTeX
      ``\\operatorname{name}``).
    * ``to_sympy(bridge, node, *exprs)``: the SymPy expression for a node, given its
      operands' (the bridge, :mod:`symgrad.bridges.sympy_export`, carries the
      ``sympy`` module as ``bridge.sp``, imported only when a bridge is used); None:
      no SymPy form (``to_sympy`` raises, ``equivalent`` tests numerically).
      ``from_sympy(sympy)``: the SymPy function whose applications
      :func:`~symgrad.bridges.sympy_import.from_sympy` reads as this op of the
      converted arguments (None: none, or read by the bridge's structural rules).
    * ``cli``: the parameter kinds of the op as a command-line function (see
      :mod:`symgrad.cli.parse`), None: not a command-line name.
    * ``specialize``: compile-time specialization facts read by
      :mod:`symgrad.compile.specialize` (None: nothing to specialize).
    * ``array_api``: the lowering of the array-API backends (``backend="array_api"``,
      ``"jax"``), written against the namespace ``xp``: a template or callable as
      ``numpy``, or a :class:`Portable` (with helpers, the libraries lacking it, or
      no lowering and why). None: ``numpy`` with ``np.`` read as ``xp.``, valid when
      it calls standard names only and no helper (:mod:`symgrad.compile.portable`).
    """

    # What the op is and how it is built.
    name: str
    infer: Callable
    numpy: object
    prepare: Optional[Callable] = None
    fold: Optional[Callable] = None
    leaf: Optional[str] = None
    operators: tuple = ()
    # Derivatives: reverse, forward, whole Jacobian.
    vjp: Optional[Callable] = None
    jvp: Optional[Callable] = None
    jacobian: Optional[Callable] = None
    differentiable: bool = True
    elementwise: bool = False
    # Compiler facts.
    helpers: tuple = ()
    view: bool = False
    fresh: bool = False
    out_form: Optional[str] = None
    scalar: Optional[str] = None
    # Algebra and structure.
    commutative: bool = False
    reads_indices: bool = False
    linear_in: tuple = ()
    odd_in: Optional[tuple] = None
    facts: Optional[Callable] = None
    uniform: Optional[Callable] = None
    transposed: Optional[Callable] = None
    # Checking: input domains, kinks, positivity.
    samples: Callable = field(default=lambda: [])
    kink: bool = False
    positive_result: bool = False
    keeps_positive: bool = False
    # Printing and SymPy (symgrad.printing, symgrad.bridges), the command line.
    unicode: Optional[Callable] = None
    latex: Optional[Callable] = None
    symbol: Optional[str] = None
    latex_symbol: Optional[str] = None
    to_sympy: Optional[Callable] = None
    from_sympy: Optional[Callable] = None
    cli: Optional[tuple] = None
    specialize: Optional[object] = None
    array_api: object = None

    def __post_init__(self):
        if self.odd_in is None:
            object.__setattr__(self, "odd_in", self.linear_in)

    def __call__(self, *operands, **attrs) -> "Node":
        for o in operands:  # nearly always nodes already: convert only if one is not
            if type(o) is not Node:
                operands = tuple(AS_NODE[0](o) for o in operands)
                break
        if attrs:
            attrs = {name: plain_value(value) for name, value in attrs.items()}
        if self.prepare is not None:
            try:
                attrs = self.prepare(*operands, **attrs)
            except ShapeError as err:
                raise self._located(err, operands) from None
        if self.fold is not None:
            folded = self.fold(*operands, **attrs)
            if folded is not None:
                return folded
        key = (self.name, operands, _freeze(attrs) if attrs else ())
        ref = _TABLE.get(key)
        if ref is not None:
            node = ref()
            if node is not None:
                return node
        try:
            shape, dtype = self.infer(*operands, **attrs)
        except ShapeError as err:
            raise self._located(err, operands) from None
        shape = shape if shape == () else normalize_shape(shape)
        return _intern(key, _new_node(self, operands, attrs, shape, dtype))

    def _located(self, err: ShapeError, operands) -> ShapeError:
        """The error prefixed with this op and its operands' names and shapes (of the same
        class: an AxisError stays one)."""
        return type(err)(f"{self.name}({', '.join(describe(o) for o in operands)}): {err}")

    def __repr__(self):
        return f"<op {self.name}>"

    def __reduce__(self):
        return (_registered_op, (self.name,))


def _registered_op(name: str) -> Op:
    return REGISTRY[name]


def register(op: Op) -> Op:
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} is already registered")
    REGISTRY[op.name] = op
    for key in op.operators:
        if key in OPERATORS:
            raise ValueError(f"op {op.name!r}: {key} is already {OPERATORS[key]}")
        OPERATORS[key] = op
    if op.leaf is not None:
        setattr(LEAF_OPS, op.leaf, op)
    return op


def unregister(op: Op) -> None:
    """Undo :func:`register` (the name, operators and leaf slot): for a test that
    declares an op of its own and must leave the registry as it found it."""
    if REGISTRY.get(op.name) is not op:
        raise ValueError(f"{op!r} is not registered")
    del REGISTRY[op.name]
    for key in op.operators:
        del OPERATORS[key]
    if op.leaf is not None:
        setattr(LEAF_OPS, op.leaf, None)


#: (``Size``, a derived size such as ``n-1``, and ``Count``, a boolean mask's, are symgrad's own
#: ``str`` subclasses: kept.)
_PLAIN_TYPES = frozenset({int, float, complex, str, bool, type(None), slice, np.dtype, Size,
                          Count})


def plain_value(value):
    """``value`` with every int, float, complex and str subclass inside it (through
    tuples, lists and dicts) replaced by the plain value it holds (``int.__index__``
    etc., never the subclass's own ``__index__``/``__repr__``/``__eq__``), so no
    user-defined method of an attribute runs later: not in interning, not in
    shape rules and never in the generated source (issue 15, item 9)."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        if kind is slice:
            return slice(plain_value(value.start), plain_value(value.stop), plain_value(value.step))
        return value
    if kind is tuple or kind is list:
        return kind(plain_value(v) for v in value)
    if kind is dict:
        return {plain_value(k): plain_value(v) for k, v in value.items()}
    if kind.__module__ == "numpy":  # NumPy's own scalars, arrays and dtypes
        return value
    for base, plain in ((bool, bool), (int, int.__index__), (float, float.__float__),
                        (complex, complex.__complex__), (str, str.__str__)):
        if isinstance(value, base):
            return plain(value)
    if isinstance(value, tuple):
        return tuple(plain_value(v) for v in value)
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


_NO_ATTRS = types.MappingProxyType({})  # shared by every node without attributes


class Node:
    """One immutable, interned expression node, built only by ``Op.__call__``.

    ``==`` and ``hash`` are identity (as in Theano/PyTensor): comparisons that
    build graph nodes are spelled ``sg.equal``/``>``/``<``.

    ``_normal_token`` and ``_normal_form`` are a cache, not part of what the node is:
    the rewrite engine records there the node's normal form under a rule index (the
    index's token, None when nothing is recorded; the normal form, None for the node
    itself); see :mod:`symgrad.rewrite.engine`. Two slots, not a tuple: recording
    allocates nothing, so it never wakes the garbage collector.
    """

    __slots__ = ("op", "operands", "attrs", "shape", "dtype", "_normal_token", "_normal_form",
                 "__weakref__")
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(node)``, ``A + node``, ``np.maximum(node, 0)``: the symgrad op or
        function of the ufunc's name builds a node. Methods
        with symgrad equivalents (``reduce``, ``accumulate``, ``outer``) build those; the
        others (``at``, ...) and ``out=`` have no graph meaning: NumPy raises its TypeError."""
        if method != "__call__":  # np.add.reduce(node), np.multiply.outer(a, b), ...
            build = NUMPY_FUNCTIONS.get(f"ufunc.{method}")
            return NotImplemented if build is None else build(ufunc.__name__, *inputs, **kwargs)
        if kwargs:
            return NotImplemented
        build = _numpy_counterpart(ufunc.__name__)
        return NotImplemented if build is None else build(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(node, axis=0)``, ``np.dot(A, node)``, ``np.stack([a, b])``,
        ``np.linalg.det(node)``: the symgrad function of the same name (NumPy raises
        its TypeError when symgrad has none)."""
        name = func.__name__
        if getattr(func, "__module__", None) == "numpy.linalg":  # np.linalg.trace: last axes
            name = "linalg." + name if "linalg." + name in NUMPY_FUNCTIONS else name
        build = NUMPY_FUNCTIONS.get(name)
        return NotImplemented if build is None else build(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        """Never silently an object array (``np.asarray(node)``, ``np.dot(A, node)``)."""
        raise TypeError(f"a symgrad node ({describe(self)}) is symbolic and has no array value; "
                        "use the symgrad function (sg.dot, sg.sum, ...) or compile it with "
                        "sg.function")

    def __setattr__(self, name, value):
        raise AttributeError("symgrad nodes are immutable")

    def __delattr__(self, name):
        raise AttributeError("symgrad nodes are immutable")

    def __reduce__(self):
        # Flat records in topological order, not nested operands: a graph of any
        # depth pickles without deep recursion, and unpickles to the interned
        # nodes. Anchor nodes are referenced, not repeated (see _anchored_records).
        return (_rebuild_anchored, _anchored_records(self))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> Optional[str]:
        """The input's name (None for other nodes)."""
        return self.attrs.get("name") if self.op is LEAF_OPS.input else None

    @property
    def value(self):
        """The constant's value as a read-only array (None for other nodes)."""
        return self.attrs["value"].array if self.op is LEAF_OPS.constant else None

    @property
    def T(self) -> "Node":
        return OPERATORS[np.ndarray.transpose](self)

    def named(self, name: str) -> "Node":
        """This node, now carrying the display name ``name``: generated source
        (``sg.codegen``, ``f.source``) calls its variable that. Nodes are interned,
        so the name goes with the expression (the same expression built again is
        this node); an input keeps its input name as its variable."""
        if not isinstance(name, str):
            raise TypeError(f"a display name must be a str, got {type(name).__name__}")
        if not name:
            raise ValueError("a display name must not be empty")
        DISPLAY_NAMES[self] = name
        return self

    @property
    def display_name(self) -> Optional[str]:
        """The name set by :meth:`named` (or ``grad``'s ``d_<name>``), else the input's name."""
        return DISPLAY_NAMES.get(self) or self.name

    def __str__(self):
        return PRINTERS["unicode"](self)

    def __repr__(self):
        if self.op is LEAF_OPS.input:
            return f"<{self.dtype} input {self.name!r} {format_shape(self.shape)}>"
        return f"<{self.op.name} node {format_shape(self.shape)} {self.dtype}: {_short(self)}>"

    def _repr_latex_(self):
        return f"$\\displaystyle {PRINTERS['latex'](self)}$"

    def __bool__(self):
        raise TypeError(f"the truth value of a symgrad node is undefined ({describe(self)}); "
                        "use sg.where for conditionals")

    def __len__(self):
        if not self.shape:
            raise TypeError(f"len() of a 0-d node ({describe(self)})")
        if not isinstance(self.shape[0], int):
            raise TypeError(f"len() of {describe(self)}: the first dimension is the name {self.shape[0]!r}")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # Arithmetic: NumPy names and semantics (the binary operators and their reflected
    # forms are set from BINARY_OPERATORS below the class).
    def __neg__(self): return OPERATORS[operator.neg](self)
    def __divmod__(self, other): return self // other, self % other
    def __rdivmod__(self, other): return other // self, other % self
    def __pos__(self): return self
    def __abs__(self): return OPERATORS[operator.abs](self)
    def __gt__(self, other): return OPERATORS[operator.gt](self, other)
    def __ge__(self, other): return OPERATORS[operator.ge](self, other)
    def __lt__(self, other): return OPERATORS[operator.lt](self, other)
    def __le__(self, other): return OPERATORS[operator.le](self, other)
    def __getitem__(self, key): return INDEXING["build"](self, key)
    def __and__(self, other): return _logical(operator.and_, self, other)
    def __rand__(self, other): return _logical(operator.and_, other, self)
    def __or__(self, other): return _logical(operator.or_, self, other)
    def __ror__(self, other): return _logical(operator.or_, other, self)
    def __xor__(self, other): return _logical(operator.xor, self, other)
    def __rxor__(self, other): return _logical(operator.xor, other, self)
    def __invert__(self): return _logical(operator.invert, self)

    def __round__(self, ndigits=None):
        """``round(x)``/``round(x, 2)``: NumPy's ``round`` (half to even), as for arrays."""
        return NUMPY_FUNCTIONS["round"](self, 0 if ndigits is None else ndigits)

    @property
    def mT(self):
        """The matrix transpose of the last two axes (NumPy 2's ``ndarray.mT``)."""
        return NUMPY_FUNCTIONS["matrix_transpose"](self)

    @property
    def real(self):
        """The real part: the node itself (nodes hold real numbers)."""
        return NUMPY_FUNCTIONS["real"](self)

    @property
    def imag(self):
        """The imaginary part: zeros of the node's shape (nodes hold real numbers)."""
        return NUMPY_FUNCTIONS["imag"](self)

    # NumPy's array methods: each the symgrad function of the same name.
    def sum(self, axis=None, keepdims=False): return OPERATORS[np.ndarray.sum](self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return OPERATORS[np.ndarray.max](self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return OPERATORS[np.ndarray.min](self, axis=axis, keepdims=keepdims)
    def dot(self, other): return NUMPY_FUNCTIONS["dot"](self, other)

    def mean(self, axis=None, keepdims=False):
        return NUMPY_FUNCTIONS["mean"](self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``, as NumPy's method."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return OPERATORS[np.ndarray.reshape](self, shape=shape)

    def transpose(self, *axes):
        """``x.transpose()``, ``x.transpose(1, 0, 2)`` or ``x.transpose((1, 0, 2))``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return OPERATORS[np.ndarray.transpose](self, axes=axes or None)

    def ravel(self):
        """The entries as a vector (a reshape to ``(-1,)``)."""
        return OPERATORS[np.ndarray.reshape](self, shape=(-1,))

    flatten = ravel

    def clip(self, min=None, max=None):  # noqa: A002  (NumPy's keywords)
        """``x.clip(min, max)``: NumPy's ``clip`` (a bound of None is no bound)."""
        return NUMPY_FUNCTIONS["clip"](self, min, max)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """``x.astype(dtype)``: a cast to float64, int64 or bool, NumPy's casting rules
        (``casting="safe"`` refuses float -> int); ``order``, ``subok`` and ``copy``
        have no meaning for an immutable node. The cast has no gradient."""
        return OPERATORS[np.ndarray.astype](self, dtype=dtype, casting=casting)
    def squeeze(self, axis=None): return NUMPY_FUNCTIONS["squeeze"](self, axis=axis)
    def swapaxes(self, axis1, axis2): return NUMPY_FUNCTIONS["swapaxes"](self, axis1, axis2)
    def repeat(self, repeats, axis=None): return NUMPY_FUNCTIONS["repeat"](self, repeats, axis=axis)

    @property
    def size(self):
        """The number of entries: an int, or raises for named dimensions."""
        for d in self.shape:
            if not isinstance(d, int):
                raise TypeError(f"the size of {describe(self)} depends on the named dimension {d!r}")
        return math.prod(self.shape)

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


#: The binary Python operators a Node forwards to the op registered in OPERATORS.
BINARY_OPERATORS = ("add", "sub", "mul", "truediv", "pow", "matmul", "mod", "floordiv")


def _operator_methods(python_operator):
    """(``__op__``, ``__rop__``) building the op registered for ``python_operator``."""
    def forward(self, other):
        return OPERATORS[python_operator](self, other)

    def reflected(self, other):
        return OPERATORS[python_operator](other, self)
    return forward, reflected


for _name in BINARY_OPERATORS:
    _forward, _reflected = _operator_methods(getattr(operator, _name))
    for _method, _dunder in ((_forward, f"__{_name}__"), (_reflected, f"__r{_name}__")):
        _method.__name__, _method.__qualname__ = _dunder, f"Node.{_dunder}"
        setattr(Node, _dunder, _method)


#: The NumPy-named functions, by name: filled by :mod:`symgrad.api.functions` when it is
#: imported (a hook, so this module never imports the layer built on it). Read by the
#: node methods and NumPy's dispatch protocols.
NUMPY_FUNCTIONS: dict = {}

#: The API functions that are command-line functions and not one op record each (a
#: record says so in its ``cli`` field), by command-line name:
#: ``{name: (function, ((parameter, kind, default), ...))}``. Filled by
#: :func:`command_line` where each function is defined; read by :mod:`symgrad.cli.parse`.
COMMAND_LINE: dict = {}


def command_line(name: Optional[str] = None, **kinds):
    """Declare the decorated function a command-line function (``name``: its own name).

    ``kinds`` maps the parameters the command line passes, in order, to their kinds
    (``node``, ``nodes``, ``dim``, ``axis``, ``int``, ``ints``, ``shape``, ``bool``: see
    :mod:`symgrad.cli.parse`); the defaults and keyword names are the signature's, so
    they cannot drift from the function's own.
    """
    import inspect

    def declare(function):
        signature = inspect.signature(function).parameters
        COMMAND_LINE[name or function.__name__] = (function, tuple(
            (parameter, kind, None if signature[parameter].default is inspect.Parameter.empty
             else signature[parameter].default)
            for parameter, kind in kinds.items()))
        return function
    return declare


def _array_method(name: str):
    """NumPy's ``ndarray.<name>`` method: the symgrad function of that name applied to
    the node (the method's parameters are the function's after its first)."""
    def method(self, *args, **kwargs):
        return NUMPY_FUNCTIONS[name](self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"NumPy's ``ndarray.{name}``: ``sg.{name}(self, ...)``."
    return method


def _logical(python_operator, *operands):
    """``a & b``, ``a | b``, ``a ^ b``, ``~a`` of bool nodes: NumPy's logical ops. Of int
    nodes these are NumPy's bitwise ops, which symgrad does not have: a TypeError,
    never a logical result in their place."""
    for operand in operands:
        dtype = operand.dtype if isinstance(operand, (Node, np.ndarray)) else type(operand)
        if dtype not in ("bool", bool, np.bool_):
            what = describe(operand) if isinstance(operand, Node) else repr(operand)
            raise TypeError(f"{OPERATORS[python_operator].name} via a Python operator takes bool "
                            f"operands; {what} is not bool (the bitwise ops of integers are not "
                            "supported)")
    return OPERATORS[python_operator](*operands)


for _name in ("prod", "var", "std", "argmax", "argmin", "cumsum", "cumprod", "all", "any",
              "trace", "diagonal", "round", "conj", "conjugate", "copy", "take", "argsort",
              "argpartition", "searchsorted", "choose"):
    setattr(Node, _name, _array_method(_name))
del _name

#: ``INDEXING["build"](node, key)`` builds ``node[key]`` (NumPy basic and advanced
#: indexing): set by :mod:`symgrad.ops.indexing`, a hook as ``NUMPY_FUNCTIONS`` is.
INDEXING: dict = {}
#: NumPy ufunc names whose symgrad function has another name.
_UFUNC_ALIASES = {"absolute": "abs", "true_divide": "divide"}


def _numpy_counterpart(name: str):
    """The symgrad builder for a NumPy ufunc name: the elementwise op, else the function."""
    name = _UFUNC_ALIASES.get(name, name)
    op = REGISTRY.get(name)
    if op is not None and op.elementwise:
        return op
    return NUMPY_FUNCTIONS.get(name)


# The slots' own setters (``__setattr__`` refuses): half the cost of calling
# object.__setattr__ five times in an ``__init__``.
(_SET_OP, _SET_OPERANDS, _SET_ATTRS, _SET_SHAPE, _SET_DTYPE, _SET_NORMAL_TOKEN,
 _SET_NORMAL_FORM) = (Node.__dict__[slot].__set__ for slot in Node.__slots__[:7])


#: dtype name -> ``numpy.dtype`` (``np.dtype(name)`` costs ~0.3 µs a call).
_NUMPY_DTYPES = {name: np.dtype(name) for name in DTYPES}


def as_dtype(dtype) -> np.dtype:
    """``dtype`` (a name, NumPy type or ``numpy.dtype``) as a ``numpy.dtype``: a node's
    ``.dtype`` is one, as an array's is (``x.dtype == np.float64``; it still equals
    its name, ``x.dtype == "float64"``)."""
    found = _NUMPY_DTYPES.get(dtype) if type(dtype) is str else None
    return found if found is not None else np.dtype(dtype)


def _new_node(op: Op, operands: tuple, attrs: dict, shape: tuple, dtype) -> Node:
    node = object.__new__(Node)
    _SET_OP(node, op)
    _SET_OPERANDS(node, operands)
    _SET_ATTRS(node, types.MappingProxyType(dict(attrs)) if attrs else _NO_ATTRS)
    _SET_SHAPE(node, shape)
    _SET_DTYPE(node, as_dtype(dtype))
    _SET_NORMAL_TOKEN(node, None)
    _SET_NORMAL_FORM(node, None)
    return node


def _flat_records(node: Node) -> tuple:
    """(op, operand positions, attrs) for every node ``node`` depends on, operands first."""
    order = toposort([node])
    position = {n: i for i, n in enumerate(order)}
    return tuple((n.op, tuple(position[o] for o in n.operands), dict(n.attrs)) for n in order)


#: Every ANCHOR_SPAN-th level of a graph (its longest path from the leaves) holds
#: the anchor nodes that pickles of the nodes above reference instead of repeating.
ANCHOR_SPAN = 256
_LEVELS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_ANCHORS_BELOW: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _level(node: Node) -> int:
    """Longest path from ``node`` down to a leaf, cached (computed once per node)."""
    known = _LEVELS.get(node)
    if known is not None:
        return known
    stack = [node]
    while stack:
        top = stack[-1]
        pending = [o for o in top.operands if o not in _LEVELS]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        _LEVELS[top] = 1 + max((_LEVELS[o] for o in top.operands), default=-1)
    return _LEVELS[node]


def _is_anchor(node: Node) -> bool:
    level = _level(node)
    return level > 0 and level % ANCHOR_SPAN == 0


def _region(node: Node) -> tuple:
    """(the nodes from ``node`` down to the nearest anchors, operands first: by
    level, which is below every user's; those anchors)."""
    region, frontier, stack = {node: None}, {}, [node]
    while stack:
        for operand in stack.pop().operands:
            if operand in region or operand in frontier:
                continue
            if _is_anchor(operand):
                frontier[operand] = None
            else:
                region[operand] = None
                stack.append(operand)
    return sorted(region, key=_level), list(frontier)


def _anchors_below(frontier) -> list:
    """Every anchor under the frontier anchors and themselves, lowest level first."""
    found: dict = {}
    for anchor in frontier:
        below = _ANCHORS_BELOW.get(anchor)
        if below is None:
            below = _ANCHORS_BELOW[anchor] = tuple(_anchors_below(_region(anchor)[1]))
        found.update(dict.fromkeys(below))
        found[anchor] = None
    return sorted(found, key=_level)


def _anchored_records(node: Node) -> tuple:
    """(anchors, records) for pickling ``node``: records of the nodes down to the
    nearest anchor level, operands given as positions (``-1 - j``: ``anchors[j]``).

    A list of nodes sharing one graph pickles each region once: every anchor is
    pickled once and then referenced through pickle's memo, so 3,000 states of a
    chain no longer repeat the whole chain each (quadratic). ``anchors`` lists
    every anchor below, lowest first, so each is already pickled when the next
    one, which references the lower ones, is saved: the pickler never recurses
    more than one anchor deep."""
    order, frontier = _region(node)
    anchors = _anchors_below(frontier)
    position = {a: -1 - j for j, a in enumerate(anchors)}
    position.update((n, i) for i, n in enumerate(order))
    records = tuple((n.op, tuple(position[o] for o in n.operands), dict(n.attrs)) for n in order)
    return tuple(anchors), records


def _rebuild_anchored(anchors: tuple, records: tuple) -> Node:
    """The last node of ``records`` (see :func:`_anchored_records`), rebuilt through
    the ops (so interned)."""
    built: list = []
    for op, operands, attrs in records:
        built.append(op(*(built[i] if i >= 0 else anchors[-1 - i] for i in operands), **attrs))
    return built[-1]


def _rebuild_graph(records: tuple) -> Node:
    """The last node of ``records``, rebuilt through the ops (so interned)."""
    built: list = []
    for op, operands, attrs in records:
        built.append(op(*(built[i] for i in operands), **attrs))
    return built[-1]


def _short(node: Node, limit: int = 60) -> str:
    try:
        text = str(node).replace("\n", "; ")
    except Exception:  # printing must never break repr
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(node) -> str:
    """How error messages name a node: its name or op, and its shape."""
    if not isinstance(node, Node):
        return repr(node)
    if node.op is LEAF_OPS.input:
        return f"{node.name!r} {format_shape(node.shape)}"
    if node.op is LEAF_OPS.constant:
        return f"constant {format_shape(node.shape)}"
    return f"{node.op.name} node {format_shape(node.shape)} [{_short(node, 40)}]"


def toposort(outputs, stop=None) -> list:
    """Every node the outputs depend on, operands before users.

    Depth-first post-order, operands left to right, with an explicit stack of
    operand iterators (graphs can be far deeper than Python's recursion limit).
    ``stop(node)`` true: the walk does not go beneath ``node`` (listed as a leaf is).
    """
    order, visited = [], set()
    for root in outputs:
        if root in visited:
            continue
        visited.add(root)
        if stop is not None and stop(root):
            order.append(root)
            continue
        stack = [(root, iter(root.operands))]
        while stack:
            node, pending = stack[-1]
            for operand in pending:
                if operand not in visited:
                    visited.add(operand)
                    if not operand.operands or stop is not None and stop(operand):  # a leaf
                        order.append(operand)
                        continue
                    stack.append((operand, iter(operand.operands)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def inputs_of(outputs=(), order=None) -> list:
    """Input nodes the outputs depend on (or of ``order``, their toposort when
    the caller has it already); two inputs sharing a name is an error."""
    input_ = LEAF_OPS.input
    found = [n for n in (toposort(outputs) if order is None else order) if n.op is input_]
    if len({n.attrs["name"] for n in found}) == len(found):  # names distinct: nothing to report
        return found
    by_name: dict = {}
    for node in found:
        other = by_name.setdefault(node.attrs["name"], node)
        if other is not node:
            raise ValueError(f"one graph holds two different inputs named {node.name!r}: "
                             f"{format_shape(other.shape)} {other.dtype} and "
                             f"{format_shape(node.shape)} {node.dtype}")
    return found


def op_count(nodes) -> int:
    """Number of operation nodes (inputs and constants excluded)."""
    nodes, _ = as_node_list(nodes, "nodes")
    return sum(1 for n in toposort(nodes) if not n.op.leaf)


def as_node_list(nodes, what: str) -> tuple:
    """(list of nodes, was_single) from a node or a list/tuple of nodes."""
    if isinstance(nodes, Node):
        return [nodes], True
    if isinstance(nodes, (list, tuple)):
        result = list(nodes)
        for item in result:
            if not isinstance(item, Node):
                raise TypeError(f"{what} must be symgrad nodes, got {type(item).__name__} {item!r:.40}")
        return result, False
    raise TypeError(f"{what} must be a symgrad node or a list of nodes, got {type(nodes).__name__}")


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building big graphs.

    Differentiating or compiling a graph of 10^5 nodes allocates millions of small, acyclic
    objects; each full collection would walk the whole graph again, which made
    compile time grow faster than the graph (5x at 10^5 nodes). Only while this is
    the process's one thread: ``gc.disable`` would stop collection for every thread.
    """
    if threading.active_count() > 1:  # the collector is process-wide: never switch it off
        yield                         # under another thread's feet
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

