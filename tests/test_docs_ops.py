"""docs/ops.md and the op registry cannot drift apart."""
import re
from pathlib import Path

import symgrad as sg

OPS_MD = Path(__file__).resolve().parents[1] / "docs" / "ops.md"


def documented_ops() -> list:
    """Op names in the first column of the reference tables: ``| `name` | ...``."""
    return re.findall(r"^\| `(\w+)` \|", OPS_MD.read_text(encoding="utf-8"), flags=re.M)


def test_every_registered_op_is_documented():
    missing = sorted(set(sg.REGISTRY) - set(documented_ops()))
    assert not missing, f"ops registered but not in docs/ops.md: {missing}"


def test_every_documented_op_is_registered_once():
    names = documented_ops()
    assert not sorted(set(names) - set(sg.REGISTRY)), "docs/ops.md lists unknown ops"
    assert len(names) == len(set(names)), "docs/ops.md lists an op twice"


def test_each_entry_states_shape_rule_and_derivative():
    for line in OPS_MD.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| `\w+` \|", line):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert len(cells) == 4 and all(cells), line
