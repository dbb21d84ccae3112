"""TwoLayerNet(learning_rate_schedule=...): the schedules of numpynn.schedules in training."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import numpynn
from numpynn import TwoLayerNet
from numpynn.schedules import SCHEDULES


@pytest.fixture
def data():
    rng = np.random.default_rng(16)
    X = rng.normal(size=(90, 3))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.05 * rng.normal(size=90)


def _net(**kw):
    return TwoLayerNet(hidden_units=6, batch_size=30, max_iter=6, tol=None, random_state=0,
                       optimizer="sgd", learning_rate=0.05, **kw)


@pytest.mark.parametrize("name, extra", [("constant", {}), ("invscaling", {"power_t": 0.3}),
                                         ("cosine", {"warmup_epochs": 2})])
def test_a_scheduled_fit_is_partial_fits_at_the_schedules_rates(name, extra, data):
    """Training with a schedule = one partial_fit per epoch at the rate it gives."""
    X, y = data
    net = _net(learning_rate_schedule=name, **extra).fit(X, y)
    sched = {"constant": lambda: SCHEDULES["constant"](0.05),
             "invscaling": lambda: SCHEDULES["invscaling"](0.05, 0.3),
             "cosine": lambda: SCHEDULES["cosine"](0.05, 6, 2)}[name]()
    state, rates = sched.init(), []
    for loss in net.loss_curve_:
        rates.append(state["learning_rate"])
        state = sched.step(state, {"loss": loss, "n_samples": 90})
    assert net.learning_rate_curve_ == rates
    by_hand = _net(shuffle=False)
    for r in rates:                     # shuffle=False: the same batches in both
        by_hand.set_params(learning_rate=r).partial_fit(X, y)
    ref = _net(learning_rate_schedule=name, shuffle=False, **extra).fit(X, y)
    assert_allclose(ref.coefs_[0], by_hand.coefs_[0], rtol=1e-12)


def test_adaptive_divides_on_plateaus_and_stops(data):
    X, y = data
    net = TwoLayerNet(hidden_units=6, optimizer="sgd", learning_rate=0.5, max_iter=300,
                      learning_rate_schedule="adaptive", tol=1e-2, n_iter_no_change=2,
                      random_state=0).fit(X, y)
    rates = np.array(net.learning_rate_curve_)
    assert rates[0] == 0.5 and np.all(np.diff(rates) <= 0)
    assert set(np.round(rates[0] / rates[np.diff(rates, prepend=rates[0]) < 0], 6)) <= {
        5.0 ** k for k in range(1, 10)}
    assert net.n_iter_ < 300                      # stopped by the schedule, not max_iter


def test_partial_fit_and_save_load_continue_the_schedule(data, tmp_path):
    X, y = data
    whole = _net(learning_rate_schedule="invscaling").set_params(max_iter=4, shuffle=False)
    whole.fit(X, y)
    parts = _net(learning_rate_schedule="invscaling", shuffle=False)
    parts.partial_fit(X, y).partial_fit(X, y)
    numpynn.save(parts, tmp_path / "m.npz")
    parts = numpynn.load(tmp_path / "m.npz")
    parts.partial_fit(X, y).partial_fit(X, y)
    assert parts.learning_rate_curve_ == whole.learning_rate_curve_
    assert_array_equal(parts.coefs_[0], whole.coefs_[0])


def test_learning_rate_auto_is_the_curvature_rule_and_is_kept(data, tmp_path):
    from numpynn.curvature import auto_learning_rate_net
    from numpynn.kernels import init_params

    X, y = data
    net = TwoLayerNet(learning_rate="auto", optimizer="sgd", hidden_units=6, max_iter=3,
                      tol=None, random_state=0).fit(X, y)
    start = init_params((3, 6, 1), "relu", np.random.default_rng(0))
    expected = auto_learning_rate_net(start, X, y.reshape(-1, 1), "relu", "sgd", alpha=1e-4,
                                      rng=0)
    assert net.learning_rate_ == expected and net.learning_rate_curve_ == [expected] * 3
    net.partial_fit(X, y)
    assert net.learning_rate_ == expected
    numpynn.save(net, tmp_path / "m.npz")
    assert numpynn.load(tmp_path / "m.npz").learning_rate_ == expected
