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

from . import inference
from ._warnings import warn
from .lstsq import LstsqSolution, LstsqState, lstsq_solve
from .optimizers import Optimizer

KEPT = ("_lstsq_state", "_lstsq_solution", "_lstsq_meat")


def keep(state, solution, meat):
    """The kept attributes, as plain tuples (saved and loaded bit-identically)."""
    return {"_lstsq_state": tuple(state), "_lstsq_solution": tuple(solution),
            "_lstsq_meat": None if meat is None else tuple(meat)}


def warn_if_rank_deficient(state, solution):
    """Warn when the columns are collinear although the rows could determine them.

    A design with fewer (positive-weight) rows than coefficients is
    underdetermined by its shape; its minimum-norm solution is taken
    silently, as ``LinearRegression`` does.
    """
    d = len(state.x_shift)
    full = min(d, state.n_samples - int(state.fit_intercept))
    if solution.rank < full and solution.alpha == 0:
        warn(f"LinearRegressor: the design has rank {solution.rank} < {d} features "
             "(collinear or constant columns, decided on the column-scaled centred "
             "design); the minimum-norm solution was taken.", UserWarning)


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
