"""Fuzzed inputs, rank deficiency, divergence and interrupts.

Every fit either succeeds with finite parameters or raises one of the
ValueErrors documented in docs/errors.md; a failed fit leaves the previous
model exactly as it was.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

import numpynn
from numpynn import LinearRegressor, TwoLayerNet

#: The ValueErrors a fit may raise on legal hyperparameters (docs/errors.md).
DOCUMENTED = re.compile(r"Training diverged at epoch \d+|early_stopping with "
                        r"validation_fraction=.* needs at least")

CONFIGS = {
    "gd": lambda: LinearRegressor(max_iter=50, random_state=0),
    "gd-batch": lambda: LinearRegressor(max_iter=20, batch_size=3, random_state=0),
    "lstsq": lambda: LinearRegressor(solver="lstsq"),
    "newton": lambda: LinearRegressor(solver="newton", max_iter=5),
    "ridge": lambda: LinearRegressor(solver="lstsq", alpha=1.0),
    "adam": lambda: TwoLayerNet(hidden_units=5, max_iter=20, random_state=0),
    "sgd": lambda: TwoLayerNet(hidden_units=5, max_iter=20, optimizer="sgd",
                               activation="tanh", random_state=0),
    "momentum": lambda: TwoLayerNet(hidden_units=5, max_iter=20, optimizer="momentum",
                                    nesterov=True, activation="sigmoid",
                                    early_stopping=True, random_state=0),
}


def _params(est):
    if isinstance(est, LinearRegressor):
        return [np.asarray(est.coef_), np.asarray(est.intercept_)]
    return est.coefs_ + est.intercepts_


@st.composite
def datasets(draw):
    """Awkward but legal regression data: scales 1e-8..1e8, constant and
    duplicated columns, wide and single-sample designs, huge targets."""
    n = draw(st.sampled_from([1, 2, 3, 7, 25]))
    d = draw(st.sampled_from([1, 2, 5, 30]))
    k = draw(st.sampled_from([1, 2]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X *= 10.0 ** rng.uniform(-8, 8, size=d) if draw(st.booleans()) else 1.0
    if d > 1 and draw(st.booleans()):
        X[:, -1] = X[:, 0]                                  # duplicated column
    if draw(st.booleans()):
        X[:, 0] = draw(st.sampled_from([0.0, 1.0, -3e7]))   # constant column
    y = rng.normal(size=(n, k)) * 10.0 ** draw(st.sampled_from([0, 3, 8]))
    return X.astype(dtype), (y[:, 0] if k == 1 else y)


@pytest.mark.parametrize("name", CONFIGS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_fit_succeeds_finite_or_raises_documented_error(name, data):
    X, y = data
    est = CONFIGS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", np.exceptions.RankWarning)   # tiny random designs
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert DOCUMENTED.search(str(exc)), str(exc)
            assert not hasattr(est, "n_iter_")          # nothing half-fitted left behind
            return
    for p in _params(est):
        assert np.isfinite(p).all()
        assert p.dtype == X.dtype
    y_pred = est.predict(X)
    assert y_pred.shape == y.shape
    assert y_pred.dtype == X.dtype
    assert np.isfinite(y_pred).all()
    assert np.isfinite(est.loss_curve_).all() and len(est.loss_curve_) == est.n_iter_


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), d=st.integers(1, 15), n_dup=st.integers(0, 3),
       constant=st.booleans(), weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_rank_deficient_lstsq_is_sklearn_minimum_norm(n, d, n_dup, constant, weighted,
                                                      seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d)
    X = np.hstack([X, X[:, :n_dup] * 2.0])                  # linearly dependent columns
    if constant:
        X[:, 0] = 4.0
    y = rng.normal(size=n) * 5
    # Integer weights keep sklearn's weighted centring of a constant column exact:
    # with real weights its rounding residue gets a spurious coefficient.
    sw = rng.integers(1, 4, size=n).astype(float) if weighted else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = LinearRegressor(solver="lstsq").fit(X, y, sample_weight=sw)
    # warned exactly when the non-constant columns are dependent (or too few rows)
    varying = np.ptp(X, axis=0) > 0
    rank = np.linalg.matrix_rank(X[:, varying] - X[:, varying].mean(axis=0))
    assert [w.category for w in caught] == [np.exceptions.RankWarning] * int(
        rank < varying.sum())
    assert ours.rank_ == rank
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    scale = max(1.0, np.abs(ref.coef_).max())
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7, atol=1e-8 * scale)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-7, atol=1e-8 * scale)


@pytest.mark.parametrize("weighted", [False, True])
def test_single_sample_lstsq_is_the_constant_model(weighted):
    # Centred X is exactly zero, so the minimum-norm slope is zero. (sklearn's
    # weighted centring leaves a rounding residue here and returns a spurious slope.)
    X, y = np.array([[0.3, -7.0, 1e-3]]), np.array([2.5])
    reg = LinearRegressor(solver="lstsq").fit(X, y, sample_weight=[0.7] if weighted else None)
    assert_array_equal(reg.coef_, np.zeros(3))
    assert reg.intercept_ == 2.5


def test_wide_lstsq_is_minimum_norm_interpolant():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(5, 40)), rng.normal(size=5)
    with pytest.warns(np.exceptions.RankWarning,
                      match=r"rank 4, fewer than its 40 .*\(fewer rows than columns"):
        reg = LinearRegressor(solver="lstsq").fit(X, y)
    assert reg.rank_ == 4
    assert_allclose(reg.predict(X), y, atol=1e-10)
    Xc = X - X.mean(axis=0)
    assert_allclose(reg.coef_, np.linalg.pinv(Xc) @ (y - y.mean()), atol=1e-10)


# -- divergence --------------------------------------------------------------------
OPTIMIZERS = [
    ("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}), ("adam", {}),
]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=60)
    return X, y


def _good_then_diverge(est, huge_lr, data, method="fit"):
    X, y = data
    getattr(est, method)(X, y)
    before = [p.copy() for p in _params(est)]
    attrs = {k: v for k, v in vars(est).items() if k.endswith("_")}
    est.set_params(learning_rate=huge_lr)
    with pytest.raises(ValueError, match=r"Training diverged at epoch \d+(, batch \d+)?: "
                                         r".*learning_rate was .*Use a smaller learning_rate"):
        getattr(est, method)(X, y)
    for a, b in zip(before, _params(est), strict=True):
        assert_array_equal(b, a)
        assert np.isfinite(b).all()
    assert est.loss_curve_ == attrs["loss_curve_"] and est.n_iter_ == attrs["n_iter_"]


@pytest.mark.parametrize("optimizer, extra", OPTIMIZERS)
def test_divergence_restores_the_previous_net(optimizer, extra, data):
    # Full batch: the first epoch's loss is that of the starting point, so a
    # loss exploding far above it is caught even while it stays finite.
    net = TwoLayerNet(hidden_units=8, optimizer=optimizer, learning_rate=0.01,
                      max_iter=30, tol=None, batch_size=None, random_state=0, **extra)
    _good_then_diverge(net, 1e6, data)


@pytest.mark.parametrize("optimizer, extra", OPTIMIZERS)
def test_partial_fit_divergence_restores_the_previous_net(optimizer, extra, data):
    # Within one partial_fit epoch only a non-finite loss or parameter counts as
    # divergence (docs/errors.md), so the step must overflow between batches.
    net = TwoLayerNet(hidden_units=8, optimizer=optimizer, learning_rate=0.01,
                      max_iter=30, tol=None, batch_size=20, random_state=0, **extra)
    _good_then_diverge(net, 1e300, data, "partial_fit")


def test_divergence_restores_the_previous_linear_model(data):
    reg = LinearRegressor(max_iter=50, random_state=0)
    _good_then_diverge(reg, 100.0, data)


def test_warm_start_divergence_keeps_the_warm_model(data):
    X, y = data
    reg = LinearRegressor(warm_start=True, max_iter=50).fit(X, y)
    coef = reg.coef_.copy()
    with pytest.raises(ValueError, match="Training diverged"):
        reg.set_params(learning_rate=50.0).fit(X, y)
    assert_array_equal(reg.coef_, coef)


# -- interrupts ----------------------------------------------------------------------
ESTIMATORS = [
    lambda: LinearRegressor(learning_rate=0.01, max_iter=20, tol=None, batch_size=12,
                            random_state=0),
    lambda: LinearRegressor(solver="newton", max_iter=20, tol=None),
] + [
    (lambda o=o, e=e: TwoLayerNet(hidden_units=6, optimizer=o, max_iter=20, tol=None,
                                  batch_size=12, random_state=0, **e))
    for o, e in OPTIMIZERS
]
IDS = ["gd", "newton", "sgd", "momentum", "nesterov", "adam"]


class Recorder:
    """A callback keeping a copy of the parameters after every epoch."""

    def __init__(self):
        self.history = []

    def __call__(self, est, logs):
        self.history.append([p.copy() for p in _params(est)])


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_interrupt_from_a_callback_keeps_the_last_finished_epoch(make, data):
    record = Recorder()

    def interrupt(est, logs):
        if logs["epoch"] == 4:
            raise KeyboardInterrupt

    est = make().set_params(callbacks=[record, interrupt])
    with pytest.warns(UserWarning, match="training interrupted"):
        est.fit(*data)
    assert len(record.history) == 4 and est.n_iter_ == 4 and len(est.loss_curve_) == 4
    for a, b in zip(record.history[-1], _params(est), strict=True):
        assert_array_equal(b, a)


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_interrupt_mid_epoch_rolls_back_to_the_last_finished_epoch(make, data,
                                                                   monkeypatch):
    # 60 rows in batches of 12: five gradient evaluations per epoch (one for newton);
    # the interrupt lands inside epoch 3, after some of its updates were applied.
    record = Recorder()
    est = make().set_params(callbacks=[record])
    per_epoch = 1 if est.get_params().get("solver") == "newton" else 5
    calls = []
    loss_grad = numpynn.kernels.loss_and_gradient

    def interrupting_loss_grad(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2 * per_epoch + per_epoch // 2 + 1:
            raise KeyboardInterrupt
        return loss_grad(*args, **kwargs)

    # the public seam: the reference path calls numpynn.kernels for every batch
    monkeypatch.setattr(numpynn.kernels, "loss_and_gradient", interrupting_loss_grad)
    with numpynn.reference_kernels(), pytest.warns(UserWarning, match="training interrupted"):
        est.fit(*data)
    assert len(record.history) == 2 and est.n_iter_ == 2
    for a, b in zip(record.history[-1], _params(est), strict=True):
        assert_array_equal(b, a)
    assert all(np.isfinite(p).all() for p in _params(est))


def test_interrupt_in_the_first_epoch_keeps_the_initial_parameters(data, monkeypatch):
    X, y = data

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(numpynn.kernels, "loss_and_gradient", boom)
    with numpynn.reference_kernels(), pytest.warns(UserWarning, match="training interrupted"):
        reg = LinearRegressor(max_iter=5).fit(X, y)
    assert reg.n_iter_ == 0 and reg.loss_curve_ == []
    assert_array_equal(reg.coef_, np.zeros(3))              # gd starts from zeros
    assert reg.predict(X).shape == (60,)


# -- docs/errors.md stays true ---------------------------------------------------------
ERRORS_MD = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def _bad_calls():
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20.0)
    fitted = LinearRegressor(solver="lstsq").fit(X, y)
    return [
        ("The '<name>' parameter of <Estimator> must be <what is accepted>; got <value>.",
         lambda: TwoLayerNet(hidden_units=0).fit(X, y)),
        ("X has <d> features, but <Estimator> is expecting <d_fit> features as input.",
         lambda: fitted.predict(X[:, :1])),
        ("sample_weight.shape == <shape>, expected (<n_samples>,).",
         lambda: fitted.fit(X, y, sample_weight=np.ones(3))),
        ("sample_weight must be non-negative.",
         lambda: fitted.fit(X, y, sample_weight=-np.ones(20))),
        ("sample_weight must not be all zero: its sum must be positive.",
         lambda: fitted.fit(X, y, sample_weight=np.zeros(20))),
        ("early_stopping with validation_fraction=<f> needs at least 2 training samples "
         "and 2 validation samples; got n_samples = <n>.",
         lambda: TwoLayerNet(early_stopping=True).fit(X[:3], y[:3])),
        ("Training diverged at epoch <e>, batch <b>: the batch loss exploded to <loss> "
         "(more than 10000 times the run's first batch loss <loss_1>). learning_rate was "
         "<lr>. Use a smaller learning_rate, or scale the features (e.g. StandardScaler in "
         "a Pipeline).",
         lambda: LinearRegressor(learning_rate=100.0).fit(X, y)),
        ("Training diverged at epoch <e>, batch <b>: the batch loss became non-finite. "
         "learning_rate was <lr>. Use a smaller learning_rate, or scale the features (e.g. "
         "StandardScaler in a Pipeline).",
         lambda: TwoLayerNet(learning_rate=1e300, batch_size=5).fit(X, y * 1e10)),
        ("Training diverged at epoch <e>, batch <b>: the batch loss became non-finite. "
         "Newton's method has no step size to lower: the values of X or y are too large "
         "for float64 arithmetic; scale them (e.g. StandardScaler), or use solver='lstsq'.",
         lambda: LinearRegressor(solver="newton").fit(X, y + 1e155)),   # loss at 0 is inf
        ("Least squares overflows float64: the values of X or y are too large (their squares "
         "pass 1e308); scale them (e.g. StandardScaler in a Pipeline, "
         "TransformedTargetRegressor for y).",
         lambda: LinearRegressor(solver="lstsq").fit(X, y * 1e160)),
        ("Complex data not supported: sample_weight is complex.",
         lambda: LinearRegressor().fit(X, y, sample_weight=np.ones(20) * 1j)),
        ("The curvature of the loss overflows float64: the values of X are too large (their "
         "squares pass 1e308); scale them (e.g. StandardScaler in a Pipeline).",
         lambda: LinearRegressor().fit(X * 1e300, y)),
        ("TwoLayerNet with layer shapes <shapes> needs about <g> GiB for its parameters, "
         "optimizer state and buffers, but only <a> GiB of memory are available: use fewer "
         "hidden_units, or a smaller batch_size.",
         lambda: TwoLayerNet(hidden_units=10**9).fit(X, y)),
        ("Training diverged at epoch <e>: its last update raised the loss of batch <b> to "
         "<loss> (more than 10000 times the run's first batch loss <loss_1>). learning_rate "
         "was <lr>. Use a smaller learning_rate, or scale the features (e.g. StandardScaler "
         "in a Pipeline).",
         lambda: TwoLayerNet(learning_rate=1e6, random_state=0).partial_fit(X, y)),
        ("y has <k> outputs; the model was fitted with <k_fit>.",
         lambda: LinearRegressor().partial_fit(X, y).partial_fit(X, np.c_[y, y])),
    ]


@pytest.mark.parametrize("i", range(15))
def test_documented_messages_match_the_real_ones(i):
    documented, call = _bad_calls()[i]
    assert documented in ERRORS_MD.read_text()
    pattern = ".*?".join(re.escape(part) for part in re.split(r"<[^>]+>", documented))
    with pytest.raises(ValueError) as info:
        call()
    assert re.fullmatch(pattern, str(info.value)), str(info.value)


def test_documented_warnings_match_the_real_ones(data):
    text = ERRORS_MD.read_text()

    def stop(est, logs):
        raise KeyboardInterrupt

    with pytest.warns(UserWarning) as record:
        LinearRegressor(callbacks=[stop]).fit(*data)
    documented = ("training interrupted after <e> finished epoch(s); the model keeps the "
                  "parameters of the last finished epoch.")
    assert documented in text
    pattern = ".*?".join(re.escape(p) for p in re.split(r"<[^>]+>", documented))
    assert any(re.fullmatch(pattern, str(w.message)) for w in record)
