"""NumPy's statistics, signal, polynomial, creation and array-API names
(symgrad/api/statistics.py), the logical ops and ``cbrt``, and NumPy's signatures
(``eye(N, M, k)``, ``clip(min=, max=)``, ``sum(initial=)``, ``where(condition, x, y)``,
``var(correction=)``): each value against NumPy, each gradient against central finite
differences of the NumPy function (float64)."""
import numpy as np
import pytest

import symgrad as sg

NAN = np.array([0, np.nan, 0, 0, np.nan, 0.0])
WEIGHTS9 = np.arange(9.0).reshape(3, 3)


def _fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


def _signal(mode, na, nv, correlate=False):
    sgf, npf = (sg.correlate, np.correlate) if correlate else (sg.convolve, np.convolve)
    w = np.arange(1.0, 1.0 + len(np.convolve(np.ones(na), np.ones(nv), mode)))
    return (f"{npf.__name__} {mode} {na},{nv}",
            lambda x: sg.sum(sgf(x[:na], x[na:] * x[na:], mode) * w),
            lambda x: np.sum(npf(x[:na], x[na:] * x[na:], mode) * w), (na + nv,))


CASES = [
    ("ptp", lambda x: sg.ptp(x, axis=1).sum(), lambda x: np.ptp(x, axis=1).sum(), (3, 4)),
    ("median odd", sg.median, np.median, (5,)),
    ("median even axis", lambda x: sg.sum(sg.median(x, axis=0) ** 2),
     lambda x: np.sum(np.median(x, axis=0) ** 2), (4, 3)),
    ("median tuple keepdims",
     lambda x: sg.sum(sg.median(x, axis=(0, 2), keepdims=True) * np.arange(3.0).reshape(1, 3, 1)),
     lambda x: np.sum(np.median(x, axis=(0, 2), keepdims=True) * np.arange(3.0).reshape(1, 3, 1)),
     (2, 3, 2)),
    *[(f"quantile {m}",
       lambda x, m=m: sg.sum(sg.quantile(x, [0.1, 0.35, 0.9], axis=1, method=m) * WEIGHTS9),
       lambda x, m=m: np.sum(np.quantile(x, [0.1, 0.35, 0.9], axis=1, method=m) * WEIGHTS9),
       (3, 5)) for m in ("linear", "lower", "higher", "nearest", "midpoint")],
    ("percentile", lambda x: sg.percentile(x, 30), lambda x: np.percentile(x, 30), (6,)),
    *[(name, lambda x, name=name: getattr(sg, name)(x + NAN),
       lambda x, name=name: getattr(np, name)(x + NAN), (6,))
      for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd")],
    ("nancumsum", lambda x: sg.sum(sg.nancumsum(x + NAN) ** 2),
     lambda x: np.sum(np.nancumsum(x + NAN) ** 2), (6,)),
    ("nanvar ddof axis", lambda x: sg.sum(sg.nanvar(x + NAN.reshape(2, 3), axis=1, ddof=1)),
     lambda x: np.sum(np.nanvar(x + NAN.reshape(2, 3), axis=1, ddof=1)), (2, 3)),
    ("cov", lambda x: sg.sum(sg.cov(x) ** 2), lambda x: np.sum(np.cov(x) ** 2), (3, 5)),
    ("cov rowvar bias", lambda x: sg.sum(sg.cov(x, rowvar=False, bias=True)),
     lambda x: np.sum(np.cov(x, rowvar=False, bias=True)), (5, 3)),
    ("cov 1-d", sg.cov, np.cov, (5,)),
    ("cov with y", lambda x: sg.sum(sg.cov(x[0], x[1] * x[2])),
     lambda x: np.sum(np.cov(x[0], x[1] * x[2])), (3, 5)),
    ("cov aweights", lambda x: sg.sum(sg.cov(x, aweights=np.arange(1, 6.0), ddof=1) ** 2),
     lambda x: np.sum(np.cov(x, aweights=np.arange(1, 6.0), ddof=1) ** 2), (3, 5)),
    ("cov fweights", lambda x: sg.sum(sg.cov(x, fweights=np.array([1, 2, 1, 3, 1])) ** 2),
     lambda x: np.sum(np.cov(x, fweights=np.array([1, 2, 1, 3, 1])) ** 2), (3, 5)),
    ("corrcoef", lambda x: sg.sum(sg.corrcoef(x) * WEIGHTS9),
     lambda x: np.sum(np.corrcoef(x) * WEIGHTS9), (3, 5)),
    *[_signal(mode, na, nv, correlate) for mode in ("full", "same", "valid")
      for na, nv in ((5, 3), (3, 5), (4, 4), (6, 2)) for correlate in (False, True)],
    ("polyval of a coefficient node", lambda x: sg.polyval(x, 0.7),
     lambda x: np.polyval(x, 0.7), (4,)),
    ("polyval at a node", lambda x: sg.sum(sg.polyval([1.0, -2, 3], x)),
     lambda x: np.sum(np.polyval([1.0, -2, 3], x)), (4,)),
    ("trapezoid", sg.trapezoid, np.trapezoid, (5,)),
    ("trapezoid with x", lambda x: sg.trapezoid(x[:5], x=sg.cumsum(x[5:] ** 2)),
     lambda x: np.trapezoid(x[:5], x=np.cumsum(x[5:] ** 2)), (10,)),
    ("trapezoid dx axis", lambda x: sg.sum(sg.trapezoid(x, dx=0.5, axis=0) ** 2),
     lambda x: np.sum(np.trapezoid(x, dx=0.5, axis=0) ** 2), (4, 3)),
    ("trapezoid 1-d x along an axis",
     lambda x: sg.sum(sg.trapezoid(x, x=np.array([0, 1, 3.0]), axis=1) ** 2),
     lambda x: np.sum(np.trapezoid(x, x=np.array([0, 1, 3.0]), axis=1) ** 2), (4, 3)),
    ("ediff1d", lambda x: sg.sum(sg.ediff1d(x, to_begin=[1.0], to_end=x[0]) ** 2),
     lambda x: np.sum(np.ediff1d(x, to_begin=[1.0], to_end=x[0]) ** 2), (2, 3)),
    ("cumulative_sum", lambda x: sg.sum(sg.cumulative_sum(x, axis=1, include_initial=True) ** 2),
     lambda x: np.sum(np.cumulative_sum(x, axis=1, include_initial=True) ** 2), (2, 3)),
    ("cumulative_prod", lambda x: sg.sum(sg.cumulative_prod(x, include_initial=True)),
     lambda x: np.sum(np.cumulative_prod(x, include_initial=True)), (4,)),
    ("creation", lambda x: sg.sum(x * sg.ones_like(x) * 2 + sg.full_like(x, 3.0) * x
                                  + sg.zeros_like(x) + sg.full((2, 3), 2.0) * x + sg.ones(3) * x),
     lambda x: np.sum(x * 2 + 3.0 * x + 2.0 * x + x), (2, 3)),
    ("identity, diagflat", lambda x: sg.sum((sg.identity(3) + sg.diagflat(x[0])) @ x.T),
     lambda x: np.sum((np.identity(3) + np.diagflat(x[0])) @ x.T), (2, 3)),
    ("diagflat k", lambda x: sg.sum(sg.diagflat(x, 1) ** 2 * np.arange(49.0).reshape(7, 7)),
     lambda x: np.sum(np.diagflat(x, 1) ** 2 * np.arange(49.0).reshape(7, 7)), (2, 3)),
    ("matvec, vecmat, mT",
     lambda x: sg.sum(sg.matvec(x, x[0]) + sg.vecmat(x[0, :2], x[:2])) + sg.sum(x.mT * WEIGHTS9),
     lambda x: np.sum(x @ x[0] + x[0, :2] @ x[:2]) + np.sum(x.T * WEIGHTS9), (3, 3)),
    ("permute_dims, concat", lambda x: sg.sum(sg.concat([sg.permute_dims(x, (1, 0)), x]) ** 3),
     lambda x: np.sum(np.concatenate([x.T, x]) ** 3), (3, 3)),
    ("cbrt", lambda x: sg.sum(sg.cbrt(x)), lambda x: np.sum(np.cbrt(x)), (4,)),
    ("float_power", lambda x: sg.sum(sg.float_power(x * x + 1, 1.5)),
     lambda x: np.sum(np.float_power(x * x + 1, 1.5)), (4,)),
    ("& | ~ of masks", lambda x: sg.sum(sg.where((x > 0) & (x < 1) | ~(x > -0.5), x ** 2, x)),
     lambda x: np.sum(np.where((x > 0) & (x < 1) | ~(x > -0.5), x ** 2, x)), (6,)),
    ("logical_xor, not_equal", lambda x: sg.sum(sg.where(np.logical_xor(x > 0, x < 1), x ** 2, x)
                                                + sg.where(sg.not_equal(x, 0), x, 0)),
     lambda x: np.sum(np.where(np.logical_xor(x > 0, x < 1), x ** 2, x) + x), (6,)),
    ("any, all", lambda x: sg.sum(sg.where(sg.any(x > 1, axis=0), x, 2 * x)
                                  + sg.where(np.all(x > -3, axis=0), x, 0)),
     lambda x: np.sum(np.where(np.any(x > 1, axis=0), x, 2 * x)
                      + np.where(np.all(x > -3, axis=0), x, 0)), (3, 4)),
    ("round(node), .round()", lambda x: sg.sum(x * x.round(1) + round(x) * x),
     lambda x: np.sum(x * x.round(1) + np.round(x) * x), (4,)),
    ("NumPy dispatch", lambda x: np.median(x) + np.ptp(x) + np.nanmean(x) + np.trapezoid(x),
     lambda x: np.median(x) + np.ptp(x) + np.nanmean(x) + np.trapezoid(x), (5,)),
    ("rint, fix, positive", lambda x: sg.sum(x * sg.rint(x * 3) + sg.fix(x * 3) * x + np.positive(x)),
     lambda x: np.sum(x * np.rint(x * 3) + np.fix(x * 3) * x + x), (5,)),
    ("signatures", lambda x: sg.sum(sg.clip(x, min=-0.5) * sg.eye(2, 3, k=1)[0], initial=2.0)
     + sg.var(x, correction=1) + sg.max(x, initial=-9.0),
     lambda x: np.sum(np.clip(x, -0.5, None) * np.eye(2, 3, k=1)[0], initial=2.0)
     + np.var(x, ddof=1) + np.max(x, initial=-9.0), (3,)),
]


XP, FP = np.array([-1.0, -0.2, 0.5, 1.3]), np.array([2.0, -1, 0.5, 3])
LOOKUPS = [  # symgrad/api/lookups.py
    ("searchsorted", lambda x: sg.sum(sg.searchsorted(XP, x)*x), lambda x: np.sum(np.searchsorted(XP, x)*x), (5,)),
    ("searchsorted right", lambda x: sg.sum(sg.searchsorted(XP, x, side='right')*x), lambda x: np.sum(np.searchsorted(XP, x, side='right')*x), (5,)),
    ("digitize", lambda x: sg.sum(sg.digitize(x, XP)*x), lambda x: np.sum(np.digitize(x, XP)*x), (5,)),
    ("interp x", lambda x: sg.sum(sg.interp(x*1.5, XP, FP)), lambda x: np.sum(np.interp(x*1.5, XP, FP)), (7,)),
    ("interp fp", lambda x: sg.sum(sg.interp(np.linspace(-2,2,9), XP, x)**2), lambda x: np.sum(np.interp(np.linspace(-2,2,9), XP, x)**2), (4,)),
    ("interp left right", lambda x: sg.sum(sg.interp(x*2, XP, FP, left=-5., right=x[0])), lambda x: np.sum(np.interp(x*2, XP, FP, left=-5., right=x[0])), (6,)),
    ("choose", lambda x: sg.sum(sg.choose(np.array([0,2,1,0]), [x, 2*x, x**2])), lambda x: np.sum(np.choose(np.array([0,2,1,0]), [x, 2*x, x**2])), (4,)),
    ("delete", lambda x: sg.sum(sg.delete(x, [0, 2], axis=1)**2), lambda x: np.sum(np.delete(x,[0,2],axis=1)**2), (3,4)),
    ("delete flat", lambda x: sg.sum(sg.delete(x, 1)*np.arange(11.)), lambda x: np.sum(np.delete(x,1)*np.arange(11.)), (3,4)),
    ("insert scalar", lambda x: sg.sum(sg.insert(x, 1, x[:, 0]*2, axis=1)*np.arange(15.).reshape(3,5)), lambda x: np.sum(np.insert(x,1,x[:,0]*2,axis=1)*np.arange(15.).reshape(3,5)), (3,4)),
    ("insert seq", lambda x: sg.sum(sg.insert(x, [1, 3, 3], [7., 8., 9.])*np.arange(7.)), lambda x: np.sum(np.insert(x,[1,3,3],[7.,8.,9.])*np.arange(7.)), (4,)),
    ("insert 2d const", lambda x: sg.sum(sg.insert(x, 2, 5.0, axis=0)*np.arange(20.).reshape(5,4)), lambda x: np.sum(np.insert(x,2,5.0,axis=0)*np.arange(20.).reshape(5,4)), (4,4)),
    ("meshgrid xy", lambda x: sg.sum(sg.meshgrid(x[:3], x[3:])[0]*np.arange(6.).reshape(2,3) + sg.meshgrid(x[:3], x[3:])[1]**2), lambda x: np.sum(np.meshgrid(x[:3], x[3:])[0]*np.arange(6.).reshape(2,3) + np.meshgrid(x[:3], x[3:])[1]**2), (5,)),
    ("meshgrid ij 3", lambda x: sg.sum(sg.meshgrid(x[:2], x[2:4], x[4:], indexing='ij')[2]*np.arange(8.).reshape(2,2,2)), lambda x: np.sum(np.meshgrid(x[:2], x[2:4], x[4:], indexing='ij')[2]*np.arange(8.).reshape(2,2,2)), (6,)),
    ("vander", lambda x: sg.sum(sg.vander(x, 3)*np.arange(12.).reshape(4,3)), lambda x: np.sum(np.vander(x,3)*np.arange(12.).reshape(4,3)), (4,)),
    ("vander inc", lambda x: sg.sum(sg.vander(x, increasing=True)*np.arange(16.).reshape(4,4)), lambda x: np.sum(np.vander(x, increasing=True)*np.arange(16.).reshape(4,4)), (4,)),
    ("polyfit y", lambda x: sg.sum(sg.polyfit(np.linspace(0,1,6), x, 2)*np.arange(1,4.)), lambda x: np.sum(np.polyfit(np.linspace(0,1,6), x, 2)*np.arange(1,4.)), (6,)),
    ("polyfit x w", lambda x: sg.sum(sg.polyfit(x, np.arange(6.)**1.5, 2, w=np.arange(1,7.))*np.arange(1,4.)), lambda x: np.sum(np.polyfit(x, np.arange(6.)**1.5, 2, w=np.arange(1,7.))*np.arange(1,4.)), (6,)),
]
CASES += LOOKUPS


@pytest.mark.parametrize("name, build, reference, shape", CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_match_numpy(name, build, reference, shape):
    if name.startswith("cumulative") and not hasattr(np, "cumulative_sum"):
        pytest.skip("np.cumulative_sum/prod are NumPy >= 2.1's: no reference on this NumPy")
    x0 = np.random.default_rng(len(name)).standard_normal(shape)
    x = sg.tensor("x", shape)
    y = build(x)
    value, gradient = sg.function([x], [y, sg.grad(y, x)])(x0)
    np.testing.assert_allclose(value, reference(x0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gradient, _fd(reference, x0), rtol=1e-5, atol=1e-6)


def test_second_derivatives_of_median_cov_and_convolve():
    x0 = np.random.default_rng(3).standard_normal(6)
    x = sg.vector("x", 6)
    for y, reference in ((sg.cov(x[:3], x[3:]).sum() * sg.median(x), lambda v: np.cov(v[:3], v[3:]).sum() * np.median(v)),
                         (sg.sum(sg.convolve(x[:4], x[4:]) ** 2), lambda v: np.sum(np.convolve(v[:4], v[4:]) ** 2))):
        hessian = sg.function([x], sg.hessian(y, x))(x0)
        numeric = np.stack([_fd(lambda v, i=i: _fd(reference, v, 1e-4)[i], x0, 1e-4)
                            for i in range(6)])
        np.testing.assert_allclose(hessian, numeric, rtol=1e-4, atol=1e-5)


def test_bitwise_operators_of_int_nodes_raise_instead_of_a_logical_result():
    k = sg.vector("k", 3, dtype="int64")
    for build in (lambda: k & k, lambda: ~k, lambda: (sg.vector("q", 3) > 0) | k):
        with pytest.raises(TypeError, match="bool"):
            build()


def test_node_properties_and_methods_follow_numpy():
    A = sg.matrix("A", (2, 3))
    a0 = np.arange(6.0).reshape(2, 3)
    f = sg.function([A], [A.mT, A.real, A.imag, A.trace(), A.diagonal(), A.copy(),
                          A.any(axis=0), A.all(), A.take([0, 2], axis=1)])
    for got, want in zip(f(a0), [a0.mT, a0.real, a0.imag, a0.trace(), a0.diagonal(), a0,
                                 a0.any(axis=0), a0.all(), a0.take([0, 2], axis=1)]):
        np.testing.assert_array_equal(got, want)


def test_errors_name_the_problem():
    x = sg.vector("x", 4)
    with pytest.raises(ValueError, match="range"):
        sg.quantile(x, 1.5)
    with pytest.raises(ValueError, match="method"):
        sg.quantile(x, 0.5, method="inverted_cdf")  # discontinuous methods: not symgrad's
    with pytest.raises(TypeError, match="constant"):
        sg.quantile(x, sg.scalar("q"))
    with pytest.raises(ValueError, match="axis"):
        sg.cumulative_sum(sg.matrix("M", (2, 2)))
    with pytest.raises(TypeError, match="a_min and min"):
        sg.clip(x, 0.0, min=0.0)
    assert sg.clip(x) is x and sg.clip(x, None, None) is x  # NumPy 2.1+: no bound, no change
    with pytest.raises(ValueError, match="cannot be empty"):
        sg.convolve(x, np.zeros(0))
    with pytest.raises(ValueError, match="simultaneously"):
        sg.var(x, ddof=1, correction=1)


def test_logical_ops_print_and_go_through_sympy():
    p, q = sg.scalar("p"), sg.scalar("q")
    mask = (p > 0) & ~(q > 0)
    assert str(mask) == "p > 0 ∧ ¬(q > 0)"
    assert r"\land" in sg.latex(mask)
    back = sg.from_sympy(sg.to_sympy(mask))
    f = sg.function([p, q], [mask, back])
    for values in ((1.0, -1.0), (1.0, 1.0), (-1.0, -1.0)):
        assert f(*values)[0] == f(*values)[1] == (values[0] > 0 and not values[1] > 0)


def test_logical_ops_print_without_ambiguity():
    p, q = sg.scalar("p"), sg.scalar("q")
    a, b, c = p > 0, q > 0, p < q
    assert str((a | b) & c) == "(p > 0 ∨ q > 0) ∧ p < q"
    assert str(a | (b & c)) == "p > 0 ∨ (q > 0 ∧ p < q)"
    assert str(a & b & c) == "p > 0 ∧ q > 0 ∧ p < q"
    assert str(~(a & b)) == "¬(p > 0 ∧ q > 0)"
    assert sg.latex(~a & b) == r"\lnot \left(p > 0\right) \land q > 0"
