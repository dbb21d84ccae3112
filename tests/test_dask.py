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

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
wrappers = pytest.importorskip("dask_ml.wrappers")

from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn.parallel import fit_lstsq_dask, tree_combine  # noqa: E402


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


def test_bad_blocks_raise_value_error_from_the_workers(client, rng):
    X, y = tall_data(rng, n=1000)
    X[777, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        fit_lstsq_dask(da.from_array(X, chunks=250), da.from_array(y, chunks=250))


@pytest.mark.parametrize("kwargs, match", [
    ({"estimator": LinearRegressor(solver="gd")}, "solver='lstsq'"),
    ({"y": np.zeros(7)}, "does not match"),
    ({"sample_weight": np.ones(3)}, "sample_weight"),
    ({"split_every": 1}, "split_every"),
])
def test_invalid_arguments_raise_before_any_work(client, rng, kwargs, match):
    args = {"X": rng.normal(size=(10, 2)), "y": rng.normal(size=10), **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_lstsq_dask(args.pop("X"), args.pop("y"), **args)


def test_tree_combine_of_delayed_states_builds_a_tree(client, rng):
    import dask

    X, y = tall_data(rng, n=900)
    from numpynn.parallel import block_state
    parts = [dask.delayed(block_state)(X[i:i + 100], y[i:i + 100]) for i in range(0, 900, 100)]
    R = tree_combine(parts, split_every=3).compute()
    assert_allclose(np.abs(R), np.abs(block_state(X, y)), rtol=1e-10, atol=1e-9)


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
    with pytest.raises(ValueError, match="positive weight"):
        fit_lstsq_dask(da.from_array(X, chunks=200), da.from_array(y, chunks=200),
                       da.zeros(600, chunks=200), estimator=est)
    assert_allclose(est.coef_, coef, rtol=0)
