"""Misuse raises early, with the right kind, and names the culprit: table-driven
checks of build-time shape errors, bad declarations and bad compiled calls."""
import numpy as np
import pytest

import symgrad as sg

A = sg.matrix("A", ("n", "m"))
S = sg.matrix("S", (3, 3))
R = sg.matrix("R", (2, 3))
v = sg.vector("v", 3)
u = sg.vector("u", "n")
labels = sg.vector("labels", "B", dtype="int64")

BUILD_ERRORS = [
    ("matmul names vs ints", lambda: A @ sg.matrix("B", (3, "k")), ["'A' (n, m)", "'B' (3, k)"]),
    ("matmul ints", lambda: R @ R, ["'R' (2, 3)", "3", "2"]),
    ("matmul 0-d", lambda: sg.scalar("s") @ v, ["'s' ()"]),
    ("broadcast names", lambda: u + v, ["'u' (n,)", "'v' (3,)"]),
    ("broadcast ints", lambda: R + sg.vector("w", 2), ["'R' (2, 3)", "'w' (2,)"]),
    ("trace of a vector", lambda: sg.trace(v), ["'v' (3,)", "two dimensions"]),
    ("det of named non-square", lambda: sg.det(A), ["'A' (n, m)"]),
    ("logdet of a vector", lambda: sg.logdet(v), ["'v' (3,)"]),
    ("inv of non-square", lambda: sg.inv(R), ["'R' (2, 3)"]),
    ("solve rows", lambda: sg.solve(S, sg.vector("w", 2)), ["'S' (3, 3)", "'w' (2,)"]),
    ("batched matmul", lambda: sg.tensor("P", (2, 3, 4)) @ sg.tensor("Q", (2, 5, 6)),
     ["'P' (2, 3, 4)", "'Q' (2, 5, 6)"]),
    ("reshape size", lambda: sg.reshape(R, (4, 2)), ["(2, 3)", "(4, 2)"]),
    ("reshape named", lambda: sg.reshape(A, (3, "m")), ["(n, m)"]),
    ("sum axis", lambda: sg.sum(v, axis=1), ["axis 1", "'v' (3,)"]),
    ("softmax of scalar", lambda: sg.softmax(sg.scalar("s")), ["'s'"]),
    ("index out of range", lambda: v[3], ["out of bounds", "'v' (3,)"]),
    ("too many indices", lambda: v[0, 0], ["too many", "'v' (3,)"]),
    ("transpose axes", lambda: sg.transpose(R, (0, 0)), ["permutation", "'R'"]),
    ("concatenate ranks", lambda: sg.concatenate([v, S]), ["rank", "'v' (3,)", "'S' (3, 3)"]),
    ("where shapes", lambda: sg.where(v > 0, v, sg.vector("w", 4)), ["'w' (4,)", "'v' (3,)"]),
    ("one_hot of floats", lambda: sg.one_hot(v, 3), ["integer", "'v' (3,)"]),
    ("diag of a 3-d node", lambda: sg.diag(sg.tensor("T", (2, 2, 2))), ["'T' (2, 2, 2)"]),
]


@pytest.mark.parametrize("build,words", [pytest.param(b, w, id=i) for i, b, w in BUILD_ERRORS])
def test_build_time_errors_name_operands_and_shapes(build, words):
    with pytest.raises(ValueError) as info:
        build()
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("make,kind", [
    (lambda: sg.vector("x", -1), ValueError),
    (lambda: sg.vector("x", 2.5), TypeError),
    (lambda: sg.vector("x", True), TypeError),
    (lambda: sg.vector("x", ""), ValueError),
    (lambda: sg.matrix("x", 3), ValueError),
    (lambda: sg.scalar(""), ValueError),
    (lambda: sg.scalar(3), TypeError),
    (lambda: sg.scalar("x", dtype="complex128"), TypeError),
    (lambda: sg.scalar("x", dtype="float32"), TypeError),
    (lambda: sg.constant("text"), TypeError),
    (lambda: sg.constant(np.ones(2, dtype=complex)), TypeError),
    (lambda: v + "text", TypeError),
    (lambda: v[1.5], TypeError),
])
def test_bad_declarations(make, kind):
    with pytest.raises(kind):
        make()


def test_non_scalar_cost_names_node_and_shape():
    with pytest.raises(ValueError) as info:
        sg.grad(A @ sg.vector("x", "m"), A)
    message = str(info.value)
    assert "matmul" in message and "(n,)" in message and "sg.sum" in message


def test_duplicate_input_names_reported_by_every_entry_point():
    x3, x4 = sg.vector("x", 3), sg.vector("x", 4, dtype="int64")
    cost = sg.sum(x3) + sg.sum(x4)
    for call in (lambda: sg.grad(cost, x3), lambda: sg.function([x3, x4], cost),
                 lambda: sg.codegen([x3, x4], cost)):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert "'x'" in message and "(3,) float64" in message and "(4,) int64" in message


def test_runtime_label_out_of_range():
    f = sg.function([labels], sg.one_hot(labels, 3))
    np.testing.assert_array_equal(f(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        f(np.array([0, 3]))


def test_misshaped_call_argument_names_input_and_declared_shape():
    f = sg.function([A, u], A.T @ u)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones(3))
    message = str(info.value)
    assert "'u'" in message and "'A'" in message and "n=3" in message and "n=2" in message
    with pytest.raises(ValueError, match="'A' must have rank 2"):
        f(np.ones(3), np.ones(3))
