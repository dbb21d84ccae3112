"""Plumbing shared by the estimators: training and publishing a model.

(Their input checks live in :mod:`numpynn._inputs`.)

Functions, not a base class: each estimator calls what it needs. A fit
never changes the estimator until it has succeeded: it trains copies, and
:func:`fit_context` publishes the new fitted attributes in one step at the
end (or leaves the previous model whole when anything fails).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from . import _engine, _inputs, _training
from ._validation import (
    BOOL,
    CALLBACKS,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
)
from ._warnings import warn
from .losses import baseline_loss, compute_loss

#: Hyperparameters both estimators share, with what each accepts.
COMMON_CONSTRAINTS = {
    "max_iter": (Interval("int", 1, None),),
    "tol": (NONE, Interval("real", 0, None)),
    "n_iter_no_change": (Interval("int", 1, None),),
    "shuffle": (BOOL,),
    "random_state": RANDOM_STATE,
    "warm_start": (BOOL,),
    "verbose": (BOOL, Interval("int", 0, None)),
    "early_stopping": (BOOL,),
    "validation_fraction": (Interval("real", 0, 1, "neither"),),
    "callbacks": CALLBACKS,
    "alpha": (Interval("real", 0, None),),
}
BATCH_SIZE = (NONE, Options(("auto",)), Interval("int", 1, None))

#: The remedy appended to a divergence message of a first-order optimizer.
DIVERGENCE_ADVICE = ("Use a smaller learning_rate, or scale the features (e.g. "
                     "StandardScaler in a Pipeline).")

def regressor_tags(tags):
    """Both estimators: multi-output targets, scipy.sparse CSR/CSC input."""
    tags.target_tags.multi_output = True
    tags.input_tags.sparse = True           # never densified
    return tags


def resolve_batch_size(batch_size, n):
    """``None`` -> full batch, ``"auto"`` -> ``min(200, n)``, int -> ``min(int, n)``."""
    if batch_size is None:
        return n
    if isinstance(batch_size, str):
        return min(200, n)
    return min(int(batch_size), n)


def split_validation(X, y, sample_weight, fraction, rng):
    """Hold out a random ``fraction`` of rows (at least two, leaving two).

    Two validation rows at least: R^2 of a single row is undefined (NaN),
    which would never count as an improvement and so discard all training.
    Both parts must keep some positive sample weight.
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
    for part, sw in (("training", sw_tr), ("validation", sw_va)):
        if sw is not None and not sw.sum() > 0:
            raise ValueError(
                f"early_stopping: every sample of the {part} split has zero sample_weight, "
                "so it cannot be used; give more rows a positive weight, change "
                "validation_fraction or random_state, or turn early_stopping off."
            )
    return (X[tr], y[tr], sw_tr), (X[va], y[va], sw_va)


def validation_metrics(params, activation, validation):
    """``(loss, R^2)`` of ``params`` on ``validation = (X, y, sample_weight)``."""
    Xv, yv, swv = validation
    y_pred = _inputs.forward(Xv, params, activation)
    return (compute_loss(yv, y_pred, sample_weight=swv),
            float(r2_score(yv, y_pred, sample_weight=swv)))


#: scikit-learn's callback machinery on the estimator, torn down by its own decorator.
CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")
#: Private fitted state, dropped with the public fitted attributes by a new fit.
PRIVATE_STATE = ("_optimizer_state", "_lstsq_state", "_lstsq_solution", "_lstsq_meat")


@contextmanager
def fit_context(est, *, incremental=False):
    """Run a fit that publishes its result in one step, or leaves ``est`` as it was.

    Yields a dict: the fit puts the new fitted attributes in it, and on
    success they replace the old ones at once (``vars(est).update``); a
    full (not ``incremental``) fit then drops the fitted attributes it did
    not set. On any failure, whatever the fit changed on ``est`` (e.g.
    ``n_features_in_`` set by ``validate_data``, parameters published for a
    callback) is put back. A fit started from a callback of a fit running
    on the same estimator is refused.
    """
    if vars(est).get("_fit_running", False):
        raise RuntimeError(
            f"{type(est).__name__}.fit or partial_fit was called from a callback while "
            "the same estimator is being fitted; fit a clone instead "
            "(sklearn.base.clone(estimator))."
        )
    with restore_on_error(est):
        vars(est)["_fit_running"] = True
        new = {}
        yield new
        del vars(est)["_fit_running"]
    state = vars(est)
    state.update(new)
    if not incremental:
        for key in [k for k in state if k not in new and (
                k in PRIVATE_STATE or (k.endswith("_") and not k.startswith("__")))]:
            state.pop(key, None)


@contextmanager
def restore_on_error(est):
    """On any exception, put ``est``'s attributes back as they were (never clearing them)."""
    saved = dict(vars(est))
    try:
        yield
    except BaseException:
        state = vars(est)
        state.update(saved)
        for key in [k for k in state if k not in saved and k not in CALLBACK_STATE]:
            state.pop(key, None)
        raise


#: Copies of the parameters a fit holds at once: the parameters, the published
#: and the last finished epoch's, the gradients and chunk sums, and Adam's two
#: moments with their snapshot.
PARAM_COPIES = 10


def available_memory():
    """Bytes of memory available to this process (MemAvailable, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(est, shapes, dtype, batch_size):
    """Refuse, before allocating, a model whose training would not fit in memory.

    Counts :data:`PARAM_COPIES` copies of the weight matrices ``shapes`` and
    a few batch-sized buffers per layer width, in ``dtype``.
    """
    n_params = sum(a * b + b for a, b in shapes)
    widths = shapes[0][0] + sum(b for _, b in shapes)
    need = np.dtype(dtype).itemsize * (PARAM_COPIES * n_params + 4 * batch_size * widths)
    have = available_memory()
    if have is not None and need > have:
        raise ValueError(
            f"{type(est).__name__} with layer shapes {shapes} needs about "
            f"{need / 2**30:.3g} GiB for its parameters, optimizer state and buffers, "
            f"but only {have / 2**30:.3g} GiB of memory are available: use fewer "
            "hidden_units, or a smaller batch_size."
        )


class RateSchedule:
    """A learning-rate schedule (:mod:`numpynn.schedules`) driving an optimizer.

    Called, it is the current rate (what the optimizers ask for at every
    step, see :func:`numpynn.optimizers.sgd`); :meth:`after_epoch` advances
    the schedule's explicit state and records the rate each epoch used.
    """

    def __init__(self, schedule, state, n_samples):
        self.schedule, self.state, self.n_samples = schedule, dict(state), n_samples
        self.curve = []

    def __call__(self):
        return self.state["learning_rate"]

    def after_epoch(self, logs):
        """Step the schedule with the finished epoch's ``logs``; ``True`` to stop."""
        self.curve.append(float(self.state["learning_rate"]))
        info = {"loss": logs["loss"], "n_samples": self.n_samples}
        if "val_score" in logs:
            info["val_score"] = logs["val_score"]
        self.state = self.schedule.step(self.state, info)
        return bool(self.state.get("stop", False))


def epoch_hook(est, new, ctx, X, y, rate=None):
    """``on_epoch(params, logs) -> stop`` for :func:`numpynn._training.run`.

    Each epoch is a subtask of scikit-learn's callback context ``ctx``
    (``ProgressBar``, ``ScoringMonitor`` ... set with ``set_callbacks``,
    or propagated from a ``Pipeline`` or a search): they see the estimator
    as fitted with the epoch's parameters. Then the estimator's own
    ``callbacks``: the live parameters are published on ``est`` (so a
    callback may call ``est.predict``) and each ``cb(est, logs)`` is called;
    a true bool (``True`` or ``np.True_``) from any of them stops training.
    A :class:`RateSchedule` ``rate`` is stepped first (``logs`` then hold the
    epoch's ``"learning_rate"``), and may stop training itself.
    """
    callbacks = list(est.callbacks or ())
    meta = {k: v for k, v in new.items() if k in ("n_features_in_", "feature_names_in_")}

    def on_epoch(params, logs):
        def model():
            return {**meta, **est._publish(params)}

        if rate is not None:
            logs["learning_rate"] = rate()
            if rate.after_epoch(logs):
                return True                      # the schedule's plateau rule stops
        task = ctx.subcontext(task_name="epoch")
        task.call_on_fit_task_begin(estimator=est, X=X, y=y)
        stop = task.call_on_fit_task_end(estimator=est, X=X, y=y,
                                         reconstruction_attributes=model)
        if callbacks:
            vars(est).update(model())
        for cb in callbacks:
            answer = cb(est, dict(logs))
            stop = stop or (isinstance(answer, (bool, np.bool_)) and bool(answer))
        return stop

    return on_epoch


def train(est, new, params, opt_state, optimizer, X, y, sw, rng, *, activation, alpha,
          batch_size, partial, epoch_offset, advice, validation=None, relative_tol=False,
          extrapolate=False, rate=None, patience=None):
    """Train copies of ``params`` and ``opt_state``: the part of ``fit`` both estimators share.

    ``optimizer=None`` trains by L-BFGS-B instead (:func:`numpynn._training.run_lbfgs`).
    ``new`` holds what the fit publishes so far (``n_features_in_``); with the
    epoch's parameters it makes the model callbacks see. Builds the step
    (:func:`numpynn._engine.make_step`) and runs the loop
    (:func:`numpynn._training.run`) inside scikit-learn's callback context
    (one subtask per epoch). ``partial``: one epoch, no ``tol``, no early
    stopping. ``validation``: the user's ``(X_val, y_val, None)``, scored
    after every epoch; with ``early_stopping`` it replaces the random split
    (:func:`split_validation`) as the stopping criterion. ``advice`` is
    appended to the message of a divergence. ``relative_tol``: ``tol`` is
    relative to :func:`numpynn.losses.baseline_loss`; ``extrapolate``: a
    full-batch run stops once the extrapolated remaining gain
    (:func:`numpynn._training.remaining_gain`) is below ``tol``. ``rate``: the
    :class:`RateSchedule` the optimizer reads; a schedule with its own
    plateau rule (``adaptive``) replaces the ``tol`` rule. ``patience``:
    epochs without improvement before a ``tol`` stop, instead of
    ``est.n_iter_no_change`` (Newton's exact step has nothing to wait for).
    """
    stop_on_validation = est.early_stopping and not partial
    if validation is None and stop_on_validation:
        (X, y, sw), validation = split_validation(X, y, sw, est.validation_fraction, rng)
    validate = None if validation is None else partial_metrics(activation, validation)
    n = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        floor = baseline_loss(y, sw)
    tol = None if partial or est.tol is None else est.tol * (floor if relative_tol else 1.0)
    if rate is not None and rate.schedule.plateau:
        tol = None
    batch_size = resolve_batch_size(batch_size, n)
    schedule = _training.Schedule(1 if partial else est.max_iter, batch_size, est.shuffle,
                                  tol, est.n_iter_no_change if patience is None else patience,
                                  extrapolate=extrapolate and batch_size >= n)
    params, opt_state = _training.copy_state(params), _training.copy_state(opt_state)
    ctx = est._init_callback_context(max_subtasks=schedule.max_iter)
    ctx.call_on_fit_task_begin(estimator=est, X=X, y=y)
    lbfgs = optimizer is None                   # full-batch L-BFGS-B by SciPy
    if lbfgs:
        optimizer, schedule = _training.gradient_out(list(params)), schedule._replace(
            batch_size=n)
    hooks = dict(epoch_offset=epoch_offset, validate=validate,
                 on_epoch=epoch_hook(est, new, ctx, X, y, rate), verbose=bool(est.verbose),
                 loss_floor=floor if np.isfinite(floor) else 0.0)
    with np.errstate(over="ignore", invalid="ignore"), \
            _engine.make_step(X, y, sw, optimizer, activation=activation, alpha=alpha,
                              batch_size=schedule.batch_size, params=params) as step:
        try:
            if lbfgs:
                result = _training.run_lbfgs(step, params, n, schedule.max_iter, est.tol,
                                             **hooks)
            else:
                result = _training.run(step, params, opt_state, n, sw, schedule, rng,
                                       stop_on_validation=stop_on_validation, **hooks)
        except _training.Diverged as exc:
            raise ValueError(f"{exc} {advice}") from None
    ctx.call_on_fit_task_end(estimator=est, X=X, y=y,
                             reconstruction_attributes=lambda: est._publish(result.params))
    return result


def partial_metrics(activation, validation):
    """``validate(params) -> (loss, R^2)`` on ``validation`` (:func:`validation_metrics`)."""
    def validate(params):
        return validation_metrics(params, activation, validation)
    return validate


def record(est, new, result, *, n_seen, incremental):
    """The fitted attributes of a run, for every solver, into ``new``.

    ``loss_curve_``, ``n_iter_``, ``t_`` (samples seen), ``loss_``,
    ``best_loss_`` and, with validation, ``validation_loss_curve_``,
    ``validation_scores_``, ``best_validation_score_``; ``incremental``
    continues the previous curves and counts.
    """
    def prev(name, default):
        return getattr(est, name, default) if incremental else default

    new["loss_curve_"] = list(prev("loss_curve_", [])) + [float(v) for v in result.loss_curve]
    new["n_iter_"] = prev("n_iter_", 0) + len(result.loss_curve)
    new["t_"] = prev("t_", 0) + n_seen * len(result.loss_curve)
    if new["loss_curve_"]:
        new["loss_"] = new["loss_curve_"][-1]
    new["best_loss_"] = min(new["loss_curve_"]) if new["loss_curve_"] else np.inf
    if result.val_scores:
        new["validation_loss_curve_"] = (list(prev("validation_loss_curve_", []))
                                         + [float(v) for v in result.val_loss_curve])
        new["validation_scores_"] = (list(prev("validation_scores_", []))
                                     + [float(v) for v in result.val_scores])
        new["best_validation_score_"] = max(new["validation_scores_"])
        if est.early_stopping:
            new["best_loss_"] = None


def stopped_rising(est, result):
    """Whether the ``tol`` rule stopped a run whose loss rose in every epoch it watched."""
    tail = np.asarray(result.loss_curve[-(est.n_iter_no_change + 1):])
    return bool(result.converged and not est.early_stopping and tail.size > 1
                and np.all(np.diff(tail) > 0))


def warn_not_converged(est, result, advice):
    """ConvergenceWarning at ``max_iter`` (with ``advice``), or when stopping on a rising loss."""
    if est.tol is not None and not (result.converged or result.interrupted) \
            and len(result.loss_curve) == est.max_iter:
        warn(f"{type(est).__name__}: reached max_iter={est.max_iter} epochs without "
             f"converging (tol={est.tol}); {advice}", ConvergenceWarning)
    if stopped_rising(est, result):
        tail = result.loss_curve[-(est.n_iter_no_change + 1):]
        warn(f"{type(est).__name__}: stopped because the loss rose in each of the last "
             f"{len(tail) - 1} epochs (from {tail[0]:.4g} to {tail[-1]:.4g}), which is "
             "divergence, not convergence: use a smaller learning_rate.",
             ConvergenceWarning)
