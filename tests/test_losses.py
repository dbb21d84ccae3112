import numpy as np
import pytest
from numpy.testing import assert_allclose

from numpynn.losses import compute_loss, loss_and_derivative, loss_derivative


def test_half_mse_matches_tutorial_formula(rng):
    y, y_pred = rng.normal(size=50), rng.normal(size=(50, 1))
    assert_allclose(compute_loss(y, y_pred), 0.5 * np.mean((y_pred[:, 0] - y) ** 2))


def test_multi_output_is_a_mean_over_samples_and_outputs(rng):
    y, y_pred = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert_allclose(compute_loss(y, y_pred), 0.5 * ((y - y_pred) ** 2).sum() / 60)


def test_integer_weights_equal_repeated_rows(rng):
    y, y_pred = rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    w = rng.integers(1, 4, size=10)
    rep = np.repeat(np.arange(10), w)
    assert_allclose(compute_loss(y, y_pred, sample_weight=w.astype(float)),
                    compute_loss(y[rep], y_pred[rep]))
    # the gradient w.r.t. one weighted row is the sum over its copies
    summed = np.zeros((10, 2))
    np.add.at(summed, rep, loss_derivative(y[rep], y_pred[rep]))
    assert_allclose(loss_derivative(y, y_pred, w.astype(float)), summed, rtol=1e-12)


def test_penalty_is_alpha_over_2n_times_squared_weights(rng):
    y, y_pred = rng.normal(size=8), rng.normal(size=(8, 1))
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=2),
              "W2": rng.normal(size=(2, 1)), "b2": rng.normal(size=1)}
    sq = (params["W1"] ** 2).sum() + (params["W2"] ** 2).sum()
    assert_allclose(compute_loss(y, y_pred, params=params, alpha=0.3),
                    compute_loss(y, y_pred) + 0.3 * sq / (2 * 8))


def test_loss_derivative_is_the_gradient_of_the_loss(rng, gradcheck):
    y, y_pred = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    sw = rng.uniform(0.2, 2, size=6)
    numeric = gradcheck(lambda p: compute_loss(y, p["y"], sample_weight=sw), {"y": y_pred})
    assert_allclose(loss_derivative(y, y_pred, sw), numeric["y"], rtol=1e-6)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="must match"):
        compute_loss(np.zeros(4), np.zeros((4, 2)))


@pytest.mark.parametrize("shape", [(9,), (9, 1), (9, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_and_derivative_equal_the_two_functions(rng, shape, weighted):
    """One residual gives both; y_pred may be 1-D like y (weights included)."""
    y, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    sw = rng.uniform(0.1, 3.0, size=9) if weighted else None
    w = np.ones(9) if sw is None else sw
    rows = ((y_pred - y) ** 2).reshape(9, -1).mean(axis=1)
    assert_allclose(compute_loss(y, y_pred, sample_weight=sw),
                    0.5 * np.dot(w, rows) / w.sum(), rtol=1e-14)
    out = np.empty(shape)
    loss, delta = loss_and_derivative(y, y_pred, sw, out=out)
    assert delta is out
    assert_allclose(loss, compute_loss(y, y_pred, sample_weight=sw), rtol=1e-14)
    assert_allclose(delta, loss_derivative(y, y_pred, sw), rtol=1e-15)
