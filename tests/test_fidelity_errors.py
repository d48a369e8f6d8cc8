"""Fidelity audit, errors: an out-of-bounds axis raises NumPy's AxisError (also a
ValueError, an IndexError and symgrad's ShapeError) from every axis-taking function,
with a message naming the operand; shape mismatches raise ValueError."""
import numpy as np
import pytest

import symgrad as sg

AXIS_CALLS = ["sum", "mean", "prod", "max", "min", "var", "std", "argmax", "argmin", "cumsum",
              "cumprod", "diff", "flip", "roll", "sort", "argsort", "expand_dims", "squeeze",
              "moveaxis", "swapaxes", "concatenate", "stack", "take", "repeat", "count_nonzero",
              "median", "average", "logsumexp", "softmax", "any", "all", "nansum", "ptp",
              "trace", "diagonal", "cross", "linalg.norm",
              "linalg.vector_norm", "apply_along_axis" ]


def _call(m, name, x):
    f = m
    for part in name.split("."):
        f = getattr(f, part)
    args = {"moveaxis": (x, 5, 0), "swapaxes": (x, 0, 5), "concatenate": ([x, x],),
            "stack": ([x, x],), "take": (x, np.array([0])), "repeat": (x, 2),
            "roll": (x, 1), "trace": (x, 0, 0, 5), "diagonal": (x, 0, 0, 5),
            "cross": (x, x), "split": (x, 1), "tensordot": (x, x, ([5], [0]))}.get(name, (x,))
    kwargs = {} if name in ("moveaxis", "swapaxes", "trace", "diagonal", "tensordot") else {
        "axis": 5 if name != "cross" else 5}
    if name == "cross":
        kwargs = {"axis": 5}
    return f(*args, **kwargs)


@pytest.mark.parametrize("name", [n for n in AXIS_CALLS if n != "apply_along_axis"])
def test_axis_out_of_bounds_is_numpys_axis_error(name):
    value = np.ones((3, 3))
    try:
        _call(np if name not in ("logsumexp", "softmax") else _scipy(), name, value)
    except np.exceptions.AxisError:
        expected = np.exceptions.AxisError
    except ValueError:
        expected = ValueError
    else:
        pytest.skip("NumPy accepts it")
    x = sg.matrix("X", (3, 3))
    with pytest.raises(expected) as info:
        _call(sg, name, x)
    assert "5" in str(info.value)


def _scipy():
    return pytest.importorskip("scipy.special")


@pytest.mark.parametrize("build", [
    lambda m, a, b: a + b, lambda m, a, b: a @ b, lambda m, a, b: m.dot(a, b),
    lambda m, a, b: m.matmul(a, b), lambda m, a, b: m.concatenate([a, b]),
    lambda m, a, b: m.stack([a, b]), lambda m, a, b: m.where(a > 0, a, b),
    lambda m, a, b: m.einsum("ij,ij->i", a, b), lambda m, a, b: m.inner(a, b),
    lambda m, a, b: m.vdot(a, b), lambda m, a, b: m.reshape(a, (7,)),
    lambda m, a, b: m.broadcast_to(a, (4, 4)), lambda m, a, b: m.maximum(a, b)])
def test_shape_mismatch_is_value_error(build):
    a, b = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(ValueError):
        build(np, a, b)
    A, B = sg.matrix("A", (2, 3)), sg.matrix("B", (4, 5))
    with pytest.raises(ValueError) as info:
        build(sg, A, B)
    assert "(2, 3)" in str(info.value) or "(4, 5)" in str(info.value) or "A" in str(info.value)


@pytest.mark.parametrize("index", [5, (0, 5), (slice(None), -4), (0, 0, 0)])
def test_index_errors_are_index_errors(index):
    with pytest.raises(IndexError):
        np.ones((2, 3))[index]
    with pytest.raises(IndexError):
        sg.matrix("A", (2, 3))[index]


def test_float_index_is_type_or_index_error():
    with pytest.raises(IndexError):
        np.ones(3)[1.0]
    with pytest.raises((IndexError, TypeError)):
        sg.vector("v", 3)[1.0]


@pytest.mark.parametrize("build", [lambda m, a: m.max(a, axis=1), lambda m, a: m.min(a),
                                   lambda m, a: m.amax(a, axis=(0, 1))])
def test_extreme_of_an_empty_axis_raises_as_numpy(build):
    with pytest.raises(ValueError):
        build(np, np.ones((2, 0)))
    with pytest.raises(ValueError, match="zero-size"):
        build(sg, sg.matrix("E", (2, 0)))
    # an empty axis that is not reduced is fine, as in NumPy
    assert sg.max(sg.matrix("E", (2, 0)), axis=0).shape == np.max(np.ones((2, 0)), axis=0).shape


def test_stack_of_different_shapes_raises_instead_of_reordering():
    with pytest.raises(ValueError):
        np.stack([np.ones((2, 3)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="same shape"):
        sg.stack([sg.matrix("A", (2, 3)), sg.matrix("B", (3, 2))])


def test_diff_of_bools_is_not_equal_and_clip_without_bounds_is_identity():
    from fidelity_harness import check_case
    check_case(lambda m, a: m.diff(a, n=2, axis=0), [("b", (4, 3))], grad=False)
    if np.lib.NumpyVersion(np.__version__) >= "2.1.0":  # before, NumPy's clip(a) raised
        check_case(lambda m, a: m.clip(a, None, None), [("n", (2, 3))])


@pytest.mark.parametrize("build", [lambda a: sg.squeeze(a, 0), lambda a: sg.split(a, 2, axis=1),
                                   lambda a: sg.repeat(a, [1, 2], axis=1),
                                   lambda a: sg.reshape(a, (4, 2)), lambda a: a @ a,
                                   lambda a: sg.linalg.inv(a), lambda a: sg.sum(a, axis=3)])
def test_messages_name_the_operand_and_its_shape(build):
    with pytest.raises(ValueError) as info:
        build(sg.matrix("A", (2, 3)))
    assert "'A' (2, 3)" in str(info.value)
