"""Which classes numpynn.save stores, and the checks save and load share.

:data:`CLASSES` maps the class name written in a file to the class: the
numpynn estimators by their bare name, the scikit-learn ones of
:mod:`numpynn._sklearn_io` by their public import path. Nothing else is
ever built from a file. :func:`check_object` checks one object's
hyperparameters and fitted state before it is written or built.
"""

from __future__ import annotations

import functools
import inspect

from ._schema import SCHEMAS, check_state
from ._sklearn_io import ENTRIES
from ._sklearn_io import check_params as check_sklearn_params
from ._validation import check_params
from .estimators import LinearRegressor, TwoLayerNet

__all__ = ["CLASSES", "NAMES", "NUMPYNN", "SUPPORTED", "check_object"]

NUMPYNN = {cls.__name__: cls for cls in (LinearRegressor, TwoLayerNet)}
CLASSES = {**NUMPYNN, **{name: entry.cls for name, entry in ENTRIES.items()}}
NAMES = {cls: name for name, cls in CLASSES.items()}
#: What save supports, in words (error messages).
SUPPORTED = (", ".join(NUMPYNN) + " and these scikit-learn classes: "
             + ", ".join(entry.cls.__name__ for entry in ENTRIES.values())
             + " (exact classes, not subclasses)")


@functools.cache
def param_names(cls):
    """The hyperparameter names of ``cls`` (its ``__init__`` signature)."""
    return frozenset(inspect.signature(cls).parameters)


def check_object(name, params, attributes):
    """Hyperparameters and fitted state of an object of class ``name``, or ValueError."""
    cls = CLASSES[name]
    if not (isinstance(params, dict) and isinstance(attributes, dict)):
        raise ValueError("params and attributes must be dicts.")
    unknown = set(params) - param_names(cls)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameters {sorted(unknown)}.")
    schema = SCHEMAS[name] if name in NUMPYNN else ENTRIES[name].schema
    check_attribute_names(cls, schema, attributes)
    if name in NUMPYNN:
        est = cls(**params)
        check_params(est, est._constraints)
        params = est.get_params(deep=False)
    else:
        check_sklearn_params(name, params)
    try:
        check_state(schema, params, attributes)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValueError(f"inconsistent fitted attributes: {exc}") from exc


def check_attribute_names(cls, schema, attributes):
    """ValueError unless every attribute name may be set on an instance of ``cls``.

    numpynn estimators: any public name ending in ``_`` (stored generically)
    or a private name of the schema; scikit-learn classes: the schema's names
    only. No name may shadow a class attribute (a method or property).
    """
    bad = [a for a in attributes if not isinstance(a, str) or a.startswith("__")
           or hasattr(cls, a) or not a.isidentifier()]
    if bad:
        raise ValueError(f"attributes {bad} are not fitted attributes.")
    if cls in NUMPYNN.values():
        bad = [a for a in attributes if not (a.endswith("_") and not a.startswith("_"))
               and a not in schema.fields]
        hint = ("names ending in '_', or the private state known to "
                "numpynn._schema: " + ", ".join(f for f in schema.fields if f[0] == "_"))
    else:
        bad = [a for a in attributes if a not in schema.fields]
        hint = f"{cls.__name__} has {', '.join(schema.fields)}"
    if bad:
        raise ValueError(f"attributes {bad} are not fitted attributes ({hint}).")
