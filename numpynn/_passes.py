"""Passes over the rows of the data, one cache-sized block at a time.

Every pass reads ``X`` (dense, memory-mapped or sparse, float64 or
float32) block by block into a float64 buffer, so memory stays bounded
by the block whatever the number of rows, and no block is ever copied
twice. The passes are the only code in :mod:`numpynn.lstsq` that touches
the data; everything else works on the small triangle.
"""

from __future__ import annotations

import numpy as np

from . import _exact
from ._blas import SMALL_FLOPS, single_threaded_blas


def default_rows(p, budget=1 << 17):
    """Rows per block: about ``budget`` float64 values (1 MiB), at least ``4 p``."""
    return max(4 * p, budget // p)


def blocks(n, rows):
    """``(start, stop)`` of consecutive row blocks."""
    for start in range(0, n, rows):
        yield start, min(start + rows, n)


def fill(out, X, Y, sw, start, stop, x_shift, y_shift, fit_intercept, weighted=True):
    """Write ``sqrt(w) [1, X - x_shift, Y - y_shift]`` of rows ``start:stop`` into ``out``.

    Returns the view of ``out`` holding the block, ``(stop - start, p)``.
    """
    m, i = stop - start, int(fit_intercept)
    d = X.shape[1]
    M = out[:m]
    if fit_intercept:
        M[:, 0] = 1.0
    Xb = X[start:stop]
    M[:, i:i + d] = Xb.toarray() if hasattr(Xb, "toarray") else Xb    # sparse: per block
    M[:, i + d:] = Y[start:stop]
    if fit_intercept:
        M[:, i:] -= np.concatenate([x_shift, y_shift])
    if weighted and sw is not None:
        M *= np.sqrt(np.asarray(sw[start:stop], np.float64))[:, None]
    return M


def raw(X, Y, start, stop):
    """Rows ``start:stop`` of ``X`` and ``Y`` as dense float64 (exact conversions)."""
    Xb = X[start:stop]
    Xb = Xb.toarray() if hasattr(Xb, "toarray") else Xb
    return np.asarray(Xb, np.float64), np.asarray(Y[start:stop], np.float64)


def householder(R, X, Y, sw, x_shift, y_shift, fit_intercept, rows=None):
    """Fold the rows into the triangle ``R`` by one Householder QR per block.

    ``R`` is ``(p, p)`` or ``None``; returns the ``(p, p)`` triangle of all
    rows. Each QR stacks the block over ``R``, so it runs in cache; a loop
    of many small QRs runs on one BLAS thread (:mod:`numpynn._blas`).
    """
    n = X.shape[0]
    p = int(fit_intercept) + X.shape[1] + Y.shape[1]
    rows = rows or default_rows(p)
    small = n > rows and 2 * rows * p * p < 8 * SMALL_FLOPS
    with single_threaded_blas(small):
        for start, stop in blocks(n, rows):
            m = stop - start
            M = np.empty((m + (0 if R is None else p), p))                # (m [+ p], p)
            fill(M, X, Y, sw, start, stop, x_shift, y_shift, fit_intercept)
            if R is not None:
                M[m:] = R
            R = square(np.linalg.qr(M, mode="r"), p)
    return R


def square(R, p):
    """Pad an ``(m, p)`` R factor with zero rows to ``(p, p)``."""
    if R.shape[0] >= p:
        return R[:p]
    out = np.zeros((p, p), R.dtype)
    out[:R.shape[0]] = R
    return out


def _block(X, sw, start, stop):
    """Rows ``start:stop`` of ``X`` as float64 (a view when possible), times ``sqrt(w)``."""
    Xb = X[start:stop]
    Xb = Xb.toarray() if hasattr(Xb, "toarray") else np.asarray(Xb, np.float64)
    if sw is not None:
        Xb = Xb * np.sqrt(np.asarray(sw[start:stop], np.float64))[:, None]
    return Xb


def design_rows(X, sw, start, stop, x_shift, fit_intercept):
    """``sqrt(w) [1, X - x_shift]`` of rows ``start:stop``, float64, ``(m, p_A)``."""
    A = _block(X, None, start, stop)
    if fit_intercept:
        A = np.hstack([np.ones((stop - start, 1)), A - x_shift])
    if sw is not None:
        A = A * np.sqrt(np.asarray(sw[start:stop], np.float64))[:, None]
    return A


def gram(X, Y, sw, fit_intercept, rows=None):
    """``M^T M`` for ``M = sqrt(w)[1, X, Y]`` (unshifted), block by block.

    ``X^T X`` of each cached block is one ``syrk`` on a view of ``X`` (no
    copy of a float64 array), and ``X^T [1, Y]`` rides along while the
    block is in cache: one read of ``X`` in all. Returns ``(p, p)``. Run
    it with BLAS on one thread (:func:`numpynn._blas.single_threaded_blas`):
    the calls are small.
    """
    n, d = X.shape
    rows = rows or default_rows(d, 1 << 16)
    Gxx, Gxu, Guu = 0.0, 0.0, 0.0
    for start, stop in blocks(n, rows):
        Xb = _block(X, sw, start, stop)                              # (m, d)
        U = np.asarray(Y[start:stop], np.float64)                    # (m, k)
        if fit_intercept:
            U = np.hstack([np.ones((stop - start, 1)), U])           # (m, 1 + k)
        if sw is not None:
            U = U * np.sqrt(np.asarray(sw[start:stop], np.float64))[:, None]
        Gxx = Gxx + Xb.T @ Xb                                        # (d, d) syrk
        Gxu = Gxu + Xb.T @ U                                         # (d, u)
        Guu = Guu + U.T @ U                                          # (u, u)
    if not fit_intercept:
        return np.block([[Gxx, Gxu], [Gxu.T, Guu]])
    return np.block([[Guu[:1, :1], Gxu[:, :1].T, Guu[:1, 1:]],
                     [Gxu[:, :1], Gxx, Gxu[:, 1:]],
                     [Guu[1:, :1], Gxu[:, 1:].T, Guu[1:, 1:]]])


def residual_pass(X, Y, sw, coef, intercept, fit_intercept, rows=None):
    """``g = [1, X]^T W E`` and ``S = E^T W E`` for ``E = Y - intercept - X coef``, float64.

    Unshifted; returns ``g`` of shape ``(p_A, k)`` and ``S`` of shape ``(k, k)``.
    """
    n, d = X.shape
    k = coef.shape[1]
    rows = rows or default_rows(d, 1 << 16)
    g, s0, S = np.zeros((d, k)), np.zeros(k), np.zeros((k, k))
    for start, stop in blocks(n, rows):
        Xb = _block(X, None, start, stop)                            # (m, d)
        E = np.asarray(Y[start:stop], np.float64) - Xb @ coef - intercept   # (m, k)
        WE = E if sw is None else E * np.asarray(sw[start:stop], np.float64)[:, None]
        g += Xb.T @ WE
        s0 += WE.sum(axis=0)
        S += E.T @ WE
    return (np.vstack([s0, g]) if fit_intercept else g), S


def residual_pass_dd(X, Y, sw, theta, fit_intercept, rows=None):
    """As :func:`residual_pass` in double-double, unshifted: the exact data's gradient.

    ``theta`` is ``(coef, intercept, coef_lo, intercept_lo)``, the
    parameters as double-double pairs.

    Returns ``g`` for ``A = [1, X]`` as a double-double pair ``(g_hi,
    g_lo)`` of shape ``(p_A, k)`` each, and ``S = E^T W E`` of shape ``(k, k)``.
    """
    d, k = theta[0].shape
    rows = rows or max(64, (1 << 15) // (d * k))
    p_a = int(fit_intercept) + d
    g_hi, g_lo, S = np.zeros((p_a, k)), np.zeros((p_a, k)), np.zeros((k, k))
    for start, stop in blocks(X.shape[0], rows):
        Xb, Yb = raw(X, Y, start, stop)
        wb = None if sw is None else np.asarray(sw[start:stop], np.float64)
        hi, lo = _exact.residual_dd(Xb, Yb, *theta)                  # (m, k)
        gh, gl = _exact.gradient_dd(Xb, wb, hi, lo, fit_intercept)   # (p_A, k)
        g_hi, e = _exact.two_sum(g_hi, gh)
        g_lo += e + gl
        S += hi.T @ (hi if wb is None else hi * wb[:, None])
    return _exact.two_sum(g_hi, g_lo), S
