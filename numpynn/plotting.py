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
:func:`plot_lr_find`       the learning-rate range test of
                           :func:`numpynn.lr_find`: loss against rate
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
estimator passed in is left untouched, and the clone's warning that a
``tol=None`` run ended above the loss's minimum is not repeated (the
picture shows where it ended). A :class:`~sklearn.pipeline.Pipeline`
whose last step is the model is accepted wherever the model is.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline

from . import _plotting as _p

__all__ = ["plot_fit", "plot_loss_curve", "plot_training", "animate_training",
           "save_training_gif", "plot_loss_surface", "plot_hidden_units", "plot_lr_find"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    return ax


# -- fit and loss --------------------------------------------------------------
def plot_fit(estimator, X, y, ax=None, *, n_points=200, interval=None, alpha=0.05):
    r"""Draw the data and the fitted model.

    With one feature: the data as a scatter and ``estimator.predict`` as a
    line (a curve for a network) over the data's range, optionally with
    its confidence band (where the mean of ``y`` lies) and prediction band
    (where a new observation falls). With several features: predicted
    against actual targets, with the identity line.

    Parameters
    ----------
    estimator : fitted regressor (or Pipeline) with one output
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    n_points : int, default=200
        Points on the model's line (one feature).
    interval : {None, "confidence", "prediction", "both"}, default=None
        Shade the ``1 - alpha`` confidence band of the mean,
        :math:`\hat y \pm t\,\mathrm{se}(\hat y)` (``predict(X,
        return_std=True)``), and/or the prediction band
        (``predict_interval``). Needs a :class:`~numpynn.LinearRegressor`
        fitted with ``solver="lstsq"`` or ``"newton"``, and one feature.
    alpha : float, default=0.05
        Bands at level ``1 - alpha``.

    Returns
    -------
    ax : matplotlib Axes
        The model is the last line (label: the estimator's class name);
        the bands are ``ax.collections`` after the scatter, with ``gid``
        ``"confidence"`` and ``"prediction"``.

    Raises
    ------
    ValueError
        For an unknown ``interval``, or bands asked of several features or
        of a model without least-squares inference.

    Examples
    --------
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> ax = plot_fit(LinearRegressor(solver="lstsq").fit(X, y), X, y)
    >>> ax.get_lines()[-1].get_ydata()[[0, -1]].round(6)
    array([1., 5.])
    """
    kinds, df_resid = _p.band_kinds(interval, estimator, _p.one_feature(X), alpha)
    ax = _axes(ax)
    y = np.asarray(y, dtype=np.float64).ravel()
    if _p.one_feature(X):
        x = np.asarray(X, dtype=np.float64).ravel()
        grid = _p.x_grid(X, n_points)
        ax.scatter(x, y, s=18, alpha=0.7, label="data")
        for kind, (lower, upper) in _p.bands(estimator, grid, kinds, df_resid, alpha).items():
            ax.fill_between(np.asarray(grid)[:, 0], lower, upper, gid=kind,
                            **_p.BAND_STYLE[kind],
                            label=f"{100 * (1 - alpha):g}% {kind} band")
        ax.plot(np.asarray(grid)[:, 0], _p.predict_1d(estimator, grid), color="C3", lw=2,
                label=_p.model_name(estimator))
        ax.set_xlabel(_p.feature_name(X))
        ax.set_ylabel("y")
    else:
        pred = _p.predict_1d(estimator, X)
        lo, hi = min(y.min(), pred.min()), max(y.max(), pred.max())
        ax.scatter(y, pred, s=18, alpha=0.7, label="samples")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity (perfect fit)")
        ax.set_xlabel("actual y")
        ax.set_ylabel(f"predicted y ({_p.model_name(estimator)})")
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
    final = _p.final_step(estimator_or_losses)
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
def animate_training(estimator, X, y, *, fig=None, n_points=100, interval=100, log=False,
                     hold=2.0):
    """Fit a clone and animate it learning: the line moves beside the loss curve.

    A :func:`sklearn.base.clone` of ``estimator`` is fitted with a callback
    that records its predictions after every epoch. Frame ``k`` draws the
    model *before* epoch ``k``'s update beside ``loss_curve_[:k + 1]``, and
    its title prints ``loss_curve_[k]``, the loss of the line it draws (with
    ``batch_size=None``; with mini-batches ``loss_curve_[k]`` is the mean
    over epoch ``k``'s batches). Frame 0 is the starting point (for
    :class:`~numpynn.LinearRegressor`, :math:`m = b = 0`). One last frame
    draws the trained model, :func:`plot_training`'s picture, and stays
    ``hold`` seconds.

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
    hold : float, default=2.0
        Seconds the last frame (the trained model) stays before the end or
        a loop restarts: it is repeated, and the Pillow writer merges the
        repeats into one long frame.

    Returns
    -------
    anim : matplotlib.animation.FuncAnimation
        ``n_iter_ + 1`` distinct frames. Save with the Pillow writer (no
        ffmpeg needed): ``anim.save("learning.gif", writer="pillow")``, or
        write the same frames faster with :func:`save_training_gif`.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> anim = animate_training(LinearRegressor(max_iter=5, tol=None), X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     anim.save(os.path.join(tmp, "a.gif"), writer="pillow", dpi=40)
    ...     with Image.open(os.path.join(tmp, "a.gif")) as gif:
    ...         gif.n_frames                        # 5 epochs, then the trained model
    6
    """
    from matplotlib.animation import FuncAnimation

    fig = _p.new_figure(fig)
    update, n_frames = _p.learning_frames(estimator, X, y, fig, n_points, log)
    repeats = max(round(1000 * hold / interval) - 1, 0)
    frames = list(range(n_frames)) + [n_frames - 1] * repeats
    return FuncAnimation(fig, update, frames=frames, interval=interval, repeat=False)


def save_training_gif(estimator, X, y, path, *, fig=None, fps=10, dpi=72, n_points=100,
                      log=False, hold=2.0):
    """Write :func:`animate_training`'s frames to a GIF, one draw per frame.

    Gives the frames of ``animate_training(...).save(path, writer="pillow")``
    (Pillow only, no ffmpeg) at a fraction of the cost: the static parts
    (axes, data, legend) are drawn once and each frame redraws only the
    moving line, the loss curve and the title (blitting), where matplotlib's
    movie writer redraws the whole figure several times per frame.

    Parameters
    ----------
    estimator, X, y, fig, n_points, log, hold
        As for :func:`animate_training`; the last frame lasts ``hold``
        seconds (at least one frame's time).
    path : str or path-like
        The ``.gif`` to write.
    fps : float, default=10
        Frames per second.
    dpi : float, default=72
        Resolution of the frames.

    Returns
    -------
    n_frames : int
        ``n_iter_ + 1``: the model before each epoch's update, then the
        trained model.

    Examples
    --------
    >>> import os, tempfile
    >>> from numpynn import LinearRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_training_gif(LinearRegressor(max_iter=4, tol=None), X, y,
    ...                       os.path.join(tmp, "a.gif"), dpi=40)
    5
    """
    from PIL import Image

    fig = _p.new_figure(fig)
    update, n_frames = _p.learning_frames(estimator, X, y, fig, n_points, log)
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
    step = round(1000 / fps)
    durations = [step] * (n_frames - 1) + [max(step, round(1000 * hold))]
    frames[0].save(path, save_all=True, append_images=frames[1:], loop=0,
                   duration=durations)
    return n_frames


# -- the loss surface of one-feature linear regression ----------------------------
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
    _, _, rec = _p.fit_recording(estimator, X, y, lambda m, est: (
        float(np.ravel(est.coef_)[0]), float(np.ravel(est.intercept_)[0])))
    path = np.array([(0.0, 0.0)] + rec)                               # (E + 1, 2)
    alpha = float(getattr(_p.final_step(estimator), "alpha", 0.0))
    L0, g, H, theta_min, L_min = _p.quadratic_loss(Xa, ya, alpha)
    lo, hi = _p.surface_box(theta_min, H, L0 - L_min, path)
    M, B, Z = _p.loss_grid(L0, g, H, lo, hi, n_grid)
    _p.draw_surface(ax, M, B, Z, L_min, path, theta_min)
    return ax


# -- hidden units of a one-input network -------------------------------------------
def plot_hidden_units(net, X, y, ax=None, *, n_points=300, max_legend=8):
    r"""Each hidden unit's contribution to a one-input network, and their sum.

    The talk's network :math:`f(x) = \sum_i n_i\,\sigma(m_i x + b_i) + c`:
    unit :math:`i` contributes ``W2[i] * act(W1[0, i] * x + b1[i])``; the
    contributions plus the output bias :math:`c` = ``b2`` add up to
    ``net.predict``. With ReLU each unit is a hinge, zero on one side of
    its kink :math:`x = -b_i/m_i`.

    Parameters
    ----------
    net : fitted TwoLayerNet, Pipeline ending with one, or TransformedTargetRegressor
        One input feature, one output. With a Pipeline the units are drawn
        against the raw ``x`` (the earlier steps, e.g. ``StandardScaler``,
        are applied inside). With a
        :class:`~sklearn.compose.TransformedTargetRegressor` they are drawn on
        the target's own scale: its transform must be affine (e.g.
        ``StandardScaler``, or counts in other units), so that each unit
        scales and the bias shifts; any other transform raises ValueError.
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
    grid = _p.x_grid(X, n_points)
    C, bias = _p.unit_contributions(net, grid)
    x = np.asarray(grid, dtype=np.float64)[:, 0]
    hidden = _p.hidden_net(net)
    act = hidden.activation
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
    ax.set_xlabel(_p.feature_name(X))
    ax.set_ylabel("y")
    units = f"{C.shape[1]} {_p.ACT_NAMES.get(act, act)} units"
    ax.set_title(f"Hidden units of {type(hidden).__name__} ({units}) and their sum")
    ax.legend(loc="best", fontsize="small")
    return ax


# -- learning-rate range test ----------------------------------------------------
def plot_lr_find(result, ax=None):
    """Draw the smoothed loss of :func:`numpynn.lr_find` against the rate, log axis.

    The suggested rate is marked by a dashed vertical line and a dot on the
    curve (interpolated in log rate).

    Parameters
    ----------
    result : LRFinderResult
        What :func:`numpynn.lr_find` returned.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The first line is ``result.losses`` against ``result.rates``.

    Examples
    --------
    >>> from numpynn.lr_finder import LRFinderResult
    >>> r = LRFinderResult(np.array([1e-3, 1e-2, 1e-1]), np.array([1.0, 0.5, 2.0]),
    ...                    np.array([1.0, 0.4, 3.0]), 1e-3, True)
    >>> ax = plot_lr_find(r)
    >>> ax.get_lines()[0].get_xdata().tolist(), ax.get_xscale()
    ([0.001, 0.01, 0.1], 'log')
    """
    ax = _axes(ax)
    rates, losses = np.asarray(result.rates), np.asarray(result.losses)
    ax.plot(rates, losses, color="C0", label="smoothed batch loss")
    ax.set_xscale("log")
    at = np.interp(np.log(result.suggestion), np.log(rates), losses)
    ax.axvline(result.suggestion, color="C3", ls="--", lw=1,
               label=f"suggestion {result.suggestion:.3g}")
    ax.plot([result.suggestion], [at], "o", color="C3")
    ax.set_xlabel("Learning rate (log scale)")
    ax.set_ylabel("Loss after the step (smoothed)")
    ax.set_title("Learning-rate range test")
    ax.legend(loc="best")
    return ax
