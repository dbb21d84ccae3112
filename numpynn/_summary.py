"""The :class:`numpynn.inference.Summary` type and its text table (one block per output)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def _num(x, width=11):
    """A number in ``width`` characters: 4-6 significant digits, exponent when needed."""
    x = float(x)
    if not np.isfinite(x):
        return f"{x:>{width}}"
    a = abs(x)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        return f"{x:>{width}.4e}"
    return f"{x:>{width}.5g}" if a < 1e5 else f"{x:>{width}.1f}"


def _p(x, width=8):
    return f"{'<0.001':>{width}}" if x < 1e-3 else f"{x:>{width}.3f}"


def _block(s, j, k):
    pick = (lambda a: a) if k == 1 else (lambda a: a[j])
    lo, hi = 100 * s.alpha / 2, 100 * (1 - s.alpha / 2)
    name_w = max(9, *(len(n) for n in s.names))
    title = "Least squares" + (f", output {j}" if k > 1 else "")
    head = (f"{title} ({s.cov_type} covariance)\n"
            f"n = {s.n}   df_model = {s.df_model}   df_resid = {s.df_resid}\n"
            f"R^2 = {float(pick(s.r2)):.6g}   adj. R^2 = {float(pick(s.adj_r2)):.6g}   "
            f"residual SD = {float(pick(s.residual_sd)):.6g}\n"
            f"F({s.df_model}, {s.df_resid}) = {float(pick(s.f_statistic)):.6g}   "
            f"p = {float(pick(s.f_pvalue)):.4g}\n")
    cols = (f"{'':<{name_w}} {'coef':>11} {'std err':>11} {'t':>9} {'P>|t|':>8} "
            f"{f'[{lo:g}%':>11} {f'{hi:g}%]':>11}")
    rule = "-" * len(cols)
    lines = [head + rule, cols, rule]
    coef, se, t, pv, ci = (pick(a) for a in (s.coef, s.std_err, s.t, s.p_values, s.conf_int))
    for i, name in enumerate(s.names):
        lines.append(f"{name:<{name_w}} {_num(coef[i])} {_num(se[i])} {_num(t[i], 9)} "
                     f"{_p(pv[i])} {_num(ci[i, 0])} {_num(ci[i, 1])}")
    lines.append(rule)
    return "\n".join(lines)


def render(s):
    """The summary as aligned text, intercept first, one block per output."""
    k = 1 if np.ndim(s.r2) == 0 else len(s.r2)
    return "\n\n".join(_block(s, j, k) for j in range(k))


class Summary(NamedTuple):
    """Inference for a least-squares fit; ``str()`` is a readable table.

    Arrays have the intercept first (when fitted). With one output the
    per-output fields are 1-D (``coef`` of shape ``(n_coef,)``, ``r2`` a
    float); with ``k`` outputs they gain a leading axis of length ``k``.

    Attributes
    ----------
    names : tuple of str
        ``"intercept"`` then the feature names.
    coef, std_err, t, p_values : ndarray of shape (n_coef,) or (k, n_coef)
        Estimates, standard errors, t statistics (estimate / standard
        error) and two-sided p-values of Student's t with ``df_resid``
        degrees of freedom.
    conf_int : ndarray of shape (n_coef, 2) or (k, n_coef, 2)
        ``1 - alpha`` confidence intervals, lower and upper.
    r2, adj_r2 : float or ndarray of shape (k,)
        Coefficient of determination (centred; uncentred without an
        intercept, as statsmodels) and its adjustment for ``df_resid``.
    residual_sd : float or ndarray of shape (k,)
        :math:`\\hat\\sigma = \\sqrt{\\mathrm{RSS}/\\mathrm{df\\_resid}}`.
    f_statistic, f_pvalue : float or ndarray of shape (k,)
        The F test that all slopes are zero (a Wald test with the robust
        covariance for the HC types), and its p-value.
    n, df_model, df_resid : int
        Observations (positive weight), slopes, and ``n - df_model - intercept``.
    cov_type : str
    alpha : float
    cov : ndarray of shape (n_coef, n_coef) or (k, n_coef, n_coef)

    Examples
    --------
    >>> from numpynn.lstsq import lstsq_fit
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> s = summarize(*lstsq_fit(X, y), feature_names=["x"])
    >>> s.names, s.coef.round(6), s.df_resid
    (('intercept', 'x'), array([-0.1,  0.9]), 2)
    """

    names: tuple
    coef: np.ndarray
    std_err: np.ndarray
    t: np.ndarray
    p_values: np.ndarray
    conf_int: np.ndarray
    r2: float
    adj_r2: float
    residual_sd: float
    f_statistic: float
    f_pvalue: float
    n: int
    df_model: int
    df_resid: int
    cov_type: str
    alpha: float
    cov: np.ndarray

    def __str__(self):
        return render(self)


Summary.__module__ = "numpynn.inference"
