"""Backpropagation through time with symgrad: a tanh RNN unrolled over T steps.

    h_t = tanh(W h_{t-1} + U x_t + b),   ŷ_t = V h_t + c,   L = mean_t ½‖ŷ_t - y_t‖²

W, U, b, V, c are shared by every step, so ``sg.grad`` sums T contributions
into each of them (the lecture's weight sharing). The script

1. shows the exploding/vanishing picture: ‖∂L_T/∂h_t‖, the gradient of the last
   step's loss with respect to each earlier hidden state, for a contracting
   and an expanding W;
2. trains the RNN to predict the next value of a sine wave of unknown
   frequency, with gradient clipping (global norm), prints the loss going down
   and, at the trained weights, ‖∂L/∂h_t‖ of the whole loss.

Set ``SYMGRAD_QUICK=1`` for fewer steps.
"""
import os

import numpy as np

import symgrad as sg

QUICK = os.environ.get("SYMGRAD_QUICK") == "1"
T, HIDDEN, CLIP = 20, 12, 1.0


def build_rnn():
    """(params, xs, ys, hidden states, per-step losses): a batch of ``B`` sequences."""
    W, U, V = sg.matrix("W", (HIDDEN, HIDDEN)), sg.matrix("U", (HIDDEN, 1)), sg.matrix("V", (1, HIDDEN))
    b, c = sg.vector("b", HIDDEN), sg.vector("c", 1)
    xs, ys = sg.tensor("xs", (T, "B", 1)), sg.tensor("ys", (T, "B", 1))
    h, hs, losses = sg.zeros(("B", HIDDEN)), [], []
    for t in range(T):
        h = sg.tanh(h @ W.T + xs[t] @ U.T + b)       # one row per sequence
        hs.append(h)
        losses.append(0.5 * sg.mean(sg.sum((h @ V.T + c - ys[t]) ** 2, axis=1)))
    return [W, U, b, V, c], xs, ys, hs, losses


def sine_batch(rng, batch):
    """Sequences x_t = sin(ω t + φ) with targets x_{t+1}, ω and φ random per sequence."""
    omega = rng.uniform(0.25, 0.6, batch)
    phase = rng.uniform(0, 2 * np.pi, batch)
    t = np.arange(T + 1)[:, None]
    wave = np.sin(omega * t + phase)
    return wave[:-1, :, None], wave[1:, :, None]


def init_params(rng, radius):
    W = rng.standard_normal((HIDDEN, HIDDEN))
    W *= radius / np.max(np.abs(np.linalg.eigvals(W)))          # spectral radius = radius
    U = rng.standard_normal((HIDDEN, 1))
    V = rng.standard_normal((1, HIDDEN)) / np.sqrt(HIDDEN)
    return [W, U, np.zeros(HIDDEN), V, np.zeros(1)]


def gradient_norms(params, xs, ys, hs, last_loss, rng):
    """‖∂L_T/∂h_t‖ for t = 1..T, at a contracting and at an expanding W."""
    f = sg.function(params + [xs, ys], sg.grad(last_loss, hs), name="last_loss_wrt_hidden")
    x, y = sine_batch(rng, 8)
    print(f"‖∂L_T/∂h_t‖ for the last step's loss, t = 1, 4, ..., {T - 1}:")
    for radius in (0.5, 1.0, 3.0):
        norms = [np.linalg.norm(g) for g in f(*init_params(rng, radius), x, y)]
        shown = "  ".join(f"{n:.1e}" for n in norms[::3])
        print(f"  spectral radius {radius}: {shown}  (ratio first/last {norms[0] / norms[-1]:.1e})")


def clip(grads, limit):
    """Rescale the gradients so that their global norm is at most ``limit``."""
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    return ([g * (limit / total) for g in grads], True) if total > limit else (grads, False)


def train(f, values, rng, steps, rate=0.1):
    losses, clipped = [], 0
    for step in range(steps):
        x, y = sine_batch(rng, 32)
        loss, *grads = f(*values, x, y)
        grads, was_clipped = clip(grads, CLIP)
        clipped += was_clipped
        values = [v - rate * g for v, g in zip(values, grads)]
        losses.append(float(loss))
        if step % max(1, steps // 8) == 0 or step == steps - 1:
            print(f"  step {step:4d}  loss {loss:.4f}")
    print(f"  {clipped} of {steps} steps had their gradient clipped to norm {CLIP}")
    return values, losses


def main():
    params, xs, ys, hs, losses = build_rnn()
    rng = np.random.default_rng(1)
    gradient_norms(params, xs, ys, hs, losses[-1], rng)

    loss = sg.mean(sg.stack(losses))
    f = sg.function(params + [xs, ys], [loss] + sg.grad(loss, params), name="bptt")
    steps = 60 if QUICK else 600
    print(f"\nTraining on next-value prediction of sine waves (T = {T}), {steps} steps:")
    values, history = train(f, init_params(rng, 0.9), rng, steps)
    first, last = np.mean(history[:5]), np.mean(history[-5:])
    print(f"loss {first:.4f} -> {last:.4f} (mean of the first and last 5 steps)")

    per_step = sg.function(params + [xs, ys], sg.grad(loss, hs), name="loss_wrt_hidden")
    norms = [np.linalg.norm(g) for g in per_step(*values, *sine_batch(rng, 32))]
    print("after training, ‖∂L/∂h_t‖ of the whole loss, t = 1, 4, ...:",
          "  ".join(f"{n:.1e}" for n in norms[::3]))


if __name__ == "__main__":
    main()
