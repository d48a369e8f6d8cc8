"""Whole-Jacobian rules of the linear-algebra ops (``ops.batched.jvp_jacobian``: the
JVP applied to a stack of tangents): ``sg.jacobian`` and ``sg.hessian`` take the
structural route, also for named dimensions, and agree with central finite
differences. Registry-driven: every op whose record declares the rule, on each of
its samples."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.autodiff.jacobians import forward_jacobian
from symgrad.autodiff.sweeps import _depending_on
from symgrad.ir.graph import toposort
from symgrad.ops import draw
from symgrad.ops.batched import gradient_jacobian, jvp_jacobian
from symgrad.ir.shapes import substitute

SIZES = {"n": 3, "m": 2, "k": 4}
OPS = sorted((op for op in sg.REGISTRY.values()
              if op.jacobian in (jvp_jacobian, gradient_jacobian)), key=lambda op: op.name)
#: (op, sample, operand): a right-hand side broadcast against a stack of matrices, whose
#: tangents' stack axes would clash with the matrices' ones: the rule declines, and the
#: Jacobian is built entry by entry (still checked below).
DECLINED = {("solve", 3, 1), ("solve_triangular", 2, 1)}
CASES = [pytest.param(op, i, k, id=f"{op.name}-{i}-wrt{k}")
         for op in OPS for i, sample in enumerate(op.samples())
         for k, spec in enumerate(sample.operands) if len(spec.shape) >= 2
         and all(len(s.shape) >= 2 for s in sample.operands)]


def test_the_decompositions_declare_the_rule():
    names = {op.name for op in OPS}
    assert {"det", "inv", "solve", "cholesky", "eigvalsh", "eigh_vectors", "eigvals",
            "singular_values", "svd_u", "qr_q", "qr_r", "pinv", "logdet", "norm"} <= names


@pytest.mark.parametrize("op,index,k", CASES)
def test_structural_jacobian_matches_finite_differences(op, index, k):
    sample = op.samples()[index]
    rng = np.random.default_rng(index + 10 * k)
    inputs = [sg.tensor(f"x{i}", s.shape) for i, s in enumerate(sample.operands)]
    values = [draw(s, rng, SIZES) for s in sample.operands]
    y = op(*inputs, **sample.attrs)
    order = toposort([y])
    structural = forward_jacobian(order, _depending_on(order, [inputs[k]]), inputs[k], y)
    declined = (op.name, index, k) in DECLINED
    assert (structural is None) == declined, f"{op.name}: the rule declined: {declined}"
    jac = sg.jacobian(y, inputs[k])
    assert jac.shape == y.shape + inputs[k].shape
    f_y = sg.function(inputs, y)
    got = sg.function(inputs, jac)(*values)
    out_shape = substitute(y.shape, SIZES)
    h = 1e-6
    numeric = np.zeros(out_shape + values[k].shape)
    for entry in np.ndindex(values[k].shape):
        plus, minus = list(values), list(values)
        e = np.zeros(values[k].shape)
        e[entry] = h
        plus[k], minus[k] = values[k] + e, values[k] - e
        numeric[(...,) + entry] = (f_y(*plus) - f_y(*minus)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-6,
                               err_msg=f"{op.name} sample {index}, wrt operand {k}")


@pytest.mark.parametrize("n", [3, 4])
def test_hessians_with_named_dims(n):
    """hessian wrt a named (n, n) matrix of costs through det, inv, solve, cholesky and
    eigvalsh: structural (named shapes have no per-entry fallback), equal to finite
    differences of the gradient at two bound sizes."""
    X = sg.matrix("X", ("n", "n"))
    B = sg.matrix("B", ("n", 2))
    S = X @ X.T + 2.0 * sg.eye("n")
    cost = (sg.linalg.det(X) + sg.sum(sg.linalg.inv(S) * S) + sg.sum(sg.linalg.solve(S, B) ** 2)
            + sg.sum(sg.linalg.cholesky(S)) + sg.sum(sg.linalg.eigvalsh(S) ** 2))
    hess = sg.hessian(cost, X)
    assert hess.shape == ("n", "n", "n", "n")
    rng = np.random.default_rng(n)
    x0, b0 = rng.standard_normal((n, n)) + 2 * np.eye(n), rng.standard_normal((n, 2))
    got = sg.function([X, B], hess)(x0, b0)
    grad = sg.function([X, B], sg.grad(cost, X))
    h = 1e-6
    for entry in np.ndindex(n, n):
        e = np.zeros((n, n))
        e[entry] = h
        numeric = (grad(x0 + e, b0) - grad(x0 - e, b0)) / (2 * h)
        np.testing.assert_allclose(got[(...,) + entry], numeric, rtol=1e-5, atol=1e-5)


def test_vector_operands_fall_back_to_rows():
    """A vector right-hand side declines the rule (a leading stack axis would make it a
    matrix): the Jacobian is built entry by entry, still right."""
    A, b = sg.matrix("A", (3, 3)), sg.vector("b", 3)
    y = sg.linalg.solve(A, b)
    order = toposort([y])
    assert forward_jacobian(order, _depending_on(order, [A]), A, y) is None
    a0 = np.eye(3) * 3 + np.random.default_rng(0).standard_normal((3, 3))
    b0 = np.arange(1.0, 4.0)
    got = sg.function([A, b], sg.jacobian(y, A))(a0, b0)
    x = np.linalg.solve(a0, b0)
    inv = np.linalg.inv(a0)
    np.testing.assert_allclose(got, -np.einsum("ij,k->ijk", inv, x), rtol=1e-10)


def test_solve_of_a_known_spd_matrix_with_a_stack_of_right_hand_sides():
    """The Cholesky lowering of solve(S, T) for S = X Xᵀ + 2I (known SPD) read a stacked
    T wrongly (LAPACK potrs takes one matrix): the stacks of tangents above hit it."""
    X, T = sg.matrix("X", (3, 3)), sg.tensor("T", (2, 4, 3, 2))
    S = X @ X.T + 2.0 * sg.eye(3)
    rng = np.random.default_rng(0)
    x0, t0 = rng.standard_normal((3, 3)), rng.standard_normal((2, 4, 3, 2))
    np.testing.assert_allclose(sg.function([X, T], sg.linalg.solve(S, T))(x0, t0),
                               np.linalg.solve(x0 @ x0.T + 2 * np.eye(3), t0), rtol=1e-10)
