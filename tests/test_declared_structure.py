"""Inputs declared symmetric or positive definite (API.md, round 2).

The declaration is a fact the rewrites and lowerings use (Cholesky for an SPD
input); gradients wrt a symmetric input are the symmetric gradient
(G + Gᵀ)/2, which is what central differences along symmetric perturbations
measure.
"""
import numpy as np
import pytest

import symgrad as sg
from symgrad.analysis.properties import facts, is_symmetric


def _spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


def test_declared_facts_and_distinct_nodes():
    S = sg.matrix("S", (3, 3), symmetric=True)
    P = sg.matrix("P", ("n", "n"), positive_definite=True)
    assert is_symmetric(S) and "spd" not in facts(S)
    assert {"spd", "psd", "symmetric"} <= facts(P)
    assert S is sg.matrix("S", (3, 3), symmetric=True)
    assert S is not sg.matrix("S", (3, 3)) and not is_symmetric(sg.matrix("S", (3, 3)))


@pytest.mark.parametrize("shape, dtype", [((2, 3), "float64"), (("n", "m"), "float64"),
                                          ((3, 3), "int64")])
def test_only_square_float_matrices_can_be_declared(shape, dtype):
    with pytest.raises(ValueError, match="square float64"):
        sg.matrix("S", shape, dtype=dtype, symmetric=True)


def test_gradient_wrt_a_symmetric_input_is_the_symmetric_gradient(rng):
    S = sg.matrix("S", (3, 3), symmetric=True)
    A = rng.standard_normal((3, 3))
    cost = sg.trace(sg.constant(A) @ S)  # unconstrained gradient Aᵀ
    g = sg.function([S], sg.grad(cost, S))(np.eye(3))
    np.testing.assert_allclose(g, (A + A.T) / 2, rtol=1e-14)
    general = sg.matrix("G", (3, 3))
    np.testing.assert_allclose(
        sg.function([general], sg.grad(sg.trace(sg.constant(A) @ general), general))(np.eye(3)), A.T)


def test_positive_definite_logdet_gradient_is_the_inverse_via_cholesky(rng):
    P = sg.matrix("P", ("n", "n"), positive_definite=True)
    b = sg.vector("b", "n")
    cost = sg.logdet(P) + b @ sg.solve(P, b)
    g = sg.grad(cost, P)
    f = sg.function([P, b], [cost, g])
    assert "cho" in f.source  # the declared SPD input is factored once, by Cholesky
    p, bv = _spd(rng, 4), rng.standard_normal(4)
    value, gradient = f(p, bv)
    inv = np.linalg.inv(p)
    w = inv @ bv
    np.testing.assert_allclose(value, np.linalg.slogdet(p)[1] + bv @ w, rtol=1e-12)
    np.testing.assert_allclose(gradient, inv - np.outer(w, w), rtol=1e-10, atol=1e-12)
    assert str(sg.simplify(sg.grad(sg.logdet(P), P))) == "P⁻¹"


def test_check_grad_perturbs_symmetric_inputs_symmetrically():
    P = sg.matrix("P", ("n", "n"), positive_definite=True)
    S = sg.matrix("S", (3, 3), symmetric=True)
    x = sg.vector("x", 3)
    assert sg.check_grad(sg.logdet(P) + sg.sum(sg.inv(P)), P).ok
    assert sg.check_grad(x @ S @ S @ x, [S, x]).ok
    # the Cookbook's G + Gᵀ - diag(G) is not the gradient in this convention
    wrong = 2 * sg.outer(x, x) - sg.diag(sg.diagonal(sg.outer(x, x)))
    assert not sg.check_grad(x @ S @ x, S, expected=wrong).ok
