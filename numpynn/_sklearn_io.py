"""The scikit-learn classes :func:`numpynn.save` stores: an explicit allow-list.

Each entry names the class (imported here, never from a name in a file),
what its hyperparameters may be, and the schema of its fitted state
(:mod:`numpynn._schema`): which attributes it has, their shapes in terms
of ``n_features_in_``, dtypes and finiteness. An object is stored as
``get_params(deep=False)`` plus exactly these attributes; anything else on
it is refused at save (nothing is silently lost) and at load (nothing
unexpected is set). Functions (``func`` of a FunctionTransformer or a
TransformedTargetRegressor) are stored only if they are one of the NumPy
functions of :data:`numpynn._codec.FUNCTIONS`.

To support another class: add an :class:`Entry` to :data:`ENTRIES` and a
round-trip test in ``tests/test_persistence_pipelines.py``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from ._codec import FUNCTIONS
from ._schema import (
    Dims,
    Schema,
    array,
    integer,
    mapping,
    one_of,
    optional,
    options,
    real,
    strings,
)
from .estimators import LinearRegressor, TwoLayerNet

__all__ = ["ENTRIES", "SUPPORTED_TYPES", "check_params", "check_derived", "is_supported"]


class Accepts(NamedTuple):
    """A hyperparameter check: ``test(value) -> bool`` and what it accepts, in words."""

    test: object
    text: str


class Entry(NamedTuple):
    cls: type
    params: dict        # hyperparameter -> Accepts
    schema: Schema      # fitted attributes


def _bool(v):
    return isinstance(v, (bool, np.bool_))


def _number(v):
    return isinstance(v, numbers.Real) and not _bool(v) and bool(np.isfinite(v))


def _count(v):
    return isinstance(v, numbers.Integral) and not _bool(v) and v >= 0


def _range(v):
    return type(v) is tuple and len(v) == 2 and all(map(_number, v)) and v[0] < v[1]


def _degree(v):
    if type(v) is tuple:
        return len(v) == 2 and all(map(_count, v)) and v[0] <= v[1]
    return _count(v)


def is_supported(v):
    """Whether ``v`` is an instance of a class :func:`numpynn.save` stores (exactly)."""
    return type(v) in SUPPORTED_TYPES


def _steps(v):
    if type(v) is not list or not v:
        return False
    ok = all(type(s) is tuple and len(s) == 2 and isinstance(s[0], str)
             and (s[1] is None or s[1] == "passthrough" or is_supported(s[1])) for s in v)
    return ok and len({s[0] for s in v}) == len(v)


BOOL = Accepts(_bool, "a bool")
NONE = Accepts(lambda v: v is None, "None")
FUNCTION = Accepts(lambda v: v is None or any(v is f for f in FUNCTIONS.values()),
                   f"None or one of {', '.join(FUNCTIONS)}")
#: A hyperparameter a newer scikit-learn added and no entry lists yet: plain values only.
PLAIN = Accepts(lambda v: v is None or isinstance(v, (bool, str)) or _number(v),
                "None, a bool, a string or a finite number")
ESTIMATOR = Accepts(lambda v: v is None or is_supported(v), "None or a supported estimator")


def _d(params, attrs):
    if "n_features_in_" in attrs:
        integer(1)(attrs["n_features_in_"], None, "n_features_in_")
    return Dims(attrs.get("n_features_in_"), params=params)


def _of_d(s):
    return (s.d,)


def _fitted_estimator(v, dims, name):
    if not is_supported(v):
        raise ValueError(f"{name} is not a supported estimator")


#: ``set_output``'s choice of container (scikit-learn's own attribute).
_OUTPUT = {"_sklearn_output_config": mapping({"transform": options("default", "pandas",
                                                                     "polars")})}
_VEC = array(_of_d, "float")
_POS = array(_of_d, "float", nonneg=True)


def _transformer(fields, required):
    """An entry of a transformer fitted on ``n_features_in_`` columns."""
    return Schema(_d, {"n_features_in_": integer(1), "feature_names_in_": strings(_of_d),
                       **_OUTPUT, **fields}, required)


_SCALER = ("n_features_in_",)

#: Class name in the file -> entry.
ENTRIES = {
    "sklearn.pipeline.Pipeline": Entry(Pipeline, {
        "steps": Accepts(_steps, "a non-empty list of (unique name, supported estimator, "
                                 "'passthrough' or None)"),
        "memory": NONE, "verbose": BOOL, "transform_input": NONE,
    }, Schema(_d, dict(_OUTPUT))),
    "sklearn.compose.TransformedTargetRegressor": Entry(TransformedTargetRegressor, {
        "regressor": ESTIMATOR, "transformer": ESTIMATOR, "func": FUNCTION,
        "inverse_func": FUNCTION, "check_inverse": BOOL,
    }, Schema(_d, {"regressor_": _fitted_estimator, "transformer_": _fitted_estimator,
                   "_training_dim": integer(1, 2), "feature_names_in_": strings(), **_OUTPUT},
              ("regressor_", "transformer_", "_training_dim"))),
    "sklearn.preprocessing.StandardScaler": Entry(StandardScaler, {
        "copy": BOOL, "with_mean": BOOL, "with_std": BOOL,
    }, _transformer({
        "n_samples_seen_": one_of(integer(0), real(), array(_of_d, "int", nonneg=True)),
        "mean_": optional(_VEC), "var_": optional(_POS), "scale_": optional(_POS),
    }, _SCALER + ("n_samples_seen_", "mean_", "var_", "scale_"))),
    "sklearn.preprocessing.MinMaxScaler": Entry(MinMaxScaler, {
        "feature_range": Accepts(_range, "a tuple (low, high) of finite numbers, low < high"),
        "copy": BOOL, "clip": BOOL,
    }, _transformer({
        "n_samples_seen_": integer(0), "scale_": _VEC, "min_": _VEC, "data_min_": _VEC,
        "data_max_": _VEC, "data_range_": _POS,
    }, _SCALER + ("n_samples_seen_", "scale_", "min_", "data_min_", "data_max_",
                  "data_range_"))),
    "sklearn.preprocessing.MaxAbsScaler": Entry(MaxAbsScaler, {
        "copy": BOOL, "clip": BOOL,
    }, _transformer({"n_samples_seen_": integer(0), "max_abs_": _POS, "scale_": _POS},
                    _SCALER + ("n_samples_seen_", "max_abs_", "scale_"))),
    "sklearn.preprocessing.RobustScaler": Entry(RobustScaler, {
        "with_centering": BOOL, "with_scaling": BOOL, "copy": BOOL, "unit_variance": BOOL,
        "quantile_range": Accepts(lambda v: _range(v) and 0 <= v[0] and v[1] <= 100,
                                  "a tuple (q_min, q_max), 0 <= q_min < q_max <= 100"),
    }, _transformer({"center_": optional(_VEC), "scale_": optional(_VEC)},
                    _SCALER + ("center_", "scale_"))),
    "sklearn.preprocessing.PolynomialFeatures": Entry(PolynomialFeatures, {
        "degree": Accepts(_degree, "an int >= 0 or a tuple (min_degree, max_degree)"),
        "interaction_only": BOOL, "include_bias": BOOL,
        "order": Accepts(lambda v: isinstance(v, str) and v in ("C", "F"), "'C' or 'F'"),
    }, _transformer({"n_output_features_": integer(0), "_min_degree": integer(0),
                           "_max_degree": integer(0), "_n_out_full": integer(0)},
                    _SCALER + ("n_output_features_", "_min_degree", "_max_degree"))),
    "sklearn.preprocessing.FunctionTransformer": Entry(FunctionTransformer, {
        "func": FUNCTION, "inverse_func": FUNCTION, "validate": BOOL,
        "accept_sparse": BOOL, "check_inverse": BOOL,
        "feature_names_out": Accepts(lambda v: v is None or v == "one-to-one",
                                     "None or 'one-to-one'"),
        "kw_args": NONE, "inv_kw_args": NONE,
    }, _transformer({}, ())),
}
#: Every class save and load handle (a step or a nested regressor may be any of them).
SUPPORTED_TYPES = frozenset({entry.cls for entry in ENTRIES.values()}
                            | {LinearRegressor, TwoLayerNet})


def check_params(name, params):
    """ValueError naming the first hyperparameter of ``name`` its entry does not accept.

    Hyperparameters the entry does not list (added by a newer scikit-learn)
    must be plain values (:data:`PLAIN`).

    Examples
    --------
    >>> check_params("sklearn.preprocessing.StandardScaler", {"with_mean": "yes"})
    Traceback (most recent call last):
    ...
    ValueError: The 'with_mean' parameter of StandardScaler must be a bool; got 'yes'.
    """
    entry = ENTRIES[name]
    for key, value in params.items():
        spec = entry.params.get(key, PLAIN)
        if not spec.test(value):
            raise ValueError(f"The {key!r} parameter of {entry.cls.__name__} must be "
                             f"{spec.text}; got {value!r}.")


#: Largest n_features_in_ whose PolynomialFeatures sizes are recomputed at load.
_MAX_POLY_FEATURES = 1 << 16


def check_derived(obj):
    """Recompute what a fitted object's hyperparameters determine, and compare.

    PolynomialFeatures' output sizes follow from ``degree``,
    ``interaction_only``, ``include_bias`` and ``n_features_in_``: a fresh
    copy fitted on one row of zeros gives them (scikit-learn's own code on
    data made here, nothing from the file).
    """
    if type(obj) is not PolynomialFeatures or "n_features_in_" not in vars(obj):
        return
    d = obj.n_features_in_
    if d > _MAX_POLY_FEATURES:
        raise ValueError(f"PolynomialFeatures with n_features_in_={d} > "
                         f"{_MAX_POLY_FEATURES} is not supported")
    ref = PolynomialFeatures(**obj.get_params()).fit(np.zeros((1, d)))
    for key in ("n_output_features_", "_min_degree", "_max_degree", "_n_out_full"):
        if getattr(ref, key, None) != getattr(obj, key, None):
            raise ValueError(f"PolynomialFeatures.{key}={getattr(obj, key, None)!r}, but "
                             f"its parameters on {d} features give "
                             f"{getattr(ref, key, None)!r}")
