r"""Exact least squares on data spread over many blocks or machines (map-reduce).

The streamed QR state of :mod:`numpynn.lstsq` is a small
``(1 + d + k)``-square triangle whatever the number of rows, and the
states of disjoint row blocks combine exactly (TSQR):

.. math::

    R\bigl([M_1; M_2; \dots]\bigr) = R\bigl([R(M_1); R(M_2); \dots]\bigr).

So :func:`fit_lstsq_dask` maps :func:`numpynn.lstsq.qr_update` over the
row blocks of a dask array where they live (on the workers of a
``dask.distributed`` cluster, or on local threads), reduces the
triangles pairwise with :func:`numpynn.lstsq.qr_combine` in a tree, and
solves once on the driver. Only triangles travel: ``(1 + d + k)^2``
floats per block, never rows.

dask is an optional dependency (``pip install "numpynn[dask]"``); it is
imported inside the functions, so this module imports without it.
"""

from __future__ import annotations

import numpy as np

from ._fitting import restore_on_error
from ._validation import check_params
from .estimators import LinearRegressor
from .lstsq import qr_combine, qr_update

__all__ = ["block_state", "tree_combine", "fit_lstsq_dask"]


def block_state(X, y, sample_weight=None):
    """The QR state of one row block, after checking it (the *map* step).

    Parameters
    ----------
    X : ndarray of shape (n_block, d)
    y : ndarray of shape (n_block,) or (n_block, k)
    sample_weight : ndarray of shape (n_block,), default=None

    Returns
    -------
    R : ndarray of shape (1 + d + k, 1 + d + k)
        float64, upper triangular; all zeros for an empty block.

    Raises
    ------
    ValueError
        If the block holds NaN or infinity, or a negative weight.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0]]); y = np.array([1.0, 3.0])
    >>> block_state(X, y).shape
    (3, 3)
    """
    X = np.asarray(X)
    y = np.asarray(y).reshape(X.shape[0], -1)                     # (n_block, k)
    p = 1 + X.shape[1] + y.shape[1]
    if X.shape[0] == 0:
        return np.zeros((p, p))
    for name, a in (("X", X), ("y", y), ("sample_weight", sample_weight)):
        if a is not None and not np.isfinite(a).all():
            raise ValueError(f"Input {name} contains NaN or infinity.")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight).reshape(-1)
        if (sample_weight < 0).any():
            raise ValueError("sample_weight must be non-negative.")
    return qr_update(None, X, y, sample_weight)


def tree_combine(states, split_every=8):
    """Reduce many QR states to one, ``split_every`` at a time (the *reduce* step).

    Works on plain arrays or on ``dask.delayed`` objects (then it builds
    a reduction tree of depth :math:`\\lceil \\log_{s} m \\rceil` for
    ``m`` states, so no single task receives them all).

    Parameters
    ----------
    states : list of ndarray of shape (p, p) or of dask.delayed
    split_every : int, default=8
        Fan-in of each combine, at least 2.

    Returns
    -------
    R : ndarray of shape (p, p) or dask.delayed

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2)); y = rng.normal(size=30)
    >>> parts = [block_state(X[i:i + 7], y[i:i + 7]) for i in range(0, 30, 7)]
    >>> R = tree_combine(parts, split_every=2)
    >>> from numpynn.lstsq import qr_solve
    >>> coef, intercept, rss = qr_solve(R, d=2)
    >>> bool(np.allclose(coef, qr_solve(block_state(X, y), d=2)[0]))
    True
    """
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}.")
    states = list(states)
    if not states:
        raise ValueError("tree_combine needs at least one state.")
    delayed = _is_delayed(states[0])
    combine = _delayed(qr_combine) if delayed else qr_combine
    while len(states) > 1:
        states = [combine(states[i:i + split_every]) if i + 1 < len(states) else states[i]
                  for i in range(0, len(states), split_every)]
    return states[0]


def _is_delayed(obj):
    return hasattr(obj, "dask") and hasattr(obj, "compute")


def _delayed(func):
    import dask

    return dask.delayed(func, pure=False)   # fresh keys: every call recomputes


def _as_row_blocks(X, y, sample_weight):
    """Dask arrays chunked by rows only, with ``y`` and weights aligned to ``X``."""
    import dask.array as da

    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X, got shape {X.shape}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first.")
    y = da.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y of shape {y.shape} does not match X of shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"Found an empty X of shape {X.shape}.")
    X = X.rechunk({1: -1})
    rows = X.chunks[0]
    y = y.rechunk((rows,) if y.ndim == 1 else (rows, -1))
    if sample_weight is not None:
        sample_weight = da.asarray(sample_weight)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(f"sample_weight of shape {sample_weight.shape} does not "
                             f"match X of shape {X.shape}.")
        sample_weight = sample_weight.rechunk((rows,))
    return X, y, sample_weight


def fit_lstsq_dask(X, y, sample_weight=None, *, estimator=None, split_every=8):
    """Fit ``LinearRegressor(solver="lstsq")`` exactly from a chunked dask array.

    Each row block is reduced to its QR state on the worker that holds it
    (:func:`block_state`); the states meet in a tree of
    :func:`numpynn.lstsq.qr_combine` (:func:`tree_combine`) and the driver
    solves the small triangular system, so the result equals one in-memory
    ``LinearRegressor(solver="lstsq").fit(X, y)`` to rounding. Runs on the
    current dask scheduler: a ``distributed.Client`` if one is active.

    Parameters
    ----------
    X : dask.array.Array or array-like of shape (n_samples, n_features)
        Chunked by rows (column chunks are merged). Chunk sizes must be known.
    y : dask.array.Array or array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : dask.array.Array or array-like of shape (n_samples,), default=None
    estimator : LinearRegressor, default=None
        Its hyperparameters are used (``solver`` must be ``"lstsq"``; e.g.
        ``alpha`` for ridge); it is fitted afresh in place. ``None`` makes a
        new ``LinearRegressor(solver="lstsq")``.
    split_every : int, default=8
        Fan-in of the reduction tree.

    Returns
    -------
    estimator : LinearRegressor
        Fitted: ``coef_``, ``intercept_``, ``loss_curve_`` (one entry, the
        loss at the solution), ``n_iter_``, ``n_features_in_``,
        ``n_outputs_``, and the QR state, so ``partial_fit`` on more data
        continues exactly.

    Raises
    ------
    ValueError
        For mismatched shapes, empty or non-finite input (found on the
        workers), or an estimator whose solver is not ``"lstsq"``.

    Examples
    --------
    >>> import pytest; da = pytest.importorskip("dask.array")
    >>> X = np.arange(8.0).reshape(-1, 1); y = 2 * X[:, 0] + 1
    >>> reg = fit_lstsq_dask(da.from_array(X, chunks=3), da.from_array(y, chunks=3))
    >>> reg.coef_.round(12), float(reg.intercept_.round(12))
    (array([2.]), 1.0)
    """
    import dask

    est = LinearRegressor(solver="lstsq") if estimator is None else estimator
    check_params(est, est._constraints)
    if est.solver != "lstsq":
        raise ValueError(f"fit_lstsq_dask needs solver='lstsq', got {est.solver!r}.")
    X, y, sample_weight = _as_row_blocks(X, y, sample_weight)
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
    ws = [None] * len(xs) if sample_weight is None else sample_weight.to_delayed().ravel()
    mapped = _delayed(block_state)
    R = tree_combine([mapped(xb, yb, wb) for xb, yb, wb in zip(xs, ys, ws, strict=True)],
                     split_every=split_every)
    (R,) = dask.compute(R)
    if R[0, 0] == 0:
        raise ValueError("fit_lstsq_dask needs at least one sample with positive weight.")
    with restore_on_error(est):                  # a failed solve keeps the old model
        for attr in [a for a in vars(est) if a.endswith("_") and not a.startswith("__")]:
            delattr(est, attr)
        est.n_features_in_ = X.shape[1]
        return est._set_lstsq_state(R, X.shape[1], dtype, max(X.shape), first=True)
