"""Sizes derived from named dimensions (``n-1`` of ``x[1:]``, ``3*n`` of ``ravel``
of ``(n, 3)``, ``2*n`` of ``repeat``, ``n+3`` of ``pad``): the shape rules, the
call-time check of the bound sizes, and VJP/JVP against central finite
differences at two different bound sizes."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference, directional_difference
from symgrad.ir.shapes import Size, dim_add, dim_mul, make_dim, size_of

FORMS = {  # name: (input shape, symgrad form, NumPy form, derived shape)
    "x[1:]": (("n", 3), lambda x: x[1:], lambda x: x[1:], ("n-1", 3)),
    "x[:-1]": (("n", 3), lambda x: x[:-1], lambda x: x[:-1], ("n-1", 3)),
    "x[2:n]": (("n",), lambda x: x[2:"n"], lambda x: x[2:], ("n-2",)),
    "x[1:-2, :]": (("n", 3), lambda x: x[1:-2, :], lambda x: x[1:-2, :], ("n-3", 3)),
    "x[1:] - x[:-1]": (("n",), lambda x: x[1:] - x[:-1], lambda x: x[1:] - x[:-1], ("n-1",)),
    "diff": (("n", 2), lambda x: sg.diff(x, axis=0), lambda x: np.diff(x, axis=0), ("n-1", 2)),
    "mean of x[1:]": (("n",), lambda x: sg.mean(sg.exp(x[1:])), lambda x: np.mean(np.exp(x[1:])),
                      ()),
    "repeat axis 0": (("n", 3), lambda x: sg.repeat(x, 2, axis=0),
                      lambda x: np.repeat(x, 2, axis=0), ("2*n", 3)),
    "tile": (("n",), lambda x: sg.tile(x, 3), lambda x: np.tile(x, 3), ("3*n",)),
    "pad constant": (("n", 2), lambda x: sg.pad(x, ((1, 2), (0, 1))),
                     lambda x: np.pad(x, ((1, 2), (0, 1))), ("n+3", 3)),
    "ravel (n, 3)": (("n", 3), sg.ravel, np.ravel, ("3*n",)),
    "reshape (3n,) -> (n, 3)": (("n", 3), lambda x: sg.reshape(sg.ravel(x) * 2.0, (-1, 3)),
                                lambda x: np.reshape(np.ravel(x) * 2.0, (-1, 3)), ("n", 3)),
    "concatenate with ints": (("n",), lambda x: sg.concatenate([np.ones(2), x, np.zeros(1)]),
                              lambda x: np.concatenate([np.ones(2), x, np.zeros(1)]), ("n+3",)),
    "append": (("n",), lambda x: sg.append(x, 5.0), lambda x: np.append(x, 5.0), ("n+1",)),
    "x[1:].T @ x[:-1]": (("n", 3), lambda x: x[1:].T @ x[:-1], lambda x: x[1:].T @ x[:-1],
                         (3, 3)),
}


def _sized(shape, n):
    return tuple(n if d == "n" else d for d in shape)


@pytest.mark.parametrize("case", sorted(FORMS))
def test_shape_is_derived(case):
    shape, build, _, expected = FORMS[case]
    out = build(sg.tensor("x", shape))
    assert tuple(str(d) for d in out.shape) == tuple(str(d) for d in expected)


@pytest.mark.parametrize("n", [4, 7])
@pytest.mark.parametrize("case", sorted(FORMS))
def test_vjp_and_jvp_at_two_sizes(case, n):
    shape, build, reference, _ = FORMS[case]
    rng = np.random.default_rng(n)
    x = sg.tensor("x", shape)
    out = build(x)
    value = rng.standard_normal(_sized(shape, n))
    f_out = sg.function([x], out)
    np.testing.assert_allclose(f_out(value), reference(value), rtol=1e-12)
    w_value = rng.standard_normal(np.shape(f_out(value)))
    w = sg.tensor("w", out.shape)
    cost = sg.sum(out * w)
    f = sg.function([x, w], [cost, sg.grad(cost, x)])
    numeric = central_difference(lambda v, ww: f(v, ww)[0], [value, w_value], 0)
    np.testing.assert_allclose(f(value, w_value)[1], numeric, rtol=1e-6, atol=1e-7)
    v = sg.tensor("v", shape)
    direction = rng.standard_normal(value.shape)
    tangent = sg.function([x, v], sg.jvp(out, x, v))(value, direction)
    np.testing.assert_allclose(tangent, directional_difference(f_out, [value], [direction]),
                               rtol=1e-6, atol=1e-7)


def test_the_bound_sizes_are_checked_at_call_time():
    x = sg.vector("x", "n")
    f = sg.function([x], x[2:-2])
    assert f(np.arange(5.0)).tolist() == [2.0]
    assert f(np.arange(4.0)).shape == (0,)
    with pytest.raises(ValueError, match=r"size n-4 = -1 at n=3"):
        f(np.arange(3.0))


def test_derived_sizes_unify_and_mismatch_as_sizes():
    x = sg.vector("x", "n")
    assert (x[1:] + x[:-1]).shape == (make_dim({("n",): 1, (): -1}),)
    with pytest.raises(sg.ShapeError):
        x[1:] + x  # n-1 against n
    with pytest.raises(sg.ShapeError):
        x[1:] + x[2:]
    assert "n-1" != x[1:].shape[0] and x[1:].shape[0] != "n-1"  # never a plain name


def test_size_arithmetic():
    n_1 = dim_add("n", -1)
    assert isinstance(n_1, Size) and str(n_1) == "n-1"
    assert dim_add(n_1, 1) == "n" and isinstance(dim_add(n_1, 1), str)
    assert str(dim_mul("n", "m")) == "m*n" and str(dim_mul(3, n_1)) == "3*n-3"
    assert size_of(("n", 3, "m")) == dim_mul(3, dim_mul("m", "n"))
    assert dim_mul(n_1, 0) == 0


def test_slices_whose_size_depends_on_the_value_are_refused():
    x = sg.vector("x", "n")
    for bad in (lambda: x[-3:], lambda: x[:2], lambda: x[::2], lambda: x[1:"m"]):
        with pytest.raises(sg.ShapeError, match="named size 'n'|not axis"):
            bad()


def test_two_named_operands_cannot_be_concatenated():
    x, y = sg.vector("x", "n"), sg.vector("y", "m")
    with pytest.raises(sg.ShapeError, match="more than one operand of named size"):
        sg.concatenate([x, y])


def test_check_grad_draws_sizes_the_slices_need():
    x = sg.vector("x", "n")
    assert sg.check_grad(sg.sum(sg.sin(x[2:-3]) ** 2), x).ok
