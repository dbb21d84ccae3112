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

__all__ = ["compute_loss", "loss_derivative"]


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
    y = _as_pair(y, y_pred)
    sq = np.subtract(y_pred, y)
    np.square(sq, out=sq)                                  # (n, k)
    if sample_weight is None:
        loss = 0.5 * float(np.add.reduce(sq, axis=None)) / sq.size   # pairwise-summed mean
        sw_sum = y.shape[0]
    else:
        sw_sum = float(np.sum(sample_weight))
        per_sample = sq.reshape(sq.shape[0], -1).mean(axis=1)
        loss = 0.5 * float(np.dot(sample_weight, per_sample)) / sw_sum
    if alpha > 0:
        loss += 0.5 * alpha * _sum_sq_weights(params) / sw_sum
    return loss


def _sum_sq_weights(params):
    """:math:`\\sum_l \\lVert W_l \\rVert_F^2` over the ``"W*"`` entries."""
    return float(sum(np.vdot(v, v) for k, v in params.items() if k.startswith("W")))


def loss_derivative(y, y_pred, sample_weight=None, *, out=None):
    r"""Gradient of the data term of :func:`compute_loss` w.r.t. ``y_pred``.

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
    y = _as_pair(y, y_pred)
    delta = np.subtract(y_pred, y, out=out)               # (n, k)
    if sample_weight is None:
        delta *= 1.0 / delta.size
    else:
        delta *= (sample_weight / (np.sum(sample_weight) * delta.shape[1]))[:, None]
    return delta
