"""``numpynn demo``: the tutorial and Moore's law end to end, with their pictures.

The tutorial: gradient descent on ``make_regression``, its epoch log,
held-out metrics, the fitted line beside the exact least-squares one, the
loss curve down to the minimum, the loss surface and the learning GIF.
Then Moore's law on the embedded transistor counts: a straight line on
log10 (the doubling time), and on the raw counts the talk's point, a few
ReLU units bending a straight line into the exponential. It composes
public calls only and prints where each file went.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._cli_io import save_figure

TUTORIAL = {"n_samples": 200, "n_features": 1, "noise": 10, "random_state": 42}
SPLIT_SEED = 42
TUTORIAL_FIT = {"learning_rate": 0.05, "max_iter": 61, "tol": None}
MOORE_UNITS = 3
# On raw counts in billions, seed 1 gives three units switching on at successive years
# (about 2000, 2008 and 2015), each bending the line further upwards, as in the talk.
MOORE_NET = {"hidden_units": MOORE_UNITS, "learning_rate": 0.02, "max_iter": 4000,
             "batch_size": None, "alpha": 0.0, "tol": None, "random_state": 1}
TALK_UNITS = {"mm": [1, 1, 1], "nn": [1e4, 1e5, 7.5e5], "bb": [0, -35, -40]}


def demo(out, *, gif=True):
    """Run the demo, writing into the existing folder ``out``; returns 0."""
    start = time.perf_counter()
    written = _tutorial(out, gif) + _moore(out)
    print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
    for path, what in written:
        print(f"  {path}  ({what})")
    return 0


def _epoch_log(est, logs):
    """The tutorial's log: epoch k (from 0) and its loss, every 10 epochs."""
    from tqdm.auto import tqdm

    k = logs["epoch"] - 1
    if k % 10 == 0:
        tqdm.write(f"Epoch: {k}  Loss = {logs['loss']:.6f}")


def _tutorial(out, gif):
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    from .estimators import LinearRegressor

    X, y = make_regression(**TUTORIAL)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SPLIT_SEED)
    print("== The tutorial: linear regression by gradient descent ==")
    print(f"make_regression({', '.join(f'{k}={v}' for k, v in TUTORIAL.items())}); "
          f"{len(y_tr)} training / {len(y_te)} held-out samples; learning rate 0.05, "
          "61 epochs")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        reg = LinearRegressor(**TUTORIAL_FIT, verbose=True,
                              callbacks=[_epoch_log]).fit(X_tr, y_tr)
    exact = LinearRegressor(solver="lstsq").fit(X_tr, y_tr)
    _tutorial_report(reg, exact, X_te, y_te)
    for w in caught:             # part of the lesson: 61 epochs stop short of the minimum
        if issubclass(w.category, ConvergenceWarning):
            print(f"numpynn's ConvergenceWarning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    files = [(save_figure(_fit_figure(reg, exact, X_te, y_te), out / "fit.png"),
              "the line after 61 epochs and the exact least-squares line, held-out data"),
             (save_figure(_loss_figure(reg, exact, X_tr, y_tr), out / "loss.png"),
              "loss curve down towards the exact minimum")]
    return files + _surface_and_gif(out, X_tr, y_tr, gif)


def _tutorial_report(reg, exact, X_te, y_te):
    """Held-out metrics, why MAPE is large, and how far gradient descent got."""
    from sklearn.metrics import mean_absolute_percentage_error

    from . import kernels

    pred = reg.predict(X_te)
    mape = 100 * mean_absolute_percentage_error(y_te, pred)
    print(f"\nHeld-out: half-MSE = {kernels.compute_loss(y_te, pred.reshape(-1, 1)):.4f}"
          f", R^2 = {reg.score(X_te, y_te):.4f}")
    print(f"Held-out mean absolute percentage error = {mape:.2f}%  (an error, lower is "
          "better; the tutorial prints it as 'Accuracy')")
    print(_mape_explained(y_te, pred))
    m, b, m_ls, b_ls = _line(reg) + _line(exact)
    print(f"m = {m:.6f}, b = {b:.6f}  (exact least squares: m = {m_ls:.6f}, b = {b_ls:.6f}: "
          f"61 epochs at learning rate 0.05 cover {100 * m / m_ls:.1f}% of the slope)")


def _mape_explained(y, pred):
    """One sentence: MAPE divides by |y|, so the target nearest zero dominates."""
    ape = np.abs(y - pred) / np.abs(y)                                   # (n,)
    i = int(np.argmin(np.abs(y)))
    return (f"Why so large: MAPE divides each error by |y|, and these targets straddle "
            f"zero. The held-out target nearest zero, y = {y[i]:.2f}, is missed by "
            f"{abs(y[i] - pred[i]):.2f}, i.e. by {100 * ape[i]:.0f}%: that one sample of "
            f"{len(y)} adds {100 * ape[i] / len(y):.1f} points to the mean "
            f"(the median is {100 * np.median(ape):.1f}%).")


def _line(reg):
    return float(reg.coef_[0]), float(reg.intercept_)


def _equation(m, b):
    """``y = 80.67 x + 1.03``."""
    return f"y = {m:.2f} x {'-' if b < 0 else '+'} {abs(b):.2f}"


def _fit_figure(reg, exact, X, y):
    """The held-out data, the line gradient descent reached and the exact one."""
    from . import plotting

    ax = plotting.plot_fit(reg, X, y)
    ax.get_lines()[-1].set(label=f"gradient descent, {reg.n_iter_} epochs: "
                                 f"{_equation(*_line(reg))}", gid="gd")
    grid = np.linspace(X.min(), X.max(), 200).reshape(-1, 1)
    ax.plot(grid[:, 0], exact.predict(grid), "--", color="k", lw=1.5, gid="lstsq",
            label=f"exact least squares: {_equation(*_line(exact))}")
    ax.set_title(f"Fit after {reg.n_iter_} epochs, on the held-out data")
    ax.legend(loc="upper left")
    return ax.figure


def _loss_figure(reg, exact, X, y):
    """The training loss per epoch, and the minimum it is heading for."""
    from . import kernels, plotting

    ax = plotting.plot_loss_curve(reg, log=True)
    floor = kernels.compute_loss(y, exact.predict(X).reshape(-1, 1))
    ax.axhline(floor, color="k", ls="--", lw=1.2, gid="minimum",
               label=f"minimum (exact least squares): {floor:.4g}")
    last = reg.loss_curve_[-1]
    ax.annotate(f"epoch {reg.n_iter_ - 1}: {last:.4g},\n{last - floor:.3g} above the minimum",
                xy=(reg.n_iter_ - 1, last), xytext=(0.55, 0.55), textcoords="axes fraction",
                arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.set_title("Training loss per epoch (learning rate 0.05, log scale)")
    ax.legend(loc="upper right")
    return ax.figure


def _surface_and_gif(out, X, y, gif):
    import matplotlib.pyplot as plt

    from . import plotting
    from .estimators import LinearRegressor

    model = LinearRegressor(**TUTORIAL_FIT)
    ax = plotting.plot_loss_surface(model, X, y)
    files = [(save_figure(ax.figure, out / "loss_surface.png"),
              "loss contours over (m, b), gradient-descent path, Newton step")]
    if gif:
        fig = plt.figure(figsize=(10, 4), layout="constrained")
        n_frames = plotting.save_training_gif(model, X, y, out / "learning.gif", fig=fig)
        plt.close(fig)
        files.append((out / "learning.gif", f"the line learning, {n_frames} frames: "
                                            "before each epoch's update, then trained"))
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
    lo, hi = doubling_interval(line)
    print(f"  95% confidence interval of the doubling time: {lo:.2f} to {hi:.2f} years "
          f"(from the slope's, line.conf_int())")

    ax = plotting.plot_fit(line, X, y, interval="both")
    ax.get_lines()[-1].set_label("LinearRegressor on log10(count)")
    ax.set(xlabel="year of introduction", ylabel="transistors (log scale)",
           title=f"Moore's law: counts double every {np.log10(2) / slope:.2f} years "
                 f"(95% CI {lo:.2f}-{hi:.2f})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"$10^{{{v:g}}}$"))
    ax.legend(loc="upper left")
    files = [(save_figure(ax.figure, out / "moore.png"), "Moore's law, a line on log10")]
    return files + _moore_relu(out, X, counts / 1e9)


def doubling_interval(line, alpha=0.05):
    """The doubling time's ``1 - alpha`` interval, in years, from the slope's on log10.

    Doubling time is ``log10(2) / slope``, decreasing in a positive slope,
    so the slope's confidence bounds map to the doubling time's, swapped.
    """
    slope_lo, slope_hi = line.conf_int(alpha=alpha)[1]          # row 0 is the intercept
    return np.log10(2) / slope_hi, np.log10(2) / slope_lo


def talk_units(years):
    """The talk's hand-set f(x) = sum_i n_i relu(m_i x + b_i), in billions of transistors.

    The talk takes x = year - 1970 and counts in thousands.
    """
    x = np.asarray(years, dtype=np.float64) - 1970.0                    # (p,)
    Z = np.outer(x, TALK_UNITS["mm"]) + TALK_UNITS["bb"]                # (p, 3)
    return np.maximum(Z, 0.0) @ TALK_UNITS["nn"] * 1e3 / 1e9            # (p,)


def kinks(net):
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
    years = ", ".join(f"{k:.0f}" for k in np.sort(kinks(net)))
    r2 = {"line": line.score(X, y), "net": net.score(X, y),
          "talk": r2_score(y, talk_units(X[:, 0]))}
    print("On the linear scale (raw counts in billions; in-sample R^2, same data):")
    print(f"  straight line (LinearRegressor on raw counts):  R^2 = {r2['line']:.4f}")
    print(f"  TwoLayerNet, {MOORE_UNITS} ReLU units on standardised years "
          f"(kinks at {years}):  R^2 = {r2['net']:.4f}")
    print(f"  the talk's hand-set units (mm={TALK_UNITS['mm']}, nn=[1e4, 1e5, 7.5e5], "
          f"bb={TALK_UNITS['bb']}):  R^2 = {r2['talk']:.4f}")

    ax = relu_bend_figure(X, y, line, net, r2)
    return [(save_figure(ax.figure, out / "moore_relu_bend.png"),
             "raw counts, a straight line and the ReLU units bending it")]


def relu_bend_figure(X, y, line, net, r2):
    """Raw counts on a linear axis, the straight line, the units, their sum, the talk's."""
    import matplotlib.pyplot as plt

    from . import plotting

    _, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    plotting.plot_hidden_units(net, X, y, ax=ax)
    grid = np.linspace(X.min(), X.max(), 300)
    ax.plot(grid, line.predict(grid.reshape(-1, 1)), color="C3", lw=1.6, gid="line",
            label=f"straight line (LinearRegressor), R$^2$ = {r2['line']:.2f}")
    ax.plot(grid, talk_units(grid), "-.", color="C4", lw=1.6, gid="talk",
            label=f"the talk's hand-set units (2018), R$^2$ = {r2['talk']:.2f}")
    _gid(ax, "sum").set(label=f"ReLU network: sum = prediction, R$^2$ = {r2['net']:.2f}",
                        zorder=3)
    at = kinks(net)                                                       # (h,)
    on = np.where(net[-1].coefs_[0][0] > 0, "on from", "on until")
    for i, year in enumerate(at):
        unit = _gid(ax, f"unit{i}")
        unit.set_label(f"{unit.get_label()}, {on[i]} {year:.0f}")
    seen = at[(at >= X.min()) & (at <= X.max())]
    ax.plot(seen, net.predict(seen.reshape(-1, 1)), "o", ms=7, mfc="white", mec="k",
            gid="kinks", zorder=4, label="kinks (a unit switches)")
    mean, scale = net[0].mean_[0], net[0].scale_[0]
    ax.set(xlabel=f"year of introduction   (the units' x is the standardised year, "
                  f"x = (year - {mean:.1f}) / {scale:.1f})",
           ylabel="transistors (billions, linear scale)",
           title=f"{MOORE_UNITS} ReLU units bend a straight line into Moore's exponential "
                 f"(kinks at {', '.join(f'{k:.0f}' for k in np.sort(seen))})")
    # Upper left is empty: the counts stay near zero until about 2000 and the
    # lines start low (tests/test_cli.py checks that nothing drawn is under it).
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _gid(ax, gid):
    return next(line for line in ax.get_lines() if line.get_gid() == gid)
