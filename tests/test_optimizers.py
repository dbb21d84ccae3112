"""The optimizer contract: each entry reaches a quadratic's minimum and keeps dtype."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from numpynn.optimizers import OPTIMIZERS, adam, momentum, newton, sgd

SETTINGS = {
    "sgd": dict(learning_rate=0.1),
    "momentum": dict(learning_rate=0.05, beta=0.9),
    "nesterov": dict(learning_rate=0.05, beta=0.9, nesterov=True),
    "adam": dict(learning_rate=0.05),
}


def _factory(name):
    return OPTIMIZERS["momentum" if name == "nesterov" else name]


def _quadratic(dtype):
    """f(p) = 1/2 (p - c)^T A (p - c) with A SPD: minimum at c."""
    A = np.array([[3.0, 0.5], [0.5, 1.0]], dtype)
    c = np.array([1.5, -2.0], dtype)
    return A, c


def test_every_optimizer_is_in_the_table():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "adam"}


@pytest.mark.parametrize("name", list(SETTINGS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reaches_quadratic_minimum_and_keeps_dtype(name, dtype):
    A, c = _quadratic(dtype)
    opt = _factory(name)(**SETTINGS[name])
    params = {"p": np.zeros(2, dtype)}
    state = opt.init(params)
    for _ in range(3000):
        g = A @ (params["p"] - c)
        state = opt.step(params, {"p": g}, state)
        assert params["p"].dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-7
    assert_allclose(params["p"], c, atol=tol)


def test_sgd_is_update_params():
    params = {"w": np.array([1.0, 2.0])}
    sgd(0.5).step(params, {"w": np.array([2.0, -2.0])}, None)
    assert_allclose(params["w"], [0.0, 3.0])


def test_momentum_first_steps_by_hand():
    lr, beta = 0.1, 0.5
    params = {"w": np.array([0.0])}
    opt = momentum(lr, beta)
    s = opt.init(params)
    s = opt.step(params, {"w": np.array([1.0])}, s)    # v = -0.1, w = -0.1
    s = opt.step(params, {"w": np.array([1.0])}, s)    # v = -0.05 - 0.1, w = -0.25
    assert_allclose(params["w"], [-0.25])
    params = {"w": np.array([0.0])}
    opt = momentum(lr, beta, nesterov=True)
    s = opt.step(params, {"w": np.array([1.0])}, opt.init(params))  # w = 0.5*-0.1 - 0.1
    assert_allclose(params["w"], [-0.15])


def test_adam_matches_textbook_bias_corrected_form(rng):
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-8
    opt = adam(lr, b1, b2, eps)
    params = {"w": np.zeros(3)}
    state = opt.init(params)
    m = v = np.zeros(3)
    w = np.zeros(3)
    for t in range(1, 6):
        g = rng.normal(size=3)
        state = opt.step(params, {"w": g}, state)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    assert_allclose(params["w"], w, rtol=1e-12)
    assert state["t"] == 5


def test_newton_one_step_solves_a_quadratic(rng):
    d, k = 4, 2
    H = rng.normal(size=(d + 1, d + 1))
    H = H @ H.T + np.eye(d + 1)
    target = rng.normal(size=(d + 1, k))
    params = {"W1": np.zeros((d, k)), "b1": np.zeros(k)}
    theta = np.vstack([params["W1"], params["b1"]])
    G = H @ (theta - target)
    newton(H).step(params, {"W1": G[:d], "b1": G[d]}, None)
    assert_allclose(np.vstack([params["W1"], params["b1"]]), target, rtol=1e-10)
