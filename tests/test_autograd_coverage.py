"""symgrad against the NumPy forms HIPS autograd's test suite differentiates
(tests/autograd_inventory.py): each in-scope form is built in symgrad under its
NumPy name, its value compared with NumPy's, its VJP and JVP with central
finite differences of the NumPy function itself, and, for a subset, its second
derivative (a Hessian-vector product) with central differences of the checked
gradient. ``test_coverage`` asserts that at least 90 % of the in-scope forms pass.
"""
from __future__ import annotations

import functools
import operator
import types
import warnings

import numpy as np
import pytest

import symgrad as sg
from autograd_inventory import FORMS, IN_SCOPE, KNOWN_MISSING

scipy_special = pytest.importorskip("scipy.special", reason="the inventory's reference "
                                    "values for scipy.special forms come from SciPy")


class _NumPy(types.SimpleNamespace):
    """``numpy`` with ``special`` = ``scipy.special``: the reference namespace."""

    def __getattr__(self, name):
        return getattr(np, name)


NP = _NumPy(linalg=np.linalg, special=scipy_special)
H = 1e-6


def _outputs(result):
    if isinstance(result, (tuple, list)):
        return [r for part in result for r in _outputs(part)]
    return [result]


def _reference(form, args, cotangents):
    """The NumPy cost sum_k <out_k, c_k> at ``args``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = _outputs(form.build(NP, *args))
    return sum(float(np.sum(np.asarray(o, dtype=float) * c)) for o, c in zip(outs, cotangents))


def _central(fun, args, i, direction=None):
    """d/dt fun(args with args[i] + t * direction) (all unit directions when None)."""
    def at(delta):
        moved = list(args)
        moved[i] = args[i] + delta
        return fun(moved)
    if direction is not None:
        return (at(H * direction) - at(-H * direction)) / (2 * H)
    grad = np.zeros(args[i].shape)
    for index in np.ndindex(args[i].shape):
        e = np.zeros(args[i].shape)
        e[index] = H
        grad[index] = (at(e) - at(-e)) / (2 * H)
    return grad


def check_form(form, second=None):
    """Raise AssertionError (or the error symgrad raised) unless ``form`` is right."""
    rng = np.random.default_rng(0)
    args = list(form.args)
    nodes = [sg.tensor(f"x{i}", a.shape) for i, a in enumerate(args)]
    built = [nodes[i] if i in form.wrt else args[i] for i in range(len(args))]
    outs = [sg.constant(np.asarray(o)) if not isinstance(o, sg.Node) else o
            for o in _outputs(form.build(sg, *built))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [np.asarray(o, dtype=float) for o in _outputs(form.build(NP, *args))]
    assert len(outs) == len(expected), "a different number of outputs than NumPy's"
    for out, value in zip(outs, expected):
        assert tuple(out.shape) == value.shape, f"shape {out.shape} != NumPy's {value.shape}"
    cotangents = [rng.standard_normal(v.shape) for v in expected]
    wrt = [nodes[i] for i in form.wrt]
    cost = functools.reduce(operator.add, [sg.sum(o.astype("float64") * c)
                                           for o, c in zip(outs, cotangents)])
    grads = sg.grad(cost, wrt)
    f = sg.function(wrt, outs + list(grads))
    results = f(*[args[i] for i in form.wrt])
    for got, value in zip(results, expected):
        np.testing.assert_allclose(got, value, rtol=1e-9, atol=1e-10, err_msg="value")
    for k, i in enumerate(form.wrt):
        numeric = _central(lambda a: _reference(form, a, cotangents), args, i)
        np.testing.assert_allclose(results[len(outs) + k], numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"VJP wrt argument {i}")
    # JVP of every output along one random direction per differentiated argument.
    directions = [rng.standard_normal(args[i].shape) for i in form.wrt]
    dirs = [sg.tensor(f"v{i}", args[i].shape) for i in form.wrt]
    tangents = sg.jvp(outs, wrt, dirs)
    g = sg.function(wrt + dirs, list(tangents))
    symbolic = g(*[args[i] for i in form.wrt], *directions)
    symbolic = symbolic if isinstance(symbolic, tuple) else (symbolic,)
    for c, (k, out) in zip(cotangents, enumerate(outs)):
        numeric = 0.0
        for j, i in enumerate(form.wrt):
            numeric = numeric + _central(lambda a: _reference(form, a, [c if q == k else 0 * cc
                                                                       for q, cc in enumerate(
                                                                           cotangents)]),
                                         args, i, directions[j])
        np.testing.assert_allclose(np.sum(symbolic[k] * c), numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"JVP of output {k}")
    if second if second is not None else form.second:
        hv = sg.hvp(cost, wrt, dirs)
        hv = list(hv) if isinstance(hv, (list, tuple)) else [hv]
        fh = sg.function(wrt + dirs, hv + list(grads))
        point = [args[i] for i in form.wrt]
        symbolic = fh(*point, *directions)
        symbolic = symbolic if isinstance(symbolic, tuple) else (symbolic,)

        def gradients(moved):
            return fh(*moved, *directions)[len(wrt):]
        for k in range(len(wrt)):
            plus = gradients([p + H * d for p, d in zip(point, directions)])[k]
            minus = gradients([p - H * d for p, d in zip(point, directions)])[k]
            np.testing.assert_allclose(symbolic[k], (plus - minus) / (2 * H), rtol=1e-4,
                                       atol=1e-5, err_msg=f"HVP wrt argument {form.wrt[k]}")


_FAILURES: dict = {}


def _failure(form):
    """Why ``form`` fails (None: it passes), computed once per case."""
    if form.case not in _FAILURES:
        try:
            check_form(form)
            _FAILURES[form.case] = None
        except Exception as error:  # noqa: BLE001  (any failure makes the form missing)
            lines = str(error).strip().splitlines() or [""]
            _FAILURES[form.case] = f"{type(error).__name__}: {lines[0][:160]}"
    return _FAILURES[form.case]


@pytest.mark.parametrize("form", IN_SCOPE, ids=lambda f: f.case)
def test_form(form):
    failure = _failure(form)
    if form.case in KNOWN_MISSING:
        assert failure is not None, f"{form.case} is covered now: drop it from KNOWN_MISSING"
    else:
        assert failure is None, failure


def test_inventory_is_the_autograd_suite():
    """Every autograd test file read is represented, with a reason for each exclusion."""
    files = {f.case.split("::")[0] for f in FORMS}
    assert files == {"test_systematic.py", "test_numpy.py", "test_linalg.py",
                     "test_scalar_ops.py", "test_binary_ops.py", "test_scipy.py"}
    assert all(f.build is not None for f in IN_SCOPE)
    assert all(isinstance(f.scope, str) and f.scope for f in FORMS if f not in IN_SCOPE)
    assert len(IN_SCOPE) > 300


def test_coverage(capsys):
    missing = {f.case: reason for f in IN_SCOPE if (reason := _failure(f)) is not None}
    covered = len(IN_SCOPE) - len(missing)
    with capsys.disabled():
        print(f"\nautograd coverage: {covered}/{len(IN_SCOPE)} in-scope forms "
              f"({100 * covered / len(IN_SCOPE):.1f} %), {len(FORMS) - len(IN_SCOPE)} "
              "out of scope")
        for case, reason in missing.items():
            print(f"  missing {case}: {reason}")
    assert covered >= 0.9 * len(IN_SCOPE), f"{len(missing)} forms missing"
