"""One implementation alone in a fresh process, as a user's script runs it.

    python -m benchmarks.fresh W1 "grad batch 1" symgrad

Makes the data and that one column (build, compile), nothing else: no
reference check, no other library, no other case, since the heap that such
work leaves behind hides allocation costs. Then calls it in a plain loop and
prints one JSON line: seconds and minor page faults per call
(``getrusage(RUSAGE_SELF).ru_minflt`` around the loop), the core set and the
warm-up. The runner spawns one such process per (workload, case, column).
"""
from __future__ import annotations

import importlib
import json
import sys

from . import AFFINITY, common
from .run import WORKLOADS


def measure(workload: str, case: str, column: str, seconds: float = 1.0) -> dict:
    module = importlib.import_module(f"benchmarks.{WORKLOADS[workload]}")
    built = module.fresh_column(case, column)
    record = {"workload": workload, "case": case, "column": column, "affinity": AFFINITY}
    if built is None:
        return dict(record, error=f"{column} is not installed")
    return dict(record, **common.user_loop(built.call, seconds))


if __name__ == "__main__":
    workload, case, column = sys.argv[1:4]
    print(json.dumps(measure(workload, case, column, float(sys.argv[4]) if len(sys.argv) > 4 else 1.0)))
