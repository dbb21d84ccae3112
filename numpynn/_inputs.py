"""The data a fit or a prediction is given: checked, converted once, read in blocks.

``check_fit_data`` and ``check_validation_data`` validate as scikit-learn
does and leave ``X`` C-ordered after at most one copy (never a copy of a
memory map); ``predict`` reads one snapshot of the fitted state and
predicts in blocks of rows.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y, validate_data

from . import kernels
from ._validation import check_sample_weight

FLOATS = (np.float64, np.float32)
#: Sparse formats taken as they are (others are converted to CSR); X is never densified.
SPARSE = ("csr", "csc")
#: Rows per forward pass at prediction (bounded memory on huge or mapped X).
PREDICT_ROWS = 65536


def _dtype_to_validate(X):
    """``FLOATS``, or ``None`` for a memory map of another real dtype (read as it is)."""
    keep = isinstance(X, np.memmap) and X.dtype.kind in "fiu" and X.dtype not in FLOATS
    return None if keep else FLOATS


def check_fit_data(est, X, y, sample_weight, new, *, reset, accept_sparse=SPARSE):
    """Validate ``(X, y, sample_weight)`` for fitting.

    With ``reset``, ``n_features_in_`` (and ``feature_names_in_``) go into
    ``new``, the fit's attributes to publish, not onto ``est``: a fit that
    fails later leaves ``est`` untouched, and a concurrent ``predict`` never
    sees the new feature count with the old coefficients.

    Returns ``X``, ``y`` as ``(n, k)`` C-ordered and ``sample_weight`` as
    ``(n,)`` or ``None``, the last two in the training dtype: ``X``'s when
    float32 or float64, else float64 (``y.dtype`` tells it). ``X`` is never
    a copy of a float memory map, and a memory map of another dtype (float16,
    int16, ...) is kept as it is: batches are converted as they are read.
    An in-memory ``X`` that is not C-ordered (a DataFrame's, a column slice)
    is copied once to C order, so that every batch reads contiguous rows;
    never twice, also when its dtype is converted (int or mixed-dtype
    DataFrames, Fortran-ordered int arrays).
    """
    if sp.issparse(y):                      # as scikit-learn accepts it: (n, k) is small
        y = y.toarray()
    mapped = isinstance(X, np.memmap)
    shell = copy.copy(est) if reset else est        # validate_data writes on reset
    checks = dict(dtype=_dtype_to_validate(X), multi_output=True, y_numeric=True,
                  accept_sparse=accept_sparse)
    if _mixed_frame(X):                             # names and count, then one copy
        X, y = validate_data(shell, X, y, reset=reset, skip_check_array=True)
        X, y = check_X_y(frame_to_c(X), y, estimator=shell, **checks)
    else:                                           # converting anyway: C order in the copy
        order = "C" if isinstance(X, np.ndarray) and not mapped \
            and X.dtype not in FLOATS else None
        X, y = validate_data(shell, X, y, reset=reset, order=order, **checks)
    if reset:
        new.update({k: v for k, v in vars(shell).items()
                    if k in ("n_features_in_", "feature_names_in_")})
    if isinstance(X, np.ndarray) and not mapped and not X.flags.c_contiguous:
        X = np.ascontiguousarray(X)                 # the one copy (a float DataFrame's)
    dtype = X.dtype if X.dtype in FLOATS else np.dtype(np.float64)
    y = np.ascontiguousarray(y, dtype=dtype)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    sample_weight = check_sample_weight(sample_weight, X.shape[0], dtype)
    return X, y, sample_weight


#: Rows per block when :func:`frame_to_c` copies a DataFrame's columns.
FRAME_ROWS = 4096


def _mixed_frame(X):
    """Whether ``X`` is a DataFrame of numpy numbers, not all of one float dtype.

    scikit-learn converts such a frame in two copies (to one dtype, then,
    here, to C order); :func:`frame_to_c` makes one.
    """
    pd = sys.modules.get("pandas")                  # never imported here
    if pd is None or not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        return False
    dtypes = set(X.dtypes)
    return (all(isinstance(t, np.dtype) and t.kind in "biuf" for t in dtypes)
            and not (len(dtypes) == 1 and dtypes <= set(map(np.dtype, FLOATS))))


def frame_to_c(frame):
    """A DataFrame of numpy numbers as one C-ordered float array: one copy.

    The dtype is what :func:`sklearn.utils.check_array` would choose
    (the columns' common type when float32 or float64, else float64).
    Columns are copied block by block of :data:`FRAME_ROWS` rows, so the
    output is written while it is in cache.
    """
    dtype = np.result_type(*frame.dtypes)
    dtype = dtype if dtype in FLOATS else np.dtype(np.float64)
    columns = [frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])]
    out = np.empty(frame.shape, dtype)
    for start in range(0, frame.shape[0], FRAME_ROWS):
        block = out[start:start + FRAME_ROWS]
        for j, column in enumerate(columns):
            block[:, j] = column[start:start + FRAME_ROWS]
    return out


def forward(X, params, activation):
    """:func:`numpynn.kernels.forward_prop` in blocks of :data:`PREDICT_ROWS` rows."""
    if X.shape[0] <= PREDICT_ROWS:
        return kernels.forward_prop(X, params, activation)[0]
    return np.vstack([kernels.forward_prop(X[s:s + PREDICT_ROWS], params, activation)[0]
                      for s in range(0, X.shape[0], PREDICT_ROWS)])


def predict(est, X, activation):
    """``est``'s prediction from one consistent view of its fitted state.

    Returns ``(n_samples,)`` for one output, else ``(n_samples, n_outputs)``.
    """
    check_is_fitted(est)                        # est.__sklearn_is_fitted__: no dict scan
    params = est._params(dict(vars(est)))       # one snapshot: never half an old model
    X = validate_data(est, X, reset=False, dtype=_dtype_to_validate(X), accept_sparse=SPARSE)
    dtype = X.dtype if X.dtype in FLOATS else np.dtype(np.float64)
    y_pred = forward(X, {k: v.astype(dtype, copy=False) for k, v in params.items()},
                     activation)
    return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred


def check_validation_data(est, new, X_val, y_val, dtype, n_outputs):
    """``(X_val, y_val (n, k), None)`` validated like the training data, or ``None``.

    Checked against the features of the data being fitted (``new``, else ``est``).
    """
    if X_val is None and y_val is None:
        return None
    if X_val is None or y_val is None:
        raise ValueError("X_val and y_val must be given together.")
    if sp.issparse(y_val):
        y_val = y_val.toarray()
    shell = copy.copy(est)
    vars(shell).update({k: v for k, v in new.items()
                        if k in ("n_features_in_", "feature_names_in_")})
    if "n_features_in_" in new and "feature_names_in_" not in new:
        vars(shell).pop("feature_names_in_", None)
    Xv = validate_data(shell, X_val, reset=False, dtype=_dtype_to_validate(X_val),
                       accept_sparse=SPARSE)
    yv = check_array(y_val, ensure_2d=False, dtype=dtype, input_name="y_val")
    yv = yv.reshape(-1, 1) if yv.ndim == 1 else yv
    if yv.shape != (Xv.shape[0], n_outputs):
        raise ValueError(f"y_val has shape {yv.shape}; expected ({Xv.shape[0]}, "
                         f"{n_outputs}) for X_val with {Xv.shape[0]} rows and a model "
                         f"with {n_outputs} output(s).")
    return Xv, np.ascontiguousarray(yv), None
