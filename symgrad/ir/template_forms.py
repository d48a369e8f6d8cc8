"""How generated expressions bind: the parenthesization rule for inlined scalars.

The compiler writes a scalar read once into its consumer's expression
(:mod:`symgrad.compile.emit`). Whether it needs parentheses there depends on how
tightly its own lowering template binds and on the slot it goes into; this
module reads both off the op templates (``"{0} * {1}"``, ``"np.exp({0})"``),
once per template.
"""
from __future__ import annotations

import functools
import re

#: Binding strength of names, literals and calls: no parentheses needed anywhere.
ATOM = 100
_INFIX = {" + ": 10, " - ": 10, " * ": 20, " / ": 20}
_OPAQUE = (-1, ())
_CALL_HEAD = re.compile(r"[A-Za-z_][\w.]*\(")
_SLOT = re.compile(r"\{(\d+)\}")


@functools.lru_cache(maxsize=None)
def template_form(template) -> tuple:
    """(strength, needs) of a lowering: how tightly its result binds, and per
    operand slot how tightly an expression must bind to go in unparenthesized.

    Known forms: ``{0} op {1}`` for + - * / (left-associative: the right slot
    needs more), ``-{0}``, ``{0} ** {1}``, and a single call whose bare ``{i}``
    arguments take any expression. Anything else (emitter functions too) is
    opaque: strength -1, every slot needs ATOM. Dropping only parentheses the
    grammar does not need leaves the parse, hence the arithmetic, unchanged;
    CPython's ``compile()`` of deep scalar chains is ~20 % cheaper without them.
    """
    if type(template) is not str:
        return _OPAQUE
    for symbol, strength in _INFIX.items():
        if template == "{0}" + symbol + "{1}":
            return strength, (strength, strength + 1)
    if template == "-{0}":
        return 30, (31,)
    if template == "{0} ** {1}":  # binds tighter than unary minus on its left only
        return 40, (41, 30)
    if not _is_one_call(template):
        return _OPAQUE
    needs = {}
    for match in _SLOT.finditer(template):
        before, after = template[:match.start()], template[match.end()]
        whole_argument = before.endswith(("(", ", ")) and after in "),"
        needs[int(match.group(1))] = 0 if whole_argument else ATOM
    return ATOM, tuple(needs.get(i, ATOM) for i in range(max(needs, default=-1) + 1))


def _is_one_call(template: str) -> bool:
    """Whether ``template`` is ``name(...)`` with the call's parenthesis closing at its end."""
    head = _CALL_HEAD.match(template)
    if head is None:
        return False
    depth = 0
    for i in range(head.end() - 1, len(template)):
        depth += (template[i] == "(") - (template[i] == ")")
        if depth == 0:
            return i == len(template) - 1
    return False


def numpy_dtype(name: str) -> str:
    """Source naming the NumPy dtype ``name``: ``np.bool_`` for bool (``np.bool``
    exists only from NumPy 2.0; ``np.bool_`` in every NumPy symgrad supports)."""
    return "np.bool_" if name == "bool" else f"np.{name}"
