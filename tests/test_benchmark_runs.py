"""The benchmark runner's tables are the median of several runs (issue 14, "Done means")."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _runner():
    # loaded by path: importing the benchmarks package pins the process to one core
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(column, seconds, ratio, error=None, **extra):
    return {"workload": "W1", "case": "grad batch 1", "column": column, "threads": 1,
            "seconds": seconds, "ratio": ratio, "compile_s": None, "error": error,
            "extra": extra}


def test_median_of_three_runs_cell_by_cell():
    median_rows = _runner().median_rows
    runs = [[_row("hand", 3.0, 1.0), _row("symgrad", 2.0, 0.9, faults_per_call=4)],
            [_row("hand", 1.0, 1.0), _row("symgrad", 9.0, 0.5, faults_per_call=0)],
            [_row("hand", 2.0, 1.0), _row("symgrad", 1.0, 0.7, faults_per_call=1)]]
    hand, sym = median_rows(runs)
    assert (hand["column"], hand["seconds"], hand["runs"]) == ("hand", 2.0, 3)
    # each field's own median: the ratio is the median of the runs' ratios
    assert (sym["seconds"], sym["ratio"], sym["extra"]["faults_per_call"]) == (2.0, 0.7, 1)


def test_a_failed_run_does_not_count_unless_all_failed():
    median_rows = _runner().median_rows
    ok = median_rows([[_row("jax", None, None, error="boom")], [_row("jax", 4.0, 2.0)]])[0]
    assert (ok["seconds"], ok["error"], ok["runs"]) == (4.0, None, 1)
    bad = median_rows([[_row("jax", None, None, error="boom")]] * 3)[0]
    assert bad["error"] == "boom" and bad["seconds"] is None


def test_repeats_option_defaults_to_three():
    runner = _runner()
    assert runner.arguments().parse_args([]).repeats == 3
    assert runner.arguments().parse_args(["--repeats", "1"]).repeats == 1
