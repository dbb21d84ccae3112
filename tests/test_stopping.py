"""LinearRegressor's scale-invariant stopping on real data, and what its warnings advise."""

import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numpynn import LinearRegressor


def test_defaults_on_standardised_diabetes_stop_silently_at_the_exact_r2():
    """Every warning is an error here (pytest config): none may fire.

    The folds of ``cross_val_score(..., cv=5)``. (Some shuffled folds have a
    condition number near 500 and need more than the default 1000 epochs of
    gradient descent at 1/L; they end with the max_iter warning instead.)
    """
    X, y = load_diabetes(return_X_y=True)
    for train, _ in KFold(5).split(X):
        gd = make_pipeline(StandardScaler(), LinearRegressor()).fit(X[train], y[train])
        exact = make_pipeline(StandardScaler(), LinearRegressor(solver="lstsq"))
        exact.fit(X[train], y[train])
        assert gd[-1].n_iter_ < gd[-1].max_iter
        assert gd.score(X[train], y[train]) == pytest.approx(
            exact.score(X[train], y[train]), abs=1e-3)


@pytest.mark.parametrize("params, advice", [
    ({}, "learning_rate='auto' already takes the largest safe step"),
    ({"learning_rate": 1e-4}, "increase max_iter or learning_rate"),
])
def test_max_iter_advice_knows_whether_the_rate_is_automatic(params, advice):
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="reached max_iter=3") as record:
        LinearRegressor(max_iter=3, **params).fit(StandardScaler().fit_transform(X), y)
    message = str(record[0].message)
    assert advice in message
    assert ("learning_rate='auto' already" in message) == ("learning_rate" not in params)
    assert record[0].filename == __file__                   # points at this line's call
