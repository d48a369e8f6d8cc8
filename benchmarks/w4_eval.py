"""W4 evaluation: one call of the depth-d chain's value and all 2d + 1 gradients.

The graph as a user writes it (``benchmarks.w4_chain.chain``, then ``sg.grad`` and
``sg.function``), against the hand-written backward pass on Python floats
(``math.exp``), all timed interleaved in one process pinned to one core
(``benchmarks`` pins by CPU affinity on import). Columns: symgrad's default
(``optimize=True``: the Python float code of :mod:`symgrad.compile.scalar_code`),
its generated function called bare (no argument checks), ``optimize=False``
(the NumPy code, 0-d NumPy scalars), and the hand pass with ``np.exp`` on NumPy
scalars. Run alone: ``python -m benchmarks.w4_eval [--depth 80] [--quick]``.
"""
from __future__ import annotations

from . import AFFINITY, common

import argparse  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402

from .w4_chain import chain, hand_gradient  # noqa: E402


def hand_floats(x, ws, bs):
    """[u_d, du/dx, du/dw_i..., du/db_i...] by a backward pass on Python floats."""
    us = [x]
    for w, b in zip(ws, bs):
        us.append(1.0 / (1.0 + math.exp(-(w * us[-1] + b))))
    ubar, gw, gb = 1.0, [0.0] * len(ws), [0.0] * len(ws)
    for i in reversed(range(len(ws))):
        u = us[i + 1]
        zbar = ubar * u * (1.0 - u)
        gw[i], gb[i] = zbar * us[i], zbar
        ubar = zbar * ws[i]
    return us[-1], ubar, gw, gb


def columns(d: int) -> dict:
    """{name: zero-argument call}, each checked against the hand pass first."""
    import symgrad as sg
    inputs, cost = chain(sg, d)
    outputs = [cost] + sg.grad(cost, inputs)
    f, numpy = sg.function(inputs, outputs), sg.function(inputs, outputs, optimize=False)
    rng = np.random.default_rng(d)
    x, ws, bs = 0.3, rng.standard_normal(d).tolist(), rng.standard_normal(d).tolist()
    args = [x, *ws, *bs]
    value, gx, gw, gb = hand_floats(x, ws, bs)
    reference = np.array([value, gx, *gw, *gb])
    np_ws, np_bs = [np.float64(w) for w in ws], [np.float64(b) for b in bs]
    calls = {"hand, Python floats": lambda: hand_floats(x, ws, bs),
             "symgrad (default: scalar code)": lambda: f(*args),
             "symgrad generated function, bare": lambda: f._fn(args),  # one sequence: the scalar code's signature
             "symgrad optimize=False (NumPy code)": lambda: numpy(*args),
             "hand, NumPy scalars": lambda: hand_gradient(np.float64(x), np_ws, np_bs)}
    for name, call in calls.items():
        got = call()
        flat = np.concatenate([np.atleast_1d(np.asarray(part, dtype=float)) for part in got]) \
            if name.startswith("hand") else np.array(got, dtype=float)
        assert np.allclose(flat, reference, rtol=1e-9, atol=1e-300), name
    assert f._scalar and not numpy._scalar
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=80)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    settings = common.QUICK if options.quick else common.FULL
    calls = columns(options.depth)
    times = common.interleaved_medians(calls, settings["repeats"], settings["block"])
    hand = times["hand, Python floats"]
    print(f"W4 one evaluation, d = {options.depth}, CPU affinity {AFFINITY}, "
          f"median of {settings['repeats']} interleaved rounds")
    for name, seconds in times.items():
        print(f"  {name:38s} {seconds * 1e6:9.1f} us  {seconds / hand:6.2f}x hand floats")


if __name__ == "__main__":
    main()
