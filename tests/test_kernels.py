import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from numpynn.activations import ACTIVATIONS, DERIVATIVES
from numpynn.kernels import (
    compute_loss,
    forward_prop,
    gradient,
    hessian,
    init_params,
    loss_and_gradient,
    update_params,
)

ACTS = list(ACTIVATIONS)


def _two_layer(rng, d=3, h=5, k=2, activation="tanh"):
    return init_params((d, h, k), activation, rng)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_central_differences(rng, gradcheck, activation, k, alpha,
                                              weighted):
    n, d, h = 7, 3, 4
    X = rng.normal(size=(n, d))
    y = rng.normal(size=(n, k))
    sw = rng.uniform(0.1, 2.0, size=n) if weighted else None
    params = init_params((d, h, k), activation, rng)
    if activation == "relu":        # keep every unit away from its kink
        params["b1"] += np.sign(params["b1"]) * 0.5

    def loss(p):
        return compute_loss(y, forward_prop(X, p, activation)[0], sample_weight=sw,
                            params=p, alpha=alpha)

    y_pred, cache = forward_prop(X, params, activation)
    analytic = gradient(params, cache, y, y_pred, activation, alpha=alpha,
                        sample_weight=sw)
    numeric = gradcheck(loss, params)
    assert analytic.keys() == params.keys()
    for key in params:
        assert_allclose(analytic[key], numeric[key], rtol=1e-5, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_gradient_equal_compute_loss_and_the_explicit_backprop(
        rng, activation, k, weighted, dtype):
    """The combined kernel equals compute_loss + gradient, and both equal the
    textbook backprop with Delta_1 formed explicitly."""
    n, d, h, alpha = 40, 3, 6, 0.4
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.normal(size=(n, k)).astype(dtype)
    sw = rng.uniform(0.1, 2.0, size=n) if weighted else None
    params = init_params((d, h, k), activation, rng, dtype)
    y_pred, cache = forward_prop(X, params, activation)
    # textbook backprop, in float64
    w = np.ones(n) if sw is None else sw
    c = (w / (w.sum() * k))[:, None]
    P = {key: v.astype(np.float64) for key, v in params.items()}
    Z = X.astype(np.float64) @ P["W1"] + P["b1"]
    H = ACTIVATIONS[activation](Z.copy())
    D2 = c * (H @ P["W2"] + P["b2"] - y)
    D1 = (D2 @ P["W2"].T) * DERIVATIVES[activation](H)
    expected = {"W1": X.T @ D1 + alpha / w.sum() * P["W1"], "b1": D1.sum(0),
                "W2": H.T @ D2 + alpha / w.sum() * P["W2"], "b2": D2.sum(0)}
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-4,
                                                                          atol=1e-6)
    y_pred, cache = forward_prop(X, params, activation)
    loss, grads = loss_and_gradient(params, cache, y, y_pred, activation,
                                    alpha=alpha, sample_weight=sw)
    assert_allclose(loss, compute_loss(y, y_pred, sample_weight=sw, params=params,
                                       alpha=alpha), rtol=1e-6 if dtype ==
                    np.float32 else 1e-13)
    plain = gradient(params, cache, y, y_pred, activation, alpha=alpha,
                     sample_weight=sw)
    for key in params:
        assert grads[key].dtype == plain[key].dtype == dtype
        assert_allclose(grads[key], expected[key], **tol, err_msg=key)
        assert_allclose(plain[key], expected[key], **tol, err_msg=key)


def test_one_layer_gradient_is_the_tutorials_dm_db(rng):
    X = rng.normal(size=(50, 1))
    y = 3 * X[:, 0] + 1 + rng.normal(size=50)
    m, b = 0.4, -0.2
    params = {"W1": np.array([[m]]), "b1": np.array([b])}
    y_pred, cache = forward_prop(X, params)
    g = gradient(params, cache, y, y_pred)
    yp = m * X[:, 0] + b
    assert_allclose(g["W1"][0, 0], np.mean((yp - y) * X[:, 0]), rtol=1e-13)
    assert_allclose(g["b1"][0], np.mean(yp - y), rtol=1e-13)


def test_forward_prop_shapes_and_cache(rng):
    params = _two_layer(rng, d=3, h=5, k=2)
    X = rng.normal(size=(11, 3))
    y_pred, cache = forward_prop(X, params, "tanh")
    assert y_pred.shape == (11, 2)
    assert cache[0] is X
    assert_allclose(cache[1], np.tanh(X @ params["W1"] + params["b1"]))
    assert_allclose(y_pred, cache[1] @ params["W2"] + params["b2"])


def test_linear_activation_collapses_to_a_linear_model(rng):
    """The tutorial's point: a linear hidden layer is linear regression."""
    params = _two_layer(rng, activation="linear")
    X = rng.normal(size=(9, 3))
    W = params["W1"] @ params["W2"]
    b = params["b1"] @ params["W2"] + params["b2"]
    assert_allclose(forward_prop(X, params, "linear")[0], X @ W + b)


def test_gradient_is_zero_at_least_squares_solution(rng):
    X = rng.normal(size=(40, 4))
    y = rng.normal(size=(40, 2))
    A = np.hstack([X, np.ones((40, 1))])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    params = {"W1": beta[:4], "b1": beta[4]}
    y_pred, cache = forward_prop(X, params)
    for g in gradient(params, cache, y, y_pred).values():
        assert_allclose(g, 0.0, atol=1e-13)


@pytest.mark.parametrize("activation", ACTS)
def test_float32_in_float32_out(rng, activation):
    X = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)
    params = init_params((3, 4, 2), activation, rng, np.float32)
    y_pred, cache = forward_prop(X, params, activation)
    grads = gradient(params, cache, y, y_pred, activation, alpha=0.1,
                     sample_weight=np.ones(8, np.float32))
    assert y_pred.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    update_params(params, grads, 0.1)
    assert all(p.dtype == np.float32 for p in params.values())


def test_zero_learning_rate_leaves_params_unchanged(rng):
    params = _two_layer(rng)
    before = {k: v.copy() for k, v in params.items()}
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    y_pred, cache = forward_prop(X, params, "tanh")
    update_params(params, gradient(params, cache, y, y_pred, "tanh"), 0.0)
    for k in params:
        assert_array_equal(params[k], before[k])


def test_update_params_is_a_gradient_step_and_lowers_the_loss(rng):
    X, y = rng.normal(size=(30, 3)), rng.normal(size=(30, 1))
    params = {"W1": np.zeros((3, 1)), "b1": np.zeros(1)}
    y_pred, cache = forward_prop(X, params)
    before = compute_loss(y, y_pred)
    grads = gradient(params, cache, y, y_pred)
    expected = {k: params[k] - 0.1 * grads[k] for k in params}
    update_params(params, grads, 0.1)
    for k in params:
        assert_allclose(params[k], expected[k])
    assert compute_loss(y, forward_prop(X, params)[0]) < before


def test_init_params_glorot_scales():
    rng = np.random.default_rng(0)
    bound = np.sqrt(6 / 700)
    for activation in ("relu", "tanh"):
        p = init_params((400, 300, 1), activation, rng)
        assert np.abs(p["W1"]).max() <= bound
        assert_allclose(p["W1"].std(), bound / np.sqrt(3), rtol=0.02)   # U(+-b): b / sqrt(3)
        bias_bound = bound if activation == "relu" else 1 / np.sqrt(400)
        assert np.abs(p["b1"]).max() <= bias_bound
        assert np.abs(p["b1"]).max() > 0.9 * bias_bound


def test_init_params_is_determined_by_the_generator():
    a = init_params((3, 4, 2), "relu", np.random.default_rng(5))
    b = init_params((3, 4, 2), "relu", np.random.default_rng(5))
    for k in a:
        assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_matches_finite_differences_of_gradient(rng, weighted):
    n, d, k = 25, 3, 2
    X = rng.normal(size=(n, d))
    y = rng.normal(size=(n, k))
    sw = rng.uniform(0.5, 1.5, n) if weighted else None
    H = hessian(X, sample_weight=sw, alpha=0.3, n_outputs=k, chunk_rows=7)
    # The gradient is affine in theta for output 0: H = d grad / d theta.
    eps = 1e-3
    cols = []
    for j in range(d + 1):
        grads = []
        for sign in (1, -1):
            theta = np.zeros((d + 1, k))
            theta[j, 0] = sign * eps
            params = {"W1": theta[:d], "b1": theta[d]}
            y_pred, cache = forward_prop(X, params)
            g = gradient(params, cache, y, y_pred, alpha=0.3, sample_weight=sw)
            grads.append(np.concatenate([g["W1"][:, 0], g["b1"][:1]]))
        cols.append((grads[0] - grads[1]) / (2 * eps))
    assert_allclose(H, np.array(cols).T, rtol=1e-7, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_loss_is_nonnegative_and_zero_at_truth(n, k, seed):
    r = np.random.default_rng(seed)
    y = r.normal(size=(n, k)) * 10
    y_pred = r.normal(size=(n, k)) * 10
    sw = r.uniform(0, 3, size=n) + 1e-3
    assert compute_loss(y, y_pred) >= 0
    assert compute_loss(y, y_pred, sample_weight=sw) >= 0
    assert compute_loss(y, y.copy()) == 0.0
    assert compute_loss(y, y.copy(), sample_weight=sw) == 0.0
