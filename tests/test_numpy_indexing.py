"""NumPy indexing of nodes: values and shapes against NumPy for basic and
advanced keys, gradients (repeated indices accumulate) and second derivatives
against finite differences, build-time errors of NumPy's kinds, and the
compiled function and the standalone codegen module for every form."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))
x = sg.tensor("x", (3, 4, 5))
MASK = X[:, :, 0] > 0

KEYS = [
    0, -1, (0, 1), (slice(1, None), -2), (slice(None, None, -1),), (slice(None), slice(3, 0, -2)),
    (Ellipsis, 1), (1, Ellipsis), (None,), (None, Ellipsis, None), (slice(None), None, 2),
    ([0, 2, 2],), (slice(None), [0, 3, 3, -1]), ([0, 2], slice(None), [1, 4]),
    ([[0, 1], [2, 2]],), (1, slice(None), [0, -1]), (slice(None), 1, [0, 2]),
    ([0, 1], [1, 2], [3, 4]), (np.array([2, 0]), None), (None, [1, 1], None),
    ([0], None, [1]), ([], slice(None)), (MASK,), (np.array([True, False, True]),),
    (slice(None), np.array([False, True, True, False]), 1), (MASK, [0, 4, 4, 2, 1, 3][:MASK.sum()]),
    (slice(None), [[0], [3]], [1, 2, 4]), (Ellipsis, [0, 0]), (np.int64(1), slice(None), np.array(2)),
]
IDS = [f"key{i}" for i in range(len(KEYS))]


def _module(inputs, outputs):
    namespace = {"__name__": "generated"}
    exec(compile(sg.codegen(inputs, outputs), "<generated>", "exec"), namespace)
    return namespace["f"]


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_values_and_shapes_match_numpy(key):
    node = x[key]
    want = X[key]
    assert node.shape == want.shape
    np.testing.assert_array_equal(sg.function([x], node)(X), want)
    np.testing.assert_array_equal(_module([x], [node])(X)[0], want)


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_gradients_match_central_differences(key):
    _check_gradient(x[key], x, X)


def _check_gradient(node, point, value):
    """grad of sum(sin(node) * w) wrt ``point`` vs central differences, compiled and codegen."""
    weights = RNG.standard_normal(tuple(node.shape))
    cost = sg.sum(sg.sin(node) * weights)
    grad = sg.grad(cost, point)
    f = sg.function([point], [cost, grad])
    numeric = central_difference(lambda v: f(v)[0], [value], 0)
    np.testing.assert_allclose(f(value)[1], numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(_module([point], [cost, grad])(value)[1], numeric,
                               rtol=1e-6, atol=1e-8)


def test_repeated_indices_accumulate_like_add_at():
    key = (slice(None), [1, 1, 1, 3])
    cost = sg.sum(x[key] * 2.0)
    got = sg.function([x], sg.grad(cost, x))(X)
    want = np.zeros_like(X)
    np.add.at(want, key, 2.0)
    np.testing.assert_array_equal(got, want)
    assert got[0, 1, 0] == 6.0


def test_embedding_lookup_with_an_int_input():
    E = sg.matrix("E", (5, 3))
    ids = sg.tensor("ids", ("b", "t"), dtype="int64")
    rows = E[ids]
    assert rows.shape == ("b", "t", 3)
    assert str(rows) == "E[ids]"
    cost = sg.sum(sg.tanh(rows))
    f = sg.function([E, ids], [rows, sg.grad(cost, E)])
    e = RNG.standard_normal((5, 3))
    i = np.array([[0, 4, 4], [-1, 2, 0]])
    value, grad = f(e, i)
    np.testing.assert_array_equal(value, e[i])
    want = np.zeros((5, 3))
    np.add.at(want, i, 1 - np.tanh(e[i]) ** 2)
    np.testing.assert_allclose(grad, want, rtol=1e-12)
    with pytest.raises(IndexError):  # NumPy's own run-time check for input indices
        f(e, np.array([[5, 0, 0], [0, 0, 0]]))


def test_named_dimensions():
    a = sg.tensor("a", ("n", 4))
    assert a[[0, 0, 2]].shape == (3, 4)
    assert a[:, [1, 3]].shape == ("n", 2)
    assert a[::-1].shape == ("n", 4)
    assert a[None, ..., 0].shape == (1, "n")
    assert a[:, np.array([True, False, True, True])].shape == ("n", 3)
    with pytest.raises(IndexError, match="named size 'n'"):
        a[np.array([True, False])]
    value = RNG.standard_normal((6, 4))
    node = a[::-1, [1, 3]]
    np.testing.assert_array_equal(sg.function([a], node)(value), value[::-1, [1, 3]])
    grad = sg.grad(sg.sum(node * node), a)
    want = np.zeros_like(value)
    want[:, [1, 3]] = 2 * value[:, [1, 3]]
    np.testing.assert_allclose(sg.function([a], grad)(value), want)


def test_second_derivatives_with_repeated_indices():
    v = sg.vector("v", 4)
    ids = [0, 2, 2, 3, 2]
    cost = sg.sum(v[ids] ** 3)
    point = RNG.standard_normal(4)
    counts = np.bincount(ids, minlength=4)
    hessian = sg.function([v], sg.hessian(cost, v))(point)
    np.testing.assert_allclose(hessian, np.diag(6 * point * counts), rtol=1e-12)
    grad = sg.function([v], sg.grad(cost, v))
    numeric = np.stack([central_difference(lambda p: grad(p)[k], [point], 0) for k in range(4)])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-8)
    u = sg.vector("u", 4)
    hvp = sg.function([v, u], sg.hvp(cost, v, u))
    direction = RNG.standard_normal(4)
    np.testing.assert_allclose(hvp(point, direction), hessian @ direction, rtol=1e-12)


def test_jvp_of_advanced_indexing():
    t = sg.tensor("t", (3, 4, 5))
    key = ([0, 2, 2], slice(None), [1, 1, 4])
    tangent = sg.jvp(x[key], x, t)
    direction = RNG.standard_normal(X.shape)
    np.testing.assert_array_equal(sg.function([x, t], tangent)(X, direction), direction[key])


def test_jacobian_of_a_gather_in_a_chain():
    v = sg.vector("v", 3)
    out = sg.exp(v[[2, 0, 0]])
    point = RNG.standard_normal(3)
    J = sg.function([v], sg.jacobian(out, v))(point)
    want = np.zeros((3, 3))
    for row, col in enumerate([2, 0, 0]):
        want[row, col] = np.exp(point[col])
    np.testing.assert_allclose(J, want, rtol=1e-12)


BAD_KEYS = [
    ("int out of range", (3,), "out of bounds"),
    ("negative out of range", (slice(None), -5), "out of bounds"),
    ("array out of range", ([0, 3],), "out of bounds"),
    ("array negative out of range", (slice(None), slice(None), [-6]), "out of bounds"),
    ("too many", (0, 0, 0, 0), "too many indices"),
    ("two ellipses", (Ellipsis, 0, Ellipsis), "single ellipsis"),
    ("string", ("a",), "valid indices"),
    ("float", (1.5,), "valid indices"),
    ("float array", ([0.0, 1.0],), "integer (or boolean) type"),
    ("mask mismatch", (np.ones(4, dtype=bool),), "boolean index did not match"),
    ("broadcast mismatch", ([0, 1], [0, 1, 2]), "could not be broadcast"),
]


@pytest.mark.parametrize("key,words", [pytest.param(k, w, id=i) for i, k, w in BAD_KEYS])
def test_bad_keys_raise_index_error_as_numpy_does(key, words):
    with pytest.raises(IndexError):
        X[key]
    with pytest.raises(IndexError) as info:
        x[key]
    assert words in str(info.value) and "getitem('x' (3, 4, 5))" in str(info.value)


def test_other_build_time_errors():
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="slice indices"):
        x[1.5:]
    with pytest.raises(IndexError, match="integer"):
        x[sg.vector("f", 2)]
    with pytest.raises(TypeError, match="sg.where"):  # an input mask: tests/test_numpy11b_masks.py
        x[x[:, 0, 0] > 0]
    with pytest.raises(sg.ShapeError, match="'::-1'"):
        sg.vector("w", "n")[:2]  # min(2, n): refused (n-1 of [1:] is tests/test_named_sizes.py)
    np.testing.assert_array_equal(  # a constant boolean node is a mask like its array
        sg.function([x], x[sg.constant(MASK)])(X), X[MASK])


A = RNG.standard_normal((3, 4))
a = sg.matrix("a", (3, 4))


@pytest.mark.parametrize("indices,axis", [
    ([0, 5, 5, -1], None), (2, None), ([[1], [3]], 1), (-1, 0), (np.array([[0, 2, 2]]), 0),
    ((1, 1), 1), ([], 1)])
def test_take_matches_numpy(indices, axis):
    node = sg.take(a, indices, axis=axis)
    want = np.take(A, indices, axis=axis)
    assert node.shape == want.shape
    np.testing.assert_array_equal(sg.function([a], node)(A), want)
    np.testing.assert_array_equal(_module([a], [node])(A)[0], want)
    _check_gradient(node, a, A)
    assert np.take(a, indices, axis=axis) is node  # NumPy's dispatch


@pytest.mark.parametrize("indices,axis", [
    (np.array([[0], [3], [3]]), 1), (np.array([[2, 0, 0, 1]]), 0), (np.array([[1, 1, 0, 3, 3]] * 3), -1),
    (np.array([[0, 2, 2]]).T, 0), (np.array([11, 0, 0]), None)])
def test_take_along_axis_matches_numpy(indices, axis):
    node = sg.take_along_axis(a, indices, axis)
    want = np.take_along_axis(A, indices, axis)
    assert node.shape == want.shape
    np.testing.assert_array_equal(sg.function([a], node)(A), want)
    np.testing.assert_array_equal(_module([a], [node])(A)[0], want)
    _check_gradient(node, a, A)


def test_take_along_axis_with_an_int_input_and_named_dims():
    s = sg.tensor("s", ("n", 4))
    order = sg.tensor("order", ("n", 2), dtype="int64")
    top = sg.take_along_axis(s, order, axis=1)
    assert top.shape == ("n", 2)
    assert str(top) == "take_along_axis(s, order, axis=1)"
    cost = sg.sum(top ** 3)
    f = sg.function([s, order], [top, sg.grad(cost, s)])
    value = RNG.standard_normal((5, 4))
    picks = np.argsort(value, axis=1)[:, :2]
    picks[0] = [1, 1]
    got, grad = f(value, picks)
    np.testing.assert_array_equal(got, np.take_along_axis(value, picks, 1))
    want = np.zeros_like(value)
    np.add.at(want, (np.arange(5)[:, None], picks), 3 * got ** 2)
    np.testing.assert_allclose(grad, want, rtol=1e-12)
    assert sg.check_grad(cost, s).ok


def test_second_derivatives_of_take_along_axis():
    v = sg.matrix("v", (2, 3))
    picks = np.array([[0, 0], [2, 1]])
    cost = sg.sum(sg.take_along_axis(v, picks, 1) ** 3)
    point = RNG.standard_normal((2, 3))
    hessian = sg.function([v], sg.hessian(cost, v))(point)
    counts = np.zeros((2, 3))
    np.add.at(counts, (np.arange(2)[:, None], picks), 1)
    want = np.diag((6 * point * counts).ravel()).reshape(2, 3, 2, 3)
    np.testing.assert_allclose(hessian, want, rtol=1e-12)


def test_take_errors_are_numpys():
    with pytest.raises(IndexError, match="out of bounds") as info:
        sg.take(a, [4], axis=1)
    assert "'a' (3, 4)" in str(info.value)
    with pytest.raises(IndexError, match="take_along_axis.*out of bounds"):
        sg.take_along_axis(a, np.array([[7]]), 1)
    with pytest.raises(IndexError, match="could not be broadcast"):
        sg.take_along_axis(a, np.array([[0], [1]]), 1)
    with pytest.raises(ValueError, match="same number of dimensions"):
        sg.take_along_axis(a, np.array([0, 1]), 1)
    with pytest.raises(IndexError, match="integer"):
        sg.take_along_axis(a, np.array([[0.5]]), 1)
    with pytest.raises(ValueError, match="mode"):
        sg.take(a, [0], mode="nearest")  # 'clip' and 'wrap' are NumPy's (test_fidelity_*)
    with pytest.raises(sg.ShapeError, match="out of bounds"):
        sg.take(a, [0], axis=2)
