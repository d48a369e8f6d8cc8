"""sg.function and sg.codegen: one statement per node, shared work done once,
readable names, a standalone NumPy-only module, calling conventions, argument
checking by input name, and result ownership."""
import ast

import numpy as np
import pytest

import symgrad as sg


def mlp_graph():
    W, x, y = sg.matrix("W", ("n", "m")), sg.vector("x", "m"), sg.vector("y", "n")
    h = sg.sigmoid(W @ x)
    loss = sg.sum((h - y) ** 2)
    return [W, x, y], [loss] + sg.grad(loss, [W, x])


def function_body(source: str, name: str = "f") -> list:
    tree = ast.parse(source)
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return fn.body


def node_statements(body) -> list:
    """Assignments computing nodes (dimension bindings ``n = W.shape[0]`` and the
    scratch-slot binding excluded)."""
    def is_dim_binding(stmt):
        value = stmt.value
        if isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "_slots":
            return True
        return (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute)
                and value.value.attr == "shape")
    return [s for s in body if isinstance(s, ast.Assign) and not is_dim_binding(s)]


def test_one_statement_per_node_and_shared_work_once():
    inputs, outputs = mlp_graph()
    f = sg.function(inputs, outputs)
    statements = node_statements(function_body(f.executed_source))
    # One statement per op node; only a scalar computed from scalars may be
    # written inline into its single consumer (compile.py's _inlined).
    arrays = [n for n in sg.toposort(outputs) if n.op.name not in ("input", "constant")
              and (n.ndim or any(o.ndim for o in n.operands))]
    assert len(arrays) <= len(statements) <= sg.op_count(outputs)
    targets = [s.targets[0].id for s in statements]
    assert len(targets) == len(set(targets))          # every node assigned exactly once
    # No two statements compute the same expression of the same variables.
    right_sides = [ast.unparse(s.value) for s in statements]
    assert len(right_sides) == len(set(right_sides))
    # W @ x feeds the loss and both gradients, yet is computed once.
    uses = [{n.id for n in ast.walk(s.value) if isinstance(n, ast.Name)} for s in statements]
    assert sum(1 for names in uses if {"W", "x"} <= names) == 1


def test_repeated_subexpressions_in_outputs_are_computed_once():
    x = sg.vector("x", 3)
    e = sg.exp(x)
    f = sg.function([x], [sg.sum(e), e * 2.0, sg.exp(x) + 1.0])
    assert f.source.count("np.exp(") == 1


def test_readable_names_from_user_names():
    W, x, y = sg.matrix("W", ("n", "m")), sg.vector("x", "m"), sg.vector("y", "n")
    h = sg.sigmoid(W @ x).named("h")
    loss = sg.sum((h - y) ** 2).named("loss")
    source = sg.codegen([W, x, y], [loss] + sg.grad(loss, [W, x]) + [h * 2.0, sg.mean(h)])
    assert "def f(W, x, y):" in source
    assert "n = W.shape[0]" in source               # a named dimension the body uses
    assert "    h = _sigmoid(np.dot(W, x))\n" in source  # the user's name, the product inlined
    assert "    loss = " in source and "    d_W = " in source and "    d_x = " in source
    assert "d_h" in source                          # the gradient of a named node
    assert "    out3 = 2.0 * h\n" in source and "return loss, d_W, d_x, out3, out4" in source
    assert "matmul_" not in source and "del " not in source and "_slots" not in source


@pytest.mark.parametrize("bad", ["lambda", "np", "sum", "_sigmoid", "x-1", "f", "ünï"])
def test_unsafe_input_names_are_mangled(bad):
    x = sg.vector(bad, 2)
    f = sg.function([x], sg.sigmoid(x) * 2.0)
    ast.parse(f.source)
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])
    np.testing.assert_allclose(f(**{bad: np.zeros(2)}), [1.0, 1.0])


def test_codegen_is_a_standalone_numpy_module():
    inputs, outputs = mlp_graph()
    source = sg.codegen(inputs, outputs, name="loss_and_grads")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            assert [a.name for a in node.names] in (["numpy"], ["threading"]), ast.dump(node)
        assert not isinstance(node, ast.ImportFrom)
        assert not (isinstance(node, ast.Name) and node.id in ("sg", "symgrad"))
    namespace = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)]
    standalone = namespace["loss_and_grads"](*values)
    compiled = sg.function(inputs, outputs)(*values)
    for a, b in zip(standalone, compiled):
        np.testing.assert_array_equal(a, b)


def test_function_source_is_the_codegen_text():
    inputs, outputs = mlp_graph()
    assert sg.function(inputs, outputs).source == sg.codegen(inputs, outputs)
    with pytest.raises(ValueError, match="identifier"):
        sg.codegen(inputs, outputs, name="not valid")


def test_positional_keyword_and_mixed_calls():
    inputs, outputs = mlp_graph()
    f = sg.function(inputs, outputs)
    W, x, y = np.ones((2, 3)), np.arange(3.0), np.zeros(2)
    a = f(W, x, y)
    b = f(W=W, x=x, y=y)
    c = f(W, y=y, x=x)
    for left, right in [(a, b), (a, c)]:
        for p, q in zip(left, right):
            np.testing.assert_array_equal(p, q)


def test_one_function_serves_every_consistent_shape():
    X, labels = sg.matrix("X", ("B", 3)), sg.vector("y", "B", dtype="int64")
    cost = sg.mean(sg.sum(sg.one_hot(labels, 3) * X, axis=1))
    f = sg.function([X, labels], cost)
    for batch in (1, 4, 9):
        Xv = np.arange(batch * 3.0).reshape(batch, 3)
        yv = np.arange(batch) % 3
        np.testing.assert_allclose(f(Xv, yv), Xv[np.arange(batch), yv].mean())


def test_results_types():
    x = sg.vector("x", 3)
    single = sg.function([x], sg.sum(x))(np.ones(3))
    assert isinstance(single, (np.floating, np.ndarray)) and np.ndim(single) == 0
    assert np.asarray(single).dtype == np.float64
    vec = sg.function([x], x * 2.0)(np.ones(3))
    assert isinstance(vec, np.ndarray) and vec.shape == (3,)
    pair = sg.function([x], [x * 2.0, sg.sum(x)])(np.ones(3))
    assert isinstance(pair, tuple) and len(pair) == 2
    one = sg.function([x], [x * 2.0])(np.ones(3))
    assert isinstance(one, tuple) and len(one) == 1


def test_results_are_fresh_arrays_and_inputs_are_not_mutated():
    W, x = sg.matrix("W", (2, 3)), sg.vector("x", 3)
    e = sg.exp(x)
    outputs = [W, W.T, x[1:], e, e, sg.broadcast_to(x, (2, 3)), sg.constant(np.arange(3.0)),
               sg.grad(sg.sum(x), W), sg.diag(W[:, :2]), sg.reshape(W, (3, 2))]
    f = sg.function([W, x], outputs)
    Wv, xv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    W0, x0 = Wv.copy(), xv.copy()
    first = f(Wv, xv)
    for result in first:
        assert result.flags.writeable
        result[...] = -7.0                  # the caller owns every result
    np.testing.assert_array_equal(Wv, W0)
    np.testing.assert_array_equal(xv, x0)
    second = f(Wv, xv)
    np.testing.assert_array_equal(second[0], W0)
    np.testing.assert_array_equal(second[1], W0.T)
    np.testing.assert_array_equal(second[2], x0[1:])
    np.testing.assert_array_equal(second[3], np.exp(x0))
    np.testing.assert_array_equal(second[4], np.exp(x0))
    np.testing.assert_array_equal(second[6], np.arange(3.0))
    np.testing.assert_array_equal(second[7], np.zeros((2, 3)))
    np.testing.assert_array_equal(second[8], [0.0, 4.0])
    assert not np.shares_memory(second[3], second[4])


# Bad calls: each error names the input ---------------------------------------------------

@pytest.fixture
def net():
    W, x = sg.matrix("W", ("n", "m")), sg.vector("x", "m")
    v, labels = sg.vector("v", 3), sg.vector("labels", "n", dtype="int64")
    out = sg.sum(W @ x) + sg.sum(v) + sg.sum(sg.one_hot(labels, 3))
    return sg.function([W, x, v, labels], out)


GOOD = dict(W=np.ones((2, 4)), x=np.ones(4), v=np.ones(3), labels=np.array([0, 2]))


def test_good_call_works(net):
    assert net(**GOOD) == 8.0 + 3.0 + 2.0


@pytest.mark.parametrize("change,kind,words", [
    ({"W": None}, TypeError, ["missing", "'W'"]),
    ({"z": np.ones(2)}, TypeError, ["unknown", "'z'"]),
    ({"x": np.ones((4, 1))}, ValueError, ["'x'", "rank 1"]),
    ({"x": np.ones(5)}, ValueError, ["'x'", "'W'", "m"]),
    ({"labels": np.array([0, 1, 2])}, ValueError, ["'labels'", "'W'", "n"]),
    ({"v": np.ones(4)}, ValueError, ["'v'", "(3,)"]),
    ({"x": np.ones(4, dtype=complex)}, TypeError, ["'x'", "complex"]),
    ({"x": np.array(["a", "b", "c", "d"])}, TypeError, ["'x'"]),
    ({"labels": np.array([0.5, 1.0])}, TypeError, ["'labels'", "int64"]),
])
def test_bad_calls_name_the_input(net, change, kind, words):
    kwargs = dict(GOOD)
    for key, value in change.items():
        if value is None:
            del kwargs[key]
        else:
            kwargs[key] = value
    with pytest.raises(kind) as info:
        net(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_bad_positional_calls(net):
    with pytest.raises(TypeError, match="takes 4"):
        net(*GOOD.values(), 1.0)
    with pytest.raises(TypeError, match="'W' twice"):
        net(GOOD["W"], W=GOOD["W"], x=GOOD["x"], v=GOOD["v"], labels=GOOD["labels"])


def test_safe_casts_are_accepted(net):
    kwargs = dict(GOOD, x=[1, 1, 1, 1], v=np.ones(3, dtype=np.float32), labels=[0, 2])
    assert net(**kwargs) == 13.0


def test_signature_errors():
    x, z = sg.vector("x", 3), sg.vector("z", 3)
    with pytest.raises(ValueError, match="'z'"):
        sg.function([x], x + z)
    with pytest.raises(TypeError, match="input nodes"):
        sg.function([x * 2.0], x)
    with pytest.raises(ValueError, match="twice"):
        sg.function([x, x], x)


def test_functions_pickle_and_handle_empty_batches():
    import pickle
    X = sg.matrix("X", ("B", 2))
    f = sg.function([X], [sg.sum(X * X), sg.grad(sg.sum(X * X), X)])
    g = pickle.loads(pickle.dumps(f))
    assert g.source == f.source
    value, grad = g(np.ones((4, 2)))
    assert value == 8.0 and np.array_equal(grad, 2 * np.ones((4, 2)))
    value, grad = f(np.zeros((0, 2)))
    assert value == 0.0 and grad.shape == (0, 2)


def test_a_dimension_no_input_carries_is_reported_at_compile_time():
    x = sg.vector("x", "n")
    with pytest.raises(ValueError, match="'k'"):
        sg.function([x], sg.sum(x) + sg.trace(sg.eye("k")))
    f = sg.function([x], sg.sum(x) + sg.trace(sg.eye("n")))
    assert f(np.ones(3)) == 6.0


def test_input_and_dimension_sharing_a_name_do_not_clash():
    n, x = sg.scalar("n"), sg.vector("x", "n")
    f = sg.function([n, x], sg.mean(x) * n)
    assert f(2.0, np.arange(4.0)) == 3.0
    assert f(n=10.0, x=np.ones(7)) == 10.0
