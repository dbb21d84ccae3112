r"""Learning-rate schedules as ``(init, step)`` pairs with explicit, plain state.

``sched = SCHEDULES[name](learning_rate, ...)`` captures the hyperparameters
once; the caller owns the state, a dict of plain ``int``, ``float``,
``bool`` and ``None`` values (JSON-serialisable, so ``partial_fit`` and
:func:`numpynn.persistence.save` can carry it on)::

    state = sched.init()                 # state["learning_rate"]: epoch 1's rate
    for epoch in ...:
        train one epoch with state["learning_rate"]
        state = sched.step(state, logs)  # logs = {"loss", "n_samples"[, "val_score"]}

``step`` never mutates its input and returns the rate of the *next* epoch in
``state["learning_rate"]``, so a schedule continues exactly from a saved
state. The rate changes only between epochs, as in scikit-learn's
``MLPRegressor`` (whose ``"invscaling"`` and ``"adaptive"`` these reproduce;
the tests check the sequences against it).

Every state has ``"learning_rate"``, ``"epoch"`` (epochs stepped) and
``"samples"`` (samples seen); ``adaptive`` adds its plateau counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Schedule", "constant", "invscaling", "adaptive", "cosine", "cosine_rate",
           "SCHEDULES"]


class Schedule(NamedTuple):
    """A learning-rate schedule: ``init() -> state`` and ``step(state, logs) -> state``.

    ``state["learning_rate"]`` is the rate of the coming epoch. ``logs`` are
    the finished epoch's: ``"loss"`` (its training loss), ``"n_samples"``
    (rows it trained on) and, with early stopping, ``"val_score"``.

    ``plateau=True`` (``adaptive``) says the schedule owns the
    ``tol`` / ``n_iter_no_change`` rule: a plateau lowers the rate instead
    of stopping, and training stops only when ``state["stop"]`` is set.
    """

    init: Callable
    step: Callable
    plateau: bool = False


def _advance(state, logs, learning_rate, **extra):
    """The common part of every step: count the epoch and its samples."""
    return {**state, **extra, "learning_rate": float(learning_rate),
            "epoch": state["epoch"] + 1,
            "samples": state["samples"] + int(logs["n_samples"])}


def _start(learning_rate, **extra):
    return {"learning_rate": float(learning_rate), "epoch": 0, "samples": 0, **extra}


def constant(learning_rate):
    r"""The same rate every epoch: :math:`\eta_e = \eta_0`.

    Parameters
    ----------
    learning_rate : float
        :math:`\eta_0`.

    Returns
    -------
    schedule : Schedule

    Examples
    --------
    >>> s = constant(0.01); state = s.init()
    >>> s.step(state, {"loss": 1.0, "n_samples": 50})["learning_rate"]
    0.01
    """
    def init():
        return _start(learning_rate)

    def step(state, logs):
        return _advance(state, logs, learning_rate)

    return Schedule(init, step)


def invscaling(learning_rate, power_t=0.5):
    r"""Inverse scaling in the number of samples seen, as ``MLPRegressor``.

    .. math:: \eta = \frac{\eta_0}{(t + 1)^{p}}

    where :math:`t` counts the training *samples* (not steps, not epochs)
    seen before the epoch, so the first epoch runs at :math:`\eta_0` and
    the rate changes once per epoch: scikit-learn's
    ``learning_rate="invscaling"`` exactly (its ``t_``).

    Parameters
    ----------
    learning_rate : float
        :math:`\eta_0`.
    power_t : float, default=0.5
        The exponent :math:`p`.

    Returns
    -------
    schedule : Schedule

    Examples
    --------
    >>> s = invscaling(1.0, power_t=0.5); state = s.init()
    >>> state = s.step(state, {"loss": 1.0, "n_samples": 3})
    >>> state["learning_rate"], state["samples"]          # 1 / sqrt(3 + 1)
    (0.5, 3)
    """
    def init():
        return _start(learning_rate)

    def step(state, logs):
        t = state["samples"] + int(logs["n_samples"])
        return _advance(state, logs, learning_rate / (t + 1) ** power_t)

    return Schedule(init, step)


def adaptive(learning_rate, tol=1e-4, n_iter_no_change=10, factor=5.0, min_rate=1e-6):
    r"""Divide the rate by ``factor`` on a plateau, as ``MLPRegressor``.

    An epoch *fails to improve* when its training loss is above the best
    loss so far minus ``tol`` (with ``"val_score"`` in the logs: when the
    validation score is below the best score plus ``tol``). When more than
    ``n_iter_no_change`` consecutive epochs fail (the count of scikit-learn's
    code, ``_no_improvement_count > n_iter_no_change``), the rate is divided
    by ``factor`` and the count restarts; if the rate was already at most
    ``min_rate``, ``state["stop"]`` is set instead. This is scikit-learn's
    ``learning_rate="adaptive"`` (its ``tol``, ``n_iter_no_change``, 5 and
    1e-6).

    Parameters
    ----------
    learning_rate : float
        The initial rate :math:`\eta_0`.
    tol : float, default=1e-4
    n_iter_no_change : int, default=10
    factor : float, default=5.0
    min_rate : float, default=1e-6
        At or below it a plateau stops training.

    Returns
    -------
    schedule : Schedule
        With ``plateau=True``; the state adds ``"best"`` (``None`` before
        the first epoch), ``"stale"`` (failing epochs in a row) and
        ``"stop"``.

    Examples
    --------
    >>> s = adaptive(0.1, tol=0.01, n_iter_no_change=1); state = s.init()
    >>> for loss in [1.0, 1.0, 1.0]:
    ...     state = s.step(state, {"loss": loss, "n_samples": 10})
    >>> round(state["learning_rate"], 6), state["stale"]   # 2 epochs > 1 failed
    (0.02, 0)
    """
    def init():
        return _start(learning_rate, best=None, stale=0, stop=False)

    def step(state, logs):
        if "val_score" in logs:          # higher is better
            value, best = float(logs["val_score"]), state["best"]
            failed = best is not None and value < best + tol
            best = value if best is None else max(best, value)
        else:                            # the training loss: lower is better
            value, best = float(logs["loss"]), state["best"]
            failed = best is not None and value > best - tol
            best = value if best is None else min(best, value)
        stale = state["stale"] + 1 if failed else 0
        lr, stop = state["learning_rate"], False
        if stale > n_iter_no_change:
            if lr <= min_rate:
                stop = True
            else:
                lr, stale = lr / factor, 0
        return _advance(state, logs, lr, best=best, stale=stale, stop=stop)

    return Schedule(init, step, plateau=True)


def cosine_rate(epoch, learning_rate, max_iter, warmup_epochs=0, floor=0.0):
    r"""The rate of epoch ``epoch`` (0-based) under linear warmup then cosine decay.

    .. math::

        \eta_e = \begin{cases}
            \eta_0 \dfrac{e + 1}{W + 1} & e < W \\[1ex]
            \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                \left(1 + \cos \pi \dfrac{e - W}{T - W}\right) & W \le e < T \\[1ex]
            \eta_{\min} & e \ge T
        \end{cases}

    with :math:`W` = ``warmup_epochs`` and :math:`T` = ``max_iter``. The
    warmup rises in equal steps to :math:`\eta_0` at epoch :math:`W`; the
    decay would reach the floor :math:`\eta_{\min}` at epoch :math:`T`, one
    past the last of ``max_iter`` epochs, so no epoch is spent at the floor
    unless training goes on (``partial_fit``), where the rate stays there.

    Parameters
    ----------
    epoch : int
        Epochs finished before this one.
    learning_rate : float
        The peak rate :math:`\eta_0`.
    max_iter : int
        :math:`T`, the epochs of the whole decay (warmup included).
    warmup_epochs : int, default=0
        :math:`W`, less than ``max_iter``.
    floor : float, default=0.0
        :math:`\eta_{\min}`.

    Returns
    -------
    learning_rate : float

    Examples
    --------
    >>> [cosine_rate(e, 1.0, max_iter=4) for e in range(5)]
    [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0]
    >>> [round(cosine_rate(e, 1.0, max_iter=5, warmup_epochs=3), 3) for e in range(6)]
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.0]
    """
    if epoch < warmup_epochs:
        return learning_rate * (epoch + 1) / (warmup_epochs + 1)
    if epoch >= max_iter:
        return float(floor)
    progress = (epoch - warmup_epochs) / (max_iter - warmup_epochs)
    return floor + 0.5 * (learning_rate - floor) * (1.0 + math.cos(math.pi * progress))


def cosine(learning_rate, max_iter, warmup_epochs=0, floor=0.0):
    r"""Linear warmup, then cosine decay to ``floor`` over ``max_iter`` epochs.

    The rates are :func:`cosine_rate` of the epoch count kept in the state.

    Parameters
    ----------
    learning_rate, max_iter, warmup_epochs, floor
        As for :func:`cosine_rate`; ``0 <= warmup_epochs < max_iter`` and
        ``0 <= floor <= learning_rate``.

    Returns
    -------
    schedule : Schedule

    Raises
    ------
    ValueError
        If ``warmup_epochs`` or ``floor`` is out of range.

    Examples
    --------
    >>> s = cosine(1.0, max_iter=2); state = s.init()
    >>> rates = [state["learning_rate"]]
    >>> for _ in range(2):
    ...     state = s.step(state, {"loss": 1.0, "n_samples": 8})
    ...     rates.append(state["learning_rate"])
    >>> [round(r, 12) for r in rates]
    [1.0, 0.5, 0.0]
    """
    if not 0 <= warmup_epochs < max_iter:
        raise ValueError(f"cosine: warmup_epochs={warmup_epochs} must be in "
                         f"[0, max_iter={max_iter}).")
    if not 0 <= floor <= learning_rate:
        raise ValueError(f"cosine: floor={floor} must be in [0, learning_rate="
                         f"{learning_rate}].")

    def rate(epoch):
        return cosine_rate(epoch, learning_rate, max_iter, warmup_epochs, floor)

    def init():
        return _start(rate(0))

    def step(state, logs):
        return _advance(state, logs, rate(state["epoch"] + 1))

    return Schedule(init, step)


#: Name -> factory, the values of ``learning_rate_schedule``.
SCHEDULES = {"constant": constant, "invscaling": invscaling, "adaptive": adaptive,
             "cosine": cosine}
