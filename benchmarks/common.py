"""Shared machinery of the workloads: peers, timing, checking, environment.

A *column* is one way of computing the same thing (hand-written NumPy,
symgrad, a peer): a zero-argument callable plus a function turning its result
into a list of NumPy arrays. Every column is checked against the hand-written
one before it is timed, then all are timed interleaved (round robin, the
order rotating each round) so the drifts of a shared machine hit every column
alike. Reported: the median seconds per call over the rounds.
"""
from __future__ import annotations

import importlib
import platform
import resource
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

from . import AFFINITY, CORES, THREADS

import numpy as np  # noqa: E402  (after the thread pinning above)

PEERS = ("jax", "torch", "autograd", "pytensor")
QUICK = {"repeats": 5, "block": 0.002}
FULL = {"repeats": 15, "block": 0.01}


def peer(name: str):
    """The imported peer module, or None when it is not installed."""
    try:
        module = importlib.import_module(name)
    except Exception:
        return None
    if name == "torch":
        module.set_num_threads(THREADS)
        try:
            module.set_num_interop_threads(THREADS)
        except RuntimeError:  # only allowed once, before any parallel work
            pass
    if name == "jax":
        module.config.update("jax_enable_x64", True)
    return module


@dataclass
class Column:
    """One implementation: ``call()`` computes, ``arrays(result)`` converts for checking."""

    name: str
    call: Callable
    arrays: Callable = lambda result: [np.asarray(r) for r in result]
    note: str = ""
    compile_s: float | None = None


@dataclass
class Result:
    workload: str
    case: str
    column: str
    seconds: float | None = None
    ratio: float | None = None
    error: str | None = None
    note: str = ""
    compile_s: float | None = None
    extra: dict = field(default_factory=dict)


#: symgrad's columns: the headline (the graph as a user writes it, ``sg.function``'s
#: default path), the graph passed through an explicit ``sg.simplify``, and ``optimize=False``.
SYMGRAD_VARIANTS = (("symgrad", "as written"), ("symgrad-simplified", "explicit sg.simplify"),
                    ("symgrad-noopt", "optimize=False"))
HEADLINE = SYMGRAD_VARIANTS[:1]


def symgrad_columns(make: Callable, call: Callable, variants=SYMGRAD_VARIANTS, **column) -> list:
    """One column per variant: ``make()`` builds (inputs, outputs) as a user
    writes them, each variant compiles them its way (timed: ``compile_s``),
    ``call(f)`` calls the compiled function."""
    import symgrad as sg

    def build(label):
        inputs, outputs = make()
        if label == "symgrad-simplified":
            outputs = sg.simplify(outputs)
        return sg.function(inputs, outputs, optimize=label != "symgrad-noopt")
    columns = []
    for label, how in variants:
        f, seconds = timed(lambda: build(label))
        columns.append(Column(label, lambda f=f: call(f), compile_s=seconds,
                              note=", ".join(filter(None, (how, column.get("note"))))))
    return columns


def only_column(name: str, builders, hand: list, *args):
    """The column ``name`` alone, built by its own library's builder only (what a
    fresh process runs): a hand column from ``hand`` (zero-argument callables
    making columns), symgrad's headline, or a peer's; None when not installed."""
    if name.startswith("hand"):
        return next((c for make in hand for c in [make()] if c.name == name), None)
    library = name.split("-")[0]
    for build in builders:
        if build.__name__.split("_")[0] == library:
            made = build(*args, variants=HEADLINE) if library == "symgrad" else build(*args)
            return next((c for c in made if c.name == name), None)
    return None


def check(column: Column, reference: list, rtol=1e-6, atol=1e-9) -> str | None:
    """None when ``column`` reproduces ``reference``, else what differs."""
    try:
        got = column.arrays(column.call())
    except Exception as err:  # a peer failing is reported, not fatal
        return f"{type(err).__name__}: {err}"[:200]
    if len(got) != len(reference):
        return f"{len(got)} results, expected {len(reference)}"
    for k, (a, b) in enumerate(zip(got, reference)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol * scale):
            return f"result {k} differs (max abs error {np.max(np.abs(a - b)) if a.shape == b.shape else a.shape})"
    return None


def _loops(call: Callable, block: float) -> int:
    """Calls per timed block so that a block lasts at least ``block`` seconds."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            call()
        if time.perf_counter() - start >= block or n >= 1 << 20:
            return n
        n *= 2


def interleaved_medians(calls: dict, repeats: int, block: float) -> dict:
    """{name: median seconds per call}, blocks timed round robin."""
    loops = {name: _loops(call, block) for name, call in calls.items()}
    samples = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            call, n = calls[name], loops[name]
            start = time.perf_counter()
            for _ in range(n):
                call()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(values) for name, values in samples.items()}


def compare(workload: str, case: str, columns: list, settings: dict, rtol=1e-6,
            atol=1e-9, timed: bool = True) -> list:
    """Check every column against the first (hand-written), then time the good
    ones (unless ``timed`` is False: the caller times them, see ``time_together``)."""
    hand = columns[0]
    reference = hand.arrays(hand.call())
    results = []
    for column in columns:
        error = None if column is hand else check(column, reference, rtol, atol)
        results.append(Result(workload, case, column.name, error=error, note=column.note,
                              compile_s=column.compile_s))
    if timed:
        time_together([(results, columns)], settings)
    return results


def time_together(groups: list, settings: dict) -> None:
    """Time every checked column of every (results, columns) group in one
    interleaved set, so that ratios across groups (an HVP over a gradient) see
    the same machine; fill in seconds and the ratio to each group's first column."""
    calls = {(g, column.name): column.call
             for g, (results, columns) in enumerate(groups)
             for result, column in zip(results, columns) if result.error is None}
    times = interleaved_medians(calls, settings["repeats"], settings["block"])
    for g, (results, columns) in enumerate(groups):
        hand = times[(g, columns[0].name)]
        for result in results:
            if (g, result.column) in times:
                result.seconds = times[(g, result.column)]
                result.ratio = result.seconds / hand


def timed(build: Callable) -> tuple:
    """(result, seconds) of one call of ``build``."""
    start = time.perf_counter()
    value = build()
    return value, time.perf_counter() - start


def environment() -> dict:
    """Versions, threads and the BLAS actually loaded."""
    info = {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor(), "threads": THREADS, "cores": CORES,
            "affinity": AFFINITY, "numpy": np.__version__}
    for name in ("symgrad", "jax", "torch", "autograd", "pytensor", "sympy", "scipy"):
        try:
            from importlib.metadata import version
            info[name] = version(name)
        except Exception:
            info[name] = None
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads",
                                                   "architecture", "filepath")}
                        for pool in threadpool_info()]
    except Exception:
        config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
        info["blas"] = config.get("Build Dependencies", {}).get("blas") if config else None
    return info


#: The large product whose float64 rate is the machine's GEMM limit (W1's first layer at batch 1024).
GEMM_SHAPE = (1024, 784, 256)


def gemm_rate(repeats: int = 40) -> float:
    """GFLOP/s of NumPy's float64 GEMM (``GEMM_SHAPE``) in this process: the
    physical limit of workloads made of large matrix products (the best of
    ``repeats`` products after a warm-up one: the clock of a shared core moves)."""
    m, k, n = GEMM_SHAPE
    rng = np.random.default_rng(0)
    a, b, out = rng.standard_normal((m, k)), rng.standard_normal((k, n)), np.empty((m, n))
    np.dot(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.dot(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * m * k * n / best / 1e9


def faults() -> int:
    """Minor page faults of this process so far (fresh pages the kernel had to map)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def user_loop(call: Callable, seconds: float = 1.0, warmup: int = 5) -> dict:
    """What a user's script sees: ``call`` in a plain loop after a few warm-up
    calls; seconds and minor page faults per call over the steady state."""
    for _ in range(warmup):
        call()
    n = max(5, min(1 << 16, int(seconds / max(_one_call(call), 1e-7))))
    before, start = faults(), time.perf_counter()
    for _ in range(n):
        call()
    elapsed, faulted = time.perf_counter() - start, faults() - before
    return {"seconds": elapsed / n, "faults_per_call": faulted / n, "calls": n}


def _one_call(call: Callable) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
