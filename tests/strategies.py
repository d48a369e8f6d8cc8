"""Hypothesis strategies for random, well-shaped symgrad expression graphs.

A graph is grown from a fixed set of inputs (a scalar, vectors and matrices,
some with the named dimension ``n``, bound to 0 to 3 at call time, a scalar input
also named ``n``, a positive vector, integer labels and a bool mask) by
a drawn sequence of rules. Each rule picks operands from everything built so
far, so subexpressions and inputs are shared and reused, and shapes broadcast.
Rules respect the input domains of the op registry's samples: ``log``/``sqrt``
get provably positive operands, ``inv``/``solve``/``logdet`` get SPD matrices
``M Mᵀ + I``. Kinks (``abs``, ``relu``, ``maximum``, comparisons) cannot be
avoided by construction, so :func:`well_conditioned` rejects values within
``KINK`` of one after the eager evaluation. Constants include 0, -0 and pairs
of tiny factors (1e-200, 1e-300) whose product would underflow; bool and int64
nodes enter arithmetic (comparisons added, negated, exponentiated; labels
negated, masks multiplied).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import symgrad as sg
from symgrad.ir.graph import inputs_of, toposort
from symgrad.ops import Spec, draw
from symgrad.ir.shapes import broadcast_shapes

KINK = 1e-3  # minimum distance of a kink's argument from the kink
LARGE = 1e3  # values beyond this make finite differences unreliable (e.g. cos(7200))
DOMAINS = {"p": "positive", "lab": "labels:3", "mask": "bool"}


def base_inputs() -> list:
    """The leaves general graphs grow from (named dimension ``n``)."""
    return [sg.scalar("a"), sg.vector("x", "n"), sg.vector("y", 3), sg.vector("p", "n"),
            sg.matrix("W", ("n", 3)), sg.matrix("S", (3, 3)),
            sg.vector("lab", "n", dtype="int64"), sg.constant(np.array([0.5, -1.5, 2.0])),
            # an input named like the dimension n, and a bool mask
            sg.scalar("n"), sg.vector("mask", "n", dtype="bool")]


def scalar_inputs() -> list:
    """Leaves of scalar graphs (what every SymPy bridge must express)."""
    return [sg.scalar("a"), sg.scalar("b"), sg.scalar("p")]


def matrix_inputs() -> list:
    """Leaves of matrix-algebra graphs: matrices (one named dim) and a scalar."""
    return [sg.scalar("a"), sg.matrix("W", ("n", 3)), sg.matrix("S", (3, 3)),
            sg.matrix("V", (3, "n"))]


@dataclass
class Case:
    """One random graph: ``out`` and every node built on the way, with values."""

    out: sg.Node
    built: list
    sizes: dict
    seed: int

    def values(self, inputs) -> list:
        """Values for ``inputs``, drawn from their domains with the case's seed."""
        rng = np.random.default_rng(self.seed)
        return [draw(Spec(n.shape, DOMAINS.get(n.name, "real")), rng, self.sizes) for n in inputs]

    def __repr__(self):
        return f"Case(sizes={self.sizes}, seed={self.seed}, out=\n{sg.pretty(self.out)})"


class NoOperand(Exception):
    """The pool holds no node a rule can use (the rule is skipped)."""


def _broadcasts(a, b) -> bool:
    try:
        broadcast_shapes(a.shape, b.shape)
        return True
    except sg.ShapeError:
        return False


class Builder:
    """The pool of nodes built so far, and how rules draw operands from it."""

    def __init__(self, draw_, leaves: list):
        self.draw = draw_
        self.pool = list(leaves)
        self.positive = {n for n in leaves if n.name == "p"}

    def pick(self, accept=lambda node: True, label: str = "operand"):
        """A float64 pool node satisfying ``accept``, newest first (deep graphs)."""
        choices = [n for n in reversed(self.pool) if n.dtype == "float64" and accept(n)]
        if not choices:
            raise NoOperand(label)
        if self.draw(st.booleans(), label="newest"):
            return choices[0]
        return self.draw(st.sampled_from(choices), label=label)

    def positive_of(self, node):
        """A node that is positive everywhere and depends on ``node``."""
        if node in self.positive:
            return node
        way = self.draw(st.sampled_from(["square", "softplus", "exp", "sigmoid"]))
        result = {"square": lambda: node * node + 0.5, "softplus": lambda: sg.softplus(node) + 0.1,
                  "exp": lambda: sg.exp(node), "sigmoid": lambda: sg.sigmoid(node)}[way]()
        self.positive.add(result)
        return result

    def spd(self, node):
        """``M Mᵀ + I`` for a matrix ``M`` (SPD, smallest eigenvalue >= 1)."""
        return node @ node.T + sg.eye(node.shape[0])

    def axes(self, node):
        return self.draw(st.sets(st.sampled_from(range(node.ndim)))) if node.ndim else set()


# Rules: each returns a new node, or None (or raises NoOperand) when the pool offers
# no fitting operands.

UNARY = {"exp": sg.exp, "sin": sg.sin, "cos": sg.cos, "tanh": sg.tanh, "sigmoid": sg.sigmoid,
         "softplus": sg.softplus, "negative": lambda t: -t, "square": sg.square,
         "log_sigmoid": sg.log_sigmoid, "abs": sg.abs, "relu": sg.relu}
POSITIVE = {"log": sg.log, "sqrt": sg.sqrt, "log1p": sg.log1p,
            "reciprocal": lambda t: 1.0 / t, "power": lambda t: t ** 1.5}


def unary(b: Builder):
    return b.draw(st.sampled_from(sorted(UNARY)).map(UNARY.get))(b.pick())


def positive_domain(b: Builder):
    return b.draw(st.sampled_from(sorted(POSITIVE)).map(POSITIVE.get))(b.positive_of(b.pick()))


BINARY = {"add": lambda s, t: s + t, "subtract": lambda s, t: s - t,
          "multiply": lambda s, t: s * t, "maximum": sg.maximum, "minimum": sg.minimum}


def binary(b: Builder):
    left = b.pick()
    right = b.pick(lambda n: _broadcasts(n, left))
    kind = b.draw(st.sampled_from(sorted(BINARY) + ["divide", "power", "where"]))
    if kind == "divide":
        return left / b.positive_of(right)
    if kind == "power":
        return b.positive_of(left) ** right
    if kind == "where":
        other = b.pick(lambda n: _broadcasts(n, left) and _broadcasts(n, right))
        return sg.where(sg.greater(left, right), other, left * 0.5)
    return BINARY[kind](left, right)


def with_constant(b: Builder):
    node = b.pick()
    value = b.draw(st.sampled_from([2.0, -0.5, 3, 0.0, -0.0, 1e-5]))
    if b.draw(st.booleans(), label="extreme"):  # factors whose product would underflow
        tiny = b.draw(st.sampled_from([1e-200, 1e-300]))
        return (node * tiny) / tiny if b.draw(st.booleans()) else (tiny * node) * (1 / tiny)
    return value - node if b.draw(st.booleans()) else node * value


def mixed_dtypes(b: Builder):
    """Arithmetic on bool and int64 nodes (typed float64, computed in float64)."""
    node = b.pick()
    kind = b.draw(st.sampled_from(["bool add", "bool negative", "bool exp", "int negative",
                                   "int abs", "mask"]))
    if kind == "bool add":
        return ((node > 0.25) + (node > -0.5)) * node
    if kind == "bool negative":
        return -(node > 0.25) + node
    if kind == "bool exp":
        return sg.exp(node > 0.25) * node
    leaf = next(n for n in b.pool if n.name == ("mask" if kind == "mask" else "lab"))
    other = b.pick(lambda n: _broadcasts(n, leaf))
    if kind == "int negative":
        return (-leaf) * other
    if kind == "int abs":
        return sg.abs(leaf - 1) * other
    return leaf * other


def reduction(b: Builder):
    node = b.pick(lambda n: n.ndim >= 1)
    kind = b.draw(st.sampled_from(["sum", "mean", "logsumexp", "softmax", "log_softmax"]))
    if kind in ("softmax", "log_softmax"):
        return getattr(sg, kind)(node, axis=b.draw(st.integers(-node.ndim, node.ndim - 1)))
    axes = tuple(sorted(b.axes(node))) or None
    return getattr(sg, kind)(node, axis=axes, keepdims=b.draw(st.booleans()))


def reshape(b: Builder):
    node = b.pick(lambda n: n.ndim >= 1)
    if all(isinstance(d, int) for d in node.shape) and b.draw(st.booleans()):
        return sg.reshape(node, (-1,))
    order = b.draw(st.permutations(node.shape))
    return sg.reshape(node, (1,) + tuple(order) if b.draw(st.booleans()) else tuple(order))


def structure(b: Builder):
    kind = b.draw(st.sampled_from(["transpose", "broadcast", "index", "concatenate", "diag",
                                   "one_hot"]))
    if kind == "one_hot":
        labels = next(n for n in b.pool if n.name == "lab")
        return sg.one_hot(labels, 3) * b.pick(lambda n: n.ndim == 0)
    node = b.pick(lambda n: n.ndim >= 1 if kind != "broadcast" else True)
    if kind == "transpose":
        return sg.transpose(node)
    if kind == "broadcast":
        return sg.broadcast_to(node, (2,) + node.shape)
    if kind == "index":
        return _index(b, node)
    if kind == "concatenate":
        return _concatenate(b, node)
    if node.ndim == 1 or (node.ndim == 2 and node.shape[0] == node.shape[1]):
        return sg.diag(node)
    return None


def _index(b: Builder, node):
    entries = []
    for dim in node.shape:
        if not isinstance(dim, int) or dim < 2 or b.draw(st.booleans()):
            entries.append(slice(None))
        elif b.draw(st.booleans()):
            entries.append(b.draw(st.integers(-dim, dim - 1)))
        else:
            start = b.draw(st.integers(0, dim - 1))
            entries.append(slice(start, b.draw(st.integers(start + 1, dim))))
    return node[tuple(entries)]


def _concatenate(b: Builder, node):
    axes = [i for i, d in enumerate(node.shape) if isinstance(d, int)]
    if not axes:
        return None
    axis = b.draw(st.sampled_from(axes))
    other = b.pick(lambda n: n.ndim == node.ndim and all(
        d == e for i, (d, e) in enumerate(zip(n.shape, node.shape)) if i != axis)
        and isinstance(n.shape[axis], int))
    return sg.concatenate([node, other, node], axis=axis)


def linalg(b: Builder):
    kind = b.draw(st.sampled_from(["matmul", "outer", "trace", "norm", "logdet", "det",
                                   "inv", "solve"]))
    if kind == "matmul":
        left = b.pick(lambda n: n.ndim in (1, 2))
        return left @ b.pick(lambda n: n.ndim in (1, 2) and n.shape[0] == left.shape[-1])
    if kind == "outer":
        return sg.outer(b.pick(lambda n: n.ndim == 1), b.pick(lambda n: n.ndim == 1))
    if kind == "norm":
        return sg.norm(b.pick(lambda n: n.ndim >= 1))
    matrix = b.pick(lambda n: n.ndim == 2)
    if kind == "trace":
        return sg.trace(matrix @ matrix.T)
    spd = b.spd(matrix)
    if kind == "solve":
        rhs = b.pick(lambda n: n.ndim in (1, 2) and n.shape[0] == spd.shape[0])
        return sg.solve(spd, rhs)
    return {"logdet": sg.logdet, "det": sg.det, "inv": sg.inv}[kind](spd)


def matrix_algebra(b: Builder):
    """Sums, scalings, products, transposes, inverses and traces of matrices."""
    kind = b.draw(st.sampled_from(["add", "scale", "matmul", "transpose", "inv", "trace",
                                   "logdet", "det"]))
    left = b.pick(lambda n: n.ndim == 2)
    if kind == "add":
        right = b.pick(lambda n: n.shape == left.shape)
        return left - right if b.draw(st.booleans()) else left + right
    if kind == "scale":
        return b.pick(lambda n: n.ndim == 0) * left
    if kind == "matmul":
        return left @ b.pick(lambda n: n.ndim == 2 and n.shape[0] == left.shape[1])
    if kind == "transpose":
        return left.T
    if kind == "trace":
        return sg.trace(left @ left.T)
    return {"logdet": sg.logdet, "det": sg.det, "inv": sg.inv}[kind](b.spd(left))


RULES = {"all": [unary, unary, positive_domain, binary, binary, with_constant, reduction,
                 reshape, structure, linalg, mixed_dtypes],
         "scalar": [unary, positive_domain, binary, with_constant],
         "matrix": [matrix_algebra]}
LEAVES = {"all": base_inputs, "scalar": scalar_inputs, "matrix": matrix_inputs}


def _grow(b: Builder, steps: int, rules: list) -> list:
    built = []
    for _ in range(steps):
        rule = b.draw(st.sampled_from(rules), label="rule")
        try:
            node = rule(b)
        except NoOperand:
            node = None
        if node is not None and node.dtype == "float64" and node not in b.pool:
            b.pool.append(node)
            built.append(node)
    return built


@st.composite
def graphs(draw_, kind: str = "all", max_steps: int = 12):
    """A :class:`Case`: a random graph whose output depends on a float input.

    ``kind`` picks leaves and rules: ``"all"`` (every op family), ``"scalar"``
    or ``"matrix"`` (the subsets a SymPy round trip must cover).
    """
    b = Builder(draw_, LEAVES[kind]())
    built = _grow(b, draw_(st.integers(1, max_steps), label="steps"), RULES[kind])
    out = built[-1] if built else sg.sin(b.pool[0])
    if not any(n.dtype == "float64" for n in inputs_of([out])):
        out = out * sg.sin(b.pool[0])
    sizes = {"n": draw_(st.integers(0, 3), label="n")}  # 0: empty arrays
    return Case(out, built, sizes, draw_(st.integers(0, 2**32 - 1), label="seed"))


def well_conditioned(env: dict) -> bool:
    """Whether evaluated nodes stay finite, moderate, and away from every kink
    (an argument within ``KINK`` of a kink, but not exactly on it)."""
    for node, value in env.items():
        value = np.asarray(value)
        if value.dtype.kind == "f" and (not np.all(np.isfinite(value))
                                         or value.size and np.max(np.abs(value)) > LARGE):
            return False
        if _kink_distance(node, env) < KINK:
            return False
    return True


def _kink_distance(node, env) -> float:
    name = node.op.name
    args = [np.asarray(env[o], dtype=float) for o in node.operands]
    if name in ("abs", "relu", "sign"):
        gap = args[0]
    elif name in ("maximum", "minimum", "greater", "greater_equal", "less", "less_equal"):
        gap = args[0] - args[1]
    elif name == "norm":
        gap = np.asarray(np.linalg.norm(args[0]))
    else:
        return np.inf
    # An exact tie is structural (max(t, t), relu of an exact zero): both sides
    # agree near it, so the function is smooth there and the rules handle it.
    gap = np.abs(gap[gap != 0])
    return float(np.min(gap)) if gap.size else np.inf


def inputs_for(nodes) -> list:
    """The inputs ``nodes`` depend on, in name order (a stable signature)."""
    return sorted(inputs_of(list(nodes)), key=lambda n: n.name)


def float_inputs(nodes) -> list:
    return [n for n in nodes if n.dtype == "float64"]


# The eager reference: every node evaluated on its own -----------------------------

_SINGLE: dict = {}


def eager(outputs, inputs, values, sizes: dict) -> dict:
    """{node: value} for everything ``outputs`` depend on, one node at a time.

    Each node is rebuilt on fresh placeholder inputs and compiled alone, so
    scheduling, naming, sharing and constant hoisting of the full-graph
    code generator play no part in the reference values.
    """
    env = {node: np.asarray(value) for node, value in zip(inputs, values)}
    dims = tuple(sorted(sizes))
    carrier = np.empty(tuple(sizes[d] for d in dims))
    for node in toposort(list(outputs)):
        if node in env:
            continue
        if node.op.name == "constant":
            env[node] = node.value
            continue
        fn = _single_node_function(node, dims)
        env[node] = np.asarray(fn(*[env[o] for o in node.operands], carrier))
    return env


def _single_node_function(node, dims: tuple):
    placeholders = [sg.tensor(f"operand{i}", o.shape, o.dtype) for i, o in enumerate(node.operands)]
    single = node.op(*placeholders, **node.attrs)
    fn = _SINGLE.get(single)
    if fn is None:
        assert single.op is node.op, f"rebuilding {node!r} on placeholders gave {single!r}"
        if len(_SINGLE) > 5000:
            _SINGLE.clear()
        # The carrier input binds every named dimension the node's attrs may use.
        fn = _SINGLE[single] = sg.function(placeholders + [sg.tensor("dims", dims)], single)
    return fn


def sample_dtype(spec) -> str:
    return "bool" if spec.domain == "bool" else "int64" if spec.domain.startswith("labels") \
        else "float64"


def sample_nodes(op, scalars=False):
    """A node of ``op`` for each sample (operands as inputs named a0, a1, ...); with
    ``scalars``, an elementwise op of 0-d operands too."""
    samples = op.samples()
    for sample in samples:
        operands = [sg.tensor(f"a{i}", spec.shape, sample_dtype(spec))
                    for i, spec in enumerate(sample.operands)]
        yield op(*operands, **sample.attrs)
    if scalars and op.elementwise:
        first = samples[0]
        yield op(*[sg.scalar(f"a{i}", sample_dtype(spec)) for i, spec in enumerate(first.operands)],
                 **first.attrs)
