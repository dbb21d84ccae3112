"""Same initial weights in TwoLayerNet and MLPRegressor: is an R^2 gap the loop or the init?

``python -m benchmarks.same_init [--seeds 5] [--epochs 2]``

The network benchmark's data (n=20k, d=20, h=100; adam, learning rate 1e-3,
batch 200, alpha 1e-4). For each initialisation scheme and seed, both
estimators start from the *same* weights (set through ``warm_start``, as
tests/test_estimators.py::test_same_steps_as_mlp_regressor does) and train
the same number of epochs; only the shuffling differs. Prints a markdown
table of held-out R^2 (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor

from numpynn import TwoLayerNet

from .cases_net import ALPHA, BATCH, LR, make_data

N, D, H = 20_000, 20, 100


def _he(rng, bias):
    W = [rng.normal(0, np.sqrt(2 / D), (D, H)), rng.normal(0, np.sqrt(2 / H), (H, 1))]
    if bias == "zero":
        return W, [np.zeros(H), np.zeros(1)]
    return W, [rng.uniform(-1, 1, H) / np.sqrt(D), rng.uniform(-1, 1, 1) / np.sqrt(H)]


def _glorot(rng):
    a1, a2 = np.sqrt(6 / (D + H)), np.sqrt(6 / (H + 1))
    W = [rng.uniform(-a1, a1, (D, H)), rng.uniform(-a2, a2, (H, 1))]
    return W, [rng.uniform(-a1, a1, H), rng.uniform(-a2, a2, 1)]


INITS = {
    "He-normal W, U(±1/sqrt(fan_in)) b (numpynn's relu init)": lambda r: _he(r, "uniform"),
    "He-normal W, zero b": lambda r: _he(r, "zero"),
    "Glorot-uniform W and b (MLPRegressor's init)": _glorot,
}


def _train(est, W, b, X, y, epochs):
    """Fit once on a few rows (creates the attributes), set the weights, refit."""
    est.set_params(max_iter=1, warm_start=True).fit(X[:400], y[:400])
    est.coefs_, est.intercepts_ = [w.copy() for w in W], [v.copy() for v in b]
    return est.set_params(max_iter=epochs).fit(X, y)


def run(seeds, epochs):
    X, y = make_data(N, D, np.float64)
    Xv, yv = make_data(5000, D, np.float64, seed=1)
    rows = []
    for name, init in INITS.items():
        scores = {"numpynn": [], "MLPRegressor": []}
        for s in range(seeds):
            W, b = init(np.random.default_rng(100 + s))
            ests = {"numpynn": TwoLayerNet(hidden_units=H, optimizer="adam",
                                           learning_rate=LR, batch_size=BATCH,
                                           alpha=ALPHA, tol=None, random_state=s),
                    "MLPRegressor": MLPRegressor(hidden_layer_sizes=(H,), solver="adam",
                                                 learning_rate_init=LR, batch_size=BATCH,
                                                 alpha=ALPHA, tol=0, n_iter_no_change=10**9,
                                                 random_state=s)}
            for key, est in ests.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _train(est, W, b, X, y, epochs)
                scores[key].append(r2_score(yv, est.predict(Xv)))
        rows.append((name, scores))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.same_init", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args(argv)
    print(f"| initial weights (the same in both), {args.epochs} epochs | numpynn R^2 "
          "| MLPRegressor R^2 |\n|---|---|---|")
    for name, scores in run(args.seeds, args.epochs):
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in scores.values()]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
