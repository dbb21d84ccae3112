"""Plumbing shared by the estimators: input checks, state, callbacks.

Functions, not a base class: each estimator calls what it needs.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._training import Kernels, Schedule, run
from ._validation import check_sample_weight

FLOATS = (np.float64, np.float32)
#: Sparse formats taken as they are (others are converted to CSR); X is never densified.
SPARSE = ("csr", "csc")


def check_fit_data(est, X, y, sample_weight, *, reset, accept_sparse=SPARSE):
    """Validate ``(X, y, sample_weight)`` for fitting.

    Returns ``X`` (float64 or float32, a view when possible: never a copy
    of a float array or memory map), ``y`` as ``(n, k)`` in ``X``'s dtype
    and ``sample_weight`` as ``(n,)`` in ``X``'s dtype or ``None``.
    """
    X, y = validate_data(est, X, y, reset=reset, dtype=FLOATS, multi_output=True,
                         y_numeric=True, accept_sparse=accept_sparse)
    y = np.asarray(y, dtype=X.dtype)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
    return X, y, sample_weight


def check_predict_data(est, X, accept_sparse=SPARSE):
    return validate_data(est, X, reset=False, dtype=FLOATS, accept_sparse=accept_sparse)


def predict(est, X, activation):
    """``est``'s prediction from its live parameters (``est._params()``).

    Returns ``(n_samples,)`` for one output, else ``(n_samples, n_outputs)``.
    """
    check_is_fitted(est)
    X = check_predict_data(est, X)
    y_pred = Kernels(activation, 0.0).predict(X, est._params())
    return y_pred.ravel() if est.n_outputs_ == 1 else y_pred


def regressor_tags(tags):
    """Both estimators: multi-output targets, scipy.sparse CSR/CSC input."""
    tags.target_tags.multi_output = True
    tags.input_tags.sparse = True           # never densified
    return tags


def resolve_batch_size(batch_size, n):
    """``None`` -> full batch, ``"auto"`` -> ``min(200, n)``, int -> ``min(int, n)``."""
    if batch_size is None:
        return n
    if batch_size == "auto":
        return min(200, n)
    return min(int(batch_size), n)


def split_validation(X, y, sample_weight, fraction, rng):
    """Hold out a random ``fraction`` of rows (at least two, leaving two).

    Two validation rows at least: R^2 of a single row is undefined (NaN),
    which would never count as an improvement and so discard all training.
    """
    n = X.shape[0]
    n_val = max(2, int(np.ceil(fraction * n)))
    if n - n_val < 2:
        raise ValueError(
            f"early_stopping with validation_fraction={fraction} needs at least 2 "
            f"training samples and 2 validation samples; got n_samples = {n}."
        )
    order = rng.permutation(n)
    tr, va = np.sort(order[n_val:]), np.sort(order[:n_val])
    sw_tr = None if sample_weight is None else sample_weight[tr]
    sw_va = None if sample_weight is None else sample_weight[va]
    return (X[tr], y[tr], sw_tr), (X[va], y[va], sw_va)


@contextmanager
def restore_on_error(est):
    """On any exception, put the estimator's ``__dict__`` back as it was.

    Fits work on copies of the parameters, so a shallow copy suffices: a
    failed fit never leaves a half-trained or NaN model behind.
    """
    saved = dict(vars(est))
    try:
        yield
    except BaseException:
        vars(est).clear()
        vars(est).update(saved)
        raise


def copy_params(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def make_epoch_hook(est, publish, callbacks):
    """``on_epoch(params, logs)`` for :func:`numpynn._training.run`.

    Publishes the live parameters on ``est`` (so a callback may call
    ``est.predict``) and calls each ``cb(est, logs)``; any returning
    ``True`` stops training.
    """
    callbacks = list(callbacks or ())
    if not callbacks:
        return None

    def on_epoch(params, logs):
        publish(params)
        stop = False
        for cb in callbacks:
            stop = (cb(est, dict(logs)) is True) or stop
        return stop

    return on_epoch


def record_run(est, result, *, incremental, n_seen):
    """Set ``loss_curve_``, ``n_iter_``, validation curves from a run."""
    prev = list(getattr(est, "loss_curve_", [])) if incremental else []
    est.loss_curve_ = prev + [float(v) for v in result.loss_curve]
    est.n_iter_ = (getattr(est, "n_iter_", 0) if incremental else 0) + len(result.loss_curve)
    est.t_ = (getattr(est, "t_", 0) if incremental else 0) + n_seen * len(result.loss_curve)
    if result.loss_curve:
        est.loss_ = est.loss_curve_[-1]
    est.best_loss_ = min(est.loss_curve_) if est.loss_curve_ else np.inf
    if result.val_scores:
        prev_v = list(getattr(est, "validation_loss_curve_", [])) if incremental else []
        prev_s = list(getattr(est, "validation_scores_", [])) if incremental else []
        est.validation_loss_curve_ = prev_v + [float(v) for v in result.val_loss_curve]
        est.validation_scores_ = prev_s + [float(v) for v in result.val_scores]
        est.best_validation_score_ = max(est.validation_scores_)
        est.best_loss_ = None


def stopped_rising(est, result):
    """Whether the ``tol`` rule stopped a run whose loss rose in every epoch it watched."""
    tail = np.asarray(result.loss_curve[-(est.n_iter_no_change + 1):])
    return bool(result.converged and not result.val_scores and tail.size > 1
                and np.all(np.diff(tail) > 0))


def warn_not_converged(est, result, max_iter):
    """ConvergenceWarning at ``max_iter``, or when stopping on a rising loss."""
    if est.tol is not None and not (result.converged or result.interrupted) \
            and len(result.loss_curve) == max_iter:
        warnings.warn(
            f"{type(est).__name__}: reached max_iter={max_iter} epochs without "
            f"converging (tol={est.tol}); increase max_iter or learning_rate.",
            ConvergenceWarning, stacklevel=2,
        )
    if stopped_rising(est, result):
        tail = result.loss_curve[-(est.n_iter_no_change + 1):]
        warnings.warn(
            f"{type(est).__name__}: stopped because the loss rose in each of the last "
            f"{len(tail) - 1} epochs (from {tail[0]:.4g} to {tail[-1]:.4g}), which is "
            "divergence, not convergence: use a smaller learning_rate.",
            ConvergenceWarning, stacklevel=2,
        )


def train(est, kernels, optimizer, opt_state, params, X, y, sw, batch_size, rng,
          *, partial, resume, hint=""):
    """Train ``params`` for ``est``: the part of ``fit`` both estimators share.

    Splits off validation data if asked, runs :func:`numpynn._training.run`,
    publishes the parameters and records the curves.

    ``partial``: one epoch for ``partial_fit`` (no validation, no ``tol``);
    ``resume``: continue ``loss_curve_`` and ``n_iter_`` rather than reset.
    """
    validation = None
    max_iter = 1 if partial else est.max_iter
    if est.early_stopping and not partial:
        (X, y, sw), validation = split_validation(X, y, sw, est.validation_fraction, rng)
    schedule = Schedule(max_iter, resolve_batch_size(batch_size, X.shape[0]),
                        est.shuffle, None if partial else est.tol,
                        est.n_iter_no_change, bool(est.verbose), hint)
    on_epoch = make_epoch_hook(est, est._publish, est.callbacks)
    # Overflow on the way to divergence is reported once, as run's ValueError.
    with np.errstate(over="ignore", invalid="ignore"):
        result = run(kernels, optimizer, params, opt_state, X, y, sw, schedule, rng,
                     validation=validation, on_epoch=on_epoch,
                     epoch_offset=getattr(est, "n_iter_", 0) if resume else 0)
    est._publish(params)
    record_run(est, result, incremental=resume, n_seen=X.shape[0])
    if not partial:
        warn_not_converged(est, result, max_iter)
    return result


#: Above this condition number of the Hessian the features count as badly
#: scaled; above SINGULAR the Hessian counts as singular (rounding level).
BADLY_SCALED, SINGULAR = 1e3, 1e12


def slow_stop_advice(lr, auto, L, cond, batch_size, n):
    r"""The remedy for a ``tol`` stop far above a quadratic loss's minimum.

    With step :math:`\eta` an epoch shrinks the gap along the Hessian's
    eigenvalue :math:`\lambda` by the factor :math:`(1 - \eta\lambda)^2`:
    slowly when :math:`\eta` is far below :math:`1/L`, near the stability
    limit :math:`2/L`, or when the condition number :math:`\kappa = L/\mu`
    is large. At :math:`\eta = 1/L` the stop on "improved by less than tol"
    lands about :math:`\text{tol}\,\kappa/2` above the minimum. Mini-batch
    steps also stall in their gradient noise.
    """
    if not auto and not 0.5 <= lr * L <= 1.5:
        return (f"learning_rate={lr:.4g} is {lr * L:.2g}/L, far from the 1/L step of "
                "the largest Hessian eigenvalue L (stable below 2/L), so every epoch "
                "gains little: use learning_rate='auto', a smaller tol, or "
                "solver='lstsq' or 'newton'.")
    if not cond < SINGULAR:
        return ("The Hessian is singular (collinear or constant features): use "
                "alpha > 0, or solver='lstsq' for the minimum-norm solution.")
    if cond >= BADLY_SCALED:
        return ("Standardise the features (StandardScaler in a Pipeline), or use "
                "solver='lstsq' or 'newton'.")
    if batch_size < n:
        return (f"Mini-batches (batch_size={batch_size}) stall in their gradient "
                "noise: use a larger batch_size (None for full batch), a smaller tol, "
                "or solver='lstsq' or 'newton'.")
    return ("The features are not badly scaled, but a stop on the loss improving by "
            "less than tol can still be about tol x condition number / 2 above the "
            "minimum: use a smaller tol, or solver='lstsq' or 'newton'.")
