"""NumPy's shape functions: values against NumPy for many argument combinations,
gradients against central finite differences, second derivatives, named
dimensions, and build-time errors where NumPy raises."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(0)
A2 = RNG.standard_normal((3, 4))
A3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)

# (name, input value, call on the module (np or sg) and the operand)
CASES = [
    ("ravel", A3, lambda m, a: m.ravel(a)),
    ("ravel_F", A3, lambda m, a: m.ravel(a, order="F")),
    ("squeeze", A3.reshape(2, 1, 3, 1, 4), lambda m, a: m.squeeze(a)),
    ("squeeze_axis", A3.reshape(2, 1, 3, 1, 4), lambda m, a: m.squeeze(a, axis=3)),
    ("squeeze_axes", A3.reshape(2, 1, 3, 1, 4), lambda m, a: m.squeeze(a, axis=(1, -2))),
    ("expand_dims0", A2, lambda m, a: m.expand_dims(a, 0)),
    ("expand_dims_neg", A2, lambda m, a: m.expand_dims(a, -1)),
    ("expand_dims_tuple", A2, lambda m, a: m.expand_dims(a, (0, 3))),
    ("atleast_1d_0d", np.float64(2.5), lambda m, a: m.atleast_1d(a)),
    ("atleast_2d_0d", np.float64(2.5), lambda m, a: m.atleast_2d(a)),
    ("atleast_2d_1d", V, lambda m, a: m.atleast_2d(a)),
    ("atleast_3d_1d", V, lambda m, a: m.atleast_3d(a)),
    ("atleast_3d_2d", A2, lambda m, a: m.atleast_3d(a)),
    ("atleast_3d_3d", A3, lambda m, a: m.atleast_3d(a)),
    ("moveaxis", A3, lambda m, a: m.moveaxis(a, 0, -1)),
    ("moveaxis_tuple", A3, lambda m, a: m.moveaxis(a, (0, 1), (2, 0))),
    ("swapaxes", A3, lambda m, a: m.swapaxes(a, 0, 2)),
    ("transpose_axes", A3, lambda m, a: m.transpose(a, (1, 0, 2))),
    ("transpose_neg", A3, lambda m, a: m.transpose(a, (-1, 0, 1))),
    ("flip_all", A3, lambda m, a: m.flip(a)),
    ("flip_axis", A3, lambda m, a: m.flip(a, 1)),
    ("flip_tuple", A3, lambda m, a: m.flip(a, (0, -1))),
    ("fliplr", A2, lambda m, a: m.fliplr(a)),
    ("flipud", A2, lambda m, a: m.flipud(a)),
    *[(f"rot90_k{k}", A2, lambda m, a, k=k: m.rot90(a, k)) for k in (-1, 0, 1, 2, 3, 5)],
    ("rot90_axes", A3, lambda m, a: m.rot90(a, 1, axes=(2, 0))),
    ("rot90_axes_k3", A3, lambda m, a: m.rot90(a, 3, axes=(1, 2))),
    ("roll_flat", A2, lambda m, a: m.roll(a, 5)),
    ("roll_axis", A2, lambda m, a: m.roll(a, -1, axis=1)),
    ("roll_tuple", A3, lambda m, a: m.roll(a, (1, 2), axis=(0, 2))),
    ("roll_same_axis", A2, lambda m, a: m.roll(a, (1, 2), axis=1)),
    ("roll_broadcast", A3, lambda m, a: m.roll(a, 1, axis=(0, 1))),
    ("repeat_flat", A2, lambda m, a: m.repeat(a, 2)),
    ("repeat_axis0", A2, lambda m, a: m.repeat(a, 3, axis=0)),
    ("repeat_axis1", A3, lambda m, a: m.repeat(a, 2, axis=-1)),
    ("repeat_counts", A2, lambda m, a: m.repeat(a, [2, 0, 1], axis=0)),
    ("repeat_counts1", V, lambda m, a: m.repeat(a, [1, 3, 0, 2, 1])),
    ("repeat_zero", A2, lambda m, a: m.repeat(a, 0, axis=1)),
    ("tile_int", V, lambda m, a: m.tile(a, 2)),
    ("tile_pair", A2, lambda m, a: m.tile(a, (2, 3))),
    ("tile_more", V, lambda m, a: m.tile(a, (2, 1, 2))),
    ("tile_fewer", A3, lambda m, a: m.tile(a, 2)),
    ("pad_int", A2, lambda m, a: m.pad(a, 1)),
    ("pad_pair", A2, lambda m, a: m.pad(a, (1, 2))),
    ("pad_axes", A2, lambda m, a: m.pad(a, ((0, 1), (2, 0)), constant_values=3.5)),
    ("pad_values", A2, lambda m, a: m.pad(a, 1, constant_values=((1, 2), (3, 4)))),
    ("pad_edge", A2, lambda m, a: m.pad(a, ((2, 1), (1, 3)), mode="edge")),
    ("pad_reflect", A2, lambda m, a: m.pad(a, ((2, 1), (1, 3)), mode="reflect")),
    ("pad_reflect_wide", V, lambda m, a: m.pad(a, (7, 9), mode="reflect")),
    ("pad_symmetric", A2, lambda m, a: m.pad(a, 2, mode="symmetric")),
    ("pad_wrap", A2, lambda m, a: m.pad(a, (1, 5), mode="wrap")),
    ("split3", A3.reshape(6, 4), lambda m, a: m.split(a, 3)),
    ("split_idx", A3.reshape(6, 4), lambda m, a: m.split(a, [1, 4], axis=0)),
    ("split_idx_neg", A3.reshape(6, 4), lambda m, a: m.split(a, [-3, 10], axis=1)),
    ("array_split", A3.reshape(6, 4), lambda m, a: m.array_split(a, 4)),
    ("array_split_axis", A3, lambda m, a: m.array_split(a, 3, axis=2)),
    ("hsplit", A2, lambda m, a: m.hsplit(a, 2)),
    ("hsplit_1d", V, lambda m, a: m.hsplit(a, [2])),
    ("vsplit", A3.reshape(6, 4), lambda m, a: m.vsplit(a, 2)),
    ("dsplit", A3, lambda m, a: m.dsplit(a, [1, 3])),
    ("tril", A2, lambda m, a: m.tril(a)),
    ("tril_k", A2, lambda m, a: m.tril(a, 1)),
    ("triu", A2, lambda m, a: m.triu(a)),
    ("triu_k", A3, lambda m, a: m.triu(a, -1)),
    ("tril_1d", V, lambda m, a: m.tril(a)),
    ("sort", A3, lambda m, a: m.sort(a)),
    ("sort_axis0", A3, lambda m, a: m.sort(a, axis=0)),
    ("sort_none", A2, lambda m, a: m.sort(a, axis=None)),
    ("sort_stable", A2, lambda m, a: m.sort(a, axis=1, kind="stable")),
    ("broadcast_to", V, lambda m, a: m.broadcast_to(a, (2, 5))),
    ("vstack", V, lambda m, a: m.vstack([a, 2 * a])),
    ("vstack_2d", A2, lambda m, a: m.vstack((a, a[:1]))),
    ("hstack", V, lambda m, a: m.hstack([a, a[:2]])),
    ("hstack_2d", A2, lambda m, a: m.hstack([a, a])),
    ("dstack", A2, lambda m, a: m.dstack([a, a])),
    ("dstack_1d", V, lambda m, a: m.dstack([a, a])),
    ("column_stack", V, lambda m, a: m.column_stack([a, a])),
    ("column_stack_mixed", A2, lambda m, a: m.column_stack([a[:, 0], a])),
]


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


@pytest.mark.parametrize("name,value,call", CASES, ids=[c[0] for c in CASES])
def test_values_match_numpy(name, value, call):
    x = sg.tensor("x", np.shape(value))
    outs = _as_list(call(sg, x))
    expected = _as_list(call(np, value))
    assert len(outs) == len(expected)
    got = sg.function([x], outs)(value)
    got = got if isinstance(got, tuple) else (got,)
    for node, g, e in zip(outs, got, expected):
        assert node.shape == e.shape
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("name,value,call", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(name, value, call):
    x = sg.tensor("x", np.shape(value))
    outs = _as_list(call(sg, x))
    weights = [RNG.standard_normal(o.shape) for o in outs]
    cost = sum(sg.sum(sg.sin(o) * w) for o, w in zip(outs, weights) if o.shape and 0 not in o.shape)
    if not isinstance(cost, sg.Node):
        return
    f = sg.function([x], [cost, sg.grad(cost, x)])
    numeric = central_difference(lambda v: f(v)[0], [np.asarray(value, float)], 0)
    np.testing.assert_allclose(f(value)[1], numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("build", [
    lambda x: sg.sort(x) ** 2 * np.arange(1.0, 6.0),
    lambda x: sg.pad(x, (2, 3), mode="reflect") ** 3,
    lambda x: sg.roll(x, 2) * x,
    lambda x: sg.repeat(x, 2) ** 2,
    lambda x: sg.tril(sg.outer(x, x)) * sg.flip(x),
], ids=["sort", "pad", "roll", "repeat", "tril_flip"])
def test_second_derivatives_match_finite_differences_of_the_gradient(build):
    x = sg.vector("x", 5)
    cost = sg.sum(sg.sin(build(x)))
    grad = sg.function([x], sg.grad(cost, x))
    hess = sg.function([x], sg.hessian(cost, x))(V)
    numeric = np.stack([central_difference(lambda v: grad(v)[i], [V.copy()], 0) for i in range(5)])
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6)


def test_sort_gradient_is_the_sorting_permutation():
    x = sg.vector("x", 4)
    g = sg.grad(sg.sum(sg.sort(x) * np.array([1.0, 2.0, 3.0, 4.0])), x)
    np.testing.assert_array_equal(sg.function([x], g)(np.array([3.0, -1.0, 7.0, 0.0])),
                                  [3.0, 1.0, 4.0, 2.0])


def test_argsort_matches_numpy_and_is_integer():
    x = sg.matrix("x", (3, 4))
    for kwargs in ({}, {"axis": 0}, {"axis": None}, {"kind": "stable"}):
        node = sg.argsort(x, **kwargs)
        assert node.dtype == "int64"
        np.testing.assert_array_equal(sg.function([x], node)(A2), np.argsort(A2, **kwargs))


def test_named_dimensions_stay_symbolic():
    x = sg.matrix("x", ("n", 3))
    assert sg.flip(x).shape == ("n", 3)
    assert sg.roll(x, 1, axis=0).shape == ("n", 3)
    assert sg.sort(x, axis=0).shape == ("n", 3)
    assert sg.repeat(x, 2, axis=1).shape == ("n", 6)
    assert sg.tile(x, (1, 2)).shape == ("n", 6)
    assert sg.pad(x, ((0, 0), (1, 1))).shape == ("n", 5)
    assert sg.tril(sg.matrix("S", ("n", "n"))).shape == ("n", "n")
    assert sg.expand_dims(x, 1).shape == ("n", 1, 3)
    assert sg.moveaxis(x, 0, 1).shape == (3, "n")
    assert sg.ravel(sg.vector("v", "n")).shape == ("n",)
    parts = sg.split(x, 3, axis=1)
    assert [p.shape for p in parts] == [("n", 1)] * 3
    y = sg.sum(sg.sin(sg.tril(x @ x.T, -1)) * sg.flip(sg.sort(x[:, 0])))
    f = sg.function([x], [y, sg.grad(y, x)])
    value = RNG.standard_normal((4, 3))
    expected = np.sum(np.sin(np.tril(value @ value.T, -1)) * np.flip(np.sort(value[:, 0])))
    np.testing.assert_allclose(f(value)[0], expected)
    numeric = central_difference(lambda v: f(v)[0], [value], 0)
    np.testing.assert_allclose(f(value)[1], numeric, rtol=1e-6, atol=1e-7)


def test_named_sizes_multiply_or_raise():
    """Derived sizes (tests/test_named_sizes.py); index maps of the size's value raise."""
    x = sg.matrix("x", ("n", 3))
    assert [str(d) for d in sg.repeat(x, 2, axis=0).shape] == ["2*n", "3"]
    assert [str(d) for d in sg.tile(x, (2, 1)).shape] == ["2*n", "3"]
    assert [str(d) for d in sg.pad(x, 1).shape] == ["n+2", "5"]
    assert [str(d) for d in sg.ravel(x).shape] == ["3*n"]
    for build in (lambda: sg.split(x, 2), lambda: sg.pad(x, 1, mode="edge"),
                  lambda: sg.repeat(x, [1, 2, 3], axis=0)):
        with pytest.raises(sg.ShapeError, match="named"):
            build()


def test_array_from_nested_lists():
    a, b = sg.scalar("a"), sg.scalar("b")
    m = sg.array([[a, 1.0], [b, a * b]])
    assert m.shape == (2, 2)
    f = sg.function([a, b], [m, sg.grad(sg.sum(m * m), a)])
    value, g = f(2.0, 3.0)
    np.testing.assert_array_equal(value, [[2.0, 1.0], [3.0, 6.0]])
    assert g == 2 * 2.0 + 2 * 6.0 * 3.0
    v = sg.vector("v", 3)
    assert sg.array([v, 2 * v]).shape == (2, 3)
    assert sg.array([1, 2]).value.tolist() == [1, 2]
    assert sg.array(v, ndmin=2).shape == (1, 3)
    assert sg.array([1, 2], dtype=float).dtype == "float64"
    assert sg.array(3.0, ndmin=2).shape == (1, 1)
    assert sg.pad(v, 2, mode="empty").shape == (7,)
    with pytest.raises(ValueError, match="inhomogeneous"):
        sg.array([v, a])


def test_node_methods_and_numpy_dispatch():
    x = sg.tensor("x", (2, 1, 3))
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(axis=1).shape == (2, 3)
    assert x.swapaxes(0, 2).shape == (3, 1, 2)
    assert x.repeat(2, axis=0).shape == (4, 1, 3)
    assert x.repeat(2).shape == (12,)
    assert np.flip(x, 0).op is sg.REGISTRY["flip"]
    assert [p.shape for p in np.split(x, 3, axis=2)] == [(2, 1, 1)] * 3
    assert np.pad(x, 1).shape == (4, 3, 5)
    assert np.sort(x).op is sg.REGISTRY["sort"]


@pytest.mark.parametrize("build,error,match", [
    (lambda: sg.squeeze(sg.matrix("e", (2, 3)), axis=0), ValueError, "squeeze"),
    (lambda: sg.expand_dims(sg.vector("e", 2), 3), np.exceptions.AxisError, "out of bounds"),
    (lambda: sg.expand_dims(sg.vector("e", 2), (0, 0)), np.exceptions.AxisError, "repeated"),
    (lambda: sg.moveaxis(sg.matrix("e", (2, 3)), 0, 2), np.exceptions.AxisError, "destination"),
    (lambda: sg.moveaxis(sg.matrix("e", (2, 3)), (0, 1), 0), ValueError, "same number"),
    (lambda: sg.swapaxes(sg.matrix("e", (2, 3)), 0, 2), np.exceptions.AxisError, "swapaxes"),
    (lambda: sg.flip(sg.matrix("e", (2, 3)), 2), np.exceptions.AxisError, "flip"),
    (lambda: sg.fliplr(sg.vector("e", 3)), ValueError, "2-d"),
    (lambda: sg.flipud(sg.scalar("e")), ValueError, "1-d"),
    (lambda: sg.rot90(sg.vector("e", 3)), ValueError, "Axes must be different"),
    (lambda: sg.rot90(sg.matrix("e", (2, 3)), axes=(0, 1, 2)), ValueError, "len"),
    (lambda: sg.roll(sg.matrix("e", (2, 3)), (1, 2), axis=(0, 1, 1)), sg.ShapeError, "roll"),
    (lambda: sg.roll(sg.matrix("e", (2, 3)), 1, axis=2), sg.ShapeError, "roll"),
    (lambda: sg.repeat(sg.vector("e", 3), [1, 2]), ValueError, "broadcast"),
    (lambda: sg.repeat(sg.vector("e", 3), -1), ValueError, "negative"),
    (lambda: sg.tile(sg.vector("e", 3), -1), ValueError, "negative"),
    (lambda: sg.pad(sg.vector("e", 3), 1, mode="edge", constant_values=1), ValueError,
     "unsupported keyword"),
    (lambda: sg.pad(sg.vector("e", 3), 1, mode="foo"), ValueError, "not supported"),
    (lambda: sg.pad(sg.vector("e", 3), -1), ValueError, "negative"),
    (lambda: sg.pad(sg.vector("e", 3), 1.5), TypeError, "integral"),
    (lambda: sg.pad(sg.vector("e", 0), 1, mode="reflect"), ValueError, "empty axis"),
    (lambda: sg.split(sg.vector("e", 5), 2), ValueError, "equal division"),
    (lambda: sg.array_split(sg.vector("e", 5), 0), ValueError, "larger than 0"),
    (lambda: sg.hsplit(sg.scalar("e"), 1), ValueError, "1 or more"),
    (lambda: sg.vsplit(sg.vector("e", 4), 2), ValueError, "2 or more"),
    (lambda: sg.vstack(x for x in [sg.vector("e", 2)]), TypeError, "sequence"),
    (lambda: sg.vstack([sg.vector("e", 2), sg.vector("f", 3)]), sg.ShapeError, "concatenate"),
    (lambda: sg.sort(sg.scalar("e")), np.exceptions.AxisError, "dimension 0"),
    (lambda: sg.sort(sg.vector("e", 3), order="a"), ValueError, "order"),
    (lambda: sg.sort(sg.matrix("e", (2, 3)), axis=2), sg.ShapeError, "sort"),
    (lambda: sg.tril(sg.scalar("e")), TypeError, "tri"),
    (lambda: sg.broadcast_to(sg.vector("e", 3), (2, 4)), sg.ShapeError, "broadcast"),
])
def test_build_time_errors_as_numpy_raises(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_pad_with_a_node_as_constant_value_differentiates_it():
    x, c = sg.matrix("x", (2, 3)), sg.scalar("c")
    padded = sg.pad(x, ((1, 0), (2, 1)), constant_values=c)
    f = sg.function([x, c], [padded, sg.grad(sg.sum(padded ** 2), c)])
    value, g = f(A2[:2, :3], 1.5)
    np.testing.assert_array_equal(value, np.pad(A2[:2, :3], ((1, 0), (2, 1)), constant_values=1.5))
    assert g == pytest.approx(2 * 1.5 * (value.size - 6))


def test_tri_matches_numpy_with_named_sizes():
    s = sg.matrix("s", ("n", "m"))
    mask = sg.tri("n", "m", k=1)
    f = sg.function([s], s * mask)
    value = RNG.standard_normal((3, 5))
    np.testing.assert_array_equal(f(value), value * np.tri(3, 5, 1))
    np.testing.assert_array_equal(sg.function([], sg.tri(4, 2, -1))(), np.tri(4, 2, -1))
