"""A small, explicit hyperparameter checker.

Each estimator declares a class-level ``_constraints`` dict mapping a
parameter name to a tuple of accepted specifications. :func:`check_params`
checks every entry before any work is done and raises one clear
:class:`ValueError` (or :class:`TypeError` for a wrong type) naming the
parameter, the value given and what is accepted.

This module deliberately does not use scikit-learn's private validation
helpers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "Options", "check_params"]


@dataclass(frozen=True)
class Interval:
    """A real or integral interval, optionally open or unbounded on a side.

    Parameters
    ----------
    kind : {"real", "int"}
        Integral intervals reject floats and booleans; both reject non-finite
        values and numbers that are not Python or NumPy ints and floats.
    low, high : float or None
        Bounds; ``None`` means unbounded on that side.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.

    Examples
    --------
    >>> Interval("real", 0, None, "neither").accepts(0.5)
    True
    >>> Interval("int", 1, None).accepts(0)
    False
    """

    kind: str
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind == "int":
            if not isinstance(value, (int, np.integer)):
                return False
        elif not isinstance(value, (int, float, np.integer, np.floating)):
            return False                        # Fraction, Decimal, complex, str ...
        try:
            if not math.isfinite(value):        # NaN, inf
                return False
        except OverflowError:                   # an int beyond float range, e.g. 10**400
            return False
        lo_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        hi_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return lo_ok and hi_ok

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        lo = "-inf" if self.low is None else self.low
        hi = "inf" if self.high is None else self.high
        what = "an int" if self.kind == "int" else "a float"
        return f"{what} in {left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Options:
    """A finite set of accepted values (compared with ``==``).

    Examples
    --------
    >>> Options(("sgd", "adam")).accepts("adam")
    True
    """

    values: tuple

    def accepts(self, value) -> bool:
        return any(value is v or _same_option(value, v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


def _same_option(value, option):
    """Equal and of the same kind; NumPy strings count as ``str`` (as in a grid of
    ``np.array(["adam", "sgd"])``)."""
    if isinstance(option, str):
        return isinstance(value, str) and str(value) == option
    return type(value) is type(option) and value == option


class _Predicate:
    """Accepts the values for which ``test(value)`` is true."""

    def __init__(self, test, name):
        self.test, self.name = test, name

    def accepts(self, value) -> bool:
        return bool(self.test(value))

    def __str__(self) -> str:
        return self.name


#: Accepts ``None`` only.
NONE = Options((None,))
#: Accepts ``True`` or ``False`` (numpy booleans included).
BOOL = _Predicate(lambda v: isinstance(v, (bool, np.bool_)), "a bool")
#: Accepts ``None`` or an int seed.
RANDOM_STATE = (NONE, Interval("int", 0, 2**32 - 1))
#: Accepts ``None`` or a list/tuple of callables ``cb(estimator, logs)``.
CALLBACKS = (
    NONE,
    _Predicate(
        lambda v: isinstance(v, (list, tuple)) and all(callable(c) for c in v),
        "a list of callables cb(estimator, logs)",
    ),
)


def check_params(estimator, constraints: dict) -> None:
    """Check ``estimator``'s hyperparameters against ``constraints``.

    Parameters
    ----------
    estimator : object
        Anything with the attributes named in ``constraints``.
    constraints : dict of str to tuple
        For each parameter, the specifications of which at least one
        must accept the value.

    Raises
    ------
    ValueError
        When no specification accepts the value; the message names the
        parameter, what is accepted and the value given.

    Examples
    --------
    >>> class E:
    ...     alpha = -1.0
    >>> check_params(E(), {"alpha": (Interval("real", 0, None),)})
    Traceback (most recent call last):
    ...
    ValueError: The 'alpha' parameter of E must be a float in [0, inf); got -1.0.
    """
    for name, specs in constraints.items():
        value = getattr(estimator, name)
        if any(spec.accepts(value) for spec in specs):
            continue
        accepted = " or ".join(str(spec) for spec in specs)
        raise ValueError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{accepted}; got {value!r}."
        )



def check_sample_weight(sample_weight, n_samples, dtype=np.float64):
    """Validate ``sample_weight`` as finite, non-negative, shape ``(n_samples,)``.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), scalar or None
        ``None`` is returned unchanged (meaning all ones); a scalar is
        broadcast.
    n_samples : int
    dtype : dtype, default=np.float64

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,) or None

    Raises
    ------
    ValueError
        Wrong shape, non-finite or negative entries, or all zero.

    Examples
    --------
    >>> check_sample_weight(2, 3)
    array([2., 2., 2.])
    """
    if sample_weight is None:
        return None
    not_numeric = f"sample_weight must be numeric; got {sample_weight!r}."
    try:
        sw = np.asarray(sample_weight)
    except (TypeError, ValueError) as exc:
        raise ValueError(not_numeric) from exc
    if np.iscomplexobj(sw):
        raise ValueError("Complex data not supported: sample_weight is complex.")
    try:
        sw = sw.astype(dtype, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(not_numeric) from exc
    if sw.ndim == 0:
        sw = np.full(n_samples, sw, dtype=dtype)
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n_samples},)."
        )
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinity.")
    if (sw < 0).any():
        raise ValueError("sample_weight must be non-negative.")
    if not sw.sum() > 0:
        raise ValueError("sample_weight must not be all zero: its sum must be positive.")
    return sw
