"""Backends: which source a graph is printed as, and the array-API lowering of an op.

There is one lowering of the op graph (the same passes' graph, the same
statements, the same names) and a printer per backend family, told apart by a
:class:`Dialect`:

* ``"numpy"`` (:data:`NUMPY`): each op's ``numpy`` lowering, run-time helpers of
  :mod:`symgrad.ops.runtime`; the executed source adds buffer reuse, scratch
  buffers and ``del`` (:mod:`symgrad.compile.emit`).
* ``"array_api"`` and ``"jax"`` (:data:`ARRAY_API`, :data:`JAX`): each op's
  ``array_api`` lowering (:func:`portable_lowering`), written against a namespace
  ``xp`` that the generated function reads off its inputs at call time
  (``array_api_compat.array_namespace``). What runs is the readable printer's
  source (:mod:`symgrad.compile.readable`): no ``out=``, no scratch buffers, no
  SciPy, standard names only.

Compile passes declare the backends they are valid for
(:data:`symgrad.compile.node_lowerings.RULES`); buffer reuse and scratch buffers are
the NumPy emitter's own. An op without a portable lowering, or one that calls
what the target library lacks, raises :class:`BackendError` naming the op and
the backend when the function is compiled (for ``"array_api"``, whose library
is known only from the arguments, a library's gaps are raised at the first call
with it, before anything is computed).
"""
from __future__ import annotations

import re

from ..ir.graph import Portable, toposort
from ..ops import runtime, scans
from ..rewrite.engine import run_passes
from .lowering import float_operands, literal
from ..ops.elementwise import where as where_op
from ..ops.structure import constant



class BackendError(NotImplementedError):
    """An op has no lowering for the backend (or the array library) asked for."""


#: The names of the array API standard (2023.12 and 2024.12) the lowerings may call as
#: ``xp.<name>`` (``xp.linalg.<name>`` for the linalg extension).
STANDARD = frozenset("""
    abs acos acosh add all any arange argmax argmin argsort asarray asin asinh astype atan atan2
    atanh broadcast_arrays broadcast_to ceil clip concat copysign cos cosh cumulative_prod
    cumulative_sum diff divide e empty equal exp expand_dims expm1 eye flip float32
    float64 floor floor_divide full full_like greater greater_equal hypot inf int64 bool
    isdtype isfinite isinf isnan less less_equal linspace log log10 log1p log2 logaddexp
    logical_and logical_not logical_or matmul matrix_transpose max maximum mean min minimum
    moveaxis multiply nan negative newaxis nonzero not_equal ones ones_like permute_dims
    pi pow prod reciprocal remainder repeat reshape roll round sign signbit sin sinh sort
    sqrt square squeeze stack subtract sum take take_along_axis tan tanh tensordot tile
    tril triu trunc unstack vecdot where zeros zeros_like
    linalg.cholesky linalg.cross linalg.det linalg.diagonal linalg.eigh linalg.eigvalsh
    linalg.inv linalg.matmul linalg.matrix_norm linalg.matrix_power linalg.matrix_rank
    linalg.matrix_transpose linalg.outer linalg.pinv linalg.qr linalg.slogdet linalg.solve
    linalg.svd linalg.svdvals linalg.tensordot linalg.trace linalg.vecdot linalg.vector_norm
""".split())

_NP_NAME = re.compile(r"(?<![\w.])np\.")
_XP_CALL = re.compile(r"(?<![\w.])xp\.((?:linalg\.)?\w+)")
#: Constructs of NumPy source no array-API library accepts.
_NOT_PORTABLE_SOURCE = re.compile(r"\bout=|\.copy\(\)|np\.s_\[")


def _checked(op, text: str, backend: str) -> str:
    """``text``, a portable lowering's source, after checking that it calls standard
    names only (else :class:`BackendError` naming the op and the name)."""
    if _NOT_PORTABLE_SOURCE.search(text) or _NP_NAME.search(text):
        raise BackendError(f"op {op.name!r} has no lowering for backend={backend!r}: its "
                           f"source {text!r} is NumPy's own")
    for name in _XP_CALL.findall(text):
        if name not in STANDARD:
            raise BackendError(f"op {op.name!r} has no lowering for backend={backend!r}: "
                               f"xp.{name} is not an array API standard name")
    return text


def _derived(op) -> Portable:
    """The default array-API lowering: the NumPy one with ``np.`` read as ``xp.``
    (checked to call standard names only when the node is lowered)."""
    if op.helpers:
        names = ", ".join(h.__name__ for h in op.helpers)
        return Portable(reason=f"its NumPy lowering calls the NumPy helper(s) {names}")
    numpy = op.numpy
    if type(numpy) is str:
        return Portable(_NP_NAME.sub("xp.", numpy))
    return Portable(lambda args, attrs, ctx: _NP_NAME.sub("xp.", numpy(args, attrs, ctx)))


def portable_of(op) -> Portable:
    """``op``'s array-API lowering as a :class:`Portable` (see ``Op.array_api``)."""
    spec = op.array_api
    if spec is None:
        return _derived(op)
    return spec if isinstance(spec, Portable) else Portable(spec)


def portable_lowering(op, backend: str):
    """The template or callable lowering ``op`` for ``backend`` (a callable's output,
    and a template, checked for standard names), or :class:`BackendError`."""
    spec = portable_of(op)
    if spec.lowering is None:
        raise BackendError(f"op {op.name!r} has no lowering for backend={backend!r} "
                           f"({spec.reason}); compile it with backend='numpy'")
    lowering = spec.lowering
    if type(lowering) is str:
        return _checked(op, lowering, backend)
    return lambda args, attrs, ctx: _checked(op, lowering(args, attrs, ctx), backend)


def _is_literal(node) -> bool:
    """Whether ``node`` is written as a Python scalar literal (which mixes with any array)."""
    return node.op is constant and literal(node.value) is not None


class Dialect:
    """How one backend family prints: the NumPy one (``numpy=True``) or the array-API one."""

    def __init__(self, backend: str, numpy: bool, passes: bool = True, library=None,
                 passes_as=None):
        self.backend, self.numpy, self.run_passes = backend, numpy, passes
        #: the array library the backend runs on, known when compiling (None: the inputs')
        self.library = library
        #: the backend whose graph passes apply (``"dask"``: the array API's)
        self.pass_backend = passes_as or backend
        #: names the generated function binds itself, never given to a variable
        self.reserved = () if numpy else ("xp", "array_namespace")
        self.title = "NumPy code generated by symgrad." if numpy else (
            "Array API code generated by symgrad (the namespace is the inputs').")

    def lowering(self, op):
        return op.numpy if self.numpy else portable_lowering(op, self.backend)

    def helpers(self, order, printer=None) -> tuple:
        """(source blocks, names they bind) of the run-time helpers ``order`` calls, and
        of the step function of each ``scan`` (printed by ``printer``, the readable one)."""
        ops = dict.fromkeys(node.op for node in order)  # each op once, in order
        if self.numpy:
            return runtime.embed([h for op in ops for h in op.helpers])
        steps = [node for node in order if node.op is scans.scan_op]
        for node in steps:  # the ops of the steps' sources, too
            ops.update(dict.fromkeys(n.op for n in toposort(list(node.attrs["step"]))))
        blocks, names = runtime.embed([h for op in ops for h in portable_of(op).helpers])
        for node in steps:
            blocks.append(self._step_source(node, printer))
            names.add(scans.step_function(node.attrs["index"]))
        return blocks, names

    def _step_source(self, node, readable_source) -> str:
        """The module-level function computing one step of the scan ``node``: its step
        graph printed as any function is (no passes: they ran on the whole graph)."""
        params, steps = node.attrs["params"], list(node.attrs["step"])
        order = toposort(steps + list(params))
        name = scans.step_function(node.attrs["index"])
        source = readable_source(list(params), steps, order, "step", {},
                                 Dialect(self.backend, False, passes=False))
        body = source[source.index("\ndef step(") + 1:]
        return f"def {name}(" + body[len("def step("):].rstrip("\n")

    def cast(self, node, args: list) -> list:
        """Operand sources cast where the node's dtype needs it: NumPy's
        :func:`float_operands`; in the array API (which promotes no bool or int
        array with a float one, nor a bool array in arithmetic) every array operand
        of an elementwise node whose dtype is not the node's, cast to it
        (``where``: its two branches; two Python scalars there: the first made an array)."""
        if self.numpy:
            return float_operands(node, args)
        op = node.op
        if not op.elementwise or node.dtype == "bool":
            return args
        first = 1 if op is where_op else 0
        args = list(args)
        for i in range(first, len(args)):
            operand = node.operands[i]
            if operand.dtype != node.dtype and not _is_literal(operand):
                args[i] = f"xp.astype({args[i]}, xp.{node.dtype})"
        if first and all(_is_literal(o) for o in node.operands[1:]):
            args[1] = f"xp.asarray({args[1]}, dtype=xp.{node.dtype})"
        return args

    def literal(self, text: str) -> str:
        """A scalar literal's source (``np.nan`` is ``xp.nan`` here)."""
        return text if self.numpy else _NP_NAME.sub("xp.", text)

    def copy(self, source: str) -> str:
        """A fresh array holding ``source``'s value (outputs the caller owns)."""
        return f"np.array({source})" if self.numpy else f"xp.asarray({source}, copy=True)"

    def passes(self, outputs, order) -> tuple:
        """The compiler's graph passes for this backend, each as declared valid for it."""
        if not self.run_passes:
            return outputs, order
        return run_passes(outputs, order, backend=self.pass_backend)


NUMPY = Dialect("numpy", True)
ARRAY_API = Dialect("array_api", False)
JAX = Dialect("jax", False, library="jax")
#: the array API on Dask arrays, said when compiling: what Dask lacks raises then
DASK = Dialect("dask", False, library="dask", passes_as="array_api")
DIALECTS = {"numpy": NUMPY, "array_api": ARRAY_API, "jax": JAX, "dask": DASK}
#: the backends of ``sg.function`` (a pass says whether it is portable: ``node_lowerings.RULES``)
BACKENDS = tuple(DIALECTS)


def dialect(backend: str) -> Dialect:
    if backend not in DIALECTS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return DIALECTS[backend]


def lacking(order, backend: str) -> dict:
    """{array library: [names of the ops of ``order`` whose lowering it lacks]}; for a
    backend that names its library (``"jax"``, ``"dask"``) what that library lacks is a
    :class:`BackendError` right away, when compiling."""
    gaps: dict = {}
    for op in dict.fromkeys(node.op for node in order):
        for library in portable_of(op).lacks:
            gaps.setdefault(library, []).append(op.name)
    library = dialect(backend).library
    if library in gaps:
        raise BackendError(lacks_message(gaps[library], library, backend))
    return gaps


def lacks_message(names, library: str, backend: str) -> str:
    ops = ", ".join(repr(n) for n in names)
    return (f"op {ops} has no lowering for backend={backend!r} on {library} arrays "
            f"({library}'s namespace lacks what it calls); compute it with backend='numpy'")
