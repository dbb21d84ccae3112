"""Python values <-> JSON nodes plus named arrays, for :mod:`numpynn.persistence`.

A value becomes a JSON node; every NumPy array or scalar in it is stored
apart under a name made from its path (``attributes/coef_``), and the
node refers to it by that name. Dict keys are percent-escaped in names
(``"a/b"`` becomes ``a%2Fb``), so two different values never share a
name. Nodes, one key each::

    null, true, 3, "text"            themselves (ints within 64 bits)
    {"float": "0.1"}                 a Python float, by its exact repr
    {"array": name}                  an ndarray of a real numeric dtype
    {"scalar": name}                 a NumPy scalar (stored as a 0-d array)
    {"strings": ["a", "b"]}          a 1-d object array of str (feature_names_in_)
    {"list": [...]}, {"tuple": [...]}, {"dict": {key: node}}
    {"function": "numpy.log1p"}      one of :data:`FUNCTIONS`, by name
    {"estimator": {...}}             an object, encoded by the caller's hook

Decoding never imports or calls anything named in the file: functions
come from the fixed :data:`FUNCTIONS` table, objects from the caller's
hook, which keeps its own allow-list.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import numpy as np

__all__ = ["Encoder", "Decoder", "parse_json", "FUNCTIONS"]

#: NumPy functions that may be stored, by name (for FunctionTransformer and
#: TransformedTargetRegressor's func/inverse_func): pairs of inverses.
FUNCTIONS = {f"numpy.{f.__name__}": f for f in (
    np.log, np.exp, np.log1p, np.expm1, np.log2, np.exp2, np.log10,
    np.sqrt, np.square, np.cbrt, np.arcsinh, np.sinh,
)}
#: Nodes nest at most this deep (a Pipeline in a TransformedTargetRegressor needs ~12).
MAX_DEPTH = 64
_INT64 = 2 ** 63


def _escape(key):
    return quote(key, safe="")


class Encoder:
    """Encodes values; collects their arrays in ``self.arrays``.

    ``on_object(value, path, encoder)`` encodes what is not a plain value
    (estimators) or raises ValueError.
    """

    def __init__(self, on_object):
        self.arrays = {}
        self.on_object = on_object

    def encode(self, value, path):
        """The JSON node of ``value``; its arrays are stored under names below ``path``."""
        if value is None or isinstance(value, (bool, str)):
            return str(value) if isinstance(value, str) else value
        if isinstance(value, int) and not isinstance(value, np.generic):
            if not -_INT64 <= value < _INT64:
                raise ValueError(f"cannot save {path!r}: the int {value} exceeds 64 bits.")
            return value
        if isinstance(value, float) and not isinstance(value, np.generic):
            return {"float": repr(float(value))}
        if isinstance(value, (np.ndarray, np.generic)):
            return self._array(value, path)
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]
            return {"list" if isinstance(value, list) else "tuple": items}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"dict": {str(k): self.encode(v, f"{path}/{_escape(k)}")
                             for k, v in value.items()}}
        for name, func in FUNCTIONS.items():
            if value is func:
                return {"function": name}
        return self.on_object(value, path, self)

    def _array(self, value, path):
        if value.dtype == object and value.ndim == 1 and \
                all(isinstance(v, str) for v in value):
            return {"strings": [str(v) for v in value]}           # e.g. feature_names_in_
        if value.dtype.kind not in "biuf" or value.dtype.fields is not None:
            raise ValueError(f"cannot save {path!r}: dtype {value.dtype} is not a real "
                             "numeric dtype.")
        if path in self.arrays:                                    # cannot happen: escaped
            raise ValueError(f"cannot save {path!r}: two values share this name.")
        self.arrays[path] = np.asarray(value, order="C")           # keeps 0-d as 0-d
        return {"scalar" if isinstance(value, np.generic) else "array": path}


class Decoder:
    """Decodes nodes with the arrays read from the file.

    ``on_object(body, decoder, depth)`` rebuilds an ``{"estimator": body}``
    node. ``self.used`` collects the array names referred to.
    """

    def __init__(self, arrays, on_object):
        self.arrays, self.on_object, self.used = arrays, on_object, set()

    def decode(self, node, depth=0):
        if depth > MAX_DEPTH:
            raise ValueError(f"values nested more than {MAX_DEPTH} deep.")
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if not (isinstance(node, dict) and len(node) == 1):
            raise ValueError(f"malformed entry {_short(node)}.")
        (kind, body), = node.items()
        if kind == "float":
            return _float(body)
        if kind in ("array", "scalar"):
            if not isinstance(body, str) or body not in self.arrays:
                raise ValueError(f"the array {_short(body)} is missing.")
            self.used.add(body)
            arr = self.arrays[body]
            return arr[()] if kind == "scalar" else arr
        if kind == "strings" and isinstance(body, list) and \
                all(isinstance(s, str) for s in body):
            return np.array(body, dtype=object).reshape(len(body))
        if kind in ("list", "tuple") and isinstance(body, list):
            items = [self.decode(v, depth + 1) for v in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(body, dict):
            return {k: self.decode(v, depth + 1) for k, v in body.items()}
        if kind == "function":
            if not (isinstance(body, str) and body in FUNCTIONS):
                raise ValueError(f"unknown function {_short(body)}; numpynn loads "
                                 f"{', '.join(FUNCTIONS)}.")
            return FUNCTIONS[body]
        if kind == "estimator" and isinstance(body, dict):
            return self.on_object(body, self, depth + 1)
        raise ValueError(f"malformed entry of kind {_short(kind)}.")


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _float(text):
    """A float from its exact repr; anything else (``"1_0"``, ``" 1"``) is refused."""
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError(f"malformed float {_short(text)}.")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"malformed float {_short(text)}.") from None
    if repr(value) != text:
        raise ValueError(f"malformed float {_short(text)}.")
    return value


def _refuse_float(text):
    raise ValueError(f"bare JSON number {_short(text)}: floats are stored as strings")


def _bounded_int(text):
    if len(text) > 20:
        raise ValueError(f"JSON integer of {len(text)} digits")
    return int(text)


def _refuse_constant(text):
    raise ValueError(f"JSON constant {text}")


def _unique_keys(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a JSON object repeats a key")
    return out


def parse_json(data):
    """Parse the metadata strictly: UTF-8, no NaN/Infinity, no bare floats,
    integers of at most 20 digits, no repeated keys, bounded nesting.

    Examples
    --------
    >>> parse_json(b'{"a": [1, {"float": "0.5"}]}')
    {'a': [1, {'float': '0.5'}]}
    """
    try:
        text = data.decode("utf-8")
        return json.loads(text, parse_float=_refuse_float, parse_int=_bounded_int,
                          parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("the metadata nest too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:    # JSONDecodeError is a ValueError
        raise ValueError(f"the metadata are not valid JSON ({exc})") from None
