"""The backprop lecture's worked example, live: ``sg.explain`` on the seed notes' network.

The notes (seed 004, "Backpropagation (Light Math)") use a 4-4-2 network:
``a1 = W1 @ x``, ``h1 = sigmoid(a1)``, ``a2 = W2 @ h1``, ``ŷ = softmax(a2)`` and
the squared error ``L = sum((y - ŷ)**2)`` with ``y = [1, 0]`` and no biases
(``b = [0 0]``, consistent with ``a1 = W1 x = [2.9 1.4 2.1 2.3]``).

The notes give only ``w212 = 0.8``, ``w213 = 0.2``, ``w223 = 0.3`` of ``W2``; the
other five entries are our choice, on the 0.1 grid, such that
``a2 = [1.66 0.45]`` and ``ŷ = [0.77 0.23]`` to the notes' rounding (and
``ŷ1 (1 - ŷ1)`` rounds to the notes' 0.1771): ``W2 = [[0.6 0.8 0.2 0.3],
[0.8 -0.6 0.3 -0.1]]``.

The notes compute ``dL/dw212`` along the single path through ``ŷ1``. But the
softmax couples the outputs: ``a21`` also moves ``ŷ2`` (``dŷ2/da21 = -ŷ1 ŷ2``),
and the loss depends on ``ŷ2``. The complete derivative adds that path, which
here has the same value, so the true gradient is twice the notes' number.
Likewise ``dL/dw131`` has four paths, not two.
"""
from __future__ import annotations

import numpy as np

import symgrad as sg

W1_VALUES = [[0.1, 0.3, 0.8, -0.4], [-0.3, -0.2, 0.5, 0.5],
             [-0.3, 0.0, 0.5, 0.4], [0.2, 0.5, -0.9, 0.7]]
X_VALUES = [2.0, 5.0, 3.0, 3.0]
W2_VALUES = [[0.6, 0.8, 0.2, 0.3], [0.8, -0.6, 0.3, -0.1]]  # w211, w214, w22{1,2,4} chosen
Y_VALUES = [1.0, 0.0]


def seed_network() -> dict:
    """The notes' network: its nodes by the notes' names, the values and display names."""
    W1, x = sg.matrix("W1", (4, 4)), sg.vector("x", 4)
    W2, y = sg.matrix("W2", (2, 4)), sg.vector("y", 2)
    a1 = W1 @ x
    h1 = sg.sigmoid(a1)
    a2 = W2 @ h1
    yhat = sg.softmax(a2)
    error = y - yhat
    squares = error ** 2
    L = sg.sum(squares)
    nodes = dict(W1=W1, x=x, W2=W2, y=y, a1=a1, h1=h1, a2=a2, yhat=yhat, L=L)
    at = {W1: W1_VALUES, x: X_VALUES, W2: W2_VALUES, y: Y_VALUES}
    names = {a1: "a1", h1: "h1", a2: "a2", yhat: "ŷ", error: "y-ŷ", squares: "(y-ŷ)²", L: "L"}
    return {"nodes": nodes, "at": at, "names": names}


def lecture_factors(report, steps) -> list:
    """The notes' factors for one path: ``dL/dŷ_i`` (the adjoint of ``ŷ[i]``),
    then the local derivatives down to the weight. ``steps`` lists
    (node, index) pairs from ``ŷ[i]`` down to the weight entry."""
    (top, top_index), factors = steps[0], []
    factors.append(float(report.adjoints[top][top_index]))
    for (node, index), (operand, operand_index) in zip(steps, steps[1:]):
        factors.append(float(report.local[(operand, node)][index + operand_index]))
    return factors


def show(label: str, factors) -> float:
    product = float(np.prod(factors))
    print(f"  {label}: " + " * ".join(f"({f:.4g})" for f in factors) + f" = {product:.4g}")
    return product


def explain_w212(net) -> None:
    n = net["nodes"]
    report = sg.explain(n["L"], n["W2"], net["at"], index=(0, 1), names=net["names"])
    print(report)
    print("\nThe notes' single path, dL/dŷ1 * dŷ1/da21 * da21/dw212:")
    via_y1 = show("through ŷ1", lecture_factors(
        report, [(n["yhat"], (0,)), (n["a2"], (0,)), (n["W2"], (0, 1))]))
    print("The path the light-math version leaves out, dL/dŷ2 * dŷ2/da21 * da21/dw212:")
    via_y2 = show("through ŷ2", lecture_factors(
        report, [(n["yhat"], (1,)), (n["a2"], (0,)), (n["W2"], (0, 1))]))
    print(f"  complete dL/dw212 = {via_y1:.4g} + {via_y2:.4g} = {via_y1 + via_y2:.4g}"
          f"  (sg.grad: {report.gradient[0, 1]:.4g})\n")


def explain_w131(net) -> None:
    n = net["nodes"]
    report = sg.explain(n["L"], n["W1"], net["at"], index=(2, 0), names=net["names"])
    print("\n".join(str(report).splitlines()[-7:]))
    below = [(n["h1"], (2,)), (n["a1"], (2,)), (n["W1"], (2, 0))]
    print("\nThe notes' two paths for dL/dw131 (ŷ1 via a21, ŷ2 via a22):")
    paths = {label: show(label, lecture_factors(
        report, [(n["yhat"], (i,)), (n["a2"], (j,))] + below))
        for label, (i, j) in [("ŷ1 via a21", (0, 0)), ("ŷ2 via a22", (1, 1))]}
    notes_sum = sum(paths.values())
    print(f"  the notes' sum = {notes_sum:.4g}  (the notes print 0.001595: they round h13 to "
          f"0.89, so h13 (1 - h13) = 0.0979 instead of {report.forward[n['h1']][2] * (1 - report.forward[n['h1']][2]):.4f})")
    print("The two paths the light-math version leaves out (the softmax couples ŷ1 and ŷ2):")
    left_out = sum(show(label, lecture_factors(
        report, [(n["yhat"], (i,)), (n["a2"], (j,))] + below))
        for label, (i, j) in [("ŷ2 via a21", (1, 0)), ("ŷ1 via a22", (0, 1))])
    print(f"  complete dL/dw131 = {notes_sum:.4g} + {left_out:.4g} = {notes_sum + left_out:.4g}"
          f"  (sg.grad: {report.gradient[2, 0]:.4g})")


def main() -> None:
    net = seed_network()
    explain_w212(net)
    explain_w131(net)


if __name__ == "__main__":
    main()
