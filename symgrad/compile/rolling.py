"""Runs of like statements in Python float code, rolled into loops.

A deep scalar chain compiles (:mod:`symgrad.compile.scalar_code`) to the same few
statements once per layer: the W4 chain at depth 10^4 to 3 x 10^4 statements, 2 MB
of source that CPython's ``compile()`` takes half a second over. This pass finds the
*runs*: consecutive statements with one template (the same ops, attributes, constants
and inlined structure; the operands they read, its *slots*, aside) in which every
slot reads, member after member,

* ``previous``: the previous member's result (a recurrence, ``u = σ(w u + b)``),
* ``fixed``: one value for every member (a loop invariant), or
* ``stride``: consecutive elements, at one step, of a sequence: the arguments
  (``w0, w1, ...``) or the results of an earlier rolled run, in the same or the
  reverse order (the forward values a backward run reads).

A run of at least ``MIN_RUN`` members becomes one loop over ``zip`` of slices of those
sequences, its results collected into a list (a list comprehension when no member
reads the previous one); later statements read a member as ``results[k]``, the
return tuple a stretch of them as ``*results[a:b]``. The loop computes the same
operations on the same values in the same order, so its results are bitwise those
of the straight code (tests/test_rolling.py). Shorter runs stay straight code: a
loop's setup costs more than it saves there.

Which node is a statement is the emitter's rule (``memory_plan.inline_depth``, which
:func:`plan` applies too), with one change: an output is always a statement, so that the outputs of a run are its
members (straight code writes an output read once into the return tuple).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..ops import structure
from .memory_plan import INLINE_DEPTH

#: Runs shorter than this stay straight code.
MIN_RUN = 8
#: Modules with fewer statements stay straight code, whatever their runs: a rolled
#: iteration costs ~310 instructions a call more than the straight statement, while
#: CPython's ``compile()`` costs ~50,000 instructions a statement once, so straight
#: code has paid for its compile time after ~160 calls (a training loop makes
#: thousands). Below ~2,000 statements ``compile()`` takes under ~0.1 s; above, it is
#: what a user waits for (W4 at d = 10⁴: 20,000 statements, ~0.5 s), and the loops win.
MIN_STATEMENTS = 2048
#: The sequence of the function's arguments (``stride`` slots over inputs).
ARGUMENTS = "arguments"
_PREVIOUS = ("previous",)
_STEM = re.compile(r"[A-Za-z]+")


@dataclass(eq=False, slots=True)
class Statement:
    """A node computed by a statement of its own: its template (``key``, equal for
    statements that differ only in the values they read), those values in slot order
    (``reads``), and its ``span`` in the order, ``(start, stop)``: after the previous
    statement up to itself. ``clean``: the span holds its own inlined nodes only (and
    leaves), so the statement can be emitted, or rolled, on its own."""

    root: object
    key: int
    reads: tuple
    span: tuple
    clean: bool


@dataclass(eq=False)
class Run:
    """Consecutive statements of one template rolled into one loop: ``patterns`` per
    slot, read off the first two members (see the module doc); ``results``, the
    variable of the list of their values once the loop is written."""

    members: list
    patterns: list = field(default_factory=list)
    results: str = ""


def plan(order, uses, leaves, outputs) -> list:
    """The :class:`Statement` s of ``order`` (topological, as the emitter walks it):
    the nodes not in ``leaves`` (inputs and constants) that are not inlined into
    their one reader (``uses``: read counts); ``outputs`` are always statements. None
    (no walk) for an order shorter than ``MIN_STATEMENTS``: it has fewer statements
    still, so :func:`find_runs` would roll none."""
    statements = []
    if len(order) < MIN_STATEMENTS:
        return statements
    outputs = set(outputs)
    constant = structure.constant
    templates: dict = {}
    template, read_count = templates.setdefault, uses.get
    #: inlined node -> (template key, reads, first position, node count, nesting depth)
    inlined: dict = {}
    tree = inlined.get
    previous = -1  # position of the previous statement
    placed = 0  # non-leaf nodes since the previous statement
    for position, node in enumerate(order):
        if node in leaves:
            continue
        placed += 1
        parts = [node.op, node.dtype, _attributes(node) if node.attrs else ()]
        reads, first, size, depth = [], position, 1, 1
        for operand in node.operands:
            below = tree(operand)
            if below is not None:
                parts.append(below[0])
                reads += below[1]
                size += below[3]
                if below[2] < first:
                    first = below[2]
                if below[4] >= depth:
                    depth = below[4] + 1
            elif operand.op is constant:
                parts.append(operand)
            else:
                parts.append(operand.dtype)
                reads.append(operand)
        key = template(tuple(parts), len(templates))
        # memory_plan.inline_depth's rule, on the depths at hand (every value is 0-d)
        if depth <= INLINE_DEPTH and read_count(node) == 1 and node not in outputs:
            inlined[node] = (key, reads, first, size, depth)
            continue
        clean = first > previous and size == placed
        statements.append(Statement(node, key, tuple(reads), (previous + 1, position + 1), clean))
        previous, placed = position, 0
    return statements


def _attributes(node):
    """A node's (non-empty) attributes as part of its template: hashable, or the node
    itself (then its template is its own, and it is never rolled)."""
    items = tuple(node.attrs.items())
    try:
        hash(items)
    except TypeError:
        return node
    return items


def find_runs(statements, inputs) -> tuple:
    """(the runs of ``statements`` to roll, first to last; {node: (sequence, index)} of
    the elements of the arguments and of those runs). Greedy, in one pass: a run grows
    while the next statement has its template and continues every slot's pattern. None
    in a module of fewer than ``MIN_STATEMENTS`` statements."""
    elements = {node: (ARGUMENTS, i) for i, node in enumerate(inputs)}
    runs: list = []
    if len(statements) < MIN_STATEMENTS:
        return runs, elements
    current = None
    for statement in statements:
        if current is not None and _continues(current, statement, elements):
            current.members.append(statement)
            continue
        _close(current, runs, elements)
        current = Run([statement]) if statement.clean else None
    _close(current, runs, elements)
    return runs, elements


def _close(run, runs: list, elements: dict) -> None:
    if run is not None and len(run.members) >= MIN_RUN:
        runs.append(run)
        elements.update((member.root, (run, k)) for k, member in enumerate(run.members))


def _continues(run: Run, statement: Statement, elements: dict) -> bool:
    """Whether ``statement`` can be the next member of ``run`` (its second member sets
    the patterns)."""
    first = run.members[0]
    if statement.key != first.key or not statement.clean:
        return False
    k = len(run.members)
    if k == 1:
        patterns = [_pattern(a, b, first.root, elements) for a, b in zip(first.reads, statement.reads)]
        if None in patterns or not _consistent(first.reads, patterns):
            return False
        run.patterns = patterns
        return True
    before = run.members[-1].root
    for read, pattern in zip(statement.reads, run.patterns):
        kind = pattern[0]
        if kind == "previous":
            if read is not before:
                return False
        elif kind == "fixed":
            if read is not pattern[1]:
                return False
        elif elements.get(read) != (pattern[1], pattern[2] + k * pattern[3]):
            return False
    return True


def _pattern(first, second, first_root, elements):
    """The pattern of a slot that reads ``first`` in a run's first member and ``second``
    in its second, or None when it follows none."""
    if second is first_root:
        return _PREVIOUS
    if second is first:
        return ("fixed", first)
    a, b = elements.get(first), elements.get(second)
    if a is not None and b is not None and a[0] is b[0]:
        return ("stride", a[0], a[1], b[1] - a[1])
    return None


def _consistent(reads, patterns) -> bool:
    """Whether the first member's reads give each node one pattern, and the
    recurrence one initial value: the loop variables replace nodes in its template."""
    seen: dict = {}
    initial = None
    for read, pattern in zip(reads, patterns):
        if seen.setdefault(read, pattern) != pattern:
            return False
        if pattern is _PREVIOUS:
            if initial is not None and initial is not read:
                return False
            initial = read
    return True


def emit_body(emitter, order, runs, lengths: dict) -> list:
    """The function body: the emitter's straight statements, with each run written as
    one loop (``lengths``: {sequence: its length}; the arguments' is given, each run's
    is added as it is written)."""
    lines, position = [], 0
    for run in runs:
        start, stop = run.members[0].span[0], run.members[-1].span[1]
        lines += emitter.emit(order[position:start])
        lines += _loop(emitter, order, run, lengths)
        lengths[run] = len(run.members)
        position = stop
    return lines + emitter.emit(order[position:])


def _loop(emitter, order, run: Run, lengths: dict) -> list:
    """The lines of ``run``'s loop; afterwards its members' variables are elements of
    its results list (the last one the loop's own variable, for a recurrence)."""
    var, namer = emitter.var, emitter.namer
    first, count = run.members[0], len(run.members)
    stem = first.root.op.name
    names, targets, iterables, carried, initial = {}, [], [], None, None
    for read, pattern in zip(first.reads, run.patterns):
        if read in names or pattern[0] == "fixed":
            continue
        if pattern is _PREVIOUS:
            carried = names[read] = namer.claim(stem, "value")
            initial = var[read]
            continue
        sequence, start, step = pattern[1], pattern[2], pattern[3]
        names[read] = namer.claim(_stem(read.name) if sequence is ARGUMENTS
                                  else sequence.members[0].root.op.name, "item")
        targets.append(names[read])
        source = ARGUMENTS if sequence is ARGUMENTS else sequence.results
        iterables.append(sliced(source, lengths[sequence], start, step, count))
    saved = {read: var[read] for read in names}
    var.update(names)
    emitter.emit(order[first.span[0]:first.span[1] - 1])  # its inlined nodes: no statements
    expression = emitter.statement(first.root)
    var.update(saved)
    run.results = results = namer.claim(f"{stem}_results", "results")
    if not iterables:
        header = f"for _ in range({count})"
    elif len(iterables) == 1:
        header = f"for {targets[0]} in {iterables[0]}"
    else:
        header = f"for {', '.join(targets)} in zip({', '.join(iterables)})"
    if carried is None:
        lines = [f"    {results} = [{expression} {header}]"]
    else:
        lines = [f"    {carried} = {initial}", f"    {results} = []", f"    {header}:",
                 f"        {carried} = {expression}", f"        {results}.append({carried})"]
    var.update((member.root, f"{results}[{k}]") for k, member in enumerate(run.members))
    if carried is not None:
        var[run.members[-1].root] = carried
    return lines


def _stem(name) -> str:
    """A loop variable's name for a stretch of inputs: the first letters of the first's name."""
    found = _STEM.match(name or "")
    return found.group(0) if found else "item"


def sliced(source: str, length: int, start: int, step: int, count: int) -> str:
    """Python source for the ``count`` elements ``start, start + step, ...`` of the
    sequence ``source`` of ``length`` elements: ``source`` itself when that is all of it."""
    last = start + (count - 1) * step
    if step > 0:
        if start == 0 and step == 1 and last == length - 1:
            return source
        head = "" if start == 0 else str(start)
        stop = "" if last + step >= length else str(last + 1)
    else:
        head = "" if start == length - 1 else str(start)
        stop = "" if last + step < 0 else str(last - 1)
    return f"{source}[{head}:{stop}{'' if step == 1 else f':{step}'}]"


def returned(outputs, var, elements: dict, lengths: dict) -> list:
    """The return tuple's items: each output's variable, a stretch of consecutive
    elements of one rolled run (at one step) as ``*results[a:b]``."""
    items, i = [], 0
    while i < len(outputs):
        at = elements.get(outputs[i])
        j = i + 1
        if at is not None and at[0] is not ARGUMENTS and j < len(outputs):
            after = elements.get(outputs[j])
            step = after[1] - at[1] if after is not None and after[0] is at[0] else 0
            while step and j < len(outputs) and elements.get(outputs[j]) == (at[0], at[1] + (j - i) * step):
                j += 1
        if j - i >= 2:
            items.append("*" + sliced(at[0].results, lengths[at[0]], at[1], step, j - i))
        else:
            items.append(var[outputs[i]])
            j = i + 1
        i = j
    return items


def read_by_name(statements, runs, outputs) -> set:
    """The nodes rolled code reads by their own variable: what the straight statements,
    the loops' fixed operands and initial values, and the outputs read (a ``stride``
    slot reads its elements off their sequence instead)."""
    rolled = {id(member) for run in runs for member in run.members}
    named = set(outputs)
    for statement in statements:
        if id(statement) not in rolled:
            named.update(statement.reads)
    for run in runs:
        named.update(read for read, pattern in zip(run.members[0].reads, run.patterns)
                     if pattern[0] != "stride")
    return named
