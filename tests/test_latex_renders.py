"""LaTeX renders: KaTeX (a real TeX-math renderer, tests/katex) accepts the LaTeX of every
registry op's samples, of their gradients (as built and simplified), and of the printing
cases of issue 12. Every other LaTeX string the suite produces is rendered too, by the
hook in tests/conftest.py."""
import numpy as np
import pytest

import katex_render
import symgrad as sg
from strategies import sample_nodes

OPS = sorted((op for op in sg.REGISTRY.values() if op.samples()), key=lambda op: op.name)


@pytest.fixture(scope="module")
def renderer():
    reason = katex_render.unavailable()
    if reason is not None:
        if katex_render.REQUIRED:
            pytest.fail(f"SYMGRAD_REQUIRE_KATEX=1 but {reason}")
        pytest.skip(reason)
    renderer = katex_render.Renderer()
    yield renderer
    renderer.close()


def _assert_renders(renderer, strings):
    errors = renderer.errors(strings)
    assert not errors, katex_render.report(errors)


def test_the_renderer_rejects_what_tex_rejects(renderer):
    """The check can fail: double scripts, unbalanced groups, Unicode text in math."""
    bad = ["W_{1}_{0, 1}", "x^{2}^{3}", r"\left(x", "{x", r"\mathrm{é}", "x ⊙ y _"]
    assert set(renderer.errors(bad + ["W_{1}", r"{W_{1}}_{0}"])) == set(bad)


def _gradients(node):
    """The gradient of the node's sum with respect to its float operands, as built and
    simplified (empty for a non-differentiable op or a non-float result)."""
    wrt = [o for o in dict.fromkeys(node.operands) if o.dtype == "float64"]
    if not node.op.differentiable or node.dtype != "float64" or not wrt:
        return []
    grads = sg.grad(sg.sum(node), wrt)
    return [grads, sg.simplify(grads)]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_op_sample_and_its_gradient_renders(renderer, op):
    strings = []
    for node in sample_nodes(op, scalars=True):
        strings.append(sg.latex(node))
        strings.append(sg.latex(sg.simplify(node)))
        strings.extend(sg.latex(g) for g in _gradients(node))
    _assert_renders(renderer, strings)


def _issue_cases():
    """The printing cases of issue 12, item 3."""
    u, x, q = sg.vector("u", 3), sg.vector("x", 3), sg.vector("q", 3)
    C, D = sg.matrix("C", (3, 3)), sg.matrix("D", (3, 3))
    W1, t = sg.matrix("W_1", (3, 3)), sg.vector("t_1", 5)
    y, W = sg.vector("y", 3), sg.matrix("W", (3, 3))
    return [
        D.T @ (u @ C), (D.T @ u) @ C, sg.grad(sg.sum(u @ C @ (D @ x)), u),
        W1[0, 1], t[0:3], (W1 @ x)[1:], sg.exp(x)[0], W1.T[0],
        sg.where(sg.constant(np.array([True, False, True])), q, 0),
        sg.simplify(sg.constant(np.arange(9.0).reshape(3, 3)) @ x),
        sg.constant(np.ones((40, 40))) @ sg.vector("z", 40),
        sg.linalg.norm(x), sg.grad(sg.linalg.norm(x), x), 2 * sg.vector("v", 5),
        sg.grad(sg.sum((sg.tanh(W @ x) - y) ** 2), W), x > 0, sg.where(x > 0, x, -x),
    ]


def test_the_issue_cases_render(renderer):
    cases = _issue_cases()
    _assert_renders(renderer, [sg.latex(c) for c in cases]
                    + [sg.latex(sg.simplify(c)) for c in cases]
                    + [katex_render_math(c._repr_latex_()) for c in cases])


def katex_render_math(text):
    """Jupyter's ``$\\displaystyle …$`` as the math KaTeX renders."""
    assert text.startswith("$\\displaystyle ") and text.endswith("$"), text
    return text[len("$\\displaystyle "):-1]


def test_a_subscripted_base_is_grouped_before_indexing():
    W, t = sg.matrix("W_hidden", (3, 3)), sg.vector("t_1", 5)
    assert sg.latex(W[0, 1]) == r"{W_{\mathrm{hidden}}}_{0, 1}"
    assert sg.latex(t[0:3]) == r"{t_{1}}_{0:3}"
    assert sg.latex(sg.exp(t)[0]) == r"\left(e^{t_{1}}\right)_{0}"


def test_a_uniform_constant_is_a_number_only_under_an_elementwise_op():
    z, x, v = sg.vector("z", 40), sg.vector("x", 3), sg.vector("v", 5)
    assert str(sg.constant(np.ones((40, 40))) @ z) == "full((40, 40), 1) @ z"
    assert str(sg.constant(np.ones((3, 3))) @ x) == "[[1, 1, 1], [1, 1, 1], [1, 1, 1]] @ x"
    assert str(sg.constant(np.full(5, 2.0)) * v) == "2 * v"
    assert str(sg.constant(np.arange(40.0)) @ z) == "const(40) @ z"
    assert sg.latex(sg.constant(np.ones((40, 40))) @ z) == \
        r"\operatorname{full}\left(\left(40, 40\right), 1\right) z"


def test_non_ascii_names_print_as_text_or_question_marks():
    assert sg.latex(sg.scalar("e\u0301t\u00e9")) == r"\mathrm{\text{é}t\text{é}}"
    assert sg.latex(sg.scalar("日本")) == r"\mathrm{\text{日}\text{本}}"
    assert sg.latex(sg.scalar("x🙂ℵ")) == r"\mathrm{x??}"
