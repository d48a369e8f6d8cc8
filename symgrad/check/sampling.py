"""Random points for numeric checks: sizes for named dimensions, a domain for
every input, and a tolerant comparison of arrays.

``check_grad`` and ``equivalent`` evaluate graphs at random inputs; a check
must not fail because it took the log of a negative number or inverted a
near-singular matrix. The domain of each input is therefore *inferred from the
ops consuming it*: each op's ``samples`` say which domain its operands need
(``log``: positive, ``logdet``: a positive determinant, ``inv``: well-conditioned, ...), and a
requirement on a node is passed down through ops that preserve it (a sum of
positives is positive, ``A Aᵀ + s I`` is SPD when ``s`` is positive).
"""
from __future__ import annotations

import functools

import numpy as np

from ..ops import indexing, structure
from ..ir.graph import Node, toposort
from ..ops import Spec, draw
from ..ops.elementwise import add, divide, multiply, power, subtract
from ..ops.linalg import inv, matmul
from ..ops.structure import constant, transpose

#: Ops whose int operands index an axis of their first operand.
INDEX_OPS = (indexing.gather, indexing.take_along_axis_op)
#: Array scale below which errors are judged absolutely rather than relatively.
FLOOR = 1e-8
#: Domains from weakest to strongest; an input needed in two domains gets the stronger.
STRENGTH = ("real", "kinkfree", "nonzero", "unit", "positive", "probability", "above_one",
            "wellcond", "posdet", "spd")


def _stronger(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if STRENGTH.index(a) >= STRENGTH.index(b) else b


@functools.lru_cache(maxsize=None)
def _own_needs(op) -> tuple:
    """The domain each operand position of ``op`` needs, read from its samples."""
    needs: dict = {}
    for sample in op.samples():
        for i, spec in enumerate(sample.operands):
            if spec.domain in STRENGTH and spec.domain != "real":
                needs[i] = _stronger(needs.get(i), spec.domain)
    return tuple(needs.get(i) for i in range(max(needs, default=-1) + 1))


def _is_integral_constant(node: Node) -> bool:
    return node.op is constant and bool(np.all(np.mod(node.value, 1) == 0))


def _passed_down(node: Node, need: str | None, index: int) -> str | None:
    """The domain operand ``index`` of ``node`` needs so that ``node`` meets ``need``."""
    op, operand = node.op, node.operands[index]
    if need in ("positive", "nonzero"):
        if op.keeps_positive or (op in (power, subtract) and index == 0):
            return "positive"
        return None
    if need in ("spd", "wellcond", "posdet"):
        if op in (transpose, inv):
            return need
        if op is add:
            return "spd" if operand.ndim == 2 else "positive"
        if op in (multiply, divide):
            if operand.ndim < 2:
                return "positive"
            # a Hadamard product keeps SPD (Schur), not a positive determinant
            return "spd" if need == "posdet" and all(o.ndim == 2 for o in node.operands) else need
        if op is matmul and operand.ndim == 2 and operand.shape[0] == operand.shape[1]:
            return "posdet" if need == "posdet" else "wellcond"  # det(A B) = det A det B
    return None


def _operand_need(node: Node, index: int, need: str | None) -> str | None:
    own = _own_needs(node.op)
    intrinsic = own[index] if index < len(own) else None
    if node.op is power and index == 0 and _is_integral_constant(node.operands[1]):
        intrinsic = None  # x ** 2 is defined for every real x
    if node.op.positive_result:
        need = None
    return _stronger(intrinsic, _passed_down(node, need, index) if need else None)


def infer_domains(outputs) -> dict:
    """{input node: domain name} for every input the outputs depend on."""
    needs: dict = {}
    order = toposort(outputs)
    for node in reversed(order):  # consumers before operands
        if node.op is structure.input_ or not node.operands:
            continue
        need = needs.get(node)
        for i, operand in enumerate(node.operands):
            needs[operand] = _stronger(needs.get(operand), _operand_need(node, i, need))
    domains = {}
    for node in order:
        if node.op is structure.input_:
            domains[node] = _input_domain(node, needs.get(node), order)
    return domains


def _input_domain(node: Node, need: str | None, order) -> str:
    declared = node.attrs.get("structure")
    if declared is not None:  # values drawn with the declared structure
        return "spd" if declared == "positive_definite" or need == "spd" else "symmetric"
    if node.dtype == "bool":
        return "bool"
    if node.dtype == "int64":
        ks = [user.attrs["k"] for user in order
              if user.op is structure.one_hot and user.operands[0] is node]
        ks += [k for user in order if user.op in INDEX_OPS and node in user.operands[1:]
               for k in indexing.indexed_dims(user, node)]
        return "labels:" + (",".join(str(k) for k in ks) if ks else "2")
    return need or "real"


def min_sizes(nodes) -> dict:
    """Smallest size each dimension name needs for the graph's integer indices."""
    least: dict = {}
    for node in toposort(nodes):
        if node.op is indexing.gather:
            _constant_index_needs(node, least)
        if node.op is not structure.getitem:
            continue
        for entry, dim in zip(node.attrs["index"], node.operands[0].shape):
            if isinstance(entry, int) and isinstance(dim, str):
                least[dim] = max(least.get(dim, 1), entry + 1 if entry >= 0 else -entry)
    return least


def _constant_index_needs(node: Node, least: dict) -> None:
    """Raise ``least`` for the named axes a gather's constant index arrays index."""
    for operand in node.operands[1:]:
        if operand.op is constant and operand.value.size:
            need = int(max(operand.value.max() + 1, -operand.value.min()))
            for dim in indexing.indexed_dims(node, operand):
                if isinstance(dim, str):
                    least[dim] = max(least.get(dim, 1), need)


def dimension_names(nodes) -> list:
    """Every dimension name in the graph (shapes and ops' attributes), first seen first."""
    names: dict = {}
    for node in toposort(nodes):
        dims = list(node.shape) + list(node.attrs.get("dims", ()))
        dims += [node.attrs[a] for a in ("n", "k") if a in node.attrs]
        for d in dims:
            if isinstance(d, str):
                names.setdefault(d, None)
    return list(names)


def choose_sizes(nodes, rng: np.random.Generator | None = None, base: int = 3) -> dict:
    """Sizes for the named dims: distinct ``base, base+1, ...``; with ``rng``, random
    sizes in [2, 6] that differ from those (so an identity true only at the
    default sizes is caught)."""
    least = min_sizes(nodes)
    sizes = {}
    for i, name in enumerate(dimension_names(nodes)):
        size = base + i
        if rng is not None:
            drawn = int(rng.integers(2, 7))
            size = drawn if drawn != size else 2
        sizes[name] = max(size, least.get(name, 1))
    return sizes


def draw_point(domains: dict, sizes: dict, rng: np.random.Generator) -> dict:
    """{input: value}: one random point, every input drawn from its domain."""
    point = {}
    for node, domain in domains.items():
        if domain.startswith("labels:"):
            ks = [int(k) if k.isdigit() else sizes[k] for k in domain[7:].split(",")]
            domain = f"labels:{min(ks)}"
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in node.shape)
        if domain in ("spd", "wellcond", "posdet") and (len(shape) < 2 or shape[-1] != shape[-2]):
            domain = "real"  # only square matrices can be drawn SPD
        point[node] = draw(Spec(node.shape, domain), rng, sizes)
    return point


def check_options(rtol, **counts) -> None:
    """ValueError unless ``rtol`` is in (0, 1) and every count is a positive int."""
    for name, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"{name} must be a positive int, got {count!r}")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1:
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")


def mismatch(actual, reference) -> tuple:
    """(absolute difference, scale, index of the worst entry) of two same-shape arrays.

    Non-finite entries compare equal only to the same non-finite value. The
    scale is the largest finite magnitude in either array, so entries near zero
    are judged relative to the array rather than to themselves.
    """
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    diff = np.where(same, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)
    finite = np.concatenate([np.abs(a[np.isfinite(a)]), np.abs(b[np.isfinite(b)]), [0.0]])
    index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    return float(diff.max(initial=0.0)), float(finite.max()), tuple(int(i) for i in index)


__all__ = ["infer_domains", "choose_sizes", "draw_point", "mismatch", "min_sizes",
           "check_options", "dimension_names", "STRENGTH", "FLOOR"]
