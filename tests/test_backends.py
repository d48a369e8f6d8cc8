"""Backends (issue 13): the array-API source, its conformance on every op's sample graph
and gradient under array-api-strict and Dask, no silent conversion, and the NumPy
backend's source unchanged."""
import pickle

import numpy as np
import pytest

import symgrad as sg
from symgrad.compile.portable import BackendError, STANDARD, portable_of
from test_op_rules import _build

OPS = sorted(sg.REGISTRY.values(), key=lambda op: op.name)
CASES = [pytest.param(op, i, id=f"{op.name}-{i}") for op in OPS for i in range(len(op.samples()))]

#: op -> why its sample graph (or gradient) has no array-API lowering; docs/backends.md
#: lists the same ops (test_the_docs_list_the_ops_without_a_portable_lowering).
NOT_PORTABLE = {
    "erf": "SciPy", "erfc": "SciPy", "gammaln": "SciPy", "digamma": "SciPy",
    "polygamma": "SciPy",
    "eigvals": "the standard has no eig", "eig_vectors": "the standard has no eig",
    "scatter_add": "np.add.at", "gather": "its gradient is scatter_add",
    "add_along_axis": "np.add.at", "take_along_axis": "its gradient is add_along_axis",
    "einsum": "the standard has no einsum (matmul and tensordot patterns are portable)",
    "scatter_sum": "NumPy-only specialization", "label_rows": "NumPy-only specialization",
    "pick": "NumPy-only specialization", "one_hot_add": "NumPy-only specialization",
    "spd_factor": "NumPy-only specialization", "spd_logdet": "NumPy-only specialization",
    "spd_inv": "NumPy-only specialization", "spd_solve": "NumPy-only specialization",
}
#: ops of which some samples are portable (einsum: the matmul and tensordot patterns)
PARTLY_PORTABLE = {"einsum"}
#: Eigenvector signs are implementation-defined: LAPACK's path for UPLO='U' (NumPy) and
#: for the symmetrized matrix (the standard's eigh has no UPLO) may differ in sign.
SIGN_DEFINED_BY_LIBRARY = {"eigh_vectors"}


def sample_graph(op, index, seed=1):
    """(inputs, their values, outputs): the op's sample and, when differentiable, the
    cost sum(out * weights) and its gradients (tests/test_op_rules.py's graph)."""
    inputs, values, out, weights, wvalue, cost, floats, _ = _build(op, index, seed)
    if not (op.differentiable and out.dtype == "float64"):
        return inputs, values, [out]
    return inputs + [weights], values + [wvalue], [cost] + sg.grad(cost, [inputs[i] for i in floats])


def _expect_backend_error(op, outputs, call, backend="array_api"):
    with pytest.raises(BackendError, match=f"has no lowering for backend={backend!r}") as info:
        call()
    named = [name for name in NOT_PORTABLE if f"'{name}'" in str(info.value)]
    assert named, f"{op.name}: the error names no op listed as not portable: {info.value}"


def _assert_equal(results, expected, to_numpy, what):
    assert len(results) == len(expected)
    for k, (got, want) in enumerate(zip(results, expected)):
        got = to_numpy(got)
        assert got.shape == np.shape(want), f"{what}: output {k} shape"
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, err_msg=f"{what}: output {k}")


# array-api-strict: every op ----------------------------------------------------------------

@pytest.mark.parametrize("op,index", CASES)
def test_array_api_strict_conformance(op, index):
    xps = pytest.importorskip("array_api_strict")
    inputs, values, outputs = sample_graph(op, index)
    expected = sg.function(inputs, outputs)(*values)
    if op.name in NOT_PORTABLE and op.name not in PARTLY_PORTABLE:
        _expect_backend_error(op, outputs, lambda: sg.function(inputs, outputs, backend="array_api"))
        return
    try:
        f = sg.function(inputs, outputs, backend="array_api")
    except BackendError:
        if op.name not in PARTLY_PORTABLE:
            raise
        _expect_backend_error(op, outputs, lambda: sg.function(inputs, outputs, backend="array_api"))
        return
    results = f(*[xps.asarray(np.asarray(v)) for v in values])
    for r in results:
        assert type(r).__module__.startswith("array_api_strict"), "results in the inputs' library"
    if op.name in SIGN_DEFINED_BY_LIBRARY:  # the same source on NumPy arrays instead
        expected = f(*[np.asarray(v) for v in values])
    _assert_equal(results, expected, np.asarray, f"{op.name}-{index}")


def test_the_not_portable_list_is_exactly_the_ops_that_raise():
    """Every op listed raises (checked per sample above); every op whose record says it
    has no lowering is listed."""
    for op in OPS:
        spec = portable_of(op)
        if op.leaf is None and spec.lowering is None:
            assert op.name in NOT_PORTABLE, op.name


def test_the_docs_list_the_ops_without_a_portable_lowering():
    import pathlib
    text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "backends.md").read_text()
    for name in NOT_PORTABLE:
        assert f"`{name}`" in text, name


# The generated source ---------------------------------------------------------------------

def _logistic():
    x, y, w = sg.tensor("X", ("n", 3)), sg.tensor("y", ("n",)), sg.tensor("w", (3,))
    z = x @ w
    loss = sg.sum(sg.log(1 + sg.exp(-y * z))) / 4.0
    return [x, y, w], [loss] + sg.grad(loss, [w])


def _mlp():
    x, w1, w2 = sg.tensor("x", ("b", 4)), sg.tensor("W1", (4, 5)), sg.tensor("W2", (5, 2))
    h = sg.tanh(x @ w1)
    loss = sg.sum(sg.logsumexp(h @ w2, axis=1)) + 0.5 * sg.sum(w1 * w1)
    return [x, w1, w2], [loss] + sg.grad(loss, [w1, w2])


def _constants():
    x = sg.tensor("x", (3,))
    c = sg.constant(np.arange(3.0) + 0.5)
    return [x], [sg.sum(x * c) + sg.sum(sg.exp(x) / c)]


GRAPHS = [_logistic, _mlp, _constants]


@pytest.mark.parametrize("build", GRAPHS, ids=lambda b: b.__name__)
def test_numpy_backend_source_is_the_default_one(build):
    inputs, outputs = build()
    assert sg.codegen(inputs, outputs, backend="numpy") == sg.codegen(inputs, outputs)
    default, numpy = sg.function(inputs, outputs), sg.function(inputs, outputs, backend="numpy")
    assert numpy.executed_source == default.executed_source
    assert numpy.source == default.source
    assert "xp." not in default.executed_source and "array_namespace" not in default.source


@pytest.mark.parametrize("build", GRAPHS, ids=lambda b: b.__name__)
def test_array_api_source_is_portable(build):
    """No out=, no scratch buffers, no SciPy, no np.add.reduce, only standard names."""
    import re
    inputs, outputs = build()
    source = sg.codegen(inputs, outputs, backend="array_api")
    executed = sg.function(inputs, outputs, backend="array_api").executed_source
    for text in (source, executed):
        assert "xp = array_namespace(" in text
        for banned in ("out=", "_scratch", "_slots", "scipy", "np.add.reduce", "np.dot", "del "):
            assert banned not in text, banned
        body = text.split("def f(")[1]
        assert "np." not in body
        for name in re.findall(r"(?<![\w.])xp\.((?:linalg\.)?\w+)", text):
            assert name in STANDARD, name


def test_array_api_runs_on_numpy_and_returns_numpy():
    inputs, outputs = _logistic()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((6, 3)), np.sign(rng.standard_normal(6)), rng.standard_normal(3)]
    f = sg.function(inputs, outputs, backend="array_api")
    results = f(*values)
    assert all(isinstance(r, (np.ndarray, np.generic)) for r in results)
    _assert_equal(results, sg.function(inputs, outputs)(*values), np.asarray, "logistic")


def test_an_op_without_portable_lowering_raises_at_compile_time():
    x = sg.tensor("x", (3,))
    for build in (sg.function, sg.codegen):
        with pytest.raises(BackendError, match=r"op 'erf' has no lowering for backend='array_api'"):
            build([x], sg.special.erf(x), backend="array_api")
    assert isinstance(BackendError("x"), NotImplementedError)


def test_an_unknown_backend_is_a_value_error():
    x = sg.tensor("x", (3,))
    with pytest.raises(ValueError, match="backend must be one of"):
        sg.function([x], x * 2.0, backend="cupy")
    with pytest.raises(ValueError, match="nan_guard=True needs backend='numpy'"):
        sg.function([x], x * 2.0, backend="array_api", nan_guard=True)


def test_specialization_rules_declare_their_backends():
    """The NumPy-only lowerings (Cholesky through SciPy, label indexing) stay out of the
    array-API graph; softmax from log-softmax is kept."""
    a, b = sg.tensor("A", (3, 3)), sg.tensor("b", (3,))
    m = a @ a.T + sg.eye(3)
    outputs = [sg.solve(m, b), sg.logdet(m)]
    assert "_spd_solve" in sg.codegen([a, b], outputs)
    portable = sg.codegen([a, b], outputs, backend="array_api")
    assert "_spd_" not in portable and "xp.linalg.solve" in portable
    z, y = sg.tensor("z", (4, 3)), sg.tensor("y", (4,), "int64")
    loss = -sg.sum(sg.one_hot(y, 3) * sg.log_softmax(z, axis=1))
    source = sg.codegen([z, y], [loss] + sg.grad(loss, [z]), backend="array_api")
    assert "_label_rows" not in source and "_xp_log_softmax" in source
    assert "xp.exp(" in source  # softmax formed from log_softmax: a portable rule


# Arguments: checked, not converted --------------------------------------------------------

def test_array_api_checks_rank_dtype_and_named_sizes_without_converting():
    xps = pytest.importorskip("array_api_strict")
    x, w = sg.tensor("x", ("n", 3)), sg.tensor("w", (3,))
    f = sg.function([x, w], sg.sum(x @ w), backend="array_api")
    good = xps.asarray(np.ones((4, 3)))
    with pytest.raises(ValueError, match="input 'w' must have rank 1"):
        f(good, xps.asarray(np.ones((3, 1))))
    with pytest.raises(ValueError, match="axis 0 must be 3"):
        f(good, xps.asarray(np.ones(4)))
    with pytest.raises(TypeError, match="input 'w' must be float64, got int64"):
        f(good, xps.asarray(np.ones(3, dtype=np.int64)))
    with pytest.raises(TypeError, match="input 'x' must be an array for backend='array_api'"):
        f([[1.0, 2.0, 3.0]], xps.asarray(np.ones(3)))
    with pytest.raises(TypeError, match=r"different array libraries \(array_api_strict: 'x'; numpy: 'w'\)"):
        f(good, np.ones(3))
    assert float(f(good, xps.asarray(np.ones(3)))) == 12.0


def test_numpy_backend_refuses_other_libraries_arrays():
    xps = pytest.importorskip("array_api_strict")
    x = sg.tensor("x", (3,))
    f = sg.function([x], sg.sum(x))
    with pytest.raises(TypeError, match=r"input 'x' is a array_api_strict array .*backend='array_api'"):
        f(xps.asarray(np.ones(3)))

    class Foreign:  # any object with __array_namespace__ that is not a NumPy array
        shape, dtype = (3,), np.float64

        def __array_namespace__(self, api_version=None):
            return None

        def __array__(self, dtype=None, copy=None):
            return np.ones(3)
    with pytest.raises(TypeError, match="input 'x' is a .*array"):
        f(Foreign())
    import importlib.util
    for library, make in (("dask", lambda: __import__("dask.array").array.ones(3, chunks=2)),
                          ("torch", lambda: __import__("torch").ones(3, dtype=__import__("torch").float64))):
        if importlib.util.find_spec(library) is not None:
            with pytest.raises(TypeError, match=f"input 'x' is a {library} array"):
                f(make())
    assert f([1.0, 2.0, 3.0]) == 6.0 and f(np.ones(3)) == 3.0  # lists and arrays as before
    s = sg.scalar("s")
    assert sg.function([s], s * 2.0)(1.5) == 3.0


def test_functions_pickle_with_their_backend():
    inputs, outputs = _logistic()
    f = sg.function(inputs, outputs, backend="array_api")
    g = pickle.loads(pickle.dumps(f))
    assert g.backend == "array_api" and g.executed_source == f.executed_source


# Dask: lazy, chunked, one compute ---------------------------------------------------------

def _dask(value):
    da = pytest.importorskip("dask.array")
    value = np.asarray(value)
    if value.ndim == 0:
        return da.from_array(value)
    rows = max(1, (value.shape[0] + 1) // 2)  # two row chunks (one when a single row)
    return da.from_array(value, chunks=(rows,) + value.shape[1:])


class _Computes:
    """Counts the tasks Dask's scheduler runs while active."""

    def __init__(self):
        from dask.callbacks import Callback
        self.count = 0
        outer = self

        class Counter(Callback):
            def _start(self, dsk):
                outer.count += 1
        self.callback = Counter()

    def __enter__(self):
        self.callback.__enter__()
        return self

    def __exit__(self, *exc):
        self.callback.__exit__(*exc)


#: ops whose lowering Dask's namespace lacks (Portable.lacks), by the op the error names
DASK_LACKS = {"det", "logdet", "logabsdet", "det_sign", "cofactor", "cholesky", "inv", "solve",
              "solve_triangular", "eigvalsh", "eigh_vectors", "singular_values", "svd_u", "svd_vh",
              "qr_q", "qr_r", "pinv", "sort", "argsort", "sort_permute", "sort_unpermute"}


@pytest.mark.parametrize("op,index", CASES)
def test_dask_conformance(op, index):
    dask = pytest.importorskip("dask")
    inputs, values, outputs = sample_graph(op, index)
    expected = sg.function(inputs, outputs)(*values)
    try:
        f = sg.function(inputs, outputs, backend="array_api")
    except BackendError:
        assert op.name in NOT_PORTABLE  # raises at compile time (test_array_api_strict_conformance)
        return
    args = [_dask(v) for v in values]
    gaps = {name for library, names in f._gaps.items() if library == "dask" for name in names}
    if gaps:
        assert gaps <= DASK_LACKS
        with pytest.raises(BackendError, match=r"on dask arrays"):
            f(*args)
        return
    with _Computes() as computes:
        results = f(*args)
    assert computes.count == 0, "the call computed"
    assert all(hasattr(r, "dask") for r in results), "lazy results"
    computed = dask.compute(*results, scheduler="synchronous")  # no pool threads left behind
    if op.name in SIGN_DEFINED_BY_LIBRARY:
        expected = f(*[np.asarray(v) for v in values])
    _assert_equal(computed, expected, np.asarray, f"{op.name}-{index} on dask")


def test_dask_data_with_numpy_parameters():
    dask = pytest.importorskip("dask")
    inputs, outputs = _logistic()
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((40, 3)), np.sign(rng.standard_normal(40)), rng.standard_normal(3)
    f = sg.function(inputs, outputs, backend="array_api")
    with _Computes() as computes:
        lazy = f(_dask(x), _dask(y), w)  # NumPy parameters promoted to one-chunk arrays
    assert computes.count == 0
    loss, grad = dask.compute(*lazy, scheduler="synchronous")
    _assert_equal((loss, grad), sg.function(inputs, outputs)(x, y, w), np.asarray, "logistic")
    xps = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"different array libraries .*dask: 'X', 'y'"):
        f(_dask(x), _dask(y), xps.asarray(w))


# JAX, PyTorch and CuPy (optional: skipped when not installed) ------------------------------

#: Factors that are unique only up to signs (and, for full_matrices, the basis of the
#: complement): PyTorch's LAPACK path picks other ones than NumPy's, so only shapes and
#: finiteness are compared there.
NOT_UNIQUE = {"eigh_vectors", "svd_u", "svd_vh"}


@pytest.fixture(scope="module")
def jax_x64():
    jax = pytest.importorskip("jax", reason="JAX is not installed (pip install 'symgrad[jax]')")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def _portable_or_raises(op, inputs, outputs, backend):
    """The compiled function, or None after checking the clear error of an op listed as
    not portable."""
    try:
        return sg.function(inputs, outputs, backend=backend)
    except BackendError:
        assert op.name in NOT_PORTABLE, f"{op.name} raised on backend={backend!r}"
        _expect_backend_error(op, outputs, lambda: sg.function(inputs, outputs, backend=backend),
                              backend)
        return None


@pytest.mark.parametrize("op,index", CASES)
def test_jax_conformance(jax_x64, op, index):
    inputs, values, outputs = sample_graph(op, index)
    expected = sg.function(inputs, outputs)(*values)
    f = _portable_or_raises(op, inputs, outputs, "jax")
    if f is None:
        return
    results = f(*values)
    assert all(isinstance(r, jax_x64.Array) for r in results), "JAX arrays"
    if op.name in SIGN_DEFINED_BY_LIBRARY:
        expected = sg.function(inputs, outputs, backend="array_api")(*values)
    _assert_equal(results, expected, np.asarray, f"{op.name}-{index} on jax")


def test_jax_jit_traces_an_array_api_function(jax_x64):
    inputs, outputs = _mlp()
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((6, 4)), rng.standard_normal((4, 5)), rng.standard_normal((5, 2))]
    f = sg.function(inputs, outputs, backend="array_api")
    jitted = jax_x64.jit(lambda *args: f(*args))  # the array-API source, traced by the caller
    results = jitted(*[jax_x64.numpy.asarray(v) for v in values])
    _assert_equal(results, sg.function(inputs, outputs)(*values), np.asarray, "mlp under jit")
    g = pickle.loads(pickle.dumps(sg.function(inputs, outputs, backend="jax")))
    assert g.backend == "jax"
    _assert_equal(g(*values), sg.function(inputs, outputs)(*values), np.asarray, "pickled jax")


@pytest.mark.parametrize("op,index", CASES)
def test_torch_conformance(op, index):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'symgrad[torch]')")
    _conformance_on(torch, torch.Tensor, lambda r: r.numpy(), op, index)


def _conformance_on(library, array_type, to_numpy, op, index):
    """The array-API source of a registry sample graph run on ``library``'s arrays:
    results of ``array_type``, equal to the NumPy backend's (factors unique only up to
    signs: shapes and finiteness)."""
    inputs, values, outputs = sample_graph(op, index)
    expected = sg.function(inputs, outputs)(*values)
    f = _portable_or_raises(op, inputs, outputs, "array_api")
    if f is None:
        return
    results = f(*[library.asarray(np.asarray(v)) for v in values])
    assert all(isinstance(r, array_type) for r in results), f"{library.__name__} arrays"
    if op.name in NOT_UNIQUE:
        for got, want in zip(results, expected):
            assert tuple(got.shape) == np.shape(want) and bool(library.all(library.isfinite(got)))
        return
    _assert_equal(results, expected, to_numpy, f"{op.name}-{index} on {library.__name__}")


@pytest.fixture(scope="module")
def cupy_device():
    """CuPy with a CUDA device, or a skip saying which is missing (CI has no GPU)."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (it needs a CUDA GPU)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        pytest.skip(f"CuPy has no usable CUDA device: {err}")
    if not count:
        pytest.skip("CuPy found no CUDA device")
    return cupy


@pytest.mark.parametrize("op,index", CASES)
def test_cupy_conformance(cupy_device, op, index):
    """The array-API source on CuPy arrays: results stay on the device and equal NumPy's."""
    _conformance_on(cupy_device, cupy_device.ndarray, cupy_device.asnumpy, op, index)


_ON_WORKERS = """
import os, pickle, sys
import numpy as np
import dask.array as da
import distributed
import symgrad as sg

X, y, w = sg.tensor("X", ("n", 3)), sg.tensor("y", ("n",)), sg.tensor("w", (3,))
loss = sg.sum(sg.log(1 + sg.exp(-y * (X @ w)))) / 4.0
inputs, outputs = [X, y, w], [loss] + sg.grad(loss, [w])
rng = np.random.default_rng(1)
x, yv, wv = rng.standard_normal((40, 3)), np.sign(rng.standard_normal(40)), rng.standard_normal(3)
numpy_f = sg.function(inputs, outputs)
f = sg.function(inputs, outputs, backend="array_api")

def close(a, b):
    return all(np.allclose(np.asarray(p), q, rtol=1e-12, atol=1e-14) for p, q in zip(a, b))

if __name__ == "__main__":
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \\
            distributed.Client(cluster) as client:
        lazy = f(da.from_array(x, chunks=(20, 3)), da.from_array(yv, chunks=20), wv)
        assert close(client.compute(list(lazy), sync=True), numpy_f(x, yv, wv)), "cluster compute"
        parts = [slice(0, 20), slice(20, 40)]
        futures = client.map(lambda g, part: (os.getpid(), g.backend, g(x[part], yv[part], wv)),
                             [pickle.loads(pickle.dumps(f))] * 2, parts, pure=False)
        ran = client.gather(futures)
        workers = set(client.run(os.getpid).values())
        assert {pid for pid, _, _ in ran} <= workers and os.getpid() not in workers
        assert all(backend == "array_api" for _, backend, _ in ran)
        for (_, _, got), part in zip(ran, parts):
            assert close(got, numpy_f(x[part], yv[part], wv)), "on a worker"
    print("ran on", len(workers), "workers")
"""


def test_a_pickled_function_runs_on_dask_distributed_workers(tmp_path):
    """LocalCluster of 2 worker processes on the loopback, dashboard off: the lazy graph
    computes on the workers, and a Function sent to them (pickled with its backend)
    rebuilds and runs there. In a subprocess: the client's threads stay out of this one."""
    import importlib.util
    import subprocess
    import sys
    if importlib.util.find_spec("distributed") is None:  # not imported here: it starts threads
        pytest.skip("dask.distributed is not installed (pip install 'symgrad[dask]')")
    script = tmp_path / "on_workers.py"
    script.write_text(_ON_WORKERS)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=240, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ran on 2 workers" in done.stdout


def test_a_function_of_no_inputs_computes_with_numpy():
    f = sg.function([], sg.constant(np.arange(3.0)) * 2.0, backend="array_api")
    np.testing.assert_array_equal(f(), [0.0, 2.0, 4.0])
