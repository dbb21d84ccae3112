"""Command line: ``numpynn demo [--out DIR]``, also ``python -m numpynn demo``.

The demo is the main job: the beginners' tutorial end to end (gradient
descent on ``make_regression``, its epoch log, held-out metrics and the
pictures of learning), then Moore's law on the embedded transistor counts:
a straight line on log10 (the doubling time), and on the raw counts the
talk's point, a few ReLU units bending a straight line into the
exponential. It composes public calls
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
# On raw counts in billions, seed 1 gives three units switching on at successive years
# (about 2000, 2008 and 2015), each bending the line further upwards, as in the talk.
MOORE_NET = {"hidden_units": MOORE_UNITS, "learning_rate": 0.02, "max_iter": 4000,
             "batch_size": None, "alpha": 0.0, "tol": None, "random_state": 1}
TALK_UNITS = {"mm": [1, 1, 1], "nn": [1e4, 1e5, 7.5e5], "bb": [0, -35, -40]}


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
    files.append((out / "learning.gif",
                  f"the line learning, {n_frames} frames: before each epoch, then trained"))
    return files


def _moore(out):
    from matplotlib.ticker import FuncFormatter

    from . import plotting
    from .datasets import load_moore
    from .estimators import LinearRegressor

    X, counts = load_moore(return_X_y=True)
    y = np.log10(counts)
    print(f"\n== Moore's law: {len(y)} microprocessors, {int(X.min())}-{int(X.max())} ==")
    line = LinearRegressor(solver="lstsq").fit(X, y)
    slope = float(line.coef_[0])
    print(f"log10(transistors) = {slope:.4f} * year {line.intercept_:+.2f}   "
          f"(R^2 = {line.score(X, y):.4f})")
    print(f"Transistor counts double every log10(2) / {slope:.4f} = "
          f"{np.log10(2) / slope:.2f} years (x{10 ** slope:.3f} a year)")

    ax = plotting.plot_fit(line, X, y)
    ax.get_lines()[-1].set_label("LinearRegressor on log10(count)")
    ax.set(xlabel="year of introduction", ylabel="transistors (log scale)",
           title=f"Moore's law: counts double every {np.log10(2) / slope:.2f} years")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"$10^{{{v:g}}}$"))
    ax.legend(loc="upper left")
    files = [(_save(ax.figure, out / "moore.png"), "Moore's law, a line on log10")]
    return files + _moore_relu(out, X, counts / 1e9)


def _talk_units(years):
    """The talk's hand-set f(x) = sum_i n_i relu(m_i x + b_i), in billions of transistors.

    The talk takes x = year - 1970 and counts in thousands.
    """
    x = np.asarray(years, dtype=np.float64) - 1970.0                    # (p,)
    Z = np.outer(x, TALK_UNITS["mm"]) + TALK_UNITS["bb"]                # (p, 3)
    return np.maximum(Z, 0.0) @ TALK_UNITS["nn"] * 1e3 / 1e9            # (p,)


def _kinks(net):
    """Years where each ReLU unit of a StandardScaler + TwoLayerNet pipeline switches on."""
    scaler, model = net[0], net[-1]
    w, b = model.coefs_[0][0], model.intercepts_[0]                      # (h,), (h,)
    return scaler.mean_[0] - b / w * scaler.scale_[0]                    # (h,)


def _moore_relu(out, X, y):
    """The talk's point: on the raw counts a few ReLU units bend a line upwards."""
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .estimators import LinearRegressor, TwoLayerNet

    line = LinearRegressor(solver="lstsq").fit(X, y)
    net = make_pipeline(StandardScaler(), TwoLayerNet(**MOORE_NET)).fit(X, y)
    kinks = ", ".join(f"{k:.0f}" for k in np.sort(_kinks(net)))
    r2 = {"line": line.score(X, y), "net": net.score(X, y),
          "talk": r2_score(y, _talk_units(X[:, 0]))}
    print("On the linear scale (raw counts in billions; in-sample R^2, same data):")
    print(f"  straight line (LinearRegressor on raw counts):  R^2 = {r2['line']:.4f}")
    print(f"  TwoLayerNet, {MOORE_UNITS} ReLU units on standardised years "
          f"(kinks at {kinks}):  R^2 = {r2['net']:.4f}")
    print(f"  the talk's hand-set units (mm={TALK_UNITS['mm']}, nn=[1e4, 1e5, 7.5e5], "
          f"bb={TALK_UNITS['bb']}):  R^2 = {r2['talk']:.4f}")

    ax = _relu_bend_figure(X, y, line, net, r2)
    return [(_save(ax.figure, out / "moore_relu_bend.png"),
             "raw counts, a straight line and the ReLU units bending it")]


def _relu_bend_figure(X, y, line, net, r2):
    """Raw counts on a linear axis, the straight line, the units, their sum, the talk's."""
    import matplotlib.pyplot as plt

    from . import plotting

    _, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    plotting.plot_hidden_units(net, X, y, ax=ax)
    grid = np.linspace(X.min(), X.max(), 300)
    ax.plot(grid, line.predict(grid.reshape(-1, 1)), color="C3", lw=1.6, gid="line",
            label=f"straight line (LinearRegressor), R$^2$ = {r2['line']:.2f}")
    ax.plot(grid, _talk_units(grid), "-.", color="C4", lw=1.6, gid="talk",
            label=f"the talk's hand-set units (2018), R$^2$ = {r2['talk']:.2f}")
    _gid(ax, "sum").set(label=f"ReLU network: sum = prediction, R$^2$ = {r2['net']:.2f}",
                        zorder=3)
    kinks = _kinks(net)                                                   # (h,)
    on = np.where(net[-1].coefs_[0][0] > 0, "on from", "on until")
    for i, year in enumerate(kinks):
        unit = _gid(ax, f"unit{i}")
        unit.set_label(f"{unit.get_label()}, {on[i]} {year:.0f}")
    seen = kinks[(kinks >= X.min()) & (kinks <= X.max())]
    ax.plot(seen, net.predict(seen.reshape(-1, 1)), "o", ms=7, mfc="white", mec="k",
            gid="kinks", zorder=4, label="kinks (a unit switches)")
    ax.set(xlabel="year of introduction", ylabel="transistors (billions, linear scale)",
           title=f"{MOORE_UNITS} ReLU units bend a straight line into Moore's exponential "
                 f"(kinks at {', '.join(f'{k:.0f}' for k in np.sort(seen))})")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _gid(ax, gid):
    return next(line for line in ax.get_lines() if line.get_gid() == gid)


if __name__ == "__main__":
    raise SystemExit(main())
