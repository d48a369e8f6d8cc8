"""Build-time folds that make raw gradients read as the Matrix Cookbook writes them
(issue 12, items 1 and 4), and the compiler taking a product back out where that is
cheaper: values and gradients exact, product counts never larger."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.compile import node_lowerings
from symgrad.ops import elementwise, products
from symgrad.ops.linalg import matmul

n = 4
x, w = sg.vector("x", n), sg.vector("w", n)
A, B = sg.matrix("A", (n, n)), sg.matrix("B", (n, n))
X = sg.matrix("X", (n, 3))


def values(outputs, inputs, rng):
    """The outputs' values at random inputs, and those inputs."""
    arrays = [rng.standard_normal(i.shape) for i in inputs]
    return sg.function(inputs, outputs)(*arrays), arrays


@pytest.mark.parametrize("build, cookbook", [
    (lambda: sg.grad(x @ A @ x, x), "(A + Aᵀ) @ x"),                      # (81)
    (lambda: sg.grad(sg.trace(X.T @ A @ X), X), "(A + Aᵀ) @ X"),          # (108)
    (lambda: sg.grad(sg.linalg.norm(x) ** 2, x), "2 * x"),
    (lambda: sg.grad(x @ A @ x + w @ x, x), "w + (A + Aᵀ) @ x"),
    (lambda: A @ x - B @ x, "(A - B) @ x"),
    (lambda: X.T @ A + X.T @ B, "Xᵀ @ (A + B)"),
])
def test_raw_gradients_print_as_the_cookbook_and_as_simplify_does(build, cookbook):
    raw = build()
    assert str(raw) == cookbook
    assert str(sg.simplify(raw)) == str(raw)


def test_a_vector_factor_is_read_either_way_the_factor_on_the_right_first():
    folded = x @ A + B @ x
    assert folded.op is matmul and folded.operands[1] is x
    assert folded.operands[0] is B + A.T


def test_products_of_products_are_not_summed():
    """Chain links stay: summing A B and B A would form both matrix products, where the
    chains pass computes x (A B) as two matrix-vector products."""
    written = x @ (A @ B) + (B @ A) @ x
    assert written.op is elementwise.add
    assert ((A @ B) @ X + (B @ A) @ X).op is elementwise.add


def test_the_fold_is_exact_in_value_and_gradient(rng):
    quad = x @ A @ x
    g = sg.grad(quad, x)  # folded: (A + Aᵀ) @ x
    (got,), (xv, av) = values([g], [x, A], rng)
    np.testing.assert_allclose(got, xv @ av + av @ xv, rtol=1e-13)
    # the folded graph differentiates to the hand derivation, and to central differences
    cost = sg.sum(sg.sin(g))
    c = sg.cos(g)
    report = sg.check_grad(cost, [x, A], expected=[(A + A.T) @ c, sg.outer(c, x) + sg.outer(x, c)])
    assert report.ok, report


def test_the_norm_guard_cancels_only_against_a_nonnegative_factor(rng):
    g = sg.grad(sg.linalg.norm(x) ** 2, x)
    assert g.op is elementwise.multiply and g.operands[1] is x and g.operands[0].value == 2
    assert sg.grad(sg.linalg.norm(x) ** 2 / 3.0, x).op is elementwise.multiply
    (at_zero,) = sg.function([x], [sg.grad(sg.linalg.norm(x) ** 2, x)])(np.zeros(n))
    assert np.array_equal(at_zero, np.zeros(n))
    s = sg.scalar("s")  # not known to be >= 0: max(s, tiny) differs from s where s < 0
    guarded = s * (x / sg.maximum(s, float(np.finfo(np.float64).tiny)))
    assert guarded.op is elementwise.multiply and guarded.operands[1].op is elementwise.divide


def test_broadcast_constants_fold_to_the_broadcast_of_their_value():
    v = sg.vector("v", "n")
    g = sg.grad(sg.sum(3.0 * v), v)
    assert g.op is sg.REGISTRY["broadcast_to"] and float(g.operands[0].value) == 3.0
    assert str(g) == "full((n,), 3)"


def _products(source: str) -> int:
    return source.count("np.dot(")


def test_value_and_gradient_of_a_quadratic_form_reuse_the_forward_product():
    """x A is computed for the value; the factored gradient reads it again (no A + Aᵀ)."""
    source = sg.codegen([x, A], [x @ A @ x, sg.grad(x @ A @ x, x)])
    assert _products(source) == 3 and "A.T" not in source.split("matmul =", 1)[1].split("\n")[0]
    assert "A + A.T" not in source


@pytest.mark.parametrize("optimize", [True, False])
def test_a_vector_gradient_compiles_to_two_products_not_a_matrix_sum(optimize, rng):
    g = sg.grad(x @ A @ x, x)
    source = sg.codegen([x, A], [g], optimize=optimize)
    assert "A + A.T" not in source and _products(source) == 2
    (got,), (xv, av) = values([g], [x, A], rng)
    np.testing.assert_allclose(got, (av + av.T) @ xv, rtol=1e-13)


def test_a_wide_matrix_factor_compiles_to_one_product_a_narrow_one_to_two():
    """(A + Aᵀ) X: one product saved for a wide X; for a few columns the strided sum
    costs more than the second product."""
    wide = sg.matrix("W", (n, node_lowerings.NARROW_COLUMNS + 1))
    for factor, products in ((wide, 1), (X, 2)):
        source = sg.codegen([factor, A], [sg.grad(sg.trace(factor.T @ A @ factor), factor)],
                            optimize=False)
        assert _products(source) == products and ("A + A.T" in source) == (products == 1)


def test_small_sums_of_unrelated_matrices_stay_factored():
    """(A + B) v of a 4 x 4 matrix: one sum and one product beat two products' calls."""
    source = sg.codegen([x, A, B], [A @ x + B @ x])
    assert _products(source) == 1
    big = sg.matrix("C", (64, 64)), sg.matrix("D", (64, 64)), sg.vector("y", 64)
    C, D, y = big
    assert 64 * 64 >= node_lowerings.DISTRIBUTED_MIN_ENTRIES
    assert _products(sg.codegen([y, C, D], [C @ y + D @ y])) == 2


def test_add_product_computes_the_sum_with_the_product(rng):
    u = sg.vector("u", n)
    node = products.add_product(u, A, x)
    (got,), (uv, av, xv) = values([node], [u, A, x], rng)
    np.testing.assert_allclose(got, uv + av @ xv, rtol=1e-14)


def test_the_mlp_gradient_keeps_its_products():
    """W1 (benchmarks/w1_mlp.py): 3 forward products and 5 backward (every layer's weight
    gradient, and the input gradient of all but the first layer), with or without the
    optimizer."""
    from benchmarks import w1_mlp
    inputs, loss, params = w1_mlp.symgrad_graph(sg)
    for optimize in (True, False):
        assert _products(sg.codegen(inputs, [loss] + sg.grad(loss, params), optimize=optimize)) == 8
