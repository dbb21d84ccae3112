r"""Exact least squares for the one-layer model, streamed by row blocks.

The closed form is computed from the R factor of a QR decomposition of the
weighted, augmented matrix :math:`M = D^{1/2}[\mathbf 1, X, Y]` of shape
``(n, 1 + d + k)``:

.. math::

    M = Q \begin{pmatrix} r_{11} & r_{12}^\top & z_1^\top \\
                          0 & R_{22} & Z_2 \\
                          0 & 0 & T \end{pmatrix}.

Because the ones column comes first, :math:`R_{22}` is the R factor of the
(weighted) *centred* :math:`X` and :math:`Z_2` its projection of the
centred :math:`Y`. Hence

* coefficients: :math:`B = \arg\min \lVert R_{22} B - Z_2 \rVert^2 +
  \alpha \lVert B \rVert^2`, the minimum-norm solution when rank-deficient
  (as scikit-learn's ``LinearRegression``; ``alpha > 0`` gives ``Ridge``);
* intercept: :math:`b = (z_1 - r_{12}^\top B) / r_{11}`;
* residual sum of squares at the solution from :math:`T` and the
  remaining residual of the small triangular system, with no second pass.

Since :math:`R` of ``[R_old; M_new]`` equals :math:`R` of all rows seen, the
state is a ``(1+d+k)``-square matrix whatever ``n`` is: blocks can arrive
one at a time (``partial_fit``), from a memory map, or from many workers
and be combined (TSQR). Never forms :math:`X^\top X`, so it keeps the
accuracy of QR (condition number :math:`\kappa`, not :math:`\kappa^2`).
"""

import numpy as np

from ._engine import BLAS, SMALL_FLOPS

__all__ = ["qr_update", "qr_combine", "qr_solve"]


def _square(R, size):
    """Pad the ``(m, size)`` R factor with zero rows to ``(size, size)``."""
    if R.shape[0] >= size:
        return R[:size]
    out = np.zeros((size, size), R.dtype)
    out[:R.shape[0]] = R
    return out


def qr_update(R, X, y, sample_weight=None, block_rows=None):
    """Fold rows ``(X, y)`` into the triangular state ``R``.

    Parameters
    ----------
    R : ndarray of shape (1 + d + k, 1 + d + k) or None
        The state so far (``None`` to start).
    X : ndarray or sparse matrix of shape (n_samples, d)
        Read in blocks of ``block_rows`` rows; works on memory maps. A
        sparse ``X`` is densified one block at a time only (exact, bounded
        memory: about 1 MB).
    y : ndarray of shape (n_samples, k)
    sample_weight : ndarray of shape (n_samples,), default=None
    block_rows : int, default=None
        Rows per QR; by default about 1 MB of float64 per block, so that
        each Householder QR runs in cache (measured about 3x faster than
        32 MB blocks, which stream the block from memory once per column).

    Returns
    -------
    R : ndarray of shape (1 + d + k, 1 + d + k)
        float64, upper triangular.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([[1.0], [3.0], [5.0]])
    >>> R = qr_update(None, X, y)
    >>> coef, intercept, rss = qr_solve(R, d=1)
    >>> coef.round(12), intercept.round(12), rss.round(12)
    (array([[2.]]), array([1.]), array([0.]))
    """
    n, d = X.shape
    k = y.shape[1]
    p = 1 + d + k
    block_rows = block_rows or max(4 * p, (1 << 17) // p)     # 2**17 float64 = 1 MiB
    small = n > block_rows and 2 * block_rows * p * p < 8 * SMALL_FLOPS   # many small QRs
    with BLAS.one_thread(small):
        return _qr_blocks(R, X, y, sample_weight, block_rows)


def _qr_blocks(R, X, y, sample_weight, block_rows):
    """The loop of :func:`qr_update`: one small QR per block of rows."""
    n, d = X.shape
    p = 1 + d + y.shape[1]
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        M = np.empty((stop - start + (0 if R is None else p), p))   # (rows, p)
        rows = M[:stop - start]
        rows[:, 0] = 1.0
        Xb = X[start:stop]                                         # (rows, d)
        rows[:, 1:1 + d] = Xb.toarray() if hasattr(Xb, "toarray") else Xb  # sparse: per block
        rows[:, 1 + d:] = y[start:stop]
        if sample_weight is not None:
            rows *= np.sqrt(np.asarray(sample_weight[start:stop], np.float64))[:, None]
        if R is not None:
            M[stop - start:] = R
        R = _square(np.linalg.qr(M, mode="r"), p)
    return R


def qr_combine(R_blocks):
    """Combine states computed on disjoint row blocks (the reduce of TSQR).

    Parameters
    ----------
    R_blocks : iterable of ndarray of shape (1 + d + k, 1 + d + k)
        States from :func:`qr_update` (or earlier combines) of disjoint
        row blocks, in any order.

    Returns
    -------
    R : ndarray of shape (1 + d + k, 1 + d + k)
        The state of all their rows together.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2)); y = rng.normal(size=(20, 1))
    >>> R = qr_combine([qr_update(None, X[:9], y[:9]), qr_update(None, X[9:], y[9:])])
    >>> np.allclose(qr_solve(R, 2)[0], qr_solve(qr_update(None, X, y), 2)[0])
    True
    """
    R_blocks = list(R_blocks)
    p = R_blocks[0].shape[0]
    return _square(np.linalg.qr(np.vstack(R_blocks), mode="r"), p)


def qr_solve(R, d, alpha=0.0, rcond=None):
    r"""Coefficients, intercepts and residual sums of squares from the state.

    Parameters
    ----------
    R : ndarray of shape (1 + d + k, 1 + d + k)
        From :func:`qr_update` or :func:`qr_combine`.
    d : int
        Number of features.
    alpha : float, default=0.0
        Ridge penalty :math:`\alpha \lVert B \rVert_F^2` (intercept free).
    rcond : float, default=None
        Relative cut-off for small singular values of :math:`R_{22}`
        (``None``: machine precision times ``d``).

    Returns
    -------
    coef : ndarray of shape (d, k)
    intercept : ndarray of shape (k,)
    rss : ndarray of shape (k,)
        :math:`\sum_i s_i (\hat y_{ij} - y_{ij})^2` per output at the solution.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> coef, intercept, rss = qr_solve(qr_update(None, X, y), d=2)
    >>> coef.ravel().round(12), intercept.round(12), rss.round(12)
    (array([ 1., -2.]), array([0.5]), array([0.]))
    """
    r11, r12, z1 = R[0, 0], R[0, 1:1 + d], R[0, 1 + d:]
    R22, Z2, T = R[1:1 + d, 1:1 + d], R[1:1 + d, 1 + d:], R[1 + d:, 1 + d:]
    # A constant column keeps, after centring, a rounding residue of order eps
    # times its norm; zero it, as exact centring would, before the relative cut-off
    # (else a lone constant column gets a coefficient of about 1e15).
    tol = max(d, 1) * np.finfo(np.float64).eps if rcond is None else rcond
    constant = np.linalg.norm(R22, axis=0) <= tol * np.linalg.norm(R[:1 + d, 1:1 + d], axis=0)
    if constant.any():
        R22 = np.where(constant, 0.0, R22)                              # (d, d)
    if alpha > 0:
        A = np.vstack([R22, np.sqrt(alpha) * np.eye(d)])               # (2d, d)
        B = np.vstack([Z2, np.zeros((d, Z2.shape[1]))])                # (2d, k)
    else:
        A, B = R22, Z2
    coef = np.linalg.lstsq(A, B, rcond=rcond)[0]                       # (d, k)
    if r11 == 0:
        raise ValueError("qr_solve needs at least one sample with positive weight.")
    intercept = (z1 - r12 @ coef) / r11                                # (k,)
    rss = ((R22 @ coef - Z2) ** 2).sum(axis=0) + (T ** 2).sum(axis=0)  # (k,)
    return coef, intercept, rss
