"""The compiler's matrix-chain pass: cheapest bracketing, same values, shared products kept."""
import itertools

import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference
from symgrad.compile.chains import _bracketing, _multiply_adds, matmul_flops
from symgrad.ops import elementwise, linalg as linalg_ops
from symgrad.compile.emit import optimized_signature
from symgrad.rewrite.engine import run_passes


def compiled(inputs, outputs):
    """(outputs, order) of the graph ``sg.function`` emits code for."""
    _, outs, _, order = optimized_signature(inputs, outputs, True, "numpy")
    return run_passes(list(outs), order)


def flops(inputs, outputs) -> int:
    return matmul_flops(compiled(inputs, outputs)[1])


def multiply_adds(nodes) -> int:
    """Multiply-adds of the products and outer products among ``nodes``."""
    return sum(_multiply_adds(n) for n in nodes if n.op in (linalg_ops.outer, linalg_ops.matmul))


def call(inputs, outputs, arrays):
    return sg.function(inputs, outputs)(*arrays)


def test_matrix_times_matrix_times_vector_is_two_matrix_vector_products(rng):
    A, B, v = sg.matrix("A", (30, 30)), sg.matrix("B", (30, 30)), sg.vector("v", 30)
    written = A @ B @ v  # Python's left-to-right: (A B) v, 30³ + 30² multiply-adds
    assert matmul_flops(sg.toposort([written])) == 2 * (30 ** 3 + 30 ** 2)
    assert flops([A, B, v], [written]) == 2 * 2 * 30 ** 2
    (out,), _ = compiled([A, B, v], [written])
    assert out is A @ (B @ v)
    a, b, x = rng.standard_normal((30, 30)), rng.standard_normal((30, 30)), rng.standard_normal(30)
    np.testing.assert_allclose(call([A, B, v], [written], [a, b, x])[0], a @ b @ x, rtol=1e-12)


def test_an_optimal_chain_is_left_as_written():
    D, A, B = sg.matrix("D", (2, 30)), sg.matrix("A", (30, 30)), sg.matrix("B", (30, 30))
    written = D @ A @ B  # (D A) B: 2·30·30 + 2·30·30, the cheapest
    (out,), _ = compiled([D, A, B], [written])
    assert out is written


def test_a_product_read_twice_is_a_factor_not_recomputed(rng):
    A, B = sg.matrix("A", (20, 20)), sg.matrix("B", (20, 20))
    v, w = sg.vector("v", 20), sg.vector("w", 20)
    P = A @ B
    outputs = [P @ v, P @ w]  # A (B v), A (B w) would cost 4·20² but lose the shared P
    outs, order = compiled([A, B, v, w], outputs)
    assert outs == outputs
    assert matmul_flops(order) == 2 * (20 ** 3 + 2 * 20 ** 2)


def test_a_named_size_keeps_the_written_bracketing():
    A, B, v = sg.matrix("A", ("n", "n")), sg.matrix("B", ("n", "n")), sg.vector("v", "n")
    (out,), _ = compiled([A, B, v], [A @ B @ v])
    assert out is A @ B @ v


def test_a_vector_inside_the_chain_is_not_an_end():
    A, B, v = sg.matrix("A", (6, 7)), sg.matrix("B", (4, 7)), sg.vector("v", 4)
    written = A @ (v @ B)  # not A (v B) = (A v) B: v is no end; v B is a chain of its own
    (out,), _ = compiled([A, B, v], [written])
    assert out is written


@pytest.mark.parametrize("seed", range(6))
def test_random_chains_reach_the_cheapest_bracketing_with_the_same_values(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    sizes = [int(s) for s in rng.integers(1, 40, size=n + 1)]
    ends = [bool(rng.integers(2)), bool(rng.integers(2))]  # vector ends
    shapes = [(sizes[i], sizes[i + 1]) for i in range(n)]
    shapes[0] = (sizes[1],) if ends[0] else shapes[0]
    shapes[-1] = (sizes[-2],) if ends[1] else shapes[-1]
    factors = [sg.tensor(f"F{i}", s) for i, s in enumerate(shapes)]
    written = factors[0]
    for f in factors[1:]:  # left to right, as Python writes it
        written = written @ f
    sizes[0], sizes[-1] = (1 if ends[0] else sizes[0]), (1 if ends[1] else sizes[-1])
    cost, _ = _bracketing(sizes)
    assert flops(factors, [written]) == 2 * cost[0][-1]
    arrays = [rng.standard_normal(s) for s in shapes]
    expected = arrays[0]
    for a in arrays[1:]:
        expected = expected @ a
    np.testing.assert_allclose(call(factors, [written], arrays)[0], expected, rtol=1e-10, atol=1e-12)


OUTER_CASES = {  # written, its cheapest form, NumPy's value; u, v (6), w (7), A (6×6), B (6×7)
    "outer(u, v) B = outer(u, v B)": (
        lambda u, v, w, A, B: sg.outer(u, v) @ B, lambda u, v, w, A, B: sg.outer(u, v @ B),
        lambda u, v, w, A, B: np.outer(u, v) @ B),
    "A outer(u, v) B = outer(A u, v B)": (
        lambda u, v, w, A, B: A @ sg.outer(u, v) @ B, lambda u, v, w, A, B: sg.outer(A @ u, v @ B),
        lambda u, v, w, A, B: A @ np.outer(u, v) @ B),
    "outer(u, w) Bᵀ v = u ((w Bᵀ) v)": (
        lambda u, v, w, A, B: sg.outer(u, w) @ B.T @ v, lambda u, v, w, A, B: u * (w @ B.T @ v),
        lambda u, v, w, A, B: np.outer(u, w) @ B.T @ v),
}


@pytest.mark.parametrize("case", list(OUTER_CASES))
def test_outer_products_are_links_of_the_chain(case, rng):
    """A column times a row contracts length 1: outer(u, v) B (n² m) is outer(u, v B) (n m)."""
    nodes = [sg.vector("u", 6), sg.vector("v", 6), sg.vector("w", 7),
             sg.matrix("A", (6, 6)), sg.matrix("B", (6, 7))]
    build, cheapest, numpy_value = OUTER_CASES[case]
    written = build(*nodes)
    (out,), _ = compiled(nodes, [written])
    assert out is cheapest(*nodes)
    arrays = [rng.standard_normal(n.shape) for n in nodes]
    np.testing.assert_allclose(call(nodes, [written], arrays)[0], numpy_value(*arrays),
                               rtol=1e-10, atol=1e-12)


def test_bracketing_cost_is_the_minimum_over_every_bracketing():
    """The dynamic programme against brute force over all binary trees."""
    def brute(d):
        if len(d) == 2:
            return 0
        return min(brute(d[:k + 1]) + brute(d[k:]) + d[0] * d[k] * d[-1]
                   for k in range(1, len(d) - 1))
    for sizes in itertools.product((1, 3, 8), repeat=5):
        assert _bracketing(list(sizes))[0][0][-1] == brute(list(sizes))


def test_gradient_through_a_reassociated_chain_matches_differences(rng):
    A, B, v = sg.matrix("A", (5, 6)), sg.matrix("B", (6, 6)), sg.vector("v", 6)
    loss = sg.sum(sg.tanh(A @ B @ v) ** 2)
    values = [rng.standard_normal((5, 6)), rng.standard_normal((6, 6)), rng.standard_normal(6)]
    grads = sg.function([A, B, v], sg.grad(loss, [A, B, v]))(*values)
    f = sg.function([A, B, v], loss)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, central_difference(lambda *a: f(*a), values, i),
                                   rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_random_chains_through_an_outer_product_keep_their_values(seed):
    rng = np.random.default_rng(100 + seed)
    left, right = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    sizes = [int(s) for s in rng.integers(1, 12, size=left + right + 2)]
    x, y = sg.vector("x", sizes[left]), sg.vector("y", sizes[left + 1])
    shapes = [(sizes[i], sizes[i + 1]) for i in range(left)]
    shapes += [(sizes[i], sizes[i + 1]) for i in range(left + 1, left + right + 1)]
    mats = [sg.matrix(f"M{i}", s) for i, s in enumerate(shapes)]
    written = sg.outer(x, y)
    for m in reversed(mats[:left]):
        written = m @ written
    for m in mats[left:]:
        written = written @ m
    nodes = [x, y] + mats
    arrays = [rng.standard_normal(n.shape) for n in nodes]
    expected = np.outer(arrays[0], arrays[1])
    for a in reversed(arrays[2:2 + left]):
        expected = a @ expected
    for a in arrays[2 + left:]:
        expected = expected @ a
    np.testing.assert_allclose(call(nodes, [written], arrays)[0], expected, rtol=1e-10, atol=1e-12)
    _, order = compiled(nodes, [written])
    assert multiply_adds(order) <= multiply_adds(sg.toposort([written]))


def test_a_chain_inside_a_factor_of_another_chain_is_rebuilt_once(rng):
    """The gradient wrt A of sum(tanh(A B v)²) holds the forward chain (A B) v inside the
    factor g of the chain outer(g, v) Bᵀ: both become O(n²), and (A B) v is not kept
    alongside its cheaper form (nothing of n³ left)."""
    n = 40
    A, B, v = sg.matrix("A", (n, n)), sg.matrix("B", (n, n)), sg.vector("v", n)
    loss = sg.sum(sg.tanh(A @ B @ v) ** 2)
    outputs = [loss] + sg.grad(loss, [A])
    _, order = compiled([A, B, v], outputs)
    # B v, A (B v), the outer product: v Bᵀ is built as B v, the forward's own node
    assert multiply_adds(order) == 3 * n * n
    assert sum(node.op is elementwise.tanh for node in order) == 1
    values = [rng.standard_normal((n, n)) / n, rng.standard_normal((n, n)), rng.standard_normal(n)]
    got = sg.function([A, B, v], outputs)(*values)
    a, b, x = values
    t = np.tanh(a @ (b @ x))
    np.testing.assert_allclose(got[0], np.sum(t ** 2), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.outer(2 * t * (1 - t * t), b @ x), rtol=1e-10, atol=1e-12)
