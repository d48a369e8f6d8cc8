"""Checking gradients and formulas: check_grad, equivalent, slips, explain, numerics."""
