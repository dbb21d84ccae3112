"""TwoLayerNet: a thin scikit-learn shell around the two-layer kernels."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.utils.metaestimators import available_if

from . import _fitting, _inputs
from ._validation import BOOL, Interval, Options, check_params
from .curvature import auto_learning_rate_net
from .kernels import init_params
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES


class TwoLayerNet(CallbackSupportMixin, RegressorMixin, BaseEstimator):
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
    optimizer : {"adam", "sgd", "momentum", "lbfgs"}, default="adam"
        See :mod:`numpynn.optimizers`. ``"lbfgs"``: SciPy's L-BFGS-B on the
        full batch (as ``MLPRegressor(solver="lbfgs")``): ``max_iter``
        iterations at most (one entry of ``loss_curve_``, the loss after the
        iteration, and one callback call each), ``tol`` as its gradient
        tolerance, at most 15000 loss evaluations; ``learning_rate``,
        ``batch_size`` and ``shuffle`` do not apply, ``partial_fit`` and
        ``early_stopping`` are refused (``X_val`` is still recorded).
    learning_rate : float or "auto", default=0.001
        The (initial) step size; ``"auto"`` derives it from the curvature of
        the loss at the initial weights
        (:func:`numpynn.curvature.auto_learning_rate_net`: half the stability
        bound for sgd and momentum, 0.01 for adam), kept in
        ``learning_rate_`` and by ``partial_fit``.
    learning_rate_schedule : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        How the step size changes between epochs (:mod:`numpynn.schedules`),
        for every optimizer but ``"lbfgs"``: ``"invscaling"`` divides it by
        ``(samples seen + 1) ** power_t`` and ``"adaptive"`` by 5 on a
        plateau of ``n_iter_no_change`` epochs (stopping when it falls to
        1e-6), as ``MLPRegressor``; ``"cosine"`` warms up linearly for
        ``warmup_epochs`` and then decays to 0 at ``max_iter``. The schedule
        continues across ``partial_fit`` calls and saved models (so
        ``learning_rate`` is its starting rate; with ``"constant"`` a new
        ``learning_rate`` set between ``partial_fit`` calls takes effect);
        ``learning_rate_curve_[k]`` is the rate epoch ``k`` used.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    warmup_epochs : int, default=0
        Linear warm-up epochs of ``"cosine"``.
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
    tol : float or None, default=1e-4
        Stop when the training loss (or, with ``early_stopping``, the
        validation :math:`R^2`) has not improved by ``tol`` for
        ``n_iter_no_change`` consecutive epochs, as ``MLPRegressor``: an
        absolute amount of the loss, so it depends on the units of ``y``
        (standardise ``y`` with a ``TransformedTargetRegressor``). For
        ``optimizer="lbfgs"``, SciPy's gradient tolerance. ``None`` runs all
        ``max_iter`` epochs.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping (and the plateau length
        of the ``"adaptive"`` schedule).
    shuffle : bool, default=True
        Draw a new order of the mini-batches every epoch.
    random_state : int or None, default=None
        Seeds the initial weights (Glorot uniform,
        :func:`numpynn.kernels.init_params`), the shuffling and the
        validation split: the same seed gives the same model, bit for bit,
        on the same machine with the same number of BLAS threads.
    warm_start : bool, default=False
        ``fit`` starts from the current weights when their shapes fit
        (the optimizer state starts afresh).
    verbose : bool or int, default=False
        Progress: a tqdm bar on a terminal, else one line on stderr per
        tenth of ``max_iter``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (or use ``X_val`` and
        ``y_val`` given to ``fit``), stop on its :math:`R^2` and keep the
        best epoch's weights.
    validation_fraction : float, default=0.1
        The share of rows held out by ``early_stopping``.
    callbacks : list of callable or None, default=None
        ``cb(estimator, logs)`` after every epoch with ``logs = {"epoch",
        "loss"[, "val_loss", "val_score", "learning_rate"]}``; returning
        ``True`` (or ``np.True_``) stops. scikit-learn's own callbacks are
        set with ``set_callbacks``.

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
        **_fitting.COMMON_CONSTRAINTS,
        "hidden_units": (Interval("int", 1, None),),
        "activation": (Options(("relu", "sigmoid", "tanh", "linear")),),
        "optimizer": (Options((*OPTIMIZERS, "lbfgs")),),
        "learning_rate": (Options(("auto",)), Interval("real", 0, None, "neither")),
        "batch_size": _fitting.BATCH_SIZE,
        "momentum": (Interval("real", 0, 1, "left"),),
        "nesterov": (BOOL,),
        "beta_1": (Interval("real", 0, 1, "left"),),
        "beta_2": (Interval("real", 0, 1, "left"),),
        "epsilon": (Interval("real", 0, None, "neither"),),
        "learning_rate_schedule": (Options(tuple(SCHEDULES)),),
        "power_t": (Interval("real", 0, None),),
        "warmup_epochs": (Interval("int", 0, None),),
    }

    def __init__(self, *, hidden_units=100, activation="relu", optimizer="adam",
                 learning_rate=0.001, max_iter=200, batch_size="auto", alpha=1e-4,
                 momentum=0.9, nesterov=False, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, tol=1e-4, n_iter_no_change=10, shuffle=True,
                 random_state=None, warm_start=False, verbose=False,
                 early_stopping=False, validation_fraction=0.1, callbacks=None,
                 learning_rate_schedule="constant", power_t=0.5, warmup_epochs=0):
        self.learning_rate_schedule = learning_rate_schedule
        self.power_t = power_t
        self.warmup_epochs = warmup_epochs
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

    def _params(self, attrs=None):
        """``{"W1", "b1", "W2", "b2"}`` from ``attrs`` (default: ``vars(self)``)."""
        attrs = vars(self) if attrs is None else attrs
        (W1, W2), (b1, b2) = attrs["coefs_"], attrs["intercepts_"]
        return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    @staticmethod
    def _publish(params):
        """The fitted attributes of parameters ``{"W1", "b1", "W2", "b2"}``."""
        return {"coefs_": [params["W1"], params["W2"]],
                "intercepts_": [params["b1"], params["b2"]],
                "n_outputs_": params["W2"].shape[1]}

    def _make_optimizer(self, rate):
        """The optimizer's ``(init, step)`` stepping by ``rate()``; ``None`` for ``"lbfgs"``."""
        name = self.optimizer
        if name == "lbfgs":
            return None
        if name == "sgd":
            return OPTIMIZERS[name](rate)
        if name == "momentum":
            return OPTIMIZERS[name](rate, self.momentum, self.nesterov)
        return OPTIMIZERS[name](rate, self.beta_1, self.beta_2, self.epsilon)

    def _make_schedule(self, lr):
        """The learning-rate schedule (:mod:`numpynn.schedules`) starting at ``lr``."""
        name = self.learning_rate_schedule
        if name == "invscaling":
            return SCHEDULES[name](lr, self.power_t)
        if name == "adaptive":
            return SCHEDULES[name](lr, tol=self.tol or 0.0, n_iter_no_change=self.n_iter_no_change)
        if name == "cosine":
            return SCHEDULES[name](lr, self.max_iter, self.warmup_epochs)
        return SCHEDULES[name](lr)

    def _learning_rate(self, params, X, y, sw, continuing):
        """The starting step size: the float given, or ``"auto"``'s choice (kept by partial_fit)."""
        if self.optimizer == "lbfgs":
            return None
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if continuing and getattr(self, "learning_rate_", None) is not None:
            return self.learning_rate_
        return auto_learning_rate_net(params, X, y, self.activation, self.optimizer,
                                      alpha=self.alpha, sample_weight=sw,
                                      rng=self.random_state, momentum=self.momentum,
                                      nesterov=self.nesterov)

    def _divergence_advice(self, lr):
        if self.optimizer == "lbfgs":
            return ("L-BFGS has no learning rate: scale the features and the target "
                    "(StandardScaler in a Pipeline, TransformedTargetRegressor), or raise "
                    "alpha.")
        if self.learning_rate == "auto":
            how = ("the evidence-based rate for adam" if self.optimizer == "adam" else
                   "half the stability bound of the loss's curvature at the start")
            return (f"learning_rate='auto' chose {lr:.4g} ({how}), and training diverged: "
                    "pass a smaller float learning_rate, or standardise X and y "
                    "(StandardScaler, TransformedTargetRegressor).")
        return f"learning_rate was {lr:.4g}. " + _fitting.DIVERGENCE_ADVICE

    def _refuse_lbfgs_misuse(self, partial):
        if self.early_stopping and not partial:
            raise ValueError("early_stopping is not available with optimizer='lbfgs' (a "
                             "full-batch method); pass X_val and y_val to follow the "
                             "validation loss, or use another optimizer.")

    @with_callbacks
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Train for up to ``max_iter`` epochs.

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
        self : TwoLayerNet
            Fitted.
        """
        return self._fit(X, y, sample_weight, (X_val, y_val), partial=False)

    def _stochastic(self):
        if self.optimizer == "lbfgs":
            raise AttributeError("partial_fit needs a stochastic optimizer ('sgd', "
                                 "'momentum' or 'adam'); optimizer='lbfgs' trains on the "
                                 "full batch with fit.")
        return True

    @available_if(_stochastic)
    @with_callbacks
    def partial_fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """One epoch of mini-batches on ``(X, y)``; optimizer state carries over.

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
        self : TwoLayerNet
            Updated.
        """
        return self._fit(X, y, sample_weight, (X_val, y_val), partial=True)

    def _fit(self, X, y, sample_weight, val, partial):
        check_params(self, self._constraints)
        fitted = hasattr(self, "coefs_")
        first = not (partial and fitted)
        with _fitting.fit_context(self, incremental=not first) as new:
            X, y, sw = _inputs.check_fit_data(self, X, y, sample_weight, new,
                                                 reset=first)
            d, k = X.shape[1], y.shape[1]
            validation = _inputs.check_validation_data(self, new, *val, y.dtype, k)
            rng = np.random.default_rng(self.random_state)
            shapes = [(d, self.hidden_units), (self.hidden_units, k)]
            resume = fitted and (partial or self.warm_start) and \
                [np.shape(W) for W in self.coefs_] == shapes
            if not first and not resume:
                raise ValueError(f"partial_fit got X, y with shapes {shapes}; the model "
                                 f"has {[np.shape(W) for W in self.coefs_]}.")
            _fitting.check_memory(self, shapes, y.dtype, _fitting.resolve_batch_size(
                self.batch_size, X.shape[0]))
            if resume:
                params = {key: v.astype(y.dtype) for key, v in self._params().items()}
            else:
                params = init_params((d, self.hidden_units, k), self.activation, rng,
                                     y.dtype)
            lr = self._learning_rate(params, X, y, sw, continuing=partial and resume)
            schedule = self._make_schedule(1.0 if lr is None else lr)   # lbfgs: unused
            # a constant rate is the current learning_rate (set_params between
            # partial_fit calls takes effect); other schedules carry their state on
            carry_on = (partial and resume and hasattr(self, "_schedule_state")
                        and self.learning_rate_schedule != "constant")
            rate = _fitting.RateSchedule(schedule, self._schedule_state if carry_on
                                         else schedule.init(), X.shape[0])
            optimizer = self._make_optimizer(rate)
            lbfgs = optimizer is None
            if lbfgs:
                self._refuse_lbfgs_misuse(partial)
            opt_state = (None if lbfgs else self._optimizer_state if partial and resume
                         else optimizer.init(params))
            result = _fitting.train(self, new, params, opt_state, optimizer, X, y, sw, rng,
                                    activation=self.activation, alpha=self.alpha,
                                    batch_size=self.batch_size, partial=partial,
                                    epoch_offset=self.n_iter_ if resume else 0,
                                    validation=validation, rate=None if lbfgs else rate,
                                    advice=self._divergence_advice(lr))
            new.update(self._publish(result.params), _optimizer_state=result.opt_state,
                       learning_rate_=lr)
            if not lbfgs:
                new["_schedule_state"] = rate.state
                new["learning_rate_curve_"] = (
                    list(getattr(self, "learning_rate_curve_", [])) if resume else []
                ) + rate.curve
            _fitting.record(self, new, result, n_seen=X.shape[0], incremental=resume)
            if not partial:
                _fitting.warn_not_converged(self, result, "increase max_iter.")
        return self

    def predict(self, X):
        """Predict with the current ``coefs_`` and ``intercepts_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions.
        """
        return _inputs.predict(self, X, self.activation)

    def __sklearn_is_fitted__(self):
        # a key lookup, not a scan of vars(self): safe while another thread refits
        return "coefs_" in vars(self)

    def __sklearn_tags__(self):
        return _fitting.regressor_tags(super().__sklearn_tags__())
