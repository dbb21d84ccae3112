"""The training loop, written once and shared by both estimators.

It knows nothing of kernels, buffers or threads: it calls a ``step``
(see :func:`numpynn._engine.make_step`) once per mini-batch, and owns what
happens between steps: the epochs and the batch order, stopping on ``tol``
or on the validation score, the best parameters, divergence, rolling back
on Ctrl-C, progress and callbacks. It works on the ``params`` and
``opt_state`` it is given (the estimator's copies) and returns them in a
:class:`RunResult`.
"""

from __future__ import annotations

import copy
import sys
from typing import NamedTuple

import numpy as np

from ._warnings import warn

#: A batch loss this many times above the run's reference loss is divergence.
EXPLODE_FACTOR = 1e4


class Diverged(ValueError):
    """Training diverged; the message says where and how."""


class Schedule(NamedTuple):
    """How long and in what order to train."""

    max_iter: int               # epochs at most
    batch_size: int             # rows per batch (n for full batch)
    shuffle: bool               # a new random order every epoch
    tol: float | None           # None: run all epochs
    n_iter_no_change: int       # epochs without improvement before stopping
    extrapolate: bool = False   # also stop when the predicted remaining gain is below tol


class RunResult(NamedTuple):
    """What a run did; ``params`` and ``opt_state`` are where it ended."""

    params: dict
    opt_state: object
    loss_curve: list
    val_loss_curve: list
    val_scores: list
    converged: bool             # stopped by the tol rule
    interrupted: bool           # stopped by Ctrl-C (parameters of the last finished epoch)


def batches(n, batch_size, order):
    """Index slices (``order is None``) or sorted index arrays of a permutation.

    Sorted indices read a memory map sequentially; all full batches are
    sorted in one ``np.sort`` call.

    Examples
    --------
    >>> [b.tolist() for b in batches(5, 2, np.array([4, 0, 3, 1, 2]))]
    [[0, 4], [1, 3], [2]]
    """
    if order is None:
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))
        return
    full = n - n % batch_size
    yield from np.sort(order[:full].reshape(-1, batch_size), axis=1)   # (n_batches, B)
    if full < n:
        yield np.sort(order[full:])


def copy_state(state):
    """A deep copy of parameters or optimizer state (dicts, arrays, scalars)."""
    return copy.deepcopy(state)


class _Progress:
    """A tqdm bar on a terminal; elsewhere one plain line per tenth of training."""

    def __init__(self, total, enabled):
        self.total, self.enabled, self.bar = total, enabled, None
        self.every = max(1, -(-total // 10))
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc="numpynn", unit="epoch", leave=False)

    def update(self, epoch, loss):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4g}")
        elif epoch % self.every == 0 or epoch == self.total:
            sys.stderr.write(f"numpynn: epoch {epoch}/{self.total}  loss {loss:.6g}\n")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def remaining_gain(curve):
    r"""The loss still to be gained, extrapolated from the last five epochs.

    Gradient descent on a quadratic converges linearly: once the slowest
    direction dominates, the gains :math:`\Delta_t = L_{t-1} - L_t` shrink
    by a constant ratio :math:`\rho`, and what is left is the geometric
    tail :math:`\Delta_t \rho / (1 - \rho)`. Before that the ratios still
    grow (faster directions are dying out) and the tail would be
    underestimated, so the estimate is infinite until the last three ratios
    agree to 5 % (two agreeing ratios can be a coincidence of several
    directions). It is 0 once the loss moves at rounding level only.

    Examples
    --------
    >>> remaining_gain([64.0, 32.0, 16.0, 8.0, 4.0, 2.0])   # halving: 1 + 1/2 + ... = 2
    2.0
    >>> remaining_gain([16.0, 15.0, 13.0, 9.0])          # too few epochs
    inf
    """
    if len(curve) < 4:
        return np.inf
    last = curve[-1] - curve[-2]
    if abs(last) <= 1e-12 * abs(curve[-1]):
        return 0.0                                  # moving at rounding level only
    if len(curve) < 5:
        return np.inf
    gains = -np.diff(curve[-5:])                     # the last four gains
    if not np.all(gains > 0) or not np.all(np.diff(gains) < 0):
        return np.inf
    ratios = gains[1:] / gains[:-1]                  # three ratios
    if ratios.max() > 1.05 * ratios.min():
        return np.inf
    rho = ratios[-1]
    return float(gains[-1] * rho / (1 - rho))


def _raise_diverged(loss, limit, epoch, batch, first):
    """Raise on a non-finite or exploding batch loss, saying which and where."""
    what = ("became non-finite" if not np.isfinite(loss)
            else f"exploded to {loss:.4g} (more than {EXPLODE_FACTOR:g} times the run's "
                 f"first batch loss {first:.4g})")
    raise Diverged(f"Training diverged at epoch {epoch}, batch {batch}: the batch loss "
                   f"{what}.")


def _check_params(params, epoch):
    bad = [k for k, v in params.items() if not np.isfinite(v).all()]
    if bad:
        raise Diverged(f"Training diverged at epoch {epoch}: the parameters "
                       f"{', '.join(bad)} became non-finite (overflow).")


def _record_epoch(epoch, loss, params, validate, curve, val_curve, val_scores):
    """Append a finished epoch's loss (and validation loss and score) to the curves;
    return its ``logs``."""
    curve.append(loss)
    logs = {"epoch": epoch, "loss": loss}
    if validate is not None:
        val_loss, score = validate(params)
        val_curve.append(val_loss)
        val_scores.append(score)
        logs.update(val_loss=val_loss, val_score=score)
    return logs


def run(step, params, opt_state, n, sample_weight, schedule, rng, *, epoch_offset=0,
        validate=None, stop_on_validation=True, on_epoch=None, verbose=False,
        loss_floor=0.0):
    """Train ``params`` and ``opt_state`` in place, up to ``schedule.max_iter`` epochs.

    Parameters
    ----------
    step : callable
        ``step(params, opt_state, batch) -> (loss, opt_state)``, with
        ``step.loss(params, batch)``: after the last update the last batch's
        loss is checked too, so a run cannot end on a destroyed model.
    params, opt_state : dict, object
        Updated in place (the caller's copies).
    n : int
        Rows of the training data.
    sample_weight : ndarray of shape (n,) or None
        Weights the batch losses in the epoch's mean.
    schedule : Schedule
    rng : numpy.random.Generator
        Shuffles the batches.
    epoch_offset : int, default=0
        Epochs already run (for messages and ``logs["epoch"]``).
    validate : callable, default=None
        ``validate(params) -> (loss, score)`` after each epoch, recorded.
    stop_on_validation : bool, default=True
        With ``validate``: the ``tol`` rule watches the score and ``params``
        end at the best epoch's values (early stopping).
    on_epoch : callable, default=None
        ``on_epoch(params, logs) -> stop`` after each epoch.
    verbose : bool, default=False
        Progress (see :class:`_Progress`).
    loss_floor : float, default=0.0
        Divergence is a batch loss above ``EXPLODE_FACTOR`` times
        ``max(first batch loss, loss_floor)`` (e.g. the loss of predicting
        the mean, so a near-perfect warm start is not called divergent
        for a small rise).

    Returns
    -------
    RunResult

    Raises
    ------
    Diverged
        A ValueError, on divergence, naming the epoch and the batch. ``params`` and
        ``opt_state`` are then garbage: the caller discards them.
    """
    full_batch = schedule.batch_size >= n
    tol = schedule.tol
    curve, val_curve, val_scores = [], [], []
    best_loss, best_score, stale = np.inf, -np.inf, 0
    early = validate is not None and stop_on_validation
    best_params = copy_state(params) if early else None
    converged = interrupted = False
    first = limit = None
    snapshot = (copy_state(params), copy_state(opt_state))   # the last finished epoch
    progress = _Progress(schedule.max_iter, verbose)
    try:
        for epoch in range(epoch_offset + 1, epoch_offset + schedule.max_iter + 1):
            order = None if (full_batch or not schedule.shuffle) else rng.permutation(n)
            total = weight = 0.0
            for b, batch in enumerate(batches(n, schedule.batch_size, order), 1):
                last = batch
                w = (batch.stop - batch.start if isinstance(batch, slice) else batch.shape[0]) \
                    if sample_weight is None else float(sample_weight[batch].sum())
                if not w > 0:
                    continue                    # an all-zero-weight batch teaches nothing
                loss, opt_state = step(params, opt_state, batch)
                if first is None:
                    first = loss
                    scale = max(loss, loss_floor if np.isfinite(loss_floor) else 0.0)
                    limit = min(EXPLODE_FACTOR * max(scale, np.finfo(float).tiny),
                                np.finfo(float).max)        # finite, or NaN for a NaN loss
                if not loss <= limit:           # also catches NaN (and inf: limit is finite)
                    _raise_diverged(loss, limit, epoch, b, first)
                total += loss * w
                weight += w
            _check_params(params, epoch)
            loss = total / weight
            snapshot = (copy_state(params), copy_state(opt_state))
            logs = _record_epoch(epoch, loss, params, validate, curve, val_curve, val_scores)
            if early:
                score = val_scores[-1]
                improved = score > best_score + (tol or 0.0)
                if score > best_score:
                    best_score, best_params = score, copy_state(params)
            else:       # extrapolating: the plateau rule only catches a stalled loss
                improved = loss < best_loss - (0.0 if schedule.extrapolate else tol or 0.0)
            best_loss = min(best_loss, loss)
            stale = 0 if improved else stale + 1
            progress.update(epoch - epoch_offset, loss)
            if on_epoch is not None and on_epoch(params, logs):
                break
            if tol is not None and (stale >= schedule.n_iter_no_change or (
                    schedule.extrapolate and remaining_gain(curve) <= tol)):
                converged = True
                break
        final = step.loss(params, last) if curve else None        # the run's last update
        if final is not None and not final <= limit:
            raise Diverged(f"Training diverged at epoch {epoch}: its last update raised the "
                           f"loss of batch {b} to {final:.4g} (more than "
                           f"{EXPLODE_FACTOR:g} times the run's first batch loss {first:.4g}).")
    except KeyboardInterrupt:
        interrupted = True
        params, opt_state = snapshot
        warn(f"training interrupted after {len(curve)} finished epoch(s); the model "
             "keeps the parameters of the last finished epoch.", UserWarning)
    finally:
        progress.close()
    if early and val_scores:
        params = best_params
    return RunResult(params, opt_state, curve, val_curve, val_scores, converged, interrupted)


def gradient_out(keys):
    """An "optimizer" that updates nothing and returns the gradient, flat, in ``keys`` order.

    With it, a step (:func:`numpynn._engine.make_step`) is the full-batch loss
    and gradient that :func:`run_lbfgs` hands to SciPy.
    """
    from .optimizers import Optimizer

    def step(params, grads, state):
        return np.concatenate([np.ravel(grads[k]) for k in keys]).astype(np.float64)

    return Optimizer(lambda params: None, step)


def run_lbfgs(step, params, n, max_iter, tol, *, epoch_offset=0, validate=None,
              on_epoch=None, verbose=False, loss_floor=0.0, max_fun=15000):
    """Train ``params`` by SciPy's L-BFGS-B on the full batch, one "epoch" per iteration.

    ``step`` must be made with :func:`gradient_out`. After every iteration
    the loss is recorded, checked for divergence and reported to
    ``on_epoch`` (whose true answer stops); Ctrl-C keeps the last finished
    iteration's parameters. ``tol`` is SciPy's ``gtol`` (as in
    ``MLPRegressor(solver="lbfgs")``); ``None`` means 0. Returns a
    :class:`RunResult` whose ``loss_curve[k]`` is the loss *after*
    iteration ``k`` and whose ``converged`` says SciPy's criteria were met.
    """
    from scipy.optimize import minimize

    keys = list(params)
    sizes = np.cumsum([0] + [params[k].size for k in keys])

    def unpack(flat, into):
        for k, a, b in zip(keys, sizes[:-1], sizes[1:], strict=True):
            into[k][...] = flat[a:b].reshape(into[k].shape)
        return into

    ref = {}                                  # SciPy's first evaluation: the start's loss

    def fun(flat):
        loss, grad = step(unpack(flat, params), None, slice(0, n))
        if not ref:
            ref["first"] = loss
            ref["limit"] = min(EXPLODE_FACTOR * max(loss, loss_floor, np.finfo(float).tiny),
                               np.finfo(float).max)
        return loss, grad

    curve, val_curve, val_scores = [], [], []
    start = np.concatenate([params[k].ravel() for k in keys]).astype(np.float64)
    last = [start.copy()]
    progress = _Progress(max_iter, verbose)

    def callback(intermediate_result):
        x, loss = intermediate_result.x, float(intermediate_result.fun)
        epoch = epoch_offset + len(curve) + 1
        if not loss <= ref["limit"]:
            _raise_diverged(loss, ref["limit"], epoch, 1, ref["first"])
        unpack(x, params)
        last[0] = x.copy()
        logs = _record_epoch(epoch, loss, params, validate, curve, val_curve, val_scores)
        progress.update(len(curve), loss)
        if on_epoch is not None and on_epoch(params, logs):
            raise StopIteration

    interrupted, converged = False, False
    try:
        res = minimize(fun, start, jac=True, method="L-BFGS-B", callback=callback,
                       options={"maxiter": max_iter, "maxfun": max_fun,
                                "gtol": 0.0 if tol is None else tol})
        converged = res.status == 0 and len(curve) < max_iter
    except KeyboardInterrupt:
        interrupted = True
        warn(f"training interrupted after {len(curve)} finished epoch(s); the model "
             "keeps the parameters of the last finished epoch.", UserWarning)
    finally:
        progress.close()
    unpack(last[0], params)
    if not np.all(np.isfinite(last[0])):
        raise Diverged(f"Training diverged at epoch {epoch_offset + len(curve)}: the "
                       "parameters became non-finite (overflow).")
    return RunResult(params, None, curve, val_curve, val_scores, converged, interrupted)
