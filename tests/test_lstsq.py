import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

from numpynn.lstsq import qr_combine, qr_solve, qr_update


@pytest.mark.parametrize("block_rows", [None, 7, 50])
def test_matches_sklearn_linear_regression(rng, block_rows):
    X = rng.normal(size=(300, 5)) * [1, 10, 0.1, 3, 1]
    y = X @ rng.normal(size=(5, 2)) + 3 + rng.normal(size=(300, 2))
    coef, intercept, rss = qr_solve(qr_update(None, X, y, block_rows=block_rows), 5)
    ref = LinearRegression().fit(X, y)
    assert_allclose(coef.T, ref.coef_, rtol=1e-10)
    assert_allclose(intercept, ref.intercept_, rtol=1e-10)
    assert_allclose(rss, ((ref.predict(X) - y) ** 2).sum(axis=0), rtol=1e-9)


def test_weighted_ridge_matches_sklearn(rng):
    X = rng.normal(size=(80, 3))
    y = rng.normal(size=80)[:, None]
    sw = rng.uniform(0.1, 3, size=80)
    coef, intercept, _ = qr_solve(qr_update(None, X, y, sw), 3, alpha=2.5)
    ref = Ridge(alpha=2.5, solver="svd").fit(X, y[:, 0], sample_weight=sw)
    assert_allclose(coef[:, 0], ref.coef_, rtol=1e-10)
    assert_allclose(intercept[0], ref.intercept_, rtol=1e-10)


def test_blocks_in_any_grouping_give_the_same_answer(rng):
    X, y = rng.normal(size=(120, 4)), rng.normal(size=(120, 1))
    whole = qr_solve(qr_update(None, X, y), 4)
    streamed = None
    for s in range(0, 120, 17):
        streamed = qr_update(streamed, X[s:s + 17], y[s:s + 17])
    combined = qr_combine([qr_update(None, X[:30], y[:30]),
                           qr_update(None, X[30:], y[30:])])
    for R in (streamed, combined):
        for a, b in zip(qr_solve(R, 4), whole, strict=True):
            assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_rank_deficient_gives_sklearn_minimum_norm(rng):
    X = rng.normal(size=(50, 3))
    X = np.hstack([X, X[:, :1], np.full((50, 1), 4.0)])     # duplicated + constant
    y = rng.normal(size=(50, 1))
    coef, intercept, _ = qr_solve(qr_update(None, X, y), 5,
                                  rcond=50 * np.finfo(float).eps)
    ref = LinearRegression().fit(X, y[:, 0])
    assert_allclose(coef[:, 0], ref.coef_, atol=1e-10)
    assert_allclose(intercept[0], ref.intercept_, atol=1e-10)
    assert coef[0, 0] == pytest.approx(coef[3, 0])          # split equally: minimum norm


def test_fewer_rows_than_columns_still_square(rng):
    R = qr_update(None, rng.normal(size=(2, 6)), rng.normal(size=(2, 1)))
    assert R.shape == (8, 8)
