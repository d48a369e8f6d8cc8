"""Structural properties: each claimed fact is checked on random values, and
the facts that do not hold (or are not provable) are checked to be absent."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.ir.graph import inputs_of
from symgrad.check.numeric import bind_sizes, random_inputs
from symgrad.analysis.properties import facts, is_nonnegative, is_nonzero, is_positive, is_psd

n = "n"
A, B = sg.matrix("A", (n, "m")), sg.matrix("B", (n, n))
S = sg.matrix("S", (3, 3))
x, u = sg.vector("x", n), sg.vector("u", "m")
s = sg.scalar("s")
gram = A @ A.T
c_spd = sg.constant([[2.0, 1.0], [1.0, 2.0]])

# (expression, facts it must have, facts it must not have)
CASES = [
    (sg.eye(3), {"spd", "nonnegative"}, {"positive"}),
    (sg.zeros((3, 3)), {"psd", "nonnegative"}, {"spd", "positive"}),
    (sg.diag(sg.exp(x)), {"spd"}, set()),
    (sg.diag(x * x), {"psd"}, {"spd"}),
    (sg.diag(x), {"symmetric"}, {"psd"}),
    (c_spd, {"spd", "positive"}, set()),
    (sg.constant([[1.0, 2.0], [2.0, 1.0]]), {"symmetric"}, {"psd"}),
    (gram, {"psd"}, {"spd"}),
    (A.T @ A, {"psd"}, {"spd"}),
    (B @ B, set(), {"symmetric"}),
    (sg.outer(x, x), {"psd"}, {"spd"}),
    (sg.outer(x, sg.exp(x)), set(), {"symmetric"}),
    (B + B.T, {"symmetric"}, {"psd"}),
    (B - B.T, set(), {"symmetric"}),
    (A.T @ B @ A, set(), {"symmetric"}),
    (A.T @ (B @ B.T) @ A, {"psd"}, {"spd"}),
    (A.T @ (B + B.T) @ A, {"symmetric"}, {"psd"}),
    ((B + B.T) @ (B + B.T), {"symmetric"}, set()),
    (gram + s * sg.eye(n), {"symmetric"}, {"psd", "spd"}),
    (gram + 0.5 * sg.eye(n), {"spd"}, set()),
    (gram + sg.exp(s) * sg.eye(n), {"spd"}, set()),
    (gram + sg.softplus(s) * sg.eye(n), {"spd"}, set()),
    (gram - 0.5 * sg.eye(n), {"symmetric"}, {"psd"}),
    (sg.inv(gram + sg.eye(n)), {"spd"}, set()),
    (sg.inv(B + B.T), {"symmetric"}, {"psd"}),
    (s * gram, {"symmetric"}, {"psd"}),
    (sg.exp(s) * gram, {"psd"}, {"spd"}),
    (gram / sg.exp(s), {"psd"}, set()),
    ((gram + sg.eye(n)) * (gram + sg.eye(n)).T, {"spd"}, set()),
    (sg.exp(gram), {"symmetric", "positive"}, set()),
    (gram * x, set(), {"symmetric"}),
    (sg.broadcast_to(s, (3, 3)), {"symmetric"}, {"psd"}),
    (-gram, {"symmetric"}, {"psd"}),
    (sg.softmax(x), {"positive"}, set()),
    (sg.sigmoid(x) * sg.exp(x) + sg.abs(x), {"positive"}, set()),
    (sg.relu(x), {"nonnegative"}, {"positive"}),
    (x * x, {"nonnegative"}, {"positive"}),
    (sg.sqrt(sg.exp(x)), {"positive"}, set()),
    (-sg.exp(x), {"nonzero"}, {"positive", "nonnegative"}),
    (sg.exp(x) / (x * x), set(), {"positive", "nonzero"}),
    (sg.det(gram + sg.eye(n)), {"positive"}, set()),
    (sg.trace(gram + sg.eye(n)), {"positive"}, set()),
    (sg.trace(gram), set(), {"positive"}),
]


def _values(node, rng):
    inputs = inputs_of([node])
    sizes = bind_sizes(node, base=3)
    args = random_inputs(inputs, rng, sizes)
    return np.asarray(sg.function(inputs, node)(*args))


def _holds(fact, value):
    if fact == "symmetric":
        return np.allclose(value, value.T)
    eigenvalues = np.linalg.eigvalsh(value) if fact in ("psd", "spd") else None
    return {"psd": lambda: np.allclose(value, value.T) and eigenvalues.min() > -1e-9,
            "spd": lambda: np.allclose(value, value.T) and eigenvalues.min() > 0,
            "positive": lambda: np.all(value > 0),
            "nonnegative": lambda: np.all(value >= 0),
            "nonzero": lambda: np.all(value != 0)}[fact]()


@pytest.mark.parametrize("case", range(len(CASES)))
def test_facts_are_proven_and_true(case, rng):
    node, present, absent = CASES[case]
    found = facts(node)
    assert present <= found, f"{node}: missing {present - found}"
    assert not absent & found, f"{node}: unprovable {absent & found} claimed"
    for _ in range(3):
        value = _values(node, rng)
        for fact in found:
            assert _holds(fact, value), f"{node}: {fact} is false at\n{value}"


def test_implications():
    assert sg.is_spd(c_spd) and is_psd(c_spd) and sg.is_symmetric(c_spd)
    e = sg.exp(x)
    assert is_positive(e) and is_nonnegative(e) and is_nonzero(e)
    assert not sg.is_symmetric(x) and not sg.is_symmetric(sg.matrix("C", (2, 3)))


def test_deep_graph_is_walked_iteratively():
    total = sg.eye(n)
    for _ in range(20000):
        total = total + gram
    assert sg.is_spd(total)
