r"""Least squares you can trust: streamed, mergeable, rank-revealing, refined.

The state of a fit is the R factor of the weighted, shifted, augmented
matrix

.. math::

    M = D_w^{1/2}\,[\mathbf 1,\; X - \mathbf 1 c^\top,\; Y - \mathbf 1 c_y^\top]
      = Q \begin{pmatrix} r_{11} & r_{12}^\top & z_1^\top \\
                          0 & K & Z_2 \\
                          0 & 0 & T \end{pmatrix}

of shape ``(n, 1 + d + k)`` (no ones column when ``fit_intercept=False``;
then :math:`c = 0`). Because the ones column comes first, :math:`K` is
the R factor of the weighted *centred* :math:`X` whatever the shift
:math:`c`; a shift near the mean (the first block's) only keeps the
rounding of large means out of it. From the triangle alone:

* coefficients :math:`B = \arg\min \lVert K B - Z_2\rVert^2 +
  \alpha\lVert B\rVert^2` (the columns of :math:`K` are scaled to unit
  norm before an SVD decides the rank, so the decision is
  scale-invariant; a rank-deficient design gets the minimum-norm
  solution, as scikit-learn's ``LinearRegression``);
* intercept :math:`b = c_y + (z_1 - r_{12}^\top B)/r_{11} - c^\top B`;
* residual sum of squares from :math:`T` and the small system, with no
  second pass; and the covariance of the estimates
  (:mod:`numpynn.inference`).

Since :math:`R^\top R = M^\top M`, the R factor of ``[R_old; M_new]`` is
the state of all rows seen: :func:`lstsq_update` streams blocks
(``partial_fit``, memory maps), :func:`lstsq_merge` combines states of
disjoint blocks from many workers (TSQR). One pass gets the accuracy of
a backward-stable QR, :math:`\kappa\,\epsilon` for the condition number
:math:`\kappa` of the scaled centred design. :func:`lstsq_fit`, with all
the data at hand, goes further: iterative refinement whose residuals are
computed in double-double arithmetic lands on the exact least-squares
solution of the float64 data (:doc:`/accuracy`), and on big
well-conditioned data it takes a Cholesky fast path at the cost of
:math:`X^\top X`.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from . import _passes, _refine
from . import _triangle as tri
from ._engine import BLAS, TRICKS
from ._legacy import qr_combine, qr_solve, qr_update
from ._state import LstsqFit, LstsqSolution, LstsqState, as_2d, counts, make_solution, shifts

__all__ = ["LstsqState", "LstsqSolution", "LstsqFit", "lstsq_update", "lstsq_merge",
           "lstsq_solve", "lstsq_fit", "newton_step", "qr_update", "qr_combine", "qr_solve"]

EPS = np.finfo(np.float64).eps
#: Data with at most this many entries (rows times design columns) are
#: always refined to the exact solution: a few double-double passes cost
#: milliseconds there.
SMALL_SIZE = 1 << 16
#: The Cholesky fast path is taken when the column-scaled design's
#: condition number is at most this (its Gram matrix's at most 1e8).
FAST_COND = 1e4
#: Refinement passes at most: the double-double ones, and the fast path's
#: float64 ones (which stop once kappa^2 eps times the last step is below 4 eps).
MAX_REFINE = 10
MAX_FAST = 3
#: The error for data whose squares leave float64 (any overflow in a fit is one).
OVERFLOW = ("Least squares overflows float64: the values of X or y are too large (their "
            "squares pass 1e308); scale them (e.g. StandardScaler in a Pipeline, "
            "TransformedTargetRegressor for y).")


def _overflow_is_an_error(fn):
    """Run ``fn`` with floating-point overflow raised as ``ValueError(OVERFLOW)``.

    An overflow anywhere in a least-squares computation means the data's
    squares left float64; the result would be silently wrong (a column
    norm of ``inf`` scales its column to zero), so it is refused instead.
    """
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            with np.errstate(over="raise"):
                return fn(*args, **kwargs)
        except FloatingPointError:
            raise ValueError(OVERFLOW) from None
    return guarded


#: Factorisations of triangles up to this size run on one BLAS thread: on a
#: busy machine a multi-threaded SVD of 51 x 51 was measured at 10 ms
#: (median; 0.4 ms on one thread).
SMALL_LAPACK = 256


@_overflow_is_an_error
def lstsq_update(state, X, y, sample_weight=None, *, fit_intercept=True, block_rows=None):
    """Fold rows ``(X, y)`` into a least-squares state (one pass, bounded memory).

    Parameters
    ----------
    state : LstsqState or None
        The state so far (``None`` to start; then the shift is the
        weighted mean of an even sample of these rows).
    X : ndarray, memory map or sparse matrix of shape (n_samples, d)
        Read in blocks of ``block_rows`` rows (a sparse block is densified
        alone): memory stays about 1 MB whatever ``n_samples``.
    y : ndarray of shape (n_samples,) or (n_samples, k)
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
        Must match ``state``'s.
    block_rows : int, default=None
        Rows per Householder QR; by default about 1 MB of float64, so each
        QR runs in cache (measured about 3x faster than 32 MB blocks).

    Returns
    -------
    state : LstsqState

    Raises
    ------
    ValueError
        If ``X`` or ``y`` does not match the state's shapes or ``fit_intercept``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)); y = X @ [1.0, -2.0] + 0.5
    >>> state = None
    >>> for start in range(0, 100, 30):               # blocks arriving one by one
    ...     state = lstsq_update(state, X[start:start + 30], y[start:start + 30])
    >>> sol = lstsq_solve(state)
    >>> sol.coef.ravel().round(12), sol.intercept.round(12), state.n_samples
    (array([ 1., -2.]), array([0.5]), 100)
    """
    Y = as_2d(y)
    if state is not None:
        _check_compatible(state, X.shape[1], Y.shape[1], fit_intercept)
    if state is None or state.n_samples == 0:
        x_shift, y_shift = shifts(X, Y, sample_weight, fit_intercept)
        R, n0, w0 = None, 0, 0.0
    else:
        x_shift, y_shift, R = state.x_shift, state.y_shift, state.R
        n0, w0 = state.n_samples, state.sum_weights
    R = _passes.householder(R, X, Y, sample_weight, x_shift, y_shift, fit_intercept,
                            block_rows)
    n, w = counts(X.shape[0], sample_weight)
    return LstsqState(R, x_shift, y_shift, n0 + n, w0 + w, bool(fit_intercept))


def _check_compatible(state, d, k, fit_intercept):
    if bool(state.fit_intercept) != bool(fit_intercept):
        raise ValueError(f"The state was built with fit_intercept={state.fit_intercept}; "
                         f"got fit_intercept={fit_intercept}.")
    if (len(state.x_shift), len(state.y_shift)) != (d, k):
        raise ValueError(f"The state has {len(state.x_shift)} features and "
                         f"{len(state.y_shift)} outputs; got {d} and {k}.")


@_overflow_is_an_error
def lstsq_merge(states):
    """Combine the states of disjoint row blocks (the reduce step of TSQR).

    Parameters
    ----------
    states : iterable of LstsqState
        From :func:`lstsq_update` (or earlier merges) of disjoint rows, in
        any order, with the same ``fit_intercept``, ``d`` and ``k``. Their
        shifts may differ: each is moved to the weighted mean of the
        shifts first (this changes only the first row of its triangle).

    Returns
    -------
    state : LstsqState
        The state of all their rows together.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2)); y = rng.normal(size=20)
    >>> merged = lstsq_merge([lstsq_update(None, X[:9], y[:9]), lstsq_update(None, X[9:], y[9:])])
    >>> bool(np.allclose(lstsq_solve(merged).coef, lstsq_solve(lstsq_update(None, X, y)).coef))
    True
    """
    states = list(states)
    if not states:
        raise ValueError("lstsq_merge needs at least one state.")
    first = states[0]
    for s in states[1:]:
        _check_compatible(s, len(first.x_shift), len(first.y_shift), first.fit_intercept)
    live = [s for s in states if s.n_samples > 0] or [first]
    shift = np.concatenate([live[0].x_shift, live[0].y_shift])
    if first.fit_intercept and any(not np.array_equal(s.x_shift, live[0].x_shift)
                                   or not np.array_equal(s.y_shift, live[0].y_shift)
                                   for s in live):
        w = np.array([s.sum_weights for s in live])
        shifts = np.array([np.concatenate([s.x_shift, s.y_shift]) for s in live])
        shift = np.average(shifts, axis=0, weights=w if w.sum() > 0 else None)
    blocks = []
    for s in live:
        R = s.R.copy()
        if s.fit_intercept:                          # move to the common shift: row 0 only
            R[0, 1:] += R[0, 0] * (np.concatenate([s.x_shift, s.y_shift]) - shift)
        blocks.append(R)
    p = first.R.shape[0]
    R = _passes.square(np.linalg.qr(np.vstack(blocks), mode="r"), p)
    d = len(first.x_shift)
    return LstsqState(R, shift[:d], shift[d:], sum(s.n_samples for s in states),
                      float(sum(s.sum_weights for s in states)), first.fit_intercept)


def _unshift(x_s, state):
    return tri.unshift(x_s, state.x_shift, state.y_shift, state.fit_intercept)


def _mean_x(state):
    R_A = state.R
    return state.x_shift + R_A[0, 1:1 + len(state.x_shift)] / R_A[0, 0]


@_overflow_is_an_error
def lstsq_solve(state, *, alpha=0.0, rtol=None, start=None):
    r"""Coefficients, intercepts, rank and residuals from the state alone.

    Parameters
    ----------
    state : LstsqState
    alpha : float, default=0.0
        Ridge penalty :math:`\alpha\lVert B\rVert^2` per output, intercept
        free: scikit-learn's ``Ridge(alpha)``. (``LinearRegressor``, whose
        loss averages the ``k`` outputs, passes ``k * alpha``.)
    rtol : float, default=None
        Relative cut-off on the singular values of the column-scaled
        centred design (default about ``2e-13``): smaller ones are taken as
        exact dependencies.
    start : tuple (coef, intercept) of ndarray of shape (d, k) and (k,), default=None
        When the minimiser is not unique (``rank < d``, ``alpha == 0``),
        return the one nearest ``start`` in :math:`(b, B)` (Newton's step
        from ``start``); ``None``: the one with the smallest
        :math:`\lVert B\rVert`, as ``LinearRegression``.

    Returns
    -------
    solution : LstsqSolution

    Raises
    ------
    ValueError
        If no sample with a positive weight was seen.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> y = X @ np.array([1.0, -2.0]) + 0.5
    >>> sol = lstsq_solve(lstsq_update(None, X, y))
    >>> sol.coef.ravel().round(12), sol.intercept.round(12), sol.rss.round(12), sol.rank
    (array([ 1., -2.]), array([0.5]), array([0.]), 2)

    A duplicated column: rank 1, and the weight split equally (minimum norm).

    >>> sol = lstsq_solve(lstsq_update(None, X[:, [0, 0]], X[:, 0] * 3.0))
    >>> sol.rank, sol.coef.ravel().round(12)
    (1, array([1.5, 1.5]))
    """
    x_s, null, an, rss = _solve_shifted(state, alpha, rtol)
    coef, intercept = _unshift(x_s, state)
    if start is not None and null.shape[1] and alpha == 0:
        fi = state.fit_intercept
        theta = np.vstack([intercept, coef]) if fi else coef
        goal = np.vstack([start[1], start[0]]) if fi else start[0]
        theta = tri.nearest(theta, null, np.asarray(goal, np.float64),
                            _mean_x(state) if fi else None)
        coef, intercept = theta[int(fi):], (theta[0] if fi else intercept)
    return make_solution(state, coef, intercept, an, rss, alpha, 0)


def _solve_shifted(state, alpha, rtol):
    """``(x_s, null, analysis, rss)``: the solution in shifted coordinates."""
    R_A, Z, T = tri.parts(state.R, len(state.x_shift), state.fit_intercept)
    if state.sum_weights <= 0 or (state.fit_intercept and R_A[0, 0] == 0):
        raise ValueError("Least squares needs at least one sample with positive weight.")
    with BLAS.one_thread(len(R_A) <= SMALL_LAPACK):   # small SVDs: threads only stall
        an = tri.analyse(R_A, state.x_shift, state.fit_intercept, rtol)
        x_s, null = tri.solve(R_A, Z, an, state.fit_intercept, alpha)
    rss = ((R_A @ x_s - Z) ** 2).sum(axis=0) + (T ** 2).sum(axis=0)    # (k,)
    return x_s, null, an, rss


@_overflow_is_an_error
def lstsq_fit(X, y, sample_weight=None, *, fit_intercept=True, alpha=0.0, rtol=None,
              start=None, refine="auto", block_rows=None):
    r"""Least squares on data in memory (or memory-mapped): as accurate as float64 allows.

    With the data at hand, the one-pass solution of :func:`lstsq_solve`
    is refined by passes over the data (:mod:`numpynn._refine`):

    * ``refine="auto"``: data with at most ``SMALL_SIZE`` (65 536)
      entries, and ill-conditioned data (scaled condition number above
      ``1e4``), get a Householder QR and refinement with double-double
      residuals until it stops improving: the exact least-squares
      solution of the float64 data, rounded (every NIST StRD linear data
      set to its last digit, :doc:`/accuracy`). Bigger well-conditioned
      data take the fast path: one read of ``X`` forms the centred Gram
      matrix and the residual at a start fitted on a sample of rows,
      then a float64 refinement step from the Gram matrix's Cholesky
      factor: the time of the normal equations, at least the accuracy of
      a Householder QR (the exact solution unless the residuals are large
      or the intercept is far smaller than the means, :doc:`/accuracy`).
    * ``refine=True``: always Householder and double-double refinement.
    * ``refine=False``: one pass, exactly ``lstsq_solve(lstsq_update(None, X, y, ...))``.

    Rank-deficient designs get the minimum-norm solution, unrefined.
    Memory stays bounded by a block of rows whatever ``n_samples``.

    Parameters
    ----------
    X : ndarray, memory map or sparse matrix of shape (n_samples, d)
    y : ndarray of shape (n_samples,) or (n_samples, k)
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    alpha : float, default=0.0
        Per-output ridge penalty, as in :func:`lstsq_solve`.
    rtol : float, default=None
        Rank cut-off, as in :func:`lstsq_solve`.
    start : tuple (coef, intercept), default=None
        As in :func:`lstsq_solve` (matters only when ``rank < d``).
    refine : {"auto", True, False}, default="auto"
    block_rows : int, default=None
        Rows per Householder QR, as in :func:`lstsq_update`.

    Returns
    -------
    fit : LstsqFit
        ``(state, solution)``. The state streams on (:func:`lstsq_update`)
        and feeds :mod:`numpynn.inference`; after refinement its ``Z`` and
        ``T`` blocks are those of the refined solution, so
        ``lstsq_solve(state)`` returns it again (to about ``cond * 1e-16``).

    Examples
    --------
    Features in very different units, one with a mean 1e5 times its
    spread: the raw design's condition number is about 1e10, yet the fit
    recovers the coefficients exactly.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3)) * [1e-3, 1.0, 1e4] + [0.0, 1e5, 0.0]
    >>> y = X @ [3.0, 2.0, 1e-4] + 7.0
    >>> state, sol = lstsq_fit(X, y)
    >>> sol.coef.ravel().tolist(), sol.intercept.tolist(), sol.refinements > 0
    ([3.0, 2.0, 0.0001], [7.0], True)
    """
    Y = as_2d(y)
    n, d = X.shape
    if refine not in ("auto", True, False):
        raise ValueError(f"refine must be 'auto', True or False; got {refine!r}.")
    x_shift, y_shift = shifts(X, Y, sample_weight, fit_intercept)
    if refine == "auto" and n * (int(fit_intercept) + d) > SMALL_SIZE:
        workers = _passes.blas_threads()               # as many threads as BLAS would use
        fast = _fast_fit(X, Y, sample_weight, x_shift, y_shift, fit_intercept, alpha, rtol,
                         workers)
        if fast is not None:
            return fast
    R = _passes.householder(None, X, Y, sample_weight, x_shift, y_shift, fit_intercept,
                            block_rows)
    state = LstsqState(R, x_shift, y_shift, *counts(n, sample_weight), bool(fit_intercept))
    x_s, null, an, rss = _solve_shifted(state, alpha, rtol)
    if refine is False or an.rank < d:
        return LstsqFit(state, lstsq_solve(state, alpha=alpha, rtol=rtol, start=start))
    coef, intercept = _unshift(x_s, state)
    workers = _passes.blas_threads() if n * d > SMALL_SIZE else 1
    with BLAS.one_thread(workers > 1):
        coef, intercept, S, steps = _refine.exact_steps(state, coef, intercept, an, X, Y,
                                                        sample_weight, alpha, MAX_REFINE,
                                                        workers)
    x_s = tri.shift(coef, intercept, state.x_shift, state.y_shift, state.fit_intercept)
    return _refined(state, x_s, coef, intercept, S, an, alpha, steps)


def _fast_fit(X, Y, sw, x_shift, y_shift, fit_intercept, alpha, rtol, workers):
    """The Cholesky fast path and its float64 refinement; ``None`` if ill-conditioned."""
    d, fi = X.shape[1], fit_intercept
    with BLAS.one_thread():                       # many small BLAS calls, in threads
        x_s, centre = _sample_start(X, Y, sw, fi, x_shift, y_shift)
        gram = TRICKS["gram_in_residual_pass"]
        G = None if gram else _passes.design_gram(X, sw, x_shift, fi, workers=workers)
        for steps in range(1, MAX_FAST + 1):
            a, S, G_pass = _passes.residual_pass(X, Y, sw, x_s, x_shift, y_shift, fi, centre,
                                                 gram=gram and steps == 1, workers=workers)
            if steps == 1:
                factor = _refine.gram_factor(G_pass if gram else G, FAST_COND)
                if factor is None:
                    return None
                R_A, cond = factor
                an = tri.analyse(R_A, x_shift, fi, rtol)
                if an.rank < d:
                    return None
            x_new, S = _refine.fast_step(R_A, an, fi, x_s, a, S, alpha)
            left = cond ** 2 * EPS * _refine.scaled_ratio(x_new - x_s, x_new, R_A, an, fi)
            x_s = x_new
            if left <= 4 * EPS:                        # what the step left: kappa^2 eps |dx|
                break
        else:
            return None                # a start so far off that MAX_FAST steps did not land
    k = Y.shape[1]
    R = np.block([[R_A, R_A @ x_s], [np.zeros((k, len(R_A))), tri.psd_factor(S)]])
    state = LstsqState(R, x_shift, y_shift, *counts(X.shape[0], sw), bool(fi))
    coef, intercept = _unshift(x_s, state)
    return _refined(state, x_s, coef, intercept, S, an, alpha, steps)


def _sample_start(X, Y, sw, fit_intercept, x_shift, y_shift, sample=2048):
    """The fast path's start (shifted ``x_s``), fitted on an even sample of rows.

    Also returns whether to centre: some feature's mean (the shift)
    exceeds its spread in the sample, so the residual pass should shift
    its blocks. The start needs no care (the step from it is exact to
    ``kappa^2 eps`` times its error): the sample's normal equations,
    zeros when their Cholesky factorisation fails.
    """
    rows = slice(0, X.shape[0], max(1, X.shape[0] // sample))
    Xs, Ys = _passes.raw(X[rows], Y[rows], 0, None)                    # (m, d), (m, k)
    centre = bool(np.any(np.abs(x_shift) > Xs.std(axis=0)))
    p_a, m = int(fit_intercept) + X.shape[1], Xs.shape[0]
    M = _passes.fill(np.empty((m, p_a + Ys.shape[1])), Xs, Ys,
                     None if sw is None else sw[rows], 0, m, x_shift, y_shift, fit_intercept)
    G = M.T @ M                                                        # [A, Z]^T [A, Z]
    try:
        return cho_solve(cho_factor(G[:p_a, :p_a]), G[:p_a, p_a:]), centre
    except np.linalg.LinAlgError:
        return np.zeros((p_a, Ys.shape[1])), centre


def _refined(state, x_s, coef, intercept, S, an, alpha, steps):
    state = state._replace(R=_refine.consistent_triangle(state, x_s, S))
    rss = np.clip(np.diag(S), 0.0, None)
    return LstsqFit(state, make_solution(state, coef, intercept, an, rss, alpha, steps))


@_overflow_is_an_error
def newton_step(X, y, sample_weight=None, coef=None, intercept=None, *, fit_intercept=True,
                alpha=0.0):
    r"""Newton's step on the half mean squared error, solved from a QR factor.

    On this quadratic loss one step from :math:`\theta_0 = (b_0, B_0)`,
    :math:`\theta_0 - \mathcal H^{+}\nabla L(\theta_0)`, lands on the
    minimiser nearest :math:`\theta_0` (the unique one when the design has
    full rank). Forming :math:`\mathcal H` squares the condition number
    (about 1e19 on NIST's Pontius, 1e30 on Filip: no digit survives), so
    the step is computed as :func:`lstsq_fit` does, from the QR factor of
    the data with refinement, and is exactly as accurate.

    Parameters
    ----------
    X : ndarray, memory map or sparse matrix of shape (n_samples, d)
    y : ndarray of shape (n_samples,) or (n_samples, k)
    sample_weight : ndarray of shape (n_samples,), default=None
    coef : ndarray of shape (d, k), default=None
        :math:`B_0` (``None``: zeros).
    intercept : ndarray of shape (k,), default=None
        :math:`b_0` (``None``: zeros; ignored without an intercept).
    fit_intercept : bool, default=True
    alpha : float, default=0.0
        Per-output ridge penalty (``LinearRegressor`` passes ``k * alpha``).

    Returns
    -------
    fit : LstsqFit
        The state and the parameters after the step.

    Examples
    --------
    A duplicated column: the step keeps the start's component along the
    flat direction, as the pseudo-inverse Newton step does.

    >>> X = np.array([[0.0], [1.0], [2.0]])[:, [0, 0]]; y = 2.0 * X[:, 0] + 1.0
    >>> sol = newton_step(X, y, coef=np.array([[3.0], [0.0]])).solution
    >>> sol.coef.ravel().round(12), sol.intercept.round(12)
    (array([ 2.5, -0.5]), array([1.]))
    """
    Y = as_2d(y)
    k = Y.shape[1]
    coef = np.zeros((X.shape[1], k)) if coef is None else np.asarray(coef, np.float64)
    intercept = np.zeros(k) if intercept is None else np.asarray(intercept, np.float64)
    return lstsq_fit(X, Y, sample_weight, fit_intercept=fit_intercept, alpha=alpha,
                     start=(coef.reshape(-1, k), intercept.reshape(k)))
