"""TwoLayerNet(optimizer="lbfgs"): SciPy's L-BFGS-B on the full batch."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

import numpynn
from numpynn import TwoLayerNet
from numpynn.kernels import compute_loss, forward_prop, init_params


@pytest.fixture
def data():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(60, 3))
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.05 * rng.normal(size=60)


def test_same_iterates_as_mlp_regressor_lbfgs(data):
    """From the same weights, the same loss and gradient give SciPy the same path."""
    X, y = data
    net = TwoLayerNet(hidden_units=5, optimizer="lbfgs", alpha=0.01, max_iter=15, tol=None,
                      random_state=0).fit(X, y)
    start = init_params((3, 5, 1), "relu", np.random.default_rng(0))
    mlp = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.01, max_iter=1,
                       warm_start=True, random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)
    mlp.coefs_ = [start["W1"].copy(), start["W2"].copy()]
    mlp.intercepts_ = [start["b1"].copy(), start["b2"].copy()]
    with pytest.warns(ConvergenceWarning):
        mlp.set_params(max_iter=15).fit(X, y)
    for ours, theirs in zip(net.coefs_ + net.intercepts_, mlp.coefs_ + mlp.intercepts_,
                            strict=True):
        assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)
    assert net.loss_ == pytest.approx(mlp.loss_, rel=1e-9)


def test_loss_curve_is_the_loss_after_each_iteration(data):
    X, y = data
    seen = []
    net = TwoLayerNet(hidden_units=5, optimizer="lbfgs", alpha=0.1, max_iter=8, tol=None,
                      random_state=1,
                      callbacks=[lambda est, logs: seen.append(
                          [p.copy() for p in est.coefs_ + est.intercepts_])]).fit(X, y)
    assert len(net.loss_curve_) == len(seen) == net.n_iter_ == 8
    for loss, (W1, W2, b1, b2) in zip(net.loss_curve_, seen, strict=True):
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        y_pred, _ = forward_prop(X, params)
        assert loss == pytest.approx(compute_loss(y, y_pred, params=params, alpha=0.1),
                                     rel=1e-12)
    assert np.all(np.diff(net.loss_curve_) <= 0)               # a descent method


def test_reference_path_gives_the_same_fit(data):
    X, y = data
    fast = TwoLayerNet(hidden_units=5, optimizer="lbfgs", max_iter=10, tol=None,
                       random_state=0).fit(X, y)
    with numpynn.reference_kernels():
        ref = TwoLayerNet(hidden_units=5, optimizer="lbfgs", max_iter=10, tol=None,
                          random_state=0).fit(X, y)
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-9)


def test_callbacks_stop_and_tol_converges(data):
    X, y = data
    net = TwoLayerNet(hidden_units=5, optimizer="lbfgs", max_iter=100, random_state=0,
                      callbacks=[lambda est, logs: logs["epoch"] == 4]).fit(X, y)
    assert net.n_iter_ == 4
    loose = TwoLayerNet(hidden_units=3, optimizer="lbfgs", max_iter=500, tol=1e-2,
                        random_state=0).fit(X, y)
    assert loose.n_iter_ < 500                                 # gtol reached, no warning


def test_interrupt_keeps_the_last_iteration(data):
    X, y = data
    seen = []

    def stop(est, logs):
        seen.append([p.copy() for p in est.coefs_])
        if logs["epoch"] == 3:
            raise KeyboardInterrupt

    # raised in the callback of iteration 3, which had finished: as for the epochs
    with pytest.warns(UserWarning, match="training interrupted after 3 finished"):
        net = TwoLayerNet(hidden_units=5, optimizer="lbfgs", max_iter=50, tol=None,
                          random_state=0, callbacks=[stop]).fit(X, y)
    assert net.n_iter_ == 3
    assert_allclose(net.coefs_[0], seen[2][0], rtol=0)


def test_lbfgs_refuses_what_it_cannot_do(data):
    X, y = data
    net = TwoLayerNet(optimizer="lbfgs")
    assert not hasattr(net, "partial_fit")                      # as MLPRegressor
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        net.partial_fit(X, y)
    assert "partial_fit needs a stochastic optimizer" in str(info.value.__cause__)
    with pytest.raises(ValueError, match="early_stopping is not available with optimizer"):
        net.set_params(early_stopping=True).fit(X, y)
    assert not hasattr(net, "coefs_")
