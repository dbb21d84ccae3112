r"""Hidden-layer activations and their derivatives.

``ACTIVATIONS[name](Z, out=None)`` maps pre-activations to activations and
``DERIVATIVES[name](A, out=None)`` returns :math:`\sigma'(z)` written in terms of the
*activation* :math:`A = \sigma(Z)`, so that backpropagation needs only what
:func:`numpynn.kernels.forward_prop` keeps.

========  ==============================  ===========================
name      :math:`\sigma(z)`                :math:`\sigma'(z)` via ``A``
========  ==============================  ===========================
relu      :math:`\max(z, 0)`              :math:`[A > 0]`
sigmoid   :math:`1 / (1 + e^{-z})`        :math:`A (1 - A)`
tanh      :math:`\tanh z`                 :math:`1 - A^2`
linear    :math:`z`                       :math:`1`
========  ==============================  ===========================

All functions preserve the dtype of their input; with ``out`` given they
write into it (no allocation) and return it.
"""

import numpy as np

__all__ = ["ACTIVATIONS", "DERIVATIVES"]


def relu(Z, out=None):
    """Rectified linear unit, ``max(Z, 0)``; ``out=Z`` works in place.

    Examples
    --------
    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if Z.dtype == np.float32 and Z.ndim == 2:
        # NumPy 2.x's float32 maximum runs about twice as fast against a
        # broadcast row of zeros as against the scalar 0 (float64: the
        # reverse); same result
        return np.maximum(Z, np.zeros(Z.shape[1], Z.dtype), out=out)
    return np.maximum(Z, 0, out=out)


def sigmoid(Z, out=None):
    """Logistic function, computed as ``(1 + tanh(Z / 2)) / 2`` (no overflow).

    Examples
    --------
    >>> sigmoid(np.array([0.0]))
    array([0.5])
    """
    out = np.multiply(Z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def tanh(Z, out=None):
    """Hyperbolic tangent.

    Examples
    --------
    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(Z, out=out)


def linear(Z, out=None):
    """Identity; with ``out`` given, copies ``Z`` into it.

    Examples
    --------
    >>> linear(np.array([-1.0]))
    array([-1.])
    """
    if out is None:
        return Z
    np.copyto(out, Z)
    return out


def relu_derivative(A, out=None):
    """``1`` where the unit fired (``A > 0``), else ``0``, in ``A``'s dtype.

    Examples
    --------
    >>> relu_derivative(np.array([0.0, 3.0]))
    array([0., 1.])
    """
    if out is None:
        return (A > 0).astype(A.dtype)
    return np.greater(A, 0, out=out)


def sigmoid_derivative(A, out=None):
    """``A * (1 - A)``.

    Examples
    --------
    >>> sigmoid_derivative(np.array([0.5]))
    array([0.25])
    """
    out = np.subtract(1.0, A, out=out)
    out *= A
    return out


def tanh_derivative(A, out=None):
    """``1 - A**2``.

    Examples
    --------
    >>> tanh_derivative(np.array([0.0]))
    array([1.])
    """
    out = np.multiply(A, A, out=out)
    np.subtract(1.0, out, out=out)
    return out


def linear_derivative(A, out=None):
    """Ones of ``A``'s shape and dtype.

    Examples
    --------
    >>> linear_derivative(np.array([5.0]))
    array([1.])
    """
    if out is None:
        return np.ones_like(A)
    out.fill(1)
    return out


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "linear": linear}
DERIVATIVES = {
    "relu": relu_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "linear": linear_derivative,
}
