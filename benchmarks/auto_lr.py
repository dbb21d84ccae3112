"""Evidence for the automatic learning rate of networks (issue 14, item 4).

``python -m benchmarks.auto_lr [--fuzz 300] [--seeds 5] [--epochs 100] [--only fuzz|quality]``

Two questions about :func:`numpynn.curvature.auto_learning_rate_net`:

1. **Does it ever diverge?** On ``--fuzz`` random data sets (n in
   [20, 2000], d in [1, 30], X and y at scales 1e-3..1e3 with per-feature
   scales spread over two more decades, noise levels, every activation and
   first-order optimizer, seeds; no scaling), ``TwoLayerNet`` trains
   ``FUZZ_EPOCHS`` epochs at the automatic rate. Counted: fits that raise
   (divergence), and fits whose last epoch's loss is not below the first's.
2. **Is it as good as tuning?** On data sets with StandardScaler on X and
   y (as the README recommends), 80/20 splits, ``--seeds`` seeds, fixed
   ``--epochs``: the median test R^2 of the automatic rate, and of the
   suggestion of :func:`numpynn.lr_find`, against the best fixed rate of
   :data:`GRID`, per optimizer.

Prints two markdown tables (docs/benchmarks.md, "Automatic learning rate").
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets as skd
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numpynn import TwoLayerNet, curvature, lr_find
from numpynn.curvature import auto_learning_rate_net

#: The fixed rates the automatic one is compared with: 1e-4 .. 1e-1, x3 steps.
GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
OPTIMIZERS = ("sgd", "momentum", "adam")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
FUZZ_EPOCHS = 20


def initial_params(net, X, y, sample_weight=None):
    """The parameters ``net`` starts from on ``(X, y)``, through its public API only.

    A clone is fitted for one epoch at a learning rate of 1e-300, which
    leaves every weight at its initial value to rounding.
    """
    probe = clone(net).set_params(learning_rate=1e-300, max_iter=1, tol=None,
                                  early_stopping=False, verbose=False, callbacks=None,
                                  warm_start=False)
    probe.fit(X, y, sample_weight=sample_weight)
    (W1, W2), (b1, b2) = probe.coefs_, probe.intercepts_
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def auto_rate(net, X, y):
    """:func:`auto_learning_rate_net` for ``net``'s settings and initial weights on ``(X, y)``."""
    return auto_learning_rate_net(initial_params(net, X, y), X, np.asarray(y, float),
                                  net.activation, net.optimizer, alpha=net.alpha,
                                  rng=net.random_state, momentum=net.momentum,
                                  nesterov=net.nesterov)


# -- 1. fuzzing ------------------------------------------------------------------
def fuzz_case(seed):
    """A random regression problem: ``(X, y, settings)`` with ``settings`` for TwoLayerNet."""
    r = np.random.default_rng(seed)
    n, d = int(r.integers(20, 2001)), int(r.integers(1, 31))
    sx, sy = 10 ** r.uniform(-3, 3), 10 ** r.uniform(-3, 3)
    noise = float(r.choice([0.0, 0.1, 1.0]))
    X = r.normal(size=(n, d)) * sx * 10 ** r.uniform(-1, 1, d)          # (n, d)
    z = (X / sx) @ (r.normal(size=d) / np.sqrt(d))                      # (n,)
    y = sy * (np.sin(2 * z) + z + noise * r.normal(size=n) + r.normal())
    settings = dict(activation=str(r.choice(ACTIVATIONS)),
                    optimizer=str(r.choice(OPTIMIZERS)), random_state=seed)
    return X, y, settings, dict(n=n, d=d, x_scale=sx, y_scale=sy, noise=noise)


def fuzz_one(seed, epochs=FUZZ_EPOCHS):
    """Train one fuzzed case at the automatic rate; a dict saying how it went."""
    X, y, settings, facts = fuzz_case(seed)
    net = TwoLayerNet(max_iter=epochs, tol=None, **settings)
    lr = auto_rate(net, X, y)
    row = dict(seed=seed, **settings, **facts, learning_rate=lr, diverged=False)
    try:
        net.set_params(learning_rate=lr).fit(X, y)
    except ValueError as exc:
        row.update(diverged=True, error=str(exc))
        return row
    row["loss_ratio"] = net.loss_curve_[-1] / net.loss_curve_[0]
    return row


def run_fuzz(n_cases, epochs=FUZZ_EPOCHS, start=0):
    """:func:`fuzz_one` for seeds ``start .. start + n_cases - 1``."""
    return [fuzz_one(seed, epochs) for seed in range(start, start + n_cases)]


def fuzz_table(rows):
    """Markdown: per optimizer, cases, divergences, rises, slow fits, last/first epoch loss."""
    lines = ["| optimizer | cases | diverged | last epoch loss >= first | last/first > 0.9 | "
             "median last/first loss | worst last/first loss |", "|---|---|---|---|---|---|---|"]
    for opt in OPTIMIZERS:
        sub = [r for r in rows if r["optimizer"] == opt]
        ratios = np.array([r["loss_ratio"] for r in sub if not r["diverged"]])
        lines.append(f"| {opt} | {len(sub)} | {sum(r['diverged'] for r in sub)} | "
                     f"{int(np.sum(ratios >= 1))} | {int(np.sum(ratios > 0.9))} | "
                     f"{np.median(ratios):.3g} | {ratios.max():.6f} |")
    return "\n".join(lines)


# -- 2. quality against a grid ---------------------------------------------------
def quality_datasets():
    """Name -> ``(X, y)``: real and classic regression data that scikit-learn ships."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(500, 1))
    return {
        "diabetes": skd.load_diabetes(return_X_y=True),
        "friedman1": skd.make_friedman1(n_samples=1000, noise=1.0, random_state=0),
        "friedman2": skd.make_friedman2(n_samples=1000, noise=125.0, random_state=0),
        "friedman3": skd.make_friedman3(n_samples=1000, noise=0.1, random_state=0),
        "sine": (x, np.sin(2 * x[:, 0]) + rng.normal(0, 0.2, 500)),
    }


def _test_r2(net, X, y, seed):
    """Test R^2 of ``net`` in the recommended pipeline on split ``seed`` (nan if it diverges)."""
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), net),
                                       transformer=StandardScaler())
    try:
        return float(model.fit(Xtr, ytr).score(Xte, yte))
    except ValueError:
        return np.nan


def _standardised_train(X, y, seed):
    """Split ``seed``'s training rows, standardised as the pipeline's steps see them."""
    Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.2, random_state=seed)
    return (StandardScaler().fit_transform(Xtr),
            StandardScaler().fit_transform(ytr.reshape(-1, 1)).ravel())


def quality_one(name, X, y, optimizer, seeds, epochs):
    """Median test R^2 per grid rate, for the automatic rate and for lr_find's suggestion."""
    base = TwoLayerNet(optimizer=optimizer, max_iter=epochs, tol=None)
    grid = {lr: np.median([_test_r2(clone(base).set_params(learning_rate=lr, random_state=s),
                                    X, y, s) for s in seeds]) for lr in GRID}
    chosen = {"auto": ([], []), "lr_find": ([], [])}
    for s in seeds:
        net = clone(base).set_params(random_state=s)
        Xs, ys = _standardised_train(X, y, s)
        for how, lr in (("auto", auto_rate(net, Xs, ys)),
                        ("lr_find", lr_find(net, Xs, ys).suggestion)):
            chosen[how][0].append(lr)
            chosen[how][1].append(_test_r2(clone(net).set_params(learning_rate=lr), X, y, s))
    finite = {lr: r2 for lr, r2 in grid.items() if np.isfinite(r2)}
    best = max(finite, key=finite.get)
    row = dict(dataset=name, optimizer=optimizer, best_rate=best, best_r2=finite[best],
               grid=grid)
    for how, (lrs, r2s) in chosen.items():
        row[f"{how}_rate"], row[f"{how}_r2"] = float(np.median(lrs)), float(np.median(r2s))
    return row


def run_quality(seeds, epochs, names=None):
    data = quality_datasets()
    return [quality_one(name, X, y, opt, seeds, epochs)
            for name, (X, y) in data.items() if names is None or name in names
            for opt in OPTIMIZERS]


def quality_table(rows):
    """Markdown: best grid rate and R^2 against the automatic rate and lr_find's suggestion."""
    lines = ["| data set | optimizer | best grid rate | its R^2 | auto rate | auto R^2 | "
             "auto - best | lr_find rate | lr_find R^2 | lr_find - best | "
             "R^2 at " + ", ".join(f"{g:g}" for g in GRID) + " |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        grid = " ".join(f"{v:.3f}" for v in r["grid"].values())
        lines.append(f"| {r['dataset']} | {r['optimizer']} | {r['best_rate']:g} | "
                     f"{r['best_r2']:.3f} | {r['auto_rate']:.3g} | {r['auto_r2']:.3f} | "
                     f"{r['auto_r2'] - r['best_r2']:+.3f} | {r['lr_find_rate']:.3g} | "
                     f"{r['lr_find_r2']:.3f} | {r['lr_find_r2'] - r['best_r2']:+.3f} | "
                     f"{grid} |")
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks.auto_lr", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fuzz", type=int, default=300, help="fuzzed data sets (default 300)")
    p.add_argument("--seeds", type=int, default=5, help="splits and seeds per data set")
    p.add_argument("--epochs", type=int, default=100, help="epochs of every quality fit")
    p.add_argument("--only", choices=("fuzz", "quality"), help="run one half only")
    p.add_argument("--datasets", nargs="+", help="quality data sets to run (default all)")
    p.add_argument("--start", type=int, default=0, help="first fuzz seed (default 0)")
    p.add_argument("--safety", type=float, default=curvature.SAFETY,
                   help="ablation: fraction of the stability bound for sgd and momentum")
    p.add_argument("--no-output-probe", action="store_true",
                   help="ablation: curvature at the initial weights only")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    saved = curvature.SAFETY, curvature.PROBE_OUTPUT_FIT
    curvature.SAFETY, curvature.PROBE_OUTPUT_FIT = args.safety, not args.no_output_probe
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # e.g. overflow on fuzzed data at fixed rates
            if args.only != "quality":
                _report_fuzz(args)
            if args.only != "fuzz":
                t0 = time.perf_counter()
                rows = run_quality(range(args.seeds), args.epochs, args.datasets)
                print(f"\n## Quality: {args.seeds} seeds, {args.epochs} epochs "
                      f"({time.perf_counter() - t0:.0f} s)\n")
                print(quality_table(rows))
    finally:
        curvature.SAFETY, curvature.PROBE_OUTPUT_FIT = saved
    return 0


def _report_fuzz(args):
    t0 = time.perf_counter()
    rows = run_fuzz(args.fuzz, start=args.start)
    print(f"## Fuzzing: {args.fuzz} data sets (seeds {args.start}-"
          f"{args.start + args.fuzz - 1}), {FUZZ_EPOCHS} epochs, safety "
          f"{curvature.SAFETY}, output probe {curvature.PROBE_OUTPUT_FIT} "
          f"({time.perf_counter() - t0:.0f} s)\n")
    print(fuzz_table(rows) + "\n")
    for r in rows:
        if r["diverged"] or r["loss_ratio"] >= 1:
            print(f"- seed {r['seed']}: " + ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in r.items() if k not in ("seed", "error")))


if __name__ == "__main__":
    raise SystemExit(main())
