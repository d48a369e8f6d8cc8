"""The public surface: every ``sg.<name>`` that API.md mentions exists, is
exported in ``__all__``, and the small contracts stated there hold."""
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import symgrad as sg

API_MD = Path(__file__).resolve().parents[2] / "shared" / "API.md"

# The names of API.md, kept here too so a checkout without ../shared still tests them.
DOCUMENTED = """
abs check_grad codegen concatenate constant cos det diag dot equivalent exp explain eye
from_sympy function grad hessian hvp inv jacobian jvp latex log log1p log_softmax logdet
logsumexp matrix maximum mean norm one_hot outer pretty relu reshape scalar sigmoid simplify
sin softmax softplus solve sqrt sum tanh tensor to_dot to_networkx to_sympy trace transpose
vector where
""".split()


def api_names() -> list:
    if not API_MD.exists():
        return DOCUMENTED
    parsed = sorted(set(re.findall(r"\bsg\.([A-Za-z_]\w*)", API_MD.read_text())))
    assert set(parsed) <= set(DOCUMENTED), f"API.md gained names: {set(parsed) - set(DOCUMENTED)}"
    return parsed


@pytest.mark.parametrize("name", api_names())
def test_documented_name_exists_and_is_exported(name):
    assert hasattr(sg, name), f"sg.{name} is documented in API.md but missing"
    assert callable(getattr(sg, name))
    assert name in sg.__all__


def test_all_lists_only_real_names():
    missing = [name for name in sg.__all__ if not hasattr(sg, name)]
    assert not missing


def test_nodes_have_the_documented_attributes():
    W = sg.matrix("W", ("n", 3))
    assert W.shape == ("n", 3) and W.ndim == 2
    assert W.T.shape == (3, "n")
    assert isinstance(str(W @ sg.vector("x", 3)), str)
    assert W._repr_latex_().startswith("$")
    assert sg.constant(np.eye(2)).shape == (2, 2)
    assert sg.tensor("T", (2, "k", 4)).ndim == 3


def test_grad_returns_a_node_or_a_list_matching_wrt():
    x, y = sg.vector("x", 2), sg.scalar("y")
    cost = sg.sum(x) * y
    assert isinstance(sg.grad(cost, x), sg.Node)
    both = sg.grad(cost, [x, y])
    assert isinstance(both, list) and [g.shape for g in both] == [(2,), ()]


def test_function_has_source_and_codegen_is_text():
    x = sg.vector("x", 2)
    f = sg.function([x], sg.exp(x))
    assert isinstance(f, sg.Function) and "def f(x):" in f.source
    assert isinstance(sg.codegen([x], sg.exp(x), name="g"), str)
    assert "def g(x):" in sg.codegen([x], sg.exp(x), name="g")


def test_to_networkx_nodes_and_attributes():
    W, x = sg.matrix("W", ("n", "m")), sg.vector("x", "m")
    out = sg.sigmoid(W @ x)
    graph = sg.to_networkx(out)
    assert isinstance(graph, nx.DiGraph)
    assert graph.number_of_nodes() == len(sg.toposort([out])) == 4
    assert graph.nodes[out]["op"] == "sigmoid" and graph.nodes[out]["shape"] == ("n",)
    assert graph.has_edge(W, W @ x) and graph.has_edge(W @ x, out)
    assert nx.is_directed_acyclic_graph(graph)
