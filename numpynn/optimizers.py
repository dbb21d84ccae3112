r"""Gradient-based optimizers as ``(init, step)`` pairs with explicit state.

``opt = OPTIMIZERS[name](learning_rate=..., ...)`` captures the
hyperparameters once; the caller owns the state::

    state = opt.init(params)
    state = opt.step(params, grads, state)   # updates params in place

Every step is written with in-place ufuncs, so parameters and state keep
their dtype (float32 stays float32) and no per-step arrays of the
parameters' size are kept beyond the state.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .quadratic import stack

__all__ = ["Optimizer", "update_params", "sgd", "momentum", "adam", "newton", "frozen",
           "OPTIMIZERS"]


class Optimizer(NamedTuple):
    """An optimizer: ``init(params) -> state`` and
    ``step(params, grads, state) -> state`` (``params`` updated in place).

    ``elementwise=True`` promises that ``step`` treats every entry of every
    parameter alike and independently (sgd, momentum, adam), so a caller
    may pass all parameters, gradients and per-parameter state as single
    flat arrays (one key) and do one ufunc call per operation instead of
    one per parameter: the training loop does this for speed.
    """

    init: Callable
    step: Callable
    elementwise: bool = False


def update_params(params, grads, learning_rate):
    r"""One plain gradient-descent step, in place.

    .. math:: \theta \leftarrow \theta - \eta \nabla_\theta L


    This is the tutorial's ``m -= l_r * dm; b -= l_r * db`` for any number
    of parameters. **Mutates** ``params``.

    Parameters
    ----------
    params : dict of str to ndarray
        Updated in place.
    grads : dict of str to ndarray
        Same keys and shapes as ``params``.
    learning_rate : float
        Step size :math:`\eta`.

    Returns
    -------
    params : dict of str to ndarray
        The same (mutated) dict.

    Examples
    --------
    >>> p = {"W1": np.array([[1.0]])}
    >>> update_params(p, {"W1": np.array([[2.0]])}, 0.25)["W1"]
    array([[0.5]])
    """
    for key, g in grads.items():
        params[key] -= learning_rate * g
    return params


def _rate(learning_rate):
    """The step size now: ``learning_rate``, or its value if it is a callable (a schedule)."""
    return learning_rate() if callable(learning_rate) else learning_rate


def sgd(learning_rate=0.01):
    r"""Plain (stochastic) gradient descent, stateless.

    .. math:: \theta_{t+1} = \theta_t - \eta\, g_t

    Parameters
    ----------
    learning_rate : float or callable, default=0.01
        Step size :math:`\eta`; a callable is asked for the current rate at
        every step (how a learning-rate schedule, :mod:`numpynn.schedules`,
        changes it between epochs).

    Returns
    -------
    optimizer : Optimizer
        ``init(params) -> state`` and ``step(params, grads, state) -> state``
        (``params`` updated in place).

    Examples
    --------
    >>> opt = sgd(0.5); p = {"w": np.array([2.0])}
    >>> _ = opt.step(p, {"w": np.array([2.0])}, opt.init(p)); p["w"]
    array([1.])
    """
    def init(params):
        return None

    def step(params, grads, state):
        update_params(params, grads, _rate(learning_rate))
        return state

    return Optimizer(init, step, elementwise=True)


def momentum(learning_rate=0.01, beta=0.9, nesterov=False):
    r"""Heavy-ball momentum, optionally Nesterov's.

    .. math::

        v_{t+1} = \beta v_t - \eta g_t, \qquad
        \theta_{t+1} = \theta_t + \begin{cases}
            v_{t+1} & \text{classical} \\
            \beta v_{t+1} - \eta g_t & \text{Nesterov}
        \end{cases}

    State: the velocity dict :math:`v` (zeros at init).

    Parameters
    ----------
    learning_rate : float or callable, default=0.01
        Step size :math:`\eta` (a callable: the current rate, as for :func:`sgd`).
    beta : float, default=0.9
        Momentum :math:`\beta` in [0, 1).
    nesterov : bool, default=False
        Nesterov's look-ahead form.

    Returns
    -------
    optimizer : Optimizer
        ``init(params) -> state`` and ``step(params, grads, state) -> state``
        (``params`` updated in place).

    Examples
    --------
    >>> opt = momentum(0.1, beta=0.5); p = {"w": np.array([1.0])}
    >>> s = opt.step(p, {"w": np.array([1.0])}, opt.init(p)); p["w"]
    array([0.9])
    """
    def init(params):
        return {k: np.zeros_like(v) for k, v in params.items()}

    def step(params, grads, velocity):
        eta = _rate(learning_rate)
        for k, g in grads.items():
            v = velocity[k]
            v *= beta
            v -= eta * g
            if nesterov:
                params[k] += beta * v
                params[k] -= eta * g
            else:
                params[k] += v
        return velocity

    return Optimizer(init, step, elementwise=True)


def adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    r"""Adam (Kingma & Ba, 2015), with bias correction folded into the step.

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \theta_t = \theta_{t-1} - \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
                   \frac{m_t}{\sqrt{v_t} + \epsilon}

    State: ``{"t": int, "m": dict, "v": dict}``.

    Parameters
    ----------
    learning_rate : float or callable, default=0.001
        Step size :math:`\eta` (a callable: the current rate, as for :func:`sgd`).
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Added to :math:`\sqrt{v_t}` for numerical stability.

    Returns
    -------
    optimizer : Optimizer
        ``init(params) -> state`` and ``step(params, grads, state) -> state``
        (``params`` updated in place).

    Examples
    --------
    >>> opt = adam(0.1); p = {"w": np.array([1.0])}
    >>> s = opt.step(p, {"w": np.array([3.0])}, opt.init(p)); p["w"].round(6)
    array([0.9])
    """
    def init(params):
        return {"t": 0,
                "m": {k: np.zeros_like(v) for k, v in params.items()},
                "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def step(params, grads, state):
        state["t"] += 1
        t = state["t"]
        lr_t = _rate(learning_rate) * np.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
        for k, g in grads.items():
            m, v = state["m"][k], state["v"][k]
            tmp = np.multiply(g, 1.0 - beta_1)          # one scratch array per step
            m *= beta_1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - beta_2
            v *= beta_2
            v += tmp
            np.sqrt(v, out=tmp)                         # tmp is now the denominator
            tmp += epsilon
            np.divide(m, tmp, out=tmp)
            tmp *= float(lr_t)
            params[k] -= tmp
        return state

    return Optimizer(init, step, elementwise=True)


def newton(hess):
    r"""Newton's method for a loss with constant Hessian (linear regression).

    .. math:: \theta_{t+1} = \theta_t - \mathcal H^{+} g_t

    On the quadratic half-MSE loss one step lands on the minimum. This is
    optimisation (a zero of the *gradient*); the talk's
    ``m - Cost(m) / dCost(m)`` instead seeks a zero of the *cost*, which a
    sum of squares generally never reaches, and so wanders off.

    Parameters
    ----------
    hess : ndarray of shape (n_features + 1, n_features + 1)
        From :func:`numpynn.kernels.hessian`, ordered ``W1`` rows then
        ``b1``. The pseudo-inverse is taken once, so singular Hessians
        (duplicated or constant columns) give the minimum-norm step.

    Examples
    --------
    >>> H = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> opt = newton(H); p = {"W1": np.array([[0.0]]), "b1": np.array([0.0])}
    >>> _ = opt.step(p, {"W1": np.array([[-4.0]]), "b1": np.array([1.0])}, None)
    >>> p["W1"], p["b1"]
    (array([[2.]]), array([-1.]))
    """
    H_pinv = np.linalg.pinv(hess, hermitian=True)

    def init(params):
        return None

    def step(params, grads, state):
        S = H_pinv @ stack(grads)                               # (d + 1, k): the step
        params["W1"] -= S[:-1].astype(params["W1"].dtype, copy=False)
        params["b1"] -= S[-1].astype(params["b1"].dtype, copy=False)
        return state

    return Optimizer(init, step)


def frozen(optimizer, keys):
    r"""``optimizer`` with the parameters named in ``keys`` held where they are.

    Their gradient is taken as zero before each step, so the others move
    exactly as the optimizer would move them on the loss restricted to
    them (:math:`\theta_{\text{free}}` with the frozen ones fixed): how
    ``LinearRegressor(fit_intercept=False)`` keeps ``b1`` at 0 under
    gradient descent.

    Parameters
    ----------
    optimizer : Optimizer
    keys : iterable of str
        Names of the parameters to hold.

    Returns
    -------
    optimizer : Optimizer
        Not ``elementwise`` (the parameters are told apart by name).

    Examples
    --------
    >>> opt = frozen(sgd(0.5), ["b1"]); p = {"W1": np.array([2.0]), "b1": np.array([0.0])}
    >>> _ = opt.step(p, {"W1": np.array([2.0]), "b1": np.array([4.0])}, opt.init(p))
    >>> p["W1"], p["b1"]
    (array([1.]), array([0.]))
    """
    keys = tuple(keys)

    def step(params, grads, state):
        held = {key: np.zeros_like(g) if key in keys else g for key, g in grads.items()}
        return optimizer.step(params, held, state)

    return Optimizer(optimizer.init, step)


#: Name -> factory for the first-order optimizers.
OPTIMIZERS = {"sgd": sgd, "momentum": momentum, "adam": adam}
