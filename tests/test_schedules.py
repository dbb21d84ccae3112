"""Learning-rate schedules: exact values, scikit-learn parity, properties."""

import copy
import json
import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from numpynn.schedules import (
    SCHEDULES,
    adaptive,
    constant,
    cosine,
    cosine_rate,
    invscaling,
)


def rates(schedule, logs_seq, state=None):
    """The rate of every epoch: before the first step, then after each."""
    state = schedule.init() if state is None else state
    out = [state["learning_rate"]]
    for logs in logs_seq:
        state = schedule.step(state, logs)
        out.append(state["learning_rate"])
    return out, state


def loss_logs(losses, n=10):
    return [{"loss": float(v), "n_samples": n} for v in losses]


def make_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)


# -- exact values ------------------------------------------------------------

def test_constant_never_changes_and_counts():
    out, state = rates(constant(0.05), loss_logs([3.0, 1.0, 2.0], n=7))
    assert out == [0.05] * 4
    assert (state["epoch"], state["samples"]) == (3, 21)


def test_invscaling_counts_samples_not_epochs():
    # uneven epochs (partial_fit on blocks of 5, 3, 8 rows): t is the running sum
    logs = [{"loss": 1.0, "n_samples": m} for m in (5, 3, 8)]
    out, _ = rates(invscaling(2.0, power_t=0.25), logs)
    expected = [2.0] + [2.0 / (t + 1) ** 0.25 for t in (5, 8, 16)]
    np.testing.assert_allclose(out, expected, rtol=1e-15)


def test_adaptive_divides_after_more_than_n_iter_no_change_failures():
    # tol=0.1: 1.0 is the best, 0.95 is not better by 0.1, so epochs 2.. fail
    sched = adaptive(1.0, tol=0.1, n_iter_no_change=2)
    out, state = rates(sched, loss_logs([1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]))
    # failures: epoch 2 (1), 3 (2), 4 (3 > 2: divide, reset), 5 (1), 6 (2), 7 (3: divide)
    assert out == [1.0, 1.0, 1.0, 1.0, 0.2, 0.2, 0.2, pytest.approx(0.04)]
    assert state["best"] == 0.95 and state["stale"] == 0 and not state["stop"]


def test_adaptive_improvement_resets_the_count():
    sched = adaptive(1.0, tol=0.0, n_iter_no_change=1)
    out, state = rates(sched, loss_logs([5.0, 6.0, 4.0, 7.0, 3.0]))
    assert out == [1.0] * 6                     # never two failures in a row
    assert state["best"] == 3.0
    out, _ = rates(sched, loss_logs([1.0, 1.5, 1.2]))
    assert out == [1.0, 1.0, 1.0, 0.2]          # 1.2 is measured against 1.0, not 1.5


def test_adaptive_uses_the_validation_score_when_given():
    sched = adaptive(1.0, tol=0.0, n_iter_no_change=1)
    logs = [{"loss": 10.0 - k, "val_score": s, "n_samples": 4}
            for k, s in enumerate([0.5, 0.45, 0.48, 0.6])]
    out, state = rates(sched, logs)             # falling loss, but the score stalls
    assert out == [1.0, 1.0, 1.0, 0.2, 0.2]     # 0.48 is measured against 0.5, not 0.45
    assert state["best"] == 0.6


def test_adaptive_stops_instead_of_going_below_min_rate():
    sched = adaptive(1e-6, tol=1.0, n_iter_no_change=1)
    out, state = rates(sched, loss_logs([1.0, 1.0, 1.0]))
    assert out == [1e-6] * 4 and state["stop"]


def test_cosine_values_from_the_formula():
    eta, floor, T, W = 0.3, 0.01, 10, 3
    for e in range(14):
        if e < W:
            expected = eta * (e + 1) / (W + 1)
        elif e < T:
            expected = floor + 0.5 * (eta - floor) * (1 + math.cos(math.pi * (e - W) / (T - W)))
        else:
            expected = floor
        assert cosine_rate(e, eta, T, W, floor) == pytest.approx(expected, rel=1e-15)
    out, _ = rates(cosine(eta, T, W, floor), loss_logs([1.0] * 13))
    np.testing.assert_allclose(out, [cosine_rate(e, eta, T, W, floor) for e in range(14)],
                               rtol=1e-15)


@pytest.mark.parametrize("T, W, floor", [(1, 0, 0.0), (7, 0, 0.0), (20, 5, 1e-3),
                                         (50, 49, 0.2)])
def test_cosine_properties(T, W, floor):
    eta = 0.5
    r = np.array([cosine_rate(e, eta, T, W, floor) for e in range(T + 3)])
    # warmup: equal increments up to the peak at epoch W
    np.testing.assert_allclose(np.diff(r[:W + 1]), eta / (W + 1), rtol=1e-12)
    assert r[W] == pytest.approx(eta)
    # decay: non-increasing, strictly above the floor before T, at the floor from T on
    assert np.all(np.diff(r[W:T + 1]) <= 0)
    assert np.all(r[W:T] > floor)
    assert np.all(r[T:] == floor)


@pytest.mark.parametrize("kwargs", [dict(warmup_epochs=10), dict(warmup_epochs=-1),
                                    dict(floor=2.0), dict(floor=-0.1)])
def test_cosine_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match="cosine"):
        cosine(1.0, 10, **kwargs)


# -- parity with scikit-learn's MLPRegressor ---------------------------------
# MLPRegressor exposes its current rate only as the private _optimizer's
# learning_rate; it is read after public partial_fit / fit calls.

def test_invscaling_matches_mlp_regressor_per_partial_fit():
    X, y = make_data(n=37)
    mlp = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling",
                       learning_rate_init=0.05, power_t=0.3, batch_size=10, random_state=0)
    sched, state = invscaling(0.05, power_t=0.3), None
    state = sched.init()
    for block in (slice(0, 37), slice(0, 20), slice(5, 37), slice(0, 37)):
        mlp.partial_fit(X[block], y[block])
        state = sched.step(state, {"loss": mlp.loss_, "n_samples": len(y[block])})
        assert state["learning_rate"] == pytest.approx(mlp._optimizer.learning_rate,
                                                       rel=1e-14)
        assert state["samples"] == mlp.t_


@pytest.mark.parametrize("tol, patience", [(1e-2, 2), (0.05, 1), (1e-3, 3)])
def test_adaptive_matches_mlp_regressor_on_its_own_losses(tol, patience):
    X, y = make_data(n=60, seed=1)
    mlp = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive",
                       learning_rate_init=0.3, momentum=0.5, tol=tol,
                       n_iter_no_change=patience, batch_size=16, random_state=0)
    sched = adaptive(0.3, tol=tol, n_iter_no_change=patience)
    state, theirs, ours = sched.init(), [], []
    for _ in range(40):
        mlp.partial_fit(X, y)                      # one epoch per call
        state = sched.step(state, {"loss": mlp.loss_curve_[-1], "n_samples": 60})
        theirs.append(mlp._optimizer.learning_rate)
        ours.append(state["learning_rate"])
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert len(set(theirs)) >= 3                   # the rate really was divided, twice


def test_adaptive_matches_mlp_regressor_with_early_stopping():
    X, y = make_data(n=80, seed=2)
    kw = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive",
              learning_rate_init=0.2, tol=1e-3, n_iter_no_change=1, batch_size=16,
              early_stopping=True, validation_fraction=0.25, random_state=0)
    sched = adaptive(0.2, tol=1e-3, n_iter_no_change=1)
    K = 25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)   # max_iter=k, on purpose
        fits = [MLPRegressor(max_iter=k, **kw).fit(X, y) for k in range(1, K + 1)]
    scores = fits[-1].validation_scores_            # every fit is a prefix of the last
    assert all(f.validation_scores_ == scores[:f.n_iter_] for f in fits)
    state, ours = sched.init(), []
    for s in scores:
        state = sched.step(state, {"loss": 0.0, "val_score": s, "n_samples": 60})
        ours.append(state["learning_rate"])
    theirs = [f._optimizer.learning_rate for f in fits[:len(scores)]]
    np.testing.assert_allclose(ours[:len(theirs)], theirs, rtol=1e-14)
    assert len(set(theirs)) >= 2


# -- state: plain, continued exactly, never mutated ---------------------------

def _all_schedules():
    return {"constant": constant(0.1), "invscaling": invscaling(0.1, 0.4),
            "adaptive": adaptive(0.1, tol=1e-2, n_iter_no_change=1),
            "cosine": cosine(0.1, 12, warmup_epochs=3, floor=1e-3)}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_round_trips_through_json_and_continues(name):
    sched = _all_schedules()[name]
    rng = np.random.default_rng(3)
    logs = [{"loss": float(v), "val_score": float(-v), "n_samples": int(m)}
            for v, m in zip(rng.uniform(0.5, 1.0, 16), rng.integers(1, 50, 16),
                            strict=True)]
    full, _ = rates(sched, logs)
    first, state = rates(sched, logs[:7])
    saved = json.loads(json.dumps(state))          # what save/load would keep
    assert saved == state
    assert all(isinstance(v, (int, float, bool, type(None))) for v in saved.values())
    rest, _ = rates(sched, logs[7:], state=saved)
    assert first + rest[1:] == full


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_step_does_not_mutate_its_input(name):
    sched = _all_schedules()[name]
    state = sched.init()
    before = copy.deepcopy(state)
    sched.step(state, {"loss": 1.0, "n_samples": 5})
    assert state == before


def test_only_adaptive_owns_the_plateau_rule():
    assert {k for k, s in _all_schedules().items() if s.plateau} == {"adaptive"}


@pytest.mark.parametrize("seed", range(5))
def test_adaptive_rate_never_rises(seed):
    losses = np.random.default_rng(seed).uniform(0, 1, 60)
    out, _ = rates(adaptive(1.0, tol=0.05, n_iter_no_change=2), loss_logs(losses))
    assert np.all(np.diff(out) <= 0)
    assert set(np.round(np.log(out) / np.log(1 / 5), 9)) <= set(range(61))
