"""Command line: ``numpynn demo [--out DIR]``, also ``python -m numpynn demo``.

The demo is the main job: the beginners' tutorial end to end (gradient
descent on ``make_regression``, its epoch log, held-out metrics and the
pictures of learning), then Moore's law on the embedded transistor counts
(a straight line on log10 and a few ReLU units). It composes public calls
only, runs headless (Agg) and prints where each file went.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

TUTORIAL = {"n_samples": 200, "n_features": 1, "noise": 10, "random_state": 42}
SPLIT_SEED = 42
MOORE_UNITS = 3


def _parser():
    parser = argparse.ArgumentParser(
        prog="numpynn",
        description="numpynn: linear regression and small neural networks in NumPy.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="run the tutorial and Moore's law end to end, write the pictures",
        description="Fit the tutorial's gradient descent (make_regression, learning rate "
                    "0.05, 61 epochs) with its epoch log and held-out metrics, then "
                    "Moore's law on embedded transistor counts; writes PNGs and a GIF.")
    demo.add_argument("--out", type=Path, default=Path("numpynn-demo"), metavar="DIR",
                      help="output directory, created if needed (default: ./numpynn-demo)")
    return parser


def main(argv=None):
    """Entry point of the ``numpynn`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")                     # headless: before pyplot is imported
    if args.command == "demo":
        try:
            return demo(args.out)
        except OSError as exc:                # e.g. --out names a file, or no permission
            print(f"numpynn demo: cannot write to {args.out}: {exc}", file=sys.stderr)
            return 1
    return 2                                  # pragma: no cover (argparse requires one)


def demo(out):
    """Run the demo, writing into ``out``; returns 0."""
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    written = _tutorial(out) + _moore(out)
    print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
    for path, what in written:
        print(f"  {path}  ({what})")
    return 0


def _save(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _epoch_log(est, logs):
    """The tutorial's log: epoch k (from 0) and its loss, every 10 epochs."""
    from tqdm.auto import tqdm

    k = logs["epoch"] - 1
    if k % 10 == 0:
        tqdm.write(f"Epoch: {k}  Loss = {logs['loss']:.6f}")


def _tutorial(out):
    import matplotlib.pyplot as plt
    from sklearn.base import clone
    from sklearn.datasets import make_regression
    from sklearn.metrics import mean_absolute_percentage_error
    from sklearn.model_selection import train_test_split

    from . import kernels, plotting
    from .estimators import LinearRegressor

    X, y = make_regression(**TUTORIAL)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SPLIT_SEED)
    print("== The tutorial: linear regression by gradient descent ==")
    print(f"make_regression({', '.join(f'{k}={v}' for k, v in TUTORIAL.items())}); "
          f"{len(y_tr)} training / {len(y_te)} held-out samples; learning rate 0.05, "
          "61 epochs")
    reg = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None, verbose=True,
                          callbacks=[_epoch_log]).fit(X_tr, y_tr)
    pred = reg.predict(X_te)
    mape = 100 * mean_absolute_percentage_error(y_te, pred)
    print(f"\nHeld-out: half-MSE = {kernels.compute_loss(y_te, pred.reshape(-1, 1)):.4f}"
          f", R^2 = {reg.score(X_te, y_te):.4f}")
    print(f"Held-out mean absolute percentage error = {mape:.2f}%  (an error, lower is "
          "better; the tutorial prints it as 'Accuracy')")
    print(f"m = {reg.coef_[0]:.6f}, b = {reg.intercept_:.6f}")

    quiet = clone(reg).set_params(callbacks=None, verbose=False)
    ax = plotting.plot_fit(reg, X_te, y_te)
    ax.set_title(f"Fit after {reg.n_iter_} epochs, on the held-out data")
    files = [(_save(ax.figure, out / "fit.png"), "fitted line on held-out data")]
    ax = plotting.plot_loss_curve(reg)
    ax.set_title("Training loss per epoch (learning rate 0.05)")
    files.append((_save(ax.figure, out / "loss.png"), "loss curve"))
    ax = plotting.plot_loss_surface(quiet, X_tr, y_tr)
    files.append((_save(ax.figure, out / "loss_surface.png"),
                  "loss contours over (m, b), gradient-descent path, Newton step"))
    fig = plt.figure(figsize=(10, 4), layout="constrained")
    n_frames = plotting.save_training_gif(quiet, X_tr, y_tr, out / "learning.gif", fig=fig)
    plt.close(fig)
    files.append((out / "learning.gif", f"the line learning, {n_frames} frames, one per epoch"))
    return files


def _moore(out):
    from matplotlib.ticker import FuncFormatter
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import plotting
    from .datasets import load_moore
    from .estimators import LinearRegressor, TwoLayerNet

    X, counts = load_moore(return_X_y=True)
    y = np.log10(counts)
    print(f"\n== Moore's law: {len(y)} microprocessors, {int(X.min())}-{int(X.max())} ==")
    line = LinearRegressor(solver="lstsq").fit(X, y)
    slope = float(line.coef_[0])
    print(f"log10(transistors) = {slope:.4f} * year {line.intercept_:+.2f}   "
          f"(R^2 = {line.score(X, y):.4f})")
    print(f"Transistor counts double every log10(2) / {slope:.4f} = "
          f"{np.log10(2) / slope:.2f} years (x{10 ** slope:.3f} a year)")
    net = make_pipeline(StandardScaler(), TwoLayerNet(
        hidden_units=MOORE_UNITS, learning_rate=0.05, max_iter=2000, batch_size=None,
        alpha=0.0, tol=None, random_state=10)).fit(X, y)
    print(f"TwoLayerNet, {MOORE_UNITS} ReLU units on standardised years: "
          f"R^2 = {net.score(X, y):.4f}")

    powers = FuncFormatter(lambda v, _: f"$10^{{{v:g}}}$")
    ax = plotting.plot_fit(line, X, y)
    grid = np.linspace(X.min(), X.max(), 300).reshape(-1, 1)
    ax.plot(grid[:, 0], net.predict(grid), color="C2", lw=2,
            label=f"TwoLayerNet ({MOORE_UNITS} ReLU units)")
    ax.set(xlabel="year of introduction", ylabel="transistors (log scale)",
           title=f"Moore's law: counts double every {np.log10(2) / slope:.2f} years")
    ax.yaxis.set_major_formatter(powers)
    ax.legend(loc="upper left")
    files = [(_save(ax.figure, out / "moore.png"), "Moore's law, line and network")]
    ax = plotting.plot_hidden_units(net, X, y)
    ax.set(xlabel="year of introduction", ylabel="log10(transistors)")
    files.append((_save(ax.figure, out / "moore_hidden_units.png"),
                  "each ReLU unit's contribution and their sum"))
    return files


if __name__ == "__main__":
    raise SystemExit(main())
