import numpy as np
import pytest
from numpy.testing import assert_allclose

from numpynn.activations import ACTIVATIONS, DERIVATIVES


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_from_output_matches_central_differences(name, rng):
    z = rng.uniform(-4, 4, size=200)
    z = z[np.abs(z) > 1e-3]                                     # off ReLU's kink
    f = ACTIVATIONS[name]
    eps = 1e-6
    numeric = (f(z + eps) - f(z - eps)) / (2 * eps)
    assert_allclose(DERIVATIVES[name](f(z)), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_out_works_in_place(name, dtype, rng):
    z = rng.normal(size=(5, 3)).astype(dtype)
    expected = ACTIVATIONS[name](z.copy())
    out = z.copy()
    res = ACTIVATIONS[name](out, out=out)
    assert res is out and res.dtype == dtype
    assert_allclose(res, expected)
    assert DERIVATIVES[name](res).dtype == dtype


def test_known_values():
    z = np.array([-2.0, 0.0, 3.0])
    assert_allclose(ACTIVATIONS["relu"](z), [0, 0, 3])
    assert_allclose(ACTIVATIONS["sigmoid"](z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    assert_allclose(ACTIVATIONS["tanh"](z), np.tanh(z))
    assert_allclose(ACTIVATIONS["linear"](z), z)
    # no overflow warnings at extreme inputs (RuntimeWarnings are errors in this suite)
    assert_allclose(ACTIVATIONS["sigmoid"](np.array([-1e4, 1e4])), [0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_exactly_max_with_zero(dtype, rng):
    """float32 ReLU takes a faster NumPy path (a broadcast row of zeros):
    the values, signed zeros and NaNs included, must be np.maximum(z, 0)'s."""
    z = rng.normal(size=(7, 5)).astype(dtype)
    z[0, :3] = [-0.0, 0.0, np.nan]
    expected = np.maximum(z, 0)
    np.testing.assert_array_equal(ACTIVATIONS["relu"](z), expected)
    np.testing.assert_array_equal(np.signbit(ACTIVATIONS["relu"](z)), np.signbit(expected))
    np.testing.assert_array_equal(ACTIVATIONS["relu"](z[0]), expected[0])     # 1-D
