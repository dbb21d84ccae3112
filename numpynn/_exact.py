r"""Least-squares residuals and gradients to about twice float64 precision.

Iterative refinement converges to the least-squares solution of the data
*as given* (rounded only once, to float64) when the residual it feeds on,

.. math::

    g = A^\top W (Y - A X), \qquad A = [\mathbf 1, X_{\text{data}}],

is computed more precisely than the working precision. This module does
so with error-free transformations in plain NumPy, so the result is the
same on every platform (``np.longdouble`` is 80-bit on x86-64 Linux but
plain float64 on Windows and Apple silicon):

* ``two_sum(a, b) = (s, e)`` with ``s + e == a + b`` exactly (Knuth);
* ``two_prod(a, b) = (p, e)`` with ``p + e == a * b`` exactly (Dekker's
  split, no fused multiply-add needed; exact while ``|a|, |b| < 1e290``);
* sums and dot products carried as unevaluated pairs ``hi + lo``
  ("double-double", about 32 significant digits).

Each row block costs about 30 float64 operations per element of ``X``:
:func:`numpynn.lstsq.lstsq_fit` runs it only when the data are small or
ill-conditioned enough to need it.
"""

from __future__ import annotations

import numpy as np

_SPLIT = 134217729.0                                  # 2**27 + 1 (Dekker)


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = _SPLIT * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a * b)`` and ``p + e = a * b`` exactly."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def dd_sum(hi, lo, axis=0):
    """Sum of ``hi + lo`` along ``axis`` as a pair ``(s, e)`` (pairwise TwoSum tree).

    The tree has :math:`\\lceil\\log_2 m\\rceil` levels, each one
    vectorised; the rounding errors of every level are kept and summed
    in float64 (they are about ``eps`` times the partial sums), so the
    pair carries about 32 significant digits of the exact sum.
    """
    hi = np.moveaxis(hi, axis, 0)
    err = np.moveaxis(lo, axis, 0).sum(axis=0)
    while hi.shape[0] > 1:
        half = hi.shape[0] // 2
        s, e = two_sum(hi[:half], hi[half:2 * half])
        err = err + e.sum(axis=0)
        hi = np.concatenate([s, hi[2 * half:]]) if hi.shape[0] % 2 else s
    return two_sum(hi[0], err)


def residual_dd(X, Y, coef, intercept, coef_lo=None, intercept_lo=None):
    """``Y - intercept - X @ coef`` for one row block, as a pair ``(hi, lo)``.

    Parameters
    ----------
    X : ndarray of shape (m, d), float64
    Y : ndarray of shape (m, k), float64
    coef : ndarray of shape (d, k)
    intercept : ndarray of shape (k,)
    coef_lo, intercept_lo : ndarray, default=None
        Low parts of double-double parameters (their products need only
        float64: they are about ``eps`` times the rest).

    Returns
    -------
    hi, lo : ndarray of shape (m, k)
        ``hi + lo`` equals the exact residual to about ``1e-32`` times
        ``|Y| + |X| |coef| + |intercept|``.
    """
    hi, lo = two_sum(Y, -np.broadcast_to(intercept, Y.shape))     # (m, k)
    for j in range(X.shape[1]):
        p, pe = two_prod(X[:, j:j + 1], coef[j])                  # (m, k)
        hi, e = two_sum(hi, -p)
        lo = lo + (e - pe)
    if coef_lo is not None:
        lo = lo - X @ coef_lo - intercept_lo
    return two_sum(hi, lo)


def gradient_dd(X, w, hi, lo, fit_intercept):
    """``[1, X]^T diag(w) (hi + lo)`` for one row block, in double-double.

    Parameters
    ----------
    X : ndarray of shape (m, d), float64
    w : ndarray of shape (m,) or None
        Sample weights (``None``: all ones).
    hi, lo : ndarray of shape (m, k)
        The residual from :func:`residual_dd`.
    fit_intercept : bool
        Prepend the row of the ones column.

    Returns
    -------
    g_hi, g_lo : ndarray of shape (fit_intercept + d, k)
    """
    if w is not None:
        hi, e = two_prod(w[:, None], hi)                           # (m, k)
        lo = e + w[:, None] * lo
    p, pe = two_prod(X[:, :, None], hi[:, None, :])                # (m, d, k)
    g_hi, g_lo = dd_sum(p, pe + X[:, :, None] * lo[:, None, :])    # (d, k)
    if not fit_intercept:
        return g_hi, g_lo
    s_hi, s_lo = dd_sum(hi, lo)                                    # (k,)
    return np.vstack([s_hi, g_hi]), np.vstack([s_lo, g_lo])
