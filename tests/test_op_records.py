"""The registry walk of issue 10: every field of every op record is set or explicitly
None (of the kind the field holds), and the printing and SymPy fields that are set are
exercised on the op's samples."""
import dataclasses

import numpy as np
import pytest

import symgrad as sg
from symgrad.ir.graph import Op
from symgrad.ir.print_forms import Piece
from symgrad.printing.latex import LatexPrinter
from symgrad.printing.unicode import Printer
from strategies import sample_nodes

OPS = sorted(sg.REGISTRY.values(), key=lambda op: op.name)
CALLABLE_OR_NONE = ("prepare", "fold", "vjp", "jvp", "jacobian", "facts", "unicode", "latex",
                    "to_sympy", "from_sympy", "uniform", "transposed")
STR_OR_NONE = ("out_form", "symbol", "latex_symbol", "leaf", "scalar")
TUPLES = ("helpers", "linear_in", "odd_in", "operators")
FLAGS = ("differentiable", "elementwise", "view", "fresh", "kink", "positive_result",
         "keeps_positive", "commutative", "reads_indices")


def test_the_walk_covers_every_field():
    """A new field must be added to one of the kinds above (and so be checked)."""
    named = set(CALLABLE_OR_NONE + STR_OR_NONE + TUPLES + FLAGS)
    others = {"name", "infer", "numpy", "samples", "cli", "specialize", "array_api"}
    assert {f.name for f in dataclasses.fields(Op)} == named | others


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_field_is_set_or_none(op):
    assert isinstance(op.name, str) and callable(op.infer) and callable(op.samples)
    assert op.numpy is None or isinstance(op.numpy, str) or callable(op.numpy)
    assert op.array_api is None or isinstance(op.array_api, (str, sg.ir.graph.Portable)) \
        or callable(op.array_api)  # exercised on every sample by tests/test_backends.py
    for name in CALLABLE_OR_NONE:
        assert getattr(op, name) is None or callable(getattr(op, name)), name
    for name in STR_OR_NONE:
        assert getattr(op, name) is None or isinstance(getattr(op, name), str), name
    for name in TUPLES:
        assert isinstance(getattr(op, name), tuple), name
    for name in FLAGS:
        assert isinstance(getattr(op, name), bool), name
    assert op.cli is None or (isinstance(op.cli, tuple) and all(len(p) == 2 for p in op.cli))
    assert op.leaf in (None, "input", "constant")
    for key in op.operators:
        assert sg.ir.graph.OPERATORS[key] is op


SAMPLED = [op for op in OPS if op.samples()]


@pytest.mark.parametrize("op", SAMPLED, ids=lambda op: op.name)
def test_printing_fields_are_exercised(op):
    for node in sample_nodes(op):
        for printer in (Printer(), LatexPrinter()):
            rule = printer.rule(node.op)
            if rule is not None:
                pieces = [Piece(printer.input_name(o.name)) for o in node.operands]
                assert isinstance(rule(printer, node, *pieces), Piece)
            assert printer.head(node.op)
            assert printer.doprint(node)


def _sympy_extras(op):
    """Nodes with a SymPy form for ops whose samples have none (bool or reordered)."""
    a, b, v = sg.scalar("a0"), sg.scalar("a1"), sg.vector("a2", 3)
    if op is sg.REGISTRY["where"]:
        return [op(a > b, a, b)]
    if op is sg.REGISTRY["reshape"]:
        return [op(v, shape=(3, 1)), op(v, shape=(1, 3))]
    return []


@pytest.mark.parametrize("op", [op for op in SAMPLED if op.to_sympy is not None],
                         ids=lambda op: op.name)
def test_sympy_fields_are_exercised(op):
    sympy = pytest.importorskip("sympy", reason="the SymPy bridge needs sympy")
    converted = 0
    for node in [*sample_nodes(op, scalars=True), *_sympy_extras(op)]:
        if any(isinstance(d, str) for d in node.shape) or node.ndim > 2 or any(
                o.ndim > 2 or (o.name is not None and o.dtype != "float64") for o in node.operands):
            continue
        try:
            expr = sg.to_sympy(node)
        except ValueError as err:  # a form SymPy has none for (an array where, ...)
            assert op.name in str(err) or "SymPy" in str(err)
            continue
        assert isinstance(expr, (sympy.Basic, sympy.MatrixBase))
        converted += 1
    assert converted, f"no sample of {op.name} has a SymPy form"
    if op.from_sympy is not None:
        assert issubclass(op.from_sympy(sympy), sympy.Basic)


def test_from_sympy_fields_name_distinct_classes():
    sympy = pytest.importorskip("sympy", reason="the SymPy bridge needs sympy")
    classes = [op.from_sympy(sympy) for op in OPS if op.from_sympy is not None]
    assert len(classes) == len(set(classes))


def test_cli_fields_parse():
    from symgrad.cli.parse import functions
    names = functions()
    for op in OPS:
        if op.cli is not None:
            assert names[op.name][0] is op
    x = sg.vector("x", 3)
    assert sg.cli.parse.parse_expression("exp(x)", {"x": (3,)}) is sg.exp(x)
    assert np.isfinite(sg.function([x], sg.exp(x))(np.zeros(3))).all()


@pytest.mark.parametrize("op", [op for op in OPS if op.commutative], ids=lambda op: op.name)
def test_commutative_records_commute(op):
    """A record that says ``commutative`` lets patterns swap its operands: it must be true."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    x, y = sg.matrix("x", (2, 3)), sg.vector("y", 3)
    f = sg.function([x, y], [op(x, y), op(y, x)], optimize=False)
    forward, swapped = f(a, b)
    np.testing.assert_array_equal(forward, swapped)


def test_rewrite_patterns_hold_records():
    """Rules name their ops by record (ops compare as objects, never by name)."""
    from symgrad.rewrite import RULESETS
    for ruleset in RULESETS:
        for rule in ruleset:
            assert rule.pattern.op is None or isinstance(rule.pattern.op, Op), rule


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_ops_with_label_or_condition_operands_say_they_read_indices(op):
    """An op whose samples feed an int label or bool operand into a float64 result
    reads it as indices or a condition: its record must say ``reads_indices`` (the
    compiler would otherwise cast those operands to float64)."""
    for sample, node in zip(op.samples(), sample_nodes(op)):
        if any(spec.domain == "bool" or spec.domain.startswith("labels")
               for spec in sample.operands) and node.dtype == "float64":
            assert op.reads_indices, op.name


def test_known_constants_come_from_the_records_uniform_field():
    """``is_constant`` reads each op's ``uniform`` fact: constants, zeros and views of them
    are known; any other node (even one whose value happens to be constant) is not."""
    from symgrad.ops.base import constant_form_ops, is_constant
    three = sg.constant(np.full((2, 3), 3.0))
    assert is_constant(three, 3.0) and not is_constant(three, 0.0)
    assert is_constant(sg.zeros((4,)), 0.0) and not is_constant(sg.zeros((4,)), 1.0)
    assert is_constant(sg.broadcast_to(sg.constant(2.0), (3, 3)), 2.0)
    assert is_constant(sg.reshape(three, (6,)), 3.0)
    assert not is_constant(sg.constant(np.array([1.0, 2.0])), 1.0)
    assert not is_constant(sg.constant(np.zeros(0)), 0.0)  # empty: nothing is known
    assert not is_constant(sg.exp(sg.vector("x", 3)), 1.0)
    assert {op.name for op in constant_form_ops()} == {"constant", "zeros", "broadcast_to", "reshape"}
