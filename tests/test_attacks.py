"""Replays of the adversarial attacks on fitting (issue 12): each failed on 268d153.

Persistence attacks (zip bombs, bit flips, symlinks, FIFOs) are in
tests/test_persistence_attacks.py. Everything here is bounded in time and
memory: small data, threads joined with timeouts.
"""

import threading
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import numpynn
from numpynn import LinearRegressor, TwoLayerNet


@pytest.fixture
def data():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(120, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + np.sin(X[:, 0]) + 0.1 * rng.normal(size=120)
    return X, y


def _state(est):
    """Every fitted attribute and the optimizer state, deep-copied."""
    import copy
    return copy.deepcopy({k: v for k, v in vars(est).items()
                          if k.endswith("_") or k == "_optimizer_state"})


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        _assert_tree_equal(a[key], b[key])


def _assert_tree_equal(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_tree_equal(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_tree_equal(u, v)
    else:
        assert_array_equal(np.asarray(b), np.asarray(a))


# 1. a failed partial_fit leaves the optimizer state as it was ---------------------------
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "sgd"])
def test_failed_partial_fit_restores_the_optimizer_state(data, optimizer):
    X, y = data
    net = TwoLayerNet(hidden_units=8, optimizer=optimizer, learning_rate=1e-3,
                      random_state=0)
    net.partial_fit(X, y).partial_fit(X, y)
    before = _state(net)
    net.set_params(learning_rate=1e6)
    with pytest.raises(ValueError, match="diverged"):
        net.partial_fit(X * 1e3, y * 1e3)
    _assert_same_state(before, _state(net))
    net.set_params(learning_rate=1e-3)
    twin = clone(net).set_params(learning_rate=1e-3)
    vars(twin).update(_state(net))
    net.partial_fit(X, y)                         # carries on as if nothing happened
    twin.partial_fit(X, y)
    _assert_same_state(_state(twin), _state(net))
    assert np.isfinite(net.loss_)


def test_callback_exception_restores_everything(data):
    X, y = data
    net = TwoLayerNet(hidden_units=8, random_state=0).partial_fit(X, y)
    before = _state(net)

    def boom(est, logs):
        raise RuntimeError("callback failed")

    net.set_params(callbacks=[boom])
    with pytest.raises(RuntimeError, match="callback failed"):
        net.partial_fit(X, y)
    _assert_same_state(before, _state(net))


def test_interrupt_keeps_the_optimizer_state_of_the_last_finished_epoch(data, monkeypatch):
    X, y = data
    net = TwoLayerNet(hidden_units=8, batch_size=30, max_iter=5, tol=None, random_state=0)
    with numpynn.reference_kernels():
        reference = clone(net).set_params(max_iter=2).fit(X, y)
    calls = []
    loss_and_gradient = numpynn.kernels.loss_and_gradient

    def interrupt(*args, **kwargs):           # 4 batches per epoch: stop inside epoch 3
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return loss_and_gradient(*args, **kwargs)

    monkeypatch.setattr(numpynn.kernels, "loss_and_gradient", interrupt)
    with numpynn.reference_kernels(), pytest.warns(UserWarning, match="interrupted"):
        net.fit(X, y)
    assert net.n_iter_ == 2 and net._optimizer_state["t"] == 8
    _assert_tree_equal(reference._optimizer_state, net._optimizer_state)
    _assert_tree_equal(reference.coefs_, net.coefs_)


# 4. a warm start that explodes is detected inside the epoch -------------------------------
def test_exploding_warm_start_is_refused_and_the_model_kept(data):
    X, y = data
    net = TwoLayerNet(hidden_units=16, random_state=0, max_iter=50, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, y)
    score, before = net.score(X, y), _state(net)
    net.set_params(learning_rate=50.0)
    with pytest.raises(ValueError, match=r"diverged at epoch \d+, batch \d+"):
        net.fit(X, y)
    _assert_same_state(before, _state(net))
    assert net.score(X, y) == score


# 5. early stopping whose split has no weight -----------------------------------------------
@pytest.mark.parametrize("make", [LinearRegressor, TwoLayerNet])
def test_early_stopping_with_a_weightless_split_is_a_clear_error(make, data):
    X, y = data
    sw = np.zeros(len(y))
    sw[:3] = 1.0                                   # few positive rows: land in one split
    for seed in range(40):
        est = make(early_stopping=True, validation_fraction=0.5, random_state=seed)
        try:
            est.fit(X, y, sample_weight=sw)
        except ValueError as exc:
            assert "every sample of the" in str(exc) and "zero sample_weight" in str(exc)
            assert not hasattr(est, "n_features_in_")
            return
    pytest.fail("no seed put every positive weight into one split")


# 7. any true bool stops ------------------------------------------------------------------
@pytest.mark.parametrize("answer", [True, np.True_])
def test_a_numpy_true_from_a_callback_stops(data, answer):
    X, y = data
    net = TwoLayerNet(hidden_units=4, max_iter=20, tol=None, random_state=0,
                      callbacks=[lambda est, logs: answer if logs["epoch"] == 3 else None])
    assert net.fit(X, y).n_iter_ == 3


# 8. predict during a refit in another thread sees one whole model --------------------------
def test_predict_during_refits_sees_whole_models(data):
    X, y = data
    models = [LinearRegressor(solver="lstsq").fit(X, y * s) for s in (1.0, -3.0)]
    expected = [m.predict(X[:5]) for m in models]
    est = LinearRegressor(solver="lstsq").fit(X, y)
    errors, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                p = est.predict(X[:5])
            except Exception as exc:            # noqa: BLE001 - collected and asserted
                errors.append(exc)
                return
            if not any(np.array_equal(p, e) for e in expected):
                errors.append(p)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(150):
        est.fit(X, y * (1.0, -3.0)[i % 2])
        with pytest.raises(ValueError):
            est.fit(X[:, :2], y, sample_weight=-np.ones(len(y)))   # fails validation
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors[:1]


# 11. complex sample weights ----------------------------------------------------------------
def test_complex_sample_weight_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="Complex data not supported"):
        LinearRegressor().fit(X, y, sample_weight=np.ones(len(y)) + 1j)


# 12/17. any layout trains without copying X per batch; odd memmaps stay bounded -----------
@pytest.mark.parametrize("order, dtype", [("F", np.float64), ("C", np.float16),
                                          ("C", np.int16)])
def test_memmaps_of_any_order_or_dtype_train_batch_by_batch(tmp_path, order, dtype):
    import tracemalloc

    rng = np.random.default_rng(0)
    X = np.asarray(rng.normal(size=(20_000, 20)) * 10, order=order).astype(dtype, order=order)
    y = rng.normal(size=20_000)
    np.save(tmp_path / "X.npy", X)
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r")
    net = TwoLayerNet(hidden_units=8, batch_size=64, max_iter=1, tol=None, random_state=0)
    net.fit(Xm, y)
    tracemalloc.start()
    try:
        net.fit(Xm, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    as_float = np.ascontiguousarray(X, dtype=np.float64)
    assert peak < as_float.nbytes / 4                     # batches, never all of X
    assert_array_equal(net.coefs_[0], clone(net).fit(as_float, y).coefs_[0])


# 15. a model too big for memory is refused before allocating -----------------------------
def test_a_model_too_big_for_memory_is_refused_before_allocating(data):
    X, y = data
    with pytest.raises(ValueError, match=r"needs about .* GiB .* only .* GiB"):
        TwoLayerNet(hidden_units=10**9).fit(X, y)


# 19-21. hyperparameters --------------------------------------------------------------------
def test_numpy_strings_from_a_grid_are_accepted(data):
    X, y = data
    grid = GridSearchCV(TwoLayerNet(hidden_units=4, max_iter=5, tol=None, random_state=0),
                        {"optimizer": np.array(["adam", "sgd"]),
                         "activation": np.array(["relu", "tanh"])}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["optimizer"] in ("adam", "sgd")


def test_batch_size_auto_for_linear_regression(data):
    X, y = data
    reg = LinearRegressor(batch_size="auto", learning_rate=0.05, max_iter=3, tol=None,
                          random_state=0)
    ref = LinearRegressor(batch_size=min(200, len(y)), learning_rate=0.05, max_iter=3,
                          tol=None, random_state=0)
    for est in (reg, ref):
        with pytest.warns(ConvergenceWarning, match="tol=None ran all 3 epochs"):
            est.fit(X, y)
    assert_array_equal(reg.coef_, ref.coef_)


@pytest.mark.parametrize("name, value", [
    ("learning_rate", np.inf), ("learning_rate", 10**400), ("learning_rate", Fraction(1, 2)),
    ("alpha", np.inf), ("alpha", np.nan), ("epsilon", np.inf), ("tol", np.inf),
    ("beta_1", np.nan), ("momentum", 1j),
])
def test_non_finite_or_exotic_numbers_are_refused_up_front(data, name, value):
    X, y = data
    with pytest.raises(ValueError, match=f"The '{name}' parameter of TwoLayerNet must be"):
        TwoLayerNet(**{name: value}).fit(X, y)


# 22-24. causes named -----------------------------------------------------------------------
def test_huge_values_name_their_cause(data):
    X, y = data
    for solver in ("lstsq", "newton"):
        with pytest.raises(ValueError, match="overflows float64: the values of X or y are"):
            LinearRegressor(solver=solver).fit(X, y * 1e160)     # the residual's squares
    for solver in ("gd", "lstsq", "newton"):
        est = LinearRegressor(solver=solver)
        with pytest.raises(ValueError, match="overflows float64: the values of X (or y )?are"):
            est.fit(X * 1e300, y)
        assert not hasattr(est, "n_features_in_")


def test_divergence_messages_say_what_happened(data):
    X, y = data
    net = TwoLayerNet(hidden_units=8, random_state=0).partial_fit(X, y).partial_fit(X, y)
    net.set_params(learning_rate=1e30)
    with pytest.raises(ValueError) as info:
        net.partial_fit(X, y)
    message = str(info.value)
    assert "epoch 3" in message and "nan" not in message.lower().replace("non-finite", "")


def test_sparse_y_is_accepted_like_dense(data):
    X, y = data
    a = LinearRegressor(solver="lstsq").fit(X, sp.csr_matrix(y.reshape(-1, 1)))
    b = LinearRegressor(solver="lstsq").fit(X, y.reshape(-1, 1))
    assert_array_equal(a.coef_, b.coef_)


# 25. Ctrl-C during least squares -----------------------------------------------------------
def test_interrupted_least_squares_keeps_the_previous_model(data, monkeypatch):
    X, y = data
    reg = LinearRegressor(solver="lstsq").fit(X, y)
    before = _state(reg)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(numpynn._linear, "lstsq_fit", interrupt)
    with pytest.warns(UserWarning, match="interrupted during the least-squares update"):
        assert reg.fit(X, 2 * y) is reg
    _assert_same_state(before, _state(reg))


# 26. a callback that refits the estimator --------------------------------------------------
def test_refitting_from_a_callback_is_refused(data):
    X, y = data

    def refit(est, logs):
        est.fit(X[:, :2], y)

    net = TwoLayerNet(hidden_units=4, max_iter=3, tol=None, callbacks=[refit])
    with pytest.raises(RuntimeError, match="called from a callback"):
        net.fit(X, y)
    assert not hasattr(net, "n_features_in_") and not hasattr(net, "coefs_")
