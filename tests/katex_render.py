"""Render LaTeX with KaTeX (a real TeX-math renderer, through node) and report rejections.

One node process per pytest process (tests/katex/render.js) serves every request:
each request is one JSON string on a line, each answer one JSON line (``null`` when
KaTeX accepts the string, else its error message). KaTeX is pinned in
tests/katex/package.json; ``npm ci`` in tests/katex installs it (.ci/run does).

:func:`unavailable` says why rendering cannot run here (no node, or KaTeX not
installed), or None. With ``SYMGRAD_REQUIRE_KATEX=1`` (set by .ci/run) a missing
renderer is an error rather than a skip, so CI cannot pass without rendering.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent / "katex"
SCRIPT = HERE / "render.js"
REQUIRED = os.environ.get("SYMGRAD_REQUIRE_KATEX") == "1"


def unavailable():
    """Why KaTeX cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (KaTeX, the LaTeX renderer of the tests, runs on node)"
    if not (HERE / "node_modules" / "katex" / "package.json").exists():
        return "KaTeX is not installed: run `npm ci` in tests/katex"
    return None


class Renderer:
    """A KaTeX process: :meth:`errors` maps LaTeX strings to KaTeX's complaints."""

    def __init__(self):
        self._process = None

    def _start(self):
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                ["node", str(SCRIPT)], cwd=HERE, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
        return self._process

    def errors(self, strings) -> dict:
        """``{latex: error}`` for each of ``strings`` KaTeX rejects (display mode)."""
        strings = list(dict.fromkeys(strings))
        if not strings:
            return {}
        process = self._start()
        found = {}
        for text in strings:  # one at a time: a long answer never blocks a long request
            process.stdin.write(json.dumps(text) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the KaTeX process (tests/katex/render.js) stopped")
            error = json.loads(line)
            if error is not None:
                found[text] = error
        return found

    def close(self):
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=10)
        self._process = None


def report(errors: dict) -> str:
    """KaTeX's rejections, one string and its error per paragraph."""
    return "\n\n".join(f"KaTeX rejects {text!r}:\n  {error}" for text, error in errors.items())
