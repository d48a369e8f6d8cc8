"""A single self-attention head, written as in NumPy: batched ``@``, ``einsum``, softmax.

The head ``softmax(Q Kᵀ / √h) V`` with ``Q, K, V = X Wq, X Wk, X Wv`` learns to
imitate a teacher head of the same form on random sequences. The batch size
``b``, the sequence length ``t`` and the width ``d`` are dimension names: one
compiled function serves every batch and length. ``sg.grad`` appends the
backward pass to the graph; the gradient prints as math and compiles to plain
NumPy (``np.matmul`` for every batched product).
"""
from __future__ import annotations

import os

import numpy as np

import symgrad as sg

QUICK = bool(os.environ.get("SYMGRAD_QUICK"))


def attention(X, Wq, Wk, Wv, h: int):
    """One head: attention weights over the keys of each sequence, then the values."""
    Q, K, V = X @ Wq, X @ Wk, X @ Wv                 # (b, t, d) @ (d, h): batched matmul
    scores = np.einsum("bqh,bkh->bqk", Q, K) / np.sqrt(h)   # NumPy's einsum builds a node
    return sg.softmax(scores, axis=-1) @ V


def main(steps: int = 60 if QUICK else 300, lr: float = 0.5, h: int = 4):
    X, T = sg.tensor("X", ("b", "t", "d")), sg.tensor("T", ("b", "t", h))
    weights = [sg.matrix(name, ("d", h)) for name in ("Wq", "Wk", "Wv")]
    loss = sg.mean((attention(X, *weights, h) - T) ** 2)
    grads = sg.grad(loss, weights)
    step = sg.function([X, T, *weights], [loss, *grads])
    print("∇Wv =", sg.pretty(sg.simplify(grads[2])), sep="\n")

    rng = np.random.default_rng(0)
    d = 6
    teacher = [rng.standard_normal((d, h)) for _ in range(3)]
    student = [0.1 * rng.standard_normal((d, h)) for _ in range(3)]
    teach = sg.function([X, *weights], attention(X, *weights, h))
    data = rng.standard_normal((32, 5, d))
    target = teach(data, *teacher)
    first = None
    for _ in range(steps):
        value, *g = step(data, target, *student)
        first = value if first is None else first
        student = [w - lr * gw for w, gw in zip(student, g)]
    last = step(data, target, *student)[0]
    other = rng.standard_normal((3, 7, d))  # another batch size and sequence length
    print(f"\ntrained {steps} steps of gradient descent: loss {first:.4f} -> {last:.4f}; "
          f"on 3 new sequences of length 7: {step(other, teach(other, *teacher), *student)[0]:.4f}")
    body = step.source.split("def f(", 1)[1]
    print("\ngenerated NumPy (forward and backward in one function):\ndef f(" + body)


if __name__ == "__main__":
    main()
