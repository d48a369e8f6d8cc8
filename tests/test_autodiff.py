"""sg.grad and its relatives: zeros for unconnected wrt, intermediate wrt,
second derivatives, broadcasting undone in the sweep, jacobian/hessian/hvp/jvp,
and the misuse errors API.md promises."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference


def test_unconnected_wrt_gets_zeros_of_its_shape():
    x, z = sg.vector("x", 3), sg.matrix("Z", ("n", 2))
    s = sg.scalar("s")
    gz, gs = sg.grad(sg.sum(x * x), [z, s])
    assert gz.shape == ("n", 2) and gs.shape == ()
    f = sg.function([x, z, s], [gz, gs])
    got_z, got_s = f(np.ones(3), np.ones((4, 2)), 1.0)
    np.testing.assert_array_equal(got_z, np.zeros((4, 2)))
    assert float(got_s) == 0.0


def test_wrt_an_intermediate_node():
    x = sg.vector("x", 3)
    u = sg.exp(x)
    cost = sg.sum(sg.sin(u))
    gu, gx = sg.grad(cost, [u, x])
    xv = np.array([0.1, -0.4, 0.8])
    got_u, got_x = sg.function([x], [gu, gx])(xv)
    np.testing.assert_allclose(got_u, np.cos(np.exp(xv)), rtol=1e-14)
    np.testing.assert_allclose(got_x, np.cos(np.exp(xv)) * np.exp(xv), rtol=1e-14)


def test_wrt_a_node_on_one_of_several_paths():
    """The gradient wrt an intermediate counts only the paths through it."""
    x = sg.scalar("x")
    u = x * x
    cost = u * 3.0 + x
    gu, gx = sg.grad(cost, [u, x])
    f = sg.function([x], [gu, gx])
    assert f(2.0) == (3.0, 13.0)


def test_second_derivative_matches_hand_and_finite_differences():
    x = sg.scalar("x")
    y = sg.sin(x) * x ** 3
    d1 = sg.grad(y, x)
    d2 = sg.grad(d1, x)
    f1, f2 = sg.function([x], d1), sg.function([x], d2)
    for xv in (-1.3, 0.4, 2.2):
        hand = -np.sin(xv) * xv ** 3 + 6 * np.cos(xv) * xv ** 2 + 6 * np.sin(xv) * xv
        np.testing.assert_allclose(f2(xv), hand, rtol=1e-12)
        np.testing.assert_allclose(f2(xv), central_difference(f1, [xv], 0), rtol=1e-7)


def test_grad_of_grad_of_a_matrix_cost(rng):
    W, x, V = sg.matrix("W", (3, 2)), sg.vector("x", 2), sg.matrix("V", (3, 2))
    cost = sg.sum(sg.tanh(W @ x) ** 2)
    g = sg.grad(cost, W)
    second = sg.grad(sg.sum(g * V), W)       # H·V by reverse-over-reverse
    f = sg.function([W, x, V], [second, sg.hvp(cost, W, V)])
    Wv, xv, Vv = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((3, 2))
    rr, fr = f(Wv, xv, Vv)
    np.testing.assert_allclose(rr, fr, rtol=1e-10, atol=1e-12)
    fg = sg.function([W, x, V], sg.sum(g * V))
    np.testing.assert_allclose(rr, central_difference(fg, [Wv, xv, Vv], 0), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("left,right", [((2, 3), (3,)), ((), (2, 2)), ((3, 1), (1, 4)),
                                        (("n", 1), (1, "m")), ((2, 1, 3), (4, 1))])
def test_broadcasting_is_undone(left, right, rng):
    a, b = sg.tensor("a", left), sg.tensor("b", right)
    weights = sg.tensor("w", (a + b).shape)
    cost = sg.sum((a * b + a) * weights)
    ga, gb = sg.grad(cost, [a, b])
    assert ga.shape == a.shape and gb.shape == b.shape
    sizes = {"n": 3, "m": 2}
    av = rng.standard_normal([sizes.get(d, d) for d in left])
    bv = rng.standard_normal([sizes.get(d, d) for d in right])
    wv = rng.standard_normal(np.broadcast_shapes(av.shape, bv.shape))
    got_a, got_b = sg.function([a, b, weights], [ga, gb])(av, bv, wv)
    # Hand: d/da = sum of w * (b + 1) over broadcast axes; d/db = sum of w * a.
    hand_a = _sum_to(wv * (bv + 1), av.shape)
    hand_b = _sum_to(wv * av, bv.shape)
    np.testing.assert_allclose(got_a, hand_a, rtol=1e-12)
    np.testing.assert_allclose(got_b, hand_b, rtol=1e-12)


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def test_jacobian_shape_and_values(rng):
    x = sg.vector("x", 3)
    W = sg.matrix("W", (2, 3))
    y = sg.tanh(W @ x)
    J = sg.jacobian(y, x)
    assert J.shape == (2, 3)
    Wv, xv = rng.standard_normal((2, 3)), rng.standard_normal(3)
    got = sg.function([W, x], J)(Wv, xv)
    np.testing.assert_allclose(got, (1 - np.tanh(Wv @ xv) ** 2)[:, None] * Wv, rtol=1e-12)
    assert sg.jacobian(sg.outer(x, x), x).shape == (3, 3, 3)


def test_hessian_of_a_quadratic(rng):
    x, A = sg.vector("x", 3), sg.matrix("A", (3, 3))
    H = sg.hessian(x @ A @ x, x)
    assert H.shape == (3, 3)
    Av = rng.standard_normal((3, 3))
    np.testing.assert_allclose(sg.function([x, A], H)(np.ones(3), Av), Av + Av.T, rtol=1e-12)


def test_hvp_does_not_build_the_hessian(rng):
    x, v = sg.vector("x", "n"), sg.vector("v", "n")
    cost = sg.sum(sg.exp(x) * sg.sin(x))
    hv = sg.hvp(cost, x, v)
    assert hv.shape == ("n",)
    assert all(node.ndim <= 1 for node in sg.toposort([hv]))   # no n x n node
    xv, vv = rng.standard_normal(5), rng.standard_normal(5)
    diag = np.exp(xv) * 2 * np.cos(xv)                          # (e^x sin x)'' = 2 e^x cos x
    np.testing.assert_allclose(sg.function([x, v], hv)(xv, vv), diag * vv, rtol=1e-12)


def test_jvp_matches_directional_difference(rng):
    x, v = sg.vector("x", 4), sg.vector("v", 4)
    y = sg.softmax(x) * sg.sum(x ** 2)
    t = sg.jvp(y, x, v)
    assert t.shape == (4,)
    xv, vv = rng.standard_normal(4), rng.standard_normal(4)
    fy = sg.function([x], y)
    numeric = (fy(xv + 1e-6 * vv) - fy(xv - 1e-6 * vv)) / 2e-6
    np.testing.assert_allclose(sg.function([x, v], t)(xv, vv), numeric, rtol=1e-6, atol=1e-9)


def test_gradient_nodes_are_ordinary_nodes():
    x = sg.vector("x", "n")
    g = sg.grad(sg.sum(sg.sigmoid(x)), x)
    assert isinstance(g, sg.Node) and g.shape == ("n",)
    assert "σ" in str(g) or "sigmoid" in str(g)
    assert sg.grad(sg.sum(x), [x])[0].shape == ("n",)     # a list in, a list out
    assert isinstance(sg.grad(sg.sum(x), (x,)), list)


# Misuse --------------------------------------------------------------------------------

def test_grad_of_a_vector_cost_names_the_node_and_shape():
    x = sg.vector("x", "n")
    with pytest.raises(ValueError) as info:
        sg.grad(sg.exp(x), x)
    assert "exp" in str(info.value) and "(n,)" in str(info.value)


def test_wrt_that_is_not_a_node_is_a_type_error():
    x = sg.vector("x", 3)
    for bad in (3, "x", np.ones(3), [x, 2.0]):
        with pytest.raises(TypeError):
            sg.grad(sg.sum(x), bad)
    with pytest.raises(TypeError):
        sg.grad(1.0, x)


def test_integer_wrt_is_a_type_error():
    labels = sg.vector("y", "B", dtype="int64")
    cost = sg.sum(sg.one_hot(labels, 3))
    with pytest.raises(TypeError, match="'y'.*int64"):
        sg.grad(cost, labels)


def test_duplicate_input_names_in_one_graph():
    a, b = sg.vector("x", 3), sg.vector("x", 4)
    with pytest.raises(ValueError) as info:
        sg.grad(sg.sum(a) + sg.sum(b), a)
    message = str(info.value)
    assert "'x'" in message and "(3,)" in message and "(4,)" in message
    with pytest.raises(ValueError, match="'x'"):
        sg.grad(sg.sum(a), b)         # cost and wrt together hold two inputs named x


def test_grad_wrt_the_cost_itself_and_repeated_wrt():
    x = sg.vector("x", 3)
    cost = sg.sum(sg.exp(x))
    assert sg.function([x], sg.grad(cost, cost))(np.zeros(3)) == 1.0
    first, second = sg.grad(cost, [x, x])
    assert first is second


def test_grad_through_indexing_scatters_into_place():
    W = sg.matrix("W", (3, 3))
    cost = sg.sum(W[0] * W[:, 1]) + W[2, 2] ** 2
    Wv = np.arange(9.0).reshape(3, 3)
    got = sg.function([W], sg.grad(cost, W))(Wv)
    # cost = W00 W01 + W01 W11 + W02 W21 + W22²
    hand = np.zeros((3, 3))
    hand[0, 0], hand[0, 1], hand[0, 2] = Wv[0, 1], Wv[0, 0] + Wv[1, 1], Wv[2, 1]
    hand[1, 1], hand[2, 1], hand[2, 2] = Wv[0, 1], Wv[0, 2], 2 * Wv[2, 2]
    np.testing.assert_array_equal(got, hand)


def test_gradient_graph_of_a_deep_chain_stays_linear():
    """u_i = sigmoid(w_i u_{i-1} + b_i), depth 300: all 601 gradients together
    add at most ~3x the forward op nodes (benchmarks/chain_graph_size.py times it)."""
    x = sg.scalar("x_chain")
    params = [(sg.scalar(f"w_chain{i}"), sg.scalar(f"b_chain{i}")) for i in range(300)]
    u = x
    for w, b in params:
        u = sg.sigmoid(w * u + b)
    wrt = [x] + [p for pair in params for p in pair]
    grads = sg.grad(u, wrt)
    assert sg.op_count([u] + grads) <= 4 * sg.op_count(u)
