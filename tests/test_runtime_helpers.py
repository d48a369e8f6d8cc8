"""The run-time helpers (symgrad.ops.runtime) called directly, on edge inputs,
and the embedding that copies them into generated modules."""
import inspect
import math
import sys
import threading
import types

import numpy as np
import pytest

from symgrad.ir.graph import REGISTRY
from symgrad.ops import runtime as rt

rt.load_scipy()
HELPERS = [v for v in vars(rt).values() if isinstance(v, types.FunctionType) and hasattr(v, "uses")]
STATE = {"_blas", "_lapack", "_scipy_linalg", "_LAST_FACTORIZATION", "_KEPT_BYTES",
         "_thread_state", "_output_state", "_FREE_REFS"}


def _global_names(code) -> set:
    """Global (and attribute) names a code object and its nested ones refer to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


@pytest.mark.parametrize("function", HELPERS, ids=lambda f: f.__name__)
def test_each_helper_declares_what_it_calls_and_reads(function):
    referenced = _global_names(function.__code__)
    helper_names = {h.__name__ for h in HELPERS}
    assert {h.__name__ for h in function.uses} == referenced & helper_names
    assert set(function.reads) == referenced & STATE


def test_every_op_helper_is_a_runtime_helper_and_its_calls_are_embedded():
    import re
    for op in REGISTRY.values():
        assert all(h in HELPERS for h in op.helpers), op.name
        if isinstance(op.numpy, str):
            called = set(re.findall(r"\b(_[a-z]\w*)\(", op.numpy))
            assert called <= rt.embed(op.helpers)[1], op.name


def test_embedded_helpers_are_self_contained_and_equal_to_the_library_functions():
    blocks, names = rt.embed(HELPERS)
    assert len(blocks) == len(HELPERS)  # each helper once
    assert all("@helper" not in b for b in blocks)
    namespace = {}
    exec(compile("import sys\nimport threading\nimport numpy as np\n\n" + "\n\n".join(blocks),
                 "<helpers>", "exec"), namespace)
    for function, block in zip(HELPERS, blocks):
        decorator, source = inspect.getsource(function).split("\n", 1)
        assert decorator.startswith("@helper(") and block.startswith(source.rstrip("\n"))
        copy = namespace[function.__name__]
        assert copy.__doc__ == function.__doc__
        assert _global_names(copy.__code__) & (names | STATE) <= namespace.keys()
    assert names == {h.__name__ for h in HELPERS} | STATE


def test_embed_puts_uses_first_and_shared_statements_once():
    blocks, names = rt.embed([rt._spd_factor, rt._spd_solve, rt._spd_logdet])
    assert [b.split("(")[0] for b in blocks] == ["def _spd_factor", "def _spd_solve",
                                                "def _logdet", "def _spd_logdet"]
    assert blocks[0].endswith("_blas = _lapack = None") and "try:" not in blocks[1]
    assert {"_lapack", "_blas"} <= names


# Linear algebra --------------------------------------------------------------------

def test_logdet_singular_negative_large_and_empty():
    assert rt._logdet(np.array([[1.0, 2.0], [2.0, 4.0]])) == -np.inf
    assert np.isnan(rt._logdet(np.diag([1.0, -2.0])))
    big = 1e200 * np.eye(3)  # det overflows to inf; its log does not
    assert rt._logdet(big) == pytest.approx(3 * math.log(1e200))
    assert rt._logdet(np.empty((0, 0))) == 0.0


def _with_scipy(monkeypatch, scipy: bool, name: str) -> None:
    """The SciPy module ``name`` as loaded, or None (the NumPy fallback)."""
    if not scipy:
        monkeypatch.setattr(rt, name, None)
    elif getattr(rt, name) is None:
        pytest.skip("SciPy is not installed: its path cannot run")


@pytest.mark.parametrize("scipy", [True, False])
def test_spd_factor_and_its_consumers(monkeypatch, scipy):
    _with_scipy(monkeypatch, scipy, "_lapack")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    m = a @ a.T + 4 * np.eye(4)
    factor = rt._spd_factor(m)
    assert factor is not None
    assert rt._spd_logdet(factor, m) == pytest.approx(np.linalg.slogdet(m)[1])
    np.testing.assert_allclose(rt._spd_inv(factor, m), np.linalg.inv(m), rtol=1e-12)
    for b in (rng.standard_normal(4), rng.standard_normal((4, 2)), rng.standard_normal((4, 5))):
        np.testing.assert_allclose(rt._spd_solve(factor, m, b), np.linalg.solve(m, b),
                                   rtol=1e-10)
    assert rt._spd_factor(np.diag([1.0, -1.0])) is None  # not positive definite
    assert rt._spd_factor(np.empty((0, 0))) is None
    huge = 1e150 * m
    assert rt._spd_logdet(rt._spd_factor(huge), huge) == pytest.approx(
        np.linalg.slogdet(huge)[1])


def test_spd_helpers_without_a_factor_fall_back_to_lu():
    m = np.diag([2.0, -3.0])
    assert np.isnan(rt._spd_logdet(None, m))
    np.testing.assert_allclose(rt._spd_inv(None, m), np.linalg.inv(m))
    np.testing.assert_allclose(rt._spd_solve(None, m, np.ones(2)), [0.5, -1 / 3])


@pytest.mark.parametrize("scipy", [True, False])
def test_solve_triangular_batched_vector_unit_and_transposed(monkeypatch, scipy):
    _with_scipy(monkeypatch, scipy, "_scipy_linalg")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    t = np.tril(a)
    np.testing.assert_allclose(rt._solve_triangular(a, b, True, 0, False), np.linalg.solve(t, b))
    u = np.triu(a[0]) - np.diag(np.diag(a[0])) + np.eye(3)
    np.testing.assert_allclose(rt._solve_triangular(a[0], b[0, :, 0], False, 1, True),
                               np.linalg.solve(u.T, b[0, :, 0]))


def test_cofactor_is_the_adjugate_transpose_even_at_a_singular_matrix():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # rank 2
    minors = np.array([[np.linalg.det(np.delete(np.delete(x, i, 0), j, 1)) for j in range(3)]
                       for i in range(3)])
    signs = (-1.0) ** np.add.outer(np.arange(3), np.arange(3))
    np.testing.assert_allclose(rt._cofactor(x), signs * minors, atol=1e-10)
    assert np.abs(rt._cofactor(x)).max() > 1  # not the zero matrix


def test_factorization_is_reused_only_for_an_equal_input():
    x = np.random.default_rng(2).standard_normal((3, 3))
    first = rt._factorization("qr", x, "reduced")
    assert rt._factorization("qr", x.copy(), "reduced") is first
    y = x.copy()
    y[0, 0] += 1.0
    assert rt._factorization("qr", y, "reduced") is not first
    np.testing.assert_allclose(np.matmul(*rt._factorization("qr", y, "reduced")), y)


# Elementwise and reductions -----------------------------------------------------------

def test_sigmoid_large_magnitudes_out_scalar_and_empty():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="ignore"):
        s = rt._sigmoid(x)
    np.testing.assert_allclose(s, [0.0, 1 / (1 + math.exp(30)), 0.5, 1 / (1 + math.exp(-30)), 1.0],
                               rtol=1e-15)
    out = np.empty(5)
    with np.errstate(over="ignore"):
        assert rt._sigmoid(x, out=out) is out
    assert rt._sigmoid(0.0) == 0.5
    assert rt._sigmoid(np.array([], dtype=np.int64)).dtype == np.float64


def test_softmax_and_log_softmax_large_and_infinite_entries():
    x = np.array([[1e308, 1e308, -np.inf], [0.0, 1.0, 2.0]])
    np.testing.assert_allclose(rt._softmax(x, 1)[0], [0.5, 0.5, 0.0])
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(rt._softmax(x, 1)[1], e / e.sum())
    np.testing.assert_allclose(rt._log_softmax(np.array([1000.0, 0.0]), 0), [0.0, -1000.0])
    assert rt._softmax(np.empty((2, 0)), 1).shape == (2, 0)


def test_logsumexp_empty_infinite_and_large():
    with np.errstate(divide="ignore"):
        assert rt._logsumexp(np.empty(0), 0, False) == -np.inf
        assert rt._logsumexp(np.full(3, -np.inf), 0, False) == -np.inf
    assert rt._logsumexp(np.array([1e308, 1e308]), 0, False) == pytest.approx(1e308)
    assert rt._logsumexp(np.zeros((2, 3)), 1, True).shape == (2, 1)


def test_weighted_logsumexp_drops_zero_weights_and_is_nan_for_a_negative_sum():
    assert rt._logsumexp_b(np.array([np.inf, 0.0]), np.array([0.0, 2.0]), 0, False) == \
        pytest.approx(math.log(2))
    assert np.isnan(rt._logsumexp_b(np.array([0.0, 1.0]), np.array([1.0, -1.0]), 0, False))
    assert rt._logsumexp_b(np.empty(0), np.empty(0), 0, False) == -np.inf


def test_logit_ends_and_precision_near_one():
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(rt._logit(np.array([0.0, 1.0])), [-np.inf, np.inf])
    p = 1 - 1e-10
    assert rt._logit(p) == pytest.approx(math.log(p) - math.log1p(-p), rel=1e-12)


def test_scipy_special_helpers_and_the_missing_scipy_error(monkeypatch):
    pytest.importorskip("scipy.special", reason="the SciPy-backed helpers need SciPy")
    assert rt._erf(0.5) == pytest.approx(math.erf(0.5))
    assert rt._erfc(10.0) == pytest.approx(math.erfc(10.0))
    assert rt._gammaln(100.0) == pytest.approx(math.lgamma(100.0))
    assert rt._digamma(1.0) == pytest.approx(-0.5772156649015329)
    assert rt._polygamma(1.0, 1) == pytest.approx(math.pi ** 2 / 6)
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match="erf with scipy.special.erf"):
        rt._erf(0.5)


# Indexing and structure -----------------------------------------------------------------

def test_scatters_sum_repeats_and_accept_empty_updates():
    np.testing.assert_array_equal(rt._scatter(np.ones(2), (3,), np.s_[1:]), [0, 1, 1])
    np.testing.assert_array_equal(rt._scatter_sum((3,), (0, 0), 1.0, 2.0), [3, 0, 0])
    np.testing.assert_array_equal(rt._scatter_add(np.ones(3), (2,), np.array([1, 1, 0])), [1, 2])
    np.testing.assert_array_equal(rt._scatter_add(np.empty(0), (2,), np.array([], int)), [0, 0])
    z = rt._add_along_axis(np.ones((2, 2)), np.array([[0, 0], [1, 1]]), 1, (2, 3))
    np.testing.assert_array_equal(z, [[2, 0, 0], [0, 2, 0]])


def test_diagonal_embed_is_the_adjoint_of_diagonal():
    v = np.array([1.0, 2.0])
    for offset in (-1, 1):
        z = rt._diagonal_embed(v, (3, 3), offset, 0, 1)
        np.testing.assert_array_equal(np.diagonal(z, offset), v)
        assert z.sum() == 3.0


def test_label_helpers_check_their_range():
    labels = np.array([[0, 2], [1, 1]])
    np.testing.assert_array_equal(rt._one_hot(labels, 3)[0, 1], [0, 0, 1])
    rows = rt._label_rows(labels, 3)
    x = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(rt._pick(x, rows), np.take_along_axis(x, labels[..., None], -1)[..., 0])
    np.testing.assert_array_equal(rt._one_hot_add(x, rows, -1.0) - x, -rt._one_hot(labels, 3))
    rt._check_labels(np.array([], int), 3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values in \[-1, 2\]"):
        rt._one_hot(np.array([-1, 2]), 3)


def test_sort_permute_and_unpermute_are_inverse_and_stable():
    x = np.array([3.0, 1.0, 3.0, 0.0])
    t = np.array([10.0, 11.0, 12.0, 13.0])
    np.testing.assert_array_equal(rt._sort_permute(t, x, 0), [13, 11, 10, 12])
    np.testing.assert_array_equal(rt._sort_unpermute(rt._sort_permute(t, x, 0), x, 0), t)


def test_shift_beyond_the_length_and_backwards():
    x = np.arange(1.0, 4.0)
    np.testing.assert_array_equal(rt._shift(x, 0, 1, 0.0), [0, 1, 2])
    np.testing.assert_array_equal(rt._shift(x, 0, -2, np.nan)[:1], [3])
    np.testing.assert_array_equal(rt._shift(x, 0, 5, -1.0), [-1, -1, -1])
    assert rt._shift(np.empty(0), 0, 1, 0.0).shape == (0,)


def test_linear_recurrence_forward_reverse_and_empty():
    a, b = np.array([0.5, 2.0, -1.0]), np.array([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(rt._linear_recurrence(a, b, 0, False), [1.0, 3.0, -2.0])
    np.testing.assert_array_equal(rt._linear_recurrence(a, b, 0, True), [2.5, 3.0, 1.0])
    assert rt._linear_recurrence(np.empty(0), np.empty(0), 0, False).shape == (0,)


# Scratch slots -------------------------------------------------------------------------

def test_scratch_buffers_are_per_thread_and_follow_the_sizes():
    shapes = lambda n: ((n, 2), (3,))  # noqa: E731
    mine = rt._thread_scratch((4,), shapes)
    assert [b.shape for b in mine] == [(4, 2), (3,)]
    assert rt._thread_scratch((4,), shapes) is mine
    resized = rt._thread_scratch((5,), shapes)
    assert resized is not mine and resized[0].shape == (5, 2)
    other = []
    worker = threading.Thread(target=lambda: other.append(rt._thread_scratch((5,), shapes)))
    worker.start()
    worker.join()
    assert other[0] is not resized and [b.shape for b in other[0]] == [(5, 2), (3,)]
