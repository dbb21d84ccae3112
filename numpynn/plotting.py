r"""Learning made visible: matplotlib pictures of numpynn models.

Overview
--------
=========================  ===============================================
:func:`plot_fit`           the data and the model (line / curve for one
                           feature, predicted vs actual for several)
:func:`plot_loss_curve`    training (and validation) loss per epoch
:func:`plot_training`      the tutorial's figure: fit and loss side by side
:func:`animate_training`   the same, epoch by epoch, as an Animation
                           (``anim.save("learning.gif", writer="pillow")``)
:func:`save_training_gif`  those frames straight to a GIF, drawn once each
:func:`plot_loss_surface`  one-feature linear regression: loss contours
                           over :math:`(m, b)`, the gradient-descent path
                           and the single Newton step
:func:`plot_hidden_units`  one-input :class:`~numpynn.TwoLayerNet`: every
                           hidden unit's contribution
                           :math:`n_i\,\sigma(m_i x + b_i)` and their sum
=========================  ===============================================

Conventions: functions that draw one Axes take ``ax=None`` (a new figure
when None) and return the Axes; the others return the Figure or the
Animation. Nothing here calls ``plt.show()`` or ``savefig``, and pyplot is
imported inside each function, so ``import numpynn`` never loads
matplotlib and any backend works (the ``numpynn demo`` CLI uses Agg).
Epochs are counted from 0 as in ``loss_curve_``: ``loss_curve_[k]`` is the
loss at the start of epoch ``k``, i.e. after ``k`` updates. Functions that
need the path of training (:func:`animate_training`,
:func:`plot_loss_surface`) fit a :func:`sklearn.base.clone` of the
estimator with a recording callback appended (and ``verbose=False``); the
estimator passed in is left untouched. A :class:`~sklearn.pipeline.Pipeline`
whose last step is the model is accepted wherever the model is.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from . import kernels
from .optimizers import newton

__all__ = ["plot_fit", "plot_loss_curve", "plot_training", "animate_training",
           "save_training_gif", "plot_loss_surface", "plot_hidden_units"]


# -- helpers -----------------------------------------------------------------
def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    return ax


def _final(model):
    """The estimator at the end of a Pipeline (the model itself otherwise)."""
    return model[-1] if isinstance(model, Pipeline) else model


def _name(model):
    return type(_final(model)).__name__


def _feature_name(X, default="x"):
    cols = getattr(X, "columns", None)
    return str(cols[0]) if cols is not None else default


def _one_feature(X):
    X = np.asarray(X)
    return X.ndim == 1 or X.shape[1] == 1


def _x_grid(X, n_points):
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


def _predict_1d(estimator, X):
    """``estimator.predict(X)`` as float64 of shape (n,); one output only."""
    pred = np.asarray(estimator.predict(X), dtype=np.float64)
    if pred.ndim == 2 and pred.shape[1] != 1:
        raise ValueError(f"plotting needs a one-output model; predict gives {pred.shape}.")
    return pred.ravel()


def _live_predict(model, final, X):
    """``model.predict(X)`` from inside a callback on ``final`` (its last step)."""
    if isinstance(model, Pipeline):
        X = model[:-1].transform(X)
    return _predict_1d(final, X)


def _fit_recording(estimator, X, y, record):
    """Fit a clone, calling ``record(clone, final_step)`` after every epoch.

    Returns ``(fitted_clone, logs, records)``: one ``logs`` dict (``epoch``,
    ``loss``, ...) and one record per epoch.
    """
    model = clone(estimator)
    final = _final(model)
    logs_seen, records = [], []

    def recorder(est, logs):
        logs_seen.append(logs)
        records.append(record(model, est))

    final.set_params(callbacks=list(final.callbacks or []) + [recorder], verbose=False)
    model.fit(X, y)
    return model, logs_seen, records


# -- fit and loss --------------------------------------------------------------
def plot_fit(estimator, X, y, ax=None, *, n_points=200):
    """Draw the data and the fitted model.

    With one feature: the data as a scatter and ``estimator.predict`` as a
    line (a curve for a network) over the data's range. With several
    features: predicted against actual targets, with the identity line.

    Parameters
    ----------
    estimator : fitted regressor (or Pipeline) with one output
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    n_points : int, default=200
        Points on the model's line (one feature).

    Returns
    -------
    ax : matplotlib Axes
        The model is the last line (label: the estimator's class name).

    Examples
    --------
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> ax = plot_fit(LinearRegressor(solver="lstsq").fit(X, y), X, y)
    >>> ax.get_lines()[-1].get_ydata()[[0, -1]].round(6)
    array([1., 5.])
    """
    ax = _axes(ax)
    y = np.asarray(y, dtype=np.float64).ravel()
    if _one_feature(X):
        x = np.asarray(X, dtype=np.float64).ravel()
        grid = _x_grid(X, n_points)
        ax.scatter(x, y, s=18, alpha=0.7, label="data")
        ax.plot(np.asarray(grid)[:, 0], _predict_1d(estimator, grid), color="C3", lw=2,
                label=_name(estimator))
        ax.set_xlabel(_feature_name(X))
        ax.set_ylabel("y")
    else:
        pred = _predict_1d(estimator, X)
        lo, hi = min(y.min(), pred.min()), max(y.max(), pred.max())
        ax.scatter(y, pred, s=18, alpha=0.7, label="samples")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity (perfect fit)")
        ax.set_xlabel("actual y")
        ax.set_ylabel(f"predicted y ({_name(estimator)})")
    ax.set_title("Model fit")
    ax.legend(loc="best")
    return ax


def plot_loss_curve(estimator_or_losses, ax=None, log=False):
    """Draw the training loss per epoch, and the validation loss when recorded.

    Parameters
    ----------
    estimator_or_losses : fitted estimator (or Pipeline) or sequence of float
        An estimator's ``loss_curve_`` (and ``validation_loss_curve_`` with
        ``early_stopping``), or the losses themselves.
    ax : matplotlib Axes, default=None
    log : bool, default=False
        Logarithmic loss axis.

    Returns
    -------
    ax : matplotlib Axes
        The first line is the training loss: x = epochs 0, 1, ..., y =
        ``loss_curve_``.

    Examples
    --------
    >>> ax = plot_loss_curve([4.0, 2.0, 1.0])
    >>> ax.get_lines()[0].get_ydata().tolist(), ax.get_xlabel()
    ([4.0, 2.0, 1.0], 'Epoch')
    """
    ax = _axes(ax)
    final = _final(estimator_or_losses)
    if hasattr(final, "get_params"):
        if not hasattr(final, "loss_curve_"):
            raise ValueError(f"{type(final).__name__} has no loss_curve_: fit it first.")
        losses = final.loss_curve_
        val = getattr(final, "validation_loss_curve_", None)
    else:
        losses, val = estimator_or_losses, None
    losses = np.asarray(losses, dtype=np.float64)
    marker = "o" if len(losses) <= 100 else None
    ax.plot(np.arange(len(losses)), losses, marker=marker, ms=3, label="training loss")
    if val:
        ax.plot(np.arange(len(val)), val, marker=marker, ms=3, label="validation loss")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Loss (half-MSE)")
    ax.set_title("Loss")
    ax.legend(loc="best")
    return ax


def plot_training(estimator, X, y, *, log=False):
    """The tutorial's figure: the fit and the loss curve side by side.

    Parameters
    ----------
    estimator : fitted regressor (or Pipeline) with ``loss_curve_``
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    log : bool, default=False
        Logarithmic loss axis.

    Returns
    -------
    fig : matplotlib Figure
        Two Axes: :func:`plot_fit` and :func:`plot_loss_curve`.

    Examples
    --------
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> fig = plot_training(LinearRegressor(max_iter=20, tol=None).fit(X, y), X, y)
    >>> [ax.get_title() for ax in fig.axes]
    ['Model fit', 'Loss']
    """
    import matplotlib.pyplot as plt

    fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
    plot_fit(estimator, X, y, ax=ax_fit)
    plot_loss_curve(estimator, ax=ax_loss, log=log)
    return fig


# -- learning, epoch by epoch ---------------------------------------------------
def _fit_panel(ax, X, y, grid, preds, name):
    """Static part of the animation's fit panel; returns ``(draw(i), artist)``."""
    y = np.asarray(y, dtype=np.float64).ravel()
    span = np.ptp(y) or 1.0
    lo = max(min(y.min(), preds[-1].min()), y.min() - span)
    hi = min(max(y.max(), preds[-1].max()), y.max() + span)
    if grid is not None:
        ax.scatter(np.asarray(X, dtype=np.float64).ravel(), y, s=18, alpha=0.7, label="data")
        (line,) = ax.plot(np.asarray(grid)[:, 0], preds[0], color="C3", lw=2, label=name)
        ax.set_xlabel(_feature_name(X))
        ax.set_ylabel("y")
        ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
        return (lambda i: line.set_ydata(preds[i])), line
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity (perfect fit)")
    dots = ax.scatter(y, preds[0], s=18, alpha=0.7, label="samples")
    ax.set_xlabel("actual y")
    ax.set_ylabel(f"predicted y ({name})")
    ax.set_ylim(lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
    return (lambda i: dots.set_offsets(np.column_stack([y, preds[i]]))), dots


def _learning_frames(estimator, X, y, fig, n_points, log):
    """Fit a recording clone, lay out ``fig``; return ``(update, n_frames)``.

    ``update(i)`` draws frame ``i`` and returns the artists it changed.
    """
    grid = _x_grid(X, n_points) if _one_feature(X) else None
    at = grid if grid is not None else X
    _, logs, preds = _fit_recording(estimator, X, y, lambda m, est: _live_predict(m, est, at))
    if not preds:
        raise ValueError(f"{_name(estimator)} recorded no epochs to animate; use an "
                         "iterative solver (e.g. solver='gd').")
    losses = np.array([lg["loss"] for lg in logs])                    # (E,)
    preds, n_epochs, name = np.array(preds), len(losses), _name(estimator)
    ax_fit, ax_loss = fig.subplots(1, 2)
    draw_fit, fit_artist = _fit_panel(ax_fit, X, y, grid, preds, name)
    ax_fit.set_title("Model fit")
    ax_fit.legend(loc="upper left")
    (loss_line,) = ax_loss.plot([], [], marker="o" if n_epochs <= 100 else None, ms=3,
                                label="training loss")
    pad = max(0.5, 0.02 * n_epochs)
    ax_loss.set(xlim=(-pad, max(n_epochs - 1, 1) + pad), xlabel="Epoch",
                ylabel="Loss (half-MSE)", title="Loss")
    if log:
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(losses.min() / 1.5, losses.max() * 1.5)
    else:
        ax_loss.set_ylim(0, losses.max() * 1.05)
    ax_loss.legend(loc="upper right")
    title = fig.suptitle("")

    def update(i):
        draw_fit(i)
        loss_line.set_data(np.arange(i + 1), losses[:i + 1])
        title.set_text(f"{name} learning: epoch {i} of {n_epochs - 1}, "
                       f"loss {losses[i]:.4g}")
        return fit_artist, loss_line, title

    update(n_epochs - 1)                       # lay out for the widest state, once:
    if fig.get_layout_engine() is not None:    # frames then only redraw
        fig.get_layout_engine().execute(fig)
        fig.set_layout_engine("none")
    update(0)
    return update, n_epochs


def _new_figure(fig):
    import matplotlib.pyplot as plt

    return fig if fig is not None else plt.figure(figsize=(11, 4.5), layout="constrained")


def animate_training(estimator, X, y, *, fig=None, n_points=100, interval=100, log=False):
    """Fit a clone and animate it learning: the line moves beside the loss curve.

    A :func:`sklearn.base.clone` of ``estimator`` is fitted with a callback
    that records its predictions after every epoch. Frame ``i`` (one per
    epoch, no intro frame) shows the model after epoch ``i``'s update beside
    ``loss_curve_[:i + 1]`` (each loss is measured at the start of its
    epoch), so the last frame is :func:`plot_training`'s picture.

    Parameters
    ----------
    estimator : unfitted or fitted regressor (or Pipeline) with ``callbacks``
        Must train by epochs (``solver="lstsq"`` records none).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    fig : matplotlib Figure, default=None
        Figure to draw into (two Axes are added); a new 11 x 4.5 in figure
        when None. Pass your own to control its size and close it later.
    n_points : int, default=100
        Points on the model's line (one feature).
    interval : int, default=100
        Milliseconds per frame.
    log : bool, default=False
        Logarithmic loss axis.

    Returns
    -------
    anim : matplotlib.animation.FuncAnimation
        ``n_iter_`` frames. Save with the Pillow writer (no ffmpeg needed):
        ``anim.save("learning.gif", writer="pillow")``, or write the same
        frames faster with :func:`save_training_gif`.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> anim = animate_training(LinearRegressor(max_iter=5, tol=None), X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     anim.save(os.path.join(tmp, "a.gif"), writer="pillow", dpi=40)
    ...     Image.open(os.path.join(tmp, "a.gif")).n_frames
    5
    """
    from matplotlib.animation import FuncAnimation

    fig = _new_figure(fig)
    update, n_frames = _learning_frames(estimator, X, y, fig, n_points, log)
    return FuncAnimation(fig, update, frames=n_frames, interval=interval, repeat=False)


def save_training_gif(estimator, X, y, path, *, fig=None, fps=10, dpi=72, n_points=100,
                      log=False):
    """Write :func:`animate_training`'s frames to a GIF, one draw per frame.

    Gives the frames of ``animate_training(...).save(path, writer="pillow")``
    (Pillow only, no ffmpeg) at a fraction of the cost: the static parts
    (axes, data, legend) are drawn once and each frame redraws only the
    moving line, the loss curve and the title (blitting), where matplotlib's
    movie writer redraws the whole figure several times per frame.

    Parameters
    ----------
    estimator, X, y, fig, n_points, log
        As for :func:`animate_training`.
    path : str or path-like
        The ``.gif`` to write.
    fps : float, default=10
        Frames per second.
    dpi : float, default=72
        Resolution of the frames.

    Returns
    -------
    n_frames : int
        One per recorded epoch (``n_iter_``).

    Examples
    --------
    >>> import os, tempfile
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_training_gif(LinearRegressor(max_iter=4, tol=None), X, y,
    ...                       os.path.join(tmp, "a.gif"), dpi=40)
    4
    """
    from PIL import Image

    fig = _new_figure(fig)
    update, n_frames = _learning_frames(estimator, X, y, fig, n_points, log)
    fig.set_dpi(dpi)
    moving = update(0)
    for artist in moving:
        artist.set_animated(True)              # left out of the background
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for i in range(n_frames):
        canvas.restore_region(background)
        for artist in update(i):
            fig.draw_artist(artist)
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))
    frames[0].save(path, save_all=True, append_images=frames[1:], loop=0,
                   duration=round(1000 / fps))
    return n_frames


# -- the loss surface of one-feature linear regression ----------------------------
def _surface_box(theta_min, H, excess, path):
    """Grid limits: the loss ellipse through the start, and the whole path."""
    # The level set 1/2 d^T H d = excess reaches sqrt(2 excess (H^-1)_ii) along axis i.
    reach = np.sqrt(2.0 * max(excess, 1e-12) * np.diag(np.linalg.pinv(H)))    # (2,)
    lo = np.minimum(theta_min - 1.2 * reach, path.min(axis=0))
    hi = np.maximum(theta_min + 1.2 * reach, path.max(axis=0))
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def plot_loss_surface(estimator, X, y, ax=None, *, n_grid=150):
    r"""Loss contours over :math:`(m, b)` with gradient descent's path and Newton's step.

    For one-feature linear regression :math:`\hat y = m x + b` the loss
    (half-MSE plus the ridge term if ``alpha > 0``) is exactly quadratic,

    .. math:: L(\theta) = L(\theta_0) + \nabla L(\theta_0)^\top\Delta
              + \tfrac12 \Delta^\top \mathcal H \Delta,
              \qquad \Delta = \theta - \theta_0 ,

    so the whole grid is evaluated at once from :func:`numpynn.kernels.compute_loss`,
    :func:`numpynn.kernels.gradient` and :func:`numpynn.kernels.hessian` at the
    start :math:`\theta_0 = (0, 0)`. A clone of ``estimator`` is fitted from
    :math:`\theta_0` while a callback records :math:`(m, b)` after every
    epoch; the path is :math:`\theta_0` followed by those points. The single
    Newton step :math:`\theta_0 - \mathcal H^{-1}\nabla L(\theta_0)`
    (:func:`numpynn.optimizers.newton`) lands on the minimum.

    Parameters
    ----------
    estimator : LinearRegressor
        Unfitted or fitted; its hyperparameters (``learning_rate``,
        ``max_iter``, ``alpha``, ...) define the path. Not modified.
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
    n_grid : int, default=150
        Grid points per axis.

    Returns
    -------
    ax : matplotlib Axes
        The path is the line with ``gid="gd_path"``; the Newton step the
        arrow (an Annotation in ``ax.texts``) with ``gid="newton_step"``
        from ``xyann`` (the start) to ``xy`` (where it lands).

    Examples
    --------
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> ax = plot_loss_surface(LinearRegressor(max_iter=3, tol=None), X, y)
    >>> path = next(ln for ln in ax.get_lines() if ln.get_gid() == "gd_path")
    >>> path.get_xydata().shape  # the start and 3 epochs
    (4, 2)
    >>> step = next(t for t in ax.texts if t.get_gid() == "newton_step")
    >>> np.round(step.xy, 6)  # the least-squares line y = 2x + 1
    array([2., 1.])
    """
    Xa = np.asarray(X, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64).ravel()
    if Xa.ndim != 2 or Xa.shape[1] != 1:
        raise ValueError(f"plot_loss_surface needs one feature; X has shape {Xa.shape}.")
    if isinstance(estimator, Pipeline):
        raise ValueError("plot_loss_surface draws the loss over the model's own (m, b) on "
                         "X as given: pass the LinearRegressor, not a Pipeline.")
    ax = _axes(ax)
    _, _, rec = _fit_recording(estimator, X, y, lambda m, est: (
        float(np.ravel(est.coef_)[0]), float(np.ravel(est.intercept_)[0])))
    path = np.array([(0.0, 0.0)] + rec)                               # (E + 1, 2)
    alpha = float(getattr(_final(estimator), "alpha", 0.0))
    p0 = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    y0, cache = kernels.forward_prop(Xa, p0, "linear")
    L0 = kernels.compute_loss(ya, y0, params=p0, alpha=alpha)
    g = kernels.gradient(p0, cache, ya, y0, "linear", alpha=alpha)
    g = np.array([g["W1"][0, 0], g["b1"][0]])                        # (2,)
    H = kernels.hessian(Xa, alpha=alpha)                              # (2, 2)
    step = {k: v.copy() for k, v in p0.items()}
    newton(H).step(step, {"W1": g[:1].reshape(1, 1), "b1": g[1:]}, None)
    theta_min = np.array([step["W1"][0, 0], step["b1"][0]])          # (2,)
    L_min = L0 + g @ theta_min + 0.5 * theta_min @ H @ theta_min
    lo, hi = _surface_box(theta_min, H, L0 - L_min, path)
    M, B = np.meshgrid(np.linspace(lo[0], hi[0], n_grid), np.linspace(lo[1], hi[1], n_grid))
    D = np.stack([M.ravel(), B.ravel()], axis=1)                      # (G, 2), minus theta0 = 0
    Z = (L0 + D @ g + 0.5 * np.einsum("gi,ij,gj->g", D, H, D)).reshape(M.shape)
    _draw_surface(ax, M, B, Z, L_min, path, theta_min)
    return ax


def _draw_surface(ax, M, B, Z, L_min, path, theta_min):
    from matplotlib.ticker import MaxNLocator

    levels = L_min + (Z.max() - L_min) * np.linspace(0.0, 1.0, 16)[1:] ** 2
    filled = ax.contourf(M, B, Z, levels=np.r_[L_min, levels], cmap="viridis", alpha=0.9)
    ax.contour(M, B, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    bar = ax.figure.colorbar(filled, ax=ax, label="Loss (half-MSE)")
    bar.locator = MaxNLocator(8)
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


# -- hidden units of a one-input network -------------------------------------------
_ACT_NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "linear": "linear"}


def _unit_contributions(net, grid):
    """``(C, b2)``: unit ``i``'s contribution ``W2[i] * act(W1[0, i] x + b1[i])``.

    ``C`` has shape (n_points, h); ``C.sum(1) + b2`` is the prediction.
    """
    final = _final(net)
    W1, W2 = final.coefs_
    b1, b2 = final.intercepts_
    if W1.shape[0] != 1 or W2.shape[1] != 1:
        raise ValueError("plot_hidden_units needs a one-input, one-output network; got "
                         f"W1 {W1.shape}, W2 {W2.shape}.")
    Xt = net[:-1].transform(grid) if isinstance(net, Pipeline) else grid
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    _, (_, H) = kernels.forward_prop(np.asarray(Xt, dtype=W1.dtype), params,
                                     final.activation)                # H: (p, h)
    return H * W2[:, 0], float(b2[0])                                 # (p, h)


def plot_hidden_units(net, X, y, ax=None, *, n_points=300, max_legend=8):
    r"""Each hidden unit's contribution to a one-input network, and their sum.

    The talk's network :math:`f(x) = \sum_i n_i\,\sigma(m_i x + b_i) + c`:
    unit :math:`i` contributes ``W2[i] * act(W1[0, i] * x + b1[i])``; the
    contributions plus the output bias :math:`c` = ``b2`` add up to
    ``net.predict``. With ReLU each unit is a hinge, zero on one side of
    its kink :math:`x = -b_i/m_i`.

    Parameters
    ----------
    net : fitted TwoLayerNet, or a Pipeline ending with one
        One input feature, one output. With a Pipeline the units are drawn
        against the raw ``x`` (the earlier steps, e.g. ``StandardScaler``,
        are applied inside).
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
    n_points : int, default=300
        Points per curve.
    max_legend : int, default=8
        Units beyond this many are drawn but not listed in the legend.

    Returns
    -------
    ax : matplotlib Axes
        Lines with ``gid`` ``"unit0"``, ``"unit1"``, ..., ``"bias"`` and
        ``"sum"`` (the prediction), all over the same x values.

    Examples
    --------
    >>> from numpynn import TwoLayerNet
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = np.abs(X).ravel()
    >>> net = TwoLayerNet(hidden_units=2, max_iter=5, tol=None, random_state=0).fit(X, y)
    >>> ax = plot_hidden_units(net, X, y)
    >>> [ln.get_gid() for ln in ax.get_lines()]
    ['unit0', 'unit1', 'bias', 'sum']
    """
    ax = _axes(ax)
    grid = _x_grid(X, n_points)
    C, bias = _unit_contributions(net, grid)
    x = np.asarray(grid, dtype=np.float64)[:, 0]
    act = _final(net).activation
    ax.scatter(np.asarray(X, dtype=np.float64).ravel(), np.asarray(y).ravel(), s=18,
               alpha=0.6, color="0.4", label="data")
    for i in range(C.shape[1]):
        label = (rf"unit {i + 1}: $n_{{{i + 1}}}\,\mathrm{{{act}}}(m_{{{i + 1}}}x"
                 rf" + b_{{{i + 1}}})$" if i < max_legend else "_nolegend_")
        ax.plot(x, C[:, i], "--", lw=1.4, gid=f"unit{i}", label=label)
    ax.plot(x, np.full_like(x, bias), ":", color="0.3", lw=1.4, gid="bias",
            label=f"output bias c = {bias:.3g}")
    ax.plot(x, C.sum(axis=1) + bias, color="k", lw=2.4, gid="sum",
            label="sum = prediction")
    ax.set_xlabel(_feature_name(X))
    ax.set_ylabel("y")
    ax.set_title(f"Hidden units of {_name(net)} ({C.shape[1]} {_ACT_NAMES.get(act, act)} "
                 "units) and their sum")
    ax.legend(loc="best", fontsize="small")
    return ax
