"""The worked cases of the backprop lecture notes (shared/seeds), each checked
three ways: symgrad's gradient, an independent hand derivation written in
NumPy (the lecture's backprop formulas, never symgrad), and central finite
differences of a NumPy forward pass. Gradients with respect to intermediate
nodes (a_k, h_k, z, ...) are checked too: they are the lecture's ∇a_k, ∇h_k.
"""
import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = {
    "sigmoid": (sg.sigmoid, sigmoid, lambda a: sigmoid(a) * (1 - sigmoid(a))),
    "tanh": (sg.tanh, np.tanh, lambda a: 1 - np.tanh(a) ** 2),
}


def assert_fd(loss, values, index, symbolic, rtol=1e-6, atol=1e-7):
    """``symbolic`` agrees with central differences of the NumPy ``loss``."""
    numeric = central_difference(loss, values, index)
    np.testing.assert_allclose(symbolic, numeric, rtol=rtol, atol=atol)


# Regularized linear classifier: z = w x + b, y = σ(z), L = ½(y - t)² + λ ½ w² ----

def test_regularized_linear_classifier_scalar():
    w, x, b, t, lam = (sg.scalar(n) for n in ("w", "x", "b", "t", "lam"))
    z = w * x + b
    y = sg.sigmoid(z)
    cost = 0.5 * (y - t) ** 2 + lam * (0.5 * w ** 2)
    f = sg.function([w, x, b, t, lam], sg.grad(cost, [w, b, x, z, y]))
    values = [0.7, -1.3, 0.2, 1.0, 0.1]
    gw, gb, gx, gz, gy = f(*values)
    # Hand backprop (lecture): ȳ = y - t, z̄ = ȳ σ'(z), w̄ = z̄ x + λ w, b̄ = z̄, x̄ = z̄ w.
    wv, xv, bv, tv, lv = values
    yv = sigmoid(wv * xv + bv)
    ybar = yv - tv
    zbar = ybar * yv * (1 - yv)
    np.testing.assert_allclose([gy, gz, gw, gb, gx],
                               [ybar, zbar, zbar * xv + lv * wv, zbar, zbar * wv], rtol=1e-12)

    def loss(w, x, b, t, lam):
        return 0.5 * (sigmoid(w * x + b) - t) ** 2 + lam * 0.5 * w ** 2
    for i, g in [(0, gw), (1, gx), (2, gb)]:
        assert_fd(loss, values, i, g)


def test_regularized_linear_classifier_vector(rng):
    w, x = sg.vector("w", "n"), sg.vector("x", "n")
    b, t = sg.scalar("b"), sg.scalar("t")
    cost = 0.5 * (sg.sigmoid(sg.dot(w, x) + b) - t) ** 2 + 0.05 * sg.sum(w * w)
    gw, gb = sg.grad(cost, [w, b])
    assert gw.shape == ("n",) and gb.shape == ()
    values = [rng.standard_normal(5), rng.standard_normal(5), 0.3, 1.0]
    got_w, got_b = sg.function([w, x, b, t], [gw, gb])(*values)
    wv, xv, bv, tv = values
    yv = sigmoid(wv @ xv + bv)
    zbar = (yv - tv) * yv * (1 - yv)
    np.testing.assert_allclose(got_w, zbar * xv + 0.1 * wv, rtol=1e-12)
    np.testing.assert_allclose(got_b, zbar, rtol=1e-12)

    def loss(w, x, b, t):
        return 0.5 * (sigmoid(w @ x + b) - t) ** 2 + 0.05 * w @ w
    assert_fd(loss, values, 0, got_w)


# The 3-layer MLP: a_k = W_k h_{k-1} + b_k, h_k = g(a_k), ŷ = softmax(a_L), L = -log ŷ_ℓ --

def build_mlp(g, sizes, batched):
    """Symbolic MLP; returns (inputs, cost, named intermediates)."""
    n, k = sizes[0], sizes[-1]
    Ws = [sg.matrix(f"W{i}", (sizes[i], sizes[i - 1])) for i in (1, 2, 3)]
    bs = [sg.vector(f"b{i}", sizes[i]) for i in (1, 2, 3)]
    if batched:
        x, y = sg.matrix("X", ("B", n)), sg.vector("y", "B", dtype="int64")
    else:
        x, y = sg.vector("x", n), sg.scalar("label", dtype="int64")
    h, mids = x, {}
    for i, (W, b) in enumerate(zip(Ws, bs), start=1):
        a = (h @ W.T if batched else W @ h) + b
        mids[f"a{i}"] = a
        if i < 3:
            h = mids[f"h{i}"] = g(a)
    log_yhat = sg.log(sg.softmax(a))
    if batched:
        cost = sg.mean(-sg.sum(sg.one_hot(y, k) * log_yhat, axis=1))
    else:
        cost = -sg.sum(sg.one_hot(y, k) * log_yhat)
    return Ws + bs + [x, y], cost, mids


def hand_backprop(values, g, dg, batched, k):
    """The lecture's forward and backward pass in NumPy (rows = batch when batched)."""
    W1, W2, W3, b1, b2, b3, x, y = values
    X = x if batched else x[None, :]
    labels = np.atleast_1d(y)
    a1 = X @ W1.T + b1
    h1 = g(a1)
    a2 = h1 @ W2.T + b2
    h2 = g(a2)
    a3 = h2 @ W3.T + b3
    e = np.eye(k)[labels]
    ga3 = -(e - softmax(a3)) / len(X)       # ∇a_L = -(e(y) - ŷ)  (mean over the batch)
    ga = {"a3": ga3}
    grads = {"W3": ga3.T @ h2, "b3": ga3.sum(0)}   # ∇W_k = ∇a_k h_{k-1}ᵀ, ∇b_k = ∇a_k
    gh2 = ga3 @ W3                                  # ∇h_{k-1} = W_kᵀ ∇a_k
    ga2 = gh2 * dg(a2)                              # ∇a_{k-1} = ∇h_{k-1} ⊙ g'(a_{k-1})
    grads.update(W2=ga2.T @ h1, b2=ga2.sum(0))
    gh1 = ga2 @ W2
    ga1 = gh1 * dg(a1)
    grads.update(W1=ga1.T @ X, b1=ga1.sum(0))
    grads.update(h2=gh2, a2=ga2, h1=gh1, a1=ga1, **ga)
    if not batched:   # back from a batch of one row to the vectors a_k, h_k
        grads = {key: v[0] if key[0] in "ah" else v for key, v in grads.items()}
    loss = -np.sum(e * np.log(softmax(a3))) / len(X)
    return loss, grads


def mlp_values(rng, sizes, batch):
    W = [rng.standard_normal((sizes[i], sizes[i - 1])) * 0.8 for i in (1, 2, 3)]
    b = [rng.standard_normal(sizes[i]) * 0.3 for i in (1, 2, 3)]
    if batch is None:
        return W + b + [rng.standard_normal(sizes[0]), np.int64(2)]
    return W + b + [rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], batch)]


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
@pytest.mark.parametrize("batched", [False, True], ids=["single", "batch"])
def test_mlp_backprop_formulas(act, batched, rng):
    g_sym, g, dg = ACTIVATIONS[act]
    sizes = (4, 5, "h", 3) if batched else (4, 5, 6, 3)
    inputs, cost, mids = build_mlp(g_sym, sizes, batched)
    names = ["W1", "W2", "W3", "b1", "b2", "b3"]
    order = names + ["a1", "h1", "a2", "h2", "a3"]
    wrt = inputs[:6] + [mids[m] for m in order[6:]]
    grads = sg.grad(cost, wrt)
    for node, gnode in zip(wrt, grads):
        assert gnode.shape == node.shape
    f = sg.function(inputs, [cost] + grads)
    concrete = tuple(6 if s == "h" else s for s in sizes)
    values = mlp_values(rng, concrete, 7 if batched else None)
    value, *got = f(*values)
    want_loss, want = hand_backprop(values, g, dg, batched, sizes[-1])
    np.testing.assert_allclose(value, want_loss, rtol=1e-12)
    for name, result in zip(order, got):
        np.testing.assert_allclose(result, want[name], rtol=1e-10, atol=1e-14, err_msg=name)

    def loss(*v):
        return hand_backprop(list(v), g, dg, batched, sizes[-1])[0]
    for i in range(6):
        assert_fd(loss, values, i, got[i])


def test_mlp_output_gradient_is_prediction_minus_one_hot(rng):
    """∇a_L = ŷ - e(y), with log_softmax as the loss too."""
    a = sg.vector("a", 5)
    label = sg.scalar("label", dtype="int64")
    cost = -sg.sum(sg.one_hot(label, 5) * sg.log_softmax(a))
    av = rng.standard_normal(5)
    got = sg.function([a, label], sg.grad(cost, a))(av, 3)
    np.testing.assert_allclose(got, softmax(av) - np.eye(5)[3], rtol=1e-12, atol=1e-15)


# Deep linear network: ℓ = ‖W_d … W_1 x - y‖² ------------------------------------------

def test_deep_linear_network(rng):
    dims = [3, 4, 2, 5, 2]
    Ws = [sg.matrix(f"W{i + 1}", (dims[i + 1], dims[i])) for i in range(4)]
    x, y = sg.vector("x", dims[0]), sg.vector("y", dims[-1])
    out = x
    for W in Ws:
        out = W @ out
    cost = sg.sum((out - y) ** 2)
    f = sg.function(Ws + [x, y], sg.grad(cost, Ws))
    values = [rng.standard_normal((dims[i + 1], dims[i])) for i in range(4)]
    values += [rng.standard_normal(dims[0]), rng.standard_normal(dims[-1])]
    got = f(*values)
    # Lecture: forward a_i = W_i a_{i-1}; g_d = 2(a_d - y); g_{i-1} = W_iᵀ g_i; ∂ℓ/∂W_i = g_i a_{i-1}ᵀ.
    acts = [values[4]]
    for W in values[:4]:
        acts.append(W @ acts[-1])
    gi = 2 * (acts[-1] - values[5])
    for i in reversed(range(4)):
        np.testing.assert_allclose(got[i], np.outer(gi, acts[i]), rtol=1e-12, atol=1e-14)
        gi = values[i].T @ gi

    def loss(*v):
        a = v[4]
        for W in v[:4]:
            a = W @ a
        return np.sum((a - v[5]) ** 2)
    for i in range(4):
        assert_fd(loss, values, i, got[i])


# Weight sharing: one W used at several places gets the sum of the per-use gradients ---

def test_weight_sharing_sums_paths(rng):
    W = sg.matrix("W", (3, 4))
    x1, x2 = sg.vector("x1", 4), sg.vector("x2", 4)
    u = sg.vector("u", 3)

    def model(Wa, Wb, Wc):
        return sg.sum(sg.tanh(Wa @ x1)) + 0.5 * sg.sum((Wb @ x2) ** 2) + u @ Wc @ x1

    cost = model(W, W, W)
    g = sg.grad(cost, W)
    parts = [sg.matrix(f"W_{c}", (3, 4)) for c in "abc"]
    split = sg.grad(model(*parts), parts)
    total = split[0] + split[1] + split[2]
    f = sg.function([W, x1, x2, u] + parts, [g, total])
    Wv, x1v, x2v, uv = (rng.standard_normal(s) for s in [(3, 4), 4, 4, 3])
    got, summed = f(Wv, x1v, x2v, uv, Wv, Wv, Wv)
    hand = (np.outer(1 - np.tanh(Wv @ x1v) ** 2, x1v) + np.outer(Wv @ x2v, x2v)
            + np.outer(uv, x1v))
    np.testing.assert_allclose(got, hand, rtol=1e-12)
    np.testing.assert_allclose(summed, hand, rtol=1e-12)

    def loss(Wm, a, b, c):
        return np.sum(np.tanh(Wm @ a)) + 0.5 * np.sum((Wm @ b) ** 2) + c @ Wm @ a
    assert_fd(loss, [Wv, x1v, x2v, uv], 0, got)


# RNN unrolled in time: h_t = tanh(W h_{t-1} + U x_t + b), shared W, U, b -------------

def build_rnn(T, n, d):
    """Symbolic unrolled RNN with loss Σ_t ½‖V h_t - y_t‖²; returns (inputs, cost, hs)."""
    W, U, V = sg.matrix("W", (n, n)), sg.matrix("U", (n, d)), sg.matrix("V", (d, n))
    b, h0 = sg.vector("b", n), sg.vector("h0", n)
    xs, ys = sg.matrix("xs", (T, d)), sg.matrix("ys", (T, d))
    h, hs, cost = h0, [], 0.0
    for t in range(T):
        h = sg.tanh(W @ h + U @ xs[t] + b)
        hs.append(h)
        cost = cost + 0.5 * sg.sum((V @ h - ys[t]) ** 2)
    return [W, U, V, b, h0, xs, ys], cost, hs


def rnn_hand_bptt(W, U, V, b, h0, xs, ys):
    """Backpropagation through time in NumPy: the lecture's backward pass, step by step."""
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(W @ hs[-1] + U @ x + b))
    dW, dU, dV, db = (np.zeros_like(p) for p in (W, U, V, b))
    dh_next = np.zeros_like(h0)
    dhs = [None] * len(xs)
    for t in reversed(range(len(xs))):
        r = V @ hs[t + 1] - ys[t]
        dV += np.outer(r, hs[t + 1])
        dh = V.T @ r + dh_next          # two paths into h_t: the output and h_{t+1}
        dhs[t] = dh
        da = dh * (1 - hs[t + 1] ** 2)
        dW += np.outer(da, hs[t])
        dU += np.outer(da, xs[t])
        db += da
        dh_next = W.T @ da
    return [dW, dU, dV, db, dh_next], dhs


def rnn_loss(W, U, V, b, h0, xs, ys):
    h, total = h0, 0.0
    for x, y in zip(xs, ys):
        h = np.tanh(W @ h + U @ x + b)
        total += 0.5 * np.sum((V @ h - y) ** 2)
    return total


@pytest.mark.parametrize("T", [1, 5, 20])
def test_rnn_bptt_matches_hand_reference(T, rng):
    n, d = 4, 3
    inputs, cost, hs = build_rnn(T, n, d)
    params = inputs[:5]
    grads = sg.grad(cost, params + hs)
    f = sg.function(inputs, grads)
    values = [rng.standard_normal((n, n)) * 0.5, rng.standard_normal((n, d)) * 0.5,
              rng.standard_normal((d, n)) * 0.5, rng.standard_normal(n) * 0.1,
              rng.standard_normal(n), rng.standard_normal((T, d)), rng.standard_normal((T, d))]
    got = f(*values)
    want, dhs = rnn_hand_bptt(*values)
    for name, a, b in zip(["W", "U", "V", "b", "h0"], got[:5], want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13, err_msg=name)
    for t, (a, b) in enumerate(zip(got[5:], dhs)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13, err_msg=f"dL/dh_{t + 1}")
    if T <= 5:
        for i in range(5):
            assert_fd(rnn_loss, values, i, got[i])


# -(γ/2) logdet(A Aᵀ): the gradient is -γ (A Aᵀ)⁻¹ A ---------------------------------

@pytest.mark.parametrize("shape", [(3, 5), ("n", "m")])
def test_logdet_of_gram_matrix(shape, rng):
    A, gamma = sg.matrix("A", shape), sg.scalar("gamma")
    cost = -(gamma / 2) * sg.logdet(A @ A.T)
    g = sg.grad(cost, A)
    assert g.shape == A.shape
    Av = rng.standard_normal((3, 5))
    got = sg.function([A, gamma], g)(Av, 0.7)
    np.testing.assert_allclose(got, -0.7 * np.linalg.solve(Av @ Av.T, Av), rtol=1e-10)

    def loss(Am, gam):
        return -(gam / 2) * np.linalg.slogdet(Am @ Am.T)[1]
    assert_fd(loss, [Av, 0.7], 0, got)


def test_gram_inverse_term(rng):
    """The companion term of the notes: L2 = -(α/2) tr(Bᵀ P⁻¹ B) with P = A Aᵀ.

    By hand: ∂L2/∂P = (α/2) P⁻¹ B Bᵀ P⁻¹ (P symmetric); the paths through A and
    Aᵀ add up to ∂L2/∂A = α P⁻¹ B Bᵀ P⁻¹ A.
    """
    A, B, alpha = sg.matrix("A", ("n", "m")), sg.matrix("B", ("n", "k")), sg.scalar("alpha")
    P = A @ A.T
    cost = -(alpha / 2) * sg.trace(B.T @ sg.inv(P) @ B)
    gA, gP = sg.grad(cost, [A, P])
    Av, Bv = rng.standard_normal((3, 5)), rng.standard_normal((3, 2))
    got_A, got_P = sg.function([A, B, alpha], [gA, gP])(Av, Bv, 0.6)
    Pinv = np.linalg.inv(Av @ Av.T)
    np.testing.assert_allclose(got_P, 0.3 * Pinv @ Bv @ Bv.T @ Pinv, rtol=1e-9)
    np.testing.assert_allclose(got_A, 0.6 * Pinv @ Bv @ Bv.T @ Pinv @ Av, rtol=1e-9)

    def loss(Am, Bm, a):
        return -(a / 2) * np.trace(Bm.T @ np.linalg.solve(Am @ Am.T, Bm))
    assert_fd(loss, [Av, Bv, 0.6], 0, got_A)


def test_reconstruction_loss_input_used_twice(rng):
    """The notes' L = ‖m‖², m = g - x, g = W2 σ(W1 x + b1) + b2: x feeds the
    network and is the target, so ∂L/∂x adds the path through W1 and the
    direct one (the ⊕ gate passes the gradient)."""
    W1, b1 = sg.matrix("W1", (4, 3)), sg.vector("b1", 4)
    W2, b2 = sg.matrix("W2", (3, 4)), sg.vector("b2", 3)
    x = sg.vector("x", 3)
    z1 = W1 @ x + b1
    h1 = sg.sigmoid(z1)
    u = W2 @ h1 + b2
    cost = sg.sum((u - x) ** 2)
    wrt = [W1, b1, W2, b2, x, z1, h1, u]
    values = [rng.standard_normal((4, 3)), rng.standard_normal(4),
              rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(3)]
    got = sg.function([W1, b1, W2, b2, x], sg.grad(cost, wrt))(*values)
    W1v, b1v, W2v, b2v, xv = values
    z1v = W1v @ xv + b1v
    h1v = sigmoid(z1v)
    gm = 2 * (W2v @ h1v + b2v - xv)          # ∇m L = 2m, ∇u = ∇m (the ⊕ gate)
    gh1 = W2v.T @ gm                          # ∇h1 = W2ᵀ ∇u
    gz1 = gh1 * h1v * (1 - h1v)
    hand = [np.outer(gz1, xv), gz1, np.outer(gm, h1v), gm, W1v.T @ gz1 - gm, gz1, gh1, gm]
    for name, a, b in zip(["W1", "b1", "W2", "b2", "x", "z1", "h1", "u"], got, hand):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)

    def loss(W1m, b1m, W2m, b2m, xm):
        return np.sum((W2m @ sigmoid(W1m @ xm + b1m) + b2m - xm) ** 2)
    for i in range(5):
        assert_fd(loss, values, i, got[i])
