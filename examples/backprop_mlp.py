"""The lecture's 3-layer MLP, derived symbolically and trained with the result.

    a_k = W_k h_{k-1} + b_k,   h_k = σ(a_k),   ŷ = softmax(a_3),   L = -log ŷ_y

averaged over a batch of ``B`` examples (a named dimension: one compiled
function serves every batch size). The script prints

1. the gradient graph: op counts of the forward graph and of forward + gradients;
2. the closed forms of ∇a_3 (as derived and simplified) and ∇W_3;
3. the NumPy source that computes loss and all six gradients in one pass;
4. a few gradient-descent steps on a toy 3-class dataset, with the loss going down.

Set ``SYMGRAD_QUICK=1`` for fewer steps.
"""
import os
from collections import Counter

import numpy as np

import symgrad as sg

QUICK = os.environ.get("SYMGRAD_QUICK") == "1"
SIZES = (2, 16, 16, 3)          # input, hidden 1, hidden 2, classes


def build_mlp(activation=sg.sigmoid):
    """(X, y, params, a_3, loss): the lecture MLP over a batch of rows of X."""
    X, y = sg.matrix("X", ("B", SIZES[0])), sg.vector("y", "B", dtype="int64")
    params, h = [], X
    for k in range(1, len(SIZES)):
        W, b = sg.matrix(f"W{k}", (SIZES[k], SIZES[k - 1])), sg.vector(f"b{k}", SIZES[k])
        params += [W, b]
        a = h @ W.T + b                      # a_k = W_k h_{k-1} + b_k, one row per example
        h = activation(a)
    # -log softmax(a)_y, written with log_softmax so that it never overflows.
    loss = sg.mean(-sg.sum(sg.one_hot(y, SIZES[-1]) * sg.log_softmax(a), axis=1))
    return X, y, params, a, loss


def op_summary(title, nodes):
    graph = sg.to_networkx(nodes)
    counts = Counter(op for _, op in graph.nodes(data="op") if op not in ("input", "constant"))
    top = ", ".join(f"{op} {n}" for op, n in counts.most_common(8))
    print(f"{title}: {sum(counts.values())} op nodes ({top}, ...)")
    return sum(counts.values())


def toy_data(rng, per_class=60):
    """Three Gaussian blobs in the plane, one per class."""
    centers = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])
    X = np.concatenate([c + 0.7 * rng.standard_normal((per_class, 2)) for c in centers])
    y = np.repeat(np.arange(3), per_class)
    return X, y


def init_params(rng):
    values = []
    for k in range(1, len(SIZES)):
        values.append(rng.standard_normal((SIZES[k], SIZES[k - 1])) / np.sqrt(SIZES[k - 1]))
        values.append(np.zeros(SIZES[k]))
    return values


def train(f, values, X, y, steps, rate=1.0):
    """Plain gradient descent: θ ← θ - η ∇θ. Returns the losses."""
    losses = []
    for step in range(steps):
        loss, *grads = f(X, y, *values)
        values = [v - rate * g for v, g in zip(values, grads)]
        losses.append(float(loss))
        if step % max(1, steps // 8) == 0 or step == steps - 1:
            print(f"  step {step:4d}  loss {loss:.4f}")
    return values, losses


def main():
    X, y, params, a3, loss = build_mlp()
    grads = sg.grad(loss, params)
    forward = op_summary("forward graph", loss)
    total = op_summary("forward + gradients", [loss] + grads)
    print(f"gradient graph / forward graph = {total / forward:.2f}\n")

    grad_a3 = sg.grad(loss, a3)
    print(f"∇a3 as derived:\n{grad_a3}\n")
    print(f"∇a3 simplified (the lecture's -(e(y) - ŷ), averaged over the batch):\n"
          f"{sg.simplify(grad_a3)}\n")
    print(f"∇W3 (the lecture's ∇a3 h2ᵀ), simplified:\n{sg.simplify(grads[4])}\n")

    f = sg.function([X, y] + params, [loss] + grads, name="loss_and_gradients")
    print("Generated NumPy source:\n")
    print(f.source)

    rng = np.random.default_rng(0)
    Xv, yv = toy_data(rng)
    steps = 40 if QUICK else 400
    print(f"Gradient descent on {len(Xv)} points, 3 classes, {steps} steps:")
    values, losses = train(f, init_params(rng), Xv, yv, steps)
    logits = sg.function([X] + params, a3)(Xv, *values)
    accuracy = np.mean(np.argmax(logits, axis=1) == yv)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; training accuracy {accuracy:.0%}")


if __name__ == "__main__":
    main()
