"""scikit-learn estimators: thin shells around :mod:`numpynn.kernels`.

Both estimators follow the same recipe in ``fit``: check hyperparameters,
validate data, build ``rng = np.random.default_rng(random_state)``, run the
kernels through the shared loop in :mod:`numpynn._training`, then set the
fitted attributes. Any failure restores the estimator's previous state.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

from . import _fitting as F
from ._training import Kernels, loss_and_grads
from ._validation import (
    BOOL,
    CALLBACKS,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_params,
)
from .kernels import auto_learning_rate, excess_loss, hessian, init_params
from .lstsq import qr_solve, qr_update
from .optimizers import OPTIMIZERS, newton, sgd

__all__ = ["LinearRegressor", "TwoLayerNet"]

_COMMON = {
    "max_iter": (Interval("int", 1, None),),
    "tol": (NONE, Interval("real", 0, None)),
    "n_iter_no_change": (Interval("int", 1, None),),
    "shuffle": (BOOL,),
    "random_state": RANDOM_STATE,
    "warm_start": (BOOL,),
    "verbose": (BOOL, Interval("int", 0, None)),
    "early_stopping": (BOOL,),
    "validation_fraction": (Interval("real", 0, 1, "neither"),),
    "callbacks": CALLBACKS,
    "alpha": (Interval("real", 0, None),),
}
_BATCH = (NONE, Options(("auto",)), Interval("int", 1, None))


class LinearRegressor(RegressorMixin, BaseEstimator):
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
        (mini-batch when ``batch_size`` is set). ``"lstsq"``: the exact
        closed form by a streamed QR decomposition (:mod:`numpynn.lstsq`);
        ``partial_fit`` then accumulates exactly. ``"newton"``: Newton's
        method :math:`\theta \leftarrow \theta - \mathcal H^{+}\nabla L`
        (:func:`numpynn.optimizers.newton`), which needs one step on this
        quadratic loss.
    learning_rate : float or "auto", default="auto"
        Step size for ``"gd"``. ``"auto"`` (:func:`numpynn.kernels.auto_learning_rate`)
        uses :math:`1/\lambda_{\max}` of the loss's Hessian for full batch,
        the step for which every gradient-descent step provably lowers the
        loss, so the default never diverges; for mini-batches, the step
        :math:`1/(2\mathcal L_B)` from the expected smoothness of
        ``batch_size``-sampling.
    max_iter : int, default=1000
        Maximum epochs (``"gd"``, ``"newton"``).
    batch_size : int or None, default=None
        ``None`` is full batch, as the tutorial. Used by ``"gd"`` only.
    alpha : float, default=0.0
        L2 penalty on the coefficients (not the intercept). With one
        output this is scikit-learn's ``Ridge(alpha)``; with ``k`` outputs,
        as the data term is averaged over outputs, ``Ridge(k * alpha)``.
    tol : float or None, default=1e-4
        Stop when the loss has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs; ``None`` runs all epochs.
    n_iter_no_change : int, default=10
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
    best_loss_, loss_, t_, n_features_in_, n_outputs_
        As in scikit-learn's ``MLPRegressor``.
    validation_loss_curve_, validation_scores_, best_validation_score_
        With ``early_stopping``.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    >>> reg = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X, y)
    >>> bool(np.isclose(reg.loss_curve_[0], 0.5 * np.mean(y ** 2)))  # starts at m = b = 0
    True
    >>> reg.n_iter_, reg.coef_.shape
    (61, (1,))
    """

    _constraints = {
        **_COMMON,
        "solver": (Options(("gd", "lstsq", "newton")),),
        "learning_rate": (Options(("auto",)), Interval("real", 0, None, "neither")),
        "batch_size": _BATCH,
    }

    def __init__(self, *, solver="gd", learning_rate="auto", max_iter=1000,
                 batch_size=None, alpha=0.0, tol=1e-4, n_iter_no_change=10,
                 shuffle=True, random_state=None, warm_start=False, verbose=False,
                 early_stopping=False, validation_fraction=0.1, callbacks=None):
        self.solver = solver
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

    # -- state <-> parameter dict ------------------------------------------
    def _params(self):
        """The kernels' view of the fitted state (no copies)."""
        coef = np.asarray(self.coef_)
        W = coef.reshape(self.n_outputs_, -1).T                     # (d, k)
        return {"W1": W, "b1": np.reshape(self.intercept_, (self.n_outputs_,))}

    def _publish(self, params):
        W, b = params["W1"], params["b1"]
        if W.shape[1] == 1:
            self.coef_, self.intercept_ = W[:, 0], b[0]
        else:
            self.coef_, self.intercept_ = W.T, b
        self.n_outputs_ = W.shape[1]

    def fit(self, X, y, sample_weight=None):
        """Fit on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LinearRegressor
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``(X, y)``, continuing from the current state.

        With ``solver="lstsq"`` the blocks accumulate exactly: fitting
        blocks one after another gives the same model as one ``fit`` on
        all of them. Early stopping and ``tol`` do not apply.

        Returns
        -------
        self : LinearRegressor
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(self, X, y, sample_weight, incremental):
        check_params(self, self._constraints)
        first = not (incremental and hasattr(self, "coef_"))
        with F.restore_on_error(self):
            X, y, sw = F.check_fit_data(self, X, y, sample_weight, reset=first)
            if not first and y.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {y.shape[1]} outputs; the model was fitted "
                                 f"with {self.n_outputs_}.")
            rng = np.random.default_rng(self.random_state)
            if self.solver == "lstsq":
                return self._fit_lstsq(X, y, sw, first)
            return self._fit_iterative(X, y, sw, rng, incremental, first)

    def _fit_lstsq(self, X, y, sw, first):
        R = qr_update(None if first else self._qr_state, X, y, sw)
        return self._set_lstsq_state(R, X.shape[1], X.dtype, max(X.shape), first)

    def _set_lstsq_state(self, R, d, dtype, rcond_rows, first):
        """Solve from the QR state ``R`` and set the fitted attributes.

        Shared with :func:`numpynn.parallel.fit_lstsq_dask`, whose ``R``
        comes from blocks combined across workers.
        """
        k = R.shape[0] - 1 - d
        # The loss averages the data term over the k outputs, so per output
        # the ridge penalty is k * alpha (the same minimum as "gd"/"newton").
        coef, intercept, rss = qr_solve(R, d, self.alpha * k,
                                        rcond=rcond_rows * np.finfo(np.float64).eps)
        sw_sum = R[0, 0] ** 2                     # sum of weights seen, from the state
        loss = rss.mean() / (2 * sw_sum) + self.alpha * np.vdot(coef, coef) / (2 * sw_sum)
        self._qr_state = R
        self._publish({"W1": coef.astype(dtype), "b1": intercept.astype(dtype)})
        prev = [] if first else self.loss_curve_
        self.loss_curve_ = prev + [float(loss)]
        self.n_iter_ = len(self.loss_curve_)
        self.loss_ = self.best_loss_ = float(loss)
        self.learning_rate_ = None
        return self

    def _fit_iterative(self, X, y, sw, rng, incremental, first):
        d, k = X.shape[1], y.shape[1]
        resume = not first or (self.warm_start and hasattr(self, "coef_")
                               and np.shape(self._params()["W1"]) == (d, k))
        params = (F.copy_params(self._params()) if resume else
                  {"W1": np.zeros((d, k), X.dtype), "b1": np.zeros(k, X.dtype)})
        params = {key: v.astype(X.dtype, copy=False) for key, v in params.items()}
        kernels = Kernels("linear", self.alpha)
        H = (hessian(X, sample_weight=sw, alpha=self.alpha, n_outputs=k)
             if self.solver == "newton" or (self.learning_rate == "auto" and first)
             else None)
        if self.solver == "newton":
            optimizer, lr, batch_size = newton(H), None, None
        else:
            if not first:                       # partial_fit keeps its step size
                lr = self.learning_rate_
            elif self.learning_rate == "auto":
                lr = auto_learning_rate(X, self.batch_size, sample_weight=sw,
                                        alpha=self.alpha, n_outputs=k, hess=H)
            else:
                lr = float(self.learning_rate)
            optimizer, batch_size = sgd(lr), self.batch_size
        hint = "" if lr is None else f"learning_rate was {lr:.4g}. "
        result = F.train(self, kernels, optimizer, None, params, X, y, sw, batch_size, rng,
                         partial=incremental, resume=resume, hint=hint)
        # With early stopping the stop is the validation score's and the kept
        # parameters are the best on held-out rows, not the training minimum:
        # a gap to the full data's minimum says nothing about the scaling.
        # A rising loss is reported as divergence by train(), not here.
        if (self.solver == "gd" and result.converged and not self.early_stopping
                and not F.stopped_rising(self, result)):
            self._warn_if_far_from_minimum(kernels, X, y, sw, H, lr)
        self.learning_rate_ = lr
        return self

    def _warn_if_far_from_minimum(self, kernels, X, y, sw, H, lr):
        """ConvergenceWarning when ``tol`` stopped gd far above the minimum.

        On badly scaled features, or with a small step, gradient descent
        crawls, every epoch improves by less than ``tol`` and the stopping
        rule fires early; the exact remaining gap
        (:func:`numpynn.kernels.excess_loss`) tells, and the Hessian's
        spectrum says which remedy applies (:func:`numpynn._fitting.slow_stop_advice`).
        """
        params = self._params()
        if H is None:
            H = hessian(X, sample_weight=sw, alpha=self.alpha, n_outputs=self.n_outputs_)
        _, grads = loss_and_grads(kernels, params, X, y, sw, {})   # chunked, like training
        gap = excess_loss(grads, H)
        if gap > max(self.tol, 1e-6 * self.loss_curve_[-1]):
            eig = np.linalg.eigvalsh(H)
            cond = eig[-1] / eig[0] if eig[0] > 0 else np.inf
            advice = F.slow_stop_advice(lr, self.learning_rate == "auto", eig[-1], cond,
                                        F.resolve_batch_size(self.batch_size, X.shape[0]),
                                        X.shape[0])
            warnings.warn(
                f"LinearRegressor: tol={self.tol} stopped gradient descent after "
                f"{self.n_iter_} epochs, but the loss is still {gap:.4g} above its "
                f"minimum (the Hessian's condition number is {cond:.2g}). {advice}",
                ConvergenceWarning, stacklevel=5,      # at the caller of fit
            )

    def predict(self, X):
        """Predict with the current ``coef_`` and ``intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return F.predict(self, X, "linear")

    def __sklearn_tags__(self):
        return F.regressor_tags(super().__sklearn_tags__())


class TwoLayerNet(RegressorMixin, BaseEstimator):
    r"""A two-layer neural network regressor: input, one hidden layer, linear output.

    .. math:: \hat Y = \sigma(X W_1 + b_1)\, W_2 + b_2

    trained on the half mean squared error (plus
    :math:`\tfrac{\alpha}{2S}\sum_l\lVert W_l\rVert^2`) by mini-batch
    backpropagation, :func:`numpynn.kernels.forward_prop` and
    :func:`numpynn.kernels.gradient`. With ``activation="linear"`` it
    collapses to linear regression, as the tutorial shows; with ReLU units
    it is the talk's :math:`f(x) = \sum_i n_i\,\mathrm{relu}(m_i x + b_i)`.

    Parameters
    ----------
    hidden_units : int, default=100
        Width ``h`` of the hidden layer.
    activation : {"relu", "sigmoid", "tanh", "linear"}, default="relu"
    optimizer : {"adam", "sgd", "momentum"}, default="adam"
        See :mod:`numpynn.optimizers`.
    learning_rate : float, default=0.01
    max_iter : int, default=200
        Maximum epochs.
    batch_size : int, "auto" or None, default="auto"
        ``"auto"`` is ``min(200, n_samples)``; ``None`` is full batch.
    alpha : float, default=1e-4
        L2 penalty on the weight matrices.
    momentum : float, default=0.9
        For ``optimizer="momentum"``.
    nesterov : bool, default=False
        Nesterov's momentum.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        For ``optimizer="adam"``.
    tol, n_iter_no_change, shuffle, random_state, warm_start, verbose,
    early_stopping, validation_fraction, callbacks
        As in :class:`LinearRegressor`. ``random_state`` also seeds the
        initial weights (He for ReLU, Glorot otherwise;
        :func:`numpynn.kernels.init_params`).

    Attributes
    ----------
    coefs_ : list of ndarray
        ``[W1 (n_features, hidden_units), W2 (hidden_units, n_outputs)]``,
        the live arrays ``predict`` uses.
    intercepts_ : list of ndarray
        ``[b1 (hidden_units,), b2 (n_outputs,)]``.
    loss_curve_ : list of float
        Per epoch, the batch-size-weighted mean of the batch losses computed
        before each batch's update.
    best_loss_, loss_, n_iter_, t_, n_outputs_, n_features_in_
        As in scikit-learn's ``MLPRegressor``.
    validation_loss_curve_, validation_scores_, best_validation_score_
        With ``early_stopping``.

    Examples
    --------
    >>> X = np.linspace(-3, 3, 400).reshape(-1, 1); y = np.sin(X).ravel()
    >>> net = TwoLayerNet(random_state=0).fit(X, y)
    >>> net.score(X, y) > 0.98
    True
    """

    _constraints = {
        **_COMMON,
        "hidden_units": (Interval("int", 1, None),),
        "activation": (Options(("relu", "sigmoid", "tanh", "linear")),),
        "optimizer": (Options(tuple(OPTIMIZERS)),),
        "learning_rate": (Interval("real", 0, None, "neither"),),
        "batch_size": _BATCH,
        "momentum": (Interval("real", 0, 1, "left"),),
        "nesterov": (BOOL,),
        "beta_1": (Interval("real", 0, 1, "left"),),
        "beta_2": (Interval("real", 0, 1, "left"),),
        "epsilon": (Interval("real", 0, None, "neither"),),
    }

    def __init__(self, *, hidden_units=100, activation="relu", optimizer="adam",
                 learning_rate=0.01, max_iter=200, batch_size="auto", alpha=1e-4,
                 momentum=0.9, nesterov=False, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, tol=1e-4, n_iter_no_change=10, shuffle=True,
                 random_state=None, warm_start=False, verbose=False,
                 early_stopping=False, validation_fraction=0.1, callbacks=None):
        self.hidden_units = hidden_units
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks

    def _params(self):
        """The kernels' view of ``coefs_`` and ``intercepts_`` (no copies)."""
        (W1, W2), (b1, b2) = self.coefs_, self.intercepts_
        return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def _publish(self, params):
        self.coefs_ = [params["W1"], params["W2"]]
        self.intercepts_ = [params["b1"], params["b2"]]
        self.n_outputs_ = params["W2"].shape[1]

    def _make_optimizer(self):
        name = self.optimizer
        if name == "sgd":
            return OPTIMIZERS[name](self.learning_rate)
        if name == "momentum":
            return OPTIMIZERS[name](self.learning_rate, self.momentum, self.nesterov)
        return OPTIMIZERS[name](self.learning_rate, self.beta_1, self.beta_2,
                                self.epsilon)

    def fit(self, X, y, sample_weight=None):
        """Train for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : TwoLayerNet
        """
        return self._fit(X, y, sample_weight, partial=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of mini-batches on ``(X, y)``; optimizer state carries over.

        Returns
        -------
        self : TwoLayerNet
        """
        return self._fit(X, y, sample_weight, partial=True)

    def _fit(self, X, y, sample_weight, partial):
        check_params(self, self._constraints)
        fitted = hasattr(self, "coefs_")
        first = not (partial and fitted)
        with F.restore_on_error(self):
            X, y, sw = F.check_fit_data(self, X, y, sample_weight, reset=first)
            d, k = X.shape[1], y.shape[1]
            rng = np.random.default_rng(self.random_state)
            shapes = [(d, self.hidden_units), (self.hidden_units, k)]
            resume = fitted and (partial or self.warm_start) and \
                [np.shape(W) for W in self.coefs_] == shapes
            if not first and not resume:
                raise ValueError(f"partial_fit got X, y with shapes {shapes}; the model "
                                 f"has {[np.shape(W) for W in self.coefs_]}.")
            if resume:
                params = {key: v.astype(X.dtype) for key, v in self._params().items()}
            else:
                params = init_params((d, self.hidden_units, k), self.activation, rng,
                                     X.dtype)
            optimizer = self._make_optimizer()
            opt_state = (self._optimizer_state if partial and resume
                         else optimizer.init(params))
            result = F.train(self, Kernels(self.activation, self.alpha), optimizer,
                             opt_state, params, X, y, sw, self.batch_size, rng,
                             partial=partial, resume=resume,
                             hint=f"learning_rate was {self.learning_rate:.4g}. ")
            self._optimizer_state = result.opt_state
        return self

    def predict(self, X):
        """Predict with the current ``coefs_`` and ``intercepts_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return F.predict(self, X, self.activation)

    def __sklearn_tags__(self):
        return F.regressor_tags(super().__sklearn_tags__())
