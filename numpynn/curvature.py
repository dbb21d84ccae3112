r"""The curvature of a network's loss, and the learning rate it allows.

Gradient descent with step :math:`\eta` on a loss whose Hessian has largest
eigenvalue :math:`\lambda_{\max}` is stable near a point only when
:math:`\eta < 2/\lambda_{\max}`: along the top eigenvector the error is
multiplied by :math:`1 - \eta\lambda_{\max}` per step. For linear
regression the Hessian is constant and known in closed form
(:mod:`numpynn.quadratic`); for a network it changes with the parameters,
so it is probed where training starts, through Hessian-vector products:

* :func:`hessian_vector_product`: :math:`\mathcal H v`, exactly, by one
  forward and one backward pass of directional derivatives (Pearlmutter's
  :math:`\mathcal R` operator) through the math of :mod:`numpynn.kernels`;
* :func:`top_curvature`: :math:`\lambda_{\max}` from a few such products
  (Lanczos iteration) on a subsample of rows;
* :func:`auto_learning_rate_net`: the step it allows for ``sgd`` and
  ``momentum``, and the evidence-based rule for ``adam``.

With :math:`\mathcal R\{\cdot\}` the derivative along the direction
:math:`V = (\dot W_l, \dot b_l)` and :math:`c_i = s_i/(S k)` (see
:mod:`numpynn.losses`), the forward pass of the :mod:`numpynn.kernels`
notation gives

.. math::

    \mathcal R\{Z_l\} = \mathcal R\{H_{l-1}\} W_l + H_{l-1}\dot W_l + \dot b_l,
    \qquad \mathcal R\{H_l\} = \sigma'(Z_l) \odot \mathcal R\{Z_l\},
    \qquad \mathcal R\{\Delta_L\} = c \odot \mathcal R\{\hat Y\},

and the backward pass

.. math::

    (\mathcal H v)_{W_l} = \mathcal R\{H_{l-1}\}^\top \Delta_l
        + H_{l-1}^\top \mathcal R\{\Delta_l\} + \tfrac{\alpha}{S}\dot W_l, \qquad
    (\mathcal H v)_{b_l} = \mathbf 1^\top \mathcal R\{\Delta_l\},

    \mathcal R\{\Delta_{l-1}\} = (\mathcal R\{\Delta_l\} W_l^\top + \Delta_l \dot W_l^\top)
        \odot \sigma'(Z_{l-1})
        + (\Delta_l W_l^\top) \odot \sigma''(Z_{l-1}) \odot \mathcal R\{Z_{l-1}\} .

This is the full Hessian (not its Gauss-Newton part): the terms with
:math:`\Delta_l` carry the residual, and make it indefinite away from a
minimum. For ReLU, :math:`\sigma'' = 0` away from the kinks.
"""

from __future__ import annotations

import numpy as np

from ._engine import BLAS, SMALL_FLOPS
from .activations import DERIVATIVES
from .kernels import forward_prop
from .losses import loss_derivative, total_weight

__all__ = ["hessian_vector_product", "top_curvature", "auto_learning_rate_net"]

#: Rows of the subsample :func:`top_curvature` probes by default.
MAX_ROWS = 2048
#: Fraction of the stability bound the automatic step takes (sgd, momentum).
SAFETY = 0.5
#: adam's rate, chosen from evidence (see :func:`auto_learning_rate_net`).
ADAM_RATE = 0.01
#: Probe the curvature at the output layer's least-squares fit too. Switched
#: off only by the ablation of ``python -m benchmarks.auto_lr --no-output-probe``.
PROBE_OUTPUT_FIT = True


def _second_derivative(activation, A):
    r""":math:`\sigma''(z)` written in terms of the activation :math:`A = \sigma(z)`."""
    if activation == "sigmoid":
        return A * (1.0 - A) * (1.0 - 2.0 * A)
    if activation == "tanh":
        return -2.0 * A * (1.0 - A * A)
    return np.zeros_like(A)                 # relu (away from the kink) and linear


def hessian_vector_product(params, X, y, v, activation="relu", *, alpha=0.0,
                           sample_weight=None):
    r"""The Hessian of the loss times a direction, :math:`\mathcal H v`, exactly.

    One forward and one backward pass of directional derivatives (the
    :math:`\mathcal R` operator of the module docstring), two to three times
    the cost of :func:`numpynn.kernels.gradient`, with no finite-difference
    step to choose.

    Parameters
    ----------
    params : dict of str to ndarray
        ``W1, b1[, W2, b2, ...]`` as for :func:`numpynn.kernels.forward_prop`.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    v : dict of str to ndarray
        The direction: same keys and shapes as ``params``.
    activation : {"relu", "sigmoid", "tanh", "linear"}, default="relu"
        Hidden activation.
    alpha : float, default=0.0
        L2 penalty on the weight matrices, as in :func:`numpynn.kernels.compute_loss`.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; ``None`` means all ones.

    Returns
    -------
    hv : dict of str to ndarray
        Same keys and shapes as ``params``.

    Examples
    --------
    One layer is linear regression, whose Hessian is constant
    (:func:`numpynn.quadratic.hessian`):

    >>> X = np.array([[1.0], [3.0]]); y = np.array([0.0, 1.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> hv = hessian_vector_product(params, X, y, {"W1": np.ones((1, 1)), "b1": np.zeros(1)})
    >>> float(hv["W1"][0, 0]), float(hv["b1"][0])          # first column of [[5, 2], [2, 1]]
    (5.0, 2.0)
    """
    return _hvp_operator(params, X, y, activation, alpha, sample_weight)(v)


def _hvp_operator(params, X, y, activation, alpha, sample_weight):
    r"""``v -> H v`` at ``params``: what does not depend on ``v`` is computed once.

    That is the forward pass, every layer's :math:`\Delta_l` and the
    activations' first and second derivatives; each product then costs one
    forward and one backward pass of directional derivatives.
    """
    n_layers = len(params) // 2
    y_pred, cache = forward_prop(X, params, activation)                 # cache[l] = H_l
    slope, bend, deltas = {}, {}, {n_layers: loss_derivative(y, y_pred, sample_weight)}
    for layer in range(n_layers, 1, -1):
        back = deltas[layer] @ params[f"W{layer}"].T                     # (n, fan_in)
        slope[layer - 1] = DERIVATIVES[activation](cache[layer - 1])     # sigma'(Z_{l-1})
        bend[layer - 1] = back * _second_derivative(activation, cache[layer - 1])
        deltas[layer - 1] = back * slope[layer - 1]                      # Delta_{l-1}
    penalty = alpha / total_weight(y_pred.shape[0], sample_weight)
    zeros = np.zeros_like(y_pred)

    def hvp(v):
        RZ, RH = {}, {}                                                  # R{Z_l}, R{H_l}
        for layer in range(1, n_layers + 1):
            RZ[layer] = np.asarray(cache[layer - 1] @ v[f"W{layer}"]) + v[f"b{layer}"]
            if layer > 1:
                RZ[layer] += RH[layer - 1] @ params[f"W{layer}"]         # (n, fan_out)
            if layer < n_layers:
                RH[layer] = slope[layer] * RZ[layer]
        r_delta = loss_derivative(zeros, RZ[n_layers], sample_weight)    # c * R{Y_hat}
        hv = {}
        for layer in range(n_layers, 0, -1):
            W, dW = params[f"W{layer}"], v[f"W{layer}"]
            hv[f"W{layer}"] = np.asarray(cache[layer - 1].T @ r_delta) + penalty * dW
            if layer > 1:
                hv[f"W{layer}"] += RH[layer - 1].T @ deltas[layer]      # (fan_in, fan_out)
            hv[f"b{layer}"] = r_delta.sum(axis=0)                        # (fan_out,)
            if layer > 1:
                r_delta = ((r_delta @ W.T + deltas[layer] @ dW.T) * slope[layer - 1]
                           + bend[layer - 1] * RZ[layer - 1])           # R{Delta_{l-1}}
        return hv

    return hvp


def _subsample(X, y, sample_weight, rows, rng):
    """At most ``rows`` rows, drawn without replacement and kept in order."""
    n = X.shape[0]
    if n <= rows:
        return X, y, sample_weight
    idx = np.sort(rng.choice(n, size=rows, replace=False))
    return X[idx], y[idx], None if sample_weight is None else sample_weight[idx]


def top_curvature(params, X, y, activation="relu", *, alpha=0.0, sample_weight=None,
                  n_iter=20, rng=None, batch_size=None):
    r"""The largest eigenvalue :math:`\lambda_{\max}` of the loss's Hessian at ``params``.

    Runs ``n_iter`` steps of the Lanczos iteration on
    :func:`hessian_vector_product` from a random start, with full
    reorthogonalisation, and returns the largest eigenvalue of the small
    tridiagonal matrix it builds. Lanczos is power iteration that keeps
    its history: its Krylov subspace contains the power-iteration vector
    :math:`\mathcal H^{m-1} v_0`, so its estimate is never below power
    iteration's from the same start and the same number of products (and
    it needs no shift to find the largest *algebraic* eigenvalue when the
    Hessian is indefinite). It is a lower bound of :math:`\lambda_{\max}`,
    exact once ``n_iter`` reaches the number of parameters.

    Parameters
    ----------
    params : dict of str to ndarray
        As for :func:`numpynn.kernels.forward_prop`.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    activation : str, default="relu"
    alpha : float, default=0.0
        L2 penalty; its curvature is :math:`\alpha/S` for the rows probed.
    sample_weight : ndarray of shape (n_samples,), default=None
    n_iter : int, default=20
        Hessian-vector products.
    rng : int, numpy.random.Generator or None, default=None
        Draws the subsample and the start; the same seed gives the same value.
    batch_size : int or None, default=None
        Rows probed: a random subsample of this many rows (``None``:
        ``MAX_ROWS``, 2048), so the cost does not grow with ``n``.

    Returns
    -------
    lambda_max : float
        Computed in float64.

    Examples
    --------
    With one layer it is :func:`numpynn.quadratic.lambda_max`:

    >>> X = np.array([[1.0], [3.0]]); y = np.array([0.0, 1.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> round(top_curvature(params, X, y, rng=0), 6)                # 3 + 2 sqrt(2)
    5.828427
    """
    rng = np.random.default_rng(rng)
    Xs, ys, sws = _subsample(X, y, sample_weight, MAX_ROWS if batch_size is None
                             else int(batch_size), rng)
    p64 = {k: np.asarray(a, dtype=np.float64) for k, a in params.items()}
    Xs = Xs.astype(np.float64) if Xs.dtype != np.float64 else Xs
    ys = np.asarray(ys, dtype=np.float64)
    keys, shapes = list(p64), [a.shape for a in p64.values()]
    sizes = [a.size for a in p64.values()]
    cuts = np.cumsum(sizes)[:-1]

    def matvec(flat):
        v = {k: part.reshape(s) for k, part, s in zip(keys, np.split(flat, cuts), shapes,
                                                    strict=True)}
        hv = hvp(v)
        return np.concatenate([hv[k].ravel() for k in keys])

    # small products run faster on one BLAS thread (see numpynn._engine)
    flops = 2 * Xs.shape[0] * sum(v.size for k, v in p64.items() if k.startswith("W"))
    with np.errstate(over="ignore", invalid="ignore"), BLAS.one_thread(flops < SMALL_FLOPS):
        hvp = _hvp_operator(p64, Xs, ys, activation, alpha, sws)
        return _lanczos_max(matvec, rng.standard_normal(sum(sizes)), n_iter)


def _lanczos_max(matvec, start, n_iter):
    """The largest Ritz value of ``n_iter`` Lanczos steps (fully reorthogonalised)."""
    Q = [start / np.linalg.norm(start)]
    alphas, betas = [], []
    for j in range(min(int(n_iter), start.size)):
        w = matvec(Q[j])
        alphas.append(float(Q[j] @ w))
        basis = np.array(Q)                                     # (j + 1, P)
        w -= basis.T @ (basis @ w)                              # twice is enough (Kahan)
        w -= basis.T @ (basis @ w)
        beta = float(np.linalg.norm(w))
        if not np.isfinite(beta) or beta <= 1e-12 * max(abs(a) for a in alphas):
            break                                               # invariant subspace found
        betas.append(beta)
        Q.append(w / beta)
    T = np.diag(alphas) + np.diag(betas[:len(alphas) - 1], 1) + \
        np.diag(betas[:len(alphas) - 1], -1)
    if not np.isfinite(T).all():
        return np.inf
    return float(np.linalg.eigvalsh(T)[-1])


def _output_least_squares(params, X, y, activation, sample_weight):
    r"""``params`` with the output layer replaced by its ridge least-squares fit.

    The last layer's ``W_L, b_L`` minimise the loss given the hidden features
    :math:`H_{L-1}` at ``params``, with a relative ridge of ``1e-3`` times the
    mean diagonal of their Gram matrix (bounded when features are collinear).
    """
    L = len(params) // 2
    _, cache = forward_prop(X, params, activation)
    H = np.asarray(cache[-1])                                     # (n, h) (X when L = 1)
    A = np.column_stack([H, np.ones(H.shape[0])])                 # (n, h + 1)
    w = np.ones(H.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    G = A.T @ (A * w[:, None])                                    # (h + 1, h + 1)
    G[np.diag_indices_from(G)] += 1e-3 * np.trace(G) / G.shape[0]
    coef = np.linalg.solve(G, A.T @ (np.asarray(y).reshape(H.shape[0], -1) * w[:, None]))
    return {**params, f"W{L}": coef[:-1], f"b{L}": coef[-1]}


def auto_learning_rate_net(params, X, y, activation, optimizer, *, alpha=0.0,
                           sample_weight=None, rng=None, momentum=0.9, nesterov=False,
                           n_iter=20):
    r"""A learning rate for training a network from ``params``, from its curvature.

    The curvature :math:`\lambda` is the largest of three values:

    * :func:`top_curvature` at ``params``;
    * :func:`top_curvature` at ``params`` with the output layer replaced by
      its least-squares fit to ``y`` on the initial hidden features (ridge
      ``1e-3`` times the mean diagonal of their Gram matrix). This probe
      looks where the first epochs go: they move the output weights towards
      that fit, and the curvature along the hidden weights grows with the
      square of the output weights, so when ``y`` is large for the initial
      network it can grow a thousandfold within the first epoch (on the 300
      fuzzed data sets of ``python -m benchmarks.auto_lr``, 17 of the 195
      sgd and momentum fits diverged without this probe, none with it);
    * :math:`1/k`, the curvature along the output bias alone, a lower
      bound of :math:`\lambda_{\max}` whatever the parameters.

    With one layer the Hessian is constant, both probes are
    :func:`numpynn.quadratic.lambda_max`, and the ``"sgd"`` rate is the
    full-batch :func:`numpynn.quadratic.auto_learning_rate`.

    The rule, per optimizer:

    ``"sgd"``
        :math:`\eta = \tfrac12 \cdot 2/\lambda = 1/\lambda`: half the
        stability bound of gradient descent, the step for which every step
        on a quadratic with that curvature lowers the loss (the full-batch
        rule of :func:`numpynn.quadratic.auto_learning_rate`).
    ``"momentum"``
        Half the heavy-ball bound, :math:`\eta = \tfrac12\cdot 2(1+\beta)/\lambda
        = (1+\beta)/\lambda` (heavy ball on a quadratic is stable for
        :math:`\eta\lambda < 2(1+\beta)`); with ``nesterov``, half of
        Nesterov's bound :math:`2(1+\beta)/((1+2\beta)\lambda)`.
    ``"adam"``
        ``ADAM_RATE`` (0.01). Adam's first step is exactly
        :math:`-\eta\,\mathrm{sign}(g)` and later ones about :math:`\eta`
        per coordinate whatever the scale of the gradient, so no step bound
        follows from :math:`\lambda`. The rate is the fixed rate of the
        grid 1e-4, 3e-4, ..., 1e-1 that comes within 0.02 test :math:`R^2`
        of the grid's best on the most data sets of
        ``python -m benchmarks.auto_lr`` (3 of 5), with the smallest total
        shortfall (docs/benchmarks.md).

    The margin of one half is evidence-based too: with 0.75 of the bound,
    one of the 300 fuzzed data sets (momentum) diverged.

    Parameters
    ----------
    params : dict of str to ndarray
        The initial parameters (as for :func:`numpynn.kernels.forward_prop`).
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    activation : str
    optimizer : {"sgd", "momentum", "adam"}
    alpha : float, default=0.0
    sample_weight : ndarray of shape (n_samples,), default=None
    rng : int, numpy.random.Generator or None, default=None
        For :func:`top_curvature` (subsample and start).
    momentum : float, default=0.9
        :math:`\beta` of ``"momentum"``.
    nesterov : bool, default=False
        Nesterov's momentum.
    n_iter : int, default=20
        Hessian-vector products per curvature probe.

    Returns
    -------
    learning_rate : float
        Positive and finite.

    Raises
    ------
    ValueError
        When the curvature is not finite (values of ``X`` or ``y`` too large
        for float64), or for an unknown optimizer.

    Examples
    --------
    For linear regression (one layer) and sgd it is ``1 / lambda_max``, the
    full-batch :func:`numpynn.quadratic.auto_learning_rate`:

    >>> X = np.array([[1.0], [3.0]]); y = np.array([0.0, 1.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> round(auto_learning_rate_net(params, X, y, "linear", "sgd", rng=0), 6)
    0.171573
    """
    if optimizer not in ("sgd", "momentum", "adam"):
        raise ValueError(f"optimizer must be 'sgd', 'momentum' or 'adam'; got {optimizer!r}.")
    rng = np.random.default_rng(rng)
    Xs, ys, sws = _subsample(X, y, sample_weight, MAX_ROWS, rng)
    kw = dict(alpha=alpha, sample_weight=sws, n_iter=n_iter, rng=rng)
    with np.errstate(over="ignore", invalid="ignore"):
        lam = top_curvature(params, Xs, ys, activation, **kw)
        if len(params) > 2 and PROBE_OUTPUT_FIT:
            p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
            fitted = _output_least_squares(p64, Xs, ys, activation, sws)
            lam = max(lam, top_curvature(fitted, Xs, ys, activation, **kw))
    if not np.isfinite(lam):
        raise ValueError(f"The curvature of the loss at the initial parameters is {lam}: the "
                         "values of X or y are too large for float64 arithmetic; scale them "
                         "(e.g. StandardScaler in a Pipeline).")
    # The output bias alone has curvature exactly 1/k: a floor for lambda_max.
    lam = max(lam, 1.0 / np.shape(params[f"b{len(params) // 2}"])[0])
    if optimizer == "sgd":
        return SAFETY * 2.0 / lam
    if optimizer == "momentum":
        bound = 2.0 * (1.0 + momentum) / ((1.0 + 2.0 * momentum) if nesterov else 1.0)
        return SAFETY * bound / lam
    return ADAM_RATE
