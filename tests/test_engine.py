"""The fast training step equals the reference kernels plus the optimizer.

One epoch through ``numpynn._engine.make_step`` against one epoch of
``numpynn.kernels`` (forward_prop, loss_and_gradient) and the optimizer's
step, batch by batch, for every activation x outputs {1, 3} x {float64,
float32} x {dense, sparse} x {chunked, not}; and the estimators' results
with and without ``numpynn.reference_kernels()``.
"""

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import numpynn
from numpynn import _engine, kernels
from numpynn._training import batches, copy_state
from numpynn.optimizers import OPTIMIZERS

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
TOL = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=1e-5, atol=1e-6)}


def _reference_epoch(X, y, sw, params, optimizer, state, activation, alpha, bounds):
    losses = []
    for batch in bounds:
        Xb = X[batch]
        swb = None if sw is None else sw[batch]
        y_pred, cache = kernels.forward_prop(Xb, params, activation)
        loss, grads = kernels.loss_and_gradient(params, cache, y[batch], y_pred, activation,
                                                alpha=alpha, sample_weight=swb)
        state = optimizer.step(params, grads, state)
        losses.append(loss)
    return losses


def _fast_epoch(X, y, sw, params, optimizer, state, activation, alpha, bounds, batch_size):
    losses = []
    with _engine.make_step(X, y, sw, optimizer, activation=activation, alpha=alpha,
                           batch_size=batch_size, params=params) as step:
        for batch in bounds:
            loss, state = step(params, state, batch)
            losses.append(loss)
    return losses


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
@pytest.mark.parametrize("chunked", [False, True])
def test_one_epoch_equals_the_reference(activation, k, dtype, layout, chunked, monkeypatch):
    rng = np.random.default_rng(3)
    n, d, h = 1300, 5, 7                            # chunked: 6 chunks of 256 rows
    X = rng.normal(size=(n, d)).astype(dtype)
    if layout == "sparse":
        X[rng.random(X.shape) < 0.6] = 0
        X = sp.csr_matrix(X)
    y = rng.normal(size=(n, k)).astype(dtype)
    sw = rng.uniform(0.2, 2.0, n).astype(dtype)
    if chunked:                                     # full batch swept in chunks of 256 rows
        monkeypatch.setattr(_engine, "CHUNK_BYTES", 1)
        batch_size, order = n, None
    else:                                           # shuffled mini-batches of 64
        batch_size, order = 64, rng.permutation(n)
    bounds = list(batches(n, batch_size, order))
    optimizer = OPTIMIZERS["adam"](0.01)
    params = kernels.init_params((d, h, k), activation, rng, dtype)
    ref_params, fast_params = copy_state(params), copy_state(params)
    ref_state, fast_state = optimizer.init(ref_params), optimizer.init(fast_params)
    ref = _reference_epoch(X, y, sw, ref_params, optimizer, ref_state, activation, 0.3,
                           bounds)
    fast = _fast_epoch(X, y, sw, fast_params, optimizer, fast_state, activation, 0.3,
                       bounds, batch_size)
    assert_allclose(fast, ref, **TOL[dtype])
    for key in params:
        assert fast_params[key].dtype == dtype
        assert_allclose(fast_params[key], ref_params[key], **TOL[dtype])
    for key in ("m", "v"):
        for p in params:
            assert_allclose(fast_state[key][p], ref_state[key][p], **TOL[dtype])
    assert fast_state["t"] == ref_state["t"] == len(bounds)


@pytest.mark.parametrize("weighted", [False, True])
def test_one_layer_step_equals_the_reference(weighted):
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(300, 4)), rng.normal(size=(300, 2))
    sw = rng.uniform(0.5, 2, 300) if weighted else None
    params = {"W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=2)}
    opt = OPTIMIZERS["sgd"](0.1)
    bounds = list(batches(300, 50, rng.permutation(300)))
    ref_p, fast_p = copy_state(params), copy_state(params)
    ref = _reference_epoch(X, y, sw, ref_p, opt, None, "linear", 0.5, bounds)
    fast = _fast_epoch(X, y, sw, fast_p, opt, None, "linear", 0.5, bounds, 50)
    assert_allclose(fast, ref, rtol=1e-12)
    for key in params:
        assert_allclose(fast_p[key], ref_p[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [
    lambda: numpynn.TwoLayerNet(hidden_units=6, max_iter=4, tol=None, random_state=0),
    lambda: numpynn.TwoLayerNet(hidden_units=6, max_iter=4, tol=None, random_state=0,
                                batch_size=None, optimizer="momentum", activation="tanh"),
    lambda: numpynn.LinearRegressor(max_iter=20, tol=None),
    lambda: numpynn.LinearRegressor(solver="newton", max_iter=3, tol=None),
], ids=["net-adam", "net-momentum-full", "linear-gd", "linear-newton"])
def test_estimators_equal_under_the_reference_switch(make):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(150, 3)), rng.normal(size=150)
    fast = make().fit(X, y)
    with numpynn.reference_kernels():
        ref = make().fit(X, y)
    assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-11)
    assert_allclose(fast.predict(X), ref.predict(X), rtol=1e-10, atol=1e-12)


def test_the_reference_switch_is_scoped_and_nestable():
    assert not _engine._REFERENCE.get()
    with numpynn.reference_kernels():
        assert _engine._REFERENCE.get()
        with numpynn.reference_kernels(False):
            assert not _engine._REFERENCE.get()
        assert _engine._REFERENCE.get()
    assert not _engine._REFERENCE.get()


@pytest.mark.parametrize("layout", ["fortran", "column-slice", "int", "float16"])
def test_every_input_layout_trains_identically(layout):
    """Any order or dtype gives the C-ordered float result (one gather per batch)."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(400, 5)) * 3
    y = X @ rng.normal(size=5)
    if layout == "fortran":
        Xin = np.asfortranarray(X)
    elif layout == "column-slice":
        wide = np.zeros((400, 10))
        wide[:, ::2] = X
        Xin = wide[:, ::2]
    elif layout == "int":
        X = np.round(X)
        Xin = X.astype(np.int64)
        y = X @ np.ones(5)
    else:
        X = X.astype(np.float16).astype(np.float64)
        Xin = X.astype(np.float16)
    net = numpynn.TwoLayerNet(hidden_units=8, max_iter=3, tol=None, random_state=0)
    a = net.fit(np.ascontiguousarray(X), y).coefs_[0].copy()
    b = net.fit(Xin, y).coefs_[0]
    assert_array_equal(a, b)


def test_blas_limit_restored_after_concurrent_fits():
    """Overlapping one-thread contexts of fits in threads restore the original count."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(2000, 5)), rng.normal(size=2000)
    errors = []

    def fit(seed):
        try:
            numpynn.TwoLayerNet(hidden_units=4, max_iter=3, tol=None,
                                random_state=seed).fit(X, y)
        except Exception as exc:    # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fit, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert blas_threads() == before


def test_six_python_frames_from_fit_to_the_first_product():
    """fit -> _fit -> train -> run -> the step -> _chunk, whose first line is a product."""
    import sys

    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    net = numpynn.TwoLayerNet(hidden_units=4, max_iter=1, tol=None, random_state=0)
    chains = []
    # TwoLayerNet.fit inside scikit-learn's with_callbacks wrapper (as MLPRegressor.fit
    # inside its _fit_context): the count starts at numpynn's own fit
    fit_code = numpynn.TwoLayerNet.fit.__wrapped__.__code__

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "_chunk" and not chains:
            names = []
            while frame is not None and frame.f_code is not fit_code:
                names.append(frame.f_code.co_name)
                frame = frame.f_back
            chains.append(names[::-1] if frame is not None else None)

    sys.setprofile(profile)
    try:
        net.fit(X, y)
    finally:
        sys.setprofile(None)
    assert chains and chains[0] is not None
    assert chains[0] == ["_fit", "train", "run", "__call__", "_chunk"]   # + fit itself: 6


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 2])
def test_one_layer_full_batch_sweep_equals_the_reference(weighted, k, monkeypatch):
    """A full batch of a linear model swept in 256-row chunks, its sums scaled once."""
    monkeypatch.setattr(_engine, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(9)
    n = 2000                                        # 8 chunks of 256 rows
    X, y = rng.normal(size=(n, 4)), rng.normal(size=(n, k))
    sw = rng.uniform(0.5, 2, n) if weighted else None
    params = {"W1": rng.normal(size=(4, k)), "b1": rng.normal(size=k)}
    opt = OPTIMIZERS["momentum"](0.1)
    bounds = [slice(0, n)] * 3                      # three full-batch steps
    ref_p, fast_p = copy_state(params), copy_state(params)
    ref = _reference_epoch(X, y, sw, ref_p, opt, opt.init(ref_p), "linear", 0.5, bounds)
    fast = _fast_epoch(X, y, sw, fast_p, opt, opt.init(fast_p), "linear", 0.5, bounds, n)
    assert_allclose(fast, ref, rtol=1e-12)
    for key in params:
        assert_allclose(fast_p[key], ref_p[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", ["DataFrame float64", "DataFrame int64", "DataFrame mixed",
                                    "Fortran int64", "column slice"])
def test_a_non_c_layout_is_copied_to_c_order_once(layout):
    """One copy of X at most (tracemalloc), also when its dtype is converted."""
    import tracemalloc

    pd = pytest.importorskip("pandas")
    from numpynn import _inputs

    rng = np.random.default_rng(11)
    n, d = 100_000, 10                              # 8 MB: scikit-learn's checks use O(1)
    X = np.round(rng.normal(size=(n, d)) * 100)
    if layout == "DataFrame float64":
        Xin = pd.DataFrame(X)
    elif layout == "DataFrame int64":
        Xin = pd.DataFrame(X.astype(np.int64))
    elif layout == "DataFrame mixed":
        Xin = pd.DataFrame(X)
        Xin[0] = Xin[0].astype(np.int32)
        Xin[1] = Xin[1].astype(np.float32)
    elif layout == "Fortran int64":
        Xin = np.asfortranarray(X.astype(np.int64))
    else:
        wide = np.zeros((n, 2 * d))
        wide[:, ::2] = X
        Xin = wide[:, ::2]
    y = rng.normal(size=n)
    est = numpynn.LinearRegressor()
    tracemalloc.start()
    try:
        Xc, yc, _ = _inputs.check_fit_data(est, Xin, y, None, {}, reset=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert Xc.flags.c_contiguous and Xc.dtype == np.float64
    assert_array_equal(Xc, X)
    assert peak < 1.25 * X.nbytes                   # two copies would be 2 x X.nbytes
