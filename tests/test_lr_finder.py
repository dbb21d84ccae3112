"""numpynn.lr_find and numpynn.plotting.plot_lr_find."""

import pickle

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402

from numpynn import LinearRegressor, TwoLayerNet, lr_find  # noqa: E402
from numpynn.kernels import compute_loss, forward_prop, gradient  # noqa: E402
from numpynn.lr_finder import LRFinderResult  # noqa: E402
from numpynn.optimizers import OPTIMIZERS  # noqa: E402
from numpynn.plotting import plot_lr_find  # noqa: E402
from numpynn.quadratic import lambda_max  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, d)
    y = X @ rng.normal(size=d) + np.sin(X[:, 0]) + 0.3 * rng.normal(size=n)
    return X, y


def _net(**kw):
    return TwoLayerNet(hidden_units=8, random_state=0, **kw)


def test_rates_are_geometric_and_increasing():
    X, y = _data()
    r = lr_find(LinearRegressor(), X, y, min_lr=1e-5, max_lr=1e-2, num=40)
    assert not r.stopped_early and len(r.rates) == 40       # no divergence below 2/L
    assert r.rates[0] == pytest.approx(1e-5) and r.rates[-1] == pytest.approx(1e-2)
    assert_allclose(r.rates[1:] / r.rates[:-1], 1000 ** (1 / 39), rtol=1e-12)
    assert r.losses.shape == r.raw_losses.shape == (40,)


def test_losses_are_the_bias_corrected_moving_average_of_the_raw_losses():
    X, y = _data()
    r = lr_find(_net(optimizer="sgd"), X, y, smooth=0.2, num=30)
    avg, expected = 0.0, []
    for i, loss in enumerate(r.raw_losses, 1):
        avg = 0.8 * avg + 0.2 * loss
        expected.append(avg / (1 - 0.8 ** i))
    assert_allclose(r.losses, expected, rtol=1e-12)
    assert r.losses[0] == pytest.approx(r.raw_losses[0], rel=1e-14)


def test_stops_early_when_the_loss_diverges():
    X, y = _data()
    r = lr_find(LinearRegressor(), X, y, max_lr=1e3)
    assert r.stopped_early and len(r.rates) < 100
    assert r.losses[-1] > 4.0 * r.losses.min()               # the documented rule fired
    assert np.all(r.losses[:-1] <= 4.0 * np.minimum.accumulate(r.losses)[:-1])


@pytest.mark.parametrize("est", [LinearRegressor(), LinearRegressor(batch_size=32),
                                 _net(optimizer="sgd"), _net(optimizer="momentum"),
                                 _net(optimizer="adam"), _net(activation="tanh")],
                         ids=["gd", "gd-minibatch", "sgd", "momentum", "adam", "tanh"])
def test_suggestion_is_within_the_range(est):
    X, y = _data(1)
    r = lr_find(est, X, y, min_lr=1e-5, max_lr=5.0)
    assert 1e-5 <= r.suggestion <= 5.0
    assert r.suggestion == pytest.approx(max(1e-5, r.rates[np.argmin(r.losses)] / 10))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("batch_size", [None, 32])
def test_on_a_quadratic_the_suggestion_is_below_the_divergence_bound(seed, batch_size):
    # Full-batch gradient descent on linear regression diverges above 2/L,
    # L the Hessian's largest eigenvalue; mini-batches diverge sooner.
    X, y = _data(seed)
    r = lr_find(LinearRegressor(batch_size=batch_size, random_state=seed), X, y)
    bound = 2.0 / lambda_max(X)
    assert r.stopped_early
    assert bound / 100 < r.suggestion < bound


def test_same_random_state_same_result_and_others_differ():
    X, y = _data()
    a, b = (lr_find(_net(optimizer="adam"), X, y, num=30) for _ in range(2))
    assert_array_equal(a.raw_losses, b.raw_losses)
    assert a.suggestion == b.suggestion
    c = lr_find(TwoLayerNet(hidden_units=8, random_state=1), X, y, num=30)
    assert not np.array_equal(a.raw_losses, c.raw_losses)


@pytest.mark.parametrize("fitted", [False, True])
def test_the_estimator_is_not_changed(fitted):
    X, y = _data()
    est = _net(optimizer="momentum", max_iter=3, tol=None)
    if fitted:
        est.fit(X, y)
    params, state = est.get_params(), pickle.dumps(vars(est))
    lr_find(est, X, y, num=20)
    assert est.get_params() == params
    assert pickle.dumps(vars(est)) == state


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_steps_are_the_optimizer_with_a_new_rate_each_batch(optimizer):
    # The clone's partial_fit calls are the optimizer's steps with the rate
    # changed between them and its state (velocity, Adam's moments) kept: a
    # hand-written loop over the same batches gives the same losses.
    X, y = _data(2, n=90)
    est = TwoLayerNet(hidden_units=5, optimizer=optimizer, batch_size=30, random_state=7)
    r = lr_find(est, X, y, min_lr=1e-4, max_lr=1e-1, num=12)
    probe = TwoLayerNet(hidden_units=5, optimizer=optimizer, random_state=7, max_iter=1,
                        tol=None, learning_rate=1e-300).fit(X, y)     # the initial weights
    p = {"W1": probe.coefs_[0], "b1": probe.intercepts_[0],
         "W2": probe.coefs_[1], "b2": probe.intercepts_[1]}
    rng, order, losses, state = np.random.default_rng(7), [], [], None
    for j in range(13):
        if not order:
            perm = rng.permutation(90)
            order = [np.sort(perm[s:s + 30]) for s in range(0, 90, 30)]
        idx = order.pop(0)
        y_pred, cache = forward_prop(X[idx], p, "relu")
        losses.append(compute_loss(y[idx], y_pred, params=p, alpha=1e-4))
        opt = OPTIMIZERS[optimizer](r.rates[min(j, 11)] if j < 12 else r.rates[0])
        state = opt.init(p) if state is None else state
        state = opt.step(p, gradient(p, cache, y[idx], y_pred, "relu", alpha=1e-4), state)
    assert_allclose(r.raw_losses, losses[1:], rtol=1e-9)


def test_refuses_other_solvers_estimators_and_arguments():
    X, y = _data()
    with pytest.raises(ValueError, match="solver='gd'"):
        lr_find(LinearRegressor(solver="lstsq"), X, y)
    with pytest.raises(TypeError, match="TwoLayerNet and LinearRegressor"):
        lr_find(MLPRegressor(), X, y)
    for bad in (dict(min_lr=0.0), dict(min_lr=1.0, max_lr=0.1), dict(num=1),
                dict(smooth=0.0), dict(diverge_factor=1.0), dict(max_lr=np.inf)):
        with pytest.raises(ValueError, match="lr_find needs"):
            lr_find(LinearRegressor(), X, y, **bad)
    for min_lr, num in ((1e3, 5), (1.0 / lambda_max(X), 2)):   # diverging at step 1 or 2
        with pytest.raises(ValueError, match="smaller min_lr"):
            lr_find(LinearRegressor(), X, y, min_lr=min_lr, max_lr=1e6, num=num)


def test_plot_draws_exactly_the_result():
    X, y = _data()
    r = lr_find(LinearRegressor(), X, y)
    fig, ax = plt.subplots()
    assert plot_lr_find(r, ax=ax) is ax
    line = ax.get_lines()[0]
    assert_array_equal(line.get_xdata(), r.rates)
    assert_array_equal(line.get_ydata(), r.losses)
    assert ax.get_xscale() == "log"
    marked = [ln for ln in ax.get_lines()[1:]
              if np.all(np.asarray(ln.get_xdata()) == r.suggestion)]
    assert len(marked) == 2                      # the dashed line and the dot
    assert any(f"{r.suggestion:.3g}" in t.get_text() for t in ax.get_legend().get_texts())


def test_result_is_frozen():
    r = LRFinderResult(np.ones(2), np.ones(2), np.ones(2), 0.1, False)
    with pytest.raises(AttributeError):
        r.suggestion = 1.0
