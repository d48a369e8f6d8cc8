"""Shared fixtures and the hypothesis profiles.

``ci`` (the default) runs a few hundred examples per property; ``long`` is
for deeper searches (and also switches tests/test_scale_determinism.py to the
10^5-node sizes). Pick one with ``HYPOTHESIS_PROFILE=long`` or
``pytest --hypothesis-profile=long``. Failing examples are saved in
tests/.hypothesis-db (committed), so a shrunk counterexample is replayed first
on every later run, on every machine.

Every LaTeX string the suite produces (``sg.latex``, ``node._repr_latex_()``, the
CLI's ``--latex``, any ``LatexPrinter``) is recorded and rendered by KaTeX
(tests/katex_render.py): a test that produced a string KaTeX rejects fails with
KaTeX's message, and strings produced outside a test's call fail the session.
"""
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

import katex_render
from symgrad.ir.graph import Node
from symgrad.printing.latex import LatexPrinter

DATABASE = DirectoryBasedExampleDatabase(str(Path(__file__).parent / ".hypothesis-db"))
COMMON = dict(deadline=None, database=DATABASE, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

settings.register_profile("ci", max_examples=300, **COMMON)
settings.register_profile("long", max_examples=5000, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """``--hypothesis-profile=long`` also selects the long sizes of non-hypothesis tests."""
    if getattr(config.option, "hypothesis_profile", None) == "long":
        os.environ["HYPOTHESIS_PROFILE"] = "long"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# The LaTeX strings produced and not yet rendered; a test's own are rendered after its call.
PRODUCED: list = []
ACCEPTED: set = set()
RENDERER = katex_render.Renderer()


def _recording(method, strip=None):
    def recorded(*args, **kwargs):
        text = method(*args, **kwargs)
        PRODUCED.append(strip(text) if strip else text)
        return text
    return recorded


def _math_of(text: str) -> str:
    """``$\\displaystyle x$`` (what Jupyter renders) as KaTeX's input; anything else kept
    whole, so that KaTeX rejects it."""
    prefix = "$\\displaystyle "
    if text.startswith(prefix) and text.endswith("$"):
        return text[len(prefix):-1]
    return text


LatexPrinter.doprint = _recording(LatexPrinter.doprint)
Node._repr_latex_ = _recording(Node._repr_latex_, _math_of)


def _rejected(start: int = 0) -> dict:
    """KaTeX's complaints about the strings produced from ``start`` on (then forgotten)."""
    strings = [s for s in PRODUCED[start:] if s not in ACCEPTED]
    del PRODUCED[start:]
    if not strings or katex_render.unavailable():
        return {}
    errors = RENDERER.errors(strings)
    ACCEPTED.update(s for s in strings if s not in errors)
    return errors


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """The test fails if KaTeX rejects a LaTeX string it produced."""
    start = len(PRODUCED)  # strings from before (fixtures, collection) are the session's
    try:
        result = yield
    except BaseException:
        del PRODUCED[start:]
        raise
    errors = _rejected(start)
    if errors:
        raise AssertionError("LaTeX that KaTeX rejects:\n" + katex_render.report(errors))
    return result


def pytest_sessionfinish(session, exitstatus):
    """Strings produced outside a test's call that KaTeX rejects fail the session."""
    errors = _rejected()
    RENDERER.close()
    if errors:
        session.config.get_terminal_writer().line(
            "LaTeX produced outside a test's call that KaTeX rejects:\n"
            + katex_render.report(errors), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
