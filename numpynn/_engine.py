r"""The fast path: one training step, the same numbers as :mod:`numpynn.kernels`.

The training loop (:mod:`numpynn._training`) sees one interface::

    with make_step(X, y, sample_weight, optimizer, activation=..., alpha=...,
                   batch_size=..., params=...) as step:
        loss, opt_state = step(params, opt_state, batch)   # batch: slice or sorted indices

``step`` takes the batch's rows, computes its loss before the update and
its gradient, and lets the optimizer update ``params`` in place. It is the
reference math of :mod:`numpynn.kernels` (forward, loss, backprop) and
the optimizer; inside :func:`reference_kernels` it *is* those functions,
called as written, so a learner can step through the textbook code in a
debugger.

Otherwise it computes the same numbers (equal to rounding: the tests in
``tests/test_engine.py`` check every activation, 1 and 3 outputs, float64
and float32, dense and sparse, chunked and not) with these tricks. Each is
kept because switching it off costs at least 5 % end to end in most
interleaved runs of ``python -m benchmarks --only ablation`` (the figures,
run by run, are in docs/benchmarks.md; a trick that fell short was
deleted):

1. **BLAS on one thread** while the per-batch products are small (under
   :data:`SMALL_FLOPS`): OpenBLAS otherwise spends more time waking and
   synchronising threads than computing a (200, 20) x (20, 100) product.
   Process-wide and reference-counted, so concurrent fits in threads
   restore the setting correctly.
2. **Row chunks of big batches** (:data:`CHUNK_BYTES`): a full batch on
   big data is swept in chunks whose rows stay in cache between the
   forward and the backward pass, so ``X`` is read from memory once per
   epoch and the hidden layer never exists for all rows at once (which
   also bounds memory on memory-mapped ``X``).
3. **Preallocated batch buffers, one gather per batch**: the shuffled
   batch's rows are copied once into a C-ordered buffer in the training
   dtype (whatever the order or dtype of ``X``: a DataFrame's
   Fortran-ordered array, column slices, a float16 memory map), and every
   layer output is written into a buffer made once per fit.
4. **One-output backprop without** :math:`\Delta_1`: with one output,
   :math:`\Delta_1 = \operatorname{diag}(\delta)\,\sigma'(Z)\,\operatorname{diag}(w_2)`,
   so :math:`\nabla_{W_1} = ((\operatorname{diag}(\delta) X)^\top \sigma'(Z))
   \operatorname{diag}(w_2)`: the same GEMM with two passes over the
   (n, h) hidden layer fewer.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from . import kernels
from .activations import ACTIVATIONS, DERIVATIVES

#: Per-batch GEMM flops below which BLAS runs on one thread (about 1 ms on one core).
SMALL_FLOPS = 2e7
#: Bytes of one row chunk of a big batch (rows of X and of every layer output).
CHUNK_BYTES = 2 << 20

#: Each trick of the module docstring can be switched off here, for the
#: ablation benchmark only (``python -m benchmarks --only ablation``); read
#: when a step is made. Never changed by the library.
TRICKS = {"one_thread_blas": True, "row_chunks": True, "gather": True,
          "one_output_backprop": True,
          # numpynn.lstsq's fast path: the Gram matrix in the residual pass's read
          "gram_in_residual_pass": True}

_REFERENCE = ContextVar("numpynn_reference_kernels", default=False)


@contextmanager
def reference_kernels(enabled=True):
    """Train through :mod:`numpynn.kernels` as written (no fast path) inside the block.

    The estimators then call :func:`numpynn.kernels.forward_prop`,
    :func:`numpynn.kernels.loss_and_gradient` and the optimizer's ``step``
    for every batch, so a debugger steps through the textbook code. The
    results equal the fast path's up to rounding. Only the current thread
    (context) is affected.

    Parameters
    ----------
    enabled : bool, default=True
        ``False`` restores the fast path inside an enclosing block.

    Examples
    --------
    >>> import numpynn
    >>> X = np.arange(8.0).reshape(-1, 1); y = 2 * X.ravel() + 1
    >>> with numpynn.reference_kernels():
    ...     reg = numpynn.LinearRegressor(solver="gd", max_iter=500, tol=None).fit(X, y)
    >>> round(float(reg.coef_[0]), 6), round(float(reg.intercept_), 6)
    (2.0, 1.0)
    """
    token = _REFERENCE.set(bool(enabled))
    try:
        yield
    finally:
        _REFERENCE.reset(token)


class _BlasLimiter:
    """Reference-counted "BLAS on one thread" shared by every thread of the process.

    The first user saves the BLAS thread count and sets 1; the last one
    restores it. (threadpoolctl's own contexts restore on exit, so
    overlapping contexts from concurrent fits would restore each other's
    value of 1 for good.)
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._users = 0
        self._limits = None
        self._controller = None       # inspecting the loaded libraries costs ~10 ms

    def _libs(self):
        if self._controller is None:
            from threadpoolctl import ThreadpoolController  # scikit-learn's dependency
            self._controller = ThreadpoolController().select(user_api="blas")
        return self._controller.lib_controllers

    def threads(self):
        """The number of threads BLAS may use now (respects every limit in force)."""
        with self._lock:
            return max((lib.num_threads for lib in self._libs()), default=1)

    @contextmanager
    def one_thread(self, active=True):
        if not active:
            yield
            return
        with self._lock:
            if self._users == 0:
                libs = self._libs()
                self._limits = [(lib, lib.num_threads) for lib in libs]
                for lib in libs:
                    lib.set_num_threads(1)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for lib, threads in self._limits:
                        lib.set_num_threads(threads)
                    self._limits = None


BLAS = _BlasLimiter()


def chunk_rows(width, itemsize):
    """Rows per chunk of a big batch: about :data:`CHUNK_BYTES` of inputs and layer outputs."""
    return max(256, CHUNK_BYTES // (width * itemsize))


@contextmanager
def make_step(X, y, sample_weight, optimizer, *, activation, alpha, batch_size, params):
    """The training step for data ``(X, y, sample_weight)``, as a context manager.

    Parameters
    ----------
    X : ndarray, memory map or sparse matrix of shape (n_samples, n_features)
        Any order or real dtype; batches are computed in ``params``' dtype.
    y : ndarray of shape (n_samples, n_outputs)
        In ``params``' dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    optimizer : numpynn.optimizers.Optimizer
    activation : str
    alpha : float
    batch_size : int
        The largest batch ``step`` will be given.
    params : dict of str to ndarray
        Only shapes and dtype are read (to size the buffers).

    Yields
    ------
    step : callable
        ``step(params, opt_state, batch) -> (loss, opt_state)``; ``batch``
        is a slice or an array of sorted row indices. Updates ``params``
        in place. ``step.loss(params, batch)`` is the batch's loss alone
        (no update), by :mod:`numpynn.kernels`.
    """
    def loss(params, batch):
        swb = None if sample_weight is None else sample_weight[batch]
        y_pred, _ = kernels.forward_prop(_rows(X, batch, y.dtype), params, activation)
        return kernels.compute_loss(y[batch], y_pred, sample_weight=swb, params=params,
                                    alpha=alpha)

    if _REFERENCE.get():
        step = _reference_step(X, y, sample_weight, optimizer, activation, alpha)
        step.loss = loss
        yield step
        return
    dtype = params["W1"].dtype
    widths = [X.shape[1]] + [params[f"W{layer}"].shape[1] for layer in (1, 2)
                             if f"W{layer}" in params]
    rows = chunk_rows(sum(widths), dtype.itemsize) if TRICKS["row_chunks"] else X.shape[0]
    m = min(batch_size, X.shape[0])
    gemm = 2 * min(m, 2 * rows) * sum(v.size for k, v in params.items() if k[0] == "W")
    fast = _FastStep(X, y, sample_weight, optimizer, activation, alpha, params, m, rows)
    fast.loss = loss
    with BLAS.one_thread(TRICKS["one_thread_blas"] and gemm < SMALL_FLOPS):
        yield fast


def _rows(X, batch, dtype):
    """Rows ``batch`` of ``X``, dense ones in ``dtype``."""
    Xb = X[batch]
    return Xb.astype(dtype) if isinstance(Xb, np.ndarray) and Xb.dtype != dtype else Xb


def _reference_step(X, y, sample_weight, optimizer, activation, alpha):
    """The textbook step: :mod:`numpynn.kernels` and the optimizer, as written."""

    def step(params, opt_state, batch):
        Xb = _rows(X, batch, y.dtype)
        swb = None if sample_weight is None else sample_weight[batch]
        y_pred, cache = kernels.forward_prop(Xb, params, activation)
        loss, grads = kernels.loss_and_gradient(params, cache, y[batch], y_pred, activation,
                                                alpha=alpha, sample_weight=swb)
        return loss, optimizer.step(params, grads, opt_state)

    return step


class _FastStep:
    """Buffers of one fit and the step that fills them (see the module docstring).

    Called as the step; its ``loss`` attribute is set by :func:`make_step`.
    """

    def __init__(self, X, y, sample_weight, optimizer, activation, alpha, params, m, rows):
        self.X, self.y, self.sw = X, y, sample_weight
        self.optimizer, self.alpha = optimizer, alpha
        self.act, self.deriv = ACTIVATIONS[activation], DERIVATIVES[activation]
        self.rows = rows
        self.two_layers = "W2" in params
        self.dense = isinstance(X, np.ndarray)
        dtype = params["W1"].dtype
        self.dtype = dtype
        c = min(m, 2 * rows)                              # rows of one forward/backward
        d, k = X.shape[1], y.shape[1]
        self.m = m
        self.Xbuf = self.ybuf = None                      # gathered rows: made on first use
        self.out = np.empty((c, k), dtype)                # predictions, then delta
        self.grads = {key: np.empty_like(v) for key, v in params.items()}
        self.acc = None                                   # per-chunk sums of a big batch
        if self.two_layers:
            h = params["W1"].shape[1]
            self.hidden = np.empty((c, h), dtype)         # Z1, then H
            self.back = np.empty((c, h), dtype)           # sigma'(Z1), then Delta_1
            self.xdelta = (np.empty((c, d), dtype) if k == 1 and self.dense
                           and TRICKS["one_output_backprop"] else None)
        self.gather = TRICKS["gather"]

    def _take(self, batch):
        """The batch's ``(X, y, sample_weight)`` rows (views for a slice of a suitable X)."""
        X, y, sw = self.X, self.y, self.sw
        swb = None if sw is None else sw[batch]
        if isinstance(batch, slice):
            Xb = X[batch]
            if self.dense and Xb.dtype != self.dtype:
                Xb = np.asarray(Xb, self.dtype)            # e.g. a float16 memory map's chunk
            return Xb, y[batch], swb
        n_b = batch.shape[0]
        if not self.gather:
            Xb = X[batch]
            return (np.asarray(Xb, self.dtype) if self.dense else Xb), y[batch], swb
        if self.ybuf is None:
            self.ybuf = np.empty((self.m, y.shape[1]), y.dtype)
            self.Xbuf = np.empty((self.m, X.shape[1]), self.dtype) if self.dense else None
        yb = np.take(y, batch, axis=0, out=self.ybuf[:n_b], mode="clip")
        if not self.dense:
            return X[batch], yb, swb
        Xb = self.Xbuf[:n_b]
        if X.flags.c_contiguous and X.dtype == self.dtype:
            np.take(X, batch, axis=0, out=Xb, mode="clip")  # mode="raise" would buffer
        else:
            Xb[...] = X[batch]                              # any order or dtype: one gather
        return Xb, yb, swb

    def __call__(self, params, opt_state, batch):
        """The step: see :func:`make_step`."""
        Xb, yb, swb = self._take(batch)
        n_b = Xb.shape[0]
        S = n_b if swb is None else float(swb.sum())
        scale = 1.0 / (S * yb.shape[1])                   # dL/dY = s_i (Y_hat - Y) / (S k)
        if n_b <= 2 * self.rows:
            loss = self._chunk(params, Xb, yb, swb, scale, self.grads)
        else:
            loss = self._sweep(params, Xb, yb, swb, scale)
        grads = self.grads
        if self.alpha > 0:
            ssq = 0.0
            for key in ("W1", "W2") if self.two_layers else ("W1",):
                W = params[key]
                grads[key] += (self.alpha / S) * W
                ssq += float(np.vdot(W, W))
            loss += 0.5 * self.alpha * ssq / S
        return loss, self.optimizer.step(params, grads, opt_state)

    def _sweep(self, params, Xb, yb, swb, scale):
        """Loss and gradient sums over row chunks of a big batch, into ``self.grads``.

        The chunks' sums are unscaled and scaled once at the end (the
        gradient is linear in delta), not chunk by chunk.
        """
        loss = self._sum_chunks(params, Xb, yb, swb, self.grads)
        for g in self.grads.values():
            g *= scale
        return scale * loss

    def _sum_chunks(self, params, Xb, yb, swb, total):
        """Sum of the chunks' unscaled losses (returned) and gradients (into ``total``)."""
        if self.acc is None:
            self.acc = {key: np.empty_like(g) for key, g in self.grads.items()}
        loss = 0.0
        for start in range(0, Xb.shape[0], self.rows):
            part = slice(start, start + self.rows)
            swc = None if swb is None else swb[part]
            if start == 0:
                loss += self._chunk(params, Xb[part], yb[part], swc, None, total)
                continue
            loss += self._chunk(params, Xb[part], yb[part], swc, None, self.acc)
            for key, g in self.acc.items():
                total[key] += g
        return loss

    def _chunk(self, params, Xc, yc, swc, scale, grads):
        """Data loss of rows ``Xc`` and its gradient (written into ``grads``).

        ``scale`` turns the residual into delta (dL/dY); ``None``
        leaves both sums unscaled (a sweep scales its totals once).
        """
        n_c = Xc.shape[0]
        W1, b1 = params["W1"], params["b1"]
        if self.two_layers:
            H = self._matmul(Xc, W1, self.hidden[:n_c])   # (n, h): Z1
            H += b1
            self.act(H, out=H)                            # (n, h): H = sigma(Z1)
            Y = np.matmul(H, params["W2"], out=self.out[:n_c])
            Y += params["b2"]                             # (n, k)
        else:
            Y = self._matmul(Xc, W1, self.out[:n_c])      # (n, k)
            Y += b1
        R = np.subtract(Y, yc, out=Y)                     # (n, k): residual
        if swc is None:
            loss = 0.5 * float(np.vdot(R, R))
            if scale is not None:
                loss *= scale
                R *= scale                                # (n, k): delta
        else:
            c = swc if scale is None else swc * scale     # (n,)
            loss = 0.5 * float(np.dot(c, np.einsum("ij,ij->i", R, R)))
            R *= c[:, None].astype(R.dtype, copy=False)
        if not self.two_layers:
            self._matmul(Xc.T, R, grads["W1"])            # (d, k)
            R.sum(axis=0, out=grads["b1"])                # (k,)
            return loss
        W2 = params["W2"]
        np.matmul(H.T, R, out=grads["W2"])                # (h, k)
        R.sum(axis=0, out=grads["b2"])                    # (k,)
        S = self.deriv(H, out=self.back[:n_c])            # (n, h): sigma'(Z1) via H
        if self.xdelta is not None:                       # one output: Delta_1 never formed
            w2 = W2[:, 0]                                 # (h,)
            Xd = np.multiply(Xc, R, out=self.xdelta[:n_c])    # (n, d): diag(delta) X
            np.matmul(Xd.T, S, out=grads["W1"])           # (d, h)
            grads["W1"] *= w2
            np.matmul(R[:, 0], S, out=grads["b1"])        # (h,)
            grads["b1"] *= w2
        else:
            S *= R @ W2.T                                 # (n, h): Delta_1
            self._matmul(Xc.T, S, grads["W1"])            # (d, h)
            S.sum(axis=0, out=grads["b1"])                # (h,)
        return loss

    def _matmul(self, A, B, out):
        """``A @ B`` into ``out`` (a sparse ``A`` makes a fresh product, copied in)."""
        if isinstance(A, np.ndarray):
            return np.matmul(A, B, out=out)
        np.copyto(out, np.asarray(A @ B))
        return out
