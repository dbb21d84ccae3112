"""scikit-learn's callback API (ProgressBar, ScoringMonitor) and explicit validation data."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numpynn import LinearRegressor, TwoLayerNet
from numpynn.losses import compute_loss

ESTIMATORS = [
    lambda **kw: TwoLayerNet(hidden_units=6, max_iter=5, tol=None, random_state=0, **kw),
    lambda **kw: LinearRegressor(max_iter=5, tol=None, **kw),
]
IDS = ["TwoLayerNet", "LinearRegressor-gd"]


@pytest.fixture
def data():
    rng = np.random.default_rng(15)
    X = rng.normal(size=(150, 3))
    y = X @ [1.0, -1.0, 0.5] + np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=150)
    return X[:100], y[:100], X[100:], y[100:]


class Snapshots:
    """A numpynn callback keeping the predictions on some rows after every epoch."""

    def __init__(self, X):
        self.X, self.predictions = X, []

    def __call__(self, est, logs):
        self.predictions.append(est.predict(self.X))


@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_scoring_monitor_scores_every_epoch(make, data):
    X, y, _, _ = data
    snap = Snapshots(X)
    monitor = ScoringMonitor(scoring="r2")
    est = make(callbacks=[snap]).set_callbacks(monitor).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == est.n_iter_ == 5
    expected = [r2_score(y, p) for p in snap.predictions]
    assert_allclose([r["r2"] for r in rows], expected, rtol=1e-12)


def test_scoring_monitor_on_least_squares(data):
    X, y, _, _ = data
    monitor = ScoringMonitor(scoring="r2")
    est = LinearRegressor(solver="lstsq").set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    assert len(rows) == 1 and rows[0]["r2"] == pytest.approx(est.score(X, y), rel=1e-12)


class CountingProgressBar(ProgressBar):
    """scikit-learn's ProgressBar, counting the epoch tasks it is told of."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.epochs.append(type(estimator).__name__)
        super().on_fit_task_end(estimator, context)


@pytest.mark.parametrize("where", ["estimator", "pipeline", "search"])
def test_progress_bar_runs_on_the_estimator_a_pipeline_or_a_search(where, data):
    X, y, _, _ = data
    net = TwoLayerNet(hidden_units=4, max_iter=3, tol=None, random_state=0)
    bar = CountingProgressBar()
    if where == "estimator":
        model, fits = net.set_callbacks(bar), 1
    elif where == "pipeline":
        model, fits = make_pipeline(StandardScaler(), net).set_callbacks(bar), 1
    else:
        model = GridSearchCV(net, {"hidden_units": [2, 4]}, cv=2).set_callbacks(bar)
        fits = 2 * 2 + 1                                   # 2 candidates x 2 folds + refit
    model.fit(X, y)
    assert bar.epochs == ["TwoLayerNet"] * 3 * fits


def test_scoring_monitor_through_a_pipeline(data):
    X, y, _, _ = data
    monitor = ScoringMonitor(scoring="r2")
    net = TwoLayerNet(hidden_units=4, max_iter=3, tol=None, random_state=0)
    pipe = make_pipeline(StandardScaler(), net.set_callbacks(monitor)).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == 3
    assert rows[-1]["r2"] == pytest.approx(r2_score(y, pipe.predict(X)), rel=1e-12)


# -- explicit validation data ------------------------------------------------------------
@pytest.mark.parametrize("make", ESTIMATORS, ids=IDS)
def test_validation_curves_are_the_loss_on_x_val_after_each_epoch(make, data):
    X, y, Xv, yv = data
    snap = Snapshots(Xv)
    est = make(callbacks=[snap]).fit(X, y, X_val=Xv, y_val=yv)
    assert est.n_iter_ == 5 and est.t_ == 5 * len(y)          # trained on all rows
    assert_allclose(est.validation_loss_curve_,
                    [compute_loss(yv, p.reshape(-1, 1)) for p in snap.predictions],
                    rtol=1e-12)
    assert_allclose(est.validation_scores_, [r2_score(yv, p) for p in snap.predictions],
                    rtol=1e-12)
    assert est.best_loss_ == min(est.loss_curve_)            # not early stopping


def test_early_stopping_uses_x_val_instead_of_a_split(data):
    X, y, Xv, yv = data
    net = TwoLayerNet(hidden_units=6, max_iter=200, early_stopping=True, learning_rate=0.01,
                      n_iter_no_change=3, random_state=0)
    net.fit(X, y, X_val=Xv, y_val=yv)
    assert net.t_ == net.n_iter_ * len(y)                    # no rows held out
    best = int(np.argmax(net.validation_scores_))
    assert net.score(Xv, yv) == pytest.approx(net.validation_scores_[best], rel=1e-12)
    scores = net.validation_scores_                        # the tol rule on X_val's R^2
    assert net.n_iter_ < 200
    for i in range(len(scores) - 3, len(scores)):          # 3 epochs without a gain of tol
        assert scores[i] <= max(scores[:i]) + net.tol


def test_partial_fit_records_validation_too(data):
    X, y, Xv, yv = data
    net = TwoLayerNet(hidden_units=4, random_state=0)
    net.partial_fit(X, y, X_val=Xv, y_val=yv).partial_fit(X, y, X_val=Xv, y_val=yv)
    assert len(net.validation_loss_curve_) == 2
    assert net.validation_scores_[-1] == pytest.approx(net.score(Xv, yv), rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(y_val=np.zeros(5)), "X_val and y_val must be given together"),
    (dict(X_val=np.zeros((5, 2)), y_val=np.zeros(5)), "X has 2 features"),
    (dict(X_val=np.zeros((5, 3)), y_val=np.zeros(4)), r"y_val has shape \(4, 1\)"),
])
def test_bad_validation_data_is_refused_before_training(kwargs, match, data):
    X, y, _, _ = data
    net = TwoLayerNet(hidden_units=4, max_iter=2, tol=None)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, **kwargs)
    assert not hasattr(net, "n_features_in_")
