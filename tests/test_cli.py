"""The command line and its restricted expression parser: outputs agree with the
API, wrong derivations exit 1, bad input exits 2 with one line naming the token."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

import symgrad as sg
from symgrad.cli.main import main
from symgrad.cli.parse import MAX_DEPTH, MAX_LENGTH, ParseError, parse_expression


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def api_logdet_gradient():
    A = sg.matrix("A", ("n", "n"))
    return A, sg.simplify(sg.grad(sg.logdet(A @ A.T), A))


# grad ---------------------------------------------------------------------------------

def test_grad_prints_the_simplified_gradient(capsys):
    code, out, err = run(capsys, "grad", "logdet(A @ A.T)", "--wrt", "A", "--dims", "A=n,n")
    assert code == 0 and err == ""
    _, gradient = api_logdet_gradient()
    assert out.strip() == sg.pretty(gradient)


def test_grad_latex(capsys):
    code, out, _ = run(capsys, "grad", "logdet(A @ A.T)", "--wrt", "A", "--dims", "A=n,n",
                       "--latex")
    assert code == 0 and out.strip() == sg.latex(api_logdet_gradient()[1])


def test_grad_numpy_code_computes_the_hand_derived_gradient(capsys):
    code, out, _ = run(capsys, "grad", "logdet(A @ A.T)", "--wrt", "A", "--dims", "A=n,n",
                       "--numpy")
    assert code == 0 and "def gradient(A)" in out
    namespace = {}
    exec(compile(out, "<generated>", "exec"), namespace)  # symgrad's own output, not user text
    a = np.random.default_rng(0).standard_normal((4, 4)) + 3 * np.eye(4)
    (result,) = namespace["gradient"](a)
    np.testing.assert_allclose(result, 2 * np.linalg.inv(a @ a.T) @ a, rtol=1e-10)


def test_grad_several_wrt_and_dims_forms(capsys):
    code, out, _ = run(capsys, "grad", "x @ M @ x + s * sum(x)", "--wrt", "x", "M", "s",
                       "--dims", "x=n", "--dims", "M=n,n")
    assert code == 0
    assert out.count("∂/∂") == 3 and "∂/∂M:" in out


def test_grad_with_integer_labels_and_concrete_dims(capsys):
    code, out, _ = run(capsys, "grad", "-sum(one_hot(y, 3) * log_softmax(a))", "--wrt", "a",
                       "--dims", "y=b:int", "a=b,3")
    assert code == 0 and "softmax" in out


# check and equivalent -------------------------------------------------------------------

def test_check_right_and_wrong(capsys):
    base = ["check", "logdet(A @ A.T)", "--wrt", "A", "--dims", "A=n,n"]
    code, out, _ = run(capsys, *base, "--expected", "2 * inv(A @ A.T) @ A")
    assert code == 0 and "OK" in out
    code, out, _ = run(capsys, *base, "--expected", "inv(A @ A.T) @ A")
    assert code == 1 and "FAILED" in out and "factor of 2" in out


def test_check_several_wrt(capsys):
    code, out, _ = run(capsys, "check", "x @ M @ x", "--wrt", "x", "M", "--dims", "x=n", "M=n,n",
                       "--expected", "M @ x", "--expected", "outer(x, x)")
    assert code == 1 and "symmetric term" in out
    code, _, err = run(capsys, "check", "x @ M @ x", "--wrt", "x", "M", "--dims", "x=n", "M=n,n",
                       "--expected", "M @ x")
    assert code == 2 and "1 --expected for 2 --wrt" in err


def test_check_without_expected_checks_finite_differences(capsys):
    code, out, _ = run(capsys, "check", "sum(log(x)) + logdet(S)", "--wrt", "x", "S",
                       "--dims", "x=n", "S=n,n")
    assert code == 0 and "finite differences" in out


def test_equivalent_command(capsys):
    dims = ["--dims", "A=n,m", "B=m,n"]
    assert run(capsys, "equivalent", "trace(A @ B)", "trace(B @ A)", *dims)[0] == 0
    code, out, _ = run(capsys, "equivalent", "trace(A @ B)", "sum(A)", *dims)
    assert code == 1 and "NOT equivalent" in out


# bad input: exit 2, one line, the column of the token ------------------------------------

BAD = [
    (["grad", "logdet(A @ A.T", "--wrt", "A"], "column 7"),
    (["grad", "foo(A)", "--wrt", "A"], "unknown function 'foo'"),
    (["grad", "__import__('os').system('true')", "--wrt", "A"], "column"),
    (["grad", "A.shape", "--wrt", "A"], ".shape is not allowed"),
    (["grad", "0 < x < 1", "--wrt", "x"], "chained comparisons are not allowed"),
    (["grad", "sum(x) +", "--wrt", "x"], "end of expression"),
    (["grad", "sum(A @ B)", "--wrt", "A", "--dims", "A=n,m", "B=k,n"], "column 7"),
    (["grad", "sum(x, axis=1.5)", "--wrt", "x", "--dims", "x=n"], "column 13"),
    (["grad", "x ** 'a'", "--wrt", "x"], "str constants"),
    (["grad", "x", "--wrt", "x", "--dims", "x=n"], "scalar cost"),
    (["grad", "s * t", "--wrt", "u"], "'u' does not appear"),
    (["grad", "s", "--wrt", "s", "--dims", "A=n,,m"], "neither a size"),
    (["grad", "s", "--wrt", "s", "--dims", "A"], "NAME=DIMS"),
    (["grad", "s", "--wrt", "s", "--dims", "A=n:complex"], "NAME=DIMS"),
    (["grad", "s", "--wrt", "s", "--latex", "--numpy"], "not allowed with"),
    (["grad", "s"], "--wrt"),
    (["frobnicate"], "invalid choice"),
    (["check", "s", "--wrt", "s", "--trials", "0"], "--trials"),
    (["equivalent", "s", "s", "--trials", "10000000"], "--trials"),
    (["check", "sum(A)", "--wrt", "A", "--dims", "A=500,500"], "finite differences"),
    (["grad", "x" * (MAX_LENGTH + 1), "--wrt", "x"], "characters long"),
    (["grad", "- " * (MAX_DEPTH + 5) + "x", "--wrt", "x"], "nested too deeply"),
    (["grad", "(" * 300 + "x" + ")" * 300, "--wrt", "x"], "column"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("symgrad: error:") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err and out == ""


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "grad" in out and "check" in out


# the parser -------------------------------------------------------------------------------

def test_parser_builds_the_same_graph_as_the_api():
    A, x = sg.matrix("A", ("n", "m")), sg.vector("x", "m")
    shapes = {"A": ("n", "m"), "x": ("m",)}
    assert parse_expression("sum(tanh(A @ x) ** 2) / n", shapes) is \
        sg.sum(sg.tanh(A @ x) ** 2.0) / sg.REGISTRY["dimsize"](dims=("n",))
    assert parse_expression("A[0, :] @ x + A.T[1, 2] - -s", shapes) is \
        A[0, :] @ x + A.T[1, 2] - (-sg.scalar("s"))
    assert parse_expression("softmax(A, axis=0)", shapes) is sg.softmax(A, axis=0)
    assert parse_expression("mean(A, 1, True)", shapes) is sg.mean(A, 1, keepdims=True)
    assert parse_expression("trace(eye(n) + A @ A.T)", shapes) is \
        sg.trace(sg.eye("n") + A @ A.T)


def test_parser_error_points_at_the_token():
    with pytest.raises(ParseError) as info:
        parse_expression("exp(x) + bar(y)")
    assert info.value.column == 10 and info.value.token == "bar"
    with pytest.raises(ParseError) as info:
        parse_expression("é + x << 2")  # columns count characters, not bytes
    assert info.value.column == 7 and info.value.token == "<<"


@given(st.text(alphabet="xAsT()[]:,.+-*/@ 0123456789elogsumtrcinvdh_'\"=<", max_size=40))
def test_parser_never_raises_anything_but_parse_error(text):
    try:
        node = parse_expression(text, {"A": ("n", "n"), "x": ("n",)})
    except ParseError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(node, sg.Node)


def test_python_dash_m_symgrad_in_a_subprocess_on_an_ascii_terminal():
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    result = subprocess.run(
        [sys.executable, "-m", "symgrad", "check", "logdet(A @ A.T)", "--wrt", "A",
         "--dims", "A=n,n", "--expected", "inv(A @ A.T) @ A"],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stderr
    assert "factor of 2" in result.stdout and result.stderr == ""
    assert "1/2 \\xd7 gradient" in result.stdout  # × escaped, not a UnicodeEncodeError
