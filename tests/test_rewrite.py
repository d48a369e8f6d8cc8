"""sg.simplify: every rule fires on its example and preserves values; the
closed forms reach their node-count targets; simplify never grows a graph."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.ir.graph import REGISTRY, inputs_of
from symgrad.check.numeric import bind_sizes, random_inputs
from symgrad.check.sampling import choose_sizes, draw_point, infer_domains
from symgrad.ops.linalg import TINY
from symgrad.rewrite import COMPACT_RULESETS, P, Rule, RuleSet, match, rewrite

n = "n"
A, B, X = sg.matrix("A", (n, n)), sg.matrix("B", (n, n)), sg.matrix("X", (n, n))
R = sg.matrix("R", (2, 3))
x, y, z = sg.vector("x", n), sg.vector("y", n), sg.vector("z", n)
v = sg.vector("v", 3)
s, t = sg.scalar("s"), sg.scalar("t")
labels = sg.vector("labels", "b", dtype="int64")
K = A @ A.T + 2.0 * sg.eye(n)
e = sg.exp(x)
T3 = sg.tensor("T3", (2, n, n))
nrm = sg.norm(x)
cofactor = REGISTRY["cofactor"]

#: Domains of the inputs (default: standard normal); sizes: n=2.., k, b bound by bind_sizes.
DOMAINS = {"A": "wellcond", "B": "wellcond"}


def values(inputs, rng, sizes):
    domains = {node: DOMAINS.get(node.name, "real") for node in inputs}
    domains.update({node: "labels:4" for node in inputs if node.name == "labels"})
    return random_inputs(inputs, rng, sizes, domains)


def assert_same_values(before, after, rng, trials=3):
    """Compile both graphs with sg.function and compare them on random inputs."""
    inputs = inputs_of([before, after])
    sizes = bind_sizes([before, after], base=2)
    f, g = sg.function(inputs, before), sg.function(inputs, after)
    for _ in range(trials):
        args = values(inputs, rng, sizes)
        np.testing.assert_allclose(g(*args), f(*args), rtol=1e-9, atol=1e-10)


# One example per rule: the rule must fire on it (at the root) and keep values.
EXAMPLES = {
    "fold constants": sg.exp(sg.constant([1.0, 2.0])),
    "int constants in float arithmetic are floats": 3 * x,
    "x + 0 = x": REGISTRY["add"](v, sg.zeros((2, 3))),
    "x - 0 = x": REGISTRY["subtract"](v, sg.zeros((2, 3))),
    "0 - x = -x": REGISTRY["subtract"](sg.zeros((2, 3)), v),
    "x * 1 = x": v * np.ones((2, 3)),
    "x / 1 = x": v / np.ones((2, 3)),
    "x ** 1 = x": v ** np.ones((2, 3)),
    "x * -1 = -x": R * sg.constant(-np.ones((2, 3))),
    "0 * x = 0": R * 0.0,
    "0 / x = 0  (x != 0)": 0.0 / e,
    "linear(0) = 0": A @ sg.zeros((n, 3)),
    "reshape(broadcast(s)) = broadcast(s)": sg.reshape(sg.broadcast_to(s, (2, 3)), (3, 2)),
    "broadcast(broadcast(x)) = broadcast(x)":
        sg.broadcast_to(sg.broadcast_to(v, (2, 3)), (4, 2, 3)),
    "drop broadcast under elementwise op": sg.broadcast_to(s, (2, 3)) * R,
    "op(-x, y) = -op(x, y)  (op linear)": (-A) @ B,
    "-(c x) = (-c) x": -(sg.constant(2) * R),  # an int c (a float one is folded when built)
    "(-x) - y = -(x + y)": -x - y,
    "x + (-y) = x - y": x + -s,  # of one shape, folded when built
    "x - (-y) = x + y": x - -s,
    "-(x - y) = y - x": -(x - y),
    "x s = s x": R * s,
    "x - x = 0": R - R,
    "s x + x = (s + 1) x": s * R + R,
    "s x + t x = (s + t) x": s * R + t * R,
    "s x - t x = (s - t) x": s * R - t * R,
    "x y + x z = x (y + z)": x * y + x * z,
    "x y - x z = x (y - z)": x * y - x * z,
    "s (t X) = (s t) X": s * (t * R),
    "x / c = (1/c) x": R / 4.0,
    "op(s X) = s op(X)  (op linear)": sg.sum(s * R, axis=0),
    "x (y / x) = y  (x != 0)": e * (y / e),
    "x (y/x - z) = y - x z  (x != 0)": e * (y / e - z),
    "x (y/x + z) = y + x z  (x != 0)": e * (y / e + z),
    "x (z - y/x) = x z - y  (x != 0)": e * (z - y / e),
    "Sᵀ = S  (S symmetric)": sg.inv(K).T,
    "(A B)ᵀ = Bᵀ Aᵀ  (no new node)": (A.T @ B.T @ K).T,  # (Aᵀ B)ᵀ folds when built
    "(A ± B)ᵀ = Aᵀ ± Bᵀ  (no new node)": (A.T + B).T,
    "Aᵀ + A = A + Aᵀ": A.T + A,
    "x S = S x  (x a vector, S symmetric)": x @ K,
    "B (x M) = B (Mᵀ x)  (x a vector)": B @ (x @ A),
    # of plain matrices the sums are factored when built (add's fold): products here
    "x A + B x = (B + Aᵀ) x  (x a vector)": x @ (A @ B) + (B @ A) @ x,
    "z + x A + B x = z + (B + Aᵀ) x  (x a vector)": y + x @ (A @ B) + (B @ A) @ x,
    "z + B x + x A = z + (B + Aᵀ) x  (x a vector)": y + (B @ A) @ x + x @ (A @ B),
    "A A⁻¹ = I": A @ sg.inv(A),
    "solve(A, x) + solve(A, y) = solve(A, x + y)": sg.solve(A, x) + sg.solve(A, y),
    "solve(A, x) - solve(A, y) = solve(A, x - y)": sg.solve(A, x) - sg.solve(A, y),
    "(-c) x + y = y - c x  (c > 0)": -2.0 * x + y,
    "y - (-c) x = y + c x  (c > 0)": x - (-2.0) * y,
    "solve(A, A) = I": sg.solve(A, A),
    "solve(S, Bᵀ)ᵀ = B S⁻¹  (S symmetric)": sg.solve(K, B.T).T,
    "A⁻ᵀ Aᵀ = I": sg.inv(A).T @ A.T,
    "Aᵀ A⁻ᵀ = I": A.T @ sg.inv(A).T,
    "A (B C) = (A B) C  (A, C square)": A @ (B @ X),
    "Σ cᵢ tᵢ: equal terms merged": x - y + 2.0 * x - sg.exp(y) + y,
    "cof(A⁻¹) = det(A⁻¹) Aᵀ": cofactor(sg.inv(A)),
    "cof(P) = det(P) P⁻¹  (P SPD)": cofactor(K),
    "solve(A, A⁻¹) = A⁻¹ A⁻¹": sg.solve(A, sg.inv(A)),
    "-(A (x - y)) = A (y - x)": -(A @ (x - y)),
    "-((x - y) A) = (y - x) A": -((x - y) @ A),
    # a norm's guard cancels when built (multiply's fold): a t nonnegative by its facts
    "t (y / max(t, ε)) = y  (t ≥ 0)": sg.sqrt(nrm) * (y / sg.maximum(sg.sqrt(nrm), TINY)),
    "(s t)(y / max(t, ε)) = s y  (t ≥ 0)": (s * sg.sqrt(nrm)) * (y / sg.maximum(sg.sqrt(nrm), TINY)),
    "x / x = 1  (x != 0)": e / e,
    "(y - 1) σ(t) + y σ(-t) = y - σ(t)": (y - 1.0) * sg.sigmoid(x) + y * sg.sigmoid(-x),
    "(1 - y) σ(t) - y σ(-t) = σ(t) - y": (1.0 - y) * sg.sigmoid(x) - y * sg.sigmoid(-x),
    "reshape(sum(x, axis), kept shape) = sum(x, axis, keepdims=True)":
        sg.reshape(sg.sum(R, axis=1), (2, 1)),
    "Aᵀ Bᵀ = (B A)ᵀ": A.T @ B.T,
    "det(Aᵀ) = det(A)": sg.det(A.T),
    "logdet(Aᵀ) = logdet(A)": sg.logdet(A.T),
    "tr(Aᵀ) = tr(A)": sg.trace(A.T),
    "tr(x yᵀ) = yᵀ x": sg.trace(sg.outer(x, y)),
    "tr(Aᵀ Bᵀ) = tr(B A)": sg.trace(A.T @ B.T),
    "sum(A ⊙ I) = tr(A)": sg.sum(A * sg.eye(n)),
    "tr(x yᵀ A) = yᵀ A x": sg.trace(sg.outer(x, y) @ A),
    "tr(A x yᵀ) = yᵀ A x": sg.trace(A @ sg.outer(x, y)),
    "inv(inv(A)) = A": sg.inv(sg.inv(A)),
    "logdet(inv(A)) = -logdet(A)": sg.logdet(sg.inv(K)),
    "A x + A y = A (x + y)": A @ x + A @ y,
    "A x - A y = A (x - y)": A @ x - A @ y,
    "x A + y A = (x + y) A": x @ A + y @ A,
    "x A - y A = (x - y) A": x @ A - y @ A,
    "exp(log_softmax(x)) = softmax(x)": sg.exp(sg.log_softmax(x)),
    "inv(A) B = solve(A, B)": sg.inv(A) @ B,
}
ALL_RULES = {rule.name: rule for ruleset in COMPACT_RULESETS for rule in ruleset}

# Near misses: each rule must not fire here (its guard, or the pattern's repeated name, is
# false), and the value is kept by simplify all the same. Rules without a ``when`` whose
# builder declines (no new node, already in order):
NEAR_MISSES = {
    "(A B)ᵀ = Bᵀ Aᵀ  (no new node)": [(A @ B).T],               # two new transposes
    "(A ± B)ᵀ = Aᵀ ± Bᵀ  (no new node)": [(A + B).T],
    "Aᵀ + A = A + Aᵀ": [A + A.T],                                 # already in order
}


def _guard_cases():
    """{guarded rule name: [nodes its pattern matches and its ``when`` rejects]} (issue 15,
    item 28: e.g. a mutant softmax rule keeping only the first of several axes)."""
    s, t, y, z = (sg.scalar(n) for n in "styz")
    x, k = sg.scalar("x"), sg.scalar("k", dtype="int64")
    u, w = sg.vector("u", 3), sg.vector("w", 3)
    A, B, C = (sg.matrix(n, (3, 3)) for n in "ABC")
    R, col = sg.matrix("R", (2, 3)), sg.matrix("col", (3, 1))
    S = sg.matrix("S", (3, 3), symmetric=True)
    stack = sg.tensor("T", (2, 3, 3))
    labels = sg.vector("labels", 4, dtype="int64")
    cofactor, linalg = REGISTRY["cofactor"], REGISTRY["inv"]
    tiny = np.finfo(np.float64).tiny
    return {
        "0 / x = 0  (x != 0)": [0.0 / x],
        "(-c) x + y = y - c x  (c > 0)": [2.0 * x + y],
        "y - (-c) x = y + c x  (c > 0)": [x - 2.0 * y],
        "s x + x = (s + 1) x": [s * k + k],
        "s x + t x = (s + t) x": [s * k + t * k, 1e308 * x + 1.5e308 * x],
        "s x - t x = (s - t) x": [s * k - t * k, 1e308 * x - (-1.5e308) * x],
        "s (t X) = (s t) X": [s * (t * x), 1e200 * (1e200 * u)],
        "x / c = (1/c) x": [k / 4.0, x / 1e-310],
        "t (y / max(t, ε)) = y  (t ≥ 0)": [t * (y / sg.maximum(t, tiny))],
        "(s t)(y / max(t, ε)) = s y  (t ≥ 0)": [(s * t) * (y / sg.maximum(t, tiny))],
        "x / x = 1  (x != 0)": [x / x],
        "x (y / x) = y  (x != 0)": [x * (y / x)],
        "x (y/x - z) = y - x z  (x != 0)": [x * (y / x - z)],
        "x (y/x + z) = y + x z  (x != 0)": [x * (y / x + z)],
        "x (z - y/x) = x z - y  (x != 0)": [x * (z - y / x)],
        "Sᵀ = S  (S symmetric)": [A.T],
        "B (x M) = B (Mᵀ x)  (x a vector)": [B @ (A @ u), w @ (u @ A)],  # x, B not both
        "x S = S x  (x a vector, S symmetric)": [u @ A, R @ S],
        "sum(A ⊙ I) = tr(A)": [sg.sum(sg.matrix("row", (1, 3)) * sg.eye(3))],
        "x A + B x = (B + Aᵀ) x  (x a vector)": [C @ A + B @ C],
        "z + x A + B x = z + (B + Aᵀ) x  (x a vector)": [(B + C @ A) + A @ C],
        "z + B x + x A = z + (B + Aᵀ) x  (x a vector)": [(B + A @ C) + C @ A],
        "solve(A, A) = I": [sg.solve(stack, stack)],
        "solve(S, Bᵀ)ᵀ = B S⁻¹  (S symmetric)": [sg.solve(A, R.T).T],
        "A (B C) = (A B) C  (A, C square)": [R @ (A @ B), A @ (B @ R.T), A @ (u @ B)],
        "cof(A⁻¹) = det(A⁻¹) Aᵀ": [cofactor(linalg(stack))],
        "cof(P) = det(P) P⁻¹  (P SPD)": [cofactor(A), cofactor(S)],
        "solve(A, A⁻¹) = A⁻¹ A⁻¹": [sg.solve(A, linalg(B))],
        "A x + A y = A (x + y)": [A @ u + A @ col],
        "A x - A y = A (x - y)": [A @ u - A @ col],
        "solve(A, x) + solve(A, y) = solve(A, x + y)": [sg.solve(A, u) + sg.solve(A, col)],
        "solve(A, x) - solve(A, y) = solve(A, x - y)": [sg.solve(A, u) - sg.solve(A, col)],
        "x A + y A = (x + y) A": [u @ A + R @ A],
        "x A - y A = (x - y) A": [u @ A - R @ A],
        "inv(A) B = solve(A, B)": [linalg(A) @ linalg(A)],
    }


#: Guarded rules whose pattern implies the guard: ``matmul`` is 2-d (a stack is an einsum)
#: and ``inv`` square, so ``_square`` cannot be false where the pattern matches. Checked
#: below on stacks, the only place it could be: the pattern does not match there.
_GUARD_IMPLIED_BY_PATTERN = {
    "A A⁻¹ = I": lambda T: T @ sg.linalg.inv(T),
    "A⁻ᵀ Aᵀ = I": lambda T: sg.linalg.inv(T).T @ T.T,
    "Aᵀ A⁻ᵀ = I": lambda T: T.T @ sg.linalg.inv(T).T,
}


GUARDED = {name: rule for name, rule in ALL_RULES.items() if rule.when is not None}
NEAR_MISSES.update(_guard_cases())


def test_every_guarded_rule_has_a_near_miss():
    """A new guarded rule needs a case in _guard_cases (where its guard is false)."""
    assert sorted([*_guard_cases(), *_GUARD_IMPLIED_BY_PATTERN]) == sorted(GUARDED)


@pytest.mark.parametrize("name", sorted(_GUARD_IMPLIED_BY_PATTERN))
def test_guards_implied_by_their_pattern(name):
    """On a stack of matrices (3, 3, 3) the product is not the pattern's matmul, and
    simplify keeps the value (not an identity of the wrong shape)."""
    T = sg.tensor("T", (3, 3, 3))
    node = _GUARD_IMPLIED_BY_PATTERN[name](T)
    assert GUARDED[name].match(node, {}) is None
    value = np.random.default_rng(2).standard_normal((3, 3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(sg.function([T], sg.simplify(node))(value),
                               sg.function([T], node, optimize=False)(value), rtol=1e-9)


def _domain_point(node, seed=0):
    """Values for the node's inputs, each drawn from the domain its consumers need."""
    rng = np.random.default_rng(seed)
    return draw_point(infer_domains([node]), choose_sizes([node], rng), rng)


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_rule_does_not_fire_where_its_guard_is_false(name):
    """A guarded rule's pattern matches and its guard says no; no rule applies; and
    ``simplify`` of the node computes what the node as written computes."""
    rule = ALL_RULES[name]
    for node in NEAR_MISSES[name]:
        if rule.when is not None:
            bindings = rule.match(node, {})
            assert bindings is not None, f"{name}: the case {node} does not match the pattern"
            assert not rule.when(bindings), f"{name}: the guard holds at {node}"
        assert rule.apply(node) is None
        point = _domain_point(node)
        inputs = list(point)
        with np.errstate(all="ignore"):
            expected = sg.function(inputs, node, optimize=False)(*point.values())
            got = sg.function(inputs, sg.simplify(node), optimize=False)(*point.values())
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name}: {node}")


def test_every_rule_has_an_example():
    assert sorted(ALL_RULES) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_fires_and_preserves_values(name, rng):
    expr = EXAMPLES[name]
    result = ALL_RULES[name].apply(expr)
    assert result is not None, f"{name} did not fire on {expr}"
    assert result.shape == expr.shape and result.dtype == expr.dtype
    assert_same_values(expr, result, rng)
    simplified = sg.simplify(expr)
    assert sg.op_count(simplified) <= sg.op_count(expr)
    assert_same_values(expr, simplified, rng)


# Engine -------------------------------------------------------------------------------

def test_patterns_bind_consistently_and_commute():
    a, b = P.var("a"), P.var("b")
    multiply, matmul = sg.REGISTRY["multiply"], sg.REGISTRY["matmul"]
    assert match(P(multiply, a, a), x * x, {}) == {"a": x}
    assert match(P(multiply, a, a), x * y, {}) is None
    assert match(P(multiply, P.scalar("s"), b), R * s, {}) == {"s": s, "b": R}
    assert match(P(matmul, a, b), R * s, {}) is None
    with pytest.raises(TypeError, match="op record"):
        P("matmul", a, b)  # ops are records, never names


def test_rule_cycle_terminates():
    swap = Rule("swap", P(sg.REGISTRY["add"], P.var("a"), P.var("b")), lambda a, b: b + a)
    assert rewrite(x + y, [RuleSet("cycle", [swap])]) in (x + y, y + x)


def test_results_are_interned_so_is_compares():
    assert sg.simplify(x + x) is 2.0 * x
    assert sg.simplify(sg.inv(K).T) is sg.inv(K)
    assert sg.simplify([R - R, s * R + R]) == [sg.zeros((2, 3)), (s + 1.0) * R]
    assert isinstance(sg.simplify((R - R,)), list)


def test_deep_chain_is_iterative():
    total = x
    for i in range(3000):
        total = total + x * float(i % 3)
    simplified = sg.simplify(total)
    assert sg.op_count(simplified) <= sg.op_count(total)
    assert simplified.shape == x.shape


def test_large_graph_simplifies(rng):
    """A 10^4-node graph (timing is measured in benchmarks, not asserted here)."""
    W = sg.matrix("W", (n, n))
    h, layers = x, []
    for _ in range(500):
        h = sg.tanh(W @ h + 0.0 * h) * 1.0
        layers.append(h)
    cost = sg.sum(h)
    g = sg.grad(cost, W)
    assert sg.op_count(g) > 5000
    simplified = sg.simplify(g)
    assert sg.op_count(simplified) < sg.op_count(g)


# Closed forms and node-count targets ---------------------------------------------------

def check_target(before, after, limit, rng, expected=None):
    assert sg.op_count(after) <= limit, f"{sg.op_count(after)} op nodes:\n{after}"
    assert_same_values(before, after, rng)
    if expected is not None:
        assert after is expected


def test_logdet_gradient_target(rng):
    M = sg.matrix("M", (n, "m"))
    g = sg.scalar("g")
    gradient = sg.grad(-(g / 2) * sg.logdet(M @ M.T), M)
    check_target(gradient, sg.simplify(gradient), 6, rng, -(g * sg.solve(M @ M.T, M)))
    plain = sg.grad(sg.logdet(M @ M.T), M)
    check_target(plain, sg.simplify(plain), 6, rng, 2.0 * sg.solve(M @ M.T, M))


def test_logdet_gradient_and_the_inverse_form_share_a_normal_form():
    M = sg.matrix("M", (n, "m"))
    hand = 2 * sg.inv(M @ M.T) @ M
    assert sg.simplify(hand) is sg.simplify(sg.grad(sg.logdet(M @ M.T), M))


def test_logdet_gradient_matches_hand_derivation(rng):
    M = sg.matrix("M", (3, 2))
    f = sg.function([M], sg.simplify(sg.grad(sg.logdet(M @ M.T + sg.eye(3)), M)))
    value = rng.standard_normal((3, 2))
    expected = 2.0 * np.linalg.inv(value @ value.T + np.eye(3)) @ value
    np.testing.assert_allclose(f(value), expected, rtol=1e-10)


@pytest.mark.parametrize("naive", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_softmax_cross_entropy_target(naive, batched, rng):
    k = 4
    a = sg.matrix("a", ("b", k)) if batched else sg.vector("a", k)
    label = labels if batched else sg.scalar("labels", dtype="int64")
    log_p = sg.log(sg.softmax(a)) if naive else sg.log_softmax(a)
    gradient = sg.grad(-sg.sum(sg.one_hot(label, k) * log_p), a)
    expected = sg.softmax(a) - sg.one_hot(label, k)
    check_target(gradient, sg.simplify(gradient), 5, rng, expected)


def test_trace_product_target(rng):
    gradient = sg.grad(sg.trace(A @ X @ B), X)
    check_target(gradient, sg.simplify(gradient), 3, rng, A.T @ B.T)  # Cookbook (101)


@pytest.mark.parametrize("form", ["x@M@x", "x@(M@x)", "dot"])
def test_quadratic_form_target(form, rng):
    M = sg.matrix("M", (n, n))
    cost = {"x@M@x": x @ M @ x, "x@(M@x)": x @ (M @ x), "dot": sg.dot(x, M @ x)}[form]
    gradient = sg.grad(cost, x)
    check_target(gradient, sg.simplify(gradient), 4, rng)


def test_logsumexp_gradient_is_softmax(rng):
    gradient = sg.grad(sg.logsumexp(x), x)
    check_target(gradient, sg.simplify(gradient), 1, rng, sg.softmax(x))


@pytest.mark.parametrize("f, derivative", [
    (sg.sigmoid, lambda out: out * (1.0 - out)),
    (sg.tanh, lambda out: 1.0 - out * out),
])
def test_activation_derivatives_reuse_forward_node(f, derivative, rng):
    gradient = sg.grad(sg.sum(f(x)), x)
    check_target(gradient, sg.simplify(gradient), 3, rng, derivative(f(x)))


def test_sum_against_identity_is_a_trace_only_over_both_axes():
    assert sg.simplify(sg.sum(A * sg.eye(n))) is sg.trace(A)
    assert sg.simplify(sg.sum(A * sg.eye(n), axis=0)) is sg.sum(A * sg.eye(n), axis=0)
    row = sg.matrix("row", (1, n))
    assert sg.simplify(sg.sum(row * sg.eye(n))) is sg.sum(row * sg.eye(n))


def test_gaussian_process_gradient_is_symmetric_form(rng):
    """-(D/2) log|K| - ½ tr(K⁻¹ Y Yᵀ), K = A Aᵀ + s I: the two paths through A merge."""
    M, Y = sg.matrix("M", (n, "q")), sg.matrix("Y", (n, "d"))
    K = M @ M.T + sg.exp(s) * sg.eye(n)
    cost = -(t / 2) * sg.logdet(K) - 0.5 * sg.trace(sg.inv(K) @ Y @ Y.T)
    gradients = sg.grad(cost, [M, s])
    simplified = sg.simplify(gradients)
    assert sg.op_count(simplified) <= sg.op_count(gradients) - 5  # three folds are done when built
    assert simplified[0].op.name == "multiply"  # 2 * (...): one product, not a sum of two
    for before, after in zip(gradients, simplified):
        assert_same_values(before, after, rng)


def test_inverse_of_gram_plus_identity_is_not_transposed():
    s_pos = sg.exp(s)
    gram = A @ A.T + s_pos * sg.eye(n)
    assert sg.simplify(sg.inv(gram).T) is sg.inv(gram)
    assert sg.is_spd(gram) and sg.is_spd(sg.inv(gram))
    assert sg.simplify(sg.inv(A @ A.T + s * sg.eye(n)).T) is sg.inv(A @ A.T + s * sg.eye(n))


# simplify on whole gradients: never larger, same values ------------------------------

def _op_sample_cases():
    for name in sorted(REGISTRY):
        op = REGISTRY[name]
        if not op.differentiable:
            continue
        for k, sample in enumerate(op.samples()):
            yield pytest.param(name, k, id=f"{name}-{k}")


@pytest.mark.parametrize("name, k", list(_op_sample_cases()))
def test_simplified_op_gradients_keep_values(name, k, rng):
    from symgrad.ops import draw
    sample = REGISTRY[name].samples()[k]
    inputs = [sg.tensor(f"a{i}", spec.shape, _dtype(spec.domain))
              for i, spec in enumerate(sample.operands)]
    out = REGISTRY[name](*inputs, **sample.attrs)
    w = sg.tensor("w", out.shape)
    wrt = [node for node in inputs if node.dtype == "float64"]
    nodes = [out] + sg.grad(sg.sum(out * w), wrt)
    simplified = sg.simplify(nodes)
    assert sg.op_count(simplified) <= sg.op_count(nodes)
    assert sg.simplify(simplified) == simplified  # a fixpoint: simplify is idempotent
    sizes = bind_sizes(nodes, base=2)
    args = [draw(spec, rng, sizes) for spec in sample.operands]
    args.append(rng.standard_normal(tuple(sizes.get(d, d) for d in out.shape)))
    f = sg.function(inputs + [w], nodes)
    g = sg.function(inputs + [w], simplified)
    for got, want in zip(g(*args), f(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def _dtype(domain):
    return "bool" if domain == "bool" else "int64" if domain.startswith("labels") else "float64"


def _mlp(activation, batched):
    """The lecture's network: two hidden layers, softmax output, cross-entropy loss."""
    X = sg.matrix("X", ("b", n)) if batched else sg.vector("X", n)
    W1, W2, W3 = sg.matrix("W1", (n, n)), sg.matrix("W2", (n, n)), sg.matrix("W3", (4, n))
    b1, b2, b3 = sg.vector("b1", n), sg.vector("b2", n), sg.vector("b3", 4)
    h1 = activation(X @ W1.T + b1)
    h2 = activation(h1 @ W2.T + b2)
    a3 = h2 @ W3.T + b3
    label = labels if batched else sg.scalar("labels", dtype="int64")
    loss = -sg.sum(sg.one_hot(label, 4) * sg.log(sg.softmax(a3)))
    return loss, [W1, W2, W3, b1, b2, b3], a3, label


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("activation", [sg.sigmoid, sg.tanh, sg.relu])
def test_simplified_mlp_gradients(activation, batched, rng):
    loss, params, a3, label = _mlp(activation, batched)
    nodes = sg.grad(loss, params + [a3])
    simplified = sg.simplify(nodes)
    assert sg.op_count(simplified) <= sg.op_count(nodes)  # the closed form is built already
    assert nodes[-1] is sg.softmax(a3) - sg.one_hot(label, 4)
    # the closed form, with the forward logits in their simplified (W x + b) spelling
    assert simplified[-1] is sg.simplify(sg.softmax(a3) - sg.one_hot(label, 4))
    assert simplified[-1].op is REGISTRY["subtract"]
    for before, after in zip(nodes, simplified):
        assert_same_values(before, after, rng, trials=2)


def test_docs_examples_run():
    """docs/rewrites.md shows symgrad's actual output: its examples are doctests."""
    import doctest
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "docs" / "rewrites.md"
    result = doctest.testfile(str(path), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 20 and result.failed == 0


def test_diverging_rules_stop_at_the_budget(rng):
    grow = Rule("exp(x) -> exp(log(exp(x))) (grows forever)",
                P.var("x", lambda node: node.op.name == "exp"),
                lambda x: sg.exp(sg.log(x)))
    result = rewrite(sg.exp(x), [RuleSet("diverging", [grow])])
    assert_same_values(sg.exp(x), result, rng)
