"""check_grad and equivalent: right derivations pass, wrong ones are located and
their slip named, misuse raises, and inputs are drawn from domains that work."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.ir.graph import Op
from symgrad.check.sampling import choose_sizes, draw_point, infer_domains, mismatch

A = sg.matrix("A", ("n", "n"))
R = sg.matrix("R", ("n", "m"))
C = sg.matrix("C", ("m", "n"))
M = sg.matrix("M", ("n", "n"))
x = sg.vector("x", "n")
s = sg.scalar("s")


# Right derivations ----------------------------------------------------------------

def gp_likelihood():
    Y = sg.matrix("Y", ("n", "d"))
    K = R @ R.T + s * sg.eye("n")
    cost = -0.5 * sg.constant(3.0) * sg.logdet(K) - 0.5 * sg.trace(sg.inv(K) @ Y @ Y.T)
    Ki = sg.inv(K)
    G = -3.0 * Ki + Ki @ Y @ Y.T @ Ki
    return cost, [R, s], [G @ R, 0.5 * sg.trace(G)]


CORRECT = {
    "logdet": lambda: (sg.logdet(A @ A.T), [A], [2 * sg.inv(A @ A.T) @ A]),
    "quadratic": lambda: (x @ M @ x, [x, M], [(M + M.T) @ x, sg.outer(x, x)]),
    "trace": lambda: (sg.trace(R @ C), [R, C], [C.T, R.T]),
    "gp": gp_likelihood,
    "mean-exp": lambda: (sg.mean(sg.exp(x)), [x],
                         [sg.exp(x) / sg.REGISTRY["dimsize"](dims=("n",))]),
}


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_hand_derivations_pass(case):
    cost, wrts, expected = CORRECT[case]()
    report = sg.check_grad(cost, wrts, expected)
    assert report.ok and bool(report), str(report)
    assert report.max_fd_error < 1e-5
    assert report.max_expected_error < 1e-8
    assert "OK" in str(report)


def test_softmax_cross_entropy_with_integer_labels():
    labels = sg.vector("labels", "b", dtype="int64")
    logits = sg.matrix("logits", ("b", "k"))
    cost = -sg.sum(sg.one_hot(labels, "k") * sg.log_softmax(logits))
    hand = sg.softmax(logits) - sg.one_hot(labels, "k")
    assert sg.check_grad(cost, logits, hand).ok


def test_gradient_with_respect_to_an_intermediate_node():
    h = sg.tanh(R)
    cost = sg.sum(h * h) + sg.sum(R)
    report = sg.check_grad(cost, h, expected=2 * h)
    assert report.ok, str(report)


def test_domains_keep_logs_and_factorizations_defined():
    y = sg.vector("y", "n")
    cost = (sg.sum(sg.log(y)) + sg.logdet(A) + sg.sum(sg.solve(M, y)) + sg.sum(sg.sqrt(y))
            + sg.log(s))
    domains = infer_domains([cost])
    assert domains[y] == "positive" and domains[A] == "posdet"
    assert domains[M] == "wellcond" and domains[s] == "positive"
    assert sg.check_grad(cost, [y, A, M, s]).ok


OP_CASES = [pytest.param(op, i, id=f"{op.name}-{i}")
            for op in sorted(sg.REGISTRY.values(), key=lambda op: op.name)
            if op.differentiable for i in range(len(op.samples()))]


@pytest.mark.parametrize("op,index", OP_CASES)
def test_every_op_passes_with_inferred_domains(op, index):
    """check_grad picks, from the graph alone, inputs at which every op is
    defined (log: positive, logdet: SPD, ...), so a right gradient passes."""
    sample = op.samples()[index]
    dtypes = ["bool" if spec.domain == "bool" else "int64" if spec.domain.startswith("labels")
              else "float64" for spec in sample.operands]
    inputs = [sg.tensor(f"x{i}", spec.shape, dtype)
              for i, (spec, dtype) in enumerate(zip(sample.operands, dtypes))]
    out = op(*inputs, **sample.attrs)
    cost = sg.sum(out * sg.tensor("weights", out.shape))
    report = sg.check_grad(cost, [x for x, d in zip(inputs, dtypes) if d == "float64"])
    assert report.ok, str(report)


def test_domain_passes_through_sums_and_products():
    K = R @ R.T + s * sg.eye("n")
    domains = infer_domains([sg.logdet(K) + sg.sum(sg.log(x * 2.0 + 1.0))])
    assert domains == {R: "real", s: "positive", x: "positive"}
    point = draw_point(domains, choose_sizes([K]), np.random.default_rng(0))
    assert np.all(point[x] > 0) and point[s] > 0


def test_an_unreachable_domain_is_reported_not_raised():
    report = sg.check_grad(sg.sum(sg.log(x - 50.0)), x)
    assert not report.ok
    assert "finite" in str(report)


# Wrong derivations: where and which slip -------------------------------------------

def test_missing_factor_two_from_the_two_paths():
    report = sg.check_grad(sg.logdet(A @ A.T), A, expected=sg.inv(A @ A.T) @ A)
    assert not report.ok and not report
    check = report["A"]
    assert check.finite_differences.ok and not check.expected.ok
    assert abs(check.expected.error - 0.5) < 1e-9  # half the gradient is missing
    assert "factor of 2 is missing" in check.expected.slip
    assert "A" in str(report) and "factor of 2" in str(report)


def test_sign_flip():
    report = sg.check_grad(sg.trace(R @ C), R, expected=-C.T)
    assert report.checks[0].expected.slip.startswith("sign flipped")


def test_transposed_square():
    report = sg.check_grad(sg.trace(A @ M), A, expected=M)
    assert "transposed" in report[0].expected.slip


def test_transposed_shape_is_a_slip_not_an_error():
    report = sg.check_grad(sg.trace(R @ C), R, expected=C)
    assert not report.ok
    assert "transposed" in report["R"].expected.slip
    assert report.max_expected_error == np.inf


def test_missing_symmetric_term_through_an_input():
    report = sg.check_grad(x @ M @ x, x, expected=M @ x)
    assert "missing the symmetric term" in report[0].expected.slip
    assert "M replaced by Mᵀ" in report[0].expected.slip


def test_missing_transpose_of_the_expected():
    report = sg.check_grad(sg.trace(M @ A) + sg.trace(M @ A.T), A, expected=M.T)
    assert "expected + expectedᵀ" in report[0].expected.slip


def test_factor_equal_to_a_dimension_is_pointed_out():
    report = sg.check_grad(sg.mean(sg.exp(x)), x, expected=sg.exp(x))
    slip = report[0].expected.slip
    assert "extra factor of 3" in slip and "dimension n" in slip


def test_worst_entry_is_located():
    W = sg.matrix("W", (3, 4))
    bump = np.zeros((3, 4))
    bump[1, 2] = 0.25
    report = sg.check_grad(0.5 * sg.sum(W * W), W, expected=W + bump)
    comparison = report["W"].expected
    assert comparison.index == (1, 2)
    assert comparison.reference - comparison.value == pytest.approx(0.25)
    assert "W[1, 2]" in str(report)
    assert comparison.slip is None  # not one of the known slips


def test_only_the_wrong_wrt_fails():
    report = sg.check_grad(x @ M @ x, [x, M], [(M + M.T) @ x, sg.outer(x, x).T * 2.0])
    assert report["x"].ok and not report["M"].ok
    assert "factor" in report["M"].expected.slip


#: x² with a wrong VJP (the 2 is missing); deliberately not registered.
BAD_SQUARE = Op("bad_square", infer=lambda v: (v.shape, "float64"), numpy="{0} * {0}",
                vjp=lambda g, out, v: [g * v])


def test_a_wrong_symbolic_rule_is_caught_by_finite_differences():
    report = sg.check_grad(sg.sum(BAD_SQUARE(x)), x)
    assert not report.ok
    assert not report[0].finite_differences.ok
    assert report.max_fd_error == pytest.approx(0.5)
    assert "wrong derivative rule" in str(report)


# Misuse raises ----------------------------------------------------------------------

def test_misuse_raises_naming_the_culprit():
    with pytest.raises(ValueError, match="scalar"):
        sg.check_grad(x, x)
    with pytest.raises(ValueError, match=r"shape \(n, n\)"):
        sg.check_grad(sg.sum(x), x, expected=A)
    with pytest.raises(ValueError, match="2 entries"):
        sg.check_grad(sg.sum(x), x, expected=[x, x])
    with pytest.raises(ValueError, match="1 entries but wrt has 2"):
        sg.check_grad(x @ M @ x, [x, M], expected=[x])
    with pytest.raises(TypeError, match="expected for 'x'"):
        sg.check_grad(sg.sum(x), x, expected="2*x")
    with pytest.raises(ValueError, match="trials"):
        sg.check_grad(sg.sum(x), x, trials=0)
    with pytest.raises(ValueError, match="rtol"):
        sg.check_grad(sg.sum(x), x, rtol=-1.0)


def test_expected_may_skip_a_wrt_and_be_a_number():
    report = sg.check_grad(3.0 * s + sg.sum(x), [s, x], expected=[3, None])
    assert report.ok and report["x"].expected is None


# equivalent ---------------------------------------------------------------------------

def test_equivalent_symbolic_through_the_simplifier():
    report = sg.equivalent((A @ M).T, M.T @ A.T)
    assert report and report.ok and report.method == "symbolic"


def test_equivalent_numeric_over_shapes():
    report = sg.equivalent(sg.trace(R @ C), sg.trace(C @ R))
    assert report.ok and report.method in ("symbolic", "numeric")
    assert sg.equivalent(sg.log(x * x), 2.0 * sg.log(x)).ok  # x drawn positive


def test_not_equivalent_is_falsy_with_a_reason():
    report = sg.equivalent(sg.trace(A @ M), sg.trace(A @ M.T))
    assert not report and report.method == "numeric"
    assert "differ" in str(report)


def test_identity_true_only_for_one_size_is_caught():
    report = sg.equivalent(sg.sum(x), 3.0 * sg.mean(x))  # equal exactly when n = 3
    assert not report.ok and report.method == "numeric"


def test_equivalent_misuse_raises():
    with pytest.raises(ValueError, match="bindings"):
        sg.equivalent(x, x, bindings=0)
    with pytest.raises(ValueError, match="rtol"):
        sg.equivalent(x, x, rtol=2.0)
    with pytest.raises(TypeError):
        sg.equivalent(x, "x")


def test_shapes_that_differ_are_not_equivalent():
    report = sg.equivalent(R, C)
    assert not report.ok and "shapes differ" in report.reason


def test_tolerance_is_relative_and_absolute():
    b = sg.scalar("b")
    assert sg.equivalent(1e12 * b + 1.0, 1e12 * b).ok  # relative to the scale
    assert not sg.equivalent(1e-3 * b, 1.1e-3 * b).ok  # small but different
    v = sg.vector("v", 4)
    rounding = sg.sum(v) - (v[3] + v[1] + v[0] + v[2])  # ~1e-16, truly zero
    assert sg.equivalent(rounding, sg.constant(0.0)).ok
    assert sg.equivalent(sg.exp(sg.log(x)), x).ok
    assert mismatch(np.array([1e-20, 1.0]), np.array([0.0, 1.0]))[0] == pytest.approx(1e-20)
    nan = np.array([np.nan, 1.0])
    assert mismatch(nan, nan)[0] == 0.0
    assert mismatch(nan, np.array([0.0, 1.0]))[0] == np.inf


def test_equivalent_proves_the_logdet_closed_form():
    K = A @ A.T
    report = sg.equivalent(sg.grad(sg.logdet(K), A), 2 * sg.inv(K) @ A)
    assert report.ok and report.method == "symbolic"
    assert not sg.equivalent(sg.grad(sg.logdet(K), A), sg.inv(K) @ A)


def test_equivalent_is_undecided_without_finite_points():
    report = sg.equivalent(sg.log(x - 50.0), 2.0 * sg.log(x - 50.0))
    assert not report.ok and "no random point" in report.reason


def test_check_grad_reports_evaluation_errors():
    huge = sg.constant(2.0) ** sg.constant(1e10)  # overflows when evaluated
    report = sg.check_grad(huge * s, s)
    assert not report.ok and report.problems


def test_a_zero_gradient_can_be_expected_as_a_number():
    assert sg.check_grad(sg.sum(x) + 0.0 * s, [x, s], expected=[1.0, 0]).ok
    assert not sg.check_grad(sg.sum(x * x), x, expected=0).ok


def test_with_a_wrong_rule_the_hand_derivation_is_judged_by_finite_differences():
    report = sg.check_grad(sg.sum(BAD_SQUARE(x)), x, expected=2.0 * x)
    assert not report[0].finite_differences.ok
    assert report[0].expected.ok  # the user's 2x is right
