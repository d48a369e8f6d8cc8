"""Regression tests for issue 15, items 13-26 (each failed on the code before its fix)."""
import re

import numpy as np
import pytest

import symgrad as sg


def test_item13_spd_solve_and_inv_of_an_empty_matrix(capfd):
    a, b = sg.matrix("A", ("n", "n")), sg.vector("b", "n")
    spd = a @ a.T + sg.eye(a.shape[0])
    f = sg.function([a, b], [sg.solve(spd, b), sg.inv(spd), sg.logdet(spd)])
    x, inverse, logdet = f(np.zeros((0, 0)), np.zeros(0))
    assert x.shape == (0,) and inverse.shape == (0, 0) and logdet == 0.0
    assert capfd.readouterr().out == ""  # LAPACK printed "DPOTRI ... illegal value"


def test_item15_to_sympy_of_a_deep_graph_names_the_limit():
    x = sg.scalar("x")
    h = x
    for _ in range(1000):
        h = sg.sin(h) + 1.0
    with pytest.raises(ValueError, match=r"2001 operations deep.*recursion limit"):
        sg.to_sympy(h)
    assert not sg.equivalent(h, h + 1.0)  # the numeric fallback still answers


def test_item14_generated_code_spells_bool_for_every_declared_numpy():
    # np.bool exists only from NumPy 2.0; pyproject declares numpy>=1.24
    x = sg.vector("x", 3)
    mask = sg.constant(np.array([True, False, True]))
    big_mask = sg.constant(np.arange(40) % 3 == 0)
    outputs = [sg.where(mask, x, 0.0), sg.REGISTRY["zeros"](shape=(2,), dtype="bool"), big_mask]
    source = sg.codegen([x], outputs)
    assert "np.bool_" in source
    assert re.search(r"np\.bool(?!_)", source) is None, source
    kept, falses, same = sg.function([x], outputs)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(kept, [1.0, 0.0, 3.0])
    assert falses.dtype == np.bool_ and not falses.any()
    np.testing.assert_array_equal(same, np.arange(40) % 3 == 0)


def test_item16_named_index_out_of_range_names_the_operand_and_dimension():
    x = sg.matrix("X", ("n", 3))
    f = sg.function([x], [x[5], x[-3]])
    with pytest.raises(IndexError, match=r"getitem\('X' \(n, 3\)\): index 5 .* axis 0 with size n=2"):
        f(np.ones((2, 3)))
    first, last = f(np.arange(18.0).reshape(6, 3))
    np.testing.assert_array_equal(first, [15.0, 16.0, 17.0])
    np.testing.assert_array_equal(last, [9.0, 10.0, 11.0])


def test_item16_negative_integer_power_of_an_int_fails_at_build_time():
    k = sg.vector("k", 3, "int64")
    with pytest.raises(ValueError, match=r"power\('k' \(3,\).*Integers to negative integer powers"):
        k ** -1
    f = sg.function([k], [k ** 2, k ** -1.0, k ** np.array([1, 0, 2])])
    squares, inverses, mixed = f(np.array([1, 2, 4]))
    np.testing.assert_array_equal(squares, [1, 4, 16])
    np.testing.assert_array_equal(inverses, [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(mixed, [1, 1, 16])


def test_item16_an_input_named_self_is_passed_by_keyword():
    s, w = sg.scalar("self"), sg.vector("w", 2)
    f = sg.function([s, w], sg.sum(w * s))
    assert f(self=3.0, w=np.ones(2)) == 6.0
    assert f.bind(self=3.0, w=np.ones(2))[0][0] == 3.0
    report = sg.explain(sg.sum(w * s), w, {s: 2.0, w: np.array([1.0, 2.0])})
    assert "self" in str(report)


def test_item16_zero_slice_step_names_the_op():
    x = sg.vector("x", 5)
    with pytest.raises(ValueError, match=r"getitem\('x' \(5,\)\): slice step cannot be zero"):
        x[::0]


def test_item16_longdouble_beyond_float64_is_refused():
    x = sg.vector("x", 2)
    with pytest.raises(ValueError, match="outside float64's range"):
        sg.constant(np.longdouble("1e400"))
    with pytest.raises(ValueError, match="outside float64's range"):
        x * np.array([1.0, np.longdouble("1e400")], dtype=np.longdouble)
    f = sg.function([x], x * np.longdouble("2.5"))  # in range: converted
    np.testing.assert_array_equal(f(np.ones(2)), [2.5, 2.5])
    assert np.isinf(sg.constant(np.longdouble("inf")).value)  # inf stays inf


def test_item16_cli_negative_seed_names_the_option(capsys):
    from symgrad.cli.main import main
    code = main(["check", "sum(x * x)", "--wrt", "x", "--dims", "x=3", "--seed", "-1"])
    assert code == 2
    assert "--seed must be a non-negative integer, got -1" in capsys.readouterr().err


def _cli(capsys, *argv):
    from symgrad.cli.main import main
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_item23_cli_options_before_expressions_and_leading_minus(capsys):
    forms = [("grad", "--dims", "x=n", "sum(x * x)", "--wrt", "x"),
             ("grad", "--wrt", "x", "sum(x * x)", "--dims", "x=n"),
             ("grad", "--", "sum(x * x)", "--wrt", "x", "--dims", "x=n")]
    outputs = {_cli(capsys, *form)[1] for form in forms}
    assert outputs == {"2 * x\n"}
    for form in [("grad", "-x * x", "--wrt", "x"), ("grad", "--", "-x * x", "--wrt", "x"),
                 ("grad", "--wrt", "x", "--", "-x * x"), ("grad", " -x * x", "--wrt", "x")]:
        assert _cli(capsys, *form)[:2] == (0, "-2 * x\n"), form
    code, out, _ = _cli(capsys, "equivalent", "--dims", "x=3", "sum(x)", "-sum(-x)")
    assert code == 0 and out.startswith("equivalent")
    code, _, err = _cli(capsys, "equivalent", "--dims", "x=3", "sum(x)")
    assert code == 2 and "EXPR2 argument is missing" in err


def test_item23_cli_where_stack_concatenate_match_the_api(capsys):
    x = sg.vector("x", 3)
    # the parser reads every number as a float
    api = [sg.sum(sg.where(x > 0.0, x, 0.0) ** 2.0),
           sg.sum(sg.stack([x, 2.0 * x], axis=1) ** 2.0),
           sg.sum(sg.concatenate([x, sg.exp(x)]))]
    text = ["sum(where(x > 0, x, 0.0) ** 2)", "sum(stack([x, 2 * x], axis=1) ** 2)",
            "sum(concatenate([x, exp(x)]))"]
    from symgrad.cli.parse import parse_expression
    for node, source in zip(api, text):
        assert parse_expression(source, {"x": (3,)}) is node
        code, out, err = _cli(capsys, "check", source, "--wrt", "x", "--dims", "x=3")
        assert code == 0 and "OK" in out, err
    assert parse_expression("where(x >= 1, x, -x)", {"x": (3,)}) is sg.where(
        sg.vector("x", 3) >= 1.0, sg.vector("x", 3), -sg.vector("x", 3))
    code, _, err = _cli(capsys, "grad", "sum(stack(x))", "--wrt", "x", "--dims", "x=3")
    assert code == 2 and "expected a list of expressions" in err


def test_item25_nodes_dying_at_interpreter_exit_print_nothing(monkeypatch):
    # at exit, module globals may already be None when the last nodes die
    import sys
    from symgrad.ir import graph
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    import gc
    node = sg.exp(sg.vector("item25_x", 3)) * 3.0
    monkeypatch.setattr(graph, "_remove_dead_weakref", None)
    del node
    gc.collect()
    monkeypatch.undo()
    assert unraisable == []
    # the input's table entry went (keys hold their operands, so no consumer's can
    # remain); only the attrs are printed to look for it (printing every key prints
    # every live graph: minutes in a full run)
    assert not [k for k in graph._TABLE if k[0] == "input" and "item25_x" in str(k[2])]


def test_item26_every_public_name_has_its_own_docstring():
    import types
    missing = []
    for name in sg.__all__:
        obj = getattr(sg, name)
        if isinstance(obj, dict):  # REGISTRY: data, not a function
            continue
        doc = obj.__doc__ or ""
        inherited = not isinstance(obj, (type, types.ModuleType)) and doc == type(obj).__doc__
        if not doc.strip() or inherited:
            missing.append(name)
    assert missing == []


def test_item26_packaging_metadata_and_sdist_contents():
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "MIT"$', pyproject, re.M)  # PEP 639, not the {text = } table
    assert "MIT License" in (root / "LICENSE").read_text(encoding="utf-8")
    assert re.search(r"^classifiers = \[", pyproject, re.M) and "authors = [" in pyproject
    assert (root / "symgrad" / "py.typed").exists()
    # one place for the version: the package's bottom-layer module, read by setuptools
    assert re.search(r'^dynamic = \["version"\]$', pyproject, re.M)
    assert 'version = {attr = "symgrad.version.__version__"}' in pyproject
    import importlib.metadata
    assert importlib.metadata.version("symgrad") == sg.__version__
    manifest = (root / "MANIFEST.in").read_text(encoding="utf-8").split()
    for tree in ("tests", "docs", "examples", "benchmarks"):
        assert tree in manifest  # their tests read conftest, strategies, docs and examples


def test_item19_from_sympy_matrix_power_builds_log_k_products():
    import sympy
    x = sympy.MatrixSymbol("X", 3, 3)
    for k in (1, 2, 5, 13, 64):
        node = sg.from_sympy(sympy.MatPow(x, k))
        value = np.array([[0.5, 0.1, 0.0], [0.2, 0.3, 0.1], [0.0, 0.4, 0.6]])
        got = sg.function([sg.matrix("X", (3, 3))], node)(value)
        np.testing.assert_allclose(got, np.linalg.matrix_power(value, k), rtol=1e-12)
        assert sg.op_count(node) <= 2 * k.bit_length()
    huge = sg.from_sympy(sympy.MatPow(x, 10 ** 6))  # k - 1 = 999,999 products before
    assert sg.op_count(huge) <= 2 * (10 ** 6).bit_length()
    inverse_cube = sg.from_sympy(sympy.MatPow(x, -3))
    assert sg.op_count(inverse_cube) <= 4


def test_item20_cli_check_caps_the_work_and_names_the_option(capsys):
    argv = ["check", "sum(A * A)", "--wrt", "A", "--dims", "A=64,64", "--trials", "1000"]
    code, _, err = _cli(capsys, *argv)
    assert code == 2 and "8192000 times" in err and "--max-work" in err
    code, out, _ = _cli(capsys, "check", "sum(x * x)", "--wrt", "x", "--dims", "x=3")
    assert code == 0 and "OK" in out
    code, _, err = _cli(capsys, "check", "sum(x * x)", "--wrt", "x", "--dims", "x=3",
                        "--max-work", "10")
    assert code == 2 and "over the limit 1.0e+01" in err


def test_item21_large_constants_are_bound_not_written_into_the_source():
    big = np.arange(200_000, dtype=np.float64).reshape(400, 500) / 7.0
    x = sg.matrix("X", (400, 500))
    f = sg.function([x], sg.sum(x * big))
    assert len(f.source) < 5_000  # the hex form alone was 3.2 MB
    value = np.ones((400, 500))
    assert f(value) == pytest.approx(big.sum(), rel=1e-12)
    import pickle
    assert pickle.loads(pickle.dumps(f))(value) == f(value)
    source = sg.codegen([x], sg.sum(x * big))  # codegen stays self-contained
    namespace: dict = {}
    exec(compile(source, "<codegen>", "exec"), namespace)
    assert namespace["f"](value) == f(value)
    small = sg.function([x], x * np.array([1.0, 2.0]).reshape(2, 1).repeat(250, 1).ravel())
    assert "np.array(" in small.source or "fromhex" in small.source  # small ones stay in


def test_item18_sums_of_scatters_accumulate_in_one_buffer():
    n = 60
    x, w = sg.vector("x", n), sg.vector("w", n)
    cost = sg.constant(0.0)
    for i in range(n):
        cost = cost + x[i] * x[i]
    cost = cost + sg.sum(w * x) + sg.sum(x[2:5])  # other terms in the same chain
    gx, gw = sg.grad(cost, [x, w])
    f = sg.function([x, w], [gx, gw])
    # one accumulation, not one zero array per index (the call was O(n^2))
    assert f.source.count("_scatter_sum(") == 2  # the helper and its one call
    assert f.source.count("_scatter(") <= 2
    v, u = np.linspace(-1.0, 1.0, n), np.arange(n, dtype=float)
    expected = 2 * v + u
    expected[2:5] += 1.0
    got_x, got_w = f(v, u)
    np.testing.assert_allclose(got_x, expected, rtol=1e-12)
    np.testing.assert_allclose(got_w, v, rtol=1e-12)


def test_item17_pickling_nodes_that_share_a_graph_grows_linearly():
    import pickle
    x = sg.scalar("x")
    states, h = [], x
    for _ in range(1200):
        h = sg.tanh(h * 0.9 + x)
        states.append(h)
    small, large = len(pickle.dumps(states[:600])), len(pickle.dumps(states))
    assert large < 2.3 * small  # each state repeated the whole chain: 4x before
    assert large < 80 * len(pickle.dumps(states[-1]))  # was about 600x
    back = pickle.loads(pickle.dumps(states))
    assert all(a is b for a, b in zip(back, states))
    f = sg.function([x], back[-1])
    assert f(0.5) == pytest.approx(sg.function([x], states[-1])(0.5), rel=1e-15)


def test_a_sum_of_scatters_inside_another_chains_term_accumulates_too():
    """A scatter chain read by another scatter chain's other term (here through exp)
    becomes a scatter_sum as well: no chain is kept as separate scatters and adds."""
    from symgrad.compile.memory_plan import statement_order
    from symgrad.compile.scatter_sums import accumulate_scatters
    u = [sg.scalar(f"u{i}") for i in range(4)]
    v = [sg.scalar(f"v{i}") for i in range(4)]

    def chain(terms):
        total = sg.zeros((4,))
        for i, term in enumerate(terms):
            total = total + sg.REGISTRY["scatter"](term, shape=(4,), index=(i,))
        return total
    outer = chain(u) + sg.exp(chain(v))
    outputs, order = accumulate_scatters([outer], statement_order([outer]))
    names = [node.op.name for node in order]
    assert names.count("scatter_sum") == 2 and "scatter" not in names
    f = sg.function(u + v, outer)
    a, b = np.arange(4.0), np.linspace(-1.0, 1.0, 4)
    np.testing.assert_allclose(f(*a, *b), a + np.exp(b), rtol=1e-13)
