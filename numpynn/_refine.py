r"""The in-memory extras of :func:`numpynn.lstsq.lstsq_fit`: a fast factor, refinement.

Fast factor (big, well-conditioned data). One read of ``X``, block by
block in threads (:func:`numpynn._passes.residual_pass`), forms both the
Gram matrix of :math:`A = D_w^{1/2}[\mathbf 1, X - c]` (centred, so large
means do not cancel in it) and the residual products at a start
:math:`x_0` (the normal equations of an even sample of 2048 rows); the
Cholesky factor of the Gram matrix is :math:`R_A`. It is used only when
the condition number of :math:`A` with unit columns is at most
``FAST_COND`` (``1e4``, a Gram matrix condition of ``1e8``), and then the
step

.. math:: x_1 = x_0 + (R_A^\top R_A)^{-1} A^\top W (Y - A x_0)

(the corrected semi-normal equations) lands within
:math:`\kappa^2\epsilon \lVert x_0 - x^*\rVert` of the solution, with
the rounding of a Householder QR, and gives the residual sum of squares
exactly; a second step (one more read) follows when that bound is above
``4 eps``, and if ``MAX_FAST`` steps do not land, the Householder path
takes over. Usually one read of ``X`` in all, where ``X.T @ X`` and
``X.T @ y`` make two (``python -m benchmarks --only lstsq``;
``tests/test_lstsq.py`` checks it against the double-double reference).

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


def gram_factor(G, max_cond):
    """``(R_A, cond)``: the Cholesky factor of the Gram matrix ``G = A^T A``; or ``None``.

    ``G`` is the Gram matrix of ``A = sqrt(w)[1, X - c]`` (from
    :func:`numpynn._passes.residual_pass`). ``None`` when the Cholesky
    factorisation fails or the condition number of ``A`` with unit
    columns (``cond``) exceeds ``max_cond``.
    """
    D = np.sqrt(np.diag(G))                                                # (p_A,)
    if not np.all(D > 0):
        return None
    try:
        Rs = np.linalg.cholesky(G / D / D[:, None]).T                      # unit-diagonal Gram
    except np.linalg.LinAlgError:
        return None
    cond = np.linalg.cond(Rs)
    return (Rs * D, cond) if cond <= max_cond else None


def fast_step(R_A, an, fit_intercept, start, a, S, alpha):
    """One corrected semi-normal-equations step from ``start``, float64 residuals.

    ``R_A`` (shifted, from :func:`gram_factor`), ``start`` the shifted
    ``x_s`` where the residual pass computed ``a = A^T W E`` and ``S``.
    Returns the new ``x_s`` and ``E^T W E`` there.
    """
    i = int(fit_intercept)
    rhs = a.copy()
    rhs[i:] -= alpha * start[i:]
    dx = correction(R_A, an, fit_intercept, rhs, alpha)
    return start + dx, residual_update(S, dx, a, R_A)


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


def scaled_ratio(dx, x, R_A, an, fit_intercept):
    """``||D dx|| / ||D x||`` with ``D`` the column norms (the intercept's: ``|r11|``)."""
    scale = np.concatenate([[np.abs(R_A[0, 0])], an.scale]) if fit_intercept else an.scale
    num, den = np.linalg.norm(scale[:, None] * dx), np.linalg.norm(scale[:, None] * x)
    return num / den if den > 0 else 0.0


def correction(R_A, an, fit_intercept, g, alpha):
    """The step ``dx`` (shifted, ``(p_A, k)``) solving ``(R_A^T R_A + alpha J) dx = g``."""
    return tri.solve(R_A, tri.correction_rhs(R_A, g), an, fit_intercept, alpha)[0]


def residual_update(S, dx, a, R_A):
    """``E'^T W E'`` for ``E' = E - A dx``, from ``S = E^T W E`` and ``a = A^T W E``."""
    Rdx = R_A @ dx                                                         # (p_A, k)
    return S - dx.T @ a - a.T @ dx + Rdx.T @ Rdx


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
