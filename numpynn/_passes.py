"""Passes over the rows of the data, one cache-sized block at a time.

Every pass reads ``X`` (dense, memory-mapped or sparse, float64 or
float32) block by block into a float64 buffer, so memory stays bounded
by the block whatever the number of rows, and no block is ever copied
twice. The passes are the only code in :mod:`numpynn.lstsq` that touches
the data; everything else works on the small triangle.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _exact
from ._engine import BLAS, SMALL_FLOPS


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
    rows. Each QR stacks the block over ``R``, so it runs in cache, on one
    BLAS thread (``numpynn._engine.BLAS``).
    """
    n = X.shape[0]
    p = int(fit_intercept) + X.shape[1] + Y.shape[1]
    rows = rows or default_rows(p)
    # each QR is small (a block of about 1 MB): threads only wait for each other,
    # and on a busy machine a multi-threaded QR of 3000 x 22 was measured at
    # 135 ms against 1 ms on one thread; below ~1e6 flops the switch costs more
    flops = 2 * min(n, rows) * p * p
    with BLAS.one_thread(flops < 8 * SMALL_FLOPS and n * p * p > 1e6):
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


def blas_threads():
    """The number of threads BLAS may use now (respects ``threadpool_limits``)."""
    return BLAS.threads()


#: Blocks per segment of :func:`reduce_blocks`: fixed, so that the order of
#: the floating-point sums, hence the result, never depends on the threads.
SEGMENT_BLOCKS = 8


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def reduce_blocks(fn, n, rows, workers=1, add=_add):
    """``sum(fn(start, stop))`` over the row blocks, in threads, deterministically.

    ``fn`` returns a tuple of arrays for one block, ``add`` adds two such
    tuples (elementwise by default). Consecutive blocks are
    grouped in segments of ``SEGMENT_BLOCKS``; each segment is summed in
    order (by whichever of ``workers`` threads takes it), then the
    segments in order. The BLAS calls of ``fn`` release the GIL, so two
    threads read ``X`` at twice the speed of one when two cores are free
    (run them with BLAS on one thread each).
    """
    bounds = list(blocks(n, rows))
    segments = [bounds[i:i + SEGMENT_BLOCKS] for i in range(0, len(bounds), SEGMENT_BLOCKS)]

    def run(segment):
        total = None
        for start, stop in segment:
            part = fn(start, stop)
            total = part if total is None else add(total, part)
        return total

    if workers > 1 and len(segments) > 1:
        # each segment runs in a copy of the caller's context: its np.errstate holds there
        with ThreadPoolExecutor(min(workers, len(segments))) as pool:
            futures = [pool.submit(contextvars.copy_context().run, run, seg)
                       for seg in segments]
            parts = [f.result() for f in futures]
    else:
        parts = [run(seg) for seg in segments]
    total = parts[0]
    for part in parts[1:]:
        total = add(total, part)
    return total


def _gram_block(Xc, w):
    """``Xc^T W Xc``, ``Xc^T w`` and ``sum(w)`` of one block (``w=None``: unit weights)."""
    Xw = Xc if w is None else Xc * np.sqrt(w)[:, None]
    ones = np.ones(len(Xc)) if w is None else w
    # np.dot, not @: matmul holds the GIL through this syrk at d = 20, so a
    # second thread gains nothing (python -m benchmarks --only linear_parts)
    return np.dot(Xw.T, Xw), Xc.T @ ones, np.array([ones.sum()])          # syrk, gemv


def _gram(parts, fit_intercept, shift=None):
    """The Gram matrix of ``sqrt(w) [1, Xc - shift]`` (``(p_A, p_A)``) from the sums of ``Xc``.

    ``parts`` are :func:`_gram_block`'s sums over the blocks of ``Xc``;
    ``shift`` (``(d,)``) moves the columns afterwards, ``J^T G J`` with
    ``J = [[1, -shift^T], [0, I]]``: exact algebra, whose rounding stays
    small while the shift is at most about the columns' spread.
    """
    Gxx, s, W = parts
    if not fit_intercept:
        return Gxx
    G = np.block([[W[None], s[None]], [s[:, None], Gxx]])
    if shift is None or not np.any(shift):
        return G
    J = np.eye(len(G))
    J[0, 1:] = -shift
    return J.T @ G @ J


def design_gram(X, sw, x_shift, fit_intercept, rows=None, workers=1):
    """The Gram matrix of ``sqrt(w) [1, X - x_shift]`` (``(p_A, p_A)``), one read of ``X``.

    Its own pass: :func:`residual_pass` with ``gram=True`` forms the same
    sums in the read it makes anyway. Run it with BLAS on one thread
    (``numpynn._engine.BLAS.one_thread``); ``workers`` threads share the blocks.
    """
    n, d = X.shape
    c = x_shift if fit_intercept else np.zeros(d)

    def block(start, stop):
        w = None if sw is None else np.asarray(sw[start:stop], np.float64)
        return _gram_block(_block(X, None, start, stop) - c, w)

    return _gram(reduce_blocks(block, n, rows or default_rows(d, 1 << 18), workers),
                 fit_intercept)


def residual_pass(X, Y, sw, x_s, x_shift, y_shift, fit_intercept, centre=True, gram=False,
                  rows=None, workers=1):
    """The residual at shifted parameters ``x_s`` and its sums, in one read of ``X``, float64.

    With ``A = sqrt(w) [1, X - x_shift]`` and ``E = (Y - y_shift) - [1, X -
    x_shift] x_s``, returns ``g = A^T sqrt(w) E`` (``(p_A, k)``), ``S = E^T W E``
    (``(k, k)``) and, with ``gram``, the Gram matrix ``A^T A`` (``(p_A,
    p_A)``, else ``None``): the normal equations' ``X.T @ X`` formed from
    the same cached block as the residual products, so the data are read
    from memory once for all of them (the Gram matrix's ``syrk`` then runs
    in ``workers`` threads, where one BLAS call on all of ``X`` ran about as
    fast as on one thread: ``python -m benchmarks --only linear_parts``).

    Each block is read once, for its products in cache (a product with
    the two columns ``[E, 1]`` was measured 2x slower than two products).
    ``centre``: shift each block (in cache) before the products, which
    keeps large means out of the rounding of ``g`` and of the Gram matrix;
    without, the products use ``X`` as it is (no copy) and ``g`` and the
    Gram matrix are shifted afterwards, as accurate when the means are at
    most about the spread.
    """
    n, d = X.shape
    i = int(fit_intercept)
    centre = fit_intercept and centre
    c = x_shift if centre else np.zeros(d)
    const = y_shift + (x_s[0] - (x_shift - c) @ x_s[1:] if fit_intercept else 0.0)   # (k,)

    def block(start, stop):
        Xb = _block(X, None, start, stop)                            # (m, d)
        Xc = Xb - c if centre else Xb
        E = Xc @ x_s[i:]                                             # (m, k)
        np.subtract(np.asarray(Y[start:stop], np.float64), E, out=E)
        E -= const
        w = None if sw is None else np.asarray(sw[start:stop], np.float64)
        WE = E if w is None else E * w[:, None]
        out = (Xc.T @ WE, WE.sum(axis=0), E.T @ WE)
        return (*out, *_gram_block(Xc, w)) if gram else out

    parts = reduce_blocks(block, n, rows or default_rows(d, 1 << 18), workers)   # 2 MB
    XE, sE, S = parts[:3]
    gx = XE - (x_shift - c)[:, None] * sE                            # (X - x_shift)^T W E
    g = np.vstack([sE, gx]) if fit_intercept else gx
    return g, S, (_gram(parts[3:], fit_intercept, x_shift - c) if gram else None)


def residual_pass_dd(X, Y, sw, theta, fit_intercept, rows=None, workers=1):
    """As :func:`residual_pass` in double-double, unshifted: the exact data's gradient.

    ``theta`` is ``(coef, intercept, coef_lo, intercept_lo)``, the
    parameters as double-double pairs.

    Returns ``g`` for ``A = [1, X]`` as a double-double pair ``(g_hi,
    g_lo)`` of shape ``(p_A, k)`` each, and ``S = E^T W E`` of shape ``(k, k)``.
    """
    d, k = theta[0].shape

    def block(start, stop):
        Xb, Yb = raw(X, Y, start, stop)
        wb = None if sw is None else np.asarray(sw[start:stop], np.float64)
        hi, lo = _exact.residual_dd(Xb, Yb, *theta)                  # (m, k)
        gh, gl = _exact.gradient_dd(Xb, wb, hi, lo, fit_intercept)   # (p_A, k)
        return gh, gl, hi.T @ (hi if wb is None else hi * wb[:, None])

    g_hi, g_lo, S = reduce_blocks(block, X.shape[0], rows or max(64, (1 << 15) // (d * k)),
                                  workers, add=_add_dd)
    return _exact.two_sum(g_hi, g_lo), S


def _add_dd(a, b):
    """Add ``(g_hi, g_lo, S)`` partial sums, the gradient in double-double."""
    hi, e = _exact.two_sum(a[0], b[0])
    return hi, a[1] + b[1] + e, a[2] + b[2]
