"""Same random_state, same bits: across runs and processes; predict from threads."""

import json
import os
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from numpynn import LinearRegressor, TwoLayerNet, load

CONFIGS = {
    "gd-minibatch": LinearRegressor(learning_rate=0.05, batch_size=16, max_iter=30,
                                    random_state=7),
    "gd-early": LinearRegressor(batch_size=16, early_stopping=True, max_iter=30,
                                random_state=7),
    "lstsq": LinearRegressor(solver="lstsq"),
    "adam": TwoLayerNet(hidden_units=10, max_iter=30, batch_size=16, random_state=7),
    "nesterov": TwoLayerNet(hidden_units=10, optimizer="momentum", nesterov=True,
                            activation="tanh", max_iter=30, batch_size=16, random_state=7),
    "sgd-early": TwoLayerNet(hidden_units=10, optimizer="sgd", early_stopping=True,
                             activation="sigmoid", max_iter=30, random_state=7),
}

#: Run in a fresh interpreter: fit every configuration (given as class name and
#: parameters) on data of its own making; save the data and the models.
CHILD = """
import json, sys, warnings
import numpy as np
import numpynn
warnings.simplefilter("ignore")
out, configs = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(123)
X = rng.normal(size=(100, 4))
y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=100)
np.save(out + "/X.npy", X)
np.save(out + "/y.npy", y)
for name, (cls, params) in configs.items():
    numpynn.save(getattr(numpynn, cls)(**params).fit(X, y), f"{out}/{name}.npz")
"""


def _data(dtype=np.float64):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 4)).astype(dtype)
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=100)


def _fit(name, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CONFIGS[name].__sklearn_clone__().fit(X, y)


def _arrays(est):
    if isinstance(est, LinearRegressor):
        arrays = [np.asarray(est.coef_), np.asarray(est.intercept_)]
    else:
        arrays = est.coefs_ + est.intercepts_
        state = est._optimizer_state or {}
        for key in ("m", "v"):
            arrays += list(state.get(key, {}).values())
    return arrays + [np.asarray(est.loss_curve_)]


def _assert_bit_identical(a, b):
    assert len(_arrays(a)) == len(_arrays(b))
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.dtype == y.dtype
        assert_array_equal(np.atleast_1d(x).view(np.uint8),       # bits, not values
                           np.atleast_1d(y).view(np.uint8))
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", CONFIGS)
def test_same_seed_same_bits_across_runs(name, dtype):
    X, y = _data(dtype)
    first, second = _fit(name, X, y), _fit(name, X, y)
    _assert_bit_identical(first, second)
    assert_array_equal(first.predict(X).view(np.uint8), second.predict(X).view(np.uint8))


def test_different_seeds_differ():
    a = TwoLayerNet(hidden_units=5, max_iter=3, tol=None, random_state=1)
    b = TwoLayerNet(hidden_units=5, max_iter=3, tol=None, random_state=2)
    X = np.random.default_rng(0).normal(size=(30, 2))
    assert not np.array_equal(a.fit(X, X[:, 0]).coefs_[0], b.fit(X, X[:, 0]).coefs_[0])


def test_same_seed_same_bits_across_processes(tmp_path):
    # The child's hash seed differs from ours, so no dict or set ordering can leak
    # into the results.
    configs = {name: (type(est).__name__, est.get_params()) for name, est in CONFIGS.items()}
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), json.dumps(configs)],
                   check=True, env=env, timeout=300, capture_output=True)
    X, y = np.load(tmp_path / "X.npy"), np.load(tmp_path / "y.npy")
    for name in CONFIGS:
        here, there = _fit(name, X, y), load(tmp_path / f"{name}.npz")
        _assert_bit_identical(here, there)
        assert_array_equal(here.predict(X), there.predict(X))


@pytest.mark.parametrize("name", ["gd-minibatch", "adam", "sgd-early"])
def test_predict_is_thread_safe(name):
    X, y = _data()
    est = _fit(name, X, y)
    before = [a.copy() for a in _arrays(est)]
    rng = np.random.default_rng(0)
    # Different row counts per task: a shared scratch buffer would mix them up.
    inputs = [rng.normal(size=(int(n), X.shape[1])) for n in rng.integers(1, 400, size=24)]
    expected = [est.predict(Xi) for Xi in inputs]
    start = threading.Barrier(8)

    def work(i):
        if i < 8:
            start.wait()                       # the first eight start together
        return [est.predict(inputs[(i + j) % len(inputs)]) for j in range(6)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(len(inputs))))
    for i, got in enumerate(results):
        for j, y_pred in enumerate(got):
            assert_array_equal(y_pred, expected[(i + j) % len(inputs)])
    for a, b in zip(before, _arrays(est), strict=True):
        assert_array_equal(a, b)                  # predict never touches the model


def test_float32_predict_from_threads_keeps_dtype():
    X, y = _data(np.float32)
    est = _fit("adam", X, y)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(pool.map(est.predict, [X[:i + 1] for i in range(40)]))
    for i, y_pred in enumerate(outs):
        assert y_pred.dtype == np.float32 and y_pred.shape == (i + 1,)
        assert_array_equal(y_pred, est.predict(X[:i + 1]))
