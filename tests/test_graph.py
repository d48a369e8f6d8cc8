"""The graph IR: interning, immutability, the rebuild invariant, shapes and
named-dimension unification, and mixing nodes with Python numbers and arrays."""
import numpy as np
import pytest

import symgrad as sg


def test_inputs_are_interned_by_name_shape_dtype():
    assert sg.scalar("w") is sg.scalar("w")
    assert sg.vector("x", "n") is sg.vector("x", "n")
    assert sg.matrix("W", (2, 3)) is sg.tensor("W", (2, 3))
    assert sg.vector("x", 3) is not sg.vector("x", 4)
    assert sg.vector("x", 3) is not sg.vector("x", 3, dtype="int64")


def test_same_subexpression_is_one_node():
    x, W = sg.vector("x", "m"), sg.matrix("W", ("n", "m"))
    first = sg.sigmoid(W @ x) + 1.0
    second = sg.sigmoid(W @ x) + 1.0
    assert first is second
    assert sg.sum(x, axis=0) is sg.sum(x, axis=0)
    assert sg.sum(x) is not sg.exp(x)


def test_constants_interned_by_value():
    assert sg.constant(1.5) is sg.constant(1.5)
    assert sg.constant(np.array([1.0, 2.0])) is sg.constant(np.array([1.0, 2.0]))
    assert sg.constant(-0.0) is not sg.constant(0.0)
    assert sg.constant(np.nan) is sg.constant(np.nan)
    assert sg.constant(1) is not sg.constant(1.0)        # int64 vs float64
    assert sg.constant(2.0).value == 2.0


def test_python_number_constants_match_array_built_ones_and_die_unreferenced():
    """Python numbers take a cached path (by type and exact bits): it must give
    the node the general path gives, tell apart what the value key tells apart,
    and keep nothing alive."""
    import gc
    from symgrad.graph import _NUMBERS
    for number, array in [(2.5, np.float64(2.5)), (-0.0, np.array(-0.0)), (7, np.int64(7)),
                          (True, np.bool_(True)), (float("inf"), np.array(np.inf))]:
        node = sg.constant(number)
        assert node is sg.constant(number) is sg.constant(array)
        assert node.dtype == np.asarray(array).dtype.name and node.value == array
    distinct = [sg.constant(v) for v in (1, 1.0, True, 0.0, -0.0, 0, False)]
    assert len(set(distinct)) == 7
    x = sg.scalar("x_numbers")
    gc.collect()
    size = len(_NUMBERS)
    kept = [x * (i + 0.123456789) for i in range(20)]
    assert len(_NUMBERS) == size + 20 and kept[3].operands[1] is sg.constant(3.123456789)
    del kept
    gc.collect()
    assert len(_NUMBERS) == size


def test_constant_value_is_a_read_only_copy():
    source = np.array([1.0, 2.0])
    c = sg.constant(source)
    source[0] = 99.0
    assert c.value[0] == 1.0
    with pytest.raises(ValueError):
        c.value[0] = 5.0


def test_nodes_are_immutable():
    x = sg.vector("x", 3)
    node = sg.exp(x)
    for attr, value in [("op", None), ("shape", (4,)), ("operands", ()), ("new", 1)]:
        with pytest.raises(AttributeError):
            setattr(node, attr, value)
    with pytest.raises(AttributeError):
        del node.shape
    with pytest.raises(TypeError):
        node.attrs["x"] = 1


def lecture_graphs():
    W, x = sg.matrix("W", ("n", "m")), sg.vector("x", "m")
    A = sg.matrix("A", (3, 4))
    labels = sg.vector("y", "B", dtype="int64")
    X = sg.matrix("X", ("B", 5))
    mlp = sg.mean(-sg.sum(sg.one_hot(labels, 5) * sg.log_softmax(sg.tanh(X) @ sg.eye(5)), axis=1))
    yield sg.sum(sg.sigmoid(W @ x) ** 2)
    yield -0.5 * sg.logdet(A @ A.T) + sg.trace(sg.inv(A @ A.T)) + sg.norm(A[:, 1:3])
    yield mlp
    yield sg.sum(sg.concatenate([sg.vector("p", 2), sg.reshape(A, (-1,))]) * 2.0)
    yield sg.sum(sg.where(x > 0.0, x, 0.1 * x)) + sg.logsumexp(x) + sg.sum(sg.softmax(W, axis=0))


@pytest.mark.parametrize("index", range(5))
def test_rebuild_invariant_on_every_node(index):
    cost = list(lecture_graphs())[index]
    wrt = [n for n in sg.toposort([cost]) if n.op.name == "input" and n.dtype == "float64"]
    nodes = sg.toposort([cost] + sg.grad(cost, wrt))
    assert len(nodes) > 5
    for node in nodes:
        assert node.op(*node.operands, **node.attrs) is node, node.op.name


def test_shape_and_ndim():
    W, x = sg.matrix("W", ("n", "m")), sg.vector("x", "m")
    assert (W @ x).shape == ("n",) and (W @ x).ndim == 1
    assert sg.scalar("s").shape == () and sg.scalar("s").ndim == 0
    assert W.T.shape == ("m", "n")
    assert (W @ W.T).shape == ("n", "n")
    assert sg.sum(W, axis=0).shape == ("m",)
    assert sg.reshape(sg.matrix("P", (2, 6)), (3, 4)).shape == (3, 4)
    assert sg.outer(x, sg.vector("z", 3)).shape == ("m", 3)
    assert sg.one_hot(sg.vector("y", "B", dtype="int64"), 4).shape == ("B", 4)


def test_named_dims_unify_and_broadcast():
    A, B = sg.matrix("A", ("n", "m")), sg.matrix("B", ("m", "k"))
    assert (A @ B).shape == ("n", "k")
    col, row = sg.matrix("c", ("n", 1)), sg.matrix("r", (1, "m"))
    assert (col + row).shape == ("n", "m")
    assert (A + sg.vector("v", "m")).shape == ("n", "m")


def test_concatenate_along_named_axis_is_rejected():
    x = sg.vector("x", "m")
    with pytest.raises(ValueError, match="named size"):
        sg.concatenate([x, x])
    assert sg.concatenate([sg.vector("p", 2), sg.vector("q", 3)]).shape == (5,)


def test_name_never_unifies_with_int():
    A, B = sg.matrix("A", ("n", "m")), sg.matrix("B", (3, "k"))
    with pytest.raises(ValueError) as info:
        A @ B
    message = str(info.value)
    assert "'A'" in message and "'B'" in message
    assert "(n, m)" in message and "(3, k)" in message


def test_int_dims_contradiction_names_both_operands():
    P, Q = sg.matrix("P", (2, 3)), sg.matrix("Q", (4, 5))
    with pytest.raises(ValueError) as info:
        P @ Q
    message = str(info.value)
    assert "'P' (2, 3)" in message and "'Q' (4, 5)" in message
    assert isinstance(info.value, sg.ShapeError)


def test_broadcast_contradictions_raise_at_build_time():
    with pytest.raises(ValueError, match="'x' \\(n,\\).*'z' \\(m,\\)"):
        sg.vector("x", "n") + sg.vector("z", "m")
    with pytest.raises(ValueError, match="'u' \\(3,\\)"):
        sg.vector("u", 3) * sg.vector("w", 4)
    with pytest.raises(ValueError):
        sg.vector("x", "n") + np.ones(3)


def test_python_numbers_and_arrays_mix_with_nodes():
    x = sg.vector("x", 3)
    for expr in (2 * x, x * 2, x + np.ones(3), np.ones(3) + x, 1.0 - x, x / 2, 2 ** x,
                 np.arange(3.0) * x, x @ np.ones(3), np.ones((2, 3)) @ x):
        assert isinstance(expr, sg.Node)
    assert (np.ones(3) + x).shape == (3,)
    assert (np.ones((2, 3)) @ x).shape == (2,)
    f = sg.function([x], [2 * x, np.ones(3) + x, x - np.arange(3.0), np.ones((2, 3)) @ x])
    xv = np.array([1.0, -2.0, 0.5])
    a, b, c, d = f(xv)
    np.testing.assert_array_equal(a, 2 * xv)
    np.testing.assert_array_equal(b, 1 + xv)
    np.testing.assert_array_equal(c, xv - np.arange(3.0))
    np.testing.assert_allclose(d, [xv.sum(), xv.sum()])


def test_truth_value_of_a_node_is_an_error():
    x = sg.scalar("x")
    with pytest.raises(TypeError, match="sg.where"):
        bool(x > 0.0)
    assert (x == x) is True and (x == sg.scalar("y")) is False


def test_indexing_shapes():
    W = sg.matrix("W", (3, 4))
    assert W[0].shape == (4,)
    assert W[:, 1].shape == (3,)
    assert W[1:3, ::2].shape == (2, 2)
    assert W[-1, -1].shape == ()
    with pytest.raises(ValueError, match="out of bounds"):
        W[3]


def test_toposort_is_iterative_on_deep_chains():
    x = sg.scalar("x")
    node = x
    for i in range(5000):
        node = sg.sin(node) + float(i % 7)
    order = sg.toposort([node])
    assert order[0] is x and order[-1] is node
    position = {n: i for i, n in enumerate(order)}
    assert all(position[o] < position[n] for n in order for o in n.operands)


def test_replace_rebuilds_and_keeps_unchanged_nodes():
    x, y = sg.scalar("x"), sg.scalar("y")
    expr = sg.exp(x) * 2.0 + sg.sin(y)
    out = sg.replace(expr, {x: y})
    assert out is sg.exp(y) * 2.0 + sg.sin(y)
    assert sg.replace(expr, {}) is expr


def test_neutral_elements_fold_away():
    x = sg.vector("x", 3)
    assert x + 0.0 is x and 0.0 + x is x
    assert x * 1.0 is x and 1.0 * x is x
    assert x - 0.0 is x and x / 1.0 is x
    assert (x + np.zeros((2, 3))).shape == (2, 3)   # broadcasting: not the identity
