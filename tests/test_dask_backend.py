"""backend="dask" (branch rnn13): the array API on Dask arrays, said when compiling, so
an op Dask lacks raises a BackendError naming it and the backend at compile time
(backend="array_api" learns the library from the arguments: its check runs at the first
call, before any task is built)."""
import pickle

import numpy as np
import pytest

import symgrad as sg
from symgrad.compile.portable import BACKENDS, BackendError, portable_of
from test_backends import sample_graph

LACKING = [pytest.param(op, i, id=f"{op.name}-{i}")
           for op in sorted(sg.REGISTRY.values(), key=lambda op: op.name)
           if "dask" in portable_of(op).lacks for i in range(len(op.samples()))]


def test_dask_is_a_backend():
    assert "dask" in BACKENDS


@pytest.mark.parametrize("op,index", LACKING)
def test_an_op_dask_lacks_raises_when_compiling(op, index):
    inputs, _, outputs = sample_graph(op, index)
    with pytest.raises(BackendError, match=r"has no lowering for backend='dask' on dask arrays") as info:
        sg.function(inputs, outputs, backend="dask")
    assert f"'{op.name}'" in str(info.value) or any(
        f"'{other.name}'" in str(info.value) for other in sg.REGISTRY.values()
        if "dask" in portable_of(other).lacks)


def test_the_array_api_backend_compiles_and_raises_at_the_first_call():
    da = pytest.importorskip("dask.array", reason="needs dask")
    A = sg.matrix("A", (3, 3))
    f = sg.function([A], sg.linalg.det(A), backend="array_api")  # no error: library unknown
    with pytest.raises(BackendError, match=r"'det' has no lowering for backend='array_api' on dask"):
        f(da.ones((3, 3), chunks=2))
    assert np.isclose(f(np.eye(3))[()], 1.0)  # NumPy has det


def test_the_dask_backend_stays_lazy_and_takes_numpy_parameters():
    dask = pytest.importorskip("dask", reason="needs dask")
    da = pytest.importorskip("dask.array", reason="needs dask")
    from dask.callbacks import Callback
    X, w = sg.matrix("X", ("n", 3)), sg.vector("w", 3)
    loss = sg.sum(sg.log1p(sg.exp(X @ w)))
    f = sg.function([X, w], [loss] + sg.grad(loss, [w]), backend="dask")
    rng = np.random.default_rng(0)
    x, wv = rng.standard_normal((8, 3)), rng.standard_normal(3)
    computed = []
    with Callback(start=lambda dsk: computed.append(dsk)):
        lazy = f(da.from_array(x, chunks=(4, 3)), wv)
    assert not computed and all(hasattr(r, "dask") for r in lazy)
    got = dask.compute(*lazy, scheduler="synchronous")
    want = sg.function([X, w], [loss] + sg.grad(loss, [w]))(x, wv)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    with pytest.raises(TypeError, match="backend='dask' runs on Dask arrays"):
        f(x, wv)
    assert pickle.loads(pickle.dumps(f)).backend == "dask"


def test_the_backends_benchmark_runs_without_x_in_memory():
    """benchmarks/backends.py with --source generate: the Dask variant makes each chunk
    where it is computed and is checked against the chunk-at-a-time NumPy reference."""
    pytest.importorskip("dask.array", reason="needs dask")
    pytest.importorskip("psutil", reason="the benchmark reports CPU seconds with psutil")
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-m", "benchmarks.backends", "--rows", "4000",
                          "--features", "5", "--chunks", "4", "--repeats", "1", "--source",
                          "generate", "--no-distributed"], cwd=root, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "symgrad dask threads" in run.stdout and "hand NumPy (1 core)" not in run.stdout
    assert "every variant agrees" in run.stdout
