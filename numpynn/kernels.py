r"""The math of numpynn, once, as pure vectorised functions.

A model is a stack of dense layers held in a dict of arrays,
``{"W1": (d, h), "b1": (h,), "W2": (h, k), "b2": (k,)}``. One layer
(``W1``, ``b1``) is linear regression; two layers with a hidden activation
:math:`\sigma` are the two-layer network

.. math::

    Z = X W_1 + b_1, \qquad H = \sigma(Z), \qquad \hat Y = H W_2 + b_2 .

With :math:`\Delta = \partial L / \partial \hat Y` (see
:func:`numpynn.losses.loss_derivative`), backpropagation gives

.. math::

    \nabla_{W_2} = H^\top \Delta + \tfrac{\alpha}{S} W_2, \quad
    \nabla_{b_2} = \mathbf 1^\top \Delta, \quad
    \Delta_1 = (\Delta W_2^\top) \odot \sigma'(Z), \quad
    \nabla_{W_1} = X^\top \Delta_1 + \tfrac{\alpha}{S} W_1, \quad
    \nabla_{b_1} = \mathbf 1^\top \Delta_1 .

With one output (:math:`\Delta = \delta`, :math:`W_2 = w_2`, columns)
:math:`\Delta_1 = \operatorname{diag}(\delta)\, \sigma'(Z)\, \operatorname{diag}(w_2)`
is never formed: :math:`\nabla_{W_1} = (\operatorname{diag}(\delta) X)^\top
\sigma'(Z) \operatorname{diag}(w_2)` is the same product with two passes over
the hidden layer fewer.

Shapes: ``n`` samples, ``d`` features, ``h`` hidden units, ``k`` outputs.
Every function preserves ``X.dtype`` (float32 in, float32 out). Nothing
loops over samples or units; the only Python loop is over the (one or two)
layers.
"""

import numpy as np

from .activations import ACTIVATIONS, DERIVATIVES
from .losses import _penalty, compute_loss, loss_and_derivative, loss_derivative
from .optimizers import update_params

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


def _n_layers(params):
    return len(params) // 2


#: Dictionary keys of layer ``l`` (up to 63), formatted once: ``W, b, Z,
#: grad_W, grad_b, delta(l-1), penalty_W``.
_KEYS = [tuple(f.format(layer) for f in ("W{}", "b{}", "Z{}", "grad_W{}", "grad_b{}"))
         + (f"delta{layer - 1}", f"penalty_W{layer}") for layer in range(64)]


def forward_prop(X, params, activation="relu", *, workspace=None):
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
    workspace : dict, default=None
        ``None`` (the default): every output is a fresh array. A dict
        (start with ``{}`` and pass the same one every mini-batch): layer
        outputs are written into buffers kept in it and reused, so a
        training loop allocates nothing per batch. The outputs are then
        views that the next call with this workspace overwrites.

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
    act = ACTIVATIONS[activation]
    L = _n_layers(params)
    cache = [X]
    A = X
    for layer in range(1, L + 1):
        key_W, key_b, key_Z = _KEYS[layer][:3]
        Z = _matmul(A, params[key_W], workspace, key_Z)   # (n, fan_out)
        Z += params[key_b]
        if layer < L:
            A = act(Z, out=Z)                             # (n, h), in place
            cache.append(A)
        else:
            A = Z
    return A, tuple(cache)


def gradient(params, cache, y, y_pred, activation="relu", *, alpha=0.0,
             sample_weight=None, workspace=None):
    r"""Gradients of :func:`compute_loss` w.r.t. every parameter (backprop).

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
    workspace : dict, default=None
        As for :func:`forward_prop`: with a dict, the gradients and the
        back-propagated deltas are written into buffers kept in it (a
        caller may seed ``workspace["grad_W1"]`` etc. with arrays of the
        parameters' shapes to receive the gradients there).

    Returns
    -------
    grads : dict of str to ndarray
        Same keys, shapes and dtype as ``params``; fresh arrays unless a
        ``workspace`` is given.

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]]); y = np.array([1.0, 2.0])
    >>> params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    >>> y_pred, cache = forward_prop(X, params)
    >>> g = gradient(params, cache, y, y_pred)
    >>> float(g["W1"][0, 0]), float(g["b1"][0])
    (-2.5, -1.5)
    """
    delta = loss_derivative(y, y_pred, sample_weight,                 # (n, k)
                            out=_buffer(workspace, "delta", y_pred.shape, y_pred.dtype))
    return _backprop(params, cache, delta, activation, alpha,
                     _total_weight(y_pred, sample_weight), workspace)


def loss_and_gradient(params, cache, y, y_pred, activation="relu", *, alpha=0.0,
                      sample_weight=None, workspace=None):
    r""":func:`compute_loss` and :func:`gradient` of one forward pass, together.

    What a training step needs: the loss of the batch before the update and
    its gradients. The residual :math:`\hat Y - Y` is formed once and gives
    both (see :func:`numpynn.losses.loss_and_derivative`); the result equals
    ``compute_loss(...)`` and ``gradient(...)`` up to rounding.

    Parameters
    ----------
    params, cache, y, y_pred, activation, alpha, sample_weight, workspace
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
    >>> loss, g = loss_and_gradient(params, forward_prop(X, params)[1], y,
    ...                             forward_prop(X, params)[0])
    >>> loss, float(g["W1"][0, 0])
    (1.25, -2.5)
    """
    loss, delta = loss_and_derivative(y, y_pred, sample_weight,      # (n, k)
                                      out=_buffer(workspace, "delta", y_pred.shape,
                                                  y_pred.dtype))
    sw_sum = _total_weight(y_pred, sample_weight)
    grads = _backprop(params, cache, delta, activation, alpha, sw_sum, workspace)
    return loss + _penalty(params, alpha, sw_sum), grads


def _total_weight(y_pred, sample_weight):
    """:math:`S`: the number of rows, or the sum of the sample weights."""
    return y_pred.shape[0] if sample_weight is None else float(np.sum(sample_weight))


def _backprop(params, cache, delta, activation, alpha, sw_sum, workspace):
    """Gradients from the output layer's delta (see :func:`gradient`)."""
    deriv = DERIVATIVES[activation]
    grads = {}
    d_out = w_out = None    # one output: Delta_1 = (d_out w_out^T) * delta, factored
    for layer in range(_n_layers(params), 0, -1):
        key_W, key_b, _, key_gW, key_gb, key_delta, key_pen = _KEYS[layer]
        A_prev = cache[layer - 1]                         # (n, fan_in)
        W = params[key_W]                                 # (fan_in, fan_out)
        if w_out is None:
            gW = _matmul(A_prev.T, delta, workspace, key_gW)  # (fan_in, fan_out)
            gb = _column_sums(delta, workspace, key_gb)       # (fan_out,)
        else:
            gW, gb = _factored_grads(A_prev, d_out, delta, w_out, workspace)
        if alpha > 0:
            pen = _buffer(workspace, key_pen, W.shape, gW.dtype)
            gW += np.multiply(W, alpha / sw_sum, out=pen)
        grads[key_W], grads[key_b] = gW, gb
        if layer == 2 and delta.shape[1] == 1 and isinstance(cache[0], np.ndarray):
            d_out, w_out = delta, W[:, 0]                 # (n, 1), (h,)
            delta = deriv(A_prev, out=_buffer(workspace, key_delta, A_prev.shape,
                                              A_prev.dtype))  # (n, h): sigma'(Z) via A
        elif layer > 1:
            delta = _matmul(delta, W.T, workspace, key_delta)  # (n, fan_in)
            delta *= deriv(A_prev, out=_buffer(workspace, "deriv", A_prev.shape,
                                               A_prev.dtype))  # sigma'(Z) via A
    return grads


def _factored_grads(X, d_out, S, w, workspace):
    r"""First-layer gradients when :math:`\Delta_1 = \operatorname{diag}(\delta) S
    \operatorname{diag}(w)`.

    With one output, :math:`\Delta_1` has entries :math:`\delta_i S_{ij} w_j`
    (``S`` = :math:`\sigma'(Z)`), so

    .. math:: \nabla_{W_1} = (\operatorname{diag}(\delta) X)^\top S \operatorname{diag}(w),
              \qquad \nabla_{b_1} = \operatorname{diag}(w) S^\top \delta

    never forms the (n, h) matrix :math:`\Delta_1`: two passes over the
    hidden layer fewer than :math:`X^\top \Delta_1`, the same GEMM.
    """
    n, h = S.shape
    Xd = np.multiply(X, d_out, out=_buffer(workspace, "x_delta", X.shape,
                                           S.dtype))          # (n, d)
    gW = _matmul(Xd.T, S, workspace, "grad_W1")               # (d, h)
    gW *= w
    gb = np.matmul(d_out[:, 0], S, out=_buffer(workspace, "grad_b1", (h,), S.dtype))
    gb *= w                                                   # (h,)
    return gW, gb


def _column_sums(delta, workspace, name):
    """``delta.sum(axis=0)``: one column pairwise, several as ``ones @ delta``
    (a GEMV, about 3x faster than NumPy's row-by-row reduction at (200, 100))."""
    n, m = delta.shape
    out = _buffer(workspace, name, (m,), delta.dtype)
    if m == 1:
        return np.add.reduce(delta, axis=0, out=out)
    if workspace is None:
        ones = np.ones(n, delta.dtype)
    else:
        ones = workspace.get("ones")
        if ones is None or ones.shape[0] < n or ones.dtype != delta.dtype:
            ones = workspace["ones"] = np.ones(n, delta.dtype)
        ones = ones[:n]                           # kept: filled once per workspace
    return np.matmul(ones, delta, out=out)


def _buffer(workspace, name, shape, dtype):
    """A reusable ``(shape, dtype)`` array, or ``None`` without a workspace.

    Kept in ``workspace[name]`` with at least ``shape[0]`` rows; a smaller
    last mini-batch gets a view of the leading rows.
    """
    if workspace is None:
        return None
    buf = workspace.get(name)
    if buf is not None and buf.shape == shape and buf.dtype == dtype:
        return buf                                        # the common case: reuse
    if (buf is None or buf.shape[0] < shape[0] or buf.shape[1:] != shape[1:]
            or buf.dtype != dtype):
        buf = workspace[name] = np.empty(shape, dtype)
    return buf[:shape[0]] if buf.shape[0] != shape[0] else buf


def _matmul(A, B, workspace, name):
    """``A @ B`` as an ndarray, written into ``workspace[name]`` when A is dense.

    With an inner dimension of 1 (one feature, or one output's delta times
    ``W.T``) the product is an outer product: a broadcast multiply, which
    is exact and several times faster than a BLAS GEMM with ``K = 1``.
    """
    if not isinstance(A, np.ndarray):
        return np.asarray(A @ B)                          # sparse A: a fresh array
    dtype = A.dtype if A.dtype == B.dtype else np.result_type(A, B)
    out = _buffer(workspace, name, (A.shape[0], B.shape[1]), dtype)
    if A.shape[1] == 1:
        return np.multiply(A, B, out=out)                 # (n, 1) * (1, m) -> (n, m)
    return np.matmul(A, B, out=out)


def init_params(layer_sizes, activation, rng, dtype=np.float64):
    r"""Random initial parameters for dense layers.

    He initialisation for ReLU, :math:`W \sim \mathcal N(0, 2/\text{fan\_in})`;
    Glorot (Xavier) uniform otherwise,
    :math:`W \sim U(\pm\sqrt{6/(\text{fan\_in} + \text{fan\_out})})`.
    Biases are drawn from :math:`U(\pm 1/\sqrt{\text{fan\_in}})`, so that
    ReLU kinks start spread over the data rather than all at zero.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(d, h, k)`` for a two-layer net, ``(d, k)`` for one layer.
    activation : str
        Hidden activation; selects He or Glorot.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float64

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
        if activation == "relu":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        else:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        bound_b = 1.0 / np.sqrt(fan_in)
        params[f"W{layer}"] = W.astype(dtype)
        params[f"b{layer}"] = rng.uniform(-bound_b, bound_b, size=fan_out).astype(dtype)
    return params


def hessian(X, *, sample_weight=None, alpha=0.0, n_outputs=1, chunk_rows=65536):
    r"""Hessian of the one-layer loss w.r.t. one output's ``(w, b)``.

    The loss is quadratic, so the Hessian is constant: with
    :math:`A = [X, \mathbf 1]` and :math:`D = \operatorname{diag}(s)`,

    .. math:: \mathcal H = \frac{A^\top D A}{S k} + \frac{\alpha}{S}
              \begin{pmatrix} I_d & 0 \\ 0 & 0 \end{pmatrix}

    It is the same for every output. Used by Newton's method and by
    ``learning_rate="auto"`` (:math:`1 / \lambda_{\max}(\mathcal H)`).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Read in blocks of ``chunk_rows`` rows (works on memory maps).
    sample_weight : ndarray of shape (n_samples,), default=None
    alpha : float, default=0.0
    n_outputs : int, default=1
        :math:`k`, since the loss averages over outputs.
    chunk_rows : int, default=65536

    Returns
    -------
    H : ndarray of shape (n_features + 1, n_features + 1)
        Ordered as ``W1`` rows then ``b1``; float64.

    Examples
    --------
    >>> hessian(np.array([[1.0], [3.0]]))
    array([[5., 2.],
           [2., 1.]])
    """
    n, d = X.shape
    G = np.zeros((d + 1, d + 1))
    for start in range(0, n, chunk_rows):
        Xc = X[start:start + chunk_rows]
        w = (np.ones(Xc.shape[0]) if sample_weight is None
             else np.asarray(sample_weight[start:start + chunk_rows], dtype=np.float64))
        Xw = Xc.T.multiply(w).T if hasattr(Xc, "multiply") else Xc * w[:, None]
        G[:d, :d] += np.asarray((Xc.T @ Xw).todense() if hasattr(Xw, "todense")
                                else Xc.T @ Xw)
        col = np.asarray(Xw.sum(axis=0)).ravel()          # (d,)
        G[:d, d] += col
        G[d, :d] += col
        G[d, d] += w.sum()
    sw_sum = G[d, d]
    H = G / (sw_sum * n_outputs)
    H[np.arange(d), np.arange(d)] += alpha / sw_sum
    return H


def auto_learning_rate(X, batch_size=None, *, sample_weight=None, alpha=0.0, n_outputs=1,
                       hess=None):
    r"""The default step size of gradient descent on the one-layer loss.

    Full batch (``batch_size >= n``): :math:`\eta = 1/L` with
    :math:`L = \lambda_{\max}(\mathcal H)` (:func:`hessian`), the step for
    which every gradient-descent step provably lowers the loss
    (:math:`L`-smoothness), so the default never diverges.

    Mini-batches of size :math:`B` sampled without replacement: the
    *expected smoothness* constant (Gower et al., 2019, "SGD: General
    Analysis and Improved Rates", Prop. 3.8) interpolates between the full
    curvature and the largest single-sample curvature
    :math:`L_{\max} = \max_i \frac{n s_i}{S k} \lVert (x_i, 1) \rVert^2 + \frac{\alpha}{S}`,

    .. math:: \mathcal L_B = \frac{n (B - 1)}{B (n - 1)} L
              + \frac{n - B}{B (n - 1)} L_{\max}, \qquad
              \eta = \frac{1}{2 \mathcal L_B},

    the step of their convergence theorem (Thm. 3.1).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    batch_size : int or None, default=None
        ``None`` means full batch.
    sample_weight : ndarray of shape (n_samples,), default=None
    alpha : float, default=0.0
    n_outputs : int, default=1
    hess : ndarray, default=None
        A precomputed :func:`hessian` of ``X``, to avoid a second pass.

    Returns
    -------
    learning_rate : float

    Examples
    --------
    >>> X = np.array([[1.0], [3.0]])
    >>> round(auto_learning_rate(X), 6)                 # 1 / lambda_max([[5, 2], [2, 1]])
    0.171573
    """
    n = X.shape[0]
    H = hessian(X, sample_weight=sample_weight, alpha=alpha, n_outputs=n_outputs) \
        if hess is None else hess
    L = float(np.linalg.eigvalsh(H)[-1])
    B = n if batch_size is None else min(int(batch_size), n)
    if B >= n:
        return 1.0 / L
    sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if hasattr(X, "multiply") \
        else np.einsum("ij,ij->i", X, X)                  # (n,) row norms squared
    sq = sq + 1.0                                         # the intercept's column
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    S = w.sum()
    L_max = float((n * w * sq).max()) / (S * n_outputs) + alpha / S
    L_B = n * (B - 1) / (B * (n - 1)) * L + (n - B) / (B * (n - 1)) * L_max
    return 1.0 / (2.0 * L_B)


def excess_loss(grads, hess):
    r"""How far a one-layer model's loss is above its minimum, from its gradient.

    The loss is quadratic with constant Hessian :math:`\mathcal H`
    (:func:`hessian`), so for each output :math:`j` with gradient
    :math:`g_j = \mathcal H (\theta_j - \theta_j^*)` the gap is exactly

    .. math:: L(\theta) - L^* = \tfrac12 \sum_j g_j^\top \mathcal H^{+} g_j .

    Parameters
    ----------
    grads : dict of str to ndarray
        ``{"W1": (d, k), "b1": (k,)}``, the full-data :func:`gradient`.
    hess : ndarray of shape (d + 1, d + 1)

    Returns
    -------
    gap : float
        Non-negative; zero at the least-squares solution.

    Examples
    --------
    >>> H = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> excess_loss({"W1": np.array([[2.0]]), "b1": np.array([1.0])}, H)
    1.5
    """
    G = np.vstack([grads["W1"], np.reshape(grads["b1"], (1, -1))])   # (d + 1, k)
    G = G.astype(np.float64, copy=False)
    return float(0.5 * np.sum(G * (np.linalg.pinv(hess, hermitian=True) @ G)))
