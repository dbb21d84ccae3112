"""LinearRegressor: a thin scikit-learn shell around the one-layer kernels."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data

from . import _fitting, _inputs, quadratic
from . import _linear_lstsq as _ls
from ._training import RunResult
from ._validation import BOOL, Interval, Options, check_params
from ._warnings import warn
from .inference import COV_TYPES, robust_meat
from .losses import baseline_loss
from .lstsq import lstsq_fit, lstsq_solve, lstsq_update
from .optimizers import frozen, sgd

#: How the warning that a ``tol=None`` run ended far from the minimum begins.
RAN_ALL = "LinearRegressor: tol=None ran all"


@contextmanager
def fixed_epochs_quietly():
    """Fit a fixed epoch budget inside numpynn (a drawing, a range test) without
    repeating the ``tol=None`` gap warning: the caller shows where the run ended."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", RAN_ALL, ConvergenceWarning)
        yield


#: With ``tol=None``, gradient descent that ends more than this times the
#: mean-only loss above the minimum warns (the default ``tol``'s yardstick).
FAR_TOL = 1e-4
#: Above this condition number of the Hessian the features count as badly
#: scaled; above SINGULAR the Hessian counts as singular (rounding level).
BADLY_SCALED, SINGULAR = 1e3, 1e12


class LinearRegressor(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    r"""Linear regression by gradient descent, least squares or Newton's method.

    Fits :math:`\hat Y = X W + b` by minimising the half mean squared error
    of :func:`numpynn.kernels.compute_loss` (plus
    :math:`\tfrac{\alpha}{2S}\lVert W\rVert^2` when ``alpha > 0``, i.e.
    ridge regression). The model is a single dense layer of
    :func:`numpynn.kernels.forward_prop`.

    Parameters
    ----------
    solver : {"gd", "lstsq", "newton"}, default="gd"
        ``"gd"``: gradient descent from zeros, the tutorial's algorithm
        (mini-batch when ``batch_size`` is set). ``"lstsq"``: the
        least-squares solution (:func:`numpynn.lstsq.lstsq_fit`: columns
        centred and scaled, rank-revealing, refined to the exact solution of
        the float64 data when they are small or ill-conditioned, and at
        least as accurate as a Householder QR on big well-conditioned
        data; :doc:`/accuracy`); ``partial_fit`` streams a QR
        factor (:func:`numpynn.lstsq.lstsq_update`) and stays exact to one
        pass's accuracy. ``"newton"``: Newton's method
        :math:`\theta \leftarrow \theta - \mathcal H^{+}\nabla L`, which
        needs one step on this quadratic loss; the step is solved from the
        QR factor (:func:`numpynn.lstsq.newton_step`), never from the
        Hessian, so it is as accurate as ``"lstsq"``.
    fit_intercept : bool, default=True
        Fit ``intercept_``; ``False`` holds it at 0.0 (scikit-learn's
        semantics), for every solver, ``partial_fit`` and save/load.
    learning_rate : float or "auto", default="auto"
        Step size for ``"gd"``. ``"auto"`` (:func:`numpynn.kernels.auto_learning_rate`)
        uses :math:`1/\lambda_{\max}` of the loss's Hessian for full batch,
        the step for which every gradient-descent step provably lowers the
        loss, so the default never diverges; for mini-batches, the step
        :math:`1/(2\mathcal L_B)` from the expected smoothness of
        ``batch_size``-sampling.
    max_iter : int, default=1000
        Maximum epochs (``"gd"``, ``"newton"``).
    batch_size : int, "auto" or None, default=None
        ``None`` is full batch, as the tutorial; ``"auto"`` is
        ``min(200, n_samples)``, as in :class:`TwoLayerNet`. Used by ``"gd"`` only.
    alpha : float, default=0.0
        L2 penalty on the coefficients (not the intercept). With one
        output this is scikit-learn's ``Ridge(alpha)``; with ``k`` outputs,
        as the data term is averaged over outputs, ``Ridge(k * alpha)``.
    tol : float or None, default=1e-4
        Relative to the loss of predicting the mean of ``y``
        (:func:`numpynn.losses.baseline_loss`, half its variance), so the
        same ``tol`` means the same for any units of ``y``: stop when the
        loss has not improved by ``tol`` times that for
        ``n_iter_no_change`` consecutive epochs, or, full batch, as soon as
        the gain still to come, extrapolated from the last epochs' linear
        convergence, is below it. A stop that leaves the loss more than
        that above its exact minimum warns. With ``early_stopping``, the
        validation :math:`R^2` must improve by ``tol``. ``None`` runs all
        epochs.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before ``"gd"`` stops.
        ``"newton"`` stops after the first such epoch: its step lands on
        the minimum, so there is nothing to wait for.
    shuffle : bool, default=True
        Shuffle mini-batches each epoch (irrelevant for full batch).
    random_state : int or None, default=None
        Seed for shuffling and the validation split; the same seed gives
        bit-identical results.
    warm_start : bool, default=False
        Start ``fit`` from the current coefficients.
    verbose : bool or int, default=False
        Show a tqdm progress bar with the loss.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop on its R^2,
        keep the best epoch.
    validation_fraction : float, default=0.1
    callbacks : list of callable or None, default=None
        ``cb(estimator, logs)`` after every epoch with ``logs = {"epoch",
        "loss"[, "val_loss", "val_score"]}``; returning ``True`` stops.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
        Covariance of the coefficients for :meth:`summary`, :meth:`conf_int`
        and ``predict(X, return_std=True)``, as statsmodels' ``cov_type``:
        the classical OLS/WLS one, or White's heteroscedasticity-robust
        estimators (these need the rows' residuals, so only after an
        in-memory ``fit``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
    intercept_ : float or ndarray of shape (n_outputs,)
    loss_curve_ : list of float
        ``loss_curve_[k]``: epoch ``k``'s loss, computed in its forward
        passes before its updates (exactly the tutorial's ``losses``).
        For ``"lstsq"``, one entry: the loss at the solution.
    n_iter_ : int
    learning_rate_ : float
        The step size used by ``"gd"``.
    rank_ : int
        After ``"lstsq"`` and ``"newton"``: the rank of the column-scaled
        centred design (``LinearRegression.rank_``); below the number of
        non-constant columns, a ``numpy.exceptions.RankWarning`` says so
        and the coefficients are the minimum-norm solution.
    singular_ : ndarray of shape (n_features,)
        After ``"lstsq"`` and ``"newton"``: the singular values of the
        (weighted) centred design (``LinearRegression.singular_``).
    best_loss_, loss_, t_, n_features_in_, n_outputs_
        As in scikit-learn's ``MLPRegressor``.
    validation_loss_curve_, validation_scores_, best_validation_score_
        With ``early_stopping``.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    >>> reg = LinearRegressor(max_iter=61, tol=None).fit(X, y)
    >>> bool(np.isclose(reg.loss_curve_[0], 0.5 * np.mean(y ** 2)))  # starts at m = b = 0
    True
    >>> reg.n_iter_, reg.coef_.shape
    (61, (1,))
    """

    _constraints = {
        **_fitting.COMMON_CONSTRAINTS,
        "solver": (Options(("gd", "lstsq", "newton")),),
        "learning_rate": (Options(("auto",)), Interval("real", 0, None, "neither")),
        "batch_size": _fitting.BATCH_SIZE,
        "fit_intercept": (BOOL,),
        "cov_type": (Options(COV_TYPES),),
    }

    def __init__(self, *, solver="gd", fit_intercept=True, learning_rate="auto",
                 max_iter=1000, batch_size=None, alpha=0.0, tol=1e-4, n_iter_no_change=10,
                 shuffle=True, random_state=None, warm_start=False, verbose=False,
                 early_stopping=False, validation_fraction=0.1, callbacks=None,
                 cov_type="nonrobust"):
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.cov_type = cov_type
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks

    # -- fitted attributes <-> parameter dict ------------------------------
    def _params(self, attrs=None):
        """``{"W1": (d, k), "b1": (k,)}`` from ``attrs`` (default: ``vars(self)``)."""
        attrs = vars(self) if attrs is None else attrs
        coef, k = np.asarray(attrs["coef_"]), attrs["n_outputs_"]
        return {"W1": coef.reshape(k, -1).T, "b1": np.reshape(attrs["intercept_"], (k,))}

    @staticmethod
    def _publish(params):
        """The fitted attributes of parameters ``{"W1", "b1"}``."""
        W, b = params["W1"], params["b1"]
        if W.shape[1] == 1:
            return {"coef_": W[:, 0], "intercept_": b[0], "n_outputs_": 1}
        return {"coef_": W.T, "intercept_": b, "n_outputs_": W.shape[1]}

    @with_callbacks
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Fit on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (dense, sparse CSR/CSC, or a memory map).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` means all ones.
        X_val : array-like of shape (n_val, n_features), default=None
            Validation inputs, with ``y_val``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation data, as in scikit-learn's ``HistGradientBoostingRegressor``:
            ``validation_loss_curve_[k]`` and ``validation_scores_[k]`` are the
            loss and :math:`R^2` on it after epoch ``k``; with
            ``early_stopping`` it replaces the random split.

        Returns
        -------
        self : LinearRegressor
            Fitted.
        """
        return self._fit(X, y, sample_weight, (X_val, y_val), incremental=False)

    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """One epoch on ``(X, y)``, continuing from the current state.

        With ``solver="lstsq"`` the blocks accumulate exactly: fitting
        blocks one after another gives the same model as one ``fit`` on
        all of them. Early stopping and ``tol`` do not apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; ``None`` means all ones.
        X_val : array-like of shape (n_val, n_features), default=None
            Validation inputs, with ``y_val``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation data, as in scikit-learn's ``HistGradientBoostingRegressor``:
            ``validation_loss_curve_[k]`` and ``validation_scores_[k]`` are the
            loss and :math:`R^2` on it after epoch ``k``; with
            ``early_stopping`` it replaces the random split.

        Returns
        -------
        self : LinearRegressor
            Updated.
        """
        return self._fit(X, y, sample_weight, (X_val, y_val), incremental=True)

    def _fit(self, X, y, sample_weight, val, incremental):
        check_params(self, self._constraints)
        first = not (incremental and hasattr(self, "coef_"))
        try:
            return self._fit_or_interrupt(X, y, sample_weight, val, incremental, first)
        except KeyboardInterrupt:
            if self.solver != "lstsq":              # the loop handles it, per epoch
                raise
            warn("training interrupted during the least-squares update; the model keeps "
                 "the state it had before this call.", UserWarning)
            return self

    def _fit_or_interrupt(self, X, y, sample_weight, val, incremental, first):
        with _fitting.fit_context(self, incremental=not first) as new:
            X, y, sw = _inputs.check_fit_data(self, X, y, sample_weight, new,
                                                 reset=first)
            if not first and y.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {y.shape[1]} outputs; the model was fitted "
                                 f"with {self.n_outputs_}.")
            validation = _inputs.check_validation_data(self, new, *val, y.dtype, y.shape[1])
            if self.solver == "lstsq":
                ctx = self._init_callback_context()
                ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
                self._fit_lstsq(new, X, y, sw, first, incremental, validation)
                ctx.call_on_fit_task_end(estimator=self, X=X, y=y,
                                         reconstruction_attributes=dict(new))
            else:
                self._fit_iterative(new, X, y, sw, validation, incremental, first)
        return self

    def _fit_lstsq(self, new, X, y, sw, first, incremental, validation):
        """``lstsq_fit`` on data in memory; ``lstsq_update`` + ``lstsq_solve`` when streaming."""
        alpha, fi = self.alpha * y.shape[1], bool(self.fit_intercept)
        meat = None
        if incremental:
            prev = None if first else vars(self).get("_lstsq_state")
            state = lstsq_update(None if prev is None else _ls.LstsqState(*prev), X, y, sw,
                                 fit_intercept=fi)
            solution = lstsq_solve(state, alpha=alpha)
        else:
            state, solution = lstsq_fit(X, y, sw, fit_intercept=fi, alpha=alpha)
            if self.cov_type != "nonrobust" and alpha == 0 and solution.rank == X.shape[1]:
                meat = robust_meat(X, y, sw, state, solution)
        self._publish_lstsq(new, state, solution, meat, y.dtype, X.shape[0], first,
                            validation)

    def _set_lstsq_state(self, state, dtype, first):
        """Fit from a least-squares state combined elsewhere (:mod:`numpynn.parallel`)."""
        with _fitting.fit_context(self, incremental=not first) as new:
            new["n_features_in_"] = len(state.x_shift)
            if bool(state.fit_intercept) != bool(self.fit_intercept):
                raise ValueError(f"The state was built with fit_intercept="
                                 f"{state.fit_intercept}; the estimator has "
                                 f"fit_intercept={self.fit_intercept}.")
            solution = lstsq_solve(state, alpha=self.alpha * len(state.y_shift))
            self._publish_lstsq(new, state, solution, None, dtype, 0, first, None)
        return self

    def _publish_lstsq(self, new, state, solution, meat, dtype, n_seen, first, validation):
        """The solution as fitted attributes in ``new``; the state and solution kept."""
        _ls.warn_if_rank_deficient(state, solution)
        params = {"W1": solution.coef.astype(dtype), "b1": solution.intercept.astype(dtype)}
        new.update(self._publish(params), **_ls.keep(state, solution, meat),
                   learning_rate_=None, rank_=int(solution.rank),
                   singular_=solution.singular.astype(dtype))
        val = ([], []) if validation is None else ([x] for x in _fitting.validation_metrics(
            params, "linear", validation))
        result = RunResult(params, None, [float(solution.loss)], *val, True, False)
        _fitting.record(self, new, result, n_seen=n_seen, incremental=not first)

    def _fit_iterative(self, new, X, y, sw, validation, incremental, first):
        d, k = X.shape[1], y.shape[1]
        resume = not first or (self.warm_start and hasattr(self, "coef_")
                               and np.shape(self._params()["W1"]) == (d, k))
        params = ({key: v.astype(y.dtype) for key, v in self._params().items()} if resume
                  else {"W1": np.zeros((d, k), y.dtype), "b1": np.zeros(k, y.dtype)})
        if not self.fit_intercept:
            params["b1"][...] = 0.0
        lr, batch_size = self._step_size(X, sw, k, first)
        kept = dict.fromkeys(_ls.KEPT)
        if self.solver == "newton":
            fit = lstsq_fit(X, y, sw, fit_intercept=bool(self.fit_intercept),
                            alpha=self.alpha * k)
            optimizer = _ls.qr_newton(fit, self.alpha * k)
            _ls.warn_if_rank_deficient(*fit)
            meat = (robust_meat(X, y, sw, *fit) if self.cov_type != "nonrobust"
                    and not incremental and self.alpha == 0 and fit.solution.rank == d
                    else None)
            kept = _ls.keep(*fit, meat)
            new.update(rank_=int(fit.solution.rank),
                       singular_=fit.solution.singular.astype(y.dtype))
        else:
            optimizer = sgd(lr) if self.fit_intercept else frozen(sgd(lr), ["b1"])
        new.update(kept)
        rng = np.random.default_rng(self.random_state)
        result = _fitting.train(self, new, params, None, optimizer, X, y, sw, rng,
                                activation="linear", alpha=self.alpha,
                                batch_size=batch_size, partial=incremental,
                                epoch_offset=self.n_iter_ if resume else 0,
                                advice=self._divergence_advice(lr), validation=validation,
                                relative_tol=True,
                                extrapolate=self.solver == "gd",
                                patience=1 if self.solver == "newton" else None)
        new.update(self._publish(result.params), learning_rate_=lr)
        _fitting.record(self, new, result, n_seen=X.shape[0], incremental=resume)
        if not incremental:
            _fitting.warn_not_converged(self, result, self._max_iter_advice())
        # With early stopping the kept parameters are the best on held-out
        # rows, not the training minimum; a rising loss is divergence.
        # tol=None ran every epoch asked for (not stopped by a callback or an
        # interrupt): still say how far from the minimum.
        ran_all = self.tol is None and len(result.loss_curve) == self.max_iter \
            and not result.interrupted
        if (self.solver == "gd" and (result.converged or ran_all)
                and not self.early_stopping and not incremental
                and not _fitting.stopped_rising(self, result)):
            self._warn_if_far_from_minimum(result.params, X, y, sw, lr, new["n_iter_"])

    def _step_size(self, X, sw, k, first):
        """``(learning_rate, batch_size)``: ``(None, None)`` for Newton (full batch)."""
        if self.solver == "newton":
            return None, None
        if not first:                               # partial_fit keeps its step size
            return self.learning_rate_, self.batch_size
        if self.learning_rate == "auto":
            batch = None if self.batch_size is None else _fitting.resolve_batch_size(
                self.batch_size, X.shape[0])
            return quadratic.auto_learning_rate(X, batch, sample_weight=sw,
                                                alpha=self.alpha, n_outputs=k,
                                                fit_intercept=bool(self.fit_intercept)), \
                self.batch_size
        return float(self.learning_rate), self.batch_size

    @staticmethod
    def _divergence_advice(lr):
        if lr is None:
            return ("Newton's method has no step size to lower: the values of X or y are "
                    "too large for float64 arithmetic; scale them (e.g. StandardScaler), "
                    "or use solver='lstsq'.")
        return f"learning_rate was {lr:.4g}. " + _fitting.DIVERGENCE_ADVICE

    def _max_iter_advice(self):
        if self.solver == "newton":
            return "increase max_iter or tol."
        if self.learning_rate == "auto":
            return ("increase max_iter or tol (learning_rate='auto' already takes the "
                    "largest safe step), standardise the features, or use solver='lstsq'.")
        return "increase max_iter or learning_rate (or use learning_rate='auto')."

    def _warn_if_far_from_minimum(self, params, X, y, sw, lr, n_iter):
        """ConvergenceWarning when gd ended far above the minimum.

        On badly scaled features, or with a small step, gradient descent
        crawls, every epoch improves by less than ``tol`` and the stopping
        rule fires early; with ``tol=None`` the epochs may simply be too
        few. The exact remaining gap
        (:func:`numpynn.quadratic.excess_loss_and_spectrum`) tells, against
        ``tol`` (:data:`FAR_TOL` when ``tol=None``) times the mean-only
        loss, and the Hessian's spectrum says which remedy applies
        (:func:`slow_stop_advice`).
        """
        k = y.shape[1]
        grads = quadratic.full_gradient(X, y, params, sample_weight=sw, alpha=self.alpha)
        gap, L, cond = quadratic.excess_loss_and_spectrum(
            X, grads, sample_weight=sw, alpha=self.alpha, n_outputs=k,
            fit_intercept=bool(self.fit_intercept))
        tol = FAR_TOL if self.tol is None else self.tol
        if gap > tol * baseline_loss(y, sw):
            advice = slow_stop_advice(lr, self.learning_rate == "auto", L, cond,
                                      _fitting.resolve_batch_size(self.batch_size,
                                                                  X.shape[0]),
                                      X.shape[0], tol_stop=self.tol is not None)
            how = (f"LinearRegressor: tol={self.tol} stopped gradient descent after "
                   f"{n_iter} epochs" if self.tol is not None else f"{RAN_ALL} {n_iter} epochs")
            warn(f"{how}, but the loss is still {gap:.4g} above its minimum "
                 f"(the Hessian's condition number is {cond:.2g}). {advice}",
                 ConvergenceWarning)

    def predict(self, X, return_std=False):
        """Predict with the current ``coef_`` and ``intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        return_std : bool, default=False
            Also return the standard error of the mean prediction (after
            ``solver="lstsq"`` or ``"newton"``, with ``cov_type``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions.
        y_std : ndarray of the same shape
            With ``return_std=True`` only.
        """
        y_pred = _inputs.predict(self, X, "linear")
        if not return_std:
            return y_pred
        return y_pred, _ls.predict_std(self, self._inference_rows(X))

    def _inference_rows(self, X):
        return validate_data(self, X, reset=False, dtype=np.float64,
                             accept_sparse=_inputs.SPARSE)

    def summary(self, feature_names=None, alpha=0.05):
        """Coefficients with standard errors, t tests and intervals; R^2 and the F test.

        Available after ``solver="lstsq"`` or ``"newton"`` (also after
        ``partial_fit`` and :func:`numpynn.parallel.fit_lstsq_dask`, with
        ``cov_type="nonrobust"``). Equal to statsmodels' ``OLS`` (``WLS``
        with ``sample_weight``) results; :doc:`/inference` explains each column.

        Parameters
        ----------
        feature_names : sequence of str, default=None
            ``None``: ``feature_names_in_`` if fitted on a DataFrame, else ``x0, x1, ...``.
        alpha : float, default=0.05
            Confidence intervals at level ``1 - alpha``.

        Returns
        -------
        summary : numpynn.inference.Summary
            ``str(summary)`` is a table, intercept first.

        Raises
        ------
        ValueError
            After ``solver="gd"``, after a ridge fit (``alpha > 0``), for a
            rank-deficient design, when ``df_resid <= 0``, or for an HC
            ``cov_type`` after ``partial_fit`` / ``fit_lstsq_dask``.

        Examples
        --------
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 1.0, 3.0])
        >>> s = LinearRegressor(solver="lstsq").fit(X, y).summary()
        >>> s.std_err.round(6)                       # statsmodels OLS: bse
        array([0.494975, 0.264575])
        """
        return _ls.summary(self, feature_names, alpha)

    def conf_int(self, alpha=0.05):
        """Confidence intervals of ``(intercept, coef)``: shape ``(n_coef, 2)``.

        Intercept first when fitted; with ``k`` outputs, ``(k, n_coef, 2)``.
        Errors as :meth:`summary`.
        """
        return self.summary(alpha=alpha).conf_int

    def predict_interval(self, X, alpha=0.05):
        """Lower and upper bounds holding a new observation with probability ``1 - alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        alpha : float, default=0.05

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return _ls.predict_interval(self, self._inference_rows(X), alpha)

    def __sklearn_is_fitted__(self):
        # a key lookup, not a scan of vars(self): safe while another thread refits
        return "coef_" in vars(self)

    def __sklearn_tags__(self):
        return _fitting.regressor_tags(super().__sklearn_tags__())


def slow_stop_advice(lr, auto, L, cond, batch_size, n, tol_stop=True):
    r"""The remedy for a stop far above a quadratic loss's minimum.

    With step :math:`\eta` an epoch shrinks the gap along the Hessian's
    eigenvalue :math:`\lambda` by the factor :math:`(1 - \eta\lambda)^2`:
    slowly when :math:`\eta` is far below :math:`1/L`, near the stability
    limit :math:`2/L`, or when the condition number :math:`\kappa = L/\mu`
    is large. At :math:`\eta = 1/L` the stop on "improved by less than tol"
    lands about :math:`\text{tol}\,\kappa/2` above the minimum. Mini-batch
    steps also stall in their gradient noise. ``tol_stop=False``: the run
    was ``tol=None`` and ended at ``max_iter``, so more epochs replace a
    smaller ``tol`` in the advice.
    """
    more = "a smaller tol" if tol_stop else "a larger max_iter"
    if not auto and not 0.5 <= lr * L <= 1.5:
        return (f"learning_rate={lr:.4g} is {lr * L:.2g}/L, far from the 1/L step of "
                "the largest Hessian eigenvalue L (stable below 2/L), so every epoch "
                f"gains little: use learning_rate='auto', {more}, or "
                "solver='lstsq' or 'newton'.")
    if not cond < SINGULAR:
        return ("The Hessian is singular (collinear or constant features): use "
                "alpha > 0, or solver='lstsq' for the minimum-norm solution.")
    if cond >= BADLY_SCALED:
        return ("Standardise the features (StandardScaler in a Pipeline), or use "
                "solver='lstsq' or 'newton'.")
    if batch_size < n:
        return (f"Mini-batches (batch_size={batch_size}) stall in their gradient "
                f"noise: use a larger batch_size (None for full batch), {more}, "
                "or solver='lstsq' or 'newton'.")
    if not tol_stop:
        return ("The features are not badly scaled, but max_iter epochs were too few "
                "to reach the minimum: use a larger max_iter, or solver='lstsq' or "
                "'newton'.")
    return ("The features are not badly scaled, but a stop on the loss improving by "
            "less than tol can still be about tol x condition number / 2 above the "
            "minimum: use a smaller tol, or solver='lstsq' or 'newton'.")
