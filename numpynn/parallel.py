r"""Exact least squares on data spread over many blocks or machines (map-reduce).

The state of :mod:`numpynn.lstsq` is a small triangle whatever the
number of rows, and the states of disjoint row blocks merge exactly
(TSQR):

.. math::

    R\bigl([M_1; M_2; \dots]\bigr) = R\bigl([R(M_1); R(M_2); \dots]\bigr).

So :func:`fit_lstsq_dask` checks and reduces each row block of a dask
array to its state where the block lives (:func:`block_state`, on the
workers of a ``dask.distributed`` cluster or on local threads), merges
the states pairwise in a tree (:func:`tree_combine` with
:func:`numpynn.lstsq.lstsq_merge`), and solves once on the driver. Only
triangles travel: ``(1 + d + k)^2`` floats per block, never rows. The
heteroscedasticity-consistent covariances need one more pass, mapped and
summed the same way (:func:`robust_meat_dask`).

dask is an optional dependency (``pip install "numpynn[dask]"``); it is
imported inside the functions, so this module imports without it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array

from ._fitting import restore_on_error
from ._validation import check_params, check_sample_weight
from .estimators import LinearRegressor
from .inference import merge_meats, robust_meat
from .lstsq import LstsqState, lstsq_merge, lstsq_update

__all__ = ["block_state", "tree_combine", "fit_lstsq_dask", "robust_meat_dask"]

FLOATS = (np.float64, np.float32)


def _check_block(X, y, sample_weight, name):
    """``fit``'s checks on one block (scikit-learn's ``check_array``, same messages)."""
    X = check_array(X, dtype=FLOATS, estimator=name, ensure_min_samples=0, input_name="X")
    y = check_array(y, dtype=X.dtype, ensure_2d=False, estimator=name, ensure_min_samples=0,
                    input_name="y")
    y = y.reshape(X.shape[0], -1)                                    # (n_block, k)
    if sample_weight is not None:
        if np.iscomplexobj(sample_weight):
            raise ValueError("Complex data not supported in sample_weight.")
        sample_weight = check_sample_weight(np.reshape(sample_weight, -1), X.shape[0])
        if sample_weight.sum() == 0:                 # all-zero blocks are fine (checked in total)
            sample_weight = np.zeros(X.shape[0])
    return X, y, sample_weight


def block_state(X, y, sample_weight=None, *, fit_intercept=True, name="LinearRegressor"):
    """The least-squares state of one row block, after ``fit``'s checks (the *map* step).

    Parameters
    ----------
    X : ndarray of shape (n_block, d)
    y : ndarray of shape (n_block,) or (n_block, k)
    sample_weight : ndarray of shape (n_block,), default=None
    fit_intercept : bool, default=True
    name : str, default="LinearRegressor"
        The estimator named in error messages.

    Returns
    -------
    state : LstsqState
        With zero rows (``n_samples == 0``) for an empty block.

    Raises
    ------
    ValueError
        With ``fit``'s messages: NaN or infinity, complex numbers, strings,
        negative weights.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0]]); y = np.array([1.0, 3.0])
    >>> state = block_state(X, y)
    >>> state.R.shape, state.n_samples
    ((3, 3), 2)
    """
    X, y, sample_weight = _check_block(X, y, sample_weight, name)
    d, k = X.shape[1], y.shape[1]
    if X.shape[0] == 0:
        p = int(fit_intercept) + d + k
        return LstsqState(np.zeros((p, p)), np.zeros(d), np.zeros(k), 0, 0.0,
                          bool(fit_intercept))
    return lstsq_update(None, X, y, sample_weight, fit_intercept=fit_intercept)


def tree_combine(states, split_every=8, combine=lstsq_merge):
    """Reduce many states to one, ``split_every`` at a time (the *reduce* step).

    Works on plain values or on ``dask.delayed`` objects (then it builds
    a reduction tree of depth :math:`\\lceil \\log_{s} m \\rceil` for
    ``m`` states, so no single task receives them all).

    Parameters
    ----------
    states : list of LstsqState (or what ``combine`` takes) or of dask.delayed
    split_every : int, default=8
        Fan-in of each combine, at least 2.
    combine : callable, default=numpynn.lstsq.lstsq_merge
        Merges a list of states into one
        (:func:`numpynn.inference.merge_meats` for robust meats).

    Returns
    -------
    state : LstsqState or dask.delayed

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2)); y = rng.normal(size=30)
    >>> parts = [block_state(X[i:i + 7], y[i:i + 7]) for i in range(0, 30, 7)]
    >>> from numpynn.lstsq import lstsq_solve
    >>> coef = lstsq_solve(tree_combine(parts, split_every=2)).coef
    >>> bool(np.allclose(coef, lstsq_solve(block_state(X, y)).coef))
    True
    """
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every}.")
    states = list(states)
    if not states:
        raise ValueError("tree_combine needs at least one state.")
    if _is_delayed(states[0]):
        combine = _delayed(combine)
    while len(states) > 1:
        states = [combine(states[i:i + split_every]) if i + 1 < len(states) else states[i]
                  for i in range(0, len(states), split_every)]
    return states[0]


def _is_delayed(obj):
    return hasattr(obj, "dask") and hasattr(obj, "compute")


def _delayed(func):
    import dask

    return dask.delayed(func, pure=False)   # fresh keys: every call recomputes


def _empty_message(shape, est):
    """``fit``'s message for an X or y without samples or features."""
    try:
        check_array(np.zeros(shape), estimator=est)
    except ValueError as exc:
        return exc
    return None


def _as_row_blocks(X, y, sample_weight, est):
    """Dask arrays chunked by rows only, ``y`` and weights aligned to ``X``; metadata checks."""
    import dask.array as da

    X, y = da.asarray(X), da.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X, got shape {X.shape}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first.")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y of shape {y.shape} does not match X of shape {X.shape}.")
    for shape in (X.shape, y.shape if y.ndim == 2 else (y.shape[0], 1)):
        if 0 in shape and (exc := _empty_message(shape, est)) is not None:
            raise exc
    for name, a in (("X", X), ("y", y)):
        if np.issubdtype(a.dtype, np.complexfloating):
            check_array(np.asarray(a[:1].compute()), ensure_2d=False, estimator=est,
                        input_name=name)                  # raises fit's message
    X = X.rechunk({1: -1})
    rows = X.chunks[0]
    y = y.rechunk((rows,) if y.ndim == 1 else (rows, -1))
    if sample_weight is not None:
        sample_weight = da.asarray(sample_weight)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected "
                             f"({X.shape[0]},).")
        if np.issubdtype(sample_weight.dtype, np.complexfloating):
            raise ValueError("Complex data not supported in sample_weight.")
        sample_weight = sample_weight.rechunk((rows,))
    return X, y, sample_weight


def _blocks(X, y, sample_weight):
    xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
    ws = [None] * len(xs) if sample_weight is None else sample_weight.to_delayed().ravel()
    return zip(xs, ys, ws, strict=True)


def _check_estimator(estimator):
    est = LinearRegressor(solver="lstsq") if estimator is None else estimator
    if type(est) is not LinearRegressor:
        raise ValueError(f"fit_lstsq_dask fits a LinearRegressor(solver='lstsq'); got "
                         f"{type(est).__name__}.")
    check_params(est, est._constraints)
    if est.solver != "lstsq":
        raise ValueError(f"fit_lstsq_dask needs solver='lstsq', got {est.solver!r}.")
    return est


def fit_lstsq_dask(X, y, sample_weight=None, *, estimator=None, split_every=8):
    """Fit ``LinearRegressor(solver="lstsq")`` exactly from a chunked dask array.

    Each row block is checked as ``fit`` checks its input and reduced to
    its state on the worker that holds it (:func:`block_state`); the
    states meet in a tree of :func:`numpynn.lstsq.lstsq_merge`
    (:func:`tree_combine`) and the driver solves the small triangle, so
    the result equals ``LinearRegressor(solver="lstsq")`` fitted on the
    rows in memory to the accuracy of one pass (:doc:`/accuracy`). Runs
    on the current dask scheduler: a ``distributed.Client`` if one is active.

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
        ``n_outputs_``, and the state, so ``partial_fit`` on more data
        continues exactly.

    Raises
    ------
    ValueError
        With ``fit``'s messages for what ``fit`` refuses (NaN, infinity,
        complex numbers, strings, no samples or features, negative or
        all-zero weights; found on the workers where the data are needed),
        for mismatched shapes, and for an estimator that is not a
        ``LinearRegressor(solver="lstsq")``.

    Examples
    --------
    >>> import pytest; da = pytest.importorskip("dask.array")
    >>> X = np.arange(8.0).reshape(-1, 1); y = 2 * X[:, 0] + 1
    >>> reg = fit_lstsq_dask(da.from_array(X, chunks=3), da.from_array(y, chunks=3))
    >>> reg.coef_.round(12), float(reg.intercept_.round(12))
    (array([2.]), 1.0)
    """
    import dask

    est = _check_estimator(estimator)
    X, y, sample_weight = _as_row_blocks(X, y, sample_weight, est)
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    mapped = _delayed(block_state)
    fit_intercept = getattr(est, "fit_intercept", True)
    states = [mapped(xb, yb, wb, fit_intercept=fit_intercept, name=type(est).__name__)
              for xb, yb, wb in _blocks(X, y, sample_weight)]
    (state,) = dask.compute(tree_combine(states, split_every=split_every))
    if sample_weight is not None and not state.sum_weights > 0:
        raise ValueError("sample_weight must not be all zero: its sum must be positive.")
    with restore_on_error(est):                  # a failed solve keeps the old model
        for attr in [a for a in vars(est) if a.endswith("_") and not a.startswith("__")]:
            delattr(est, attr)
        est.n_features_in_ = X.shape[1]
        return _set_estimator_state(est, state, dtype)


def _set_estimator_state(est, state, dtype):
    """Hand the merged state over: ``est._set_lstsq_state(state, dtype, first=True)``."""
    return est._set_lstsq_state(state, dtype, first=True)


def robust_meat_dask(X, y, sample_weight, state, solution, *, split_every=8):
    """:func:`numpynn.inference.robust_meat` over a dask array: one more map-reduce pass.

    Parameters
    ----------
    X, y, sample_weight : dask arrays or array-likes
        The rows of the fit (as given to :func:`fit_lstsq_dask`).
    state : LstsqState
    solution : LstsqSolution
    split_every : int, default=8

    Returns
    -------
    meat : RobustMeat

    Examples
    --------
    >>> import pytest; da = pytest.importorskip("dask.array")
    >>> from numpynn.lstsq import lstsq_fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2)); y = X @ [1.0, 2.0] + rng.normal(size=30)
    >>> state, sol = lstsq_fit(X, y)
    >>> meat = robust_meat_dask(da.from_array(X, chunks=7), da.from_array(y, chunks=7),
    ...                         None, state, sol)
    >>> bool(np.allclose(meat.hc3, robust_meat(X, y, None, state, sol).hc3))
    True
    """
    import dask

    X, y, sample_weight = _as_row_blocks(X, y, sample_weight, "LinearRegressor")
    mapped = _delayed(robust_meat)
    meats = [mapped(xb, yb, wb, state, solution) for xb, yb, wb in _blocks(X, y, sample_weight)]
    (meat,) = dask.compute(tree_combine(meats, split_every=split_every, combine=merge_meats))
    return meat
