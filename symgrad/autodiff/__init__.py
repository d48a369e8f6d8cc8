"""Reverse and forward sweeps: grad, jvp, hvp, jacobian, hessian."""
