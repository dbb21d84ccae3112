"""Out-of-core training on memory-mapped arrays (np.load(mmap_mode="r")).

Mini-batch training must read batches, never the whole X: the extra memory
Python allocates (measured with tracemalloc, which sees NumPy's buffers) is
bounded by the batch size, plus 8 bytes per sample for the shuffled order
when ``shuffle=True``, and results equal the in-memory fit bit for bit.
"""

import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from numpynn import LinearRegressor, TwoLayerNet
from numpynn._inputs import check_fit_data
from numpynn.kernels import hessian
from numpynn.lstsq import qr_solve, qr_update

N, D, BATCH = 20_000, 25, 64
#: Allowance for interpreter noise (frames, small temporaries, caches).
SLACK = 64 << 10


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """``(X, y)`` in memory and the same arrays memory-mapped from .npy files."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, D))
    y = np.sin(X[:, :2]).sum(axis=1) + X @ rng.normal(size=D) * 0.1   # (N,)
    folder = tmp_path_factory.mktemp("memmap")
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    Xm = np.load(folder / "X.npy", mmap_mode="r")
    ym = np.load(folder / "y.npy", mmap_mode="r")
    assert isinstance(Xm, np.memmap)
    return X, y, Xm, ym


def peak_bytes(func):
    """Peak of Python-tracked allocations while ``func()`` runs (after a warm-up)."""
    func()                        # imports, caches, first-call allocations
    tracemalloc.start()
    try:
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, result


def batch_bound(n_params, shuffle, n_samples=N):
    """What the loop may hold: a few batch-sized buffers and temporaries per
    layer width, a few copies of the parameters, the shuffled order."""
    widest = max(D, 32)
    per_batch = 16 * BATCH * widest * 8
    order = 2 * 8 * n_samples if shuffle else 0
    return per_batch + 8 * n_params * 8 + order + SLACK


def linear(**kw):
    return LinearRegressor(**{"batch_size": BATCH, "learning_rate": 0.01, "max_iter": 2,
                              "tol": None, "random_state": 0, **kw})


def _fit(est, X, y):
    """Fit; a linear model's few fixed epochs end above the minimum and say so
    (that check reads the memory map in blocks too, inside the measured peak)."""
    if isinstance(est, LinearRegressor):
        with pytest.warns(ConvergenceWarning, match="tol=None ran all"):
            return est.fit(X, y)
    return est.fit(X, y)


def net(**kw):
    return TwoLayerNet(hidden_units=32, batch_size=BATCH, max_iter=2, tol=None,
                       random_state=0, **kw)


N_PARAMS = {"linear": D + 1, "net": D * 32 + 32 + 32 + 1}


@pytest.mark.parametrize("make, kind", [
    (lambda **kw: linear(learning_rate=1e-3, **kw), "linear"),    # surely far after 2 epochs
    (net, "net")])
@pytest.mark.parametrize("shuffle", [False, True])
def test_minibatch_fit_on_a_memmap_allocates_batches_not_x(data, make, kind, shuffle):
    X, y, Xm, ym = data
    peak, est = peak_bytes(lambda: _fit(make(shuffle=shuffle), Xm, ym))
    assert peak <= batch_bound(N_PARAMS[kind], shuffle)
    assert peak < X.nbytes / 5
    ref = _fit(make(shuffle=shuffle), X, y)
    assert_array_equal(est.predict(X[:500]), ref.predict(X[:500]))
    assert est.loss_curve_ == ref.loss_curve_


def test_auto_learning_rate_reads_the_memmap_in_blocks(data):
    X, y, Xm, ym = data
    make = lambda: LinearRegressor(batch_size=BATCH, max_iter=1, tol=None,  # noqa: E731
                                   shuffle=False)
    peak, est = peak_bytes(lambda: _fit(make(), Xm, ym))
    block = min(N, hessian.__kwdefaults__["chunk_rows"])   # the Hessian reads row blocks
    assert peak <= 1.5 * block * (D + 1) * 8 + batch_bound(N_PARAMS["linear"], False)
    assert_array_equal(est.coef_, _fit(make(), X, y).coef_)


@pytest.mark.parametrize("make", [linear, net])
def test_partial_fit_streams_memmap_slices_like_arrays(data, make):
    X, y, Xm, ym = data
    streamed, ref = make(), make()
    for start in range(0, N, 5_000):
        streamed.partial_fit(Xm[start:start + 5_000], ym[start:start + 5_000])
        ref.partial_fit(X[start:start + 5_000], y[start:start + 5_000])
    assert streamed.loss_curve_ == ref.loss_curve_
    assert_array_equal(streamed.predict(X[:100]), ref.predict(X[:100]))
    assert streamed.loss_curve_[-1] < 0.5 * streamed.loss_curve_[0]


def test_partial_fit_on_a_memmap_chunk_is_bounded_by_the_batch(data):
    X, y, Xm, ym = data
    est = net(shuffle=False).partial_fit(Xm[:BATCH], ym[:BATCH])
    peak, _ = peak_bytes(lambda: est.partial_fit(Xm, ym))
    assert peak <= batch_bound(N_PARAMS["net"], shuffle=False)


def test_streamed_qr_on_a_memmap_holds_one_block(data):
    X, y, Xm, ym = data
    rows = 2000
    peak, R = peak_bytes(lambda: qr_update(None, Xm, ym[:, None], block_rows=rows))
    p = D + 2
    assert peak <= 4 * (rows + p) * p * 8 + SLACK        # the block, LAPACK's copy
    ref = LinearRegressor(solver="lstsq").fit(X, y)
    coef, intercept, _ = qr_solve(R, D)
    assert_allclose(coef[:, 0], ref.coef_, rtol=1e-10)
    assert_allclose(intercept[0], ref.intercept_, rtol=1e-10)


def test_validating_a_memmap_does_not_copy_it(data):
    X, y, Xm, ym = data
    est = LinearRegressor(solver="lstsq")
    peak, (Xv, yv, _) = peak_bytes(lambda: check_fit_data(est, Xm, ym, None, {}, reset=True))
    assert np.shares_memory(Xv, Xm) and np.shares_memory(yv, ym)
    assert peak < 64 << 10
