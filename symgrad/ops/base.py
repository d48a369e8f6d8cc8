"""The helpers that declare ops, and the input domains.

Each op is declared once, in one of the modules below, as an :class:`Op`
record holding its shape rule, NumPy lowering, derivative rules, print format
and the sample inputs (with their domains) on which it is tested. The helpers
here capture the shared structure: elementwise ops get broadcasting and a JVP
derived from their (diagonal) VJP, linear ops a JVP that applies the op to the
tangent, bilinear ops the product rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.graph import REGISTRY, Node, Op, register, result_dtype
from ..ir.shapes import broadcast_shapes, substitute


@dataclass(frozen=True)
class Spec:
    """One operand of a sample: its shape and the domain values are drawn from.

    Domains: ``real``, ``positive``, ``nonzero``, ``kinkfree`` (|x| > 0.1),
    ``unit`` (in (-0.9, 0.9)), ``probability`` (in (0.05, 0.95)),
    ``above_one`` (> 1.5), ``spd`` (symmetric positive definite),
    ``wellcond`` (well-conditioned square), ``posdet`` (well-conditioned square with a
    positive determinant, not symmetric), ``bool``, ``labels:K`` (ints < K).
    """

    shape: tuple
    domain: str = "real"


@dataclass(frozen=True)
class Sample:
    operands: tuple
    attrs: dict = field(default_factory=dict)


def draw(spec: Spec, rng: np.random.Generator, sizes: dict) -> np.ndarray:
    """A random value from ``spec``'s domain, named dims bound by ``sizes``."""
    shape = substitute(spec.shape, sizes)
    domain = spec.domain
    if domain.startswith("labels:"):
        return rng.integers(0, int(domain.split(":")[1]), size=shape)
    if domain == "bool":
        return rng.random(shape) > 0.5
    if domain == "symmetric":
        a = rng.standard_normal(shape)
        return (a + np.swapaxes(a, -1, -2)) / 2
    if domain == "real_spectrum":  # Q diag(w) Q⁻¹: distinct real eigenvalues, Q well conditioned
        n = shape[-1]
        q = rng.standard_normal(shape) / np.sqrt(n) + 1.5 * np.eye(n)
        w = np.arange(1.0, n + 1.0) * np.where(rng.random(shape[:-1]) < 0.5, -1.0, 1.0)
        return np.linalg.solve(np.swapaxes(q, -1, -2),
                               np.swapaxes(q * w[..., None, :], -1, -2)).swapaxes(-1, -2)
    if domain in ("spd", "wellcond", "posdet"):
        n = shape[-1]
        a = rng.standard_normal(shape)
        if domain == "spd":
            return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)
        m = a / np.sqrt(n) + 2.0 * np.eye(n)
        if domain == "posdet":  # a row's sign flipped where det < 0 (same singular values)
            m[..., :1, :] *= np.sign(np.linalg.det(m))[..., None, None]
        return m
    x = rng.standard_normal(shape)
    if domain == "positive":
        return np.abs(x) + 0.5
    if domain == "nonzero":
        return np.sign(x + 1e-300) * (np.abs(x) + 0.5)
    if domain == "kinkfree":
        return np.sign(x + 1e-300) * (np.abs(x) + 0.1)
    if domain == "above_one":
        return np.abs(x) + 1.5
    if domain == "unit":
        return 0.9 * np.tanh(x)
    if domain == "probability":
        return 0.5 + 0.45 * np.tanh(x)
    return x


#: The smallest normal float64: the guard of divisions by a norm (x / max(|x|, TINY)).
TINY = float(np.finfo(np.float64).tiny)


def op(name: str, **fields) -> Op:
    """Declare and register an op."""
    return register(Op(name, **fields))


def constant_form_ops() -> frozenset:
    """The ops whose nodes may be known constants (their records declare ``uniform``):
    a rewrite pattern matching a constant looks at nodes of these ops only."""
    return frozenset(op for op in REGISTRY.values() if op.uniform is not None)


def is_constant(node: Node, value: float) -> bool:
    """Whether ``node`` is known to equal ``value`` everywhere (its op's ``uniform``)."""
    uniform = node.op.uniform
    return uniform is not None and uniform(node, value)


def operand_uniform(node: Node, value: float) -> bool:
    """``uniform`` of a view (broadcast, reshape): its operand's."""
    return is_constant(node.operands[0], value)


def constant_uniform(node: Node, value: float) -> bool:
    """``uniform`` of a constant: every entry equals ``value`` (an empty array: no)."""
    array = node.value
    if array.ndim == 0:  # a Python comparison, not a NumPy reduction (~2 µs each)
        return array.item() == value
    return array.size > 0 and bool(np.all(array == value))


def zeros(shape, dtype: str = "float64") -> Node:
    return REGISTRY["zeros"](shape=tuple(shape), dtype=dtype)


def broadcast_to(node: Node, shape) -> Node:
    return node if node.shape == tuple(shape) else REGISTRY["broadcast_to"](node, shape=tuple(shape))


def add_all(terms, shape=None) -> Node:
    """Sum of nodes (None skipped), zeros of ``shape`` when nothing is left."""
    terms = [t for t in terms if t is not None]
    if not terms:
        return zeros(shape)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def sympy_function(build):
    """A ``to_sympy`` rule for an elementwise function of one operand: ``build(sympy)``
    is the scalar SymPy function, applied entrywise to an array."""
    return lambda s, node, x: s.elementwise(node, build(s.sp), x)


def sympy_scalar(build):
    """A ``to_sympy`` rule with a SymPy form for scalar nodes only: ``build(sympy)``
    applied to the operands' expressions (an array node has none)."""
    return lambda s, node, *args: s.scalars_only(node, build(s.sp), *args)


# Elementwise ------------------------------------------------------------------

_SCALAR = ((), "float64")
#: A node's dtype is NumPy's one float64 instance: compared by identity (``== "float64"``
#: parses the string on every call); any other dtype takes the general path.
_FLOAT64 = np.dtype("float64")


def broadcast_infer(*operands, float_result: bool = False, dtype: str | None = None):
    if dtype is None and all(o.shape == () and o.dtype is _FLOAT64 for o in operands):
        return _SCALAR  # scalar arithmetic, the bulk of deep scalar graphs
    shape = broadcast_shapes(*(o.shape for o in operands))
    if dtype is None:
        dtype = result_dtype(*(o.dtype for o in operands))
        if float_result or dtype == "bool":
            dtype = result_dtype(dtype, "float64")
    return shape, dtype


def diagonal_jvp(vjp):
    """JVP of an elementwise op: its Jacobian is diagonal, so JVP = VJP of the tangent."""
    def jvp(tangents, out, *operands, **attrs):
        terms = []
        for index, tangent in enumerate(tangents):
            if tangent is not None:
                terms.append(vjp(tangent, out, *operands, **attrs)[index])
        return broadcast_to(add_all(terms, out.shape), out.shape)
    return jvp


UNARY_SAMPLES = (((3,),), ((2, 3),), (("n",),))
BINARY_SAMPLES = (((3,), (3,)), ((2, 3), (3,)), ((), (2, 2)), (("n", 1), (1, "m")))


def unary_samples(domain: str = "real"):
    return lambda: [Sample((Spec(s[0], domain),)) for s in UNARY_SAMPLES]


def binary_samples(left: str = "real", right: str = "real"):
    return lambda: [Sample((Spec(a, left), Spec(b, right))) for a, b in BINARY_SAMPLES]


def unary(name: str, numpy: str, vjp, domain: str = "real", fresh: bool = True, **fields) -> Op:
    """A float-valued elementwise function of one operand: ``f(x)`` (a ufunc call:
    a fresh array)."""
    return op(name, infer=lambda x: broadcast_infer(x, float_result=True), numpy=numpy,
              vjp=vjp, jvp=diagonal_jvp(vjp), elementwise=True, samples=unary_samples(domain),
              fresh=fresh, **fields)


def binary(name: str, numpy: str, vjp, left: str = "real", right: str = "real",
           float_result: bool = False, fresh: bool = True, **fields) -> Op:
    """An elementwise function of two broadcast operands."""
    def infer(a, b):
        if a.shape == () == b.shape and a.dtype is _FLOAT64 and b.dtype is _FLOAT64:
            return _SCALAR  # broadcast_infer's fast path, without its generic argument handling
        return broadcast_infer(a, b, float_result=float_result)
    return op(name, infer=infer, numpy=numpy, vjp=vjp, jvp=diagonal_jvp(vjp), elementwise=True,
              samples=binary_samples(left, right), fresh=fresh, **fields)


def linear_jvp(tangents, out, x, **attrs):
    """JVP of an op linear in its single operand: the op (``out``'s) applied to the tangent."""
    return out.op(tangents[0], **attrs)


def bilinear_jvp(tangents, out, a, b, **attrs):
    """JVP of an op linear in each of two operands (``out``'s op): the product rule."""
    build = out.op
    ta, tb = tangents
    return add_all([build(ta, b, **attrs) if ta is not None else None,
                    build(a, tb, **attrs) if tb is not None else None], out.shape)
