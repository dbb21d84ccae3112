"""The values of :mod:`numpynn.lstsq`: its state and solution types, and their builders.

The types are documented, pickled and shown as ``numpynn.lstsq.*``, where
they are public.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _passes


class LstsqState(NamedTuple):
    """The mergeable state of a least-squares fit: ``O((d + k)^2)`` whatever ``n``.

    Attributes
    ----------
    R : ndarray of shape (p, p)
        Upper-triangular factor of ``sqrt(w) [1, X - x_shift, Y - y_shift]``,
        ``p = fit_intercept + d + k``.
    x_shift : ndarray of shape (d,)
        Subtracted from the features (zeros without an intercept).
    y_shift : ndarray of shape (k,)
        Subtracted from the targets (zeros without an intercept).
    n_samples : int
        Rows with a positive weight folded in so far.
    sum_weights : float
        Sum of their weights (``n_samples`` when unweighted).
    fit_intercept : bool

    Examples
    --------
    >>> state = lstsq_update(None, np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    >>> state.R.shape, state.n_samples, state.sum_weights, state.fit_intercept
    ((3, 3), 3, 3.0, True)
    """

    R: np.ndarray
    x_shift: np.ndarray
    y_shift: np.ndarray
    n_samples: int
    sum_weights: float
    fit_intercept: bool


class LstsqSolution(NamedTuple):
    """A least-squares solution with what is needed to judge it.

    Attributes
    ----------
    coef : ndarray of shape (d, k)
    intercept : ndarray of shape (k,)
        Zeros when ``fit_intercept=False``.
    rank : int
        Numerical rank of the (weighted, centred) design, decided on its
        column-scaled triangle; ``rank < d`` means the minimum-norm solution.
    singular : ndarray of shape (d,)
        Singular values of the weighted centred ``X`` (of ``X`` itself
        without an intercept): ``LinearRegression.singular_``.
    rss : ndarray of shape (k,)
        Weighted residual sum of squares per output.
    loss : float
        ``(rss.sum() + alpha * ||coef||^2) / (2 * k * sum_weights)``: the
        half mean squared error of :func:`numpynn.kernels.compute_loss`
        with its penalty when ``alpha`` is the per-output ridge penalty.
    cond : float
        Condition number of the column-scaled centred design over its
        rank: the one-pass solution carries about ``cond * 1e-16`` of
        relative error.
    refinements : int
        Passes of iterative refinement over the data (0: from the state alone).
    alpha : float
        The ridge penalty solved for (0: least squares).

    Examples
    --------
    >>> sol = lstsq_solve(lstsq_update(None, np.array([[0.0], [1.0], [2.0]]),
    ...                                np.array([1.0, 3.0, 5.0])))
    >>> sol.coef.round(12), sol.intercept.round(12), sol.rank
    (array([[2.]]), array([1.]), 1)
    """

    coef: np.ndarray
    intercept: np.ndarray
    rank: int
    singular: np.ndarray
    rss: np.ndarray
    loss: float
    cond: float
    refinements: int
    alpha: float = 0.0


class LstsqFit(NamedTuple):
    """What :func:`lstsq_fit` returns: the state (to stream on or infer from) and the solution.

    Attributes
    ----------
    state : LstsqState
    solution : LstsqSolution

    Examples
    --------
    >>> state, sol = lstsq_fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    >>> float(sol.coef[0, 0].round(12)), state.n_samples
    (2.0, 3)
    """

    state: LstsqState
    solution: LstsqSolution


def as_2d(y):
    y = np.asarray(y) if not hasattr(y, "shape") else y
    return y.reshape(-1, 1) if y.ndim == 1 else y


def shifts(X, Y, sw, fit_intercept, sample=4096):
    """The (weighted) mean of up to ``sample`` evenly spaced rows: the shift ``c``."""
    d, k = X.shape[1], Y.shape[1]
    if not fit_intercept or X.shape[0] == 0:
        return np.zeros(d), np.zeros(k)
    rows = slice(0, X.shape[0], max(1, X.shape[0] // sample))
    Xb, Yb = (np.ascontiguousarray(a) for a in _passes.raw(X[rows], Y[rows], 0, None))
    w = None if sw is None else np.asarray(sw[rows], np.float64)
    if w is not None and not w.sum() > 0:
        w = None
    return np.average(Xb, axis=0, weights=w), np.average(Yb, axis=0, weights=w)


def counts(n, sw):
    if sw is None:
        return n, float(n)
    sw = np.asarray(sw, np.float64)
    return int(np.count_nonzero(sw > 0)), float(sw.sum())


def make_solution(state, coef, intercept, an, rss, alpha, refinements):
    k = coef.shape[1]
    loss = (rss.sum() + alpha * np.vdot(coef, coef)) / (2 * k * state.sum_weights)
    cond = an.s[0] / an.s[an.rank - 1] if an.rank else np.inf
    return LstsqSolution(coef, np.asarray(intercept, np.float64), an.rank, an.singular,
                         rss, float(loss), float(cond), refinements, float(alpha))


for _type in (LstsqState, LstsqSolution, LstsqFit):
    _type.__module__ = "numpynn.lstsq"
