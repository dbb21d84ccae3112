"""Heteroscedasticity-consistent covariances: the one extra pass over the rows."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular

from . import _passes
from . import _triangle as tri


class RobustMeat(NamedTuple):
    """The middle of the sandwich covariances, one per HC type and output.

    In the orthonormal coordinates :math:`q_i = R_A^{-\\top} a_i` of the
    state's factor; sums over rows, so the meats of disjoint row blocks
    add up (:func:`merge_meats`). HC1 is HC0 rescaled.

    Attributes
    ----------
    hc0, hc2, hc3 : ndarray of shape (k, p, p)
        ``p = fit_intercept + d``.

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> state, sol = lstsq_fit(X, y)
    >>> robust_meat(X, y, None, state, sol).hc0.shape
    (1, 2, 2)
    """

    hc0: np.ndarray
    hc2: np.ndarray
    hc3: np.ndarray


def robust_meat(X, y, sample_weight, state, solution, *, block_rows=None):
    """One pass over the data for the heteroscedasticity-consistent covariances.

    Reads ``X`` in blocks (memory stays bounded), computes each row's
    residual under ``solution`` and its leverage from the state's factor,
    and sums the weighted outer products of all four HC types at once.

    Parameters
    ----------
    X : ndarray, memory map or sparse matrix of shape (n_samples, d)
    y : ndarray of shape (n_samples,) or (n_samples, k)
    sample_weight : ndarray of shape (n_samples,) or None
    state : LstsqState
        The state of the fit (of these rows, or of more: then merge the
        meats of all blocks with :func:`merge_meats`).
    solution : LstsqSolution
    block_rows : int, default=None
        Rows per block (default about 1 MB).

    Returns
    -------
    meat : RobustMeat

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2)); y = X @ [1.0, 2.0] + rng.normal(size=40) * (1 + X[:, 0] ** 2)
    >>> state, sol = lstsq_fit(X, y)
    >>> meat = robust_meat(X, y, None, state, sol)
    >>> from numpynn.inference import coef_cov
    >>> se = np.sqrt(np.diag(coef_cov(state, sol, "HC3", meat)[0]))
    >>> bool(np.all(se > 0))
    True
    """
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    R_A = tri.parts(state.R, len(state.x_shift), state.fit_intercept)[0]
    p, k = R_A.shape[0], Y.shape[1]
    rows = block_rows or _passes.default_rows(p + k)
    out = np.zeros((3, k, p, p))
    for start, stop in _passes.blocks(X.shape[0], rows):
        A = _passes.design_rows(X, sample_weight, start, stop, state.x_shift,
                                state.fit_intercept)                          # (m, p)
        Q = solve_triangular(R_A, A.T, trans="T").T                           # (m, p)
        h = np.einsum("ij,ij->i", Q, Q)                                        # leverages
        Xb, Yb = _passes.raw(X, Y, start, stop)
        E = Yb - Xb @ solution.coef - solution.intercept                      # (m, k)
        if sample_weight is not None:
            E = E * np.sqrt(np.asarray(sample_weight[start:stop], np.float64))[:, None]
        with np.errstate(divide="ignore"):                                    # h = 1: infinite
            scales = (1.0, 1.0 / (1.0 - h), 1.0 / (1.0 - h) ** 2)
        for v, f in enumerate(scales):
            W = E ** 2 * np.reshape(f, (-1, 1))                                # (m, k)
            for j in range(k):
                out[v, j] += (Q * W[:, j:j + 1]).T @ Q
    return RobustMeat(*out)


def merge_meats(meats):
    """The meat of all rows from the meats of disjoint row blocks (a sum).

    Parameters
    ----------
    meats : iterable of RobustMeat

    Returns
    -------
    meat : RobustMeat

    Examples
    --------
    >>> m = RobustMeat(np.ones((1, 2, 2)), np.ones((1, 2, 2)), np.ones((1, 2, 2)))
    >>> merge_meats([m, m]).hc2[0, 0, 0]
    np.float64(2.0)
    """
    meats = list(meats)
    return RobustMeat(*(sum(m[i] for m in meats) for i in range(3)))


RobustMeat.__module__ = "numpynn.inference"
