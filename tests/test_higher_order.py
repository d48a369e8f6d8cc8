"""jacobian / hessian / hvp: closed forms, finite differences, and cost structure."""
import importlib.util
import pathlib

import numpy as np
import pytest

import symgrad as sg
from symgrad.autodiff.sweeps import _depending_on, _jacobian_by_rows, hvp_reverse
from symgrad.ir.graph import toposort
from symgrad.check.numeric import central_difference

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("hvp_cost", ROOT / "benchmarks" / "hvp_cost.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(node, values: dict):
    inputs = [n for n in toposort([node]) if n.op.name == "input"]
    return sg.function(inputs, node)(**{n.name: values[n.name] for n in inputs})


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


# Closed forms --------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, "n"])
def test_hessian_of_quadratic_form_is_m_plus_mt(n, rng):
    x, M = sg.vector("x", n), sg.matrix("M", (n, n))
    H = sg.hessian(x @ M @ x, x)
    assert H is M.T + M or H is M + M.T
    m = rng.standard_normal((3, 3))
    np.testing.assert_allclose(evaluate(H, {"x": rng.standard_normal(3), "M": m}), m + m.T)


@pytest.mark.parametrize("n", [3, 40, "n"])
def test_hessian_of_logsumexp_is_diag_p_minus_ppt(n, rng):
    x = sg.vector("x", n)
    H = sg.hessian(sg.logsumexp(x), x)
    p = sg.softmax(x, axis=0)
    assert H is sg.diag(p) - sg.outer(p, p)
    size = n if isinstance(n, int) else 5
    value = rng.standard_normal(size)
    q = softmax(value)
    np.testing.assert_allclose(evaluate(H, {"x": value}), np.diag(q) - np.outer(q, q), atol=1e-14)


def test_hessian_cost_does_not_grow_with_size():
    counts = [sg.op_count(sg.hessian(sg.sum(sg.tanh(sg.vector("x", n)) ** 3), sg.vector("x", n)))
              for n in (2, 30)]
    assert counts[0] == counts[1] < 40


# Jacobians of every structural rule vs. the entry-by-entry fallback ---------------

def _cases():
    x, A, B = sg.vector("x", 3), sg.matrix("A", (2, 3)), sg.matrix("B", (3, 3))
    v = sg.vector("v", 3)
    return [
        (sg.sin(x) * v + x / (2.0 + x * x), x),
        (sg.maximum(x, v) - sg.where(x > 0.0, x, 0.5 * x), x),
        (A * x + sg.exp(A), A),                            # broadcasting
        (sg.sum(A * A, axis=0) + sg.sum(sg.mean(A, axis=1)), A),
        (sg.transpose(A) @ sg.tanh(A @ x), x),
        (A @ B @ x, B),                                    # matrix @ matrix, then @ vector
        (x @ B @ B, B),                                    # vector @ matrix depending on x
        (A @ B, A),
        (x @ x + x @ B @ v, x),
        (sg.reshape(A, (3, 2))[1:, 0] * 2.0, A),
        (sg.concatenate([x, sg.log1p(x * x)]), x),
        (sg.broadcast_to(x, (2, 3)) ** 2.0, x),
        (sg.softmax(A, axis=0), A),
        (sg.log_softmax(A, axis=1), A),
        (sg.logsumexp(A, axis=1) + sg.logsumexp(A), A),
        (sg.sigmoid(A)[:, 1], A),
        (sg.grad(sg.sum(sg.exp(A[1, :2]) * x[1:]), A), A),  # scatter
    ]


@pytest.mark.parametrize("case", range(len(_cases())))
def test_structural_jacobian_matches_rows_and_finite_differences(case, rng):
    y, x = _cases()[case]
    J = sg.jacobian(y, x)
    assert J.shape == y.shape + x.shape
    order = toposort([y])
    rows = _jacobian_by_rows(y, x, order, _depending_on(order, [x]))
    inputs = [n for n in order if n.op.name == "input"]
    values = {n.name: rng.standard_normal(n.shape) for n in inputs}
    got, expected = sg.function(inputs, [J, rows])(**values)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    # a random combination of the rows against central differences
    weights = rng.standard_normal(y.shape)
    f = sg.function(inputs, sg.sum(y * weights))
    k = inputs.index(x)
    fd = central_difference(f, [values[n.name] for n in inputs], k)
    np.testing.assert_allclose(np.tensordot(weights, got, axes=y.ndim), fd, rtol=1e-6, atol=1e-8)


def test_named_matrix_hessian_matches_the_concrete_one(rng):
    def cost(shape_x, shape_a):
        X, A = sg.matrix("X", shape_x), sg.matrix("A", shape_a)
        return X, A, sg.sum(sg.tanh(A @ X) * sg.exp(X)[0])

    X, A, named = cost(("n", "m"), ("k", "n"))
    H = sg.hessian(named, X)
    assert H.shape == ("n", "m", "n", "m")
    a, x = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    Xc, Ac, concrete = cost((3, 4), (2, 3))
    order = toposort([sg.grad(concrete, Xc)])
    rows = _jacobian_by_rows(order[-1], Xc, order, _depending_on(order, [Xc]))
    np.testing.assert_allclose(sg.function([A, X], H)(a, x), sg.function([Ac, Xc], rows)(a, x),
                               rtol=1e-10, atol=1e-12)


def test_jacobian_falls_back_for_ops_without_a_rule(rng):
    X = sg.matrix("X", (3, 3))
    y = sg.inv(X) @ sg.vector("b", 3)
    J = sg.jacobian(y, X)
    x0, b0 = rng.standard_normal((3, 3)) + 3 * np.eye(3), rng.standard_normal(3)
    got = evaluate(J, {"X": x0, "b": b0})
    f = sg.function([X, sg.vector("b", 3)], y)
    for i in range(3):
        fd = central_difference(lambda m: f(m, b0)[i], [x0], 0)
        np.testing.assert_allclose(got[i], fd, rtol=1e-6, atol=1e-8)


def test_named_jacobian_without_rule_explains_itself():
    X = sg.matrix("X", ("n", "n"))
    with pytest.raises(ValueError, match="solve"):  # a vector right-hand side declines
        sg.jacobian(sg.linalg.solve(X, sg.vector("b", "n")), X)


# The batched MLP loss -------------------------------------------------------------

SMALL = dict(sizes=(3, 4, 2), batch=5)


def mlp_problem(rng):
    bench = load_benchmark()
    loss, params, data = bench.mlp_loss(**SMALL)
    values = {p.name: 0.7 * rng.standard_normal(p.shape) for p in params}
    values["X"] = rng.standard_normal(data[0].shape)
    values["labels"] = rng.integers(0, SMALL["sizes"][-1], size=data[1].shape)
    return loss, params, data, values


def gradient_difference(loss, params, data, values, wrt, direction, eps=1e-6):
    """Central difference of grad(loss, wrt) along ``direction`` in ``wrt``."""
    g = sg.function(params + data, sg.grad(loss, wrt))
    up, down = dict(values), dict(values)
    up[wrt.name] = values[wrt.name] + eps * direction
    down[wrt.name] = values[wrt.name] - eps * direction
    return (g(**up) - g(**down)) / (2 * eps)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_mlp_hessian_against_differences_of_gradients(which, rng):
    loss, params, data, values = mlp_problem(rng)
    wrt = params[which]
    H = sg.hessian(loss, wrt)
    assert H.shape == wrt.shape + wrt.shape
    got = sg.function(params + data, H)(**values)
    for entry in np.ndindex(wrt.shape):
        e = np.zeros(wrt.shape)
        e[entry] = 1.0
        column = gradient_difference(loss, params, data, values, wrt, e)
        np.testing.assert_allclose(got[(Ellipsis,) + entry], column, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(got.reshape(e.size, e.size), got.reshape(e.size, e.size).T,
                               atol=1e-12)


def test_mlp_hessian_is_structural_not_row_by_row(rng):
    loss, params, _, _ = mlp_problem(rng)
    W1 = params[0]
    order = toposort([sg.grad(loss, W1)])
    rows = _jacobian_by_rows(sg.grad(loss, W1), W1, order, _depending_on(order, [W1]))
    assert sg.op_count(sg.hessian(loss, W1)) * 4 < sg.op_count(rows)


def test_hvp_both_ways_match_hessian_and_differences(rng):
    loss, params, data, values = mlp_problem(rng)
    vs = [sg.tensor(f"v_{p.name}", p.shape) for p in params]
    directions = {f"v_{p.name}": rng.standard_normal(p.shape) for p in params}
    fwd = sg.function(params + data + vs, sg.hvp(loss, params, vs))(**values, **directions)
    rev = sg.function(params + data + vs, hvp_reverse(loss, params, vs))(**values, **directions)
    for a, b in zip(fwd, rev):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    W2, v = params[2], directions["v_W2"]
    H = sg.function(params + data, sg.hessian(loss, W2))(**values)
    single = sg.function(params + data + [vs[2]], sg.hvp(loss, W2, vs[2]))(**values, v_W2=v)
    np.testing.assert_allclose(single, np.tensordot(H, v, axes=2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(single, gradient_difference(loss, params, data, values, W2, v),
                               rtol=1e-5, atol=1e-8)


def hvp_products(sizes, batch):
    """(m, k, n) of every product the compiled HVP wrt W1 of the sigmoid MLP computes."""
    from symgrad.compile.emit import optimized_signature
    from symgrad.ops.linalg import matmul
    from symgrad.rewrite.engine import run_passes
    loss, params, data = load_benchmark().mlp_loss(sizes=sizes, batch=batch)
    v = sg.tensor("v_W1", params[0].shape)
    _, outs, _, order = optimized_signature(params + data + [v], [sg.hvp(loss, params[0], v)],
                                            True, "numpy")
    _, order = run_passes(list(outs), order)
    return sorted((*n.operands[0].shape, n.shape[-1]) for n in order if n.op is matmul)


@pytest.mark.parametrize("sizes, batch", [((7, 5, 4, 3), 6), ((784, 256, 256, 10), 64)])
def test_mlp_hvp_computes_only_the_products_an_hvp_needs(sizes, batch):
    """Forward-over-reverse H v wrt W1 (docs/performance.md, session 9): the forward
    products x W1, h1 W2, h2 W3 and their tangents x V, R(h1) W2, R(h2) W3; the
    backward products by W3ᵀ and W2ᵀ of the cotangent and of its tangent; xᵀ R(δ1).
    No product of the primal xᵀ δ1 or of W2's and W3's gradients, none recomputed."""
    n0, n1, n2, n3 = sizes
    b = batch
    expected = sorted([(b, n0, n1)] * 2 + [(b, n1, n2)] * 2 + [(b, n2, n3)] * 2
                      + [(b, n3, n2)] * 2 + [(b, n2, n1)] * 2 + [(n0, b, n1)])
    assert hvp_products(sizes, batch) == expected


def test_mlp_hvp_wrt_first_layer_matches_differences_of_the_gradient(rng):
    bench = load_benchmark()
    loss, params, data = bench.mlp_loss(sizes=(7, 5, 4, 3), batch=6)
    values = {p.name: 0.7 * rng.standard_normal(p.shape) for p in params}
    values["X"] = rng.standard_normal(data[0].shape)
    values["labels"] = rng.integers(0, 3, size=data[1].shape)
    W1, v = params[0], rng.standard_normal(params[0].shape)
    direction = sg.tensor("v_W1", W1.shape)
    got = sg.function(params + data + [direction], sg.hvp(loss, W1, direction))(**values, v_W1=v)
    np.testing.assert_allclose(got, gradient_difference(loss, params, data, values, W1, v),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("build", [sg.hvp, hvp_reverse])
def test_hvp_never_builds_a_hessian(build, rng):
    loss, params, _, _ = mlp_problem(rng)
    vs = [sg.tensor(f"v_{p.name}", p.shape) for p in params]
    nodes = toposort(build(loss, params, vs))
    assert max(node.ndim for node in nodes) <= 2


def test_hvp_argument_errors():
    x = sg.vector("x", 3)
    cost = sg.sum(sg.exp(x))
    with pytest.raises(ValueError, match="2 wrt nodes but 1"):
        sg.hvp(cost, [x, x], [x])
    with pytest.raises(ValueError, match="shape"):
        sg.hvp(cost, x, sg.vector("v", 4))
    with pytest.raises(ValueError, match="scalar cost"):
        sg.hessian(sg.exp(x), x)


def test_newton_example_converges_quadratically(capsys):
    spec = importlib.util.spec_from_file_location("newton_hvp", ROOT / "examples" / "newton_hvp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w = module.newton_cg()
    _, _, X, y = module.logistic_problem()
    p = 1 / (1 + np.exp(-X @ w))
    assert np.linalg.norm(X.T @ (p - y) / len(y) + 1e-2 * w) < 1e-10  # hand-written gradient
    assert "converged" in capsys.readouterr().out.splitlines()[-1]
