r"""The in-memory extras of :func:`numpynn.lstsq.lstsq_fit`: a fast factor, refinement.

Fast factor (big, well-conditioned data). One pass forms the Gram matrix
of :math:`M = D_w^{1/2}[\mathbf 1, X - c, Y - c_y]` block by block (the
cost of :math:`X^\top X`), and a Cholesky factorisation of its
column-scaled design part gives :math:`R_A`. It is used only when the
scaled condition number is at most ``FAST_COND`` (``1e4``, a Gram matrix
condition of ``1e8``), so the normal equations' solution is already
correct to about ``1e-8``; one pass of refinement

.. math:: x \leftarrow x + (R_A^\top R_A)^{-1} A^\top W (Y - A x)

(the corrected semi-normal equations) then brings it to the accuracy of
a Householder QR, and gives the residual sum of squares exactly.

Refinement to the exact solution (small or ill-conditioned data). The
same step, with the residual and :math:`A^\top W E` computed in
double-double (:mod:`numpynn._exact`) on the data as given, contracts
the error by about :math:`\kappa\epsilon` per pass (:math:`R_A` is the
exact factor of a nearby matrix), so a few passes reach the exact
least-squares solution of the float64 data, rounded to float64, for any
scaled condition number :math:`\kappa` up to about ``1e14``.
"""

from __future__ import annotations

import numpy as np

from . import _exact, _passes
from . import _triangle as tri

EPS = np.finfo(np.float64).eps


def fast_triangle(X, Y, sw, x_shift, y_shift, fit_intercept, max_cond, workers=1):
    """``R`` from the Cholesky factor of the Gram matrix, or ``None`` if ill-conditioned.

    The condition number checked is that of the *uncentred* ``[1, X]``
    with unit columns, so large means (which the Gram matrix would
    cancel) count against it too. The ``Z`` and ``T`` blocks are
    provisional (the Gram's); the caller replaces them after the
    refinement pass. The triangle is returned shifted by ``x_shift``,
    ``y_shift`` (its first row only), as the state keeps it.
    """
    k = Y.shape[1]
    p_a = int(fit_intercept) + X.shape[1]
    G = _passes.gram(X, Y, sw, fit_intercept, workers=workers)            # (p, p)
    D = np.sqrt(np.diag(G)[:p_a])                                          # (p_A,)
    if not np.all(D > 0):
        return None
    try:
        Rs = np.linalg.cholesky(G[:p_a, :p_a] / D / D[:, None]).T          # unit-diagonal Gram
    except np.linalg.LinAlgError:
        return None
    if not np.linalg.cond(Rs) <= max_cond:
        return None
    R_A = Rs * D                                                           # (p_A, p_A)
    Z = tri.correction_rhs(R_A, G[:p_a, p_a:])                             # (p_A, k)
    T = tri.psd_factor(G[p_a:, p_a:] - Z.T @ Z)                            # (k, k)
    R = np.block([[R_A, Z], [np.zeros((k, p_a)), T]])
    if fit_intercept:
        R[0, 1:] -= R[0, 0] * np.concatenate([x_shift, y_shift])
    return R


def shifted(g, x_shift, fit_intercept, g_lo=None):
    """``[1, X - c]^T v`` from ``[1, X]^T v`` (rows ``(p_A, k)``).

    With the low parts ``g_lo`` of a double-double ``g``, the products
    ``c_j g_0`` and the differences are formed in double-double too: near
    the solution ``g_j`` and ``c_j g_0`` nearly cancel, and a float64
    difference would leave an error of ``eps |c_j g_0|``, enough to stall
    the refinement on polynomial designs with large means.
    """
    if not fit_intercept:
        return g if g_lo is None else g + g_lo
    if g_lo is None:
        out = g.copy()
        out[1:] -= x_shift[:, None] * g[0]
        return out
    p, pe = _exact.two_prod(x_shift[:, None], g[:1])                     # (d, k)
    hi, e = _exact.two_sum(g[1:], -p)
    lo = e + g_lo[1:] - pe - x_shift[:, None] * g_lo[:1]
    return np.vstack([g[:1] + g_lo[:1], hi + lo])


def correction(R_A, an, fit_intercept, g, alpha):
    """The step ``dx`` (shifted, ``(p_A, k)``) solving ``(R_A^T R_A + alpha J) dx = g``."""
    return tri.solve(R_A, tri.correction_rhs(R_A, g), an, fit_intercept, alpha)[0]


def residual_update(S, dx, a, R_A):
    """``E'^T W E'`` for ``E' = E - A dx``, from ``S = E^T W E`` and ``a = A^T W E``."""
    Rdx = R_A @ dx                                                         # (p_A, k)
    return S - dx.T @ a - a.T @ dx + Rdx.T @ Rdx


def float64_step(state, x_s, an, X, Y, sw, alpha, workers=1):
    """One corrected semi-normal-equations step, float64 residuals.

    Takes and returns ``x_s`` in shifted coordinates; also returns
    ``E^T W E`` at the result.
    """
    fi = state.fit_intercept
    R_A = tri.parts(state.R, len(state.x_shift), fi)[0]
    coef, intercept = tri.unshift(x_s, state.x_shift, state.y_shift, fi)
    g, S = _passes.residual_pass(X, Y, sw, coef, intercept, fi, workers=workers)
    a = shifted(g, state.x_shift, fi)
    g = a.copy()
    g[int(fi):] -= alpha * coef
    dx = correction(R_A, an, fi, g, alpha)
    return x_s + dx, residual_update(S, dx, a, R_A)


def exact_steps(state, coef, intercept, an, X, Y, sw, alpha, max_steps, workers=1):
    """Refinement with double-double residuals until the step stops shrinking.

    ``coef`` (d, k) and ``intercept`` (k,) are in the data's coordinates.
    The iterate is carried as a double-double pair, so that the fixed
    point is the exact solution and not the nearest float64 vector that
    the correction can no longer move (on a scaled condition number of
    1e9 the two differ by 1e-7). Returns ``(coef, intercept, S, steps)``
    with the parameters rounded to float64 and ``S = E^T W E`` there.
    """
    fi = state.fit_intercept
    R_A = tri.parts(state.R, len(state.x_shift), fi)[0]
    scale = np.concatenate([[np.abs(R_A[0, 0])], an.scale]) if fi else an.scale
    theta = [coef, intercept, np.zeros_like(coef), np.zeros_like(intercept)]
    prev, steps, S = np.inf, 0, None
    for _ in range(max_steps):
        (g, g_lo), S = _passes.residual_pass_dd(X, Y, sw, theta, fi, workers=workers)
        a = shifted(g, state.x_shift, fi, g_lo)
        g = a.copy()
        g[int(fi):] -= alpha * (theta[0] + theta[2])
        dx = correction(R_A, an, fi, g, alpha)                             # (p_A, k)
        size = np.linalg.norm(scale[:, None] * dx)
        if size > 0.5 * prev:                  # at the noise floor (or diverging): stop
            break
        dB = dx[int(fi):]
        db = dx[0] - state.x_shift @ dB if fi else np.zeros_like(intercept)
        theta = [*_dd_add(theta[0], theta[2], dB), *_dd_add(theta[1], theta[3], db)]
        theta = [theta[0], theta[2], theta[1], theta[3]]
        S = residual_update(S, dx, a, R_A)
        steps += 1
        big = np.concatenate([np.abs(theta[1])[None], np.abs(theta[0])]) if fi else theta[0]
        step = np.vstack([db, dB]) if fi else dB
        if np.all(np.abs(step) <= 1e-3 * EPS * np.abs(big)):
            break
        prev = size
    return theta[0] + theta[2], theta[1] + theta[3], S, steps


def _dd_add(hi, lo, step):
    """``(hi + lo) + step`` as a renormalised double-double pair."""
    s, e = _exact.two_sum(hi, step)
    return _exact.two_sum(s, lo + e)


def consistent_triangle(state, x_s, S):
    """The state's ``R`` with ``Z = R_A x_s`` and ``T^T T = S``: it solves to ``x_s``."""
    p_a = x_s.shape[0]
    R = state.R.copy()
    R[:p_a, p_a:] = R[:p_a, :p_a] @ x_s
    R[p_a:, p_a:] = tri.psd_factor((S + S.T) / 2)
    return R
