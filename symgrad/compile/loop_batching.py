"""Graph rewrites the compiler applies before scheduling. Values are unchanged
up to float rounding: sums are reassociated or reordered, nothing else.

They target loops unrolled into the graph (an RNN, weight sharing), where the
same few statements repeat T times and NumPy's ~1 µs per call dominates. Each
fires only on ``MIN_TERMS`` or more repetitions and uses existing ops only
(getitem, concatenate, reshape, transpose, matmul, sum, elementwise), so the
result prints, compiles and differentiates like any graph. In order:

1. Products with the rows of one array -> one product. ``U @ X[t]`` for the
   rows t of an input sequence X is ``(X @ U.T)[t]``, ``X[t] @ V`` is
   ``(X @ V)[t]`` (X of shape (T, batch, m) viewed as (T * batch, m)): one
   GEMM, rows read as views.

2. Sums of products -> one GEMM. Reverse mode through a loop accumulates a
   weight's gradient as ``Σ_t outer(a_t, b_t)`` (``Σ_t A_tᵀ B_t`` for batched
   steps): T small products. The same sum is ``Aᵀ B`` with the pieces stacked
   row after row, one BLAS GEMM, as a hand-written BPTT does. The terms are
   ordered by k when one side is rows ``X[k]`` of one array, so that side is X
   or a slice of it (a view, no copy); otherwise in the order of a stack of the
   same pieces built for another sum, so the stack is built once (BPTT's δ's
   serve both dW and dU).

3. Sums over a stack -> one sum. An add tree holding every piece of such a
   stack (or the same reduction of every piece) is one ``sum`` over the stack
   plus the other terms: BPTT's bias gradient ``δ_1 + ... + δ_T`` in one call.

4. Elementwise ops on rows -> rows of one elementwise op. ``op(R[k], c)`` for
   rows k covering at least half of R, with c the same node each time and no
   larger than a row (it broadcasts within it), is ``op(R, c)[k]``: computed
   elementwise, so the same numbers. Rows are getitems ``R[k]`` and the pieces
   of the stacks of 2. In an add tree a row and such a c are brought together
   first: ``(W h + R[t]) + b -> W h + (R + b)[t]``, the RNN's bias added once to
   the batched input product. Rounds repeat while something lifts, so tanh's
   derivative ``1 - h_t * h_t`` becomes rows of ``1 - H * H`` over the stacked
   states. R and c may not depend on a node lifted in the same round (so no
   replacement depends on itself): such a lift waits for a later round, or never
   happens when the forward pass itself reads the node.

5. Recurrences -> loops (the ``SCAN_BACKENDS`` only: JAX). What is left of an
   RNN after 1-4 is two chains, ``h_t = tanh(W h_{t-1} + A[t])`` forward and
   ``d_t = (Wᵀ d_{t+1}) * Q[t]`` backward. A chain is found link by link: a node
   repeats the step of the nearest node of its op below it when the two, walked in
   parallel, read the same nodes (invariants), rows of the same arrays one index
   apart (sequences) and, where the later reads the earlier, the earlier's own
   predecessor (the carry). A chain of ``MIN_STEPS``+ members whose steps' inner
   values are read inside their step only becomes one ``scan`` node (its step a
   graph over placeholder inputs; the array-API printer writes it as a function,
   ``jax.lax.scan`` runs it), the members rows of the scan, and the stacks of
   members slices of it. A step may carry several states (an LSTM's h and c): the
   walk that went past a state of the earlier step (c_{t-1}, compared with c_{t-2})
   is tried again with it as a state, and the scan's carries are the tuple of them.
   The step's inner values read outside it (the gates the backward sweep reads, the
   gate gradients the weight gradients read) are outputs of the scan too (JAX's
   ``ys``), rows like the states, not computed again outside. On these backends
   ``Aᵀ v`` is then written ``v A`` (XLA's vector-matrix product: no copy of Aᵀ).
"""
from __future__ import annotations

from collections import Counter

from ..ir import leaves
from ..ops import elementwise, linalg as linalg_ops, reductions, scans, structure
from ..ir.graph import toposort
from ..rewrite.engine import Phase, rebuild, rebuilt_on, register, replace
from .memory_plan import statement_order
from ..ops.structure import FULL
from ..ir.shapes import ShapeError, broadcast_shapes
from .lowering import literal

#: Fewer repetitions than this are left alone (the batching would not pay).
MIN_TERMS = 3
#: At most this many rounds of lifting elementwise ops onto whole arrays.
LIFT_ROUNDS = 8


def fuse(outputs: list, order: list | None = None, backend: str = "numpy") -> tuple:
    """(``outputs`` with every rewrite applied where it pays, their toposort).
    ``order``, the toposort of ``outputs`` when the caller has it, is reused
    (and returned) while no rewrite applies. On the ``SCAN_BACKENDS`` the
    recurrences left are then loops (5.)."""
    order = statement_order(outputs) if order is None else order
    stacks: dict = {}  # stack node (pieces along a new leading axis) -> its pieces, in order
    outputs, order = _batch_row_products(outputs, order)
    outputs, order = _fuse_product_sums(outputs, order, stacks)
    outputs, order = _sum_stacked(outputs, order, stacks)
    outputs, order = _lift_rows(outputs, order, stacks)
    if backend in SCAN_BACKENDS:
        made = 0
        for _ in range(SCAN_ROUNDS):  # a scan's rows may make the next recurrence's rows
            outputs, order, count = _scans(outputs, order, made)
            if not count:
                break
            made += count
            stacks = {rows: tuple(structure.getitem(rows, index=k) for k in range(rows.shape[0]))
                      for node in order if node.op is scans.scan_op for rows in scan_outputs(node)}
            outputs, order = _sum_stacked(outputs, order, stacks, runs=True)  # Σ_t of a scan's rows
            outputs, order = _batch_row_products(outputs, order)
            outputs, order = _lift_rows(outputs, order, {})
        new = rebuild(order, rewrite=_xla_form)
        outputs = [new.get(node, node) for node in outputs]
        order = statement_order(outputs)
    return outputs, order


def _xla_form(node):
    """The form of ``node`` XLA runs better (:func:`_vector_first`, :func:`_columns`), or None."""
    return _vector_first(node) if node.op is linalg_ops.matmul else _columns(node)


def _vector_first(node):
    """``v A`` for ``node`` = ``Aᵀ v`` (A a matrix, v a vector; the same sums), else None.
    XLA runs the first as a vector-matrix product reading A as it is; the second it
    computes elementwise from a transposed copy of A (in every step, inside a loop). So
    on the ``SCAN_BACKENDS``, once the loops are found, the backward sweep's ``Wᵀ δ``
    reads W as JAX's own transpose of ``W h`` does."""
    a, v = node.operands
    if a.op is structure.transpose and a.ndim == 2 and v.ndim == 1:
        return linalg_ops.matmul(v, a.operands[0])
    return None


def _columns(node):
    """For ``node`` the transpose of a matrix stacked row block after row block (a
    concatenation along axis 0, or one of flat pieces reshaped: BPTT's Δ of a scan's
    rows and the unrolled steps), the same matrix made column block after column block
    (the blocks transposed, concatenated along axis 1); else None. XLA folds a
    transpose into the products reading it, running ``Δᵀ H`` as its generic dot with
    both contracting dimensions 0 (a third slower than the GEMM of ``Δᵀ`` made once)."""
    if node.op is not structure.transpose or node.ndim != 2:
        return None
    stacked = node.operands[0]
    width = stacked.shape[1]
    joined = stacked.operands[0] if stacked.op is structure.reshape else stacked
    if joined.op is not structure.concatenate or joined.attrs["axis"] != 0 or not isinstance(width, int):
        return None
    blocks = []
    for piece in joined.operands:
        if piece.ndim == 2 and piece.shape[1] == width:
            blocks.append(piece)
        elif piece.ndim == 1 and isinstance(piece.shape[0], int) and piece.shape[0] % width == 0:
            inner = piece.operands[0] if piece.op is structure.reshape else piece
            blocks.append(inner if inner.shape == (piece.shape[0] // width, width)
                          else structure.reshape(piece, shape=(piece.shape[0] // width, width)))
        else:
            return None
    return structure.concatenate(*[structure.transpose(b) for b in blocks], axis=1)


def _batch_row_products(outputs: list, order: list) -> tuple:
    """``A @ X[t]`` or ``X[t] @ V`` for ``MIN_TERMS``+ rows t of the same X -> rows
    of one product."""
    groups: dict = {}
    for node in order:
        found = _row_product(node) if node.op is linalg_ops.matmul else None
        if found is not None:
            groups.setdefault(found[0], []).append((node, found[1]))
    mapping = {}
    for key, members in groups.items():
        if len(members) >= MIN_TERMS:
            product = _batched_product(*key)
            for node, k in members:
                mapping[node] = structure.getitem(product, index=k)
    return _replaced(outputs, order, mapping)


def _row_product(node):
    """For a matmul: (("left", A, X), t) for ``A @ X[t]`` (X a matrix), (("right", V, X), t)
    for ``X[t] @ V`` (X a matrix, or a stack of matrices of known shape), else None."""
    a, b = node.operands
    row = _row_of(b)
    if row is not None and a.ndim == 2 and row[0].ndim == 2:
        return ("left", a, row[0]), row[1]
    row = _row_of(a)
    if row is not None and b.ndim == 2 and (row[0].ndim == 2 or (
            row[0].ndim == 3 and all(isinstance(d, int) for d in row[0].shape))):
        return ("right", b, row[0]), row[1]
    return None


def _batched_product(side, matrix, source):
    """The product whose row t is ``matrix @ X[t]`` (left) or ``X[t] @ matrix`` (right)."""
    matmul, reshape = linalg_ops.matmul, structure.reshape
    if side == "left":
        return matmul(source, structure.transpose(matrix))
    if source.ndim == 2:
        return matmul(source, matrix)
    steps, rows, width = source.shape
    flat = matmul(reshape(source, shape=(steps * rows, width)), matrix)
    return reshape(flat, shape=(steps, rows) + matrix.shape[1:])


def _replaced(outputs: list, order: list, mapping: dict) -> tuple:
    if not mapping:
        return outputs, order
    outputs = replace(outputs, mapping)
    return outputs, statement_order(outputs)


# Graph helpers -------------------------------------------------------------------

def _consumers(order, outputs) -> dict:
    consumers: dict = {}
    for node in order:
        for operand in node.operands:
            consumers.setdefault(operand, []).append(node)
    for node in outputs:
        consumers.setdefault(node, []).append(None)
    return consumers


def _single_use(node, consumers) -> bool:
    return len(consumers.get(node, ())) == 1


def _add_roots(order, consumers):
    """Each add that is not an inner term of a larger add tree, with the tree's terms."""
    for node in order:
        if node.op is elementwise.add and not _absorbed(node, consumers):
            yield node, _terms(node, consumers)


def _absorbed(node, consumers) -> bool:
    """Whether ``node`` is an inner term of a larger add tree."""
    if not _single_use(node, consumers):
        return False
    user = consumers[node][0]
    return user is not None and user.op is elementwise.add and user.shape == node.shape


def _terms(root, consumers) -> list:
    """Leaves of the add tree under ``root`` (inner adds: single use, same shape)."""
    terms, stack = [], list(reversed(root.operands))
    while stack:
        node = stack.pop()
        if node.op is elementwise.add and node.shape == root.shape and _single_use(node, consumers):
            stack.extend(reversed(node.operands))
        else:
            terms.append(node)
    return terms


def _sum(terms):
    total = terms[0]
    for term in terms[1:]:
        total = elementwise.add(total, term)
    return total


def _row_of(node):
    """(R, k) when ``node`` is ``R[k]``: an int index on the leading axis of a
    matrix or higher array, the other axes whole."""
    if node.op is not structure.getitem:
        return None
    source, index = node.operands[0], node.attrs["index"]
    if source.ndim >= 2 and isinstance(index[0], int) and all(entry == FULL for entry in index[1:]):
        return source, index[0]
    return None


def _counted_row_of(node):
    """``_row_of(node)`` when R's row count is known (needed to slice or cover it)."""
    row = _row_of(node)
    return row if row is not None and isinstance(row[0].shape[0], int) else None


# Sums of products of stacked pieces ------------------------------------------------

def _fuse_product_sums(outputs: list, order: list, stacks: dict) -> tuple:
    """Every sum of ``MIN_TERMS`` or more products ``outer(a_k, b_k)`` or ``A_kᵀ @ B_k``
    of equal shapes -> one GEMM. Sums with a side of rows of one array go first:
    their order is forced, the others follow it."""
    products = sum(1 for node in order if node.op in (linalg_ops.outer, linalg_ops.matmul) and _pieces(node))
    if products < MIN_TERMS:
        return outputs, order
    consumers = _consumers(order, outputs)
    groups = []
    for root, terms in _add_roots(order, consumers):
        products = _fusible_products(terms, consumers)
        if len(products) >= MIN_TERMS:
            groups.append((_rows_order(products) is None, root, products,
                           [t for t in terms if t not in products]))
    mapping = {}
    for _, root, products, rest in sorted(groups, key=lambda group: group[0]):
        mapping[root] = _sum([_stacked_product(_ordered(products, stacks), stacks)] + rest)
    return _replaced(outputs, order, mapping)


def _pieces(node):
    """(A, B) when ``node`` is ``outer(A, B)`` or ``Aᵀ @ B`` (float64, sizes known),
    so that a sum of such terms is (A's stacked)ᵀ (B's stacked)."""
    if node.dtype != "float64" or not all(isinstance(d, int) for d in node.shape):
        return None
    if node.op is linalg_ops.outer:
        return node.operands
    if node.op is linalg_ops.matmul and node.operands[0].op is structure.transpose and node.ndim == 2:
        a, b = node.operands[0].operands[0], node.operands[1]
        return (a, b) if isinstance(a.shape[0], int) else None
    return None


def _fusible_products(terms, consumers) -> list:
    """The largest set of single-use product terms whose pieces have the same shapes."""
    by_shape: dict = {}
    for term in terms:
        pieces = _pieces(term) if _single_use(term, consumers) else None
        if pieces is not None:
            by_shape.setdefault((pieces[0].shape, pieces[1].shape), []).append(term)
    return max(by_shape.values(), key=len, default=[])


def _rows_order(products):
    """The products sorted by row index when one side is distinct rows of one array."""
    for side in (0, 1):
        rows = _matrix_rows([_pieces(p)[side] for p in products])
        if rows is not None:
            return [p for _, p in sorted(zip(rows[1], products), key=lambda pair: pair[0])]
    return None


def _matrix_rows(pieces):
    """(X, indices) when the pieces are distinct rows ``X[k]`` of one X."""
    rows = [_counted_row_of(p) for p in pieces]
    if any(r is None or r[0] is not rows[0][0] for r in rows):
        return None
    indices = [k for _, k in rows]
    return (rows[0][0], indices) if len(set(indices)) == len(indices) else None


def _ordered(products, stacks):
    """Row order if forced, else the order of an existing stack of one side, else as found."""
    by_rows = _rows_order(products)
    if by_rows is not None:
        return by_rows
    for side in (0, 1):
        pieces = [_pieces(p)[side] for p in products]
        for stacked in stacks.values():
            if len(set(pieces)) == len(pieces) == len(stacked) and set(pieces) == set(stacked):
                position = {piece: i for i, piece in enumerate(stacked)}
                return sorted(products, key=lambda p: position[_pieces(p)[side]])
    return products


def _stacked_product(products, stacks):
    """Σ_k A_kᵀ B_k as (A's stacked)ᵀ (B's stacked), the pieces' rows one after another."""
    left, right = (_flat(_stack([_pieces(p)[side] for p in products], stacks)) for side in (0, 1))
    return linalg_ops.matmul(structure.transpose(left), right)


def _stack(pieces, stacks):
    """The pieces along a new leading axis, recorded in ``stacks``: a slice of X
    when they are rows of X at evenly spaced increasing indices, else a copy."""
    rows = _matrix_rows(pieces)
    steps = {b - a for a, b in zip(rows[1], rows[1][1:])} if rows else set()
    if rows and len(steps) == 1 and min(steps) > 0:
        source, indices = rows
        step = steps.pop()
        whole = indices[0] == 0 and step == 1 and indices[-1] == source.shape[0] - 1
        stack = source if whole else structure.getitem(
            source, index=slice(indices[0], indices[-1] + 1, None if step == 1 else step))
    else:
        joined = structure.concatenate(*pieces, axis=0)
        stack = structure.reshape(joined, shape=(len(pieces),) + pieces[0].shape)
    stacks[stack] = tuple(pieces)
    return stack


def _flat(stack):
    """A stack of matrices as one matrix, their rows one after another (a view)."""
    if stack.ndim == 2:
        return stack
    return structure.reshape(stack, shape=(stack.shape[0] * stack.shape[1],) + stack.shape[2:])


# Sums of stacked pieces ------------------------------------------------------------

def _sum_stacked(outputs: list, order: list, stacks: dict, runs: bool = False) -> tuple:
    """An add tree holding every piece of a stack, or the same reduction
    ``sum(piece, axis)`` of every piece -> one sum over the stack + the other terms;
    with ``runs`` (a scan's rows) also ``MIN_TERMS``+ consecutive pieces -> one sum
    over their slice (the scan's first or last row may be another gradient)."""
    if not stacks:
        return outputs, order
    consumers = _consumers(order, outputs)
    mapping = {}
    for root, terms in _add_roots(order, consumers):
        if len(terms) >= MIN_TERMS:
            replacement = _stack_sum(terms, stacks, runs)
            if replacement is not None:
                mapping[root] = replacement
    return _replaced(outputs, order, mapping)


def _stack_sum(terms, stacks, runs: bool):
    """The sum of ``terms`` through the first stack with every piece among them
    (or every piece reduced the same way), or with ``runs`` ``MIN_TERMS``+ consecutive
    pieces of a stack of distinct ones: one sum over the stack or its slice + the
    rest; else None."""
    found: dict = {}
    for i, term in enumerate(terms):
        found.setdefault(_as_reduction(term), []).append(i)
    for stack, pieces in stacks.items():
        need = Counter(pieces)
        for axes in {axes for base, axes in found if base in need}:
            held = all(len(found.get((p, axes), ())) >= n for p, n in need.items())
            start, stop = (0, len(pieces)) if held else \
                _held_run(pieces, found, axes) if runs else (0, 0)
            if stop - start >= MIN_TERMS:
                taken = {found[(p, axes)][0] for p in pieces[start:stop]} if not held else \
                    {i for p, n in need.items() for i in found[(p, axes)][:n]}
                part = stack if held else structure.getitem(stack, index=slice(start, stop))
                total = reductions.sum_(part, axis=(0,) + tuple(a + 1 for a in axes))
                return _sum([total] + [t for i, t in enumerate(terms) if i not in taken])
    return None


def _held_run(pieces, found, axes) -> tuple:
    """(start, stop) of the longest run of consecutive pieces among the terms, for a stack
    of distinct pieces (else an empty run)."""
    best = (0, 0)
    if len(set(pieces)) < len(pieces):
        return best
    start = 0
    for k, piece in enumerate(pieces + (None,)):
        if piece is None or (piece, axes) not in found:
            best = max(best, (start, k), key=lambda run: run[1] - run[0])
            start = k + 1
    return best


def _as_reduction(term):
    """(x, axes) when ``term`` is ``sum(x, axes)`` (dimensions dropped), else (term, ())."""
    if term.op is reductions.sum_ and not term.attrs["keepdims"]:
        return term.operands[0], term.attrs["axis"]
    return term, ()


# Elementwise ops on rows -----------------------------------------------------------

def _lift_rows(outputs: list, order: list, stacks: dict) -> tuple:
    """Rounds of ``op(R[k], c) -> op(R, c)[k]`` until none applies."""
    for _ in range(LIFT_ROUNDS):
        rules = _lift_rules(order, outputs, stacks)
        if not rules:
            break
        new = rebuild(order, substitute=lambda node, new: rules[node](new) if node in rules else None)
        outputs = [new.get(node, node) for node in outputs]
        order = statement_order(outputs)
        stacks = {_renewed(stack, new): tuple(new.get(p, p) for p in pieces)
                  for stack, pieces in stacks.items()}
    return outputs, order


def _renewed(node, new: dict):
    """``node`` rebuilt from the rebuilt versions in ``new`` (a stack the graph
    reads only through its flat view is not itself in the graph)."""
    return rebuild(toposort([node]), new=new).get(node, node)


def _lift_rules(order, outputs, stacks) -> dict:
    """{target node: function of the rebuilt nodes giving its replacement} for
    every group of ``MIN_TERMS``+ candidates covering half of their R's rows."""
    rows = _row_table(order, stacks)
    if not rows:
        return {}
    groups: dict = {}
    consumers = _consumers(order, outputs)
    for node in order:
        for key, k, rest in _candidates(node, rows, consumers):
            groups.setdefault(key, []).append((node, k, rest))
    chosen: dict = {}
    for key, members in groups.items():
        matrix = next(n for kind, n in key[1] if kind == "row")
        used = {k for _, k, _ in members}
        if len(used) >= MIN_TERMS and 2 * len(used) >= matrix.shape[0]:
            for node, k, rest in members:
                chosen.setdefault(node, (key, k, rest))
    return _acyclic_rules(chosen)


def _row_table(order, stacks) -> dict:
    """{node: (R, k)} for the getitem rows in ``order`` and the pieces of the stacks it computes."""
    present = set(order) if stacks else ()
    rows = {}
    for stack, pieces in stacks.items():
        if _flat(stack) in present:
            for k, piece in enumerate(pieces):
                rows.setdefault(piece, (stack, k))
    for node in order:
        row = _counted_row_of(node) if node.op is structure.getitem else None
        if row is not None:
            rows[node] = row
    return rows


def _candidates(node, rows, consumers) -> list:
    """(group key, row index, other add-tree terms) for each way ``node`` could
    be lifted: itself, if elementwise over rows at one index and invariants no
    larger than a row; for the root of an add tree, also each (row, other term) pair."""
    if not node.op.elementwise or node.attrs:
        return []
    if node.op is not elementwise.add:
        return _elementwise_candidate(node, rows)
    if _absorbed(node, consumers):
        return []
    terms = _terms(node, consumers)
    found = []
    for i, term in enumerate(terms):
        row = rows.get(term)
        for j, other in enumerate(terms):
            if row is not None and other not in rows and _fits_row(other, term):
                rest = tuple(t for n, t in enumerate(terms) if n not in (i, j))
                found.append(((elementwise.add, (("row", row[0]), ("node", other))), row[1], rest))
    return found + _elementwise_candidate(node, rows)


def _elementwise_candidate(node, rows) -> list:
    """[(key, k, ())] when ``node``'s operands are rows at one index k (of arrays with
    as many rows) and invariants no larger than a row, else []."""
    found = [rows.get(operand) for operand in node.operands]
    row_operands = [o for o, row in zip(node.operands, found) if row is not None]
    if not row_operands:
        return []
    first = row_operands[0]
    matrix, k = rows[first]
    for operand in row_operands:
        other, index = rows[operand]
        if index != k or operand.shape != first.shape or other.shape[0] != matrix.shape[0]:
            return []
    if not all(row is not None or _fits_row(o, first) for o, row in zip(node.operands, found)):
        return []
    pattern = tuple(("node", o) if row is None else ("row", row[0])
                    for o, row in zip(node.operands, found))
    return [((node.op, pattern), k, ())]


def _fits_row(node, row) -> bool:
    """Whether ``node`` broadcasts within ``row``'s shape (so a leading axis changes nothing)."""
    if node.ndim > row.ndim:
        return False
    try:
        return broadcast_shapes(row.shape, node.shape) == row.shape
    except ShapeError:
        return False


def _acyclic_rules(chosen: dict) -> dict:
    """Rules for the chosen targets whose R's and invariants depend on no target
    (so they stay as they are, and no replacement can depend on itself)."""
    targets = set(chosen)
    clean: dict = {}

    def independent(node):
        if node not in clean:
            clean[node] = not node.operands or targets.isdisjoint(toposort([node]))
        return clean[node]

    rules = {}
    for node, (key, k, rest) in chosen.items():
        if all(independent(n) for _, n in key[1]):
            rules[node] = _lift_rule(key, k, rest)
    return rules


def _lift_rule(key, k, rest):
    """The replacement of a target: the other terms of its add tree (rebuilt) + ``op(R, c)[k]``."""
    op, pattern = key

    def rule(new):
        lifted = op(*[n for _, n in pattern])
        return _sum([new.get(t, t) for t in rest] + [structure.getitem(lifted, index=k)])
    return rule


# Recurrences -> scans ----------------------------------------------------------------

#: The backends on which a recurrence becomes one ``scan`` node: XLA compiles the loop
#: once (``lax.scan``) where it compiles T unrolled copies slowly and runs them slower.
#: On NumPy the unrolled statements are the fastest form (a loop would add a Python
#: call per step); Dask and eager libraries build the same tasks either way.
SCAN_BACKENDS = ("jax",)
#: Fewest steps of a recurrence made a scan.
MIN_STEPS = 3
#: Most rounds of finding recurrences (a backward sweep reading an inner value of the
#: forward step is found once the forward scan's rows are batched).
SCAN_ROUNDS = 3
#: Most nodes searched below a node for the step before it, and most node pairs
#: compared when matching two steps (so the search stays linear in the graph).
STEP_SEARCH = 24
STEP_PAIRS = 200
#: Most candidates for the step before a node that are compared with it, and the
#: deepest a step may be (operands from its result to the previous member).
CANDIDATES = 4
STEP_DEPTH = 16
#: Most walks matching two steps, each with the states the one before went past (an
#: LSTM's h and c: two walks).
CARRY_ROUNDS = 3


class _Link:
    """``later`` is ``earlier``'s step applied once more: found by walking the two
    in parallel (``pairs``: later-side node -> earlier-side node). Where the later step
    reads a node of ``states`` (``earlier``; for several carries also others of the
    earlier step, an LSTM's cell c beside its h) the earlier step reads that state's
    predecessor (``carries``)."""

    def __init__(self, earlier, later, states=frozenset()):
        self.earlier, self.later = earlier, later
        self.states = states | {earlier}
        self.carries: dict = {}  # state the later step reads -> what the earlier reads there
        self.shift = None  # row index of later - row index of earlier (one for all rows)
        self.invariants: dict = {}  # nodes both steps read (in order found)
        self.rows: dict = {}  # later-side row node -> (R, its index)
        self.pairs: dict = {}
        self.tried: set = set()  # later-side nodes compared (matched or not)
        self.budget = STEP_PAIRS
        self.order: list = []  # the states read, the seed first
        self.successors: list = []  # their next values, in the later step
        self._following = None  # following(), once the walk is done

    def match(self) -> bool:
        return (self._same(self.earlier, self.later, 0) and self.earlier in self.carries
                and self._closed())

    def _closed(self) -> bool:
        """Whether each state read has its next value in the later step (so the states
        are the carries of one loop); records them in ``order`` and ``successors``."""
        following = self.following()
        order = sorted(self.carries, key=lambda state: state is not self.earlier)
        successors = [following.get(state) for state in order]
        if None in successors or len(set(successors)) < len(successors):
            return False
        self.order, self.successors = order, successors
        return True

    def following(self) -> dict:
        """{earlier-side node: the later-side node repeating it} (rows left out, and
        nodes two later-side nodes repeat)."""
        if self._following is None:
            seen = Counter(self.pairs.values())
            self._following = {a: b for b, a in self.pairs.items()
                               if b not in self.rows and seen[a] == 1}
        return self._following

    def stateful(self) -> set:
        """The later-side nodes reading a state (through the step): the step proper. The
        others are functions of rows and invariants alone (an LSTM's gates in its backward
        sweep), which the scan's step computes again from its sequences and which may
        be read by two steps."""
        memo: dict = {}

        def reads(node) -> bool:
            if node in self.states:
                return True
            if node not in self.pairs or node in self.rows:
                return False
            if node not in memo:
                memo[node] = any(reads(operand) for operand in node.operands)
            return memo[node]
        return {node for node in self.pairs if reads(node)}

    def lagged(self) -> set:
        """Earlier-side nodes the walk also took as later-side ones: states of the
        earlier step that the later reads, walked past (into older steps, or against
        an init)."""
        return {a for b, a in self.pairs.items()
                if b not in self.rows and a in self.tried and a not in self.rows}

    def _same(self, a, b, depth: int) -> bool:
        if b in self.pairs:
            return self.pairs[b] is a
        self.budget -= 1
        if self.budget < 0 or depth > STEP_DEPTH:
            return False
        if b in self.states:  # a carry: later reads a state where earlier reads its predecessor
            return self.carries.setdefault(b, a) is a and (a.shape, a.dtype) == (b.shape, b.dtype)
        if a is b:
            self.invariants[a] = None
            return True
        self.tried.add(b)
        if a.op is not b.op or a.shape != b.shape or a.dtype != b.dtype or not a.operands:
            return False
        row_a, row_b = _counted_row_of(a), _counted_row_of(b)
        if row_a is not None and row_b is not None and row_a[0] is row_b[0]:
            shift = row_b[1] - row_a[1]
            if self.shift is None and shift in (1, -1):
                self.shift = shift
            if shift != self.shift:
                return False
            self.pairs[b] = a
            self.rows[b] = row_b
            return True
        if not _same_attrs(a, b) or len(a.operands) != len(b.operands):
            return False
        self.pairs[b] = a
        return all(self._same(x, y, depth + 1) for x, y in zip(a.operands, b.operands))


def _matched(earlier, later):
    """The link from ``earlier`` to ``later`` or None. Its states start as the seed
    ``earlier``; a walk that went past another state (an LSTM's c_{t-1} read by step t,
    walked as if it were step t's) is tried again with those states too, up to
    ``CARRY_ROUNDS`` walks."""
    states = frozenset()
    for _ in range(CARRY_ROUNDS):
        link = _Link(earlier, later, states)
        if link.match():
            return link
        more = link.lagged() - link.states
        if not more:
            return None
        states = link.states | more
    return None


def _same_attrs(a, b) -> bool:
    try:
        return bool(a.attrs == b.attrs)
    except (TypeError, ValueError):  # attributes that do not compare (arrays)
        return False


def _link_of(node):
    """The link from one of the ``CANDIDATES`` nearest nodes below ``node`` (same op,
    shape, dtype, attrs) whose step ``node`` repeats, or None."""
    seen, queue, tried = {node}, list(node.operands), 0
    for candidate in queue:
        if len(seen) > STEP_SEARCH or tried == CANDIDATES:
            return None
        if candidate in seen:
            continue
        seen.add(candidate)
        if (candidate.op is node.op and candidate.shape == node.shape
                and candidate.dtype == node.dtype and _same_attrs(candidate, node)):
            tried += 1
            link = _matched(candidate, node)
            if link is not None:
                return link
        queue.extend(candidate.operands)
    return None


class Recurrence:
    """``states[j][i] = F_j(states[0][i - 1], ..., states[k-1][i - 1])`` (``states[j][-1]``
    read as ``inits[j]``), F the same step each time: reading the previous states, rows
    ``R[k + shift * i]`` of arrays and ``invariants`` (nodes outside the chain).
    ``members`` are the seed carry's states; ``links[i]`` pairs steps i and i + 1."""

    def __init__(self, links: list):
        self.links = links
        first = links[0]
        self.states = [[state] + [link.successors[j] for link in links]
                       for j, state in enumerate(first.order)]
        self.members = self.states[0]
        self.inits = [first.carries[state] for state in first.order]
        self.init = self.inits[0]
        self.shift = first.shift

    def step_nodes(self, i: int) -> set:
        """The nodes of step i reading a state (its states included; not the carries,
        rows, invariants or the functions of rows alone)."""
        link = self.links[max(i - 1, 0)]
        stateful = link.stateful()
        return {link.pairs[b] for b in stateful} if i == 0 else stateful

    def copies(self, template) -> list | None:
        """Each step's node repeating ``template`` (a node of step 1): [step 0's, ...,
        step n - 1's], or None where a link does not pair it."""
        nodes = [self.links[0].pairs.get(template), template]
        for link in self.links[1:]:
            nodes.append(link.following().get(nodes[-1]))
        return None if None in nodes else nodes

    def fits(self) -> bool:
        """Whether one scan node holds the carries: one carry, or several of one dtype
        and sizes known when compiling (laid side by side in its rows)."""
        dtype = self.members[0].dtype
        return len(self.inits) == 1 or all(
            node.dtype == dtype and all(isinstance(d, int) for d in node.shape) for node in self.inits)


def recurrences(outputs: list, order: list) -> list:
    """The recurrences of ``MIN_STEPS``+ steps in ``order`` whose steps' inner values
    are read by their own step only (so the chain is one loop), each node in one."""
    links = {}
    for node in order:
        if node.operands and node.op.leaf is None:
            link = _link_of(node)
            if link is not None:
                links[node] = link
    following: dict = {}  # earlier node -> the first link from it
    for link in links.values():
        following.setdefault(link.earlier, link)
    chains = []
    for node, link in links.items():
        if link.earlier in links:
            continue  # not the first link of its chain
        chain = [link]
        while chain[-1].later in following and _continues(chain[-1], following[chain[-1].later]):
            chain.append(following[chain[-1].later])
        if len(chain) + 1 >= MIN_STEPS and not _accumulation(link):
            chains.append(Recurrence(chain))
    consumers = _consumers(order, outputs)
    ranked = []
    for chain in chains:
        if chain.fits():
            steps = [chain.step_nodes(i) for i in range(len(chain.members))]
            ranked.append((-len(chain.members), len(chain.inits),
                           _exported(steps, chain, consumers), chain, steps))
    found, taken = [], set()
    for *_, chain, steps in sorted(ranked, key=lambda r: r[:3]):
        inside = set().union(*steps)
        if inside & taken or not _outside(chain, inside):
            continue
        taken |= inside
        found.append(chain)
    return found


def _continues(link, following) -> bool:
    """Whether ``following`` is ``link``'s step once more: rows moving the same way,
    the states ``link`` makes read in the same order."""
    return following.shift == link.shift and following.order == link.successors


def _accumulation(link) -> bool:
    """Whether the step only adds to the carry (``carry + f(rows)``): a sum, which an
    add tree computes better than a loop."""
    later = link.later
    return len(link.carries) == 1 and later.op is elementwise.add and any(o is link.earlier for o in later.operands) \
        and not any(link.earlier in toposort([o]) for o in later.operands if o is not link.earlier)


def _exported(steps, chain, consumers) -> int:
    """How many of the steps' inner values are read outside their step. Allowed: each
    is computed again there from the scan's rows (the same nodes on the new carry,
    batched by 1. and 4. in the next round: ``A @ S[t]`` rows of one product); the
    rotation of the step reading the fewest wins (an RNN's states, not its
    pre-activations)."""
    count = 0
    for i, step in enumerate(steps):
        made = {states[i] for states in chain.states}
        for node in step:
            if node not in made and any(c is None or c not in step for c in consumers.get(node, ())):
                count += 1
    return count


def _outside(chain, inside) -> bool:
    """Whether the invariants, the rows' arrays and the init depend on no step."""
    sources = list(chain.links[0].invariants) + chain.inits
    sources += [r for link in chain.links for r, _ in link.rows.values()]
    return inside.isdisjoint(toposort(sources))


def _scans(outputs: list, order: list, first: int = 0) -> tuple:
    """Every recurrence as one ``scan`` node, its members rows of the scan. The scans
    are built while the graph is rebuilt (operands before users), so a scan reading
    another's members (BPTT's backward sweep reads the forward states) reads its rows."""
    chains = recurrences(outputs, order)
    if not chains:
        return outputs, order, 0
    consumers = _consumers(order, outputs)
    plans = [_scan_plan(chain, first + k, _exports(chain, order, consumers))
             for k, chain in enumerate(chains)]
    member_of = {member: (plan, at) for plan in plans for member, at in plan["rows"].items()}
    built: dict = {}

    def substitute(node, new):
        if node not in member_of:
            return None
        plan, (j, k) = member_of[node]
        scan = built.get(id(plan))
        if scan is None:
            operands = [new.get(init, init) for init in plan["inits"]]
            operands += [rebuilt_on(x, new) for x in plan["xs"]]
            operands += [new.get(c, c) for c in plan["consts"]]
            scan = built[id(plan)] = scans.scan_op(*operands, **plan["attrs"])
        return structure.getitem(scan_outputs(scan)[j], index=k)

    new = rebuild(order, substitute=substitute)
    outputs = [new.get(node, node) for node in outputs]
    return _stacked_rows(outputs, statement_order(outputs)) + (len(chains),)


def _exports(chain, order, consumers) -> list:
    """The steps' inner values read outside their step, each as [step 0's, ..., step
    n - 1's]: the scan returns them as outputs (JAX's ``ys``: an LSTM's gate gradients,
    which the weight gradients read), so they are not computed again outside from the
    scan's rows. Those of another dtype than the carries', or of sizes not known when
    compiling, are computed again (one scan node holds every output)."""
    steps = [chain.step_nodes(i) for i in range(len(chain.members))]
    states = [{states[i] for states in chain.states} for i in range(len(steps))]
    kind = chain.members[0].dtype
    found = []
    for template in (node for node in order if node in steps[1] and node not in states[1]):
        if template.dtype != kind or not all(isinstance(d, int) for d in template.shape):
            continue
        copies = chain.copies(template)
        if copies is not None and any(
                node not in states[i] and any(c is None or c not in steps[i] for c in consumers.get(node, ()))
                for i, node in enumerate(copies)):
            found.append(copies)
    return found


def _scan_plan(chain, index: int, exports: list) -> dict:
    """What the scan of ``chain`` is built from: its carries' inits, sequences (slices of
    the rows' arrays), invariants, attributes, and (output, row) of the scan holding each
    state and each exported value (``exports``)."""
    link, n = chain.links[0], len(chain.members)
    backwards = link.shift is not None and link.shift < 0
    names = ["carry"] if len(link.order) == 1 else [f"carry{j}" for j in range(len(link.order))]
    params = {state: leaves.tensor(name, state.shape, state.dtype)
              for name, state in zip(names, link.order)}
    sequences, xs = {}, []
    for row, (source, k) in link.rows.items():  # rows as member 1 reads them
        key = (source, k - link.shift)  # the row member 0 reads
        if key not in sequences:
            sequences[key] = leaves.tensor(f"x{len(sequences)}", row.shape, row.dtype)
            first = key[1] - (n - 1) if backwards else key[1]
            xs.append(structure.getitem(source, index=slice(first, first + n)))
        params[row] = sequences[key]
    constants: dict = {}  # invariant read by the step -> its input
    for node in link.invariants:
        if node.op is structure.constant and literal(node.value) is not None:
            continue  # a Python literal in the step's source
        # a transposed weight enters as it is: a transpose outside the loop is a copy
        outer = node.operands[0] if node.op is structure.transpose else node
        if outer not in constants:
            constants[outer] = leaves.tensor(f"c{len(constants)}", outer.shape, outer.dtype)
        params[node] = constants[outer] if outer is node else node.op(constants[outer], **node.attrs)
    inputs = [params[state] for state in link.order] + list(sequences.values()) + list(constants.values())
    consts = list(constants)
    attrs = {"step": _rebuilt(link.successors + [copies[1] for copies in exports], params),
             "carries": len(link.successors), "params": tuple(inputs),
             "reverse": backwards, "length": n, "sequences": len(xs), "index": index}
    rows = {node: (j, n - 1 - i if backwards else i)
            for j, nodes in enumerate(chain.states + exports) for i, node in enumerate(nodes)}
    return {"inits": chain.inits, "xs": xs, "consts": consts, "attrs": attrs, "rows": rows}


def scan_outputs(scan) -> list:
    """Each per-step output's rows (shape (length, ...)): the scan itself for one output;
    for several, its columns ``scan[:, a:b]`` (reshaped to the output's shape)."""
    steps = scan.attrs["step"]
    if len(steps) == 1:
        return [scan]
    found = []
    for out, (start, stop) in zip(steps, scans.output_columns(scan)):
        rows = structure.getitem(scan, index=(slice(None), slice(start, stop)))
        found.append(rows if out.ndim == 1 else structure.reshape(rows, shape=rows.shape[:1] + out.shape))
    return found


def _is_scan_output(node) -> bool:
    """Whether ``node`` is one of a scan's :func:`scan_outputs`."""
    source = node
    while source.op in (structure.getitem, structure.reshape):
        source = source.operands[0]
    return source.op is scans.scan_op and node in scan_outputs(source)


def _rebuilt(nodes, params: dict) -> tuple:
    """``nodes``' step over the step's parameters (``params``: node -> input node, or
    the transpose of one, whose products with a vector are written vector first:
    :func:`_vector_first`)."""
    new = dict(params)
    stack = list(nodes)
    while stack:
        top = stack[-1]
        if top in new:
            stack.pop()
            continue
        missing = [o for o in top.operands if o not in new]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        node = top.op(*[new[o] for o in top.operands], **top.attrs)
        vector_first = _vector_first(node) if node.op is linalg_ops.matmul else None
        new[top] = node if vector_first is None else vector_first
    return tuple(new[node] for node in nodes)


def _stacked_rows(outputs: list, order: list) -> tuple:
    """A concatenation along axis 0 of consecutive rows ``S[k], ..., S[k + m - 1]`` of a
    scan, as the slice ``S[k:k + m]`` (reshaped), not m pieces."""
    def substitute(node, new):
        if node.op is not structure.concatenate or node.attrs["axis"] != 0:
            return None
        operands = [new.get(o, o) for o in node.operands]
        pieces = _row_runs(operands)
        if len(pieces) == len(operands):
            return None
        return pieces[0] if len(pieces) == 1 else structure.concatenate(*pieces, axis=0)

    new = rebuild(order, substitute=substitute)
    if not new:
        return outputs, order
    outputs = [new.get(node, node) for node in outputs]
    return outputs, statement_order(outputs)


def _row_runs(operands) -> list:
    pieces, i = [], 0
    while i < len(operands):
        row = _row_of(operands[i]) if operands[i].ndim else None
        j = i + 1
        if row is not None and _is_scan_output(row[0]):
            while j < len(operands) and _row_of(operands[j]) == (row[0], row[1] + j - i):
                j += 1
        if j - i >= 2:
            block = structure.getitem(row[0], index=slice(row[1], row[1] + j - i))
            shape = block.shape[1:]
            pieces.append(structure.reshape(block, shape=((j - i) * shape[0],) + shape[1:]))
        else:
            pieces.append(operands[i])
            j = i + 1
        i = j
    return pieces


#: Every rewrite here needs an array op (matmul, outer, concatenate, getitem, stacks
#: along an axis), none of which Python float code has.
PHASE = register(Phase("loop batching", run=fuse, per_backend=True, scalar_graphs=False))
