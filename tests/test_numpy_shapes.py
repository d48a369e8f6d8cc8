"""NumPy shape functions: values against NumPy and build-time axis errors."""
import numpy as np
import pytest

import symgrad as sg
from symgrad.api.functions import stack


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
def test_stack_matches_numpy_for_every_axis(axis):
    a, b = sg.matrix("sa", (2, 3)), sg.matrix("sb", (2, 3))
    f = sg.function([a, b], stack([a, b], axis=axis))
    x, y = np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(x, y), np.stack([x, y], axis=axis))


@pytest.mark.parametrize("axis", [3, -4])
def test_stack_rejects_out_of_bounds_axis(axis):
    a = sg.matrix("sa", (2, 3))
    with pytest.raises(ValueError, match="stack"):
        stack([a, a], axis=axis)
