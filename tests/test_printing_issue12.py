"""Issue 12, item 3: printing is never wrong. Each bug of the issue's list, on the default
path (no ``simplify`` unless the case is about it). LaTeX rendering itself is checked by
KaTeX (tests/test_latex_renders.py and the hook in tests/conftest.py)."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from strategies import graphs

N = 3
MATS = {name: sg.matrix(name, (N, N)) for name in "ABCD"}
VALUES = {name: np.random.default_rng(i).standard_normal((N, N)) for i, name in enumerate("ABCD")}


def _numpy_of(text: str) -> str:
    """A printed product/sum of the matrices as the NumPy expression it reads as."""
    return text.replace("ᵀ", ".T").replace("⊙", "*")


@st.composite
def products(draw, depth=3):
    """Random sums/products of A..D and their transposes, any parenthesization."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        node = MATS[draw(st.sampled_from("ABCD"))]
        return node.T if draw(st.booleans()) else node
    left, right = draw(products(depth - 1)), draw(products(depth - 1))
    kind = draw(st.sampled_from(["@", "@", "+", "-", "*"]))
    node = {"@": lambda: left @ right, "+": lambda: left + right,
            "-": lambda: left - right, "*": lambda: left * right}[kind]()
    return node.T if draw(st.integers(0, 4)) == 0 else node


@settings(max_examples=300)
@given(products())
def test_a_printed_matrix_expression_reads_as_the_product_computed(node):
    """Evaluated as NumPy reads it (``@`` left to right), the printed text gives the
    graph's value: parentheses wherever NumPy would group differently."""
    text = str(node)
    if "\n" in text:  # shared subexpressions bound as t₁ = ...: out of this test's scope
        return
    expected = sg.function(list(MATS.values()), node, optimize=False)(*VALUES.values())
    got = eval(_numpy_of(text), {}, dict(VALUES))  # noqa: S307 (our own printer's text)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_matmul_chains_keep_their_grouping():
    D, C = MATS["D"], MATS["C"]
    u, x = sg.vector("u", N), sg.vector("x", N)
    assert str(D.T @ (u @ C)) == "Dᵀ @ (u @ C)"
    assert str((D.T @ u) @ C) == "Dᵀ @ u @ C"
    grad = sg.grad(u @ C @ (D @ x), x)
    value = sg.function([u, C, D, x], grad)(*(np.arange(1.0, 4.0), VALUES["C"], VALUES["D"],
                                               np.ones(3)))
    printed = eval(_numpy_of(str(grad)), {},  # noqa: S307
                   {"u": np.arange(1.0, 4.0), "C": VALUES["C"], "D": VALUES["D"]})
    np.testing.assert_allclose(printed, value)


def test_booleans_print():
    q = sg.vector("q", 3)
    node = sg.where(sg.constant(np.array([True, False, True])), q, 0)
    assert str(node) == "where([True, False, True], q, 0)"
    assert sg.latex(node) == (r"\operatorname{where}\left(\begin{bmatrix}\mathrm{True} \\ "
                              r"\mathrm{False} \\ \mathrm{True}\end{bmatrix}, q, 0\right)")


def test_constants_print_their_values_after_simplify():
    x = sg.vector("x", 3)
    node = sg.simplify(2.0 * sg.constant(np.arange(9.0).reshape(3, 3)) @ x)
    assert str(node) == "[[0, 2, 4], [6, 8, 10], [12, 14, 16]] @ x"
    big = sg.simplify(2.0 * sg.constant(np.arange(400.0).reshape(20, 20)) @ sg.vector("z", 20))
    assert str(big) == "const(20, 20) @ z"


def test_guards_never_appear_in_printed_math():
    x, X, y, s = sg.vector("x", 3), sg.matrix("X", (3, 4)), sg.scalar("y"), sg.scalar("s")
    assert str(sg.grad(sg.norm(x), x)) == "x / ‖x‖"
    assert sg.latex(sg.grad(sg.norm(x), x)) == r"\frac{x}{\left\|x\right\|}"
    assert [str(g) for g in sg.grad(sg.sum(x ** y), [x, y])] == [
        "y * x^∘(y - 1)", "sum(x^∘y ⊙ log(x))"]  # the power rule's 0-at-zero guards
    assert str(sg.grad(s ** 0, s)) == "0"
    for node in [sg.grad(sg.sum(sg.linalg.norm(X, axis=1)), X), sg.grad(sg.norm(x) ** 2, x),
                 sg.grad(sg.sum(x ** s), [x, s])]:
        for text in (str(node), sg.latex(node)):
            assert "2.22507" not in text and "e-308" not in text and "10^{-308}" not in text


def test_a_user_where_is_printed():
    """Only the guard form (a product that vanishes where the condition holds) is hidden."""
    x = sg.vector("x", 3)
    assert str(sg.where(sg.equal(x, 0), 0, 1 / x)) == "where(x == 0, 0, 1 / x)"
    assert str(sg.where(sg.equal(x, 1), 0, x * x)) == "where(x == 1, 0, x ⊙ x)"


def test_scalars_stay_scalars():
    v = sg.vector("v", 5)
    assert str(2 * v) == "2 * v"
    assert str(sg.grad(sg.sum(v * v), v)) == "2 * v"


def _results(line: str) -> list:
    """The results of the last line: its ``", "``-separated parts outside brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(line):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 and line.startswith(", ", i):
            parts.append(line[start:i])
            start = i + 2
    return parts + [line[start:]]


def _lone_binding(text: str) -> bool:
    """Whether a result line is just the name of a binding used nowhere else."""
    lines = text.split("\n")
    names = [line.split(" = ")[0] for line in lines[:-1]]
    for result in _results(lines[-1]):
        if result in names and sum(line.count(result) for line in lines) == 2:
            return True
    return False


def _latex_lines(text: str) -> str:
    """An ``aligned`` LaTeX layout as the Unicode one: ``name = text`` lines, results last
    (an array literal's own rows, ``bmatrix``, written as one token)."""
    if not text.startswith(r"\begin{aligned}"):
        return text
    text = re.sub(r"\\begin\{bmatrix\}.*?\\end\{bmatrix\}", "M", text)
    rows = text[len(r"\begin{aligned}"):-len(r"\end{aligned}")].split(r" \\ ")
    return "\n".join(row.replace(" &= ", " = ").removeprefix("& ") for row in rows)


@settings(max_examples=200)
@given(graphs())
def test_a_result_is_never_bound_only_to_be_printed(case):
    for node in (case.out, sg.simplify(case.out)):
        assert not _lone_binding(str(node)), str(node)
        assert not _lone_binding(_latex_lines(sg.latex(node))), sg.latex(node)


@pytest.mark.parametrize("text", ["t₁ = a + b\nt₁", r"\begin{aligned}t_{1} &= x \\ & t_{1}\end{aligned}"])
def test_the_lone_binding_check_can_fail(text):
    assert _lone_binding(_latex_lines(text))


def test_readme_gradient_prints_clean():
    W, x, y = sg.matrix("W", ("n", "m")), sg.vector("x", "m"), sg.vector("y", "n")
    text = str(sg.grad(sg.sum((sg.tanh(W @ x) - y) ** 2), W))
    assert not re.search(r"1 \*|\(2 - 1\)|\^∘1\b|\[2, 2", text), text
