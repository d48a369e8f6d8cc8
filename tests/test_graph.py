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
    from symgrad.ir.leaves import _NUMBERS
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
    assert len(_NUMBERS) == size + 20 and kept[3].operands[0] is sg.constant(3.123456789)
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


def test_leaf_constructors_live_in_leaves_which_builds_on_graph_one_way():
    import ast
    import inspect

    import symgrad.ir.graph as graph
    import symgrad.ir.leaves as leaves
    imported = {node.module for node in ast.walk(ast.parse(inspect.getsource(graph)))
                if isinstance(node, ast.ImportFrom)}
    assert "leaves" not in imported  # graph -> leaves -> graph was an import cycle
    assert graph.AS_NODE == [leaves.as_node]  # Op.__call__ converts operands through leaves
    assert sg.constant is leaves.constant and sg.scalar is leaves.scalar


def test_threads_building_the_same_expressions_get_the_same_nodes():
    """Interning checks and inserts atomically without a lock: threads racing
    to build the same new nodes all get one object per expression."""
    import sys
    import threading
    x = sg.scalar("x_racing_threads")
    barrier = threading.Barrier(4)
    built = [None] * 4

    def build(k):
        barrier.wait()
        built[k] = [sg.exp(x * (i + 0.25)) + x for i in range(1500)]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=build, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert len({id(n) for n in built[0]}) == 1500
    for other in built[1:]:
        assert all(a is b for a, b in zip(built[0], other))


def test_a_dead_entry_in_the_intern_table_is_replaced():
    """An entry whose node died but whose removal has not run yet (possible
    only mid-deallocation in another thread) must not block a rebuild."""
    from symgrad.ir.graph import _TABLE, _Ref

    class Gone:
        pass
    x = sg.scalar("x_dead_entry")
    key = ("exp", (x,), ())
    ghost = Gone()
    _TABLE[key] = _Ref(ghost)
    del ghost                                  # the entry is now a dead reference
    node = sg.exp(x)
    assert node.op.name == "exp" and node.operands == (x,)
    assert _TABLE[key]() is node and sg.exp(x) is node


def test_scalar_binary_ops_infer_what_the_broadcasting_rule_infers():
    """0-d float operands take a fast path in the shape rule; every other dtype
    combination must come out as it does for the same operands as vectors."""
    ops = [sg.REGISTRY[name] for name in ("add", "subtract", "multiply", "divide", "power",
                                          "maximum", "greater")]
    dtypes = ("float64", "int64", "bool")
    for op in ops:
        for a in dtypes:
            for b in dtypes:
                scalar = op(sg.scalar(f"sa_{a}", a), sg.scalar(f"sb_{b}", b))
                vector = op(sg.vector(f"va_{a}", 2, a), sg.vector(f"vb_{b}", 2, b))
                assert (scalar.shape, scalar.dtype) == ((), vector.dtype), (op.name, a, b)


def test_folds_still_see_constants_through_views_and_zeros():
    """Folds give up at once unless an operand can be a known constant; those
    that can (a constant, zeros, or a reshape/broadcast of one) still fold."""
    x = sg.vector("x_folds", 3)
    one = sg.broadcast_to(sg.constant(1.0), (3,))
    zero = sg.reshape(sg.constant(np.zeros((1, 3))), (3,))
    assert x * one is x and one * x is x and x / one is x
    assert x + zero is x and zero + x is x and x - zero is x
    assert (x * sg.zeros((3,))).op.name == "zeros" and (sg.zeros((3,)) - x) is -x
    assert (x * sg.exp(x)).op.name == "multiply" and (x + 2.0).op.name == "add"


def test_grad_marks_exactly_the_nodes_it_builds_and_holds_them_weakly():
    import gc
    import weakref
    from symgrad.autodiff.sweeps import _BUILT_BENEATH, derivative_nodes
    x, w = sg.scalar("x_marks"), sg.scalar("w_marks")
    cost = sg.sigmoid(w * x) * x
    before = set(sg.toposort([cost]))
    grads = sg.grad(cost, [x, w])
    new = set(sg.toposort(grads)) - before
    marked = derivative_nodes(grads)
    assert len(new) >= 4 and new == marked
    assert derivative_nodes([grads[0]]) == set(sg.toposort([grads[0]])) - before
    assert not derivative_nodes([cost])
    entries = len(_BUILT_BENEATH)
    dead = weakref.ref(grads[0])
    del grads, new, marked
    gc.collect()
    assert dead() is None and len(_BUILT_BENEATH) < entries
