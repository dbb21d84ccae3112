"""Private helpers of :mod:`numpynn.plotting`: recording fits, grids, the drawing parts.

Nothing here imports matplotlib at module level either.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from . import kernels
from ._linear import fixed_epochs_quietly
from .optimizers import newton


def final_step(model):
    """The estimator at the end of a Pipeline (the model itself otherwise)."""
    return model[-1] if isinstance(model, Pipeline) else model


def model_name(model):
    return type(final_step(model)).__name__


def feature_name(X, default="x"):
    cols = getattr(X, "columns", None)
    return str(cols[0]) if cols is not None else default


def one_feature(X):
    X = np.asarray(X)
    return X.ndim == 1 or X.shape[1] == 1


def x_grid(X, n_points):
    """``n_points`` evenly spaced values over X's single feature, shape (p, 1).

    A DataFrame stays a DataFrame with the same column, so models fitted on
    frames predict without feature-name warnings.
    """
    x = np.asarray(X, dtype=np.float64).reshape(len(X), -1)[:, 0]
    grid = np.linspace(x.min(), x.max(), n_points).reshape(-1, 1)    # (p, 1)
    if hasattr(X, "columns"):
        import pandas as pd

        return pd.DataFrame(grid, columns=X.columns)
    return grid


def predict_1d(estimator, X):
    """``estimator.predict(X)`` as float64 of shape (n,); one output only."""
    pred = np.asarray(estimator.predict(X), dtype=np.float64)
    if pred.ndim == 2 and pred.shape[1] != 1:
        raise ValueError(f"plotting needs a one-output model; predict gives {pred.shape}.")
    return pred.ravel()


def live_predict(model, final, X):
    """``model.predict(X)`` from inside a callback on ``final`` (its last step)."""
    if isinstance(model, Pipeline):
        X = model[:-1].transform(X)
    return predict_1d(final, X)


def fit_recording(estimator, X, y, record):
    """Fit a clone, calling ``record(clone, final_step)`` after every epoch.

    Returns ``(fitted_clone, logs, records)``: one ``logs`` dict (``epoch``,
    ``loss``, ...) and one record per epoch.
    """
    model = clone(estimator)
    final = final_step(model)
    logs_seen, records = [], []

    def recorder(est, logs):
        logs_seen.append(logs)
        records.append(record(model, est))

    final.set_params(callbacks=list(final.callbacks or []) + [recorder], verbose=False)
    # A drawing of a fixed number of epochs shows where the run ended; the
    # warning that gradient descent stopped above the minimum is not repeated.
    with fixed_epochs_quietly():
        model.fit(X, y)
    return model, logs_seen, records


def fit_panel(ax, X, y, grid, preds, name):
    """Static part of the animation's fit panel; returns ``(draw(i), artist)``."""
    y = np.asarray(y, dtype=np.float64).ravel()
    span = np.ptp(y) or 1.0
    lo = max(min(y.min(), preds[-1].min()), y.min() - span)
    hi = min(max(y.max(), preds[-1].max()), y.max() + span)
    if grid is not None:
        ax.scatter(np.asarray(X, dtype=np.float64).ravel(), y, s=18, alpha=0.7, label="data")
        (line,) = ax.plot(np.asarray(grid)[:, 0], preds[0], color="C3", lw=2, label=name)
        ax.set_xlabel(feature_name(X))
        ax.set_ylabel("y")
        ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
        return (lambda i: line.set_ydata(preds[i])), line
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity (perfect fit)")
    dots = ax.scatter(y, preds[0], s=18, alpha=0.7, label="samples")
    ax.set_xlabel("actual y")
    ax.set_ylabel(f"predicted y ({name})")
    ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    return (lambda i: dots.set_offsets(np.column_stack([y, preds[i]]))), dots


def seeded(estimator):
    """A clone whose final step has an int ``random_state`` (drawn if it was None).

    The recording fit and :func:`start_predictions` then start from the same
    initial parameters.
    """
    model = clone(estimator)
    final = final_step(model)
    if "random_state" in final.get_params() and final.random_state is None:
        final.set_params(random_state=int(np.random.default_rng().integers(2**32)))
    return model


def start_predictions(estimator, X, y, at):
    """Predictions at ``at`` of ``estimator``'s parameters before its first update.

    A fresh :class:`~numpynn.LinearRegressor` starts from zero weights, so its
    predictions are 0. Any other model is fitted (a clone) for one epoch with the
    smallest normal step, ``finfo.tiny``: its weights move by at most about
    1e-308, so the predictions are those of the initial weights to rounding.
    """
    from .estimators import LinearRegressor

    if isinstance(final_step(estimator), LinearRegressor):
        return np.zeros(len(at))                                    # (p,): m = b = 0
    probe = clone(estimator)
    final = final_step(probe)
    final.set_params(max_iter=1, tol=None, callbacks=None, verbose=False,
                     learning_rate=float(np.finfo(np.float64).tiny))
    probe.fit(X, y)
    return live_predict(probe, final, at)


def learning_frames(estimator, X, y, fig, n_points, log):
    """Fit a recording clone, lay out ``fig``; return ``(update, n_frames)``.

    Frame ``k < E`` (``E`` epochs) draws the model before epoch ``k``'s update,
    whose loss is ``loss_curve_[k]``, the one its title prints; frame ``E``
    draws the trained model. ``update(k)`` draws frame ``k`` and returns the
    artists it changed.
    """
    grid = x_grid(X, n_points) if one_feature(X) else None
    at = grid if grid is not None else X
    model = seeded(estimator)
    _, logs, preds = fit_recording(model, X, y, lambda m, est: live_predict(m, est, at))
    if not preds:
        raise ValueError(f"{model_name(estimator)} recorded no epochs to animate; use an "
                         "iterative solver (e.g. solver='gd').")
    losses = np.array([lg["loss"] for lg in logs])                    # (E,)
    preds = np.array([start_predictions(model, X, y, at)] + preds)    # (E + 1, p)
    n_epochs, name = len(losses), model_name(estimator)
    ax_fit, ax_loss = fig.subplots(1, 2)
    draw_fit, fit_artist = fit_panel(ax_fit, X, y, grid, preds, name)
    ax_fit.set_title("Model fit")
    ax_fit.legend(loc="upper left")
    loss_line, marker = loss_panel(ax_loss, losses, log)
    title = fig.suptitle("")

    def update(k):
        draw_fit(k)
        shown = min(k, n_epochs - 1)
        loss_line.set_data(np.arange(shown + 1), losses[:shown + 1])
        marker.set_data([shown], [losses[shown]])
        marker.set_visible(k < n_epochs)
        title.set_text(frame_title(name, k, losses))
        return fit_artist, loss_line, marker, title

    update(n_epochs)                           # lay out for the widest state, once:
    if fig.get_layout_engine() is not None:    # frames then only redraw
        fig.get_layout_engine().execute(fig)
        fig.set_layout_engine("none")
    update(0)
    return update, n_epochs + 1


def frame_title(name, k, losses):
    """Frame ``k``'s title: the loss of the line it draws, or the trained model."""
    n = len(losses)
    if k < n:
        return (f"{name}, epoch {k} of {n - 1}: the line before this epoch's update, "
                f"loss {losses[k]:.4g}")
    return f"{name} after {n} epochs: the trained model"


def loss_panel(ax, losses, log):
    """The animation's loss axes; returns the (growing) curve and the current-epoch dot."""
    n_epochs = len(losses)
    (line,) = ax.plot([], [], marker="o" if n_epochs <= 100 else None, ms=3,
                      label="training loss")
    (marker,) = ax.plot([], [], "o", ms=8, mfc="none", mec="C3", label="this frame's loss")
    pad = max(0.5, 0.02 * n_epochs)
    ax.set(xlim=(-pad, max(n_epochs - 1, 1) + pad), xlabel="Epoch",
           ylabel="Loss (half-MSE)", title="Loss")
    if log:
        ax.set_yscale("log")
        ax.set_ylim(losses.min() / 1.5, losses.max() * 1.5)
    else:
        ax.set_ylim(0, losses.max() * 1.05)
    ax.legend(loc="upper right")
    return line, marker


def new_figure(fig):
    import matplotlib.pyplot as plt

    return fig if fig is not None else plt.figure(figsize=(11, 4.5), layout="constrained")


def surface_box(theta_min, H, excess, path):
    """Grid limits: the loss ellipse through the start, and the whole path."""
    # The level set 1/2 d^T H d = excess reaches sqrt(2 excess (H^-1)_ii) along axis i.
    reach = np.sqrt(2.0 * max(excess, 1e-12) * np.diag(np.linalg.pinv(H)))    # (2,)
    lo = np.minimum(theta_min - 1.2 * reach, path.min(axis=0))
    hi = np.maximum(theta_min + 1.2 * reach, path.max(axis=0))
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def surface_levels(Z, L_min, n_levels=15, depth=1e-3):
    """Contour levels: ``L_min``, then log-spaced in the excess loss ``L - L_min``.

    From ``depth`` times the largest excess on the grid up to it, so the bands
    near the minimum, where gradient descent ends, are as distinct as those
    far away.
    """
    top = max(float(Z.max()) - L_min, 1e-300)
    return np.r_[L_min, L_min + np.geomspace(depth * top, top, n_levels)]


def draw_surface(ax, M, B, Z, L_min, path, theta_min):
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import FixedLocator, FuncFormatter

    levels = surface_levels(Z, L_min)
    norm = BoundaryNorm(levels, 256)                 # one distinct colour per band
    filled = ax.contourf(M, B, Z, levels=levels, cmap="viridis", norm=norm, alpha=0.9)
    ax.contour(M, B, Z, levels=levels[1:], colors="white", linewidths=0.4, alpha=0.6)
    bar = ax.figure.colorbar(filled, ax=ax, spacing="uniform",
                             label="Loss (half-MSE); levels log-spaced above the minimum")
    bar.locator = FixedLocator(levels[::2])
    bar.formatter = FuncFormatter(lambda v, _: f"{v:.3g}" if abs(v) < 1e3 else f"{v:,.0f}")
    bar.update_ticks()
    ax.annotate("", xy=theta_min, xytext=path[0], gid="newton_step", zorder=4,
                arrowprops={"arrowstyle": "-|>", "color": "C3", "lw": 2, "shrinkA": 5,
                            "shrinkB": 8, "mutation_scale": 16,
                            "connectionstyle": "arc3,rad=-0.35"})
    ax.plot([], [], color="C3", lw=2, label="one Newton step (jump)")   # legend entry
    ax.plot(path[:, 0], path[:, 1], "o-", color="C1", ms=3, lw=1.2, gid="gd_path",
            label=f"gradient descent ({len(path) - 1} epochs)", zorder=3)
    ax.plot(*path[0], "ks", ms=7, label="start (0, 0)", zorder=4)
    ax.plot(*theta_min, "*", color="C3", mec="white", ms=15, label="minimum", zorder=4)
    ax.set_xlabel("m (slope)")
    ax.set_ylabel("b (intercept)")
    ax.set_title("Loss surface over (m, b)")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)


ACT_NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "linear": "linear"}


def split_target(model):
    """``(regressor_, transformer_)`` of a fitted TransformedTargetRegressor.

    ``(model, None)`` for anything else.
    """
    if isinstance(model, TransformedTargetRegressor) and hasattr(model, "transformer_"):
        return model.regressor_, model.transformer_
    return model, None


def hidden_net(model):
    """The network inside a TransformedTargetRegressor and/or a Pipeline."""
    return final_step(split_target(model)[0])


def affine_back(transformer, C, c):
    """Map contributions ``C`` (p, h) and bias ``c`` back through an affine target transform.

    With ``inverse_transform(t) = a + s t`` the prediction ``a + s (C.sum(1) + c)``
    splits as ``(s C).sum(1) + (a + s c)``; any other transform raises.
    """
    def inv(t):
        t = np.reshape(np.asarray(t, dtype=np.float64), (-1, 1))        # (p, 1)
        return np.asarray(transformer.inverse_transform(t), dtype=np.float64).ravel()

    a = inv([0.0])[0]
    s = inv([1.0])[0] - a
    total = C.sum(axis=1) + c                                         # (p,)
    back = inv(total)
    if not np.allclose(back, a + s * total, rtol=1e-7, atol=1e-9 * (np.abs(back).max() + 1)):
        raise ValueError("plot_hidden_units needs an affine target transform (e.g. "
                         "StandardScaler) for the units to add up on the target's scale; "
                         f"{type(transformer).__name__} is not affine.")
    return C * s, float(a + s * c)


def unit_contributions(net, grid):
    """``(C, b2)``: unit ``i``'s contribution ``W2[i] * act(W1[0, i] x + b1[i])``.

    ``C`` has shape (n_points, h); ``C.sum(1) + b2`` is the prediction. Through a
    TransformedTargetRegressor both are mapped back to the target's own scale.
    """
    reg, target = split_target(net)
    final = final_step(reg)
    W1, W2 = final.coefs_
    b1, b2 = final.intercepts_
    if W1.shape[0] != 1 or W2.shape[1] != 1:
        raise ValueError("plot_hidden_units needs a one-input, one-output network; got "
                         f"W1 {W1.shape}, W2 {W2.shape}.")
    Xt = reg[:-1].transform(grid) if isinstance(reg, Pipeline) else grid
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    _, (_, H) = kernels.forward_prop(np.asarray(Xt, dtype=W1.dtype), params,
                                     final.activation)                # H: (p, h)
    C, c = H * W2[:, 0], float(b2[0])                                 # (p, h)
    return (C, c) if target is None else affine_back(target, C, c)


def quadratic_loss(X, y, alpha):
    r"""The one-feature linear-regression loss, exactly, as a quadratic around 0.

    Returns ``(L0, g, H, theta_min, L_min)`` with :math:`L(\theta) = L_0 +
    g^\top\theta + \tfrac12\theta^\top H\theta` for :math:`\theta = (m, b)`,
    from :func:`numpynn.kernels.compute_loss`, ``gradient`` and ``hessian``
    at :math:`\theta_0 = 0`; ``theta_min`` is where one Newton step
    (:func:`numpynn.optimizers.newton`) from 0 lands, ``L_min`` its loss.
    """
    p0 = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    y0, cache = kernels.forward_prop(X, p0, "linear")
    L0 = kernels.compute_loss(y, y0, params=p0, alpha=alpha)
    grads = kernels.gradient(p0, cache, y, y0, "linear", alpha=alpha)
    g = np.array([grads["W1"][0, 0], grads["b1"][0]])                # (2,)
    H = kernels.hessian(X, alpha=alpha)                               # (2, 2)
    newton(H).step(p0, grads, None)                                   # p0 now at the minimum
    theta_min = np.array([p0["W1"][0, 0], p0["b1"][0]])              # (2,)
    L_min = L0 + g @ theta_min + 0.5 * theta_min @ H @ theta_min
    return L0, g, H, theta_min, L_min


def loss_grid(L0, g, H, lo, hi, n_grid):
    """``(M, B, Z)``: the quadratic of :func:`quadratic_loss` on an n_grid^2 mesh."""
    M, B = np.meshgrid(np.linspace(lo[0], hi[0], n_grid), np.linspace(lo[1], hi[1], n_grid))
    D = np.stack([M.ravel(), B.ravel()], axis=1)                      # (G, 2) = theta - 0
    Z = L0 + D @ g + 0.5 * np.einsum("gi,ij,gj->g", D, H, D)          # (G,)
    return M, B, Z.reshape(M.shape)


#: How each band of :func:`numpynn.plotting.plot_fit` is shaded.
BAND_STYLE = {"prediction": {"color": "C3", "alpha": 0.12, "lw": 0},
              "confidence": {"color": "C3", "alpha": 0.30, "lw": 0}}
_INTERVALS = {None: (), "confidence": ("confidence",), "prediction": ("prediction",),
              "both": ("prediction", "confidence")}


def band_kinds(interval, estimator, one_feature, alpha):
    """``(kinds, df_resid)``: the bands ``plot_fit(interval=...)`` asks for, checked
    before any drawing, and the residual degrees of freedom of their t quantile."""
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be None, 'confidence', 'prediction' or 'both'; "
                         f"got {interval!r}.")
    kinds = _INTERVALS[interval]
    if kinds and not one_feature:
        raise ValueError("Confidence and prediction bands are drawn for one feature; "
                         "X has several.")
    if kinds and not hasattr(estimator, "predict_interval"):
        raise ValueError("Bands need a LinearRegressor fitted with solver='lstsq' or "
                         f"'newton' (its inference); got {type(estimator).__name__}.")
    # the summary raises if this fit has no inference
    return kinds, (estimator.summary(alpha=alpha).df_resid if kinds else None)


def bands(estimator, grid, kinds, df_resid, alpha):
    """``{kind: (lower, upper)}`` over ``grid`` for a LinearRegressor with inference."""
    from scipy import stats

    out = {}
    if "prediction" in kinds:
        out["prediction"] = estimator.predict_interval(grid, alpha=alpha)
    if "confidence" in kinds:
        y_hat, se = estimator.predict(grid, return_std=True)
        t = stats.t.ppf(1 - alpha / 2, df_resid)
        out["confidence"] = (y_hat - t * se, y_hat + t * se)
    return out
