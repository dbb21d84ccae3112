"""Linear regression cases: pure Python vs kernels, gd vs SGDRegressor,
the bandwidth bound of a full-batch epoch, lstsq vs LinearRegression, the
normal equations (X.T @ X + Cholesky) and np.linalg.lstsq."""

from __future__ import annotations

import time
import warnings
from functools import partial

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.metrics import r2_score

from numpynn import LinearRegressor
from numpynn._engine import BLAS, SMALL_FLOPS
from numpynn.kernels import compute_loss, forward_prop, gradient, update_params
from numpynn.lstsq import lstsq_fit

from ._harness import interleaved, peak_memory, read_bandwidth

# -- 1. the talk's pure-Python loop vs the vectorised kernels ---------------


def python_epoch(xs, ys, m, b, lr):
    """One gradient-descent epoch written as the talk wrote it: lists and loops."""
    n = len(xs)
    cost = sum((m * x + b - y) ** 2 for x, y in zip(xs, ys, strict=True)) / (2 * n)
    dm = sum((m * x + b - y) * x for x, y in zip(xs, ys, strict=True)) / n
    db = sum((m * x + b - y) for x, y in zip(xs, ys, strict=True)) / n
    return m - lr * dm, b - lr * db, cost


def python_gd(xs, ys, lr, epochs):
    m = b = 0.0
    for _ in range(epochs):
        m, b, cost = python_epoch(xs, ys, m, b, lr)
    return m, b, cost


def kernels_gd(X, y, lr, epochs):
    """The same epochs with numpynn's public kernels (full batch)."""
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    for _ in range(epochs):
        y_pred, cache = forward_prop(X, params, "linear")
        cost = compute_loss(y, y_pred)
        update_params(params, gradient(params, cache, y, y_pred, "linear"), lr)
    return float(params["W1"][0, 0]), float(params["b1"][0]), cost


def case_python_loops(cfg):
    """Per-epoch time of the pure-Python loop vs the kernels, sweeping n."""
    rng = np.random.default_rng(0)
    rows, limit = [], cfg["py_time_limit"]
    py_per_sample = None
    for n in cfg["py_ns"]:
        # enough epochs that one run covers py_min_samples rows: the first epoch
        # after the other contender's run finds a cold cache, and in a run of a
        # few epochs that one-off cost (~0.2 ms) would be a large part
        epochs = max(cfg["py_epochs"], -(-cfg["py_min_samples"] // n))
        X = rng.normal(size=(n, 1))
        y = 3.0 * X[:, 0] + 1.0 + rng.normal(size=n)
        xs, ys = X[:, 0].tolist(), y.tolist()
        runners = {"numpynn": lambda X=X, y=y, e=epochs: kernels_gd(X, y, 0.05, e)}
        # run the Python loop only where one run is expected to take < limit
        run_py = py_per_sample is None or py_per_sample * n * epochs < limit
        if run_py:
            runners["python"] = lambda xs=xs, ys=ys, e=epochs: python_gd(xs, ys, 0.05, e)
        # numpynn's thread policy for small products (the Python loop uses no BLAS);
        # short runs get more repeats, as one scheduling blip outweighs them
        reps = cfg["repeats"] if n > 100_000 else 2 * cfg["repeats"] + 1
        with BLAS.one_thread(2 * n < SMALL_FLOPS):
            times, res = interleaved(runners, reps, settle=cfg["settle"])
        row = {"n": n, "epochs": epochs,
               "numpynn_epoch_s": times["numpynn"] / epochs,
               "numpynn_loss": res["numpynn"][2]}
        if run_py:
            py_per_sample = times["python"] / (n * epochs)
            row.update(python_epoch_s=times["python"] / epochs,
                       python_loss=res["python"][2],
                       speedup=times["python"] / times["numpynn"],
                       max_abs_coef_diff=max(abs(res["python"][0] - res["numpynn"][0]),
                                             abs(res["python"][1] - res["numpynn"][1])))
        else:
            row.update(python_epoch_s=None, python_loss=None, speedup=None,
                       note=f"Python loop not timed: one run would take > {limit} s")
        rows.append(row)
    return {"rows": rows, "settings": {
        "epochs": f"at least {cfg['py_epochs']}, and enough for one run to cover "
                  f"{cfg['py_min_samples']:,} rows (see the epochs column)",
        "learning_rate": 0.05, "repeats": cfg["repeats"],
        "numpynn": "forward_prop, compute_loss, gradient, update_params per epoch, "
                   "BLAS on one thread where 2n < 2e7 (numpynn's training-loop policy)"}}


# -- 2. gd vs SGDRegressor, and the bandwidth bound --------------------------


def _tall(rng, n, d, dtype=np.float64):
    X = rng.normal(size=(n, d)).astype(dtype)
    coef = rng.normal(size=d)
    y = (X @ coef + 0.5 + 0.1 * rng.normal(size=n)).astype(dtype)
    return X, y


class _EpochClock:
    """A numpynn callback recording the wall time at the end of each epoch."""

    def __init__(self):
        self.stamps = [time.perf_counter()]

    def __call__(self, est, logs):
        self.stamps.append(time.perf_counter())

    def median_epoch(self):
        # the first interval also holds fit's setup; skip it when we can
        d = np.diff(self.stamps)
        return float(np.median(d[1:] if d.size > 2 else d))


def case_gd_sgd(cfg):
    """LinearRegressor gd (full batch and mini-batch) vs SGDRegressor."""
    n, d, epochs = cfg["gd_n"], cfg["gd_d"], cfg["gd_epochs"]
    rng = np.random.default_rng(1)
    X, y = _tall(rng, n + 20_000, d)
    X, Xt, y, yt = X[:n], X[n:], y[:n], y[n:]              # held-out: the last 20k rows
    lr = 0.01
    ests = {
        "numpynn gd full batch": LinearRegressor(solver="gd", learning_rate=0.5,
                                                 max_iter=epochs, tol=None),
        "numpynn gd batch 200": LinearRegressor(solver="gd", learning_rate=lr,
                                                batch_size=200, max_iter=epochs,
                                                tol=None, random_state=0),
        "sklearn SGDRegressor": SGDRegressor(learning_rate="constant", eta0=lr,
                                             penalty=None, max_iter=epochs, tol=None,
                                             shuffle=True, random_state=0),
    }

    def fit(est):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return est.fit(X, y)

    times, fitted = interleaved({k: (lambda e=e: fit(e)) for k, e in ests.items()},
                                cfg["repeats"], settle=cfg["settle"])
    base = times["sklearn SGDRegressor"]
    rows = [{"estimator": k, "n": n, "d": d, "epochs": epochs,
             "fit_s": t, "epoch_s": t / epochs, "ratio_vs_sgdregressor": t / base,
             "r2_test": float(r2_score(yt, fitted[k].predict(Xt)))}
            for k, t in times.items()]
    return {"rows": rows, "settings": {
        "note": "SGDRegressor updates after every sample (its only mode); numpynn "
                "uses full batch (lr 0.5) or batches of 200 (lr 0.01): the update "
                "rules differ, so compare time at the R^2 each reaches.",
        "sgd_eta0": lr, "epochs": epochs, "repeats": cfg["repeats"]}}


def case_bandwidth(cfg):
    """Full-batch gd epoch time vs the time to read X once.

    The bound is timed on X itself, interleaved with the fits, so that both
    see the same memory traffic from other processes.
    """
    bw = read_bandwidth(cfg["bw_bytes"])
    rows = []
    for dtype in (np.float64, np.float32):
        X, y = _tall(np.random.default_rng(2), cfg["bw_n"], cfg["bw_d"], dtype)
        clocks = []

        def fit(X=X, y=y, clocks=clocks):
            clock = _EpochClock()
            with warnings.catch_warnings():     # a fixed epoch count, timed: not a lesson
                warnings.simplefilter("ignore", ConvergenceWarning)
                LinearRegressor(solver="gd", learning_rate=0.5, max_iter=cfg["bw_epochs"],
                                tol=None, callbacks=[clock]).fit(X, y)
            clocks.append(clock.median_epoch())

        ones = np.ones(X.shape[1], X.dtype)
        times, _ = interleaved({"fit": fit, "sum": X.sum, "gemv": partial(np.matmul, X, ones)},
                               cfg["bw_repeats"], settle=cfg["settle"])
        epoch = float(np.median(clocks[1:]))          # clocks[0]: the warm-up
        bound = min(times["sum"], times["gemv"])
        rows.append({"dtype": np.dtype(dtype).name, "n": X.shape[0], "d": X.shape[1],
                     "X_MB": X.nbytes / 1e6, "epoch_s": epoch,
                     "sum_s": times["sum"], "gemv_s": times["gemv"], "bound_s": bound,
                     "ratio_vs_bound": epoch / bound,
                     "X_read_GBps": X.nbytes / bound / 1e9})
    return {"rows": rows, "settings": {
        "bound": "the faster of np.sum(X) (one thread) and X @ ones (BLAS, all "
                 "threads): one read of X, interleaved with the fits",
        "big_array_read_bandwidth_GBps": bw / 1e9,
        "bandwidth_probe": f"median np.sum over {cfg['bw_bytes'] // 2**20} MiB",
        "epoch": "median time between epoch callbacks (excludes fit setup; the "
                 "first 2-3 epochs after an idle pause run up to 2x slower on the "
                 "shared VM, hence 10+ epochs per fit)",
        "epochs": cfg["bw_epochs"], "repeats": cfg["bw_repeats"]}}


# -- 3. lstsq vs LinearRegression, the normal equations and np.linalg.lstsq ---


def _fit(est, X, y):
    return est.fit(X, y)


def _cholesky(X, y):
    """The normal equations as one writes them: ``X.T @ X``, then a Cholesky solve."""
    return cho_solve(cho_factor(X.T @ X), X.T @ y)


def _np_lstsq(X, y):
    """``np.linalg.lstsq`` on ``[X, 1]`` (SVD-based, LAPACK gelsd)."""
    return np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]


def _rel_err(coef, ref):
    return float(np.max(np.abs(coef - ref)) / np.max(np.abs(ref)))


def _lstsq_row(X, y, times, res, mem):
    """One row of the lstsq table: times, ratios, errors, peak memory."""
    n, d = X.shape
    # the reference: the exact least-squares solution of these float64 data
    ref = lstsq_fit(X, y, refine=True).solution.coef[:, 0]
    coefs = {"numpynn lstsq": res["numpynn lstsq"].coef_,
             "numpynn lstsq_fit": res["numpynn lstsq_fit"].solution.coef[:, 0],
             "sklearn LinearRegression": res["sklearn LinearRegression"].coef_,
             "np.linalg.lstsq": res["np.linalg.lstsq"][:d]}
    sk, chol = times["sklearn LinearRegression"], times["X.T @ X + Cholesky"]
    return {
        "n": n, "d": d,
        "numpynn_s": times["numpynn lstsq"], "lstsq_fit_s": times["numpynn lstsq_fit"],
        "sklearn_s": sk, "cholesky_s": chol, "np_lstsq_s": times["np.linalg.lstsq"],
        "ratio": times["numpynn lstsq"] / sk,
        "ratio_fit_vs_cholesky": times["numpynn lstsq_fit"] / chol,
        "ratio_estimator_vs_cholesky": times["numpynn lstsq"] / chol,
        "max_rel_coef_diff_vs_sklearn": _rel_err(coefs["numpynn lstsq"],
                                                 coefs["sklearn LinearRegression"]),
        "max_rel_coef_err_numpynn": _rel_err(coefs["numpynn lstsq"], ref),
        "max_rel_coef_err_lstsq_fit": _rel_err(coefs["numpynn lstsq_fit"], ref),
        "max_rel_coef_err_sklearn": _rel_err(coefs["sklearn LinearRegression"], ref),
        "max_rel_coef_err_np_lstsq": _rel_err(coefs["np.linalg.lstsq"], ref),
        "numpynn_peak_MB": mem.get("numpynn lstsq", np.nan) / 1e6,
        "lstsq_fit_peak_MB": mem.get("numpynn lstsq_fit", np.nan) / 1e6,
        "sklearn_peak_MB": mem.get("sklearn LinearRegression", np.nan) / 1e6,
        "X_MB": X.nbytes / 1e6,
    }


def lstsq_data(n, d):
    """Well-conditioned tall data (columns scaled 0.1 to 10), ``y`` with an intercept and noise."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d)) * np.linspace(0.1, 10, d)
    return X, X @ rng.normal(size=d) + 3.0 + rng.normal(size=n)


def case_lstsq(cfg):
    """lstsq (the estimator and the in-memory function) vs LinearRegression,
    X.T @ X + Cholesky and np.linalg.lstsq, on well-conditioned tall data."""
    rows = []
    for n, d in cfg["lstsq_shapes"]:
        X, y = lstsq_data(n, d)
        runners = {"numpynn lstsq": partial(_fit, LinearRegressor(solver="lstsq"), X, y),
                   "numpynn lstsq_fit": partial(lstsq_fit, X, y),
                   "sklearn LinearRegression": partial(_fit, LinearRegression(), X, y),
                   "X.T @ X + Cholesky": partial(_cholesky, X, y),
                   "np.linalg.lstsq": partial(_np_lstsq, X, y)}
        times, res = interleaved(runners, cfg["repeats"], settle=cfg["settle"])
        mem = ({k: peak_memory(runners[k]) for k in ("numpynn lstsq", "numpynn lstsq_fit",
                                                     "sklearn LinearRegression")}
               if cfg["memory"] else {})
        rows.append(_lstsq_row(X, y, times, res, mem))
    return {"rows": rows, "settings": {
        "repeats": cfg["repeats"],
        "reference": "the exact least-squares solution of the float64 data "
                     "(lstsq_fit(refine=True): double-double refinement)",
        "cholesky": "X.T @ X and X.T @ y, scipy.linalg.cho_factor / cho_solve (no "
                    "intercept: the cheapest normal equations; lstsq_fit fits one)",
        "np.linalg.lstsq": "on np.column_stack([X, ones])"}}


# -- 4. where the time goes: lstsq_fit's parts, and the gd gap check ----------


def _block_gradient(X, Y, W, rows):
    """``X^T (X W - Y)`` by blocks of ``rows`` rows, ``W`` of shape (d, k) as in
    :func:`numpynn.quadratic.full_gradient`: the pass whose block size matters."""
    G = np.zeros(W.shape)
    for s in range(0, X.shape[0], rows):
        Xc = X[s:s + rows]
        R = Xc @ W                                                      # (rows, k)
        R -= Y[s:s + rows]
        G += Xc.T @ R
    return G


def _block_gram(X, product, workers):
    """``X^T X`` by 2 MB blocks shared by ``workers`` threads (BLAS on one thread
    each), each block's ``syrk`` called through ``product`` (``np.dot`` or
    ``np.matmul``, which ``@`` calls)."""
    from numpynn import _passes

    def block(start, stop):
        Xb = X[start:stop]
        return (product(Xb.T, Xb),)

    with BLAS.one_thread():
        return _passes.reduce_blocks(block, X.shape[0], _passes.default_rows(X.shape[1], 1 << 18),
                                     workers)[0]


def case_linear_parts(cfg):
    """The parts of ``lstsq_fit``'s fast path beside the normal equations', and the
    full-gradient pass of the gd gap check in cache-sized and in CHUNK_ROWS blocks."""
    from numpynn import _passes, quadratic
    from numpynn import lstsq as ls
    from numpynn._state import shifts

    n, d = cfg["lstsq_shapes"][0]
    X, y = lstsq_data(n, d)
    Y = y[:, None]
    x_shift, y_shift = shifts(X, Y, None, True)
    x_s, centre = ls._sample_start(X, Y, None, True, x_shift, y_shift)

    workers = _passes.blas_threads()           # as lstsq_fit: counted before one_thread()

    def residual_pass(gram):
        with BLAS.one_thread():
            return _passes.residual_pass(X, Y, None, x_s, x_shift, y_shift, True, centre,
                                         gram=gram, workers=workers)

    def residual_pass_dd():
        theta = (np.zeros((d, 1)), np.zeros(1), np.zeros((d, 1)), np.zeros(1))
        with BLAS.one_thread():
            return _passes.residual_pass_dd(X, Y, None, theta, True, workers=workers)

    def x_t_x_one_thread():
        with BLAS.one_thread():
            return X.T @ X

    runners = {"X.T @ X": lambda: X.T @ X, "X.T @ X, BLAS on one thread": x_t_x_one_thread,
               "X.T @ y": lambda: X.T @ y,
               "X.T @ X + Cholesky": partial(_cholesky, X, y),
               "lstsq_fit": partial(lstsq_fit, X, y),
               "its start on 2048 sampled rows": partial(ls._sample_start, X, Y, None, True,
                                                         x_shift, y_shift),
               "its one pass: Gram matrix and residual products": partial(residual_pass, True),
               "that pass without the Gram matrix": partial(residual_pass, False),
               "a double-double residual pass (refine=True's step)": residual_pass_dd}
    times, _ = interleaved(runners, cfg["bw_repeats"], settle=cfg["settle"])
    ref = times["X.T @ X + Cholesky"]
    rows = [{"shape": f"{n} x {d}", "part": k, "s": t, "vs": t / ref} for k, t in times.items()]

    nb, db = cfg["bw_n"], cfg["bw_d"]
    rng = np.random.default_rng(4)
    Xb = rng.normal(size=(nb, db))
    Yb, W = rng.normal(size=(nb, 1)), rng.normal(size=(db, 1))
    params = {"W1": W, "b1": np.zeros(1)}
    runners = {
        "one read of X (np.sum)": Xb.sum,
        "gradient pass, 2 MB blocks": partial(_block_gradient, Xb, Yb, W,
                                              quadratic._cache_rows(Xb)),
        "gradient pass, CHUNK_ROWS blocks": partial(_block_gradient, Xb, Yb, W,
                                                    quadratic.CHUNK_ROWS),
        "quadratic.full_gradient": partial(quadratic.full_gradient, Xb, Yb, params),
        "gap check (full_gradient + excess_loss_and_spectrum)": lambda: (
            quadratic.excess_loss_and_spectrum(Xb, quadratic.full_gradient(Xb, Yb, params))),
        "X.T @ X": lambda: Xb.T @ Xb,
        "Gram by 2 MB blocks, np.dot, one thread": partial(_block_gram, Xb, np.dot, 1),
        "Gram by 2 MB blocks, np.dot, two threads": partial(_block_gram, Xb, np.dot, 2),
        "Gram by 2 MB blocks, @, two threads": partial(_block_gram, Xb, np.matmul, 2),
    }
    times, _ = interleaved(runners, cfg["bw_repeats"], settle=cfg["settle"])
    ref = times["one read of X (np.sum)"]
    rows += [{"shape": f"{nb} x {db}", "part": k, "s": t, "vs": t / ref}
             for k, t in times.items()]
    return {"rows": rows, "settings": {
        "vs": "each part's time over X.T @ X + Cholesky (first shape) or over one read of "
              "X (second shape)", "repeats": cfg["bw_repeats"]}}
