"""The text table of :class:`numpynn.inference.Summary` (one block per output)."""

from __future__ import annotations

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
