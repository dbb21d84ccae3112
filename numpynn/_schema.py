"""What a fitted estimator's state must look like: one small table per class.

:func:`check_state` runs at save (so no file that load would refuse is
ever written) and at load (so no forged or damaged state reaches
``predict`` or ``partial_fit``). A table maps each known fitted attribute
to a check built from the combinators below; shapes are written in terms
of :class:`Dims` (``d`` features, ``k`` outputs, ``h`` hidden units, the
model's float ``dtype``). Attributes missing from a table are stored and
restored as they are (numbers, strings, real numeric arrays only), so a
new fitted attribute needs an entry here only to be checked strictly.

Every check raises :class:`ValueError` naming the attribute and what is
wrong.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["Dims", "Schema", "check_state", "SCHEMAS"]

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class Dims(NamedTuple):
    """The sizes a fitted state is checked against."""

    d: int                      # n_features_in_
    k: int | None = None        # n_outputs_
    h: int | None = None        # hidden units
    dtype: np.dtype | None = None   # the model's float dtype
    params: dict | None = None  # hyperparameters (get_params(deep=False))


class Schema(NamedTuple):
    """``dims(params, attributes) -> Dims``, ``fields: {name: check}``, ``required``."""

    dims: object
    fields: dict
    required: tuple = ()


# -- checks: callables (value, dims, name) -> None, raising ValueError ------------
def _is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v):
    return isinstance(v, (float, np.floating))


def integer(low=0, high=None):
    def check(v, dims, name):
        if not (_is_int(v) and v >= low and (high is None or v <= high)):
            bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise ValueError(f"{name}={v!r} is not an int {bound}")
    return check


def real(finite=True, positive=False):
    def check(v, dims, name):
        if not _is_real(v) or v != v or (finite and not np.isfinite(v)) or \
                (positive and not v > 0):
            what = "a positive finite float" if positive else \
                "a finite float" if finite else "a float (not NaN)"
            raise ValueError(f"{name}={v!r} is not {what}")
    return check


def options(*values):
    """One of ``values`` (strings compared by value, others by identity)."""
    def check(v, dims, name):
        if not any(v is w or (isinstance(v, str) and v == w) for w in values):
            raise ValueError(f"{name}={v!r} is not one of {values}")
    return check


def optional(inner):
    def check(v, dims, name):
        if v is not None:
            inner(v, dims, name)
    return check


def one_of(*checks):
    """The first check's error is reported when none accepts the value."""
    def check(v, dims, name):
        errors = []
        for c in checks:
            try:
                return c(v, dims, name)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(" / ".join(errors))
    return check


def float_list(v, dims, name):
    """A list of Python floats (the curves)."""
    if type(v) is not list or not all(type(x) is float for x in v):
        raise ValueError(f"{name} is not a list of floats")


def array(shape, dtype="model", *, finite=True, nonneg=False, extra=None):
    """An ndarray (or NumPy scalar for shape ``()``) of ``shape(dims)``.

    ``dtype``: ``"model"`` (the model's float dtype), ``"float"`` (float32 or
    float64), ``"int"`` (any integer dtype) or a NumPy dtype. ``extra(value,
    name)`` checks what shape and dtype cannot say.
    """
    def check(v, dims, name):
        if not isinstance(v, (np.ndarray, np.generic)):
            raise ValueError(f"{name} is a {type(v).__name__}, not an array")
        want = shape(dims)
        if v.shape != want:
            raise ValueError(f"{name} has shape {v.shape}, expected {want}")
        ok = {"model": lambda t: t == dims.dtype, "float": lambda t: t in FLOATS,
              "int": lambda t: t.kind in "iu"}.get(dtype, lambda t: t == dtype)
        if not ok(v.dtype):
            want_dtype = dims.dtype if dtype == "model" else dtype
            raise ValueError(f"{name} has dtype {v.dtype}, expected {want_dtype}")
        if v.dtype.kind == "f" and finite and not np.isfinite(v).all():
            raise ValueError(f"{name} is not finite")
        if nonneg and (v < 0).any():
            raise ValueError(f"{name} has negative entries")
        if extra is not None:
            extra(v, name)
    return check


def strings(shape=None):
    """A 1-d object array of str (``feature_names_in_``), of ``shape(dims)`` if given."""
    def check(v, dims, name):
        want = shape(dims) if shape else (len(getattr(v, "shape", ())) and v.shape)
        if not (isinstance(v, np.ndarray) and v.dtype == object and v.ndim == 1
                and v.shape == want and all(isinstance(s, str) for s in v)):
            raise ValueError(f"{name} is not a 1-d array of strings" +
                             (f" of shape {want}" if shape else ""))
    return check


def sequence(*checks, kind=list):
    """A ``kind`` (list or tuple) of exactly ``len(checks)`` values."""
    def check(v, dims, name):
        if type(v) is not kind or len(v) != len(checks):
            raise ValueError(f"{name} is not a {kind.__name__} of {len(checks)}")
        for i, (c, item) in enumerate(zip(checks, v, strict=True)):
            c(item, dims, f"{name}[{i}]")
    return check


def mapping(fields):
    """A dict with exactly the keys of ``fields``."""
    def check(v, dims, name):
        if type(v) is not dict or set(v) != set(fields):
            raise ValueError(f"{name} must be a dict with keys {sorted(fields)}")
        for key, c in fields.items():
            c(v[key], dims, f"{name}[{key!r}]")
    return check


def is_none(v, dims, name):
    if v is not None:
        raise ValueError(f"{name} must be None")


def check_state(schema, params, attributes):
    """Check ``attributes`` (fitted state) against ``schema``.

    An object without a public attribute ending in ``_`` is not fitted
    and has nothing to check (an unfitted prototype, such as
    ``TransformedTargetRegressor(regressor=...)``'s).

    Examples
    --------
    >>> check_state(SCHEMAS["LinearRegressor"], {}, {})       # unfitted: nothing to check
    >>> fitted = {"coef_": np.zeros(2), "intercept_": np.float64(0.0),
    ...           "n_features_in_": 2, "n_outputs_": 1, "loss_curve_": [0.5]}
    >>> check_state(SCHEMAS["LinearRegressor"], {}, fitted)
    Traceback (most recent call last):
    ...
    ValueError: missing fitted attributes ['n_iter_']
    >>> check_state(SCHEMAS["LinearRegressor"], {}, {**fitted, "n_iter_": 1, "coef_": np.ones(3)})
    Traceback (most recent call last):
    ...
    ValueError: coef_ has shape (3,), expected (2,)
    """
    if not any(a.endswith("_") and not a.startswith("_") for a in attributes):
        return                       # not fitted (scikit-learn's convention): nothing to check
    missing = [a for a in schema.required if a not in attributes]
    if missing:
        raise ValueError(f"missing fitted attributes {missing}")
    dims = schema.dims(params, attributes)
    for name, check in schema.fields.items():
        if name in attributes:
            check(attributes[name], dims, name)


# -- the numpynn estimators --------------------------------------------------------
def _model_dtype(value, name):
    dtype = getattr(value, "dtype", None)
    if dtype not in FLOATS:
        raise ValueError(f"{name} has dtype {dtype}, expected float32 or float64")
    return dtype


def _linear_dims(params, attrs):
    for key in ("n_features_in_", "n_outputs_"):
        integer(1)(attrs[key], None, key)
    return Dims(attrs["n_features_in_"], attrs["n_outputs_"], None,
                _model_dtype(attrs["coef_"], "coef_"), params)


def _net_dims(params, attrs):
    for key in ("n_features_in_", "n_outputs_"):
        integer(1)(attrs[key], None, key)
    coefs = attrs["coefs_"]
    first = coefs[0] if type(coefs) is list and coefs else None
    return Dims(attrs["n_features_in_"], attrs["n_outputs_"], params["hidden_units"],
                _model_dtype(first, "coefs_[0]"), params)


def _upper_triangular(R, name):
    if np.tril(R, -1).any():
        raise ValueError(f"{name} is not upper triangular")
    if R[0, 0] == 0:
        raise ValueError(f"{name} has R[0, 0] = 0 (no rows seen)")


def _tuple_of(*checks):
    """A tuple (or NamedTuple, as in memory) of exactly ``len(checks)`` values."""
    def check(v, dims, name):
        if not isinstance(v, tuple) or len(v) != len(checks):
            raise ValueError(f"{name} is not a tuple of {len(checks)}")
        for i, (c, item) in enumerate(zip(checks, v, strict=True)):
            c(item, dims, f"{name}[{i}]")
    return check


def _boolean(v, dims, name):
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name}={v!r} is not a bool")


def _triangle(v, dims, name):
    """``LstsqState.R``: float64 upper triangular of size ``fit_intercept + d + k``."""
    fi = bool(dims.params.get("fit_intercept", True)) if dims.params else True
    array(lambda s: (int(fi) + s.d + s.k,) * 2, np.dtype(np.float64))(v, dims, name)
    if np.tril(v, -1).any():
        raise ValueError(f"{name} is not upper triangular")
    if fi and v[0, 0] == 0:
        raise ValueError(f"{name} has R[0, 0] = 0 (no rows seen)")


F64 = np.dtype(np.float64)
#: ``_lstsq_state`` of ``LinearRegressor(solver="lstsq" or "newton")``: a
#: :class:`numpynn.lstsq.LstsqState` (float64 for either model dtype).
LSTSQ_STATE = optional(_tuple_of(
    _triangle, array(lambda s: (s.d,), F64), array(lambda s: (s.k,), F64),
    integer(1), real(positive=True), _boolean))
#: ``_lstsq_solution``: a :class:`numpynn.lstsq.LstsqSolution`.
LSTSQ_SOLUTION = optional(_tuple_of(
    array(lambda s: (s.d, s.k), F64), array(lambda s: (s.k,), F64), integer(0),
    array(lambda s: (s.d,), F64, nonneg=True), array(lambda s: (s.k,), F64, nonneg=True),
    real(), real(finite=False), integer(0), real()))
#: ``_lstsq_meat``: a :class:`numpynn.inference.RobustMeat` (HC covariances) or None.
_MEAT = array(lambda s: (s.k, int(bool(s.params.get("fit_intercept", True))) + s.d,
                         int(bool(s.params.get("fit_intercept", True))) + s.d), F64,
              finite=False)
LSTSQ_MEAT = optional(_tuple_of(_MEAT, _MEAT, _MEAT))


def _params_like(nonneg=False):
    """A dict like the network's parameters W1, b1, W2, b2 (optimizer moments)."""
    return mapping({
        "W1": array(lambda s: (s.d, s.h), nonneg=nonneg),
        "b1": array(lambda s: (s.h,), nonneg=nonneg),
        "W2": array(lambda s: (s.h, s.k), nonneg=nonneg),
        "b2": array(lambda s: (s.k,), nonneg=nonneg),
    })


#: ``_optimizer_state`` for each ``optimizer`` (:mod:`numpynn.optimizers`).
OPTIMIZER_STATES = {
    "sgd": is_none,
    "momentum": _params_like(),
    "adam": mapping({"t": integer(0), "m": _params_like(), "v": _params_like(nonneg=True)}),
    "lbfgs": is_none,
}


def _schedule_state(v, dims, name):
    """A schedule's state (:mod:`numpynn.schedules`): plain finite values, a positive rate."""
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        raise ValueError(f"{name} must be a dict with str keys.")
    for key, value in v.items():
        if value is not None and not isinstance(value, bool) and not _is_int(value):
            real()(value, dims, f"{name}[{key!r}]")
    for key in ("learning_rate", "epoch", "samples"):
        if key not in v:
            raise ValueError(f"{name} lacks {key!r}.")
    real(positive=True)(v["learning_rate"], dims, f"{name}['learning_rate']")


def _optimizer_state(v, dims, name):
    OPTIMIZER_STATES[dims.params["optimizer"]](v, dims, f"{name} of optimizer="
                                               f"{dims.params['optimizer']!r}")


_SIZES = {"n_features_in_": integer(1), "n_outputs_": integer(1),
          "feature_names_in_": strings(lambda s: (s.d,))}
_CURVES = {
    "loss_curve_": float_list, "validation_loss_curve_": float_list,
    "validation_scores_": float_list, "n_iter_": integer(0), "t_": integer(0),
    "loss_": real(), "best_loss_": optional(real(finite=False)),
    "best_validation_score_": optional(real(finite=False)),
}

SCHEMAS = {
    "LinearRegressor": Schema(_linear_dims, {
        **_SIZES, **_CURVES,
        "coef_": array(lambda s: (s.d,) if s.k == 1 else (s.k, s.d)),
        "intercept_": array(lambda s: () if s.k == 1 else (s.k,)),
        "learning_rate_": optional(real(positive=True)),
        "rank_": integer(0), "singular_": array(lambda s: (s.d,), nonneg=True),
        "_lstsq_state": LSTSQ_STATE, "_lstsq_solution": LSTSQ_SOLUTION,
        "_lstsq_meat": LSTSQ_MEAT,
    }, ("coef_", "intercept_", "n_features_in_", "n_outputs_", "loss_curve_", "n_iter_")),
    "TwoLayerNet": Schema(_net_dims, {
        **_SIZES, **_CURVES,
        "coefs_": sequence(array(lambda s: (s.d, s.h)), array(lambda s: (s.h, s.k))),
        "intercepts_": sequence(array(lambda s: (s.h,)), array(lambda s: (s.k,))),
        "_optimizer_state": _optimizer_state,
        "_schedule_state": _schedule_state,
        "learning_rate_": optional(real(positive=True)),
        "learning_rate_curve_": float_list,
    }, ("coefs_", "intercepts_", "n_features_in_", "n_outputs_", "loss_curve_",
        "n_iter_", "_optimizer_state")),
}
