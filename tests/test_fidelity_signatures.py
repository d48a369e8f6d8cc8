"""Fidelity audit, signatures: every symgrad function under a NumPy name has NumPy's first
parameter name and accepts each of NumPy's keywords (those with a graph meaning: buffers,
memory layout and device keywords excepted), for sg.* and sg.linalg.*."""
import inspect

import numpy as np
import pytest

import symgrad as sg

NO_GRAPH_MEANING = {"out", "where", "like", "casting", "order", "subok", "signature", "extobj",
                    "device", "copy", "ndmax"}
WHERE_SUPPORTED = {"sum", "prod", "mean", "var", "std"}


def _parameters(f):
    """The names a caller can pass by keyword, and the first one if it may be positional."""
    try:
        items = list(inspect.signature(f).parameters.items())
    except (TypeError, ValueError):
        return None
    named = [k for k, v in items if v.kind in (v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY)]
    first = [k for k, v in items[:1] if v.kind == v.POSITIONAL_OR_KEYWORD]
    return named, first


def _pairs():
    for space, ours, theirs in (("sg", sg, np), ("sg.linalg", sg.linalg, np.linalg)):
        for name in sorted(dir(ours)):
            f, g = getattr(ours, name, None), getattr(theirs, name, None)
            if name.startswith("_") or not callable(f) or g is None or isinstance(g, type) \
                    or isinstance(g, np.ufunc):
                continue
            p, q = _parameters(f), _parameters(g)
            if p is not None and q is not None:
                yield pytest.param(name, p, q, id=f"{space}.{name}")


@pytest.mark.parametrize("name,ours,numpys", list(_pairs()))
def test_numpy_parameter_names(name, ours, numpys):
    if name in ("corrcoef", "reshape") and np.lib.NumpyVersion(np.__version__) < "2.1.0":
        pytest.skip("NumPy < 2.1 has other parameter names here (reshape's newshape, "
                    "corrcoef's bias/ddof); symgrad follows NumPy >= 2.1")
    (ours, _), (numpys, numpys_first) = ours, numpys
    if numpys_first:  # NumPy's first parameter may be passed by name: ours has that name
        assert ours[:1] == numpys_first
    missing = [k for k in numpys if k not in ours and k not in NO_GRAPH_MEANING]
    assert missing == []
    if name in WHERE_SUPPORTED:
        assert "where" in ours
