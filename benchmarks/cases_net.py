"""Two-layer network cases: TwoLayerNet vs MLPRegressor (vs PyTorch CPU),
float64 and float32, achieved GFLOP/s vs numpy's matmul, peak memory."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from numpynn import TwoLayerNet
from numpynn._engine import BLAS, SMALL_FLOPS

from ._harness import interleaved, peak_memory

LR, ALPHA, BATCH = 1e-3, 1e-4, 200


def make_data(n, d, dtype, seed=0):
    """A smooth nonlinear target of the first five features, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - X[:, 4]
         + 0.1 * rng.normal(size=n))
    return X.astype(dtype), y.astype(dtype)


def _numpynn(h, epochs):
    return TwoLayerNet(hidden_units=h, activation="relu", optimizer="adam",
                       learning_rate=LR, batch_size=BATCH, alpha=ALPHA, max_iter=epochs,
                       tol=None, shuffle=True, random_state=0)


def _mlp(h, epochs):
    return MLPRegressor(hidden_layer_sizes=(h,), activation="relu", solver="adam",
                        learning_rate_init=LR, batch_size=BATCH, alpha=ALPHA,
                        max_iter=epochs, tol=0.0, n_iter_no_change=10**9, shuffle=True,
                        early_stopping=False, random_state=0)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # ConvergenceWarning at fixed epochs
        return est.fit(X, y)


def _fit_1t(est, X, y):
    """MLPRegressor with BLAS on one thread: the thread policy numpynn applies."""
    with threadpool_limits(1, "blas"):
        return _fit(est, X, y)


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _torch_fit(X, y, h, epochs):
    """The same model, loss, penalty and Adam as a plain PyTorch CPU loop."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)            # numpynn's policy for small batches, see docs
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    dtype = Xt.dtype
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], h), torch.nn.ReLU(),
                                torch.nn.Linear(h, 1)).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    weights = [model[0].weight, model[2].weight]
    n, losses = X.shape[0], []
    for _ in range(epochs):
        perm, total = torch.randperm(n), 0.0
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            xb, yb = Xt[idx], yt[idx]
            loss = 0.5 * torch.mean((model(xb) - yb) ** 2)
            loss = loss + ALPHA / (2 * xb.shape[0]) * sum((w * w).sum() for w in weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * xb.shape[0]
        losses.append(total / n)

    def predict(Xn):
        with torch.no_grad():
            return model(torch.from_numpy(Xn)).numpy().ravel()
    return losses[-1], predict


def epoch_flops(n, d, h, k=1):
    """Multiply-adds x 2 of one epoch's five GEMMs (forward 2, backward 3)."""
    return 2 * n * (2 * d * h + 3 * h * k)


def gemm_epoch_time(n, d, h, dtype, repeats, settle):
    """Time of just the epoch's GEMMs at batch shape, with numpy matmul and out=."""
    rng = np.random.default_rng(0)
    B = min(BATCH, n)
    Xb, W1, W2 = (rng.normal(size=s).astype(dtype) for s in ((B, d), (d, h), (h, 1)))
    Z, Y, D1, G1, G2 = (np.empty(s, dtype) for s in ((B, h), (B, 1), (B, h), (d, h),
                                                     (h, 1)))

    def epoch():
        with BLAS.one_thread(epoch_flops(B, d, h) < SMALL_FLOPS):   # as numpynn
            _gemms()

    def _gemms():
        for _ in range(n // B):
            np.matmul(Xb, W1, out=Z)
            np.matmul(Z, W2, out=Y)
            np.matmul(Z.T, Y, out=G2)
            np.matmul(Y, W2.T, out=D1)
            np.matmul(Xb.T, D1, out=G1)
    times, _ = interleaved({"gemm": epoch}, repeats, settle=settle)
    return times["gemm"]


def case_network(cfg):
    """TwoLayerNet vs MLPRegressor (and torch) per hidden width, float64/float32."""
    rows, epochs = [], cfg["net_epochs"]
    use_torch = cfg["torch"] and torch_available()
    for n, d, hs in cfg["net_grid"]:
        for dtype in (np.float64, np.float32):
            X, y = make_data(n, d, dtype)
            Xv, yv = make_data(5000, d, dtype, seed=1)
            for h in hs:
                runners = {"numpynn": partial(_fit, _numpynn(h, epochs), X, y),
                           "sklearn": partial(_fit, _mlp(h, epochs), X, y),
                           "sklearn_1t": partial(_fit_1t, _mlp(h, epochs), X, y)}
                if use_torch:
                    runners["torch"] = partial(_torch_fit, X, y, h, epochs)
                times, res = interleaved(runners, cfg["net_repeats"], settle=cfg["settle"])
                gemm = gemm_epoch_time(n, d, h, dtype, cfg["net_repeats"], cfg["settle"])
                flops = epoch_flops(n, d, h)
                row = {"n": n, "d": d, "h": h, "dtype": np.dtype(dtype).name,
                       "epochs": epochs,
                       "numpynn_epoch_s": times["numpynn"] / epochs,
                       "sklearn_epoch_s": times["sklearn"] / epochs,
                       "ratio_vs_sklearn": times["numpynn"] / times["sklearn"],
                       "sklearn_1t_epoch_s": times["sklearn_1t"] / epochs,
                       "ratio_vs_sklearn_1t": times["numpynn"] / times["sklearn_1t"],
                       "numpynn_loss": res["numpynn"].loss_,
                       "sklearn_loss": res["sklearn"].loss_,
                       "numpynn_r2": float(r2_score(yv, res["numpynn"].predict(Xv))),
                       "sklearn_r2": float(r2_score(yv, res["sklearn"].predict(Xv))),
                       "numpynn_gflops": flops / (times["numpynn"] / epochs) / 1e9,
                       "gemm_only_gflops": flops / gemm / 1e9}
                if use_torch:
                    loss, predict = res["torch"]
                    row.update(torch_epoch_s=times["torch"] / epochs,
                               ratio_vs_torch=times["numpynn"] / times["torch"],
                               torch_loss=loss, torch_r2=float(r2_score(yv, predict(Xv))))
                if cfg["memory"]:
                    row["numpynn_peak_MB"] = peak_memory(runners["numpynn"]) / 1e6
                    row["sklearn_peak_MB"] = peak_memory(runners["sklearn"]) / 1e6
                rows.append(row)
    return {"rows": rows, "settings": {
        "model": "relu, adam, learning_rate 1e-3, batch 200, alpha 1e-4, shuffle",
        "epochs": epochs, "repeats": cfg["net_repeats"], "torch": use_torch,
        "stopping": "numpynn tol=None; MLPRegressor tol=0, n_iter_no_change=1e9",
        "gflops": "4ndh + 6nhk flop per epoch (the five GEMMs); gemm_only: the same "
                  "GEMMs alone with numpy matmul at batch shape",
        "time": "fit wall time / epochs (includes validation and init)",
        "threads": "numpynn: BLAS on 1 thread for small batches (its policy); MLP: default "
                   "threads, and '1t' with BLAS limited to 1 thread by threadpoolctl; "
                   "torch: torch.set_num_threads(1)"}}


def float32_speedups(rows):
    """float64 epoch / float32 epoch per (n, d, h): numpynn's (``speedup``),
    the peers' and that of the GEMMs alone (the arithmetic's own gain)."""
    by = {(r["n"], r["d"], r["h"], r["dtype"]): r for r in rows}
    out = []
    for (n, d, h, dt), r32 in by.items():
        r64 = by.get((n, d, h, "float64"))
        if dt != "float32" or r64 is None:
            continue
        row = {"n": n, "d": d, "h": h,
               "speedup": r64["numpynn_epoch_s"] / r32["numpynn_epoch_s"],
               "sklearn_speedup": r64["sklearn_epoch_s"] / r32["sklearn_epoch_s"],
               "gemm_speedup": r32["gemm_only_gflops"] / r64["gemm_only_gflops"]}
        if r32.get("torch_epoch_s") and r64.get("torch_epoch_s"):
            row["torch_speedup"] = r64["torch_epoch_s"] / r32["torch_epoch_s"]
        out.append(row)
    return out
