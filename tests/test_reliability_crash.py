"""Regression tests for issue 15, items 13-26 (each failed on the code before its fix)."""
import re

import numpy as np
import pytest

import symgrad as sg


def test_item13_spd_solve_and_inv_of_an_empty_matrix(capfd):
    a, b = sg.matrix("A", ("n", "n")), sg.vector("b", "n")
    spd = a @ a.T + sg.eye(a.shape[0])
    f = sg.function([a, b], [sg.solve(spd, b), sg.inv(spd), sg.logdet(spd)])
    x, inverse, logdet = f(np.zeros((0, 0)), np.zeros(0))
    assert x.shape == (0,) and inverse.shape == (0, 0) and logdet == 0.0
    assert capfd.readouterr().out == ""  # LAPACK printed "DPOTRI ... illegal value"


def test_item15_to_sympy_of_a_deep_graph_names_the_limit():
    x = sg.scalar("x")
    h = x
    for _ in range(1000):
        h = sg.sin(h) + 1.0
    with pytest.raises(ValueError, match=r"2001 operations deep.*recursion limit"):
        sg.to_sympy(h)
    assert not sg.equivalent(h, h + 1.0)  # the numeric fallback still answers


def test_item14_generated_code_spells_bool_for_every_declared_numpy():
    # np.bool exists only from NumPy 2.0; pyproject declares numpy>=1.24
    x = sg.vector("x", 3)
    mask = sg.constant(np.array([True, False, True]))
    big_mask = sg.constant(np.arange(40) % 3 == 0)
    outputs = [sg.where(mask, x, 0.0), sg.REGISTRY["zeros"](shape=(2,), dtype="bool"), big_mask]
    source = sg.codegen([x], outputs)
    assert "np.bool_" in source
    assert re.search(r"np\.bool(?!_)", source) is None, source
    kept, falses, same = sg.function([x], outputs)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(kept, [1.0, 0.0, 3.0])
    assert falses.dtype == np.bool_ and not falses.any()
    np.testing.assert_array_equal(same, np.arange(40) % 3 == 0)
