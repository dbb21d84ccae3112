"""LinearRegressor's fit_intercept, rank_/singular_ and inference methods, against statsmodels."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from numpynn import LinearRegressor
from numpynn.kernels import compute_loss
from numpynn.persistence import load, save

sm = pytest.importorskip("statsmodels.api")


def _data(rng, n=80, hetero=False):
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [0.0, 10.0, -1.0]
    noise = rng.normal(size=n) * ((1 + X[:, 0] ** 2) if hetero else 1.0)
    return X, X @ [1.5, -0.3, 4.0] + 2.0 + noise


@pytest.mark.parametrize("solver", ["lstsq", "newton"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fit_intercept_matches_linear_regression(rng, solver, fit_intercept):
    X, y = _data(rng)
    reg = LinearRegressor(solver=solver, fit_intercept=fit_intercept).fit(X, y)
    ref = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-12)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-12, atol=0 if fit_intercept else 0)
    assert reg.rank_ == ref.rank_ == 3


def test_gd_without_intercept_holds_it_at_zero_and_steps_on_the_weights_curvature(rng):
    X = rng.normal(size=(80, 3))
    y = X @ [1.5, -0.3, 4.0] + 0.5 + rng.normal(size=80)   # an intercept it may not fit
    ref = LinearRegression(fit_intercept=False).fit(X, y)
    reg = LinearRegressor(fit_intercept=False, tol=1e-12, max_iter=20000).fit(X, y)
    # the step is 1 / lambda_max of the weights' Hessian X^T X / n (no ones column)
    assert reg.learning_rate_ == pytest.approx(
        1 / np.linalg.eigvalsh(X.T @ X / len(y))[-1], rel=1e-12)
    assert reg.intercept_ == 0.0
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-6)
    streamed = LinearRegressor(fit_intercept=False, batch_size=16, random_state=0)
    for _ in range(3):
        streamed.partial_fit(X, y)
    assert streamed.intercept_ == 0.0


def test_far_from_minimum_gap_is_measured_without_the_intercept(rng):
    # With b held at 0 the minimum is LinearRegression(fit_intercept=False)'s,
    # and the warning's gap is exactly the loss above it.
    X, y = _data(rng)
    with pytest.warns(ConvergenceWarning, match="the loss is still") as record:
        reg = LinearRegressor(fit_intercept=False, learning_rate=1e-3, tol=1e-2).fit(X, y)
    gap = float(str(record[0].message).split("still ")[1].split(" above")[0])
    best = LinearRegression(fit_intercept=False).fit(X, y)
    excess = (np.mean((y - reg.predict(X)) ** 2) - np.mean((y - best.predict(X)) ** 2)) / 2
    assert gap == pytest.approx(excess, rel=1e-3)           # the message rounds to 4 digits


def test_loss_curve_is_the_kernels_loss(rng):
    X, y = _data(rng)
    for fi in (True, False):
        reg = LinearRegressor(solver="lstsq", fit_intercept=fi, alpha=0.7).fit(X, y)
        loss = compute_loss(y[:, None], reg.predict(X)[:, None]) + \
            0.7 * np.vdot(reg.coef_, reg.coef_) / (2 * len(y))
        assert_allclose(reg.loss_curve_[0], loss, rtol=1e-10)


def test_rank_deficient_design_warns_with_the_rank(rng):
    X, y = _data(rng)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    with pytest.warns(np.exceptions.RankWarning,
                      match=r"rank 3, fewer than its 4 non-constant columns \(collinear"):
        reg = LinearRegressor(solver="lstsq").fit(X, y)
    ref = LinearRegression().fit(X, y)
    assert reg.rank_ == ref.rank_ == 3
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-9)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("solver", ["lstsq", "newton"])
def test_summary_equals_statsmodels(rng, cov_type, solver):
    X, y = _data(rng, hetero=True)
    w = rng.uniform(0.5, 2.0, size=len(y))
    reg = LinearRegressor(solver=solver, cov_type=cov_type).fit(X, y, sample_weight=w)
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit(cov_type=cov_type, use_t=True)
    s = reg.summary()
    assert_allclose(s.coef, ref.params, rtol=1e-10)
    assert_allclose(s.std_err, ref.bse, rtol=1e-10)
    assert_allclose(reg.conf_int(alpha=0.1), ref.conf_int(alpha=0.1), rtol=1e-10)
    Xn = X[:5] + 0.5
    y_pred, std = reg.predict(Xn, return_std=True)
    pred = ref.get_prediction(sm.add_constant(Xn, has_constant="add"))
    assert_allclose(y_pred, pred.predicted_mean, rtol=1e-10)
    assert_allclose(std, pred.se_mean, rtol=1e-10)
    if cov_type == "nonrobust":
        lower, upper = reg.predict_interval(Xn, alpha=0.05)
        frame = pred.summary_frame(alpha=0.05)
        assert_allclose(lower, frame["obs_ci_lower"], rtol=1e-10)
        assert_allclose(upper, frame["obs_ci_upper"], rtol=1e-10)


def test_summary_without_intercept_equals_statsmodels(rng):
    X, y = _data(rng)
    reg = LinearRegressor(solver="lstsq", fit_intercept=False).fit(X, y)
    ref = sm.OLS(y, X).fit()
    assert_allclose(reg.summary().std_err, ref.bse, rtol=1e-10)


def test_inference_after_partial_fit_and_load(rng, tmp_path):
    X, y = _data(rng)
    reg = LinearRegressor(solver="lstsq")
    for s in range(0, len(y), 25):
        reg.partial_fit(X[s:s + 25], y[s:s + 25])
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    assert_allclose(reg.summary().std_err, ref.bse, rtol=1e-9)
    save(reg, tmp_path / "m.npz")
    assert_allclose(load(tmp_path / "m.npz").conf_int(), ref.conf_int(), rtol=1e-9)
    reg.set_params(cov_type="HC3")
    with pytest.raises(ValueError, match="only cov_type='nonrobust' is available"):
        reg.summary()


def test_inference_errors(rng):
    X, y = _data(rng)
    with pytest.raises(ValueError, match="solver='gd'"):
        LinearRegressor(solver="gd").fit((X - X.mean(0)) / X.std(0), y).summary()
    with pytest.raises(ValueError, match="df_resid = 0"):
        LinearRegressor(solver="lstsq").fit(X[:4], y[:4]).conf_int()
    with pytest.raises(ValueError, match="cov_type"):
        LinearRegressor(solver="lstsq", cov_type="HC9").fit(X, y)


def test_without_intercept_streaming_and_a_saved_model_stay_exact(rng, tmp_path):
    X, y = _data(rng)
    ref = LinearRegression(fit_intercept=False).fit(X, y)
    reg = LinearRegressor(solver="lstsq", fit_intercept=False)
    for s in range(0, len(y), 16):
        reg.partial_fit(X[s:s + 16], y[s:s + 16])
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-10)
    assert reg.intercept_ == 0.0
    save(reg, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    assert back.get_params()["fit_intercept"] is False
    back.partial_fit(X[:10], y[:10])                   # the loaded state streams on
    ref = LinearRegression(fit_intercept=False).fit(np.vstack([X, X[:10]]), np.r_[y, y[:10]])
    assert_allclose(back.coef_, ref.coef_, rtol=1e-10)
    assert_allclose(back.summary().std_err,
                    sm.OLS(np.r_[y, y[:10]], np.vstack([X, X[:10]])).fit().bse, rtol=1e-9)


def test_newton_stops_one_epoch_after_its_exact_step(rng):
    # the first step lands on the minimum; the next epoch confirms it and the
    # fit stops there instead of waiting n_iter_no_change (10) more passes
    X, y = _data(rng)
    reg = LinearRegressor(solver="newton").fit(X, y)
    best = LinearRegressor(solver="lstsq").fit(X, y).loss_curve_[0]
    assert reg.n_iter_ == 3
    assert_allclose(reg.loss_curve_[1:], [best, best], rtol=1e-12)
