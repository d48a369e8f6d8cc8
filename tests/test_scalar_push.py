"""Specialization: a 0-d factor moved through linear ops onto the smallest shared operand
(``c * L(X) = L(c * X)``), checked against finite differences and by its structure."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference
from symgrad.compile import specialize
from symgrad.compile.emit import optimized_signature
from symgrad.ir.graph import toposort
from symgrad.ir.shapes import never_larger
from symgrad.ops import elementwise, structure


def _mlp(batch="b"):
    """Softmax cross-entropy, mean over the batch, of a one-hidden-layer MLP."""
    x, y = sg.matrix("x", (batch, 5)), sg.vector("y", batch, dtype="int64")
    W0, b0, W1, b1 = (sg.matrix("W0", (5, 6)), sg.vector("b0", 6),
                      sg.matrix("W1", (6, 3)), sg.vector("b1", 3))
    h = sg.sigmoid(x @ W0 + b0) @ W1 + b1
    loss = -sg.mean(sg.sum(sg.one_hot(y, 3) * sg.log_softmax(h, axis=1), axis=1))
    return [x, y, W0, b0, W1, b1], loss


def _lowered(inputs, outputs) -> list:
    """The nodes of the graph the compiler emits (after the specialization phase)."""
    inputs, outs, _, order = optimized_signature(inputs, outputs, True, "numpy")
    return toposort(specialize.lower(outs, order)[0])


def _scalar_products(inputs, outputs) -> list:
    """The ``c * X`` nodes (c 0-d, X an array) of the graph the compiler emits."""
    return [n for n in _lowered(inputs, outputs) if n.op is elementwise.multiply and n.shape
            and any(o.ndim == 0 and o.dtype == "float64" for o in n.operands)]


def test_the_mean_factor_scales_the_softmax_residual_once():
    inputs, loss = _mlp()
    params = inputs[2:]
    scaled = _scalar_products(inputs, sg.grad(loss, params))
    assert len(scaled) == 1  # was three: after sᵀR, RW1ᵀ and Σ R
    (product,) = scaled
    assert product.shape == ("b", 3)  # the residual itself, the smallest shared operand
    assert product.operands[1].op is structure.one_hot_add  # softmax - one_hot: no negation pass
    assert not any(n.op is elementwise.negative and n.shape for n in _lowered(inputs, sg.grad(loss, params)))


@pytest.mark.parametrize("form", ["onehot - p", "-p + onehot", "p - onehot", "-p - onehot"])
def test_one_hot_sums_keep_the_sign_outside_and_values_agree(form):
    z, y, c = sg.matrix("z", ("n", 4)), sg.vector("y", "n", dtype="int64"), sg.scalar("c")
    p, onehot = sg.exp(z), sg.one_hot(y, 4)
    built = {"onehot - p": onehot - p, "-p + onehot": -p + onehot, "p - onehot": p - onehot,
             "-p - onehot": -p - onehot}[form]
    f = sg.function([z, y, c], c * (built @ sg.constant(np.arange(8.0).reshape(4, 2))))
    rng = np.random.default_rng(7)
    zv, yv, cv = rng.standard_normal((5, 4)), rng.integers(0, 4, 5), -0.3
    pv, hot = np.exp(zv), np.eye(4)[yv]
    want = {"onehot - p": hot - pv, "-p + onehot": hot - pv, "p - onehot": pv - hot,
            "-p - onehot": -pv - hot}[form]
    np.testing.assert_allclose(f(zv, yv, cv), cv * (want @ np.arange(8.0).reshape(4, 2)),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("batch", [1, 4, 9])
def test_gradients_match_central_differences(batch):
    inputs, loss = _mlp()
    f = sg.function(inputs, [loss] + sg.grad(loss, inputs[2:]))
    value = sg.function(inputs, loss, optimize=False)
    rng = np.random.default_rng(batch)
    values = [rng.standard_normal((batch, 5)), rng.integers(0, 3, batch),
              rng.standard_normal((5, 6)), rng.standard_normal(6),
              rng.standard_normal((6, 3)), rng.standard_normal(3)]
    got = f(*values)
    assert got[0] == pytest.approx(float(value(*values)), rel=1e-13)
    for k, grad in enumerate(got[1:], start=2):
        np.testing.assert_allclose(grad, central_difference(value, values, k), rtol=1e-6, atol=1e-8)


def test_a_product_smaller_than_its_operand_keeps_the_scalar():
    """``c * (X @ w)``: X (n, 40) is larger than the product (n, 2), so c stays outside."""
    X, w, c = sg.matrix("X", ("n", 40)), sg.matrix("w", (40, 2)), sg.scalar("c")
    (product,) = _scalar_products([X, w, c], [c * (X @ w)])
    assert product.shape == ("n", 2)


def test_a_shared_operand_takes_the_scalar_once_and_values_agree():
    """``c Σᵢ Xᵢ`` alone would not move (the sum is smaller), but ``c (X @ W)`` moves c
    onto X, and the sum then reads that same ``c X``."""
    X, W, c = sg.matrix("X", ("n", 3)), sg.matrix("W", (3, 8)), sg.scalar("c")
    outputs = [c * sg.sum(X, axis=0), c * (X @ W)]
    scaled = _scalar_products([X, W, c], outputs)
    assert [n.shape for n in scaled] == [("n", 3)]
    rng = np.random.default_rng(0)
    x, wv, cv = rng.standard_normal((7, 3)), rng.standard_normal((3, 8)), 0.37
    got = sg.function([X, W, c], outputs)(x, wv, cv)
    np.testing.assert_allclose(got[0], cv * x.sum(0), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(got[1], cv * (x @ wv), rtol=1e-13, atol=1e-16)  # rounding only


def test_an_equal_size_product_alone_keeps_the_scalar():
    X, c = sg.matrix("X", ("n", 3)), sg.scalar("c")
    (product,) = _scalar_products([X, c], [c * X.T])
    assert product.shape == (3, "n")  # c * Xᵀ: nothing to gain from (c X)ᵀ


@pytest.mark.parametrize("a, b, expected", [
    (("n", 10), ("n", 64), True), (("n", 64), ("n", 10), False), (("n", 10), (64, 10), False),
    ((64, 10), ("n", 10), False), ((3,), ("n", 3), False), ((), ("n",), False), ((2, 3), (3, 2), True)])
def test_never_larger_holds_at_every_size(a, b, expected):
    assert never_larger(a, b) is expected
