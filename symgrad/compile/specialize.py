"""Compile-time lowerings: cheaper forms of the same values, after differentiation.

The graph a user writes, and its gradient, say *what* to compute; these rules
choose *how*, for the compiler only (printing, ``simplify`` and ``grad`` never
see them). Each rule maps a node to a replacement or ``None``:

* **Shared Cholesky factor.** ``logdet(M)``, ``solve(M, B)`` and ``inv(M)``
  of a matrix the graph proves symmetric PSD (``A @ A.T``, ``X.T @ X + λI``,
  ...: :func:`symgrad.analysis.properties.is_psd`) use one factorization,
  ``spd_factor(M)``, an interned node shared by every consumer: the
  log-determinant becomes ``2 Σ log diag L``, the solve a Cholesky solve and
  the inverse LAPACK's ``potri`` (SciPy's LAPACK when installed, else NumPy).
  A matrix that is PSD but numerically singular has no factor; its consumers
  fall back to ``slogdet`` and LU at run time.
* **Labels index instead of a one_hot matrix.** ``sum(one_hot(y) * X, axis=-1)``
  becomes ``pick(X, y)`` (``X[..., y]``), and ``X ± one_hot(y)`` /
  ``one_hot(y) - X`` become ``one_hot_add`` (a copy of ``±X`` with ``±1``
  added at the labels). Both index through one ``label_rows(y)`` node, so
  one_hot's range check runs once per label array. Where ``X`` holds
  ``-inf`` (a log-probability underflowed) the indexed form gives the picked
  entry, where ``0 * -inf`` made the one_hot product NaN.
* **Sums of scatters in one buffer.** The gradient of many indexed reads of
  one array (``sum(x[i] * x[i])`` over all ``i``) is a chain of adds of
  scatters, each a whole zero array: quadratic work. A chain with at least
  ``MIN_SCATTERS`` scatter terms of its shape becomes one ``scatter_sum`` (the
  other terms added to it).
* **Softmax from log-softmax.** ``softmax(z)`` next to ``log_softmax(z)``
  (cross-entropy and its gradient) is ``exp(log_softmax(z))``: one ``exp``
  instead of a second max/exp/sum/divide pass.
* **A derivative's factors in the order that frees them.** ``g * (s * f(s))``
  (sigmoid's backward pass: ``g * (s * (1 - s))``, ``f`` elementwise in ``s``
  and scalars; arrays only) is ``(g * s) * f(s)`` when the inner product has no other reader:
  ``s`` is then read last by ``f(s)``, which the memory plan writes into ``s``'s
  own buffer, so no third array of the layer's shape is live (MLP at batch 1024:
  one 2 MB buffer fewer; the same three passes). Rounding differs by an ulp.
* **A scalar factor on the smallest array.** For an op L linear in its operand
  X (``Op.linear_in``: matmul, sums, transposes, products, ...) and a 0-d c,
  ``c * L(X, Y) = L(c * X, Y)`` (linearity: L(cX, Y) = c L(X, Y)). The
  algebraic phase pulls scalars *out* (one canonical form to match), so the
  gradient of a mean, ``-1/b``, multiplies each product of the softmax
  residual R: ``c (sᵀ R)``, ``c (R Wᵀ)``, ``c Σᵢ Rᵢ`` (three passes, over
  (n, 10), (b, n) and (10,) arrays). Pushed in, the three read one ``c R``
  (one pass over (b, 10)). A product moves its scalar when the operand is
  never larger than the product at any sizes (``ir.shapes.never_larger``)
  and either strictly smaller somewhere or shared with another product of the
  same scalar; the others join such a shared ``c X`` (free). So no call
  multiplies more entries than before. Rounding differs by an ulp.
"""
from __future__ import annotations

from ..ops import elementwise, linalg as linalg_ops, reductions, structure
from ..rewrite.engine import Phase, rebuild, register, replace
from .memory_plan import statement_order
from ..analysis.properties import is_psd
from ..ir.leaves import constant
from ..ir.shapes import never_larger

SPD_LOWERED = {linalg_ops.logdet: linalg_ops.spd_logdet, linalg_ops.solve: linalg_ops.spd_solve,
               linalg_ops.inv: linalg_ops.spd_inv}


def lower(outputs: list, order: list, backend: str = "numpy") -> tuple:
    """(``outputs`` with every rule valid for ``backend`` applied, their toposort);
    ``order`` (the toposort of ``outputs``) is returned unchanged when no rule applies."""
    ops = {node.op for node in order}
    if structure.scatter in ops and _valid(SCATTER_SUM_PORTABLE, backend):
        outputs, order = _accumulate_scatters(outputs, order)
    outputs, order = _apply_rules(outputs, order, ops, backend)
    if elementwise.multiply in ops and _valid(SCALAR_PUSH_PORTABLE, backend):
        outputs, order = _push_scalars(outputs, order)
    return outputs, order


def _apply_rules(outputs: list, order: list, ops: set, backend: str) -> tuple:
    """(outputs, order) after one rebuild applying the :data:`RULES` valid here."""
    rules = {op: rule for op, (rule, needs, portable) in RULES.items()
             if op in ops and needs in ops and _valid(portable, backend)}
    if not rules:
        return outputs, order
    present = GraphMembers(order, outputs)

    def rewrite(node):
        rule = rules.get(node.op)
        return None if rule is None else rule(node, present)

    new = rebuild(order, rewrite=rewrite)
    if not new:
        return outputs, order
    outputs = [new.get(o, o) for o in outputs]
    return outputs, statement_order(outputs)


def _scaled_linear(node, present) -> tuple | None:
    """(c, Y, [(i, X)]) for ``node = c * Y`` (c 0-d, Y an array read only here, float64)
    with the array operands X of Y at the positions Y's op is linear in (``Op.linear_in``)."""
    if node.op is not elementwise.multiply or node.dtype != "float64" or not node.shape:
        return None
    c, y = node.operands if node.operands[0].ndim == 0 else node.operands[::-1]
    if c.ndim or c.dtype != "float64" or y.dtype != "float64" or present.uses(y) != 1:
        return None
    linear = [(i, y.operands[i]) for i in y.op.linear_in
              if y.operands[i].shape and y.operands[i].dtype == "float64" and y.operands[i] is not c]
    return (c, y, linear) if linear else None


def _push_scalars(outputs: list, order: list) -> tuple:
    """Each ``c * L(X, ...)`` whose scalar multiply is cheaper on the operand, as
    ``L(c * X, ...)`` (see the module docstring); ``c * X`` is one node, so every
    product pushed into the same X shares one multiply."""
    present = GraphMembers(order, outputs)
    scaled, mapping = {}, {}
    for node in order:
        found = _scaled_linear(node, present)
        if found is not None:
            scaled[node] = found
        elif _signed_product(node, present):
            mapping[node] = _scaled(*node.operands)
    groups: dict = {}  # (c, X) -> the products c * L(X, ...) that could share c * X
    for node, (c, y, linear) in scaled.items():
        for _, x in linear:
            groups.setdefault((c, x), []).append(node)
    chosen = _chosen_operands(scaled, groups)
    if not chosen and not mapping:
        return outputs, order
    for node, i in chosen.items():
        c, y, _ = scaled[node]
        operands = list(y.operands)
        operands[i] = _scaled(c, operands[i])
        mapping[node] = y.op(*operands, **y.attrs)
    outputs = replace(outputs, mapping)
    return outputs, statement_order(outputs)


def _signed_product(node, present) -> bool:
    """``c * (-Z)``: a 0-d c (first, the canonical order) and a negation read only here."""
    if node.op is not elementwise.multiply or node.dtype != "float64" or not node.shape:
        return False
    c, y = node.operands
    return (c.ndim == 0 and c.dtype == "float64" and y.op is elementwise.negative
            and y.shape == node.shape and present.uses(y) == 1)


def _scaled(c, x):
    """``c * x``, with a negation of ``x`` moved into the 0-d factor: ``c (-z) = (-c) z``
    (one pass over z fewer: the sign of a 0-d value costs nothing)."""
    if x.op is elementwise.negative and x.shape:
        return elementwise.multiply(_negated(c), x.operands[0])
    return elementwise.multiply(c, x)


def _negated(c):
    """``-c`` for a 0-d c; a constant numerator takes the sign: ``-(k / d) = (-k) / d``
    (a mean's ``-(-1 / b)`` reads, and runs, as ``1 / b``)."""
    k = c.operands[0] if c.op is elementwise.divide else None
    if k is not None and k.op is structure.constant and k.dtype == "float64":
        return elementwise.divide(constant(-k.value), c.operands[1])
    return elementwise.negative(c)


def _chosen_operands(scaled: dict, groups: dict) -> dict:
    """{product: the operand position its scalar moves to}. A product moves its scalar
    on its own when the operand is never larger than the product and either strictly
    smaller somewhere or shared with another product of the same scalar (the largest
    such group, then the smallest operand); the others join a group one of those
    formed (their multiply is then free). So no call does more multiplications."""
    chosen, active = {}, set()
    for node, (c, y, linear) in scaled.items():
        own = [(i, x) for i, x in linear if never_larger(x.shape, y.shape)
               and (len(groups[(c, x)]) > 1 or not never_larger(y.shape, x.shape))]
        if own:
            i, x = min(own, key=lambda entry: (-len(groups[(c, entry[1])]), not all(
                never_larger(entry[1].shape, other.shape) for _, other in own)))
            chosen[node] = i
            active.add((c, x))
    for node, (c, y, linear) in scaled.items():
        if node not in chosen:
            joined = [i for i, x in linear if (c, x) in active]
            if joined:
                chosen[node] = joined[0]
    return chosen


#: Fewest scatter terms in a chain of adds that ``scatter_sum`` replaces.
MIN_SCATTERS = 3


def _accumulate_scatters(outputs: list, order: list) -> tuple:
    """Each chain of adds holding ``MIN_SCATTERS``+ scatters of its shape as one
    ``scatter_sum`` plus the chain's other terms (see the module docstring). A chain
    inside another chain's other terms is found on the next round, in the graph as
    rebuilt (a replacement is built from the nodes as they were)."""
    while True:
        mapping = _scatter_chains(outputs, order)
        if not mapping:
            return outputs, order
        outputs = replace(outputs, mapping)
        order = statement_order(outputs)


def _scatter_chains(outputs: list, order: list) -> dict:
    """chain top -> its ``scatter_sum`` form, for the chains of ``order``."""
    uses = GraphMembers(order, outputs).uses
    mapping, absorbed = {}, set()
    for node in reversed(order):  # a chain's top before its inner adds
        if node.op is not elementwise.add or node in absorbed or node.dtype != "float64":
            continue
        scatters, others, inner = _chain_terms(node, uses)
        if len(scatters) >= MIN_SCATTERS:
            absorbed.update(inner)
            total = structure.scatter_sum(*(s.operands[0] for s in scatters), shape=node.shape,
                                          indices=tuple(s.attrs["index"] for s in scatters))
            for term in others:
                total = total + term
            mapping[node] = total
    return mapping


def _chain_terms(top, uses) -> tuple:
    """(scatter terms, other terms, inner adds) of the add chain under ``top``: inner
    adds of the same shape read only by the chain (``uses(node) == 1``) are flattened
    (iteratively)."""
    scatters, others, inner, stack = [], [], [], [top]
    while stack:
        node = stack.pop()
        if node is top or (node.op is elementwise.add and node.shape == top.shape
                           and uses(node) == 1):
            if node is not top:
                inner.append(node)
            stack.extend(reversed(node.operands))
        elif (node.op is structure.scatter and node.shape == top.shape
              and node.operands[0].dtype == "float64"):
            scatters.append(node)
        else:
            others.append(node)
    return scatters, others, inner


class GraphMembers:
    """``node in members`` for the nodes of ``order``, the set built on first use;
    ``uses(node)``: how many operand slots (and outputs) of the graph read it."""

    def __init__(self, order, outputs=()):
        self.order, self.outputs, self.nodes, self.readers = order, outputs, None, None

    def __contains__(self, node) -> bool:
        if self.nodes is None:
            self.nodes = set(self.order)
        return node in self.nodes

    def uses(self, node) -> int:
        if self.readers is None:
            self.readers = {}
            for reader in list(self.order) + [None]:
                for operand in (reader.operands if reader is not None else self.outputs):
                    self.readers[operand] = self.readers.get(operand, 0) + 1
        return self.readers.get(node, 0)


def _spd(node, present):
    matrix = node.operands[0]
    if not is_psd(matrix):
        return None
    return SPD_LOWERED[node.op](linalg_ops.spd_factor(matrix), *node.operands)


def _one_hot_labels(node, like):
    """``label_rows`` of ``node``'s labels when it is a one_hot of ``like``'s shape."""
    if node.op is structure.one_hot and node.shape == like.shape:
        return structure.label_rows(node.operands[0], k=node.attrs["k"])
    return None


def _pick(node, present):
    """``sum(one_hot(y) * X, axis=last)`` -> ``pick(X, y)``."""
    product = node.operands[0]
    if (product.op is not elementwise.multiply or node.attrs["keepdims"]
            or node.attrs["axis"] != (product.ndim - 1,)):
        return None
    a, b = product.operands
    for one_hot, other in ((a, b), (b, a)):
        rows = _one_hot_labels(one_hot, product)
        if rows is not None and other.shape == product.shape:
            return structure.pick(other, rows)
    return None


def _one_hot_add(node, present):
    """``X + one_hot(y)``, ``X - one_hot(y)``, ``one_hot(y) ± X`` -> ``one_hot_add``, a
    sign kept outside: ``one_hot(y) - X = -(X - one_hot(y))`` and ``-E ± one_hot(y) =
    -(E ∓ one_hot(y))`` (as many passes; a 0-d factor applied next absorbs the sign,
    see :func:`_scaled`)."""
    a, b = node.operands
    sign = -1.0 if node.op is elementwise.subtract else 1.0
    rows = _one_hot_labels(b, a)
    if rows is not None:
        x, negated = a, False
    else:
        rows = _one_hot_labels(a, b)
        if rows is None:
            return None
        x, negated, sign = b, sign < 0, -1.0 if sign < 0 else 1.0
    if x.op is elementwise.negative:
        x, negated, sign = x.operands[0], not negated, -sign
    result = structure.one_hot_add(x, rows, sign=sign)
    return elementwise.negative(result) if negated else result


def _softmax(node, present):
    """``softmax(z)`` -> ``exp(log_softmax(z))`` when the graph has the latter."""
    log_softmax = reductions.log_softmax(node.operands[0], **node.attrs)
    return elementwise.exp(log_softmax) if log_softmax in present else None


def _reassociate(node, present):
    """``g * (s * f(s))`` -> ``(g * s) * f(s)`` (see the module docstring)."""
    if node.dtype != "float64" or not node.shape:  # arrays only: a scalar has no buffer
        return None
    for g, inner in (node.operands, node.operands[::-1]):
        if (inner.op is elementwise.multiply and inner.shape == node.shape == g.shape
                and inner is not g and present.uses(inner) == 1):
            for s, f in (inner.operands, inner.operands[::-1]):
                if (s.shape == node.shape and s is not g and f.op.elementwise and s in f.operands
                        and all(o is s or not o.shape for o in f.operands)):
                    return elementwise.multiply(elementwise.multiply(g, s), f)
    return None


#: Where a rule is valid: the shared Cholesky factor (SciPy's LAPACK), label indexing
#: (helpers that range-check the labels, a branch on their values) and sums of scatters
#: (one buffer written in place) need NumPy's runtime; softmax from log-softmax is
#: portable, valid on every backend (symgrad.compile.portable).
NUMPY_ONLY, PORTABLE = False, True
SCATTER_SUM_PORTABLE = NUMPY_ONLY
SCALAR_PUSH_PORTABLE = PORTABLE


def _valid(portable: bool, backend: str) -> bool:
    """Whether a rule (``portable`` or NumPy-only) applies on ``backend``."""
    return portable or backend == "numpy"


#: op -> (rule, an op the graph must contain for the rule to ever apply, portable)
RULES = {linalg_ops.logdet: (_spd, linalg_ops.logdet, NUMPY_ONLY),
         linalg_ops.solve: (_spd, linalg_ops.solve, NUMPY_ONLY),
         linalg_ops.inv: (_spd, linalg_ops.inv, NUMPY_ONLY),
         reductions.sum_: (_pick, structure.one_hot, NUMPY_ONLY),
         elementwise.add: (_one_hot_add, structure.one_hot, NUMPY_ONLY),
         elementwise.subtract: (_one_hot_add, structure.one_hot, NUMPY_ONLY),
         reductions.softmax: (_softmax, reductions.log_softmax, PORTABLE),
         elementwise.multiply: (_reassociate, elementwise.multiply, NUMPY_ONLY)}

# Runs after loop batching, last: its softmax rule reverses stability's
# exp(log_softmax(z)) -> softmax(z), so it must come after that phase (rewrite.engine).
# No rule changes Python float code: each needs an op without a ``scalar`` lowering
# (logdet, solve, inv, sum, one_hot, softmax), or an array (``_reassociate``).
PHASE = register(Phase("specialization", run=lower, undoes=("stability",), per_backend=True,
                       scalar_graphs=False))
