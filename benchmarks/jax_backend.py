"""symgrad's ``backend="jax"`` against JAX's own ``jit`` (issue 13's W1/W6 goal: ≤ 1.0× JAX).

The same graphs as W1 (MLP, loss and all gradients) and W6 (RNN, BPTT gradient),
built as a user writes them and compiled with ``sg.function(..., backend="jax")``
(the array-API source, symgrad's rewrites applied, W6's forward and backward sweeps
found as recurrences and run as ``jax.lax.scan``, traced by ``jax.jit``); JAX's
columns are the W1/W6 peers (``jax.value_and_grad`` under ``jit``; W6 with
``lax.scan``). Every result is checked against hand NumPy first; the calls are timed
interleaved in one process pinned to one core (``benchmarks`` pins by CPU affinity
on import). Run alone: ``python -m benchmarks.jax_backend [--quick]``.
"""
from __future__ import annotations

from . import AFFINITY, common

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from . import w1_mlp, w6_rnn  # noqa: E402


def _symgrad_jax(make, values):
    """A column calling ``make()``'s graph compiled with ``backend="jax"`` on JAX arrays."""
    import jax
    import symgrad as sg

    inputs, outputs = make()
    f = sg.function(inputs, outputs, backend="jax")
    args = [jax.numpy.asarray(v) for v in values]
    call = lambda: jax.block_until_ready(f(*args))  # noqa: E731
    _, seconds = common.timed(call)  # the first call traces and compiles
    return common.Column("symgrad-jax", call, lambda r: [np.asarray(v) for v in r],
                         compile_s=seconds)


def _w1_make(sg):
    inputs, loss, params = w1_mlp.symgrad_graph(sg)
    return inputs, [loss] + sg.grad(loss, params)


def _w6_make(T):
    import symgrad as sg
    X, W = sg.matrix("X", (T, w6_rnn.INPUT)), sg.matrix("W", (w6_rnn.HIDDEN, w6_rnn.HIDDEN))
    U, b = sg.matrix("U", (w6_rnn.HIDDEN, w6_rnn.INPUT)), sg.vector("b", w6_rnn.HIDDEN)
    h = h0 = sg.vector("h0", w6_rnn.HIDDEN)
    for t in range(T):
        h = sg.tanh(W @ h + U @ X[t] + b)
    loss = sg.sum(h)
    return [X, W, U, b, h0], [loss] + sg.grad(loss, [W, U, b])


def cases(quick: bool):
    """(case name, hand reference, [symgrad-jax column, jax column])."""
    import symgrad as sg
    for batch in (1, 64) if quick else w1_mlp.BATCHES:
        values = w1_mlp.data(batch)
        yield (f"W1 grad batch {batch}", w1_mlp.hand_grad(*values),
               [_symgrad_jax(lambda: _w1_make(sg), values)] + w1_mlp.jax_columns(values, False))
    for T in (10,) if quick else (10, 100):
        values = w6_rnn.data(T)
        yield (f"W6 T {T}", w6_rnn.hand(*values),
               [_symgrad_jax(lambda T=T: _w6_make(T), values)] + w6_rnn.jax_column(values))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if common.peer("jax") is None:
        print("jax is not installed: pip install -e '.[jax]'")
        return
    settings = {"repeats": 5 if args.quick else 15, "block": 0.01}
    print(f"symgrad backend='jax' vs JAX jit, CPU affinity {AFFINITY}, "
          f"median of {settings['repeats']} interleaved rounds")
    for case, reference, columns in cases(args.quick):
        for column in columns:
            problem = common.check(column, reference)
            if problem:
                print(f"  {case}: {column.name} FAILED CHECK: {problem}")
                return
        medians = common.interleaved_medians({c.name: c.call for c in columns},
                                             settings["repeats"], settings["block"])
        jax_s = medians.get("jax")
        cells = [f"{name} {seconds * 1e6:8.1f} us"
                 + (f" ({seconds / jax_s:.2f}x JAX)" if jax_s else "")
                 for name, seconds in medians.items()]
        print(f"  {case:<18} " + " | ".join(cells))


if __name__ == "__main__":
    main()
