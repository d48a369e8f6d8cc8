"""prod, var, std, average, count_nonzero, argmax/argmin, cumsum, cumprod, diff and
logsumexp(b=...): values against NumPy/SciPy for many axis/keepdims/ddof forms,
gradients against central finite differences (also at zero entries, where a rule
dividing by x would give nan), second derivatives, and build-time errors."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(11)
VALUE = RNG.standard_normal((2, 3, 4))
AXES = [None, 0, 1, -1, (0, 1), (0, 2), (2, 0), ()]


def _run(node, x, value):
    return sg.function([x], node)(value)


def _gradient_check(cost_of, value, rtol=1e-6, atol=1e-8):
    """The symbolic gradient of ``cost_of(x)`` against central differences."""
    x = sg.tensor("x", value.shape)
    cost = cost_of(x)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    numeric = central_difference(lambda v: f(v)[0], [value], 0)
    np.testing.assert_allclose(f(value)[1], numeric, rtol=rtol, atol=atol)


def _hessian_check(cost_of, value, rtol=1e-5, atol=1e-6):
    """sg.hessian against central differences of the compiled gradient."""
    x = sg.tensor("x", value.shape)
    cost = cost_of(x)
    grad = sg.function([x], sg.grad(cost, x))
    hess = sg.function([x], sg.hessian(cost, x))(value)
    numeric = np.stack([central_difference(lambda v: grad(v)[i], [value], 0)
                        for i in np.ndindex(value.shape)])
    np.testing.assert_allclose(hess.reshape(numeric.shape), numeric, rtol=rtol, atol=atol)


# Values against NumPy -----------------------------------------------------------------

def _matches_numpy(name, **kwargs):
    """``sg.<name>(x, **kwargs)`` has NumPy's shape and values at VALUE."""
    x = sg.tensor("x", VALUE.shape)
    node = getattr(sg, name)(x, **kwargs)
    expected = getattr(np, name)(VALUE, **kwargs)
    assert node.shape == expected.shape
    np.testing.assert_allclose(_run(node, x, VALUE), expected, rtol=1e-12)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_values(axis, keepdims):
    _matches_numpy("prod", axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis", AXES[:-1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ddof", [0, 1, 1.5])
def test_var_std_values(name, axis, keepdims, ddof):
    _matches_numpy(name, axis=axis, ddof=ddof, keepdims=keepdims)


def test_var_is_stable_for_a_large_offset():
    """Two passes, as NumPy: E[x²] - E[x]² would lose every digit here."""
    x = sg.vector("x", 4)
    value = 1e9 + np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(_run(sg.var(x), x, value), np.var(value), rtol=1e-9)


def test_var_with_too_few_degrees_of_freedom_is_inf_or_nan_like_numpy():
    x = sg.vector("x", 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = _run(sg.var(x, ddof=2), x, np.array([1.0, 2.0]))
    assert np.isinf(ours)


def test_var_of_named_dims_divides_by_the_bound_size():
    x = sg.tensor("x", ("n", 3))
    value = RNG.standard_normal((5, 3))
    node = sg.var(x, axis=0, ddof=1)
    np.testing.assert_allclose(_run(node, x, value), np.var(value, axis=0, ddof=1))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, -3])
def test_scan_values(name, axis):
    _matches_numpy(name, axis=axis)


def test_scans_of_ints_and_0d():
    k = sg.vector("k", 4, dtype="int64")
    assert sg.cumsum(k).dtype == "int64" and sg.prod(k).dtype == "int64"
    np.testing.assert_array_equal(_run(sg.cumprod(k), k, np.array([1, 2, 3, 4])), [1, 2, 6, 24])
    s = sg.scalar("s")
    assert sg.cumsum(s).shape == np.cumsum(2.0).shape == (1,)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_diff_values(n, axis):
    _matches_numpy("diff", n=n, axis=axis)


def test_diff_with_prepend_and_append():
    x = sg.matrix("X", (3, 4))
    value = RNG.standard_normal((3, 4))
    edge = RNG.standard_normal((3, 1))
    node = sg.diff(x, axis=1, prepend=0.5, append=edge)
    np.testing.assert_allclose(_run(node, x, value), np.diff(value, axis=1, prepend=0.5,
                                                             append=edge))


@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2), (2, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_average_values(axis, keepdims):
    x = sg.tensor("x", VALUE.shape)
    w_full = np.abs(RNG.standard_normal(VALUE.shape)) + 0.1
    for weights in (None, w_full):
        node, total = sg.average(x, axis=axis, weights=weights, returned=True,
                                 keepdims=keepdims)
        expected, expected_total = np.average(VALUE, axis=axis, weights=weights,
                                              returned=True, keepdims=keepdims)
        f = sg.function([x], [node, total])
        got, got_total = f(VALUE)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        np.testing.assert_allclose(got_total, expected_total, rtol=1e-12)
        assert np.shape(got_total) == np.shape(expected_total)


@pytest.mark.parametrize("axis", [0, 2, -1, (0, 2), (2, 0)])
def test_average_with_weights_along_the_axis(axis):
    x = sg.tensor("x", VALUE.shape)
    axes = (axis,) if isinstance(axis, int) else axis
    w = np.abs(RNG.standard_normal(tuple(VALUE.shape[a] for a in axes))) + 0.1
    node = sg.average(x, axis=axis, weights=w)
    np.testing.assert_allclose(_run(node, x, VALUE), np.average(VALUE, axis=axis, weights=w),
                               rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_count_nonzero_values(axis, keepdims):
    value = np.where(VALUE > 0.3, VALUE, 0.0)
    x = sg.tensor("x", value.shape)
    node = sg.count_nonzero(x, axis=axis, keepdims=keepdims)
    expected = np.count_nonzero(value, axis=axis, keepdims=keepdims)
    assert node.dtype == "int64" and node.shape == np.shape(expected)
    np.testing.assert_array_equal(_run(node, x, value), expected)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_values(name, axis, keepdims):
    value = np.round(VALUE, 0)  # ties: NumPy returns the first index
    x = sg.tensor("x", value.shape)
    node = getattr(sg, name)(x, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(value, axis=axis, keepdims=keepdims)
    assert node.dtype == "int64" and node.shape == np.shape(expected)
    np.testing.assert_array_equal(_run(node, x, value), expected)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_with_b_matches_scipy(axis, keepdims):
    special = pytest.importorskip("scipy.special")
    a = sg.tensor("a", VALUE.shape)
    b = sg.tensor("b", (4,))
    bvalue = np.array([0.5, 0.0, 2.0, 1.0])
    node = sg.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    expected = special.logsumexp(VALUE, axis=axis, b=bvalue, keepdims=keepdims)
    assert node.shape == np.shape(expected)
    np.testing.assert_allclose(sg.function([a, b], node)(VALUE, bvalue), expected, rtol=1e-12)


def test_logsumexp_with_b_is_stable():
    a, b = sg.vector("a", 3), sg.vector("b", 3)
    node = sg.logsumexp(a, b=b)
    f = sg.function([a, b], [node, *sg.grad(node, [a, b])])
    value, da, db = f(np.array([1000.0, 1001.0, 5000.0]), np.array([1.0, 2.0, 0.0]))
    assert np.isclose(value, 1001.0 + np.log(np.exp(-1.0) + 2.0))  # b = 0 drops the 5000
    assert np.all(np.isfinite(da)) and da[2] == 0.0
    np.testing.assert_allclose(da.sum(), 1.0)


# Gradients against finite differences -------------------------------------------------

WITH_ZEROS = np.array([[1.5, 0.0, -2.0, 0.7],
                       [0.0, 0.0, 1.2, -0.4],
                       [0.9, 1.1, -1.3, 2.0]])


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_prod_gradient_is_exact_at_zeros(axis):
    weights = RNG.standard_normal(np.prod(WITH_ZEROS, axis=axis).shape)
    _gradient_check(lambda x: sg.sum(sg.prod(x, axis=axis) * weights), WITH_ZEROS)


def test_prod_gradient_at_zero_by_hand():
    """d prod / d x_i is the product of the others: nonzero only at the single zero."""
    x = sg.vector("x", 3)
    g = sg.function([x], sg.grad(sg.prod(x), x))(np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


@pytest.mark.parametrize("axis", [0, 1, None])
def test_cumprod_gradient_is_exact_at_zeros(axis):
    weights = RNG.standard_normal(np.cumprod(WITH_ZEROS, axis=axis).shape)
    _gradient_check(lambda x: sg.sum(sg.cumprod(x, axis=axis) * weights), WITH_ZEROS)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis,ddof", [(None, 0), (0, 1), ((0, 2), 1), (-1, 0)])
def test_var_std_gradients(name, axis, ddof):
    weights = RNG.standard_normal(np.var(VALUE, axis=axis).shape)
    _gradient_check(lambda x: sg.sum(getattr(sg, name)(x, axis=axis, ddof=ddof) * weights),
                    VALUE)


@pytest.mark.parametrize("n,axis", [(1, -1), (1, 0), (3, 2)])
def test_diff_and_cumsum_gradients(n, axis):
    weights = RNG.standard_normal(np.diff(VALUE, n=n, axis=axis).shape)
    _gradient_check(lambda x: sg.sum(sg.diff(sg.cumsum(x, axis=axis), n=n, axis=axis)
                                     * weights), VALUE)


def _two_operand_gradients(cost_of, values):
    """Gradients of ``cost_of(A, w)`` by both operands, each checked against central
    differences; returned for further checks."""
    a, w = sg.matrix("A", values[0].shape), sg.vector("w", values[1].shape[0])
    cost = cost_of(a, w)
    f = sg.function([a, w], [cost, *sg.grad(cost, [a, w])])
    grads = f(*values)[1:]
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, central_difference(lambda *v: f(*v)[0], values, i),
                                   rtol=1e-6, atol=1e-9)
    return grads


def test_average_gradient_in_values_and_weights():
    values = [RNG.standard_normal((3, 4)), np.abs(RNG.standard_normal(4)) + 0.5]
    _two_operand_gradients(lambda a, w: sg.sum(sg.average(a, axis=1, weights=w) ** 2.0), values)


def test_logsumexp_b_gradients_including_a_zero_weight():
    values = [RNG.standard_normal((3, 4)), np.array([0.5, 0.0, 2.0, 1.0])]
    ga, _ = _two_operand_gradients(
        lambda a, b: sg.sum(sg.logsumexp(a, axis=1, b=b) * np.array([1.0, -2.0, 0.5])), values)
    assert np.all(ga[:, 1] == 0.0)


def test_no_gradient_flows_through_argmax_and_count_nonzero():
    x = sg.vector("x", 4)
    cost = sg.sum(x * 1.0) + sg.argmax(x) * 1.0 + sg.count_nonzero(x) * 1.0
    g = sg.function([x], sg.grad(cost, x))(RNG.standard_normal(4))
    np.testing.assert_array_equal(g, np.ones(4))


# Second derivatives ---------------------------------------------------------------------

@pytest.mark.parametrize("value", [WITH_ZEROS[0], WITH_ZEROS[1], np.array([0.8, -1.2, 1.7])])
def test_prod_hessian_at_zeros(value):
    _hessian_check(lambda x: sg.prod(x), value)


def test_prod_hessian_of_a_matrix_over_one_axis():
    _hessian_check(lambda x: sg.sum(sg.prod(x, axis=0) * np.array([1.0, -1.0, 2.0, 0.5])),
                   WITH_ZEROS[:2])


@pytest.mark.parametrize("value", [WITH_ZEROS[1], np.array([0.8, -1.2, 1.7, 0.3])])
def test_cumprod_hessian(value):
    weights = np.array([1.0, -0.5, 2.0, 0.7])
    _hessian_check(lambda x: sg.sum(sg.cumprod(x) * weights), value)


def test_var_std_hessians():
    value = RNG.standard_normal(5)
    _hessian_check(lambda x: sg.var(x, ddof=1), value)
    _hessian_check(lambda x: sg.std(x), value)


def test_logsumexp_b_hessian():
    b = np.array([0.5, 0.0, 2.0, 1.0])
    _hessian_check(lambda x: sg.logsumexp(x, b=b), RNG.standard_normal(4))


def test_hvp_of_a_cumsum_cumprod_model_matches_finite_differences():
    x, v = sg.vector("x", 4), sg.vector("v", 4)
    cost = sg.sum(sg.cumprod(sg.tanh(x)) * sg.cumsum(x))
    grad = sg.function([x], sg.grad(cost, x))
    hvp = sg.function([x, v], sg.hvp(cost, x, v))
    xv, vv = RNG.standard_normal(4), RNG.standard_normal(4)
    eps = 1e-6
    numeric = (grad(xv + eps * vv) - grad(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(hvp(xv, vv), numeric, rtol=1e-6, atol=1e-8)


def test_hessian_with_named_dims_uses_the_whole_jacobian_rules():
    x = sg.vector("x", "n")
    hess = sg.hessian(sg.prod(x) + sg.sum(sg.cumprod(x)), x)
    assert hess.shape == ("n", "n")
    value = np.array([1.2, 0.0, -0.7, 2.0])
    np.testing.assert_allclose(sg.function([x], hess)(value), _dense_hessian(value), rtol=1e-5,
                               atol=1e-6)


def _dense_hessian(value):
    """Hessian of prod(x) + sum(cumprod(x)) by central differences of its gradient."""
    y = sg.vector("y", len(value))
    grad = sg.function([y], sg.grad(sg.prod(y) + sg.sum(sg.cumprod(y)), y))
    return np.stack([central_difference(lambda v: grad(v)[i], [value], 0)
                     for i in range(len(value))])


# Methods, NumPy dispatch, printing ----------------------------------------------------------

def test_node_methods_and_numpy_dispatch():
    x = sg.tensor("x", VALUE.shape)
    cases = [(x.prod(axis=1), np.prod(VALUE, axis=1)), (x.var(0, ddof=1), VALUE.var(0, ddof=1)),
             (x.std(keepdims=True), VALUE.std(keepdims=True)), (x.argmax(2), VALUE.argmax(2)),
             (x.argmin(), VALUE.argmin()), (x.cumsum(1), VALUE.cumsum(1)),
             (x.cumprod(), VALUE.cumprod()), (np.prod(x, axis=(0, 2)), np.prod(VALUE, (0, 2))),
             (np.var(x, axis=1, ddof=1), np.var(VALUE, axis=1, ddof=1)),
             (np.cumsum(x, axis=0), np.cumsum(VALUE, axis=0)),
             (np.diff(x, 2), np.diff(VALUE, 2)), (np.average(x, axis=1), np.average(VALUE, 1))]
    for node, expected in cases:
        assert isinstance(node, sg.Node)
        np.testing.assert_allclose(_run(node, x, VALUE), expected, rtol=1e-12)


def test_printed_forms():
    x = sg.matrix("X", (2, 3))
    assert str(sg.prod(x, axis=0)) == "prod(X, axis=0)"
    assert str(sg.cumsum(x, axis=1)) == "cumsum(X, axis=1)"
    assert str(sg.argmax(x)) == "argmax(X)"
    assert str(sg.argmin(x, axis=1, keepdims=True)) == "argmin(X, axis=1, keepdims=True)"
    assert str(sg.logsumexp(x, axis=1, b=sg.vector("b", 3))) == "logsumexp(X, b=b, axis=1)"


# Build-time errors --------------------------------------------------------------------------

@pytest.mark.parametrize("build,name", [
    (lambda x: sg.prod(x, axis=2), "prod"), (lambda x: sg.cumsum(x, axis=-3), "cumsum"),
    (lambda x: sg.cumprod(x, axis=2), "cumprod"), (lambda x: sg.argmax(x, axis=2), "argmax"),
    (lambda x: sg.var(x, axis=(0, 2)), "var"), (lambda x: sg.std(x, axis=5), "var"),
    (lambda x: sg.diff(x, axis=2), "diff"), (lambda x: sg.average(x, axis=3), "average"),
    (lambda x: sg.count_nonzero(x, axis=2), "count_nonzero"),
    (lambda x: sg.logsumexp(x, axis=2, b=1.0), "weighted_logsumexp"),
])
def test_bad_axis_raises_naming_op_and_shape(build, name):
    x = sg.matrix("X", (2, 3))
    with pytest.raises(ValueError, match=rf"{name}\('X' \(2, 3\).*out of bounds"):
        build(x)


def test_numpy_raises_on_the_same_axes():
    with pytest.raises(np.exceptions.AxisError):
        np.prod(np.ones((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError):
        np.cumsum(np.ones((2, 3)), axis=-3)


def test_other_bad_arguments():
    x = sg.matrix("X", (2, 3))
    with pytest.raises(ValueError, match="duplicate"):
        sg.prod(x, axis=(0, 0))
    with pytest.raises(ValueError, match="empty"):
        sg.argmax(sg.tensor("e", (0, 3)), axis=0)
    with pytest.raises(ValueError, match="at least one dimensional"):
        sg.diff(sg.scalar("s"))
    with pytest.raises(ValueError, match="non-negative"):
        sg.diff(x, n=-1)
    with pytest.raises(TypeError, match="axis must be specified"):
        sg.average(x, weights=np.ones(3))
    with pytest.raises(ValueError, match="consistent"):
        sg.average(x, axis=1, weights=np.ones(2))
    with pytest.raises(TypeError, match="out="):
        sg.cumsum(x, out=np.empty(6))
    with pytest.raises(TypeError, match="ddof"):
        sg.var(x, ddof="1")
    assert str(sg.diff(sg.tensor("y", (2, "n")), n=2).shape[1]) == "n-2"  # a derived size
    for numpy_call in (lambda: np.average(np.ones((2, 3)), weights=np.ones(3)),):
        with pytest.raises(TypeError):
            numpy_call()
