"""LinearRegressor's least-squares side: the kept state, Newton from the QR factor, inference.

The estimator (:mod:`numpynn._linear`) stays a thin shell; the math lives
in :mod:`numpynn.lstsq` and :mod:`numpynn.inference`. A fitted
``LinearRegressor`` keeps ``_lstsq_state`` (:class:`~numpynn.lstsq.LstsqState`),
``_lstsq_solution`` (:class:`~numpynn.lstsq.LstsqSolution`) and
``_lstsq_meat`` (:class:`~numpynn.inference.RobustMeat` or ``None``); after
``solver="gd"`` they are ``None``. Loaded from a file they may be plain
tuples: :func:`kept` rebuilds the named types.
"""

from __future__ import annotations

import numpy as np

from . import _triangle, inference
from ._warnings import warn
from .lstsq import LstsqSolution, LstsqState, lstsq_solve
from .optimizers import Optimizer

KEPT = ("_lstsq_state", "_lstsq_solution", "_lstsq_meat")


def keep(state, solution, meat):
    """The kept attributes, as plain tuples (saved and loaded bit-identically)."""
    return {"_lstsq_state": tuple(state), "_lstsq_solution": tuple(solution),
            "_lstsq_meat": None if meat is None else tuple(meat)}


def warn_if_rank_deficient(state, solution):
    """Warn (``numpy.exceptions.RankWarning``) when a direction of the design is undetermined.

    Columns that are constant are not counted: with an intercept their
    coefficient is exactly 0 and the intercept absorbs them (a
    ``PolynomialFeatures`` bias column), as in ``LinearRegression``. Any
    other rank deficiency -- collinear columns, or fewer distinct rows than
    columns -- leaves directions the data cannot decide; the minimum-norm
    solution sets them to 0, and the warning says so. A ridge fit
    (``alpha > 0``) is unique and never warns.
    """
    d = len(state.x_shift)
    R_A, _, _ = _triangle.parts(state.R, d, state.fit_intercept)
    with np.errstate(over="ignore", invalid="ignore"):    # an overflow is named by the fit
        constant, _ = _triangle.constant_columns(R_A, state.x_shift, state.fit_intercept)
    varying = d - int(constant.sum())
    if solution.alpha != 0 or solution.rank >= varying:
        return
    cause = ("fewer rows than columns" if state.n_samples - int(state.fit_intercept) < varying
             else "collinear columns, or too few distinct rows")
    warn(f"LinearRegressor: the design has rank {solution.rank}, fewer than its {varying} "
         f"non-constant columns ({cause}; the rank is decided on the column-scaled "
         f"centred design). {varying - solution.rank} direction(s) of the coefficients "
         "are not determined by the data; the minimum-norm solution was taken. "
         "Remove or combine the collinear columns, or use alpha > 0.",
         np.exceptions.RankWarning)


def qr_newton(fit, alpha):
    """Newton's step as an optimizer: the minimiser nearest the current parameters.

    On the quadratic loss :math:`\\theta - \\mathcal H^{+}\\nabla L(\\theta)`
    is the least-squares solution nearest :math:`\\theta`; it is taken
    from the QR factor of ``fit`` (:func:`numpynn.lstsq.newton_step`'s
    accuracy), never from the Hessian. The gradient is not needed.
    """
    state, solution = fit
    unique = solution.rank == len(state.x_shift) or alpha > 0

    def init(params):
        return None

    def step(params, grads, opt_state):
        sol = solution if unique else lstsq_solve(
            state, alpha=alpha, start=(params["W1"], params["b1"]))
        params["W1"][...] = sol.coef
        params["b1"][...] = sol.intercept
        return opt_state

    return Optimizer(init, step)


def kept(est):
    """``(state, solution, meat)`` of a fitted estimator; ValueError when there is none."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    state = vars(est).get("_lstsq_state")
    if state is None:
        raise ValueError(
            "Inference (summary, conf_int, return_std, predict_interval) needs the "
            "least-squares factor of solver='lstsq' or 'newton'; this model was fitted "
            f"with solver={est.solver!r}. Refit with solver='lstsq'.")
    meat = vars(est).get("_lstsq_meat")
    return (LstsqState(*state), LstsqSolution(*est._lstsq_solution),
            None if meat is None else inference.RobustMeat(*meat))


def meat_for(est, meat):
    """The meat the estimator's ``cov_type`` needs, or a clear error."""
    if est.cov_type != "nonrobust" and meat is None:
        raise ValueError(
            f"cov_type={est.cov_type!r} needs each row's residual, computed by fit on "
            "data in memory; after partial_fit or fit_lstsq_dask only "
            "cov_type='nonrobust' is available (numpynn.parallel.robust_meat_dask "
            "computes the meat of a dask fit for numpynn.inference).")
    return meat if est.cov_type != "nonrobust" else None


def summary(est, feature_names=None, alpha=0.05):
    state, solution, meat = kept(est)
    if feature_names is None and hasattr(est, "feature_names_in_"):
        feature_names = list(est.feature_names_in_)
    return inference.summarize(state, solution, cov_type=est.cov_type,
                               meat=meat_for(est, meat), alpha=alpha,
                               feature_names=feature_names)


def predict_std(est, X):
    state, solution, meat = kept(est)
    std = inference.predict_std(state, solution, np.asarray(X, np.float64) if not
                                hasattr(X, "toarray") else X, cov_type=est.cov_type,
                                meat=meat_for(est, meat))
    return std[:, 0] if est.n_outputs_ == 1 else std


def predict_interval(est, X, alpha):
    state, solution, meat = kept(est)
    lower, upper = inference.prediction_interval(
        state, solution, X, alpha=alpha, cov_type=est.cov_type, meat=meat_for(est, meat))
    if est.n_outputs_ == 1:
        return lower[:, 0], upper[:, 0]
    return lower, upper
