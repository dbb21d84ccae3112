r"""The math of numpynn, once, as pure vectorised functions: the reference.

A model is a stack of dense layers held in a dict of arrays,
``{"W1": (d, h), "b1": (h,), "W2": (h, k), "b2": (k,)}``. One layer
(``W1``, ``b1``) is linear regression; two layers with a hidden activation
:math:`\sigma` are the two-layer network

.. math::

    Z = X W_1 + b_1, \qquad H = \sigma(Z), \qquad \hat Y = H W_2 + b_2 .

With :math:`\Delta = \partial L / \partial \hat Y` (see
:func:`numpynn.losses.loss_derivative`) and :math:`S` the number of samples
(the sum of the sample weights), backpropagation gives

.. math::

    \nabla_{W_2} = H^\top \Delta + \tfrac{\alpha}{S} W_2, \quad
    \nabla_{b_2} = \mathbf 1^\top \Delta, \quad
    \Delta_1 = (\Delta W_2^\top) \odot \sigma'(Z), \quad
    \nabla_{W_1} = X^\top \Delta_1 + \tfrac{\alpha}{S} W_1, \quad
    \nabla_{b_1} = \mathbf 1^\top \Delta_1 .

Shapes: ``n`` samples, ``d`` features, ``h`` hidden units, ``k`` outputs.
Every function preserves ``X.dtype`` (float32 in, float32 out). Nothing
loops over samples or units; the only Python loop is over the layers.

This module is written to be read. The estimators train through
``numpynn._engine``, which computes the same numbers with fewer passes
over memory; ``numpynn.reference_kernels()`` makes them train through the
functions below instead, so you can step through this code in a debugger.

The closed forms of the one-layer (linear) loss, its Hessian, the
automatic learning rate and the gap to the minimum, live in
:mod:`numpynn.quadratic`; they are importable from here as well.
"""

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES
from .losses import compute_loss, loss_derivative, total_weight
from .optimizers import update_params
from .quadratic import auto_learning_rate, excess_loss, hessian

__all__ = [
    "forward_prop",
    "compute_loss",
    "gradient",
    "loss_and_gradient",
    "update_params",
    "init_params",
    "hessian",
    "auto_learning_rate",
    "excess_loss",
]


def forward_prop(X, params, activation="relu"):
    r"""Forward pass through the dense layers.

    .. math:: H_0 = X,\quad H_l = \sigma(H_{l-1} W_l + b_l)\ (l < L),\quad
              \hat Y = H_{L-1} W_L + b_L

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Inputs.
    params : dict of str to ndarray
        ``W1, b1[, W2, b2]``: ``W_l`` of shape (fan_in, fan_out), ``b_l`` of
        shape (fan_out,).
    activation : {"relu", "sigmoid", "tanh", "linear"}, default="relu"
        Hidden activation :math:`\sigma`; unused for a single layer.

    Returns
    -------
    y_pred : ndarray of shape (n_samples, n_outputs)
        Always 2-D.
    cache : tuple of ndarray
        The input of every layer, ``(X, H_1, ...)``: exactly what
        :func:`gradient` needs, so nothing is recomputed.

    Examples
    --------
    >>> params = {"W1": np.array([[2.0]]), "b1": np.array([1.0])}
    >>> forward_prop(np.array([[0.0], [1.0]]), params)[0]
    array([[1.],
           [3.]])
    """
    n_layers = len(params) // 2
    A, cache = X, [X]
    for layer in range(1, n_layers + 1):
        Z = np.asarray(A @ params[f"W{layer}"]) + params[f"b{layer}"]   # (n, fan_out)
        if layer < n_layers:
            A = ACTIVATIONS[activation](Z)                             # (n, fan_out)
            cache.append(A)
    return Z, tuple(cache)


def gradient(params, cache, y, y_pred, activation="relu", *, alpha=0.0,
             sample_weight=None):
    r"""Gradient of :func:`compute_loss` for every parameter (backprop).

    See the module docstring for the formulas. With one layer this is the
    tutorial's ``dm = mean((y_pred - y) * X)``, ``db = mean(y_pred - y)``.

    Parameters
    ----------
    params : dict of str to ndarray
        As for :func:`forward_prop`.
    cache : tuple of ndarray
        The second output of :func:`forward_prop`.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    y_pred : ndarray of shape (n_samples, n_outputs)
        The first output of :func:`forward_prop`.
    activation : str, default="relu"
        Must be the one used in the forward pass.
    alpha : float, default=0.0
        L2 penalty on the weight matrices.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; ``None`` means all ones.

    Returns
    -------
    grads : dict of str to ndarray
        Same keys, shapes and dtype as ``params``.

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]]); y = np.array([1.0, 2.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> y_pred, cache = forward_prop(X, params)
    >>> g = gradient(params, cache, y, y_pred)
    >>> float(g["W1"][0, 0]), float(g["b1"][0])
    (-2.5, -1.5)
    """
    delta = loss_derivative(y, y_pred, sample_weight)          # (n, k): dL/dY_pred
    penalty = alpha / total_weight(y_pred.shape[0], sample_weight)
    grads = {}
    for layer in range(len(params) // 2, 0, -1):
        W, A_prev = params[f"W{layer}"], cache[layer - 1]      # (fan_in, fan_out), (n, fan_in)
        grads[f"W{layer}"] = np.asarray(A_prev.T @ delta) + penalty * W   # (fan_in, fan_out)
        grads[f"b{layer}"] = delta.sum(axis=0)                            # (fan_out,)
        if layer > 1:
            delta = (delta @ W.T) * DERIVATIVES[activation](A_prev)      # (n, fan_in)
    return grads


def loss_and_gradient(params, cache, y, y_pred, activation="relu", *, alpha=0.0,
                      sample_weight=None):
    r""":func:`compute_loss` and :func:`gradient` of one forward pass, together.

    What a training step needs: the loss of the batch before the update and
    its gradients.

    Parameters
    ----------
    params, cache, y, y_pred, activation, alpha, sample_weight
        As for :func:`gradient`.

    Returns
    -------
    loss : float
        As :func:`compute_loss` with the same ``params`` and ``alpha``.
    grads : dict of str to ndarray
        As :func:`gradient`.

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]]); y = np.array([1.0, 2.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> y_pred, cache = forward_prop(X, params)
    >>> loss, g = loss_and_gradient(params, cache, y, y_pred)
    >>> loss, float(g["W1"][0, 0])
    (1.25, -2.5)
    """
    loss = compute_loss(y, y_pred, sample_weight=sample_weight, params=params, alpha=alpha)
    grads = gradient(params, cache, y, y_pred, activation, alpha=alpha,
                     sample_weight=sample_weight)
    return loss, grads


def init_params(layer_sizes, activation, rng, dtype=np.float64):
    r"""Random initial parameters for dense layers (Glorot uniform).

    Every weight matrix is drawn from
    :math:`W \sim U(\pm b)`, :math:`b = \sqrt{6/(\text{fan\_in} + \text{fan\_out})}`
    (Glorot and Bengio, 2010), as scikit-learn's ``MLPRegressor`` does. The
    biases of a ReLU network come from the same :math:`U(\pm b)`; for other
    activations from :math:`U(\pm 1/\sqrt{\text{fan\_in}})`. This choice is
    measured, not assumed: ``python -m benchmarks.quality`` (see
    docs/benchmarks.md) compares it with He initialisation and zero biases.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(d, h, k)`` for a two-layer net, ``(d, k)`` for one layer.
    activation : str
        Hidden activation; selects the biases' range.
    rng : numpy.random.Generator
        The only source of randomness (weights then biases, layer by layer).
    dtype : dtype, default=np.float64
        Of every returned array.

    Returns
    -------
    params : dict of str to ndarray
        ``W1, b1, ...`` in ``dtype``.

    Examples
    --------
    >>> p = init_params((3, 4, 2), "relu", np.random.default_rng(0))
    >>> {k: v.shape for k, v in p.items()}
    {'W1': (3, 4), 'b1': (4,), 'W2': (4, 2), 'b2': (2,)}
    """
    params = {}
    sizes = list(layer_sizes)
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), 1):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))              # (fan_in, fan_out)
        bound_b = bound if activation == "relu" else 1.0 / np.sqrt(fan_in)
        params[f"W{layer}"] = W.astype(dtype)
        params[f"b{layer}"] = rng.uniform(-bound_b, bound_b, size=fan_out).astype(dtype)
    return params
