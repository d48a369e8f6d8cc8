"""Backends: the logistic-regression loss and gradient over a row-chunked X.

    python -m benchmarks.backends [--rows N] [--features D] [--chunks K] [--repeats R]
                                  [--source memory|generate] [--numpy | --no-numpy]
                                  [--no-distributed]

Compares, for X of N x D float64 (default 2·10⁶ x 100, 1.5 GiB; the issue's 10⁷ x 100,
7.5 GiB, with ``--rows 10000000``): hand-written NumPy on one core, symgrad's NumPy
backend (one core), symgrad's Dask backend (K row chunks) with the threaded scheduler
(2 threads), and on ``dask.distributed`` with 2 worker processes (loopback only,
dashboard off). Reported per variant: the best wall time of R calls, the CPU seconds
of that call (driver plus workers), and the driver's peak of traced allocations
during it (``tracemalloc``: NumPy reports its buffers there). Cores are pinned by
affinity (``benchmarks/__init__.py``: 2 cores here, BLAS single-threaded).

Where X comes from (``--source``): ``memory`` makes X and y once, in the driver (the
Dask variants read chunks of that array; the distributed one has them persisted on
the workers first, as a cluster holding the data would); ``generate`` never holds X
anywhere: every Dask call makes each chunk where it is computed, from a seeded
random graph, so the driver and each worker hold a few chunks at a time (the time
then includes making the chunks, reported alone as its own row). The default is
``memory`` when X takes at most a quarter of this machine's memory, else ``generate``.
The two NumPy variants need X in memory: ``--numpy`` (default with ``memory``) runs
them, ``--no-numpy`` skips them; without them the results are checked against a
NumPy reference computed one chunk at a time.
"""
import os

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import benchmarks  # noqa: E402  (pins the cores and thread pools before NumPy loads)

# ``python -m benchmarks.backends`` imports the package (which pins one core unless
# SYMGRAD_BENCH_CORES says otherwise) before this module runs: the Dask variants need
# two cores, so widen the affinity here (BLAS stays single-threaded).
CORES = int(os.environ.get("SYMGRAD_BENCH_CORES", "2"))
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, sorted(range(os.cpu_count() or 1))[:CORES])
    AFFINITY = sorted(os.sched_getaffinity(0))
else:
    AFFINITY = benchmarks.AFFINITY

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402


def hand(X, y, w):
    """Hand-written NumPy: mean softplus(-y Xw) and its gradient."""
    m = -y * (X @ w)
    loss = np.mean(np.logaddexp(0.0, m))
    r = -y / (1.0 + np.exp(-m)) / X.shape[0]
    return loss, X.T @ r


def compiled(backend):
    X, y, w = sg.tensor("X", ("n", "d")), sg.tensor("y", ("n",)), sg.tensor("w", ("d",))
    loss = sg.mean(sg.softplus(-y * (X @ w)))
    return sg.function([X, y, w], [loss] + sg.grad(loss, [w]), backend=backend)


def cpu_seconds(pids) -> float:
    import psutil
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def measure(name, call, pids, repeats):
    best = None
    for _ in range(repeats):
        tracemalloc.start()
        cpu0, t0 = cpu_seconds(pids), time.perf_counter()
        result = call()
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pids) - cpu0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if best is None or wall < best[0]:
            best = (wall, cpu, peak)
    wall, cpu, peak = best
    print(f"{name:28s} {wall * 1e3:10.1f} ms {cpu:9.2f} CPU-s {peak / 2**20:10.1f} MiB")
    return result


def hand_chunked(Xg, yg, w):
    """The hand NumPy loss and gradient accumulated over the chunks of the lazy X and y,
    one chunk made and held at a time (the reference when X is never in memory)."""
    import dask
    total, grad, n = 0.0, np.zeros_like(w), Xg.shape[0]
    for X, y in zip(Xg.blocks, yg.blocks):
        X, y = dask.compute(X, y, scheduler="synchronous")
        loss, g = hand(X, y, w)
        total, grad = total + loss * X.shape[0] / n, grad + g * X.shape[0] / n
    return total, grad


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", choices=("memory", "generate"), default=None,
                        help="X made once in the driver, or made per chunk at every call "
                             "(default: memory when it takes <= 1/4 of the RAM)")
    parser.add_argument("--numpy", action=argparse.BooleanOptionalAction, default=None,
                        help="run the NumPy variants (need X in memory; default: with "
                             "--source memory)")
    parser.add_argument("--distributed", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    if args.source is None:
        import psutil
        fits = 8 * args.rows * args.features <= psutil.virtual_memory().total / 4
        args.source = "memory" if fits else "generate"
    if args.numpy is None:
        args.numpy = args.source == "memory"
    return args


def main(argv=None):
    args = arguments(argv)
    import dask
    import dask.array as da

    chunk = -(-args.rows // args.chunks)
    # the data as a graph that makes each chunk where it is computed (no array shipped)
    Xg = da.random.default_rng(0).standard_normal((args.rows, args.features),
                                                  chunks=(chunk, args.features))
    yg = da.where(da.random.default_rng(1).standard_normal(args.rows, chunks=chunk) > 0, 1.0, -1.0)
    w = np.random.default_rng(2).standard_normal(args.features) / np.sqrt(args.features)
    print(f"X: {args.rows} x {args.features} float64 ({8 * args.rows * args.features / 2**30:.2f} "
          f"GiB), {args.chunks} row chunks, source {args.source}; cores {AFFINITY}")
    print(f"{'variant':28s} {'wall':>13s} {'CPU':>15s} {'driver peak':>14s}")
    me, results, reference = [os.getpid()], {}, None
    if args.source == "memory":
        X, y = dask.compute(Xg, yg)
        Xd, yd = da.from_array(X, chunks=(chunk, args.features)), da.from_array(y, chunks=chunk)
    else:
        Xd, yd = Xg, yg
    if args.numpy and args.source == "generate":
        X, y = dask.compute(Xg, yg)  # asked for: X held in the driver for these two
    if args.numpy:
        reference = measure("hand NumPy (1 core)", lambda: hand(X, y, w), me, args.repeats)
        f_numpy = compiled("numpy")
        results["symgrad numpy"] = measure("symgrad numpy (1 core)", lambda: f_numpy(X, y, w), me,
                                           args.repeats)
        del X, y
    f_dask = compiled("dask")
    with dask.config.set(scheduler="threads", num_workers=2):
        if args.source == "generate":
            measure("making the chunks only (2)", lambda: dask.compute(Xg.sum(), yg.sum()), me,
                    args.repeats)
        results["dask threads"] = measure("symgrad dask threads (2)",
                                          lambda: dask.compute(*f_dask(Xd, yd, w)), me, args.repeats)
    if args.distributed:
        results["distributed"] = _distributed(Xg, yg, w, f_dask, me, args)
    if reference is None:
        reference = hand_chunked(Xg, yg, w)
    for name, (loss, grad) in results.items():
        error = max(abs(float(loss) - reference[0]), float(np.max(np.abs(grad - reference[1]))))
        assert error < 1e-10, (name, error)
    print("every variant agrees with hand NumPy to 1e-10")
    return results


def _distributed(Xg, yg, w, f_dask, me, args):
    """symgrad on ``dask.distributed`` with 2 worker processes: X persisted on the
    workers (``--source memory``) or made there at every call."""
    import dask
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        Xp, yp = Xg, yg
        if args.source == "memory":
            Xp, yp = client.persist([Xg, yg])  # the data lives on the workers, made there
            dask.compute(Xp.sum(), yp.sum())
        pids = me + list(client.run(os.getpid).values())
        return measure("symgrad distributed (2 proc)", lambda: dask.compute(*f_dask(Xp, yp, w)),
                       pids, args.repeats)


if __name__ == "__main__":
    main()
