"""Both estimators are full scikit-learn citizens.

``parametrize_with_checks`` runs with no expected failures and no skip tags
on the defaults and on every solver, optimizer and activation. Mini-batch
and early-stopping configurations are checked separately below: sklearn's
sample-weight equivalence check (integer weights == repeated rows) holds
exactly for full-batch training but only in expectation for shuffled
mini-batches or a random validation split, so those configurations are not
run through it.

scikit-learn itself skips its array-API checks (the 9 skips of a test run)
unless the environment sets SCIPY_ARRAY_API=1: numpynn computes with NumPy
only and does not claim array-API support, so they do not apply.
"""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from numpynn import LinearRegressor, TwoLayerNet

ESTIMATORS = [
    LinearRegressor(),
    LinearRegressor(solver="lstsq"),
    LinearRegressor(solver="newton"),
    LinearRegressor(alpha=0.1),
    TwoLayerNet(),
    TwoLayerNet(optimizer="sgd", activation="tanh", learning_rate=0.01),
    TwoLayerNet(optimizer="momentum", nesterov=True, activation="sigmoid", learning_rate=0.01),
    TwoLayerNet(activation="linear", hidden_units=3, learning_rate=0.01),
    TwoLayerNet(optimizer="lbfgs", hidden_units=8),
]


# sklearn's check data are deliberately unscaled (condition numbers up to 1e9):
# gradient descent stops early there and says so with a ConvergenceWarning,
# which is right but not what these API checks test.
# The sample-weight check fits 30 features on 15 distinct rows, repeated:
# the exact solvers say the design is rank-deficient (the minimum-norm solution
# is then what LinearRegression returns too, and the check compares it).
UNDERDETERMINED = {"check_sample_weight_equivalence_on_dense_data",
                   "check_sample_weight_equivalence_on_sparse_data"}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    name = getattr(check, "func", check).__name__
    if (isinstance(estimator, LinearRegressor) and estimator.solver != "gd"
            and name in UNDERDETERMINED):
        with pytest.warns(np.exceptions.RankWarning, match="fewer rows than columns"):
            check(estimator)
    else:
        check(estimator)


def test_in_a_pipeline_and_grid_search(rng):
    X = rng.normal(size=(120, 3)) * [1, 100, 0.01]
    y = np.sin(X[:, 0]) + X[:, 1] / 100
    pipe = make_pipeline(StandardScaler(), TwoLayerNet(max_iter=50, tol=None, random_state=0))
    grid = GridSearchCV(pipe, {"twolayernet__hidden_units": [4, 16],
                               "twolayernet__learning_rate": [0.01, 0.03]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"twolayernet__hidden_units",
                                      "twolayernet__learning_rate"}
    assert grid.best_estimator_.predict(X).shape == (120,)
    assert grid.best_score_ > 0.5


def test_mini_batch_auto_learning_rate_trains_on_sklearns_regression_data():
    """sklearn's check_regressors_train, for mini-batch gd (score > 0.5)."""
    from sklearn.datasets import make_regression
    from sklearn.preprocessing import scale

    X, y = make_regression(n_samples=200, n_features=10, noise=20, random_state=0)
    X, y = scale(X), scale(y)
    for batch_size in (1, 16, 64):
        with pytest.warns(ConvergenceWarning, match="Mini-batches .* stall in their "
                                                    "gradient noise"):
            reg = LinearRegressor(batch_size=batch_size, random_state=0).fit(X, y)
        assert reg.score(X, y) > 0.5, batch_size


def test_early_stopping_refuses_too_few_samples_clearly(rng):
    X, y = rng.normal(size=(1, 2)), rng.normal(size=1)
    for est in (LinearRegressor(early_stopping=True), TwoLayerNet(early_stopping=True)):
        with pytest.raises(ValueError, match="n_samples = 1"):
            est.fit(X, y)
        assert not hasattr(est, "n_features_in_")
