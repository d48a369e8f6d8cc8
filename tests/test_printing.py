"""Printing: exact Unicode and LaTeX strings, parentheses, bindings, hostile names, deep chains."""
import re

import numpy as np
import pytest

import symgrad as sg

a, b, c = sg.scalar("a"), sg.scalar("b"), sg.scalar("c")
A, B, C = (sg.matrix(name, ("n", "n")) for name in "ABC")
W, x, bias = sg.matrix("W", ("n", "m")), sg.vector("x", "m"), sg.vector("b", "n")

PRETTY = [
    # precedence and associativity
    (lambda: a - (b - c), "a - (b - c)"),
    (lambda: (a - b) - c, "a - b - c"),
    (lambda: a + (b - c), "a + b - c"),
    (lambda: a / (b * c), "a / (b * c)"),
    (lambda: (a / b) / c, "a / b / c"),
    (lambda: a / (b / c), "a / (b / c)"),
    (lambda: a * (b + c), "a * (b + c)"),
    (lambda: -(a ** 2), "-a²"),
    (lambda: (-a) ** 2, "(-a)²"),
    (lambda: a ** (b ** c), "a^(b^c)"),
    (lambda: (a ** b) ** c, "(a^b)^c"),
    (lambda: a ** 0.5, "a^0.5"),
    (lambda: a ** -1.0, "a⁻¹"),
    (lambda: -(a + b), "-(a + b)"),
    (lambda: -(a * b), "-a * b"),
    (lambda: a + (-b), "a - b"),
    (lambda: a - (-b), "a + b"),  # built as the sum (the same floats)
    (lambda: a - (-2.0), "a - (-2)"),
    (lambda: a * (-b), "a * (-b)"),
    (lambda: a + -2.0, "a - 2"),
    (lambda: a + -2.0 * b, "a - 2 * b"),
    (lambda: a + (-b) / c, "a - b / c"),
    (lambda: a * (-2.0 * b), "a * (-2 * b)"),
    (lambda: (a > b), "a > b"),
    # matrix products, transposes, inverses
    (lambda: A @ (B @ C), "A @ (B @ C)"),  # NumPy reads A @ B @ C as (A @ B) @ C
    (lambda: (A @ B) @ C, "A @ B @ C"),
    (lambda: 2 * (A @ B), "2 * (A @ B)"),
    (lambda: (2 * A) @ B, "(2 * A) @ B"),
    (lambda: A * (B @ C), "A ⊙ (B @ C)"),
    (lambda: (A @ B) * C, "(A @ B) ⊙ C"),
    (lambda: (A @ B).T, "(A @ B)ᵀ"),
    (lambda: A.T @ B, "Aᵀ @ B"),
    (lambda: sg.inv(A), "A⁻¹"),
    (lambda: sg.inv(A).T, "A⁻ᵀ"),
    (lambda: sg.inv(A.T), "A⁻ᵀ"),
    (lambda: sg.inv(sg.inv(A)), "(A⁻¹)⁻¹"),
    (lambda: (A.T) ** 2, "(Aᵀ)^∘2"),
    (lambda: A / B, "A / B"),
    # functions and structure
    (lambda: sg.sigmoid(W @ x + bias), "σ(W @ x + b)"),
    (lambda: sg.sqrt(a + b), "√(a + b)"),
    (lambda: sg.sqrt(a) ** 2, "(√a)²"),
    (lambda: sg.exp(a) ** 2, "exp(a)²"),
    (lambda: sg.abs(a), "|a|"),
    (lambda: sg.norm(x), "‖x‖"),
    (lambda: sg.trace(A @ B), "tr(A @ B)"),
    (lambda: sg.logdet(A), "logdet(A)"),
    (lambda: sg.maximum(a, 0.0), "max(a, 0)"),
    (lambda: x[0], "x[0]"),
    (lambda: W[0, :], "W[0, :]"),
    (lambda: W[:, 1], "W[:, 1]"),
    (lambda: A.T[0], "Aᵀ[0, :]"),
    (lambda: sg.sum(W), "sum(W)"),
    (lambda: sg.sum(W, axis=0), "sum(W, axis=0)"),
    (lambda: sg.sum(W, axis=1, keepdims=True), "sum(W, axis=1, keepdims=True)"),
    (lambda: sg.mean(W), "sum(W) / (n·m)"),
    (lambda: sg.softmax(W), "softmax(W)"),
    (lambda: sg.softmax(W, axis=0), "softmax(W, axis=0)"),
    (lambda: sg.one_hot(sg.vector("l", "n", dtype="int64"), 4), "one_hot(l, 4)"),
    (lambda: A + sg.eye("n"), "A + I"),
    (lambda: sg.reshape(x, ("m", 1)), "reshape(x, shape=(m, 1))"),
    (lambda: a * 1e-8 + 0.25, "1e-08 * a + 0.25"),  # a number factor is built first
    (lambda: sg.vector("y", 3) + np.array([1.0, 2.5, 3.0]), "y + [1, 2.5, 3]"),
    (lambda: sg.where(a > 0, a, -a), "where(a > 0, a, -a)"),
]


@pytest.mark.parametrize("build, expected", PRETTY, ids=[e for _, e in PRETTY])
def test_pretty_exact(build, expected):
    node = build()
    assert sg.pretty(node) == expected
    assert str(node) == expected


LATEX = [
    (lambda: a / (b * c), r"\frac{a}{b c}"),
    (lambda: a - (b - c), r"a - \left(b - c\right)"),
    (lambda: -(a ** 2), "-a^{2}"),
    (lambda: (-a) ** 2, r"\left(-a\right)^{2}"),
    (lambda: 2 * a, r"2 a"),
    (lambda: a * 2, "2 a"),
    (lambda: a * (2 * a), r"a \cdot 2 a"),  # a digit after juxtaposition needs the dot
    (lambda: a * 1e-8, r"10^{-8} a"),
    (lambda: A * B, r"A \odot B"),
    (lambda: A ** 2, r"A^{\circ 2}"),
    (lambda: (A @ B).T, r"\left(A B\right)^{T}"),
    (lambda: sg.inv(A), "A^{-1}"),
    (lambda: sg.inv(A.T), "A^{-T}"),
    (lambda: sg.inv(sg.inv(A)), r"\left(A^{-1}\right)^{-1}"),
    (lambda: sg.exp(a) ** 2, r"\left(e^{a}\right)^{2}"),
    (lambda: sg.log(a), r"\log\left(a\right)"),
    (lambda: sg.sigmoid(W @ x + bias), r"\sigma\left(W x + b\right)"),
    (lambda: sg.trace(A), r"\operatorname{tr}\left(A\right)"),
    (lambda: sg.logdet(A), r"\log\det\left(A\right)"),
    (lambda: sg.sqrt(a + b), r"\sqrt{a + b}"),
    (lambda: sg.norm(x), r"\left\|x\right\|"),
    (lambda: x[0], "x_{0}"),
    (lambda: sg.log_softmax(W), r"\operatorname{log\_softmax}\left(W\right)"),
    (lambda: sg.sum(W, axis=0), r"\operatorname{sum}\left(W, \mathrm{axis}=0\right)"),
    (lambda: a >= b, r"a \geq b"),
]


@pytest.mark.parametrize("build, expected", LATEX, ids=[e for _, e in LATEX])
def test_latex_exact(build, expected):
    node = build()
    assert sg.latex(node) == expected
    assert node._repr_latex_() == rf"$\displaystyle {expected}$"


def test_shared_subexpression_is_bound_once():
    h = sg.sigmoid(W @ x + bias)
    assert sg.pretty(h * (1 - h)) == "t₁ = σ(W @ x + b)\nt₁ ⊙ (1 - t₁)"
    assert sg.latex(h * (1 - h)) == (r"\begin{aligned}t_{1} &= \sigma\left(W x + b\right) \\ "
                                     r"& t_{1} \odot \left(1 - t_{1}\right)\end{aligned}")


def test_several_outputs_share_bindings():
    h = sg.tanh(a * b)
    assert sg.pretty([h, h * c]) == "t₁ = tanh(a * b)\nt₁, t₁ * c"


def test_short_shared_pieces_stay_inline():
    assert sg.pretty(A.T @ A.T) == "Aᵀ @ Aᵀ"
    assert sg.pretty(a * a) == "a * a"


def test_gradient_prints_readably():
    h = sg.sigmoid(W @ x + bias)
    gW, gb = sg.grad(sg.sum(h * h), [W, bias])
    assert sg.pretty([gW, gb]) == ("t₁ = σ(W @ x + b)\n"
                                   "t₂ = 2 * t₁ ⊙ t₁ ⊙ (1 - t₁)\n"
                                   "outer(t₂, x), t₂")


def test_broadcast_is_implicit_under_elementwise_ops_only():
    M, v = sg.matrix("M", (3, 4)), sg.vector("v", 4)
    assert sg.pretty(sg.grad(sg.sum(M * v), v)) == "sum(M, axis=0)"
    spread = sg.broadcast_to(a, (3, 4))
    assert sg.pretty(M * spread) == "M * a"
    assert sg.pretty(sg.sum(spread, axis=0)) == "sum(full((3, 4), a), axis=0)"
    row = sg.broadcast_to(v, (3, 4))
    assert sg.pretty(sg.sum(row, axis=0)) == "sum(broadcast_to(v, shape=(3, 4)), axis=0)"


def test_a_broadcast_number_prints_as_the_uniform_array_it_is():
    """As the constant array ``simplify`` folds it to prints: the value list when
    small, else ``full``; so the gradient of a mean reads the same raw or simplified."""
    for shape, text in [((5,), "[0.2, 0.2, 0.2, 0.2, 0.2]"), ((200,), "full((200,), 0.005)"),
                        (("n",), "full((n,), 1 / n)")]:
        x = sg.tensor("x", shape)
        g = sg.grad(sg.mean(x), x)
        assert sg.pretty(g) == text == sg.pretty(sg.simplify(g))
    assert sg.latex(sg.broadcast_to(sg.constant(0.5), (2,))) == r"\begin{bmatrix}0.5 \\ 0.5\end{bmatrix}"


def test_keepdims_sum_reshaped_back_prints_as_plain_sum():
    M = sg.matrix("M", (3, 4))
    keep = sg.sum(M, axis=1, keepdims=True)
    assert sg.pretty(sg.reshape(keep, (3,))) == "sum(M, axis=1)"
    expected = "reshape(sum(M, axis=1, keepdims=True), shape=(1, 3))"
    assert sg.pretty(sg.reshape(keep, (1, 3))) == expected


def test_binding_names_avoid_input_names():
    t1 = sg.scalar("t_1")
    h = sg.exp(t1 + a)
    assert sg.latex(h * h).startswith(r"\begin{aligned}t_{1001} &= e^{t_{1} + a}")


def test_non_identifier_names_are_quoted_in_unicode():
    assert sg.pretty(sg.scalar("a b") + a) == "'a b' + a"


def test_unknown_op_falls_back_to_a_call():
    assert sg.pretty(sg.diag(x)) == "diag(x)"
    assert sg.latex(sg.diag(x)) == r"\operatorname{diag}\left(x\right)"


def _deep_chain(n):
    y = a
    for i in range(n):
        y = sg.sin(y) * 1.5 + a if i % 2 else sg.tanh(y)
    return y


def test_deep_chain_prints_in_linear_size():
    small, large = sg.pretty(_deep_chain(1000)), sg.pretty(_deep_chain(10000))
    assert 5 < len(large) / len(small) < 20
    assert max(len(line) for line in large.splitlines()) < 200
    assert len(sg.latex(_deep_chain(2000))) < 40 * 2000


# LaTeX validity ------------------------------------------------------------------------

HOSTILE = ["x_1", "x_", "_x", "a{b", "}{", "a\\b", "\\alpha", "$x$", "x^2", "50%", "#1", "a&b",
           "~", "a b", "tab\there", "new\nline", "α", "Σ", "λ_1", "ω", "日本", "x'", "{}",
           "\\",
           "^", "_", "e\u0301", "\x00", "W_hidden", "sigma", "x__y", "\\left(", "\\end{aligned}"]


def _check_latex(text):
    """Structural LaTeX validity: balanced groups/delimiters/environments, no stray
    specials, and no atom with two superscripts or two subscripts."""
    depth, scripts, envs, lefts = 0, [], [], 0
    last = {"^": False, "_": False}
    tokens = re.findall(r"\\[A-Za-z]+|\\.|.", text, re.S)
    for i, tok in enumerate(tokens):
        if tok in ("$", "%", "#", "~"):
            raise AssertionError(f"unescaped {tok!r} in {text!r}")
        if tok == "&":
            assert envs, f"& outside an environment in {text!r}"
        if tok == "{":
            depth += 1
            scripts.append(dict(last))
            continue
        if tok == "}":
            depth -= 1
            assert depth >= 0, f"unbalanced braces in {text!r}"
            last = scripts.pop()
            continue
        if tok in ("^", "_"):
            assert not last[tok], f"double {tok} in {text!r}"
            last[tok] = True
            continue
        if tok in (r"\left", r"\right"):
            lefts += 1 if tok == r"\left" else -1
            assert lefts >= 0, f"unbalanced \\left/\\right in {text!r}"
        if tok in (r"\begin", r"\end"):
            name = re.match(r"\{(\w+)\}", "".join(tokens[i + 1:i + 20])).group(1)
            if tok == r"\begin":
                envs.append(name)
            else:
                assert envs.pop() == name
        if not tok.isspace() and tok not in ("^", "_"):
            previous = tokens[i - 1] if i else ""
            if previous not in ("^", "_"):
                last = {"^": False, "_": False}
    assert depth == 0 and lefts == 0 and not envs, f"unbalanced {text!r}"


def test_checker_rejects_invalid_latex():
    for bad in ["A^{T}^{-1}", "x_{0}_{1}", "{a", "a}", r"\left(a", "50%", "a & b", "$x$"]:
        with pytest.raises(AssertionError):
            _check_latex(bad)
    _check_latex(r"A^{T}_{0} + \left(A^{T}\right)^{-1} + \{x\}")


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_latex_escapes_hostile_names(name):
    v = sg.scalar(name)
    M = sg.matrix(name + "M", (name, name))
    for node in [v, v * v + 1, sg.exp(v) ** 2, sg.inv(M).T[0], sg.sum(M) / sg.trace(M),
                 sg.mean(M) * sg.logdet(M @ M.T)]:
        text = sg.latex(node)
        _check_latex(text)
        assert "\n" not in text and "\t" not in text


def test_latex_names_read_naturally():
    cases = {"x": "x", "x1": "x_{1}", "x_12": "x_{12}", "W_hidden": r"W_{\mathrm{hidden}}",
             "sigma": r"\sigma", "lr": r"\mathrm{lr}", "a{b": r"\mathrm{a\{b}",
             "α": r"\mathrm{\alpha{}}", "λ_1": r"\mathrm{\lambda{}\_1}",
             "x^2": r"\mathrm{x\wedge{}2}", "a\\b": r"\mathrm{a\backslash{}b}"}
    for name, expected in cases.items():
        assert sg.latex(sg.scalar(name)) == expected
