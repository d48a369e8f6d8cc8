"""Issue 12's compile-time goals on the default path: ``sg.grad`` + ``sg.function``
(``optimize=True``, the default) of the W4 depth-d scalar chain (goal ≤ 1 s at
d = 10⁴) and of the W5 MLP with 128 hidden layers (goal ≤ 0.3 s), with the part
``sg.simplify`` takes, and ``optimize=False`` for comparison. One core (the package
pins the process by CPU affinity); fresh input names every run; median and range of
``--repeats`` runs. Run: ``python -m benchmarks.compile_time [--repeats 5]``.
"""
from __future__ import annotations

from . import AFFINITY

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from .w4_chain import chain  # noqa: E402
from .w5_mlp_compile import mlp  # noqa: E402

GOALS = {("W4", 10_000): 1.0, ("W5", 128): 0.3}


def _graphs(workload: str, size: int, sg):
    if workload == "W4":
        inputs, cost = chain(sg, size)
        return inputs, inputs, cost
    x, y, params, loss = mlp(sg, size)
    return [x, y] + params, params, loss


def one_run(workload: str, size: int, optimize: bool) -> dict:
    import symgrad as sg
    inputs, wrt, cost = _graphs(workload, size, sg)
    start = time.perf_counter()
    grads = sg.grad(cost, wrt)
    built = time.perf_counter()
    outputs = [cost] + grads
    simplify_s = None
    if optimize:  # the simplify step alone, on an identical fresh graph
        inputs2, wrt2, cost2 = _graphs(workload, size, sg)
        outputs2 = [cost2] + sg.grad(cost2, wrt2)
        t = time.perf_counter()
        sg.simplify(outputs2)
        simplify_s = time.perf_counter() - t
    t = time.perf_counter()
    sg.function(inputs, outputs, optimize=optimize)
    done = time.perf_counter()
    return {"grad_s": built - start, "function_s": done - t,
            "total_s": (built - start) + (done - t), "simplify_s": simplify_s}


def measure(workload: str, size: int, optimize: bool, repeats: int) -> dict:
    runs = [one_run(workload, size, optimize) for _ in range(repeats)]
    row = {"workload": workload, "size": size, "optimize": optimize, "cores": AFFINITY,
           "runs": repeats}
    for key in ("grad_s", "function_s", "total_s", "simplify_s"):
        values = [r[key] for r in runs if r[key] is not None]
        if values:
            row[key] = round(statistics.median(values), 4)
            row[key + "_range"] = [round(min(values), 4), round(max(values), 4)]
    goal = GOALS.get((workload, size))
    if goal is not None and optimize:
        row["goal_s"], row["met"] = goal, row["total_s"] <= goal
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default="W4:1000,W4:10000,W5:128",
                        help="comma-separated workload:size pairs")
    args = parser.parse_args(argv)
    for case in args.cases.split(","):
        workload, size = case.split(":")[0], int(case.split(":")[1])
        for optimize in (True, False):
            print(json.dumps(measure(workload, size, optimize, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
