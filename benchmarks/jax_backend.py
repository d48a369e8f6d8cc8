"""symgrad's ``backend="jax"`` against JAX's own ``jit`` (issue 13's W1/W6 goal: ≤ 1.0× JAX).

The same graphs as W1 (MLP, loss and all gradients) and W6 (RNN, BPTT gradient),
built as a user writes them and compiled with ``sg.function(..., backend="jax")``
(the array-API source, symgrad's rewrites applied, W6's forward and backward sweeps
found as recurrences and run as ``jax.lax.scan``, traced by ``jax.jit``); JAX's
columns are the W1/W6 peers (``jax.value_and_grad`` under ``jit``; W6 with
``lax.scan``). The LSTM row (hidden 128, input 32, gates stacked in one W, U, b; loss
``sum(h_T)``; gradient wrt W, U, b) is written as a user would (the loop in Python,
two carries h and c), against JAX's own ``jit`` of a hand ``lax.scan`` LSTM. Every
result is checked against hand NumPy (BPTT) first; the calls are timed
interleaved in one process pinned to one core (``benchmarks`` pins by CPU affinity
on import). Run alone: ``python -m benchmarks.jax_backend [--quick] [--cpu]``;
``--cpu`` times each block of calls by the process's CPU time, the columns in a new
random order each round, and adds the median of the per-round ratios ("paired"): on
a loaded machine the time the core spends on other processes is not counted.
"""
from __future__ import annotations

from . import AFFINITY, common

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

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


LSTM_HIDDEN, LSTM_INPUT = w6_rnn.HIDDEN, w6_rnn.INPUT


def lstm_data(T: int, seed: int = 0) -> list:
    """X, W (4H, H), U (4H, I), b (4H,), h0, c0: the gates i, f, g, o stacked."""
    rng = np.random.default_rng(seed)
    H, m = LSTM_HIDDEN, LSTM_INPUT
    return [rng.standard_normal((T, m)), rng.standard_normal((4 * H, H)) / np.sqrt(H),
            rng.standard_normal((4 * H, m)) / np.sqrt(m), rng.standard_normal(4 * H) * 0.1,
            np.zeros(H), np.zeros(H)]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_hand(X, W, U, b, h0, c0):
    """Forward keeping every state and gate; backward through time, one GEMM per gradient."""
    T, H = len(X), LSTM_HIDDEN
    Z = X @ U.T + b
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        z = W @ hs[-1] + Z[t]
        i, f, g, o = _sigmoid(z[:H]), _sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), _sigmoid(z[3 * H:])
        cs.append(f * cs[-1] + i * g)
        hs.append(o * np.tanh(cs[-1]))
        gates.append((i, f, g, o))
    D = np.empty((T, 4 * H))
    dh, dc = np.ones(H), np.zeros(H)
    for t in reversed(range(T)):
        i, f, g, o = gates[t]
        tc = np.tanh(cs[t + 1])
        dc = dc + dh * o * (1.0 - tc * tc)
        D[t] = np.concatenate([dc * g * i * (1 - i), dc * cs[t] * f * (1 - f),
                               dc * i * (1 - g * g), dh * tc * o * (1 - o)])
        dh, dc = W.T @ D[t], dc * f
    return [hs[-1].sum(), D.T @ np.array(hs[:T]), D.T @ X, D.sum(0)]


def _lstm_make(T):
    """The LSTM as a user writes it: the loop in Python over one stacked W, U, b."""
    import symgrad as sg
    H = LSTM_HIDDEN
    X, W = sg.matrix("X", (T, LSTM_INPUT)), sg.matrix("W", (4 * H, H))
    U, b = sg.matrix("U", (4 * H, LSTM_INPUT)), sg.vector("b", 4 * H)
    h0, c0 = sg.vector("h0", H), sg.vector("c0", H)
    h, c = h0, c0
    for t in range(T):
        z = W @ h + U @ X[t] + b
        i, f, o = sg.sigmoid(z[:H]), sg.sigmoid(z[H:2 * H]), sg.sigmoid(z[3 * H:])
        c = f * c + i * sg.tanh(z[2 * H:3 * H])
        h = o * sg.tanh(c)
    loss = sg.sum(h)
    return [X, W, U, b, h0, c0], [loss] + sg.grad(loss, [W, U, b])


def _lstm_jax(values) -> list:
    """JAX's own: ``jit(value_and_grad)`` of a hand ``lax.scan`` LSTM (tuple carry)."""
    jax = common.peer("jax")
    jnp, H = jax.numpy, LSTM_HIDDEN

    def loss(W, U, b, X, h0, c0):
        def step(carry, x):
            h, c = carry
            z = W @ h + U @ x + b
            i, f, o = (jax.nn.sigmoid(z[k * H:(k + 1) * H]) for k in (0, 1, 3))
            c = f * c + i * jnp.tanh(z[2 * H:3 * H])
            return (o * jnp.tanh(c), c), None
        return jnp.sum(jax.lax.scan(step, (h0, c0), X)[0][0])

    fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    X, W, U, b, h0, c0 = (jnp.asarray(v) for v in values)
    call = lambda: jax.block_until_ready(fn(W, U, b, X, h0, c0))  # noqa: E731
    _, seconds = common.timed(call)
    return [common.Column("jax", call, lambda r: [r[0]] + [np.asarray(g) for g in r[1]],
                          compile_s=seconds, note="lax.scan")]


def cases(quick: bool, only: str = ""):
    """(case name, hand reference, [symgrad-jax column, jax column]) of the cases whose
    name holds ``only`` (each compiled only when it runs)."""
    import symgrad as sg
    for batch in (1, 64) if quick else w1_mlp.BATCHES:
        values = w1_mlp.data(batch)
        name = f"W1 grad batch {batch}"
        if only in name:
            yield (name, w1_mlp.hand_grad(*values),
                   [_symgrad_jax(lambda: _w1_make(sg), values)] + w1_mlp.jax_columns(values, False))
    for T in (10,) if quick else (10, 100):
        values = w6_rnn.data(T)
        name = f"W6 T {T}"
        if only in name:
            yield (name, w6_rnn.hand(*values),
                   [_symgrad_jax(lambda T=T: _w6_make(T), values)] + w6_rnn.jax_column(values))
    for T in (10,) if quick else (10, 100):
        values = lstm_data(T)
        name = f"LSTM T {T}"
        if only in name:
            yield (name, lstm_hand(*values),
                   [_symgrad_jax(lambda T=T: _lstm_make(T), values)] + _lstm_jax(values))


def cpu_medians(calls: dict, rounds: int, block: float) -> tuple:
    """({name: median CPU seconds per call}, {name: median per-round ratio to "jax"}):
    blocks of calls timed by ``time.process_time``, in a new random order each round."""
    loops = {name: common._loops(call, block) for name, call in calls.items()}
    samples: dict = {name: [] for name in calls}
    order, shuffle = list(calls), random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            call, n = calls[name], loops[name]
            start = time.process_time()
            for _ in range(n):
                call()
            samples[name].append((time.process_time() - start) / n)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    paired = {name: statistics.median(a / b for a, b in zip(values, samples["jax"]))
              for name, values in samples.items() if "jax" in samples}
    return medians, paired


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="CPU time per block, paired ratios")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15, 5 quick)")
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    args = parser.parse_args(argv)
    if common.peer("jax") is None:
        print("jax is not installed: pip install -e '.[jax]'")
        return
    settings = {"repeats": args.rounds or (5 if args.quick else 15), "block": 0.01}
    print(f"symgrad backend='jax' vs JAX jit, CPU affinity {AFFINITY}, "
          f"median of {settings['repeats']} interleaved rounds"
          + (", CPU time (paired: median of the per-round ratios)" if args.cpu else ""))
    for case, reference, columns in cases(args.quick, args.only):
        for column in columns:
            problem = common.check(column, reference)
            if problem:
                print(f"  {case}: {column.name} FAILED CHECK: {problem}")
                return
        calls = {c.name: c.call for c in columns}
        if args.cpu:
            medians, paired = cpu_medians(calls, settings["repeats"], settings["block"])
        else:
            medians, paired = common.interleaved_medians(calls, settings["repeats"], settings["block"]), {}
        jax_s = medians.get("jax")
        cells = [f"{name} {seconds * 1e6:8.1f} us"
                 + (f" ({seconds / jax_s:.2f}x JAX" if jax_s else "")
                 + (f", paired {paired[name]:.2f}x" if name in paired else "")
                 + (")" if jax_s else "")
                 for name, seconds in medians.items()]
        print(f"  {case:<18} " + " | ".join(cells))


if __name__ == "__main__":
    main()
