r"""Solving the small triangle of a least-squares state (see :mod:`numpynn.lstsq`).

The state's factor, in the shifted coordinates
:math:`A = D_w^{1/2}[\mathbf 1, X - c]`, is split as

.. math::

    R = \begin{pmatrix} R_A & Z \\ 0 & T \end{pmatrix},\qquad
    R_A = \begin{pmatrix} r_{11} & r_{12}^\top \\ 0 & K \end{pmatrix}

(without an intercept :math:`R_A = K`). :math:`K` is the R factor of the
(weighted) *centred* :math:`X`: its columns are scaled to unit norm
before the singular value decomposition that decides the rank, so the
decision does not depend on the units of the features.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular

from . import _exact

EPS = np.finfo(np.float64).eps
#: Default relative cut-off on the singular values of the column-scaled
#: centred design: directions below it are taken as exact dependencies.
RTOL = 1e3 * EPS
#: A centred column whose norm is below this fraction of its raw norm is
#: constant up to rounding (its variation is lost in the last bits).
CONST_TOL = 1e3 * EPS


class Analysis(NamedTuple):
    """Rank-revealing view of the centred design block ``K`` (private)."""

    scale: np.ndarray        # (d,) column norms of K; 1 where the column is constant
    constant: np.ndarray     # (d,) bool
    U: np.ndarray            # (d, d) SVD of K / scale, constant columns zeroed
    s: np.ndarray            # (d,)
    Vt: np.ndarray           # (d, d)
    rank: int
    singular: np.ndarray     # (d,) singular values of K itself (LinearRegression.singular_)


def parts(R, d, fit_intercept):
    """``(R_A, Z, T)``: the design triangle, its right-hand sides and the residual factor."""
    p_a = int(fit_intercept) + d
    return R[:p_a, :p_a], R[:p_a, p_a:], R[p_a:, p_a:]


def constant_columns(R_A, x_shift, fit_intercept):
    """``(constant, norms)``: which columns of ``K`` carry no variation, and its column norms.

    With an intercept a column is constant when its centred norm is lost in
    the rounding of its raw norm (the intercept absorbs it); without one,
    when it is zero.
    """
    K = R_A[1:, 1:] if fit_intercept else R_A                     # (d, d)
    norms = np.linalg.norm(K, axis=0)                              # (d,)
    if not fit_intercept:
        return norms == 0, norms
    # the raw column norm, from the first row in unshifted coordinates
    # (divided by sqrt(S) = R_A[0, 0] first, so values near 1e300 do not overflow)
    r00 = abs(R_A[0, 0])
    raw = np.hypot(R_A[0, 1:] / r00 + x_shift, norms / r00)
    return norms / r00 <= CONST_TOL * raw, norms


def analyse(R_A, x_shift, fit_intercept, rtol=None):
    """Column scaling, constant columns, rank and singular values of ``K``."""
    K = R_A[1:, 1:] if fit_intercept else R_A                     # (d, d)
    constant, norms = constant_columns(R_A, x_shift, fit_intercept)
    K = np.where(constant, 0.0, K)
    scale = np.where(constant, 1.0, norms)
    U, s, Vt = np.linalg.svd(K / scale)
    tol = (RTOL if rtol is None else rtol) * (s[0] if s.size else 0.0)
    rank = int(np.count_nonzero(s > tol)) if s[0] > 0 else 0
    singular = np.linalg.svd(K, compute_uv=False)
    return Analysis(scale, constant, U, s, Vt, rank, singular)


def solve(R_A, Z, an, fit_intercept, alpha=0.0):
    """A minimiser of :math:`\\lVert R_A x - Z\\rVert^2 + \\alpha\\lVert B\\rVert^2`.

    Returns ``x`` of shape ``(p_A, k)`` in the shifted coordinates (first
    row: the shifted intercept when ``fit_intercept``) and the basis of
    the remaining solutions for ``B`` (``(d, d - rank)``, empty for a
    unique minimiser). Among the minimisers the one returned has the
    smallest :math:`\\lVert B\\rVert` (scikit-learn's
    ``LinearRegression``), exactly when the rank is decided by ``an``.
    """
    K = R_A[1:, 1:] if fit_intercept else R_A                     # (d, d)
    Zx = Z[1:] if fit_intercept else Z                             # (d, k)
    d = K.shape[1]
    null = np.zeros((d, 0))
    if alpha > 0:                                                  # ridge, as Ridge(solver="svd")
        U, s, Vt = np.linalg.svd(np.where(an.constant, 0.0, K))
        B = Vt.T @ ((s / (s ** 2 + alpha))[:, None] * (U.T @ Zx))  # (d, k)
    elif an.rank == d:
        B = solve_triangular(K, Zx)                                # back-substitution
    else:
        r = an.rank
        ys = an.Vt[:r].T @ ((an.U[:, :r].T @ Zx) / an.s[:r, None])  # (d, k) scaled
        B = ys / an.scale[:, None]
        null = an.Vt[r:].T / an.scale[:, None]                    # (d, d - r)
        B = B - null @ np.linalg.lstsq(null, B, rcond=None)[0]     # smallest ||B||
    if not fit_intercept:
        return B, null
    b = (Z[0] - R_A[0, 1:] @ B) / R_A[0, 0]                       # (k,)
    return np.vstack([b, B]), null


def nearest(x, null, start, mean_x):
    """Move ``x`` along the solution set to the point nearest ``start``.

    ``x`` and ``start`` are ``(intercept, B)`` stacked, unshifted, shape
    ``(p_A, k)``; the null directions of ``B`` carry the intercept with
    them (``-mean_x @ u``) when there is one. This is where Newton's step
    with the pseudo-inverse Hessian lands.
    """
    if null.shape[1] == 0:
        return x
    N = null if mean_x is None else np.vstack([-mean_x @ null, null])   # (p_A, m)
    t = np.linalg.lstsq(N, start - x, rcond=None)[0]               # (m, k)
    return x + N @ t


def correction_rhs(R_A, g):
    """``Z_g`` with :math:`R_A^\\top Z_g = g`: a correction is ``solve(R_A, Z_g)``."""
    return solve_triangular(R_A, g, trans="T")


def psd_factor(S):
    """Upper-triangular ``T`` with ``T.T @ T == S`` for a symmetric PSD ``S`` (k, k)."""
    try:
        return np.linalg.cholesky(S).T
    except np.linalg.LinAlgError:                                  # singular: exact fits
        lam, V = np.linalg.eigh(S)
        F = np.sqrt(np.clip(lam, 0.0, None))[:, None] * V.T        # F.T @ F == S
        return np.linalg.qr(F, mode="r")


def unshift(x_s, x_shift, y_shift, fit_intercept):
    """``(coef, intercept)`` in the data's coordinates from shifted ``x_s`` (p_A, k).

    The intercept :math:`c_y + b' - c^\\top B` is summed in double-double.
    """
    if not fit_intercept:
        return x_s, np.zeros(x_s.shape[1])
    B = x_s[1:]                                                     # (d, k)
    p, pe = _exact.two_prod(x_shift[:, None], B)                    # c_j B_j, exactly
    hi, lo = _exact.dd_sum(np.vstack([-p, x_s[:1], y_shift[None]]),
                           np.vstack([-pe, np.zeros((2, B.shape[1]))]))
    return B, hi + lo


def shift(coef, intercept, x_shift, y_shift, fit_intercept):
    """Shifted ``x_s`` (p_A, k) from ``(coef, intercept)``: the inverse of :func:`unshift`."""
    if not fit_intercept:
        return coef
    return np.vstack([intercept - y_shift + x_shift @ coef, coef])
