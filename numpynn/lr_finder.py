r"""The learning-rate range test (Smith, 2017; popularised by fastai's ``lr_find``).

Train a copy of the model for one short run in which the learning rate
grows geometrically from batch to batch, from ``min_lr`` to ``max_lr``, and
record the loss after every update. While the rate is too small the loss
barely moves; then it falls; past the largest rate the problem tolerates it
shoots up, and the run stops. The curve says where useful rates lie, at the
cost of a few epochs.

Only the estimators' public API is used: a :func:`sklearn.base.clone` of
the estimator takes one step per batch, through ``partial_fit`` (which keeps
the optimizer's state, such as Adam's moments, from call to call, and reads
``learning_rate`` afresh at every call) or, for the stateless gradient
descent of :class:`~numpynn.LinearRegressor`, a ``warm_start`` fit of one
epoch; ``loss_curve_[-1]`` is the batch's loss before that step. The
estimator passed in is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils.validation import check_X_y

from ._fitting import resolve_batch_size
from ._linear import fixed_epochs_quietly
from .estimators import LinearRegressor, TwoLayerNet

__all__ = ["lr_find", "LRFinderResult"]


@dataclass(frozen=True, eq=False)
class LRFinderResult:
    """What :func:`numpynn.lr_find` measured.

    Parameters
    ----------
    rates : ndarray of shape (n_steps,)
        The learning rate of each step, increasing geometrically.
    losses : ndarray of shape (n_steps,)
        ``losses[i]``: the exponential moving average, with bias correction,
        of the batch losses measured right after the steps at ``rates[:i + 1]``.
    raw_losses : ndarray of shape (n_steps,)
        The batch losses themselves: ``raw_losses[i]`` is the loss of the
        next batch after the step at ``rates[i]``.
    suggestion : float
        The suggested learning rate (see :func:`numpynn.lr_find`).
    stopped_early : bool
        Whether the run stopped because the loss diverged, before ``max_lr``.

    Examples
    --------
    >>> r = LRFinderResult(np.array([0.1, 1.0]), np.array([2.0, 1.0]),
    ...                    np.array([2.0, 0.5]), 0.1, False)
    >>> r.suggestion
    0.1
    """

    rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    stopped_early: bool


def _check_args(min_lr, max_lr, num, smooth, diverge_factor):
    finite = all(np.isfinite(v) for v in (min_lr, max_lr, smooth, diverge_factor))
    if not (finite and 0 < min_lr < max_lr):
        raise ValueError(f"lr_find needs 0 < min_lr < max_lr (finite); got min_lr={min_lr}, "
                         f"max_lr={max_lr}.")
    if isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, np.integer)) \
            or num < 2:
        raise ValueError(f"lr_find needs an integer num >= 2; got num={num!r}.")
    if not 0 < smooth <= 1:
        raise ValueError(f"lr_find needs 0 < smooth <= 1; got smooth={smooth}.")
    if not diverge_factor > 1:
        raise ValueError(f"lr_find needs diverge_factor > 1; got {diverge_factor}.")


def _stepper(estimator):
    """``(model, step)``: a clone and ``step(model, X, y, sw, rate) -> loss before the step``."""
    if isinstance(estimator, TwoLayerNet):
        model = clone(estimator).set_params(batch_size=None, verbose=False, callbacks=None)

        def step(model, X, y, sw, rate):
            model.set_params(learning_rate=rate).partial_fit(X, y, sample_weight=sw)
            return model.loss_curve_[-1]

        return model, step
    if isinstance(estimator, LinearRegressor):
        if estimator.solver != "gd":
            raise ValueError(f"lr_find needs LinearRegressor(solver='gd'); solver="
                             f"{estimator.solver!r} has no learning rate.")
        model = clone(estimator).set_params(batch_size=None, max_iter=1, tol=None,
                                            warm_start=True, early_stopping=False,
                                            verbose=False, callbacks=None)

        def step(model, X, y, sw, rate):
            # one epoch of a range test is far from the minimum by design: the
            # "tol=None ran all epochs ... above its minimum" warning is not for it
            with fixed_epochs_quietly():
                model.set_params(learning_rate=rate).fit(X, y, sample_weight=sw)
            return model.loss_curve_[-1]

        return model, step
    raise TypeError("lr_find works with numpynn's TwoLayerNet and LinearRegressor(solver="
                    f"'gd'); got {type(estimator).__name__}.")


def _batches(n, batch_size, rng):
    """Index arrays of ``batch_size`` rows, in a new random order every epoch, forever.

    The last, smaller batch of an epoch is skipped (its loss would be noisier).
    """
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield np.sort(order[start:start + batch_size])


def _suggest(rates, losses, min_lr):
    """One tenth of the rate at the minimum of the smoothed loss, at least ``min_lr``."""
    return float(max(min_lr, rates[int(np.argmin(losses))] / 10.0))


def lr_find(estimator, X, y, *, sample_weight=None, min_lr=1e-6, max_lr=10.0, num=100,
            smooth=0.05, diverge_factor=4.0):
    r"""Run the learning-rate range test on a copy of ``estimator``.

    A clone of ``estimator`` takes ``num`` steps, one per mini-batch of the
    estimator's ``batch_size`` rows (batches drawn at random, epoch after
    epoch), at the rates ``np.geomspace(min_lr, max_lr, num)``. After each
    step the loss of the next batch is recorded (so ``losses[i]`` shows the
    effect of ``rates[i]``) and smoothed by an exponential moving average
    with weight ``smooth`` on the newest loss, bias-corrected as in Adam:

    .. math:: a_i = (1 - s)\, a_{i-1} + s\, \ell_i, \qquad
              \bar\ell_i = a_i / (1 - (1 - s)^{i+1}) .

    The run stops when :math:`\bar\ell_i` exceeds ``diverge_factor`` times
    its minimum so far, or the estimator reports divergence.

    The suggestion is one tenth of the rate at the minimum of the smoothed
    loss (clipped to ``min_lr``), fastai's ``lr_min`` rule. The minimum
    lies past the point where training becomes unstable: the moving
    average lags, and once the loss has converged an unstable direction
    grows from a tiny error, so the rise shows late. For gradient descent
    on linear regression (stable below :math:`2/\lambda_{\max}`) the
    minimum lies 5 to 7 times above that bound full batch, 1.2 to 1.6
    times with batches of 32; a tenth of it stays below the bound (tested)
    and, unlike the steepest slope of the curve, does not depend on
    differentiating a noisy loss. It is a safe rate rather than the
    fastest: see docs/benchmarks.md.

    Parameters
    ----------
    estimator : TwoLayerNet or LinearRegressor
        Any optimizer of :class:`~numpynn.TwoLayerNet`;
        :class:`~numpynn.LinearRegressor` with ``solver="gd"``. Not changed;
        its ``random_state`` seeds the clone's initial weights and the batch
        order, so a fixed seed gives the same result every time.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    min_lr, max_lr : float, default=1e-6, 10.0
        The first and last rate.
    num : int, default=100
        Steps (rates) at most.
    smooth : float, default=0.05
        Weight of the newest loss in the moving average (1: no smoothing).
    diverge_factor : float, default=4.0
        Stop once the smoothed loss exceeds this multiple of its minimum.

    Returns
    -------
    result : LRFinderResult
        ``rates``, ``losses`` (smoothed), ``raw_losses``, ``suggestion`` and
        ``stopped_early``; draw it with :func:`numpynn.plotting.plot_lr_find`.

    Raises
    ------
    TypeError
        For an estimator other than these two.
    ValueError
        For ``LinearRegressor`` with another solver, or invalid arguments.

    Examples
    --------
    Linear regression by full-batch gradient descent diverges above
    :math:`2/\lambda_{\max}`, here about 1.81:

    >>> from numpynn import LinearRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=200)
    >>> result = lr_find(LinearRegressor(random_state=0), X, y, max_lr=100.0)
    >>> bool(np.all(np.diff(result.rates) > 0)), result.stopped_early, len(result.rates)
    (True, True, 89)
    >>> round(result.suggestion, 3)
    0.89
    """
    _check_args(min_lr, max_lr, num, smooth, diverge_factor)
    model, step = _stepper(estimator)
    X, y = check_X_y(X, y, accept_sparse=("csr", "csc"), multi_output=True, y_numeric=True,
                     dtype=(np.float64, np.float32))
    X = X.tocsr() if sp.issparse(X) else X
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    params = estimator.get_params()
    rng = np.random.default_rng(params["random_state"])
    batches = _batches(X.shape[0], resolve_batch_size(params["batch_size"], X.shape[0]), rng)
    rates = np.geomspace(min_lr, max_lr, int(num))
    raw, smoothed, stopped = _run(model, step, X, y, sw, rates, batches, smooth,
                                  diverge_factor)
    if not raw:
        raise ValueError(f"lr_find: training diverged at the first rates ({rates[0]:.3g}, "
                         f"{rates[1]:.3g}): use a smaller min_lr, or scale the features.")
    rates = rates[:len(raw)]
    return LRFinderResult(rates, np.array(smoothed), np.array(raw),
                          _suggest(rates, smoothed, min_lr), stopped)


def _run(model, step, X, y, sw, rates, batches, smooth, diverge_factor):
    """The steps: ``(raw losses, smoothed losses, stopped early)``, one loss per rate run.

    Step ``j`` updates at ``rates[j]`` and reports the loss of its batch
    before that update, which is the loss after step ``j - 1``; one last
    step at the smallest rate reads the loss after the last rate.
    """
    raw, smoothed, avg = [], [], 0.0
    for j in range(len(rates) + 1):
        idx = next(batches)
        try:
            loss = step(model, X[idx], y[idx], None if sw is None else sw[idx],
                        rates[j] if j < len(rates) else rates[0])
        except ValueError as exc:
            if j == 0:                          # bad data or settings, or divergence
                raise ValueError(f"lr_find could not take its first step at the rate "
                                 f"{rates[0]:.3g}: {exc} If training diverged, use a "
                                 "smaller min_lr.") from exc
            return raw, smoothed, True          # the estimator reports divergence
        if j == 0:
            continue                            # the initial loss: no rate yet
        if not np.isfinite(loss):
            return raw, smoothed, True
        avg = (1.0 - smooth) * avg + smooth * loss
        raw.append(float(loss))
        smoothed.append(avg / (1.0 - (1.0 - smooth) ** len(raw)))
        if smoothed[-1] > diverge_factor * min(smoothed):
            return raw, smoothed, True
    return raw, smoothed, False
