"""The first interface of :mod:`numpynn.lstsq`, kept for ``LinearRegressor`` until it
moves to :func:`numpynn.lstsq.lstsq_update` and :func:`numpynn.lstsq.lstsq_solve`.

Its state is the bare, unshifted triangle of ``[1, X, y]``: no shift, no
counts, always an intercept.
"""

import numpy as np

from . import _passes
from ._state import LstsqState


def qr_update(R, X, y, sample_weight=None, block_rows=None):
    """Fold rows into the unshifted triangle of ``[1, X, y]`` (legacy interface).

    Kept for callers of the first streamed-QR interface; new code uses
    :func:`lstsq_update`, whose state also records the shift, the counts
    and ``fit_intercept``.

    Parameters
    ----------
    R : ndarray of shape (1 + d + k, 1 + d + k) or None
    X : ndarray or sparse matrix of shape (n_samples, d)
    y : ndarray of shape (n_samples, k)
    sample_weight : ndarray of shape (n_samples,), default=None
    block_rows : int, default=None

    Returns
    -------
    R : ndarray of shape (1 + d + k, 1 + d + k)

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([[1.0], [3.0], [5.0]])
    >>> coef, intercept, rss = qr_solve(qr_update(None, X, y), d=1)
    >>> coef.round(12), intercept.round(12), rss.round(12)
    (array([[2.]]), array([1.]), array([0.]))
    """
    zeros = (np.zeros(X.shape[1]), np.zeros(y.shape[1]))
    return _passes.householder(R, X, y, sample_weight, *zeros, True, block_rows)


def qr_combine(R_blocks):
    """Combine unshifted triangles of disjoint row blocks (legacy interface).

    Parameters
    ----------
    R_blocks : iterable of ndarray of shape (p, p)

    Returns
    -------
    R : ndarray of shape (p, p)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2)); y = rng.normal(size=(20, 1))
    >>> R = qr_combine([qr_update(None, X[:9], y[:9]), qr_update(None, X[9:], y[9:])])
    >>> np.allclose(qr_solve(R, 2)[0], qr_solve(qr_update(None, X, y), 2)[0])
    True
    """
    R_blocks = list(R_blocks)
    return _passes.square(np.linalg.qr(np.vstack(R_blocks), mode="r"), R_blocks[0].shape[0])


def qr_solve(R, d, alpha=0.0, rcond=None):
    """``(coef, intercept, rss)`` from an unshifted triangle (legacy interface).

    Solves as :func:`lstsq_solve` (scaled, rank-revealing); ``rcond`` is
    its ``rtol``.

    Parameters
    ----------
    R : ndarray of shape (1 + d + k, 1 + d + k)
    d : int
    alpha : float, default=0.0
    rcond : float, default=None

    Returns
    -------
    coef : ndarray of shape (d, k)
    intercept : ndarray of shape (k,)
    rss : ndarray of shape (k,)

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> coef, intercept, rss = qr_solve(qr_update(None, X, y), d=2)
    >>> coef.ravel().round(12), intercept.round(12)
    (array([ 1., -2.]), array([0.5]))
    """
    from .lstsq import lstsq_solve

    k = R.shape[0] - 1 - d
    state = LstsqState(R, np.zeros(d), np.zeros(k), 0, float(R[0, 0] ** 2), True)
    sol = lstsq_solve(state, alpha=alpha, rtol=rcond)
    return sol.coef, sol.intercept, sol.rss

