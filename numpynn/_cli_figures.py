"""The pictures of ``numpynn fit``: the fit, the loss per epoch and the residuals."""

from __future__ import annotations

import numpy as np


def fit_figures(fitted, target):
    """``{"fit.png": Figure, "loss.png": Figure, "residuals.png": Figure}``."""
    return {"fit.png": fit_figure(fitted, target),
            "loss.png": loss_figure(fitted),
            "residuals.png": residuals_figure(fitted, target)}


def _new_axes():
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 5), layout="constrained")[1]


def fit_figure(fitted, target):
    """One feature: the data and the model's line (or curve); several: predicted vs actual."""
    from .plotting import plot_fit

    f, m = fitted, fitted.metrics
    if f.X_train.shape[1] == 1:
        ax = plot_fit(f.model, f.X_train, f.y_train, ax=_new_axes())
        ax.collections[0].set(label=f"training rows ({m['n_train']})", gid="train")
        ax.get_lines()[-1].set(label="the model's prediction", gid="model")
        ax.scatter(f.X_test[:, 0], f.y_test, s=22, marker="s", color="C1", gid="test",
                   label=f"test rows ({m['n_test']})")
        ax.set(xlabel=m["features"][0], ylabel=target)
    else:
        ax = _new_axes()
        parts = [(f.X_train, f.y_train, "train", "training", "o", "C0"),
                 (f.X_test, f.y_test, "test", "test", "s", "C1")]
        for X, y, part, name, marker, colour in parts:
            ax.scatter(y, f.model.predict(X), s=20, marker=marker, color=colour, alpha=0.7,
                       gid=part, label=f"{name} rows ({len(y)})")
        ends = [min(f.y_train.min(), f.y_test.min()), max(f.y_train.max(), f.y_test.max())]
        ax.plot(ends, ends, "k--", lw=1, gid="identity", label="predicted = actual")
        ax.set(xlabel=f"actual {target}", ylabel=f"predicted {target}")
    ax.set_title(f"{target}: R$^2$ = {m['test']['r2']:.3f} on the test rows, "
                 f"{m['train']['r2']:.3f} on the training rows")
    ax.legend(loc="best")
    return ax.figure


def loss_figure(fitted):
    """The training loss per epoch; the exact minimum (linear) or the lowest loss (net)."""
    from sklearn.base import clone

    from . import kernels
    from .plotting import plot_loss_curve

    model = getattr(fitted.model, "regressor_", fitted.model)
    est = model[-1]
    losses = np.asarray(est.loss_curve_)
    ax = plot_loss_curve(est, ax=_new_axes(), log=losses.max() > 5 * losses.min() > 0)
    if hasattr(fitted.model, "regressor_"):
        k = int(np.argmin(losses))
        ax.plot([k], [losses[k]], "*", color="C3", ms=14, gid="minimum",
                label=f"lowest loss: {losses[k]:.4g} (epoch {k})")
        ax.set_ylabel("Loss (half-MSE of the standardised target)")
    else:
        exact = clone(model).set_params(**{f"{model.steps[-1][0]}__solver": "lstsq"})
        exact.fit(fitted.X_train, fitted.y_train)
        floor = kernels.compute_loss(fitted.y_train,
                                     exact.predict(fitted.X_train).reshape(-1, 1))
        ax.axhline(floor, color="k", ls="--", lw=1.2, gid="minimum",
                   label=f"minimum (exact least squares): {floor:.4g}")
        ax.set_ylabel("Loss (half-MSE, target units squared)")
    ax.set_title(f"Training loss per epoch ({est.n_iter_} epochs)")
    ax.legend(loc="upper right")
    return ax.figure


def residuals_figure(fitted, target):
    """Residuals (actual - predicted) against the prediction, training and test rows."""
    ax = _new_axes()
    f = fitted
    for X, y, part, marker, colour in [(f.X_train, f.y_train, "train", "o", "C0"),
                                       (f.X_test, f.y_test, "test", "s", "C1")]:
        pred = f.model.predict(X)
        name = {"train": "training", "test": "test"}[part]
        ax.scatter(pred, y - pred, s=20, marker=marker, color=colour, alpha=0.7, gid=part,
                   label=f"{name} rows (RMSE {f.metrics[part]['rmse']:.4g})")
    ax.axhline(0.0, color="k", lw=1, gid="zero")
    ax.set(xlabel=f"predicted {target}", ylabel=f"residual: actual - predicted {target}",
           title="Residuals: no pattern left is what a good fit leaves")
    ax.legend(loc="best")
    return ax.figure
