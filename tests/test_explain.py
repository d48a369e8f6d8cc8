"""sg.explain: the seed notes' worked example, and paths summing to the gradient."""
import importlib.util
import pathlib

import numpy as np
import pytest

import symgrad as sg

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_example():
    path = ROOT / "examples" / "explain_backprop.py"
    spec = importlib.util.spec_from_file_location("explain_backprop", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def net(example):
    return example.seed_network()


def by_hand(example):
    """The seed network's forward values and gradients, backprop written out in NumPy."""
    W1, x = np.array(example.W1_VALUES), np.array(example.X_VALUES)
    W2, y = np.array(example.W2_VALUES), np.array(example.Y_VALUES)
    a1 = W1 @ x
    h1 = 1 / (1 + np.exp(-a1))
    a2 = W2 @ h1
    p = np.exp(a2) / np.exp(a2).sum()
    d_a2 = (np.diag(p) - np.outer(p, p)) @ (-2 * (y - p))
    d_a1 = (W2.T @ d_a2) * h1 * (1 - h1)
    return dict(a1=a1, h1=h1, a2=a2, yhat=p, L=np.sum((y - p) ** 2),
                dW2=np.outer(d_a2, h1), dW1=np.outer(d_a1, x))


def explain(net, wrt, index):
    n = net["nodes"]
    return sg.explain(n["L"], n[wrt], net["at"], index=index, names=net["names"])


def test_forward_values_are_the_notes(net):
    report, n = explain(net, "W2", (0, 1)), net["nodes"]
    np.testing.assert_allclose(report.forward[n["a1"]], [2.9, 1.4, 2.1, 2.3], atol=1e-12)
    np.testing.assert_array_equal(np.round(report.forward[n["h1"]], 2), [0.95, 0.80, 0.89, 0.91])
    np.testing.assert_array_equal(np.round(report.forward[n["a2"]], 2), [1.66, 0.45])
    np.testing.assert_array_equal(np.round(report.forward[n["yhat"]], 2), [0.77, 0.23])
    assert abs(report.value - 0.1058) < 1e-4  # the notes square the rounded 0.23


def test_gradient_and_adjoints_match_hand_backprop(example, net):
    hand, n = by_hand(example), net["nodes"]
    for wrt, key in [("W2", "dW2"), ("W1", "dW1")]:
        report = explain(net, wrt, None)
        np.testing.assert_allclose(report.gradient, hand[key], rtol=1e-12)
        assert report.paths is None and report.total is None
    np.testing.assert_allclose(report.adjoints[n["W2"]], hand["dW2"], rtol=1e-12)
    np.testing.assert_allclose(report.adjoints[n["L"]], 1.0)
    for name in ("a1", "h1", "a2", "yhat"):
        np.testing.assert_allclose(report.forward[n[name]], hand[name], rtol=1e-12)
    # values may also be looked up by input or display name
    np.testing.assert_array_equal(report.forward["a1"], report.forward[n["a1"]])
    np.testing.assert_array_equal(report.adjoints["W2"], report.adjoints[n["W2"]])
    with pytest.raises(KeyError):
        report.forward["nope"]


def test_w212_notes_single_path_and_the_missing_one(example, net):
    report, n = explain(net, "W2", (0, 1)), net["nodes"]
    notes = example.lecture_factors(report, [(n["yhat"], (0,)), (n["a2"], (0,)), (n["W2"], (0, 1))])
    assert [round(notes[0], 2), round(notes[1], 4), round(notes[2], 1)] == [-0.46, 0.1771, 0.8]
    assert round(float(np.prod(notes)), 3) == -0.065
    assert len(report.paths) == 2
    via = {p.nodes[2].index: p for p in report.paths}  # the ŷ entry each path goes through
    assert [str(e) for e in via[(0,)].nodes[:3]] == ["W2[0, 1]", "a2[0]", "ŷ[0]"]
    assert via[(0,)].product == pytest.approx(np.prod(notes), rel=1e-12)
    assert round(via[(1,)].product, 3) == -0.065  # the path through ŷ2 the notes leave out
    assert report.total == pytest.approx(report.gradient[0, 1], rel=1e-12)
    assert round(report.total, 3) == -0.131
    for path in report.paths:
        assert path.nodes[-1].node is n["L"] and len(path.factors) == len(path.nodes) - 1
        assert path.product == pytest.approx(np.prod(path.factors))


def test_w131_notes_two_paths_and_the_complete_four(example, net):
    report, n = explain(net, "W1", (2, 0)), net["nodes"]
    below = [(n["h1"], (2,)), (n["a1"], (2,)), (n["W1"], (2, 0))]

    def lecture(i, j):
        factors = example.lecture_factors(report, [(n["yhat"], (i,)), (n["a2"], (j,))] + below)
        return factors, float(np.prod(factors))

    factors, path1 = lecture(0, 0)
    assert [round(f, 4) for f in factors[:3]] == [-0.4601, 0.1771, 0.2]
    assert factors[4] == 2.0
    # the notes round h13 to 0.89 (h13 (1 - h13) = 0.0979, exactly 0.0972): ~1 % off
    assert round(factors[3], 2) == round(0.0979, 2)
    _, path2 = lecture(1, 1)
    assert path1 == pytest.approx(-0.003190, rel=0.01)
    assert path2 == pytest.approx(0.004785, rel=0.01)
    assert path1 + path2 == pytest.approx(0.001595, rel=0.01)
    assert len(report.paths) == 4
    products = sorted(p.product for p in report.paths)
    assert products == pytest.approx(sorted([path1, path2, lecture(1, 0)[1], lecture(0, 1)[1]]))
    assert report.total == pytest.approx(report.gradient[2, 0], rel=1e-12)
    assert report.total == pytest.approx(2 * (path1 + path2), rel=1e-9)


def test_report_table_shows_values_paths_and_total(net):
    text = str(explain(net, "W2", (0, 1)))
    assert "W2[0, 1] -> a2[0] -> ŷ[0]" in text and "W2[0, 1] -> a2[0] -> ŷ[1]" in text
    assert "[2.9 1.4 2.1 2.3]" in text and "2 path(s)" in text
    assert "sum over paths = -0.130764 = gradient[0, 1] = -0.130764" in text


def test_example_prints_the_seed_numbers(example, capsys):
    example.main()
    out = capsys.readouterr().out
    assert "(-0.4601) * (0.1771) * (0.8022) = -0.06538" in out
    assert "complete dL/dw212 = -0.06538 + -0.06538 = -0.1308" in out
    assert "the notes' sum = 0.001584" in out and "complete dL/dw131" in out


# General graphs ------------------------------------------------------------------

def test_shared_weight_broadcast_and_repeated_operand(rng):
    w, x = sg.scalar("w"), sg.vector("x", 3)
    u = w * x + w
    cost = sg.sum(sg.tanh(u) * sg.tanh(u)) + w * w
    at = {"w": 0.3, x: rng.standard_normal(3)}
    report = sg.explain(cost, w, at, index=())
    t = np.tanh(0.3 * at[x] + 0.3)
    expected = np.sum(2 * t * (1 - t ** 2) * (at[x] + 1)) + 0.6
    assert report.gradient == pytest.approx(expected, rel=1e-12)
    assert report.total == pytest.approx(expected, rel=1e-12)
    # two paths into each u[i] (via w*x and via +w), one through w*w
    assert len(report.paths) == 2 * 3 + 1


def test_zero_local_derivatives_carry_no_path(rng):
    x = sg.vector("x", 4)
    report = sg.explain(sg.sum(sg.relu(x) * 3.0), x, {x: [1.0, -2.0, 0.5, -0.1]}, index=1)
    assert report.paths == [] and report.total == 0.0 == report.gradient[1]
    report = sg.explain(sg.sum(sg.relu(x) * 3.0), x, {x: [1.0, -2.0, 0.5, -0.1]}, index=-2)
    assert len(report.paths) == 1 and report.total == 3.0


def test_explain_errors(net):
    n = net["nodes"]
    with pytest.raises(ValueError, match="needs values for the inputs \\['y'\\]"):
        sg.explain(n["L"], n["W2"], {k: v for k, v in net["at"].items() if k is not n["y"]})
    with pytest.raises(ValueError, match="'z'"):
        sg.explain(n["L"], n["W2"], {**net["at"], "z": 1.0})
    with pytest.raises(IndexError, match="W2"):
        sg.explain(n["L"], n["W2"], net["at"], index=(2, 0))
    with pytest.raises(ValueError, match="scalar cost"):
        sg.explain(n["a2"], n["W2"], net["at"])
    with pytest.raises(ValueError, match="does not depend"):
        sg.explain(n["L"], sg.vector("q", 2), net["at"])
