"""Side-by-side benchmarks of symgrad against hand-written NumPy and the peers
(JAX, PyTorch, HIPS autograd, PyTensor). Run ``python -m benchmarks``.

Importing this package pins the process, by CPU affinity, to
``SYMGRAD_BENCH_CORES`` cores (default: the thread count) and every thread
pool to ``SYMGRAD_BENCH_THREADS`` (default 1), and drops OpenBLAS's tuning
variables, so it must happen before NumPy or any peer is imported: the runner
and each workload module import it first. Affinity, not only the thread
variables: XLA's CPU client ignores them and runs its matrix products on every
core the process may use. ``AFFINITY`` is the core set in force (recorded in
every output).
"""
import os

THREADS = int(os.environ.get("SYMGRAD_BENCH_THREADS", "1"))
CORES = int(os.environ.get("SYMGRAD_BENCH_CORES", str(THREADS)))
if hasattr(os, "sched_setaffinity"):  # Linux; elsewhere only the thread variables
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CORES])
    AFFINITY = sorted(os.sched_getaffinity(0))
else:
    AFFINITY = None
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
os.environ["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} "
                           f"intra_op_parallelism_threads={THREADS}")
os.environ["JAX_PLATFORMS"] = "cpu"
os.environ["JAX_ENABLE_X64"] = "1"
for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
