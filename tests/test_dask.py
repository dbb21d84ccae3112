"""numpynn on dask: Incremental partial_fit and the map-reduce least squares.

Skipped unless the ``dask`` extra (dask[array], distributed, dask-ml) is
installed. One LocalCluster (2 worker processes, 1 thread each) serves the
whole module.
"""

import importlib

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn.inference import robust_meat, summarize  # noqa: E402
from numpynn.lstsq import lstsq_fit, lstsq_solve  # noqa: E402
from numpynn.parallel import (  # noqa: E402
    block_state,
    fit_lstsq_dask,
    robust_meat_dask,
    tree_combine,
)


@pytest.fixture(scope="module")
def client():
    # no dashboard; its HTTP endpoint on a free port (not 8787, which may be taken)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": ":0"}) as cluster:
        with distributed.Client(cluster) as c:
            c.run(importlib.import_module, "numpynn.parallel")   # warm the workers
            yield c


def dask_r2(y, y_pred):
    """R^2 of dask arrays, computed lazily (``Incremental.score`` with ``"r2"``
    fails on dask >= 2025.2: dask/dask-ml#1012)."""
    y_pred = y_pred.reshape(y.shape)
    return float(1 - ((y - y_pred) ** 2).sum() / ((y - y.mean(axis=0)) ** 2).sum())


def tall_data(rng, n=6000, d=6, k=1):
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 3, d)
    y = X @ rng.normal(size=(d, k)) + 2.0 + 0.1 * rng.normal(size=(n, k))
    return X, (y[:, 0] if k == 1 else y)


def test_the_blocks_live_on_two_worker_processes(client):
    info = client.scheduler_info()["workers"]
    assert len(info) == 2
    assert all(w["nthreads"] == 1 for w in info.values())


@pytest.mark.parametrize("k", [1, 3])
def test_map_reduce_lstsq_matches_one_in_memory_fit(client, rng, k):
    X, y = tall_data(rng, k=k)
    chunks = (1300, 2)                   # uneven row blocks, split columns
    reg = fit_lstsq_dask(da.from_array(X, chunks=chunks),
                         da.from_array(y, chunks=chunks[:y.ndim]), split_every=2)
    ref = LinearRegressor(solver="lstsq").fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-8)
    assert_allclose(reg.loss_curve_, ref.loss_curve_, rtol=1e-8)
    assert reg.n_features_in_ == 6 and reg.n_outputs_ == k and reg.n_iter_ == 1
    sk = LinearRegression().fit(X, y)
    assert_allclose(reg.coef_, sk.coef_, rtol=1e-8)
    assert_allclose(reg.intercept_, sk.intercept_, rtol=1e-8)
    assert_allclose(reg.predict(X), sk.predict(X), rtol=1e-8)


def test_weighted_ridge_uses_the_estimators_hyperparameters(client, rng):
    X, y = tall_data(rng, n=3000)
    sw = rng.uniform(0.1, 2.0, size=3000)
    est = LinearRegressor(solver="lstsq", alpha=3.0)
    out = fit_lstsq_dask(da.from_array(X, chunks=700), da.from_array(y, chunks=500),
                         da.from_array(sw, chunks=900), estimator=est)
    assert out is est
    ref = Ridge(alpha=3.0, solver="svd").fit(X, y, sample_weight=sw)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-8)


def test_without_intercept_the_map_reduce_fit_is_linear_regressions(client, rng):
    X, y = tall_data(rng, n=3000)
    est = LinearRegressor(solver="lstsq", fit_intercept=False)
    fit_lstsq_dask(da.from_array(X, chunks=700), da.from_array(y, chunks=700), estimator=est)
    ref = LinearRegression(fit_intercept=False).fit(X, y)
    assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    assert est.intercept_ == 0.0
    est.partial_fit(X[:100], y[:100])                       # streams on without intercept
    ref = LinearRegression(fit_intercept=False).fit(np.vstack([X, X[:100]]),
                                                    np.r_[y, y[:100]])
    assert_allclose(est.coef_, ref.coef_, rtol=1e-8)


def test_partial_fit_continues_exactly_from_the_combined_state(client, rng):
    X, y = tall_data(rng, n=4000)
    reg = fit_lstsq_dask(da.from_array(X[:3000], chunks=1000),
                         da.from_array(y[:3000], chunks=1000))
    reg.partial_fit(X[3000:], y[3000:])
    ref = LinearRegressor(solver="lstsq").fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-8)


def test_float32_blocks_give_float32_coefficients(client, rng):
    X, y = tall_data(rng, n=2000)
    reg = fit_lstsq_dask(da.from_array(X.astype(np.float32), chunks=500),
                         da.from_array(y.astype(np.float32), chunks=500))
    assert reg.coef_.dtype == np.float32
    assert_allclose(reg.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-3)


def test_refitting_discards_the_previous_model(client, rng):
    X, y = tall_data(rng, n=1000, d=3)
    est = LinearRegressor(solver="lstsq").fit(rng.normal(size=(50, 5)), rng.normal(size=50))
    fit_lstsq_dask(da.from_array(X, chunks=400), da.from_array(y, chunks=400),
                   estimator=est)
    assert est.coef_.shape == (3,) and est.n_features_in_ == 3
    assert len(est.loss_curve_) == 1


def test_bad_blocks_raise_fits_error_from_the_workers(client, rng):
    X, y = tall_data(rng, n=1000)
    X[777, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fit_lstsq_dask(da.from_array(X, chunks=250), da.from_array(y, chunks=250))


def first_line(exc):
    """The message's first line; the value quoted after "float: " is the first bad
    entry of whichever block failed first, so it is left out."""
    return str(exc).splitlines()[0].split("string to float: ")[0]


def fit_message(X, y, sample_weight=None):
    """The first line of the error ``LinearRegressor.fit`` raises on these arrays."""
    with pytest.raises(ValueError) as info:
        LinearRegressor(solver="lstsq").fit(X, y, sample_weight=sample_weight)
    return first_line(info.value)


REFUSED = {
    "complex X": lambda X, y: (X + 1j, y),
    "complex y": lambda X, y: (X, y + 0.5j),
    "y of shape (n, 0)": lambda X, y: (X, np.zeros((len(y), 0))),
    "strings in X": lambda X, y: (np.where(X > 0, "big", "small"), y),
    "strings in an object X": lambda X, y: (np.column_stack([X[:, :1], np.full(len(y), "x")])
                                            .astype(object), y),
    "infinity in y": lambda X, y: (X, np.r_[y[:-1], np.inf]),
    "no features": lambda X, y: (X[:, :0], y),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refuses_what_fit_refuses_with_the_same_message(client, rng, case):
    X, y = REFUSED[case](*tall_data(rng, n=40, d=3))
    expected = fit_message(X, y)
    with pytest.raises(ValueError) as info:
        fit_lstsq_dask(da.from_array(X, chunks=15), da.from_array(y, chunks=15))
    assert first_line(info.value) == expected


@pytest.mark.parametrize("weights, match", [
    (-np.ones(40), "sample_weight must be non-negative."),
    (np.zeros(40), "sample_weight must not be all zero: its sum must be positive."),
    (np.r_[np.ones(39), np.nan], "sample_weight contains NaN or infinity."),
])
def test_bad_weights_get_fits_message(client, rng, weights, match):
    X, y = tall_data(rng, n=40, d=3)
    assert fit_message(X, y, weights) == match
    with pytest.raises(ValueError, match=match):
        fit_lstsq_dask(da.from_array(X, chunks=15), da.from_array(y, chunks=15),
                       da.from_array(weights, chunks=15))


def test_complex_weights_are_refused(client, rng):
    X, y = tall_data(rng, n=40, d=3)
    with pytest.raises(ValueError, match="Complex data not supported in sample_weight"):
        fit_lstsq_dask(da.from_array(X, chunks=15), da.from_array(y, chunks=15),
                       da.from_array(np.ones(40) + 1j, chunks=15))


def test_a_two_layer_net_is_refused_clearly(client, rng):
    X, y = tall_data(rng, n=40, d=3)
    with pytest.raises(ValueError, match=r"fits a LinearRegressor\(solver='lstsq'\); got "
                                         r"TwoLayerNet"):
        fit_lstsq_dask(da.from_array(X, chunks=15), da.from_array(y, chunks=15),
                       estimator=TwoLayerNet())


def test_inference_after_map_reduce_equals_in_memory(client, rng):
    # statsmodels needs the rows in memory; the state and one more pass do not
    X, y = tall_data(rng, n=3000, k=2)
    y = y + rng.normal(size=y.shape) * np.abs(X[:, :1])       # heteroscedastic
    sw = rng.uniform(0.5, 2.0, size=3000)
    dX, dy, dw = (da.from_array(a, chunks=700) for a in (X, y, sw))
    parts = [dask.delayed(block_state)(xb, yb, wb) for xb, yb, wb in
             zip(dX.to_delayed().ravel(), dy.to_delayed().ravel(), dw.to_delayed().ravel(),
                 strict=True)]
    state = tree_combine(parts, split_every=2).compute()
    sol = lstsq_solve(state)
    meat = robust_meat_dask(dX, dy, dw, state, sol)
    ref_state, ref_sol = lstsq_fit(X, y, sw)
    ref_meat = robust_meat(X, y, sw, ref_state, ref_sol)
    for cov_type in ("nonrobust", "HC3"):
        ours = summarize(state, sol, cov_type=cov_type, meat=meat)
        ref = summarize(ref_state, ref_sol, cov_type=cov_type, meat=ref_meat)
        for field in ("coef", "std_err", "conf_int", "r2", "f_statistic"):
            assert_allclose(getattr(ours, field), getattr(ref, field), rtol=1e-9)


@pytest.mark.parametrize("kwargs, match", [
    ({"estimator": LinearRegressor(solver="gd")}, "solver='lstsq'"),
    ({"y": np.zeros(7)}, "does not match"),
    ({"sample_weight": np.ones(3)}, r"sample_weight.shape == \(3,\), expected \(10,\)"),
    ({"split_every": 1}, "split_every"),
])
def test_invalid_arguments_raise_before_any_work(client, rng, kwargs, match):
    args = {"X": rng.normal(size=(10, 2)), "y": rng.normal(size=10), **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_lstsq_dask(args.pop("X"), args.pop("y"), **args)


def test_tree_combine_of_delayed_states_builds_a_tree(client, rng):
    X, y = tall_data(rng, n=900)
    parts = [dask.delayed(block_state)(X[i:i + 100], y[i:i + 100]) for i in range(0, 900, 100)]
    graph = tree_combine(parts, split_every=3)
    merges = [k for k in dict(graph.__dask_graph__()) if str(k).startswith("lstsq_merge")]
    assert len(merges) == 4                           # 9 -> 3 -> 1: a tree, not one task
    state = graph.compute()
    assert state.n_samples == 900
    ref = lstsq_solve(block_state(X, y))
    assert_allclose(lstsq_solve(state).coef, ref.coef, rtol=1e-10)


def test_incremental_linear_regressor_gd_learns_from_chunks(client, rng):
    X, y = tall_data(rng, n=8000)
    dX, dy = da.from_array(X, chunks=1000), da.from_array(y, chunks=1000)
    inc = wrappers.Incremental(LinearRegressor(learning_rate=0.05, batch_size=100,
                                               random_state=0), random_state=0)
    inc.fit(dX, dy)
    assert inc.estimator_.n_iter_ == 8                  # one epoch per block
    assert dask_r2(dy, inc.predict(dX)) > 0.99          # baseline (the mean): 0
    curve = inc.estimator_.loss_curve_
    assert curve[-1] < 0.01 * curve[0]


def test_incremental_two_layer_net_learns_a_curve_from_chunks(client, rng):
    x = rng.uniform(-3, 3, size=(12000, 1))
    y = np.sin(x[:, 0]) + 0.05 * rng.normal(size=12000)
    dX, dy = da.from_array(x[:10000], chunks=2500), da.from_array(y[:10000], chunks=2500)
    inc = wrappers.Incremental(TwoLayerNet(hidden_units=30, learning_rate=0.01, random_state=0),
                               random_state=0)
    for _ in range(3):
        inc.partial_fit(dX, dy)
    assert inc.estimator_.n_iter_ == 12
    held_out = dask_r2(da.from_array(y[10000:]), inc.predict(da.from_array(x[10000:])))
    assert held_out > 0.9


def test_incremental_scores_with_mean_squared_error(client, rng):
    X, y = tall_data(rng, n=2000)
    dX, dy = da.from_array(X, chunks=500), da.from_array(y, chunks=500)
    inc = wrappers.Incremental(LinearRegressor(learning_rate=0.05, batch_size=50,
                                               random_state=0),
                               scoring="neg_mean_squared_error").fit(dX, dy)
    mse = -inc.score(dX, dy)
    assert 0 <= mse < 0.05 * np.var(y)


def test_a_failed_fit_keeps_the_previous_model(client, rng):
    X, y = tall_data(rng, n=600, d=3)
    est = fit_lstsq_dask(da.from_array(X, chunks=200), da.from_array(y, chunks=200))
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match="must not be all zero"):
        fit_lstsq_dask(da.from_array(X, chunks=200), da.from_array(y, chunks=200),
                       da.zeros(600, chunks=200), estimator=est)
    assert_allclose(est.coef_, coef, rtol=0)


def test_the_state_goes_to_an_estimator_that_takes_one(client, rng):
    # the contract once LinearRegressor takes a LstsqState: _set_lstsq_state(state, dtype, first)
    from numpynn.parallel import _set_estimator_state

    class Taker:
        def _set_lstsq_state(self, state, dtype, first):
            self.got = (state, dtype, first)
            return self

    X, y = tall_data(rng, n=200)
    state = block_state(X, y)
    out = _set_estimator_state(Taker(), state, np.float32)
    assert out.got == (state, np.float32, True)
