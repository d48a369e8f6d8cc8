"""The benchmark runner: every workload, one process each, a table and JSON.

    python -m benchmarks [--quick] [--only W1,W2] [--threads 1 2] [--peers jax,torch]
                         [--repeats 3] [--no-fresh] [--out benchmarks/results/latest.json]

Each workload runs in a fresh process, pinned by CPU affinity to as many cores
as threads, so the thread variables take effect before NumPy and the peers
load. Then every headline column (hand, symgrad as written, each peer) of the
cases a workload lists in ``FRESH_CASES`` is timed again alone, in a process
of its own that does only what a user's script does (``benchmarks.fresh``),
with the minor page faults per call. At 2 threads every peer runs in a process of
its own (with the hand-written column for the ratio): idle thread pools of
other libraries would spin on the second core.

Every process (workload and fresh) runs ``--repeats`` times (default 3) and the
tables give the median of those runs, cell by cell (``median_rows``): a run's
ratio is measured within that run (interleaved), and the median of the runs'
ratios is reported.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(HERE.parent))
    __package__ = "benchmarks"

WORKLOADS = {"W1": "w1_mlp", "W2": "w2_logdet", "W3": "w3_hvp", "W4": "w4_chain",
             "W5": "w5_mlp_compile", "W6": "w6_rnn"}
TIMED = ("W1", "W2", "W3", "W6")  # the workloads with peer columns to time


def main_single(run) -> None:
    """Entry point of one workload module: run it here, print its rows as JSON lines."""
    from . import common
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--peers", default=",".join(common.PEERS))
    args = parser.parse_args()
    settings = common.QUICK if args.quick else common.FULL
    peers = tuple(p for p in args.peers.split(",") if p)
    print(json.dumps({"environment": common.environment()}), flush=True)
    for result in run(settings, peers):
        print(json.dumps(dataclasses.asdict(result)), flush=True)


def _spawn(workload: str, threads: int, quick: bool, peers: tuple, timeout: float) -> tuple:
    env = dict(os.environ, SYMGRAD_BENCH_THREADS=str(threads))
    command = [sys.executable, "-m", f"benchmarks.{WORKLOADS[workload]}",
               "--peers", ",".join(peers)] + (["--quick"] if quick else [])
    try:
        done = subprocess.run(command, cwd=HERE.parent, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, [], f"{workload}: timed out after {timeout:.0f} s"
    environment, rows = None, []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if "environment" in record:
                environment = record["environment"]
            else:
                rows.append(dict(record, threads=threads))
        elif line.strip():
            print(line, file=sys.stderr)
    note = None if done.returncode == 0 else f"{workload}: exit {done.returncode}: {done.stderr[-400:]}"
    return environment, rows, note


#: Extra columns, not timed again in a fresh process (the headline ones are).
NOT_FRESH = ("symgrad-simplified", "symgrad-noopt", "hand-cholesky")


def _fresh_rows(workload: str, rows: list, threads: int, timeout: float) -> list:
    """Rows of ``rows``' checked headline columns, each timed in a fresh process."""
    import importlib
    cases = getattr(importlib.import_module(f"benchmarks.{WORKLOADS[workload]}"), "FRESH_CASES", ())
    env = dict(os.environ, SYMGRAD_BENCH_THREADS=str(threads))
    fresh = []
    for case in cases:
        columns = [r["column"] for r in rows if r["case"] == case and r.get("seconds")
                   and r["column"] not in NOT_FRESH]
        measured = []
        for column in columns:
            command = [sys.executable, "-m", "benchmarks.fresh", workload, case, column]
            try:
                done = subprocess.run(command, cwd=HERE.parent, env=env, capture_output=True,
                                      text=True, timeout=timeout)
                record = json.loads(done.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, IndexError, ValueError):
                record = {"column": column, "error": "fresh process failed"}
            measured.append(record)
        hand = next((m["seconds"] for m in measured if m["column"] == "hand" and "seconds" in m), None)
        for m in measured:
            seconds = m.get("seconds")
            fresh.append({"workload": workload, "case": f"{case}, fresh process",
                          "column": m["column"], "seconds": seconds, "error": m.get("error"),
                          "ratio": seconds / hand if seconds and hand else None, "threads": threads,
                          "extra": {"faults_per_call": round(m["faults_per_call"], 1)}
                          if "faults_per_call" in m else {}})
    return fresh


#: The fields of a row that are measurements (the median of the runs is reported).
MEASURED = ("seconds", "ratio", "compile_s")


def median_rows(runs: list) -> list:
    """One row per (workload, case, column, threads) of the runs (lists of rows):
    each measured field (and each number in ``extra``) the median over the runs
    that measured it; a check error only when every run had it. ``runs`` counts them."""
    groups: dict = {}
    for rows in runs:
        for row in rows:
            key = (row["workload"], row["case"], row["column"], row.get("threads"))
            groups.setdefault(key, []).append(row)
    combined = []
    for members in groups.values():
        good = [r for r in members if not r.get("error")] or members
        row = dict(good[0], runs=len(good))
        for name in MEASURED:
            values = [r[name] for r in good if r.get(name) is not None]
            row[name] = statistics.median(values) if values else None
        extra = dict(good[0].get("extra") or {})
        for name, value in extra.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = statistics.median(r["extra"][name] for r in good
                                          if name in (r.get("extra") or {}))
                extra[name] = round(value, 4) if isinstance(value, float) else value
        row["extra"] = extra
        combined.append(row)
    return combined


def _format(seconds) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def table(rows: list) -> str:
    """One line per (workload, case, threads): every column's median and ratio."""
    groups: dict = {}
    for row in rows:
        groups.setdefault((row["workload"], row["case"], row["threads"]), []).append(row)
    lines = []
    for (workload, case, threads), members in groups.items():
        cells = []
        for row in members:
            if row.get("error"):
                cells.append(f"{row['column']} FAILED CHECK ({row['error'][:60]})")
            elif row.get("seconds") is not None:
                ratio = f" ({row['ratio']:.2f}×)" if row.get("ratio") is not None else ""
                cells.append(f"{row['column']} {_format(row['seconds'])}{ratio}")
            elif row.get("compile_s") is not None:
                cells.append(f"{row['column']} build {_format(row['compile_s'])}")
            elif row.get("ratio") is not None:
                cells.append(f"{row['column']} {row['ratio']:.2f}×")
            else:
                cells.append(f"{row['column']} {row.get('note', '')}")
            if row.get("extra"):
                cells.append(", ".join(f"{k}={v}" for k, v in row["extra"].items()))
        lines.append(f"{workload} {case} [{threads} thr]: " + " | ".join(cells))
    return "\n".join(lines)


def arguments() -> argparse.ArgumentParser:
    """The runner's command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W1,W4")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--peers", default="jax,torch,autograd,pytensor")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per process")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of every process; the tables give their median")
    parser.add_argument("--no-fresh", action="store_true",
                        help="skip the fresh-process timing of every headline column")
    return parser


def main(argv=None) -> None:
    args = arguments().parse_args(argv)
    peers = tuple(p for p in args.peers.split(",") if p)
    rows, environments, notes = [], {}, []
    for threads in args.threads:
        for workload in args.only.split(","):
            split = threads > 1 and workload in TIMED
            runs = []
            for _ in range(max(1, args.repeats)):
                run = []
                for group in ([(p,) for p in peers] if split else [peers]):
                    env, new, note = _spawn(workload, threads, args.quick, group, args.timeout)
                    if split and group != (peers[0],):  # hand and symgrad once per workload
                        new = [r for r in new if r["column"] not in ("hand", "symgrad")]
                    run += new
                    environments[threads] = env or environments.get(threads)
                    notes += [note] if note else []
                runs.append(run)
            new = median_rows(runs)
            rows += new
            print(table(new), flush=True)
            _write(args.out, environments, rows, notes)  # partial results survive a kill
            if not args.no_fresh:
                fresh = [_fresh_rows(workload, new, threads, args.timeout)
                         for _ in range(max(1, args.repeats))]
                new = median_rows(fresh)
                rows += new
                print(table(new), flush=True)
                _write(args.out, environments, rows, notes)
    first = environments.get(args.threads[0]) or {}
    notes += [f"peer {p} is not installed: skipped (pip install -e '.[bench]')"
              for p in peers if first and not first.get(p)]
    notes += [f"median of {args.repeats} runs of every process"]
    notes += [f"pinned to cores {env.get('affinity')} at {t} thread(s)"
              for t, env in environments.items() if env]
    _write(args.out, environments, rows, notes)
    print("\n" + "\n".join(notes) if notes else "", f"\nwrote {args.out}")


def _write(path: str, environments: dict, rows: list, notes: list) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({"environment": environments, "rows": rows, "notes": notes},
                                     indent=1))


if __name__ == "__main__":
    main()
