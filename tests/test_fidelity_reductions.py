"""Fidelity audit, reductions: every reduction against NumPy for axis forms (None, negative,
tuples), keepdims, 0-d/1-d/3-d and size-1/size-0 operands, int and bool operands (NumPy's
result dtype), and its gradient against finite differences."""
import numpy as np
import pytest

from fidelity_harness import check_case

AXES = [None, 0, -1, (0, 2), (-1, 0), (0, 1, 2)]
DIFFERENTIABLE = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "nansum",
                  "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "ptp"]
ARG = ["argmax", "argmin", "nanargmax", "nanargmin"]


def _has(name):
    import symgrad as sg
    return hasattr(sg, name)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions(name, axis, keepdims):
    if not _has(name):
        pytest.fail(f"sg.{name} missing")
    check_case(lambda m, x: getattr(m, name)(x, axis=axis, keepdims=keepdims), [("n", (2, 3, 4))])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "var", "std"])
@pytest.mark.parametrize("shape,axis", [((), None), ((5,), 0), ((5,), -1), ((1, 3), 0),
                                        ((3, 1), -1), ((1,), None), ((), ())])
def test_small_operands(name, shape, axis):
    check_case(lambda m, x: getattr(m, name)(x, axis=axis), [("n", shape)])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "amax", "var", "std",
                                  "cumsum", "cumprod", "count_nonzero", "argmax", "any", "all"])
@pytest.mark.parametrize("kind", ["i", "b"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_int_and_bool_dtypes(name, kind, axis):
    if kind == "b" and name in ("var", "std", "cumprod"):
        pass
    def f(m, x):
        return getattr(m, name)(x, axis=axis)
    try:
        f(np, np.ones((2, 3), dtype=bool if kind == "b" else np.int64))
    except TypeError:
        pytest.skip("NumPy rejects it too")
    check_case(f, [(kind, (2, 3))], grad=False)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std"])
@pytest.mark.parametrize("kind", ["n", "i", "b"])
def test_dtype_keyword(name, kind):
    check_case(lambda m, x: getattr(m, name)(x, axis=0, dtype=np.float64), [(kind, (3, 2))],
               grad=kind == "n")


@pytest.mark.parametrize("name", ARG)
@pytest.mark.parametrize("axis", [None, 0, -1, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_arg_reductions(name, axis, keepdims):
    check_case(lambda m, x: getattr(m, name)(x, axis=axis, keepdims=keepdims), [("n", (2, 3, 4))])


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
def test_ddof(name, ddof, axis):
    check_case(lambda m, x: getattr(m, name)(x, axis=axis, ddof=ddof), [("n", (2, 3, 4))])


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp(axis, keepdims):
    check_case(lambda m, x: (m.logaddexp.reduce(x, axis=axis, keepdims=keepdims) if m is np
                             else m.logsumexp(x, axis=axis, keepdims=keepdims)), [("n", (2, 3, 4))])


@pytest.mark.parametrize("name", ["sum", "mean", "max", "prod", "var"])
def test_size_zero_dim(name):
    def f(m, x):
        return getattr(m, name)(x, axis=1)
    if name in ("max",):
        check_case(lambda m, x: getattr(m, name)(x, axis=0), [("n", (2, 0))], grad=False)
    else:
        check_case(f, [("n", (2, 0))], grad=False)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, -1, 1])
def test_scans(name, axis):
    check_case(lambda m, x: getattr(m, name)(x, axis=axis), [("n", (2, 3, 4))])


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("axis", [0, -1, 1])
def test_diff(n, axis):
    check_case(lambda m, x: m.diff(x, n=n, axis=axis), [("n", (3, 4, 5))])


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_average_weights(axis):
    shape = (3, 4) if axis is None else (3, 4)
    wshape = shape if axis is None else (shape[axis],)
    check_case(lambda m, x, w: m.average(x, axis=axis, weights=w), [("n", shape), ("p", wshape)])
    check_case(lambda m, x, w: m.average(x, axis=axis, weights=w, returned=True),
               [("n", shape), ("p", wshape)])


@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_median_quantile(axis):
    check_case(lambda m, x: m.median(x, axis=axis), [("n", (3, 5))])
    check_case(lambda m, x: m.quantile(x, 0.3, axis=axis), [("n", (3, 5))])
    check_case(lambda m, x: m.percentile(x, [10.0, 70.0], axis=axis), [("n", (3, 5))])


@pytest.mark.parametrize("name", ["sum", "prod", "cumsum", "cumprod"])
@pytest.mark.parametrize("kind", ["n", "i", "b"])
def test_accumulator_dtype(name, kind):
    check_case(lambda m, x: getattr(m, name)(x, axis=0, dtype=np.int64), [(kind, (3, 2))],
               grad=False)
    check_case(lambda m, x: getattr(m, name)(x, axis=-1, dtype=np.float64), [(kind, (3, 2))],
               grad=kind == "n")


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std"])
@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,)])
def test_where_keyword(name, axis, mask_shape):
    mask = np.random.default_rng(3).random(mask_shape) < 0.7
    mask[..., 0] = True
    with np.errstate(all="ignore"):  # an all-False slice: NaN mean (finite differences too)
        empty = np.isnan(np.var(np.ones((3, 4)), axis=axis, where=mask, ddof=1)).any()
    check_case(lambda m, x: getattr(m, name)(x, axis=axis, where=mask), [("n", (3, 4))],
               grad=not empty)
    check_case(lambda m, x, w: getattr(m, name)(x, axis=axis, where=w),
               [("n", (3, 4)), ("b", mask_shape)], seed=4, atol=1e-8) if name in ("sum", "prod") \
        else None


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_where_with_ddof(name, ddof):
    mask = np.array([[True, False, True, True], [True, True, False, True], [False, True, True, True]])
    check_case(lambda m, x: getattr(m, name)(x, axis=1, ddof=ddof, where=mask, keepdims=True),
               [("n", (3, 4))])


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "nearest", "midpoint",
                                    "interpolated_inverted_cdf", "hazen", "weibull",
                                    "median_unbiased", "normal_unbiased"])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_quantile_methods(method, n):
    q = [0.0, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0]
    check_case(lambda m, x: m.quantile(x, q, axis=-1, method=method), [("n", (2, n))])
    check_case(lambda m, x: m.percentile(x, 40.0, axis=0, method=method, keepdims=True),
               [("n", (n, 3))])


@pytest.mark.parametrize("axis,keepdims", [(0, False), (0, True), (None, False)])
def test_median_of_an_empty_axis_is_nan_and_quantile_raises_index_error(axis, keepdims):
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        np.median(np.ones((0, 3)), axis=axis)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_case(lambda m, x: m.median(x, axis=axis, keepdims=keepdims), [("n", (0, 3))],
                   grad=False)
    import symgrad as sg
    with pytest.raises(IndexError):
        np.quantile(np.ones((0, 3)), 0.5, axis=0)
    with pytest.raises(IndexError):
        sg.quantile(sg.matrix("E", (0, 3)), 0.5, axis=0)
