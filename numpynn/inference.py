r"""Standard errors, tests and intervals from a least-squares state.

Everything here is computed from the small triangle of
:class:`numpynn.lstsq.LstsqState`, never from the rows, so it works after
streamed ``partial_fit`` and after :func:`numpynn.parallel.fit_lstsq_dask`
as well as after an in-memory fit. With :math:`A = D_w^{1/2}[\mathbf 1, X]`
(weighted least squares, statsmodels' ``WLS`` semantics: weights are
inverse variances up to a common factor) and :math:`R_A` its R factor,

.. math::

    \hat\sigma_j^2 = \frac{\mathrm{RSS}_j}{n - p}, \qquad
    \operatorname{Cov}(\hat\theta_j) = \hat\sigma_j^2 (A^\top A)^{-1}
    = \hat\sigma_j^2\, R_A^{-1} R_A^{-\top}

for each output :math:`j` (``cov_type="nonrobust"``; :math:`p` counts the
intercept). The heteroscedasticity-consistent ("sandwich") types need
each row's residual and leverage :math:`h_i = \lVert R_A^{-\top} a_i
\rVert^2`, one more pass over the data (:func:`robust_meat`, chunked,
mergeable across blocks):

.. math::

    \operatorname{Cov}_{\mathrm{HC}}(\hat\theta_j) = R_A^{-1} \Bigl(\sum_i
    \omega_{ij}\, q_i q_i^\top\Bigr) R_A^{-\top}, \qquad q_i = R_A^{-\top}
    a_i,\quad \omega_{ij} = w_i e_{ij}^2 \times
    \begin{cases} 1 & \text{HC0} \\ n/(n-p) & \text{HC1} \\
    1/(1-h_i) & \text{HC2} \\ 1/(1-h_i)^2 & \text{HC3.} \end{cases}

:doc:`/inference` explains each column of the summary for learners.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.linalg import solve_triangular

from . import _passes
from . import _triangle as tri
from ._robust import RobustMeat, merge_meats, robust_meat
from ._summary import Summary

__all__ = ["Summary", "RobustMeat", "robust_meat", "merge_meats", "coef_cov", "summarize",
           "predict_std", "prediction_interval"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


def _check(state, solution, cov_type, meat):
    """Raise the errors of an undefined inference; return ``(p, df_resid)``."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}.")
    if getattr(solution, "alpha", 0.0) > 0:
        raise ValueError("Standard errors are for ordinary or weighted least squares "
                         "(alpha=0); this fit is penalised (ridge).")
    d = len(state.x_shift)
    if solution.rank < d:
        raise ValueError(
            f"The design has rank {solution.rank} < {d} features (collinear or constant "
            "columns): the coefficients are not identifiable, so their standard errors, "
            "t statistics, p-values and confidence intervals are undefined. Predictions, "
            "residual SD and R^2 remain defined; drop the redundant columns to get inference.")
    p = int(state.fit_intercept) + d
    df_resid = state.n_samples - p
    if df_resid <= 0:
        raise ValueError(f"Inference needs more observations than coefficients: n = "
                         f"{state.n_samples}, {p} coefficients, df_resid = {df_resid}.")
    if cov_type != "nonrobust" and meat is None:
        raise ValueError(f"cov_type={cov_type!r} needs the residuals of every row: pass "
                         "meat=robust_meat(X, y, sample_weight, state, solution).")
    return p, df_resid


def _inverse_factor(state):
    R_A = tri.parts(state.R, len(state.x_shift), state.fit_intercept)[0]
    return R_A, solve_triangular(R_A, np.eye(R_A.shape[0]))         # (p, p), R_A^-1


def _middle(state, solution, cov_type, meat, df_resid):
    """The ``(k, p, p)`` matrices ``M_j`` with ``Cov_j = R^-1 M_j R^-T`` (shifted coordinates)."""
    k = solution.rss.shape[0]
    p = tri.parts(state.R, len(state.x_shift), state.fit_intercept)[0].shape[0]
    if cov_type == "nonrobust":
        return (solution.rss / df_resid)[:, None, None] * np.eye(p)
    if cov_type == "HC1":
        return meat.hc0 * (state.n_samples / df_resid)
    return {"HC0": meat.hc0, "HC2": meat.hc2, "HC3": meat.hc3}[cov_type].reshape(k, p, p)


def _to_user(C, state):
    """Covariances of shifted parameters to ``(intercept, coef)`` of the data."""
    if not state.fit_intercept:
        return C
    J = np.eye(C.shape[-1])
    J[0, 1:] = -state.x_shift                     # b = b' + c_y - c^T B
    return J @ C @ J.T


def coef_cov(state, solution, cov_type="nonrobust", meat=None):
    """Covariance matrix of ``(intercept, coef)`` per output.

    Parameters
    ----------
    state : LstsqState
    solution : LstsqSolution
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
    meat : RobustMeat, default=None
        From :func:`robust_meat`; needed for the HC types.

    Returns
    -------
    cov : ndarray of shape (k, n_coef, n_coef)
        Intercept first when fitted.

    Raises
    ------
    ValueError
        Rank-deficient design, a ridge fit, ``df_resid <= 0``, an unknown
        ``cov_type`` or a missing ``meat``.

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> cov = coef_cov(*lstsq_fit(X, y))
    >>> np.sqrt(np.diag(cov[0])).round(6)          # statsmodels OLS: bse
    array([0.494975, 0.264575])
    """
    _, df_resid = _check(state, solution, cov_type, meat)
    _, Rinv = _inverse_factor(state)
    M = _middle(state, solution, cov_type, meat, df_resid)            # (k, p, p)
    return _to_user(Rinv @ M @ Rinv.T, state)


def _squeeze(a, k):
    return a[0] if k == 1 else a


def summarize(state, solution, *, cov_type="nonrobust", meat=None, alpha=0.05,
              feature_names=None):
    """Estimates, standard errors, t tests, intervals, R^2 and F test per output.

    Equal to statsmodels' ``OLS`` / ``WLS`` results (``use_t=True`` for the
    HC types) to rounding, computed from the state alone.

    Parameters
    ----------
    state : LstsqState
    solution : LstsqSolution
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
    meat : RobustMeat, default=None
        Needed for the HC types (:func:`robust_meat`).
    alpha : float, default=0.05
        Confidence intervals at level ``1 - alpha``.
    feature_names : sequence of str, default=None
        ``None``: ``x0, x1, ...`` (scikit-learn's default names).

    Returns
    -------
    summary : Summary

    Raises
    ------
    ValueError
        As :func:`coef_cov`, or ``alpha`` outside (0, 1).

    Examples
    --------
    Moore's law: log10 of transistor counts against the year.

    >>> from numpynn.datasets import load_moore
    >>> from numpynn.lstsq import lstsq_fit
    >>> moore = load_moore()
    >>> s = summarize(*lstsq_fit(moore.data, np.log10(moore.target)), feature_names=["year"])
    >>> lo, hi = s.conf_int[1]
    >>> doubling = np.log10(2) / np.array([s.coef[1], hi, lo])   # years
    >>> doubling.round(2)
    array([2.02, 1.94, 2.1 ])
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    C = coef_cov(state, solution, cov_type, meat)                             # (k, p, p)
    p, df_resid = _check(state, solution, cov_type, meat)
    fi, k = state.fit_intercept, solution.rss.shape[0]
    theta = np.vstack([solution.intercept, solution.coef]).T if fi else solution.coef.T
    se = np.sqrt(np.diagonal(C, axis1=1, axis2=2))                            # (k, p)
    with np.errstate(divide="ignore", invalid="ignore"):                       # exact fits
        t = theta / se
    q = stats.t.ppf(1 - alpha / 2, df_resid)
    r2, adj, f, f_p = _fit_statistics(state, solution, C, theta, df_resid, cov_type)
    d = len(state.x_shift)
    names = tuple(f"x{j}" for j in range(d)) if feature_names is None else \
        tuple(str(v) for v in feature_names)
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names for {d} features.")
    return Summary(
        names=(("intercept",) if fi else ()) + names, coef=_squeeze(theta, k),
        std_err=_squeeze(se, k), t=_squeeze(t, k),
        p_values=_squeeze(2 * stats.t.sf(np.abs(t), df_resid), k),
        conf_int=_squeeze(np.stack([theta - q * se, theta + q * se], axis=-1), k),
        r2=_squeeze(r2, k), adj_r2=_squeeze(adj, k),
        residual_sd=_squeeze(np.sqrt(solution.rss / df_resid), k),
        f_statistic=_squeeze(f, k), f_pvalue=_squeeze(f_p, k), n=int(state.n_samples),
        df_model=d, df_resid=int(df_resid), cov_type=cov_type, alpha=float(alpha),
        cov=_squeeze(C, k))


def _fit_statistics(state, solution, C, theta, df_resid, cov_type):
    """R^2, adjusted R^2, F statistic and its p-value, per output ``(k,)`` each.

    An exact fit (RSS = 0) has an infinite F statistic and p-value 0.
    """
    fi, d = state.fit_intercept, len(state.x_shift)
    tss = (state.R[int(fi):, int(fi) + d:] ** 2).sum(axis=0)  # centred; uncentred without intercept
    rss = solution.rss
    r2 = 1 - rss / tss
    adj = 1 - (state.n_samples - int(fi)) / df_resid * (1 - r2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if cov_type == "nonrobust":
            f = ((tss - rss) / d) / (rss / df_resid)
        else:                                           # Wald test with the robust covariance
            i = int(fi)
            f = np.array([_wald(b[i:], Cj[i:, i:]) for b, Cj in zip(theta, C, strict=True)]) / d
    return r2, adj, f, stats.f.sf(f, d, df_resid)


def _wald(b, C):
    try:
        return float(b @ np.linalg.solve(C, b))
    except np.linalg.LinAlgError:                       # an exact fit: no variance at all
        return np.inf


def _prediction_variance(state, solution, X, cov_type, meat, block_rows):
    """Predictions and variances of the mean prediction at ``X``: ``(n0, k)`` each, chunked."""
    _, df_resid = _check(state, solution, cov_type, meat)
    R_A = tri.parts(state.R, len(state.x_shift), state.fit_intercept)[0]
    M = _middle(state, solution, cov_type, meat, df_resid)                   # (k, p, p)
    var, y_pred = np.empty((2, X.shape[0], M.shape[0]))
    rows = block_rows or _passes.default_rows(R_A.shape[0])
    for start, stop in _passes.blocks(X.shape[0], rows):
        A = _passes.design_rows(X, None, start, stop, state.x_shift, state.fit_intercept)
        U = solve_triangular(R_A, A.T, trans="T")                            # (p, m)
        var[start:stop] = np.einsum("pm,kpq,qm->mk", U, M, U)
        Xb = _passes.raw(X, np.empty((X.shape[0], 0)), start, stop)[0]
        y_pred[start:stop] = Xb @ solution.coef + solution.intercept
    return var, y_pred, df_resid


def predict_std(state, solution, X, *, cov_type="nonrobust", meat=None, block_rows=None):
    r"""Standard error of the mean prediction :math:`\sqrt{x_0^\top \mathrm{Cov}\, x_0}`.

    Parameters
    ----------
    state : LstsqState
    solution : LstsqSolution
    X : ndarray or sparse matrix of shape (n0, d)
        New rows (read in blocks).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
    meat : RobustMeat, default=None
    block_rows : int, default=None

    Returns
    -------
    std : ndarray of shape (n0, k)

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> predict_std(*lstsq_fit(X, y), np.array([[1.5]])).round(6)   # at the mean of x
    array([[0.295804]])
    """
    var, _, _ = _prediction_variance(state, solution, X, cov_type, meat, block_rows)
    return np.sqrt(var)


def prediction_interval(state, solution, X, *, alpha=0.05, sample_weight=None,
                        cov_type="nonrobust", meat=None, block_rows=None):
    r"""Bounds that hold a new observation at ``X`` with probability ``1 - alpha``.

    .. math:: \hat y_0 \pm t_{1-\alpha/2,\,n-p}\sqrt{\mathrm{se}(\hat y_0)^2
              + \hat\sigma^2 / w_0}

    where :math:`w_0` is the weight the new observation would carry:
    with WLS weights as inverse variances, an observation of weight
    :math:`w_0` has variance :math:`\sigma^2/w_0` (statsmodels'
    ``get_prediction(..., weights=w0)``; default 1).

    Parameters
    ----------
    state : LstsqState
    solution : LstsqSolution
    X : ndarray or sparse matrix of shape (n0, d)
    alpha : float, default=0.05
    sample_weight : ndarray of shape (n0,) or float, default=None
        :math:`w_0` (``None``: 1).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
        Covariance of the mean prediction; the observation's own variance
        is always :math:`\hat\sigma^2/w_0`.
    meat : RobustMeat, default=None
    block_rows : int, default=None

    Returns
    -------
    lower, upper : ndarray of shape (n0, k)

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> lower, upper = prediction_interval(*lstsq_fit(X, y), np.array([[1.5]]))
    >>> lower.round(4), upper.round(4)
    (array([[-1.5959]]), array([[4.0959]]))
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    var, y_pred, df_resid = _prediction_variance(state, solution, X, cov_type, meat,
                                                 block_rows)
    w0 = np.ones(X.shape[0]) if sample_weight is None else \
        np.broadcast_to(np.asarray(sample_weight, np.float64), (X.shape[0],))
    sigma2 = solution.rss / df_resid                                           # (k,)
    half = stats.t.ppf(1 - alpha / 2, df_resid) * np.sqrt(var + sigma2 / w0[:, None])
    return y_pred - half, y_pred + half
