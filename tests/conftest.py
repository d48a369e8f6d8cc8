"""Shared fixtures and the hypothesis profiles.

``ci`` (the default) runs a few hundred examples per property; ``long`` is
for deeper searches (and also switches tests/test_scale_determinism.py to the
10^5-node sizes). Pick one with ``HYPOTHESIS_PROFILE=long`` or
``pytest --hypothesis-profile=long``. Failing examples are saved in
tests/.hypothesis-db (committed), so a shrunk counterexample is replayed first
on every later run, on every machine.
"""
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

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
