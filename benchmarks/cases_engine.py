"""The training engine against the plainest NumPy, across input layouts, trick by trick.

* ``handwritten``: TwoLayerNet against a hand-written NumPy loop of the same
  math (forward, loss, backward, Adam in place), per hidden width;
* ``layouts``: an epoch on a C-ordered ndarray against a pandas DataFrame,
  Fortran order, a column slice, int64 and float32 arrays;
* ``sparse_auto``: ``learning_rate="auto"`` on wide sparse X against a fixed rate;
* ``gd_floor``: a full-batch linear gd epoch against its parts in plain NumPy;
* ``ablation``: each trick of ``numpynn._engine`` switched off in turn.
"""

from __future__ import annotations

import threading
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from numpynn import LinearRegressor, TwoLayerNet, _engine
from numpynn.kernels import init_params
from numpynn.lstsq import lstsq_fit

from ._harness import interleaved
from .cases_linear import lstsq_data as _lstsq_data
from .cases_net import ALPHA, BATCH, LR, make_data


def handwritten_fit(X, y, h, epochs, seed=0):
    """TwoLayerNet's math as one plain loop: ReLU, half-MSE + L2, Adam, batch 200.

    Same initial weights and batch order as ``TwoLayerNet(random_state=seed)``,
    so the loss curves agree to rounding (tests/test_benchmarks.py).
    """
    rng = np.random.default_rng(seed)
    n, d = X.shape
    P = list(init_params((d, h, 1), "relu", rng).values())        # W1, b1, W2, b2
    W1, b1, W2, b2 = P
    M, V = [np.zeros_like(p) for p in P], [np.zeros_like(p) for p in P]
    y, t, losses = y.reshape(-1, 1), 0, []
    with _engine.BLAS.one_thread():                # the same BLAS policy as numpynn
        for _ in range(epochs):
            order, total = rng.permutation(n), 0.0
            for s in range(0, n, BATCH):
                idx = np.sort(order[s:s + BATCH])
                Xb, yb, m = X[idx], y[idx], idx.shape[0]
                H = Xb @ W1
                H += b1
                np.maximum(H, 0, out=H)                        # (m, h)
                R = H @ W2
                R += b2
                R -= yb                                        # (m, 1) residual
                total += 0.5 * float(np.vdot(R, R)) + 0.5 * ALPHA * (   # batch loss x m
                    float(np.vdot(W1, W1)) + float(np.vdot(W2, W2)))
                R /= m
                D1 = (R @ W2.T) * (H > 0)                      # (m, h)
                grads = (Xb.T @ D1 + (ALPHA / m) * W1, D1.sum(0),
                         H.T @ R + (ALPHA / m) * W2, R.sum(0))
                t += 1
                lr_t = LR * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
                for p, g, mm, vv in zip(P, grads, M, V, strict=True):
                    mm *= 0.9
                    mm += 0.1 * g
                    vv *= 0.999
                    vv += 0.001 * g * g
                    p -= lr_t * mm / (np.sqrt(vv) + 1e-8)
            losses.append(total / n)
    return losses


def _net(h, epochs, callbacks=None):
    return TwoLayerNet(hidden_units=h, learning_rate=LR, batch_size=BATCH, alpha=ALPHA,
                       max_iter=epochs, tol=None, random_state=0, callbacks=callbacks)


class EpochClock:
    """A numpynn callback: ``stamps`` are the start of the fit and the end of each epoch."""

    def __init__(self):
        self.stamps = [time.perf_counter()]

    def __call__(self, est, logs):
        self.stamps.append(time.perf_counter())

    def split(self):
        """``(epoch_s, setup_s)``: the median epoch after the first, and what precedes it.

        The first interval holds the fit's one-time work (input checks and
        conversion, buffers) plus one epoch.
        """
        gaps = np.diff(self.stamps)
        epoch = float(np.median(gaps[1:] if gaps.size > 1 else gaps))
        return epoch, float(gaps[0]) - epoch


def case_handwritten(cfg):
    """Per hidden width: TwoLayerNet epoch / hand-written loop epoch (float64)."""
    n, d, hs = cfg["hand_n"], 20, cfg["hand_hs"]
    X, y = make_data(n, d, np.float64)
    rows, epochs = [], cfg["hand_epochs"]
    for h in hs:
        runners = {"numpynn": partial(_net(h, epochs).fit, X, y),
                   "handwritten": partial(handwritten_fit, X, y, h, epochs)}
        times, _ = interleaved(runners, cfg["net_repeats"], settle=cfg["settle"])
        rows.append({"n": n, "d": d, "h": h, "epochs": epochs,
                     "numpynn_epoch_s": times["numpynn"] / epochs,
                     "handwritten_epoch_s": times["handwritten"] / epochs,
                     "ratio": times["numpynn"] / times["handwritten"]})
    return {"rows": rows, "settings": {
        "model": "relu, adam, learning_rate 1e-3, batch 200, alpha 1e-4, shuffle",
        "handwritten": "benchmarks/cases_engine.py handwritten_fit: the same math, batch "
                       "loss included, BLAS on one thread", "repeats": cfg["net_repeats"]}}


def _layouts(X):
    """The same data in the layouts users bring."""
    import pandas as pd

    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    return {"C ndarray": X, "DataFrame": pd.DataFrame(X), "Fortran": np.asfortranarray(X),
            "column slice": wide[:, ::2], "int64": np.round(X * 100).astype(np.int64),
            "float32": X.astype(np.float32)}


def case_layouts(cfg):
    """Per input layout: TwoLayerNet's epoch, one-time setup and fit time, over the C ndarray's.

    The epoch is the fit's own, between epoch callbacks after the first
    (what the target compares); the setup is the first interval minus one
    epoch (input checks, the one copy of a non-C layout to C order).
    """
    n, d, h, epochs = cfg["layout_n"], cfg["layout_d"], 100, cfg["layout_epochs"]
    X, y = make_data(n, d, np.float64)
    data = _layouts(X)
    splits = {name: [] for name in data}

    def fit(Xl, out):
        clock = EpochClock()
        _net(h, epochs, [clock]).fit(Xl, y)
        out.append(clock.split())

    runners = {name: partial(fit, Xl, splits[name]) for name, Xl in data.items()}
    times, _ = interleaved(runners, cfg["net_repeats"], settle=cfg["settle"])
    stats = {name: np.median(np.array(v[1:] if len(v) > 1 else v), axis=0)   # v[0]: warm-up
             for name, v in splits.items()}
    base_epoch, base_fit = stats["C ndarray"][0], times["C ndarray"]
    rows = [{"layout": name, "epoch_s": stats[name][0],
             "ratio_vs_C": stats[name][0] / base_epoch, "setup_s": stats[name][1],
             "fit_s": times[name], "fit_ratio_vs_C": times[name] / base_fit}
            for name in data]
    return {"rows": rows, "settings": {
        "n": n, "d": d, "h": h, "epochs": epochs,
        "epoch": "median time between epoch callbacks after the first (the target's "
                 "per-epoch cost)",
        "setup": "first callback interval minus one epoch: input checks and the one copy "
                 "of a non-C layout to C order, paid once per fit",
        "fit": f"whole fit of {epochs} epochs, interleaved median",
        "repeats": cfg["net_repeats"]}}


def case_sparse_auto(cfg):
    """LinearRegressor() on wide sparse X: learning_rate='auto' against a fixed rate."""
    n, d = cfg["sparse_shape"]
    rng = np.random.default_rng(0)
    X = sp.random(n, d, density=0.01, format="csr", random_state=1)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    fixed = 1.0 / (2 * float(X.multiply(X).sum(axis=1).max() + 1))     # a safe fixed step

    def fit(**kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # max_iter on a fixed-epoch budget
            return LinearRegressor(max_iter=50, tol=None, **kw).fit(X, y)

    runners = {"auto": fit, "fixed": partial(fit, learning_rate=fixed)}
    times, _ = interleaved(runners, cfg["repeats"], settle=cfg["settle"])
    return {"rows": [{"n": n, "d": d, "nnz": X.nnz, "auto_s": times["auto"],
                      "fixed_s": times["fixed"], "ratio": times["auto"] / times["fixed"]}],
            "settings": {"epochs": 50, "density": 0.01}}


def _quiet_fit(est, X, y):
    """``est.fit(X, y)`` for a fixed, timed epoch budget: its ConvergenceWarnings are moot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _raw_epoch(X, y, w, rows, parts):
    """Plain NumPy, per chunk: ``r = X_c @ w - y_c``, the loss, ``X_c.T @ r``; on 1 or 2 threads."""
    def half(lo, hi, out):
        r, g, gt, loss = np.empty(rows, X.dtype), np.zeros_like(w), np.empty_like(w), 0.0
        for s in range(lo, hi, rows):
            Xc = X[s:min(s + rows, hi)]
            rc = np.dot(Xc, w, out=r[:Xc.shape[0]])
            rc -= y[s:s + rc.shape[0]]
            loss += float(np.dot(rc, rc))
            g += np.dot(rc, Xc, out=gt)
        out.append((loss, g))

    n, out = X.shape[0], []
    mid = n if parts == 1 else (n // rows // 2) * rows
    thread = None
    if parts > 1:
        thread = threading.Thread(target=half, args=(mid, n, out))
        thread.start()
    half(0, mid, out)
    if thread is not None:
        thread.join()
    return out


def case_gd_floor(cfg):
    """Why a full-batch linear gd epoch costs what it does: its parts in plain NumPy.

    On the bandwidth case's data, interleaved: one read of X (``np.sum``),
    the forward products alone and the ``X.T @ r`` products alone (per
    chunk of ``numpynn._engine.chunk_rows`` rows, BLAS on one thread), the
    plain-NumPy epoch (both per chunk, on one thread and on two), and the
    real epoch of ``LinearRegressor(solver="gd").fit`` (between epochs).
    """
    n, d = cfg["bw_n"], cfg["bw_d"]
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    w = rng.normal(size=d) / d
    rows = _engine.chunk_rows(d + 1, X.dtype.itemsize)
    chunks = [X[s:s + rows] for s in range(0, n, rows)]
    r, g = np.ones(rows), np.empty(d)
    clocks = []

    def fit():
        clock = EpochClock()
        _quiet_fit(LinearRegressor(solver="gd", learning_rate=0.5, max_iter=cfg["bw_epochs"],
                                   tol=None, callbacks=[clock]), X, y)
        clocks.append(clock.split()[0])

    def blas1(fn):
        def run():
            with _engine.BLAS.one_thread():
                return fn()
        return run

    runners = {
        "one read of X (np.sum)": X.sum,
        "forward X_c @ w only": blas1(lambda: [np.dot(c, w, out=r[:len(c)]) for c in chunks]),
        "X_c.T @ r only": blas1(lambda: [np.dot(r[:len(c)], c, out=g) for c in chunks]),
        "plain NumPy epoch, 1 thread": blas1(partial(_raw_epoch, X, y, w, rows, 1)),
        "plain NumPy epoch, 2 threads": blas1(partial(_raw_epoch, X, y, w, rows, 2)),
    }
    times, _ = interleaved({**runners, "LinearRegressor epoch": fit}, cfg["bw_repeats"],
                           settle=cfg["settle"])
    times["LinearRegressor epoch"] = float(np.median(clocks[1:]))     # clocks[0]: warm-up
    base = times["one read of X (np.sum)"]
    rows_out = [{"what": k, "s": t, "ratio_vs_read": t / base} for k, t in times.items()]
    return {"rows": rows_out, "settings": {
        "n": n, "d": d, "chunk_rows": rows, "X_MB": X.nbytes / 1e6,
        "epoch": "LinearRegressor: median time between epoch callbacks after the first",
        "repeats": cfg["bw_repeats"]}}


ABLATION = {   # trick -> (what it is measured on)
    "one_thread_blas": "net h=512, batch 200",
    "gather": "net h=100, batch 200, from a DataFrame",
    "one_output_backprop": "net h=512, batch 200",
    "row_chunks": "full-batch linear gd, n=1e6",
    "gram_in_residual_pass": "lstsq_fit, first lstsq shape",
}


def case_ablation(cfg):
    """End-to-end time with each trick off over the time with all on (> 1: the trick gains)."""
    n, d = cfg["hand_n"], 20
    X, y = make_data(n, d, np.float64)
    import pandas as pd
    Xdf = pd.DataFrame(X)
    Xb, yb = make_data(cfg["bw_n"], cfg["bw_d"], np.float64)
    workloads = {
        "one_thread_blas": partial(_net(512, 2).fit, X, y),
        "gather": partial(_net(100, 2).fit, Xdf, y),
        "one_output_backprop": partial(_net(512, 2).fit, X, y),
        "row_chunks": partial(_quiet_fit, LinearRegressor(learning_rate=0.1, max_iter=5,
                                                          tol=None), Xb, yb),
        "gram_in_residual_pass": partial(lstsq_fit, *_lstsq_data(*cfg["lstsq_shapes"][0])),
    }
    rows = []
    for trick, work in workloads.items():
        def off(work=work, trick=trick):
            _engine.TRICKS[trick] = False
            try:
                return work()
            finally:
                _engine.TRICKS[trick] = True
        times, _ = interleaved({"on": work, "off": off}, cfg["net_repeats"],
                               settle=cfg["settle"])
        rows.append({"trick": trick, "workload": ABLATION[trick], "on_s": times["on"],
                     "off_s": times["off"], "gain": times["off"] / times["on"]})
    return {"rows": rows, "settings": {"repeats": cfg["net_repeats"]}}
