"""Symbol-to-symbol differentiation: reverse mode (grad), forward mode (jvp) and
their compositions (hvp, jacobian, hessian).

Both sweeps walk the topologically ordered graph once and call each op's rule,
which *builds nodes*; the derivative is therefore an ordinary graph that can be
printed, simplified, compiled and differentiated again.
"""
from __future__ import annotations

import itertools
import weakref

from ..ops import reductions
from ..ir.graph import (DISPLAY_NAMES, Node, as_dtype, as_node_list, describe, gc_paused, inputs_of,
                        toposort)
from ..ir.leaves import constant
from .jacobians import forward_jacobian
from ..ops import add_all, zeros
from ..ops.structure import constant as constant_op, input_, stack_rows, unbroadcast
from ..analysis.properties import facts
from ..ir.shapes import format_shape, is_concrete

_LEAF_OPS = (constant_op, input_)
#: A node's dtype is NumPy's one instance of it: compared by identity in the sweeps'
#: loops (comparing with the str "float64" parses it every time).
_FLOAT64 = as_dtype("float64")


#: Each result ``grad``/``jvp``/``jacobian`` built -> the sets of nodes its calls found
#: (one per call that returned it: the graph the call differentiated). What a call
#: built beneath a result is what lies beneath it outside that set; only drawings ask
#: (:func:`derivative_nodes` walks down then), so no call walks what it built. Keys are
#: weak, so an entry goes with its result; one set serves all results of a call, and
#: keeps the differentiated graph alive while one of them lives.
_BUILT_BENEATH: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def derivative_nodes(roots) -> set:
    """The nodes a drawing of ``roots`` marks as derivatives: each root that
    ``grad``/``jvp``/``jacobian`` built, and the nodes that call built beneath
    it. A property of the graphs those calls return: the marks of a graph do not
    depend on what else was differentiated before or after it."""
    marked, seen = set(), {}
    for root in roots:
        for before in _BUILT_BENEATH.get(root, ()):
            marked.add(root)
            # a node a call built has only operands older than the call or built by it
            done = seen.setdefault(id(before), set())
            stack = [o for o in root.operands if o not in before and o not in done]
            while stack:
                node = stack.pop()
                if node not in done:
                    done.add(node)
                    stack.extend(o for o in node.operands if o not in before and o not in done)
            marked |= done
    return marked


def _check_differentiable(nodes, what: str):
    for node in nodes:
        if node.dtype is not _FLOAT64 and node.dtype != "float64":  # (identity: no str parsed)
            raise TypeError(f"cannot differentiate: {what} {describe(node)} has dtype "
                            f"{node.dtype}; only float64 nodes have derivatives")


def _depending_on(order, sources) -> set:
    """Nodes of ``order`` that depend on (or are) one of ``sources``."""
    found = set(sources)
    for node in order:
        if node not in found:
            for operand in node.operands:
                if operand in found:
                    found.add(node)
                    break
    return found


def _mark(before: set, results) -> None:
    """Record, for each result not in ``before`` (the graph the call differentiated,
    never changed afterwards), that the call built it and the nodes beneath it not in
    ``before`` (see :func:`derivative_nodes`)."""
    for result in dict.fromkeys(r for r in results if r is not None and r not in before):
        _BUILT_BENEATH[result] = _BUILT_BENEATH.get(result, ()) + (before,)


def grad(cost, wrt):
    """Gradient node(s) of the scalar ``cost`` with respect to ``wrt``.

    ``wrt`` is a node or a list/tuple of nodes (inputs or intermediate nodes);
    each result has the shape of its ``wrt``. Contributions from several paths
    are summed; a ``wrt`` that ``cost`` does not depend on gets zeros.
    """
    if not isinstance(cost, Node):
        raise TypeError(f"cost must be a symgrad node, got {type(cost).__name__}")
    if cost.shape != ():
        raise ValueError(f"grad needs a scalar cost, but {describe(cost)} has shape "
                         f"{format_shape(cost.shape)}; reduce it (sg.sum) or use sg.jacobian")
    _check_differentiable([cost], "cost")
    wrts, single = as_node_list(wrt, "wrt")
    _check_differentiable(wrts, "wrt")
    with gc_paused():  # one walk: cost's nodes first, so reversed it serves the sweep
        order = toposort([cost] + wrts)
        leaves = inputs_of(order=order)
        _check_in_graph(cost, wrts, order)
        before = set(order)
        relevant = _depending_on(order, wrts)
        adjoints = _reverse_sweep(order, relevant, {cost: constant(1.0)})
        results = [adjoints.get(w) if w in relevant else None for w in wrts]
        results = [r if r is not None else zeros(w.shape) for r, w in zip(results, wrts)]
        results = [_symmetrized(r, w) for r, w in zip(results, wrts)]
        _mark(before, results)
        _name_gradients(adjoints, leaves, wrts, results)
    return results[0] if single else results


def _name_gradients(adjoints: dict, leaves, wrts, results) -> None:
    """``d_<name>`` as the display name of the gradient of every named node (the
    inputs, and nodes named with ``node.named``), unless it has one: what generated
    source calls the gradient variables (``d_W1``, ``d_h1``). Constants and inputs
    are never renamed."""
    named = list(zip(wrts, results)) + [(node, adjoints.get(node)) for node in leaves]
    named += [(node, adjoints.get(node)) for node in list(DISPLAY_NAMES.keys())]
    names: dict = {}  # gradient -> its name: the first pair's (the weak table updated once)
    for node, gradient in dict.fromkeys(named):  # a pair twice (a wrt is a leaf): once
        if gradient is None or gradient.op in _LEAF_OPS or gradient in names:
            continue
        label = node.display_name
        if label is not None and gradient not in DISPLAY_NAMES:
            names[gradient] = f"d_{label}"
    DISPLAY_NAMES.update(names)


def _symmetrized(gradient: Node, wrt: Node) -> Node:
    """The gradient wrt a declared-symmetric input: (G + Gᵀ) / 2, the gradient on the
    space of symmetric matrices (its inner product with a symmetric direction is the
    directional derivative); not the Cookbook's G + Gᵀ - diag(G), which is not."""
    if wrt.attrs.get("structure") is None or "symmetric" in facts(gradient):
        return gradient
    return 0.5 * (gradient + gradient.T)


def _check_in_graph(cost, wrts, order) -> None:
    """A ``wrt`` that is not an input must be a node of ``cost``'s graph (API.md: misuse
    raises); an input the cost does not depend on gets zeros. ``order`` is the toposort
    of ``[cost] + wrts``, whose prefix up to ``cost`` is ``cost``'s graph."""
    graph = None
    for w in wrts:
        if w.op is not input_ and w is not cost:  # not an input (those get zeros)
            graph = set(order[:order.index(cost) + 1]) if graph is None else graph
            if w not in graph:
                raise ValueError(f"wrt {describe(w)} is not a node of the cost's graph "
                                 f"(cost: {describe(cost)}); differentiate with respect to "
                                 "inputs or nodes the cost is built from")


def _reverse_sweep(order, relevant, adjoints) -> dict:
    """Adjoint of every relevant node, consumers before producers.

    ``adjoints`` starts with the seed; a node's adjoint is the running sum of
    the contributions its consumers sent, in the order they came (the left
    fold ``add_all`` would build, without a list per node)."""
    for node in reversed(order):
        g = adjoints.get(node)
        if g is None or not node.operands or not node.op.differentiable or node not in relevant:
            continue
        send_adjoints(node, g, adjoints, relevant)
    return adjoints


def send_adjoints(node: Node, g: Node, adjoints: dict, relevant) -> None:
    """The reverse sweep's step at ``node``, whose adjoint is ``g``: add each
    float64 operand's contribution (the op's VJP rule, unbroadcast for an
    elementwise op) to its running sum in ``adjoints``, for the operands in
    ``relevant``. An operand used twice (``x * x``) gets both. ``explain`` takes
    its local derivatives from this same step."""
    operands, op = node.operands, node.op
    if node.attrs:
        rules = op.vjp(g, node, *operands, **node.attrs)
    else:  # no empty keyword dict built per node
        rules = op.vjp(g, node, *operands)
    for operand, rule in zip(operands, rules):
        if rule is None or operand not in relevant or operand.dtype is not _FLOAT64:
            continue
        if op.elementwise and rule.shape != operand.shape:
            rule = unbroadcast(rule, operand.shape)
        earlier = adjoints.get(operand)
        adjoints[operand] = rule if earlier is None else earlier + rule


def jvp(y, x, v):
    """Forward-mode directional derivative of ``y`` along ``v`` at ``x``.

    ``x`` and ``v`` are a node each or matching lists; ``y`` a node or a list.
    Returns node(s) shaped like ``y``.
    """
    ys, single = as_node_list(y, "y")
    xs, x_single = as_node_list(x, "x")
    vs, _ = as_node_list(v, "v") if not x_single else ([_as_tangent(v, xs[0])], True)
    if len(vs) != len(xs):
        raise ValueError(f"jvp got {len(xs)} points but {len(vs)} directions")
    vs = [_as_tangent(t, point) for t, point in zip(vs, xs)]
    _check_differentiable(xs, "x")
    inputs_of(ys + xs + vs)
    order = toposort(ys)
    before = set(order)
    with gc_paused():
        tangents = _forward_sweep(order, dict(zip(xs, vs)))
    results = [tangents.get(node) for node in ys]
    results = [t if t is not None else zeros(node.shape) for t, node in zip(results, ys)]
    _mark(before, results)
    return results[0] if single else results


def _as_tangent(v, point: Node) -> Node:
    from ..ir.leaves import as_node
    v = as_node(v)
    if v.shape != point.shape:
        raise ValueError(f"direction {describe(v)} must have the shape of {describe(point)}")
    return v


def _forward_sweep(order, seeds: dict) -> dict:
    tangents = dict(seeds)
    for node in order:
        if node in seeds or not node.operands or not node.op.differentiable:
            continue
        ins = [tangents.get(o) if o.dtype is _FLOAT64 else None for o in node.operands]
        if all(t is None for t in ins):
            continue
        out = node.op.jvp(ins, node, *node.operands, **node.attrs)
        if out is not None:
            tangents[node] = out
    return tangents


def hvp(cost, wrt, v):
    """Hessian-vector product(s) H v, forward-over-reverse: the JVP of the gradient.

    ``v`` has the shape of ``wrt`` (matching lists allowed, like ``grad``).
    Never builds the Hessian. Forward-over-reverse was measured against
    reverse-over-reverse (:func:`hvp_reverse`) in ``benchmarks/hvp_cost.py``;
    see docs/higher_order.md for the numbers and the choice.
    """
    wrts, vs, single = _hvp_arguments(wrt, v)
    grads = grad(cost, wrts)
    result = jvp(grads, wrts, vs)
    return result[0] if single else result


def hvp_reverse(cost, wrt, v):
    """The same product, reverse-over-reverse: ``grad(sum_i <grad_i, v_i>, wrt)``.

    Kept for comparison (and as an independent check in tests): its second
    reverse sweep walks the first one's nodes as well as the forward graph.
    """
    wrts, vs, single = _hvp_arguments(wrt, v)
    grads = grad(cost, wrts)
    inner = add_all([_sum_all(g * t) for g, t in zip(grads, vs)], ())
    result = grad(inner, wrts)
    return result[0] if single else result


def _hvp_arguments(wrt, v) -> tuple:
    wrts, single = as_node_list(wrt, "wrt")
    vs = [v] if single else list(v) if isinstance(v, (list, tuple)) else None
    if vs is None or len(vs) != len(wrts):
        raise ValueError(f"hvp got {len(wrts)} wrt nodes but "
                         f"{len(vs) if vs is not None else 'a single'} vector(s)")
    return wrts, [_as_tangent(t, w) for t, w in zip(vs, wrts)], single


def _sum_all(node: Node) -> Node:
    return reductions.sum_(node) if node.ndim else node


def jacobian(y, x):
    """Node of shape ``y.shape + x.shape`` holding ``dy[i...]/dx[j...]``.

    Built by forward accumulation of whole Jacobians (``symgrad.autodiff.jacobians``):
    a fixed number of tensor ops whatever the sizes, and closed forms such as
    ``M.T + M`` for the Hessian of ``x @ M @ x``. Works for named dimensions
    when ``x`` is a vector. Only when an op on the way has no Jacobian rule
    does it fall back to one reverse pass per entry of ``y`` (concrete shapes).
    """
    if not isinstance(y, Node) or not isinstance(x, Node):
        raise TypeError("jacobian(y, x) takes two symgrad nodes")
    _check_differentiable([y, x], "jacobian")
    inputs_of([y, x])
    order = toposort([y])
    before = set(order)
    relevant = _depending_on(order, [x])
    result = forward_jacobian(order, relevant, x, y)
    if result is None:
        result = _jacobian_by_rows(y, x, order, relevant)
    _mark(before, [result])
    return result


def _jacobian_by_rows(y, x, order, relevant):
    """The fallback: one reverse pass per entry of ``y``, rows stacked."""
    if y.shape == ():
        return grad(y, x)
    if not (is_concrete(y.shape) and is_concrete(x.shape)):
        missing = sorted({n.op.name for n in order if n in relevant and n.operands
                          and n.op.jacobian is None and not n.op.elementwise})
        raise ValueError(f"jacobian of {describe(y)} with respect to {describe(x)} needs "
                         f"concrete shapes: the ops {missing} have no whole-Jacobian rule, "
                         f"so it is built entry by entry (declare the dimensions as ints)")
    rows = [grad(y[index], x) for index in itertools.product(*map(range, y.shape))]
    if not rows:
        return zeros(y.shape + x.shape)
    return stack_rows(rows, y.shape + x.shape)


def hessian(cost, x):
    """Node of shape ``x.shape + x.shape``: the Jacobian of the gradient."""
    if not isinstance(cost, Node) or not isinstance(x, Node):
        raise TypeError("hessian(cost, x) takes two symgrad nodes")
    if cost.shape != ():
        raise ValueError(f"hessian needs a scalar cost, but {describe(cost)} has shape "
                         f"{format_shape(cost.shape)}")
    return jacobian(grad(cost, x), x)
