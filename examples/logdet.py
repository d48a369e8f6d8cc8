"""The lecture's log-determinant term: L = -(γ/2) logdet(A Aᵀ).

By hand (Matrix Cookbook, both paths through A and Aᵀ summed, K = A Aᵀ symmetric):

    ∂L/∂A = -(γ/2) (K⁻ᵀ A + K⁻¹ A) = -γ (A Aᵀ)⁻¹ A

The script derives ∂L/∂A symbolically, prints it, compiles it next to the
hand closed form and compares them on several shapes (the dimensions are
named, so one compiled function serves them all), shows that logdet stays
finite where det overflows, and prints the simplified gradient.

Set ``SYMGRAD_QUICK=1`` for smaller matrices.
"""
import os

import numpy as np

import symgrad as sg

QUICK = os.environ.get("SYMGRAD_QUICK") == "1"
SHAPES = [(3, 5), (10, 30)] + ([] if QUICK else [(50, 100), (200, 400)])


def main():
    A, gamma = sg.matrix("A", ("n", "m")), sg.scalar("gamma")
    cost = -(gamma / 2) * sg.logdet(A @ A.T)
    grad_A = sg.grad(cost, A)
    by_hand = -gamma * sg.solve(A @ A.T, A)            # -γ (A Aᵀ)⁻¹ A, without an inverse
    print(f"L = {cost}\n\n∂L/∂A as derived:\n{grad_A}\n\nby hand: {by_hand}\n")

    f = sg.function([A, gamma], [cost, grad_A, by_hand])
    print(f.source)
    rng = np.random.default_rng(0)
    worst = 0.0
    for shape in SHAPES:
        value, symbolic, hand = f(rng.standard_normal(shape), 0.5)
        error = np.max(np.abs(symbolic - hand)) / np.max(np.abs(hand))
        worst = max(worst, error)
        print(f"A {shape}: L = {value:.6g}, max relative difference symgrad vs hand {error:.2e}")
    print(f"worst relative difference {worst:.2e}\n")

    big = 10.0 * rng.standard_normal((200, 400))
    with np.errstate(over="ignore"):
        naive = np.log(np.linalg.det(big @ big.T))
    print(f"unscaled A (200, 400): log(det(A Aᵀ)) = {naive}, "
          f"symgrad L = {f(big, 1.0)[0]:.6g} (slogdet: finite)\n")

    simplified = sg.simplify(grad_A)
    print(f"∂L/∂A simplified:\n{simplified}")
    print("the same node as the simplified hand form:", simplified is sg.simplify(by_hand))


if __name__ == "__main__":
    main()
