"""The package's layers import one way: each layer only from the layers below it.

Every import in the package is read from the source (module-level and the late ones inside
functions alike), so a late import cannot hide an upward edge or a cycle. The one upward
need, ``str(node)`` printing, goes through :data:`symgrad.ir.graph.PRINTERS`, a hook the
printing layer fills.
"""
import ast
import pathlib
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "symgrad"

#: Lowest first. A module may import from its own layer and the layers before it.
LAYERS = [
    ("ir", "version"), ("ops",), ("analysis",), ("api", "linalg", "special"), ("printing",),
    ("autodiff",), ("rewrite",), ("compile",), ("bridges",), ("check",), ("cli",),
    ("__init__", "__main__"),
]
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path):
    """(line, imported module) for every intra-package import in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("symgrad"):
                continue
            for alias in node.names:  # "from . import ops" imports the submodule
                candidate = f"{target}.{alias.name}"
                sub = PACKAGE.parent / candidate.replace(".", "/")
                yield node.lineno, candidate if (sub.is_dir() or sub.with_suffix(".py").exists()) else target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symgrad"):
                    yield node.lineno, alias.name


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYER_OF["__init__" if len(parts) == 1 else parts[1]]


def _graph() -> dict:
    edges = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        edges[module] = {(line, target) for line, target in _imports(path) if target != module}
    return edges


def test_every_module_is_in_a_layer():
    for module in _graph():
        assert _layer(module) is not None, module


def test_no_module_imports_from_a_higher_layer():
    upward = [f"{module}:{line} imports {target}"
              for module, targets in _graph().items() for line, target in targets
              if _layer(target) > _layer(module)]
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    graph = _graph()  # parsed once: the edges between the package's own modules
    edges = {m: {t for _, t in ts if t in graph} for m, ts in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(cycles)


def test_import_symgrad_loads_neither_sympy_nor_networkx():
    code = ("import sys, symgrad; "
            "assert 'sympy' not in sys.modules and 'networkx' not in sys.modules, "
            "sorted(m for m in ('sympy', 'networkx') if m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def _registry_lookups():
    """(module, line, op name) for every ``REGISTRY["name"]`` in the package's source."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and node.value.id == "REGISTRY" and isinstance(node.slice, ast.Constant):
                yield _module_name(path), node.lineno, node.slice.value


def _reaches(edges: dict, start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        for target in edges.get(module, ()):
            if target == goal:
                return True
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def test_op_records_are_looked_up_by_name_only_where_an_import_would_be_a_cycle():
    """Ops are referred to as objects (imported records). ``REGISTRY["name"]`` is kept
    only where the modules need each other (sum's vjp is a broadcast and a broadcast's
    vjp is a sum): every module holding the record already imports, directly or not,
    the module that looks it up, so importing it there would close a cycle."""
    import importlib
    import symgrad  # noqa: F401  (registers every op)
    graph = _graph()
    edges = {m: {t for _, t in ts if t in graph} for m, ts in graph.items()}
    avoidable = []
    for module, line, name in _registry_lookups():
        if module == "symgrad.ir.graph":
            continue  # the registry itself
        record = symgrad.REGISTRY[name]
        holders = [m for m in graph if m.startswith("symgrad.ops")
                   and any(v is record for v in vars(importlib.import_module(m)).values())]
        free = [m for m in holders if not _reaches(edges, m, module)]
        if free:
            avoidable.append(f"{module}:{line} REGISTRY[{name!r}]: import it from {free[0]}")
    assert not avoidable, "\n".join(avoidable)
