r"""Closed forms of the one-layer (linear regression) loss.

With one layer the half-MSE loss is a quadratic in the parameters. Stack a
model's ``W1`` (d, k) and ``b1`` (k,) as :math:`\Theta = [W; b^\top]` of
shape (d + 1, k) (:func:`stack`); with :math:`A = [X, \mathbf 1]`,
:math:`D = \operatorname{diag}(s)` and :math:`S = \sum_i s_i`, each output's
column :math:`\theta_j` sees the same constant Hessian

.. math:: \mathcal H = \frac{A^\top D A}{S k} + \frac{\alpha}{S}
          \begin{pmatrix} I_d & 0 \\ 0 & 0 \end{pmatrix} .

From it follow the largest safe step of gradient descent
(:func:`auto_learning_rate`), Newton's method
(:func:`numpynn.optimizers.newton`) and the exact gap to the minimum
(:func:`excess_loss`). Every function here touches ``X`` only through
products :math:`v \mapsto \mathcal H v`, or builds the dense Hessian when
it is small (:data:`DENSE_MAX` columns), so a wide sparse ``X`` costs
O(nnz) per product, never a dense (d + 1)^2 matrix.
"""

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, cg, eigsh

__all__ = ["stack", "unstack", "hessian", "hessian_operator", "lambda_max", "full_gradient",
           "auto_learning_rate", "excess_loss", "excess_loss_and_spectrum"]

#: Up to this many columns of :math:`A` the Hessian is built densely (one
#: Gram product, exact eigenvalues); above, matrix-free (Lanczos, CG).
DENSE_MAX = 256
#: Rows of ``X`` read at a time (memory maps stay bounded).
CHUNK_ROWS = 65536
#: Bytes of ``X`` per block in the passes that read it twice (a product with
#: ``W``, then with its transpose): a block that stays in cache between the
#: two reads (measured against CHUNK_ROWS blocks by ``python -m benchmarks
#: --only linear_parts``; docs/benchmarks.md).
BLOCK_BYTES = 2 << 20


def _cache_rows(X):
    """Rows per block of :data:`BLOCK_BYTES` (at least 256)."""
    return max(256, BLOCK_BYTES // (8 * max(1, X.shape[1])))
OVERFLOW = ("The curvature of the loss overflows float64: the values of X are too large "
            "(their squares pass 1e308); scale them (e.g. StandardScaler in a Pipeline).")


def stack(params):
    r""":math:`\Theta = [W_1; b_1^\top]` of shape (d + 1, k) from ``{"W1", "b1"}``.

    Parameters
    ----------
    params : dict of str to ndarray
        ``W1`` of shape (d, k) and ``b1`` of shape (k,).

    Returns
    -------
    theta : ndarray of shape (d + 1, k)

    Examples
    --------
    >>> stack({"W1": np.array([[2.0]]), "b1": np.array([1.0])})
    array([[2.],
           [1.]])
    """
    return np.vstack([params["W1"], np.reshape(params["b1"], (1, -1))])


def unstack(theta):
    """The inverse of :func:`stack`: ``{"W1": theta[:-1], "b1": theta[-1]}``.

    Parameters
    ----------
    theta : ndarray of shape (d + 1, k)

    Returns
    -------
    params : dict of str to ndarray
        Views of ``theta``.

    Examples
    --------
    >>> unstack(np.array([[2.0], [1.0]]))["b1"]
    array([1.])
    """
    return {"W1": theta[:-1], "b1": theta[-1]}


def _row_blocks(X, sample_weight, rows=CHUNK_ROWS):
    """``(X rows, weights)`` in blocks of ``rows`` rows (weights float64).

    Unweighted, the weights are a read-only broadcast of 1.0 (no array of
    the block's length is allocated).
    """
    for start in range(0, X.shape[0], rows):
        Xc = X[start:start + rows]
        w = (np.broadcast_to(1.0, Xc.shape[0]) if sample_weight is None
             else np.asarray(sample_weight[start:start + rows], dtype=np.float64))
        yield Xc, w


def _total(X, sample_weight):
    return float(X.shape[0] if sample_weight is None else np.sum(sample_weight))


def hessian(X, *, sample_weight=None, alpha=0.0, n_outputs=1, chunk_rows=CHUNK_ROWS,
            fit_intercept=True):
    r"""The dense Hessian :math:`\mathcal H` of the one-layer loss.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Read in row blocks (works on memory maps).
    sample_weight : ndarray of shape (n_samples,), default=None
        ``None`` means all ones.
    alpha : float, default=0.0
        L2 penalty on ``W1``.
    n_outputs : int, default=1
        :math:`k`, since the loss averages over outputs.
    chunk_rows : int, default=65536
        Rows read at a time.
    fit_intercept : bool, default=True
        ``False``: the bias is held at 0, and the Hessian is that of ``W1``
        alone, the leading ``(n_features, n_features)`` block.

    Returns
    -------
    H : ndarray of shape (n_features + 1, n_features + 1)
        Ordered as ``W1`` rows then ``b1`` (:func:`stack`); float64.
        ``(n_features, n_features)`` with ``fit_intercept=False``.

    Raises
    ------
    ValueError
        When it overflows float64 (values of ``X`` near 1e154 or more).

    Examples
    --------
    >>> hessian(np.array([[1.0], [3.0]]))
    array([[5., 2.],
           [2., 1.]])
    """
    d = X.shape[1]
    G = np.zeros((d + 1, d + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        _gram(G, X, sample_weight, chunk_rows)
    S = G[d, d]
    H = G / (S * n_outputs)
    H[np.arange(d), np.arange(d)] += alpha / S
    if not np.isfinite(H).all():
        raise ValueError(OVERFLOW)
    return H if fit_intercept else H[:d, :d].copy()


def _gram(G, X, sample_weight, chunk_rows):
    r"""Add :math:`A^\top D A` of ``X``'s row blocks into ``G`` (float64, (d + 1, d + 1))."""
    d = X.shape[1]
    for Xc, w in _row_blocks(X, sample_weight, chunk_rows):
        if sample_weight is None:           # no weighted copy of the block (memory maps)
            Xw = Xc
        else:
            Xw = (Xc.multiply(w[:, None]).tocsr() if hasattr(Xc, "multiply")
                  else Xc * w[:, None])
        XtWX = Xc.T @ Xw                                        # (d, d)
        G[:d, :d] += XtWX.toarray() if hasattr(XtWX, "toarray") else XtWX
        col = np.asarray(Xw.sum(axis=0)).ravel()                # (d,)
        G[:d, d] += col
        G[d, :d] += col
        G[d, d] += w.sum()


def hessian_operator(X, *, sample_weight=None, alpha=0.0, n_outputs=1, fit_intercept=True):
    r""":math:`v \mapsto \mathcal H v` as a SciPy ``LinearOperator``, in O(nnz) per product.

    Parameters
    ----------
    X, sample_weight, alpha, n_outputs, fit_intercept
        As for :func:`hessian`.

    Returns
    -------
    H : scipy.sparse.linalg.LinearOperator of shape (n_features + 1, n_features + 1)
        ``(n_features, n_features)`` with ``fit_intercept=False``.

    Examples
    --------
    >>> H = hessian_operator(np.array([[1.0], [3.0]]))
    >>> H @ np.array([1.0, 0.0])
    array([5., 2.])
    """
    d = X.shape[1]
    scale = 1.0 / (_total(X, sample_weight) * n_outputs)
    ridge = alpha / _total(X, sample_weight)

    def matvec(v):
        v = np.ravel(v)
        if not fit_intercept:                       # b held at 0: the W1 block only
            v = np.append(v, 0.0)
        out = np.zeros(d + 1)
        for Xc, w in _row_blocks(X, sample_weight, _cache_rows(X)):
            r = w * (np.asarray(Xc @ v[:d]).ravel() + v[d])     # (rows,): D A v
            out[:d] += np.asarray(Xc.T @ r).ravel()
            out[d] += r.sum()
        out *= scale
        out[:d] += ridge * v[:d]
        return out if fit_intercept else out[:d]

    p = d + int(bool(fit_intercept))
    return LinearOperator((p, p), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def lambda_max(X, *, sample_weight=None, alpha=0.0, n_outputs=1, fit_intercept=True):
    r""":math:`L = \lambda_{\max}(\mathcal H)`, the smoothness constant of the loss.

    Exact from the dense Hessian up to :data:`DENSE_MAX` columns; otherwise
    by Lanczos iteration (``scipy.sparse.linalg.eigsh``) on
    :func:`hessian_operator`, converged to a relative ``1e-8``.

    Parameters
    ----------
    X, sample_weight, alpha, n_outputs, fit_intercept
        As for :func:`hessian`.

    Returns
    -------
    L : float

    Raises
    ------
    ValueError
        When the Hessian overflows float64 (values of ``X`` near 1e154 or more).

    Examples
    --------
    >>> round(lambda_max(np.array([[1.0], [3.0]])), 6)          # 3 + 2 sqrt(2)
    5.828427
    """
    kw = dict(sample_weight=sample_weight, alpha=alpha, n_outputs=n_outputs,
              fit_intercept=fit_intercept)
    if X.shape[1] + 1 <= DENSE_MAX:
        return float(np.linalg.eigvalsh(hessian(X, **kw))[-1])
    op = hessian_operator(X, **kw)
    v0 = np.ones(op.shape[0])                    # deterministic start
    with np.errstate(over="ignore", invalid="ignore"):
        L = float(eigsh(op, k=1, which="LA", tol=1e-8, v0=v0, return_eigenvectors=False)[0])
    if not np.isfinite(L):
        raise ValueError(OVERFLOW)
    return L


def auto_learning_rate(X, batch_size=None, *, sample_weight=None, alpha=0.0, n_outputs=1,
                       hess=None, fit_intercept=True):
    r"""The default step size of gradient descent on the one-layer loss.

    Full batch (``batch_size >= n``): :math:`\eta = 1/L` with
    :math:`L = \lambda_{\max}(\mathcal H)` (:func:`lambda_max`), the step for
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

    the step of their convergence theorem (Thm. 3.1). Costs O(nnz) for a
    wide sparse ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training inputs.
    batch_size : int or None, default=None
        ``None`` means full batch.
    sample_weight : ndarray of shape (n_samples,), default=None
        ``None`` means all ones.
    alpha : float, default=0.0
        L2 penalty on ``W1``.
    n_outputs : int, default=1
        :math:`k`.
    hess : ndarray, default=None
        A precomputed dense :func:`hessian` of ``X``, to avoid a second pass.
    fit_intercept : bool, default=True
        ``False``: the bias is held at 0; the curvatures are those of ``W1``
        alone (:math:`\lVert x_i \rVert^2` in :math:`L_{\max}`).

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
    L = (float(np.linalg.eigvalsh(hess)[-1]) if hess is not None else
         lambda_max(X, sample_weight=sample_weight, alpha=alpha, n_outputs=n_outputs,
                    fit_intercept=fit_intercept))
    B = n if batch_size is None else min(int(batch_size), n)
    if B >= n:
        return 1.0 / L
    sq = np.concatenate([np.asarray(Xc.multiply(Xc).sum(axis=1)).ravel()
                         if hasattr(Xc, "multiply") else np.einsum("ij,ij->i", Xc, Xc)
                         for Xc, _ in _row_blocks(X, None)])      # (n,): |x_i|^2
    sq += float(bool(fit_intercept))                                # |(x_i, 1)|^2
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
        ``{"W1": (d, k), "b1": (k,)}``, the full-data gradient.
    hess : ndarray of shape (d + 1, d + 1) or (d, d)
        The dense :func:`hessian`; ``(d, d)`` when it was taken with
        ``fit_intercept=False`` (then ``grads["b1"]`` is ignored: the bias
        is held at 0).

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
    G = stack(grads).astype(np.float64, copy=False)[:len(hess)]     # (d + 1, k) or (d, k)
    return float(0.5 * np.sum(G * (np.linalg.pinv(hess, hermitian=True) @ G)))


def excess_loss_and_spectrum(X, grads, *, sample_weight=None, alpha=0.0, n_outputs=1,
                             maxiter=200, fit_intercept=True):
    r"""The gap to the minimum with :math:`L` and the condition number of :math:`\mathcal H`.

    Up to :data:`DENSE_MAX` columns all three are exact (dense Hessian).
    Above, matrix-free: :math:`\mathcal H^{+} g_j` by conjugate gradients
    (at most ``maxiter`` products each); CG's iterates raise
    :math:`g^\top x_t` monotonically towards :math:`g^\top \mathcal H^{+} g`,
    so an unconverged gap is a lower bound, never an overestimate. The
    extreme eigenvalues come from Lanczos; an unconverged smallest one
    gives ``cond = nan``.

    Parameters
    ----------
    X, sample_weight, alpha, n_outputs, fit_intercept
        As for :func:`hessian`.
    grads : dict of str to ndarray
        ``{"W1": (d, k), "b1": (k,)}``, the full-data gradient (``b1``'s is
        ignored with ``fit_intercept=False``).
    maxiter : int, default=200
        Products per CG solve and Lanczos run.

    Returns
    -------
    gap : float
        :func:`excess_loss` (or a lower bound of it).
    L : float
        :math:`\lambda_{\max}(\mathcal H)`.
    cond : float
        :math:`\lambda_{\max} / \lambda_{\min}`; ``inf`` when singular.

    Examples
    --------
    >>> X = np.array([[1.0], [3.0]])
    >>> g = {"W1": np.array([[1.0]]), "b1": np.array([0.0])}
    >>> gap, L, cond = excess_loss_and_spectrum(X, g)
    >>> round(gap, 6), round(cond, 3)
    (0.5, 33.971)
    """
    kw = dict(sample_weight=sample_weight, alpha=alpha, n_outputs=n_outputs,
              fit_intercept=fit_intercept)
    if X.shape[1] + 1 <= DENSE_MAX:
        H = hessian(X, **kw)
        eig = np.linalg.eigvalsh(H)
        cond = eig[-1] / eig[0] if eig[0] > eig[-1] * 1e-15 else np.inf
        return excess_loss(grads, H), float(eig[-1]), float(cond)
    op = hessian_operator(X, **kw)
    G = stack(grads).astype(np.float64, copy=False)[:op.shape[0]]
    gap = 0.0
    for g in G.T:
        x, _ = cg(op, g, maxiter=maxiter)
        gap += 0.5 * float(g @ x)
    v0 = np.ones(op.shape[0])
    L = lambda_max(X, **kw)
    try:
        mu = float(eigsh(op, k=1, which="SA", tol=1e-3, v0=v0, maxiter=maxiter,
                         return_eigenvectors=False)[0])
        cond = L / mu if mu > L * 1e-12 else np.inf
    except ArpackNoConvergence:
        cond = np.nan
    return gap, L, cond


def full_gradient(X, y, params, *, sample_weight=None, alpha=0.0):
    r"""The one-layer loss's gradient on all of ``X``, read in row blocks.

    .. math:: \nabla_\Theta L = \frac{A^\top D (A\Theta - Y)}{S k}
              + \frac{\alpha}{S}\begin{pmatrix} W \\ 0 \end{pmatrix}

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_outputs)
    params : dict of str to ndarray
        ``W1`` (d, k) and ``b1`` (k,).
    sample_weight : ndarray of shape (n_samples,), default=None
    alpha : float, default=0.0

    Returns
    -------
    grads : dict of str to ndarray
        ``{"W1": (d, k), "b1": (k,)}`` in float64.

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]]); y = np.array([[1.0], [2.0]])
    >>> g = full_gradient(X, y, {"W1": np.zeros((1, 1)), "b1": np.zeros(1)})
    >>> float(g["W1"][0, 0]), float(g["b1"][0])
    (-2.5, -1.5)
    """
    W, b = params["W1"].astype(np.float64), params["b1"].astype(np.float64)
    d, k = W.shape
    G = np.zeros((d + 1, k))
    rows = _cache_rows(X)
    for start, (Xc, w) in zip(range(0, X.shape[0], rows), _row_blocks(X, sample_weight, rows),
                              strict=True):
        R = np.asarray(Xc @ W)                                          # (rows, k)
        R += b
        R -= y[start:start + rows]
        if sample_weight is not None:
            R *= w[:, None]
        G[:d] += np.asarray(Xc.T @ R)
        G[d] += R.sum(axis=0)
    S = _total(X, sample_weight)
    G /= S * k
    G[:d] += (alpha / S) * W
    return unstack(G)
