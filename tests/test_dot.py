"""sg.to_dot: DOT text parsed back (nodes, edges, labels, styles) and rendering."""
import os
import re
import stat

import pytest

import symgrad as sg
from symgrad.autodiff.sweeps import derivative_nodes

NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
EDGE = re.compile(r'^  (n\d+) -> (n\d+);$')


def parse(dot: str):
    """({id: (label, attributes)}, [(source, target)]) from to_dot's output."""
    lines = dot.rstrip("\n").split("\n")
    assert lines[0].startswith("digraph ") and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[2:-1]:
        node, edge = NODE.match(line), EDGE.match(line)
        assert node or edge, f"unparsed DOT line: {line!r}"
        if node:
            nodes[node.group(1)] = (unescape(node.group(2)), node.group(3))
        else:
            edges.append(edge.groups())
    return nodes, edges


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def mlp():
    W, x = sg.matrix("W", (3, 2)), sg.vector("x", 2)
    cost = sg.sum(sg.tanh(W @ x) ** 2)
    return cost, W, sg.grad(cost, W)


def test_nodes_and_edges_match_the_networkx_graph():
    cost, W, g = mlp()
    graph = sg.to_networkx([cost, g])
    nodes, edges = parse(sg.to_dot([cost, g]))
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    assert all(s in nodes and t in nodes for s, t in edges)
    labels = sorted(label for label, _ in nodes.values())
    assert "W\n(3, 2)" in labels and "x\n(2,)" in labels and "tanh\n(3,)" in labels
    assert sorted(f"{d['label']}" for _, d in graph.nodes(data=True) if d["op"] == "input") == ["W", "x"]


def test_gradient_nodes_are_styled_apart():
    cost, W, g = mlp()
    graph = sg.to_networkx([cost, g])
    nodes, _ = parse(sg.to_dot([cost, g]))
    derived = [attrs for _, attrs in nodes.values() if "fillcolor=\"#fdd9b5\"" in attrs]
    marked = derivative_nodes([cost, g])
    expected = sum(1 for n in graph.nodes if n in marked and n.op.name != "constant")
    assert expected > 0 and len(derived) == expected
    forward_only, _ = parse(sg.to_dot(cost))
    assert not any("#fdd9b5" in attrs for _, attrs in forward_only.values())
    assert sum("shape=box" in attrs for _, attrs in nodes.values()) == 2  # the inputs


@pytest.mark.parametrize("name", ['say "hi"', "two\nlines", "back\\slash\\n", "}; n0 -> n1; {", "\r", "u\u2028v"])
def test_hostile_input_names_stay_inside_their_label(name):
    x = sg.vector(name, 2)
    nodes, edges = parse(sg.to_dot(sg.sum(sg.exp(x))))
    assert f"{name}\n(2,)".replace("\r", "\n") in [label for label, _ in nodes.values()]
    assert len(nodes) == 3 and len(edges) == 2


def test_render_without_graphviz_says_so(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda program: None)
    dot = sg.to_dot(mlp()[0])
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program"):
        dot.render("svg")
    assert dot._repr_svg_() is None


def test_render_and_save_call_dot(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg>$1</svg>"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    dot = sg.to_dot(mlp()[0])
    assert dot._repr_svg_().strip() == "<svg>-Tsvg</svg>"
    dot.save(str(tmp_path / "graph.png"))
    assert (tmp_path / "graph.png").read_bytes().strip() == b"<svg>-Tpng</svg>"
    dot.save(str(tmp_path / "graph.dot"))
    assert (tmp_path / "graph.dot").read_text() == str(dot)
