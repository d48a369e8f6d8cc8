"""Regression tests for issue 15 items (round 4): tests that catch mutations."""
import operator

import pytest
import sympy as sp

import symgrad as sg
from symgrad.sympy_bridge import to_sympy


@pytest.mark.parametrize("build, strict, relation", [
    (operator.gt, True, operator.gt), (operator.ge, False, operator.ge),
    (operator.lt, True, operator.lt), (operator.le, False, operator.le),
])
def test_item30_each_relation_at_a_tie(build, strict, relation):
    """At x == y a strict relation is False and a non-strict one True."""
    x, y = sg.scalar("x"), sg.scalar("y")
    expr = to_sympy(build(x, y))
    sx, sy = sorted(expr.free_symbols, key=str)
    assert bool(expr.subs({sx: 2, sy: 2})) is (not strict)
    assert bool(expr.subs({sx: 3, sy: 2})) is relation(3, 2)
    assert bool(expr.subs({sx: 1, sy: 2})) is relation(1, 2)
