"""docs/derivations.md is executed: its ```python blocks run in order in one
namespace (their check_grad assertions must hold), and a ```text block right
after a python block must equal what that block printed, so the doc cannot
drift from symgrad's actual output.

After an intended change of symgrad's printed output, regenerate the text
blocks with ``python tests/test_derivations_doc.py --update`` and review the diff.
"""
import contextlib
import io
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "derivations.md"
FENCE = re.compile(r"```(python|text)\n(.*?)```", re.S)


def blocks(text: str) -> list:
    """[(python source, shown output block match or None)] in document order."""
    found = list(FENCE.finditer(text))
    pairs = []
    for i, match in enumerate(found):
        if match.group(1) != "python":
            continue
        following = found[i + 1] if i + 1 < len(found) else None
        shown = None
        if following is not None and following.group(1) == "text" and \
                not text[match.end():following.start()].strip():
            shown = following
        pairs.append((match.group(2), shown))
    return pairs


def run(text: str) -> list:
    """[(printed output, shown output match or None)] for every python block."""
    namespace = {"__name__": "derivations_doc"}
    results = []
    for number, (source, shown) in enumerate(blocks(text), 1):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, f"{DOC.name}:block{number}", "exec"), namespace)
        results.append((buffer.getvalue(), shown))
    return results


def test_doc_blocks_run_and_print_what_the_doc_shows():
    text = DOC.read_text(encoding="utf-8")
    results = run(text)
    assert len(results) >= 10
    for printed, shown in results:
        if shown is not None:
            assert printed.rstrip("\n") == shown.group(2).rstrip("\n"), (
                "docs/derivations.md is out of date; run "
                "`python tests/test_derivations_doc.py --update` and review the diff")


def test_doc_checks_every_hand_derivation():
    sources = "\n".join(source for source, _ in blocks(DOC.read_text(encoding="utf-8")))
    for topic in ("logdet", "trace(sg.inv(K)", "one_hot", "tanh", "W3",
                  "x @ A @ x", "sg.trace(X.T @ A @ X)", "sg.logdet(X.T @ X)",
                  "sg.log(1 - p)", "sg.exp(Z) / sg.sum(sg.exp(Z)"):
        assert topic in sources
    assert sources.count("check_grad(") >= 10
    assert sources.count("assert ") >= 5


def update():
    """Rewrite every shown-output block with what its python block prints now."""
    text = DOC.read_text(encoding="utf-8")
    pieces, last = [], 0
    for printed, shown in run(text):
        if shown is not None:
            pieces += [text[last:shown.start(2)], printed.rstrip("\n") + "\n"]
            last = shown.end(2)
    DOC.write_text("".join(pieces) + text[last:], encoding="utf-8")


if __name__ == "__main__" and "--update" in sys.argv:
    update()
