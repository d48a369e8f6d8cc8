"""The ``symgrad`` command line: derive, check and compare gradients.

    symgrad grad  "logdet(A @ A.T)" --wrt A --dims A=n,n [--latex | --numpy]
    symgrad check "logdet(A @ A.T)" --wrt A --expected "inv(A @ A.T) @ A" --dims A=n,n
    symgrad equivalent "trace(A @ B)" "trace(B @ A)" --dims A=n,m B=m,n

Expressions are read by :mod:`symgrad.cli.parse` (a whitelist over Python's
``ast``; nothing is evaluated). Exit codes: 0 success, 1 a check or
comparison failed, 2 bad input (one line on stderr naming the problem).
"""
from __future__ import annotations

import argparse
import math
import re
import sys

from ..autodiff.sweeps import grad
from ..version import __version__
from ..check.gradients import check_grad
from ..compile.emit import codegen
from ..check.equivalence import equivalent
from ..ir.graph import describe, inputs_of, toposort
from .parse import MAX_DIM, ParseError, parse_expression
from ..printing.latex import latex
from ..printing.unicode import pretty
from ..check.sampling import choose_sizes
from ..ir.shapes import ShapeError, format_shape, substitute

DIMS_HELP = ("input shapes, e.g. A=n,m (named dims) B=3,3 (concrete) x=n (vector) y=n:int "
             "(integer labels); names not listed are float scalars")
DTYPES = {"": "float64", "float": "float64", "float64": "float64", "int": "int64",
          "int64": "int64", "bool": "bool"}
EXAMPLES = """examples:
  symgrad grad "logdet(A @ A.T)" --wrt A --dims A=n,n
  symgrad check "x @ M @ x" --wrt x --expected "(M + M.T) @ x" --dims x=n M=n,n
  symgrad equivalent "trace(A @ B)" "trace(B @ A)" --dims A=n,m B=m,n
exit codes: 0 ok, 1 check failed / not equivalent, 2 bad input"""
SPEC = re.compile(r"^([A-Za-z_]\w*)=([^:]*)(?::(\w*))?$")
#: Largest wrt (in entries) that `check` differentiates numerically.
MAX_CHECK_ENTRIES = 4096
#: Most random points a command may ask for.
MAX_TRIALS = 1000
#: Largest array (in entries) that `check` and `equivalent` evaluate.
MAX_EVAL_ENTRIES = 1_000_000
#: Default cap on `check`'s work: cost evaluations x (entries per evaluation +
#: EVAL_OVERHEAD). About a minute; `--max-work` raises it.
MAX_CHECK_WORK = 10 ** 9
#: What one call of a compiled function costs, in array entries (call overhead).
EVAL_OVERHEAD = 1000


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _option_strings(parser) -> set:
    """Every option string of ``parser`` and its subcommands (``--wrt``, ``-h``, ...)."""
    found = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= set(sub._option_string_actions)
    return found


def protect_expressions(argv, options: set) -> list:
    """``argv`` with each expression that starts with ``-`` (``-x * y``, ``-1``) given a
    leading space, so argparse reads it as a value, not an option; ``--`` is dropped
    (everything after it that is not one of ``options`` is a value). The parser
    itself strips the space."""
    result, after_dashes = [], False
    for token in argv:
        if token == "--" and not after_dashes:
            after_dashes = True
            continue
        looks_like_option = token.startswith("--") and not after_dashes or token == "-h"
        if token.startswith("-") and token.split("=", 1)[0] not in options \
                and not looks_like_option:
            token = " " + token
        result.append(token)
    return result


def _recover_positionals(args) -> None:
    """Expressions swallowed by ``--dims``/``--wrt`` (given before them: ``--dims
    x=n "sum(x)"``) moved back to an empty EXPR/EXPR2 slot; a missing one is an
    error. Items no slot needs stay, for their option to report."""
    wrt = getattr(args, "wrt", None) or []
    swallowed = [(args.dims, d) for d in args.dims if not SPEC.match(d)]
    swallowed += [(wrt, w) for w in wrt if not w.isidentifier()]
    for slot, name in (("expr", "EXPR"), ("other", "EXPR2")):
        if not hasattr(args, slot) or getattr(args, slot) is not None:
            continue
        if not swallowed:
            raise UsageError(f"the {name} argument is missing")
        source, item = swallowed.pop(0)
        source.remove(item)
        setattr(args, slot, item)
    if hasattr(args, "wrt") and not args.wrt:
        raise UsageError("--wrt needs at least one input name")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symgrad", description="Symbolic gradients from the command line.",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    grad = commands.add_parser("grad", help="print the simplified gradient")
    _common(grad, "the scalar cost")
    grad.add_argument("--wrt", nargs="+", action="extend", required=True, metavar="NAME",
                      help="the inputs to differentiate with respect to")
    style = grad.add_mutually_exclusive_group()
    style.add_argument("--latex", action="store_true", help="print LaTeX")
    style.add_argument("--numpy", action="store_true", help="print the generated NumPy module")
    grad.add_argument("--raw", action="store_true", help="do not simplify")
    check = commands.add_parser("check", help="check a hand-derived gradient")
    _common(check, "the scalar cost")
    check.add_argument("--wrt", nargs="+", action="extend", required=True, metavar="NAME",
                       help="the inputs to differentiate with respect to")
    check.add_argument("--expected", action="append", metavar="HAND",
                       help="hand derivation, once per --wrt name (in order)")
    _numeric_options(check)
    check.add_argument("--rtol", type=float, default=1e-6)
    check.add_argument("--max-work", type=float, default=MAX_CHECK_WORK, metavar="UNITS",
                       help="refuse checks estimated above this many entry operations "
                            f"(default {MAX_CHECK_WORK:.0e})")
    same = commands.add_parser("equivalent", help="are two expressions equal?")
    _common(same, "the first expression")
    same.add_argument("other", metavar="EXPR2", nargs="?", help="the second expression")
    _numeric_options(same)
    same.add_argument("--rtol", type=float, default=1e-7)
    return parser


def _common(parser, what: str):
    parser.add_argument("expr", metavar="EXPR", nargs="?", help=what)
    parser.add_argument("--dims", nargs="+", action="extend", default=[], metavar="NAME=DIMS",
                        help=DIMS_HELP)


def _numeric_options(parser):
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)


def parse_dims(specs) -> tuple:
    """({name: shape}, {name: dtype}) from ``NAME=d1,d2[:dtype]`` items."""
    shapes, dtypes = {}, {}
    for spec in specs:
        match = SPEC.match(spec)
        if not match or match.group(3) not in DTYPES and match.group(3) is not None:
            raise UsageError(f"--dims {spec!r}: expected NAME=DIMS[:int], e.g. A=n,m or y=n:int")
        name, dims, dtype = match.group(1), match.group(2), match.group(3) or ""
        if name in shapes:
            raise UsageError(f"--dims gives {name!r} twice")
        shapes[name] = tuple(_dim(d.strip(), spec) for d in dims.split(",")) if dims.strip() else ()
        dtypes[name] = DTYPES[dtype]
    return shapes, dtypes


def _dim(text: str, spec: str):
    if text.isdigit():
        if int(text) > MAX_DIM:
            raise UsageError(f"--dims {spec!r}: dimension {text} is too large (limit {MAX_DIM})")
        return int(text)
    if text.isidentifier():
        return text
    raise UsageError(f"--dims {spec!r}: {text!r} is neither a size nor a dimension name")


def _expression(text: str, what: str, shapes, dtypes):
    try:
        return parse_expression(text, shapes, dtypes)
    except ParseError as err:
        raise UsageError(f"{what}: {err}") from None


def _cost_and_wrt(args):
    shapes, dtypes = parse_dims(args.dims)
    cost = _expression(args.expr, "EXPR", shapes, dtypes)
    if cost.shape != ():
        raise UsageError(f"EXPR has shape {format_shape(cost.shape)}; a gradient needs a "
                         "scalar cost (wrap it in sum(...))")
    present = {node.name: node for node in inputs_of([cost])}
    for name in args.wrt:
        if name not in present:
            raise UsageError(f"--wrt {name!r} does not appear in EXPR "
                             f"(its inputs: {', '.join(sorted(present)) or 'none'})")
    return cost, [present[name] for name in args.wrt], shapes, dtypes


def run_grad(args, out) -> int:
    cost, wrts, _, _ = _cost_and_wrt(args)
    grads = grad(cost, wrts)
    if not args.raw:
        grads = _simplified(grads)
    if args.numpy:
        emit(codegen(inputs_of([cost]), grads, name="gradient").rstrip("\n"), out)
        return 0
    show = latex if args.latex else pretty
    for wrt, g in zip(wrts, grads):
        text = show(g)
        if len(wrts) > 1:
            text = f"∂/∂{wrt.name}:\n" + "\n".join("  " + line for line in text.splitlines())
        emit(text, out)
    return 0


def _simplified(nodes) -> list:
    """``sg.simplify(nodes)`` when the simplifier is available, else ``nodes``."""
    try:
        from ..rewrite import simplify
    except ImportError:
        return nodes
    return list(simplify(list(nodes)))


def _refuse_large(nodes) -> dict:
    """The sizes a numeric check binds; refuses graphs whose arrays would be huge."""
    sizes = choose_sizes(nodes)
    for node in toposort(nodes):
        entries = math.prod(substitute(node.shape, sizes))
        if entries > MAX_EVAL_ENTRIES:
            raise UsageError(f"{describe(node)} would have {entries} entries when evaluated; "
                             f"numeric checks are limited to {MAX_EVAL_ENTRIES} (use named dims)")
    return sizes


def _refuse_long_check(args, cost, wrts, sizes) -> None:
    """Refuse a check whose finite differences would run for hours: each trial
    evaluates the cost twice per entry of the --wrt inputs."""
    entries = sum(math.prod(substitute(w.shape, sizes)) for w in wrts)
    evaluations = args.trials * 2 * entries
    per_call = sum(math.prod(substitute(n.shape, sizes)) for n in toposort([cost]))
    work = evaluations * (per_call + EVAL_OVERHEAD)
    if work > args.max_work:
        raise UsageError(f"check would evaluate the cost {evaluations} times (--trials "
                         f"{args.trials} x 2 x {entries} --wrt entries), {per_call} array entries "
                         f"each: about {work:.1e} units of work, over the limit {args.max_work:.1e}; "
                         "use fewer --trials or smaller --dims, or raise --max-work")


def run_check(args, out) -> int:
    cost, wrts, shapes, dtypes = _cost_and_wrt(args)
    given = args.expected or []
    if given and len(given) != len(wrts):
        raise UsageError(f"got {len(given)} --expected for {len(wrts)} --wrt names")
    expected = [_expression(text, f"--expected {i + 1}", shapes, dtypes)
                for i, text in enumerate(given)] or None
    sizes = _refuse_large([cost] + (expected or []))
    for wrt in wrts:
        entries = math.prod(substitute(wrt.shape, sizes))
        if entries > MAX_CHECK_ENTRIES:
            raise UsageError(f"--wrt {wrt.name!r} has {entries} entries; finite differences are "
                             f"limited to {MAX_CHECK_ENTRIES} (use named dims)")
    _refuse_long_check(args, cost, wrts, sizes)
    report = check_grad(cost, wrts, expected, trials=args.trials, rtol=args.rtol, seed=args.seed)
    emit(str(report), out)
    return 0 if report.ok else 1


def run_equivalent(args, out) -> int:
    shapes, dtypes = parse_dims(args.dims)
    a = _expression(args.expr, "EXPR", shapes, dtypes)
    b = _expression(args.other, "EXPR2", shapes, dtypes)
    _refuse_large([a, b])
    report = equivalent(a, b, trials=args.trials, rtol=args.rtol, seed=args.seed)
    emit(str(report), out)
    return 0 if report.ok else 1


COMMANDS = {"grad": run_grad, "check": run_check, "equivalent": run_equivalent}


def main(argv=None, out=None) -> int:
    """Run the command line; returns the exit code (never raises for bad input)."""
    out = out or sys.stdout
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else list(argv)
        args = parser.parse_args(protect_expressions(argv, _option_strings(parser)))
        _recover_positionals(args)
        if not 1 <= getattr(args, "trials", 1) <= MAX_TRIALS:
            raise UsageError(f"--trials must lie in [1, {MAX_TRIALS}]")
        if getattr(args, "seed", 0) < 0:
            raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
        if not 0 < getattr(args, "rtol", 0.5) < 1:
            raise UsageError("--rtol must lie in (0, 1)")
        return COMMANDS[args.command](args, out)
    except (UsageError, ShapeError, ValueError, TypeError, ArithmeticError, RecursionError,
            MemoryError) as err:
        emit(f"symgrad: error: {_one_line(err)}", sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except Exception as err:  # a bug in symgrad: still one line, but told apart
        emit(f"symgrad: internal error: {type(err).__name__}: {_one_line(err)}", sys.stderr)
        return 3


def emit(text: str, stream) -> None:
    """Print ``text``; characters the stream cannot encode (ᵀ on an ASCII
    terminal) are written as backslash escapes instead of failing."""
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
