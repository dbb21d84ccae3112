r"""The half mean squared error and its derivative.

For targets :math:`Y` and predictions :math:`\hat Y` of shape
``(n_samples, n_outputs)`` :math:`= (n, k)`, sample weights :math:`s_i`
(all ones by default, :math:`S = \sum_i s_i`) and weight matrices
:math:`W_l`,

.. math::

    L = \frac{1}{2 S k} \sum_{i=1}^{n} s_i \sum_{j=1}^{k}
        (\hat y_{ij} - y_{ij})^2 \;+\; \frac{\alpha}{2 S} \sum_l \lVert W_l \rVert_F^2 .

The first term is a *mean* over samples and outputs, never a sum, so the
learning rate does not depend on ``n``: with one output and no weights it
is the tutorial's ``1/2 * np.mean((y_pred - y)**2)`` and scikit-learn's
``MLPRegressor`` loss. Intercepts are not penalised.
"""

import numpy as np

__all__ = ["compute_loss", "loss_derivative", "loss_and_derivative", "total_weight",
           "baseline_loss"]


def _as_pair(y, y_pred):
    """Return ``y`` reshaped like ``y_pred`` (1-D ``y`` for one output)."""
    y = np.asarray(y)
    if y.shape != y_pred.shape:
        if y.ndim == 1 and y_pred.shape == (y.shape[0], 1):
            return y.reshape(-1, 1)
        raise ValueError(
            f"y has shape {y.shape} but y_pred has shape {y_pred.shape}; "
            "they must match (a 1-D y is allowed for one output)."
        )
    return y


def compute_loss(y, y_pred, *, sample_weight=None, params=None, alpha=0.0):
    r"""Half mean squared error, plus an L2 penalty when ``alpha > 0``.

    .. math::

        L = \frac{1}{2 S k} \sum_{i} s_i \sum_{j} (\hat y_{ij} - y_{ij})^2
            + \frac{\alpha}{2 S} \sum_l \lVert W_l \rVert_F^2

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    y_pred : ndarray of the same shape as ``y`` (or (n_samples, 1) for 1-D ``y``)
        Predictions.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights :math:`s_i`; ``None`` means all ones.
    params : dict of str to ndarray, default=None
        Model parameters; the penalty sums the squares of the weight
        matrices (keys starting with ``"W"``). Needed only when ``alpha > 0``.
    alpha : float, default=0.0
        L2 penalty strength.

    Returns
    -------
    loss : float
        A weighted mean over samples and outputs, not a sum.

    Examples
    --------
    >>> compute_loss(np.array([1.0, 3.0]), np.array([2.0, 3.0]))
    0.25
    """
    r = np.subtract(y_pred, _as_pair(y, y_pred))           # (n, k)
    scale, sw_sum = _scales(r, sample_weight)
    loss = _weighted_half_sq(r, scale)
    return loss + _penalty(params, alpha, sw_sum)


def total_weight(n_samples, sample_weight=None):
    r""":math:`S`: the number of samples, or the sum of the sample weights.

    Parameters
    ----------
    n_samples : int
        Rows of the batch.
    sample_weight : ndarray of shape (n_samples,), default=None
        ``None`` means all ones.

    Returns
    -------
    S : int or float

    Examples
    --------
    >>> total_weight(3), total_weight(3, np.array([0.5, 1.0, 2.0]))
    (3, 3.5)
    """
    return n_samples if sample_weight is None else float(np.sum(sample_weight))


def _penalty(params, alpha, sw_sum):
    r""":math:`\frac{\alpha}{2 S} \sum_l \lVert W_l \rVert_F^2` (0 when ``alpha`` is 0)."""
    if not alpha > 0:
        return 0.0
    ssq = sum(np.vdot(v, v) for k, v in params.items() if k.startswith("W"))
    return 0.5 * alpha * float(ssq) / sw_sum


def _scales(r, sample_weight):
    """``(c, S)``: the derivative is ``c * r`` with ``c = 1 / (n k)`` (a float)
    or ``s_i / (S k)`` (shaped to broadcast over ``r``'s rows); ``S`` is the
    total weight."""
    n = r.shape[0]
    if sample_weight is None:
        return 1.0 / r.size, n
    sw_sum = float(np.sum(sample_weight))
    scale = np.asarray(sample_weight) / (sw_sum * (r.size // n))      # (n,)
    return scale.reshape((n,) + (1,) * (r.ndim - 1)), sw_sum


def _weighted_half_sq(r, scale):
    r""":math:`\tfrac12 \sum_{ij} c_i r_{ij}^2` for the scale ``c`` of :func:`_scales`."""
    if np.ndim(scale) == 0:
        return 0.5 * scale * float(np.vdot(r, r))          # BLAS dot, no temporary
    rows = r.reshape(r.shape[0], -1)                       # (n, k)
    return 0.5 * float(np.dot(scale.ravel(), np.einsum("ij,ij->i", rows, rows)))


def loss_derivative(y, y_pred, sample_weight=None, *, out=None):
    r"""Gradient of the data term of :func:`compute_loss` with respect to ``y_pred``.

    .. math:: \frac{\partial L}{\partial \hat y_{ij}} = \frac{s_i}{S k}(\hat y_{ij} - y_{ij})

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    y_pred : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,), default=None
    out : ndarray of shape (n_samples, n_outputs), default=None
        Where to write the result (must not be ``y``); a new array if ``None``.

    Returns
    -------
    delta : ndarray of shape (n_samples, n_outputs)
        In ``y_pred``'s dtype (``out`` when given).

    Examples
    --------
    >>> loss_derivative(np.array([1.0, 3.0]), np.array([[2.0], [3.0]]))
    array([[0.5],
           [0. ]])
    """
    delta = np.subtract(y_pred, _as_pair(y, y_pred), out=out)   # (n, k): residual
    delta *= _scales(delta, sample_weight)[0]
    return delta


def loss_and_derivative(y, y_pred, sample_weight=None, *, out=None):
    r"""The data term of :func:`compute_loss` and :func:`loss_derivative` at once.

    Both come from one residual :math:`R = \hat Y - Y`: the loss is
    :math:`\tfrac12 \sum_{ij} c_i R_{ij}^2` and the derivative
    :math:`c_i R_{ij}` with :math:`c_i = s_i / (S k)`, so ``y_pred - y`` is
    formed once and the loss needs no temporary (what a training step
    wants: the loss of a batch before its update, and its gradient).

    Parameters
    ----------
    y, y_pred, sample_weight, out
        As for :func:`loss_derivative`.

    Returns
    -------
    loss : float
        :func:`compute_loss` with ``alpha=0`` (up to rounding).
    delta : ndarray of shape (n_samples, n_outputs)
        :func:`loss_derivative` (``out`` when given).

    Examples
    --------
    >>> loss, delta = loss_and_derivative(np.array([1.0, 3.0]), np.array([[2.0], [3.0]]))
    >>> loss, delta.ravel()
    (0.25, array([0.5, 0. ]))
    """
    delta = np.subtract(y_pred, _as_pair(y, y_pred), out=out)   # (n, k): residual
    scale, _ = _scales(delta, sample_weight)
    loss = _weighted_half_sq(delta, scale)
    delta *= scale
    return loss, delta


def baseline_loss(y, sample_weight=None):
    r"""The loss of the best constant prediction, the (weighted) mean of ``y``.

    .. math:: L_0 = \frac{1}{2 S k} \sum_i s_i \lVert y_i - \bar y \rVert^2,
              \qquad \bar y = \frac{1}{S} \sum_i s_i y_i,

    half the variance of ``y`` averaged over outputs: the yardstick of
    :math:`R^2 = 1 - L / L_0` and of ``LinearRegressor``'s ``tol``.
    Computed without a temporary the size of ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_outputs)
        Targets.
    sample_weight : ndarray of shape (n_samples,), default=None
        ``None`` means all ones.

    Returns
    -------
    loss : float
        Non-negative; 0 when ``y`` is constant.

    Examples
    --------
    >>> baseline_loss(np.array([[1.0], [3.0]]))            # half the variance, 1
    0.5
    """
    y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
    if sample_weight is None:
        S, mean = y.shape[0], y.mean(axis=0)
        ssq = np.einsum("ij,ij->j", y, y)                             # (k,)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        S = w.sum()
        mean = w @ y / S
        ssq = np.einsum("i,ij,ij->j", w, y, y)
    return max(0.0, 0.5 * float(np.mean(ssq / S - mean ** 2)))
