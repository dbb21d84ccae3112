"""Save and load fitted estimators without pickle.

A saved model is one ``.npz`` file (a zip of ``.npy`` arrays) holding

* every fitted array (``coef_``/``intercept_`` or ``coefs_``/``intercepts_``,
  ``loss_curve_``, the private ``_qr_state`` or ``_optimizer_state`` that
  :meth:`partial_fit` continues from, ...), each as its own plain array;
* ``__meta__``: a JSON string with the class name, ``get_params()``, the
  scalar fitted attributes, the numpynn version and a format number;
* ``__checksum__``: the SHA-256 of the JSON and of every array's name,
  dtype, shape and bytes.

:func:`load` reads with ``np.load(allow_pickle=False)``, so a file can
never run code, and rebuilds only the classes it knows. Every problem
(not an ``.npz``, truncated, edited, object arrays, missing or unknown
entries, unknown class, other numpynn minor version) is a ``ValueError``
that says what is wrong.

The checksum detects corruption and edits; it is not a signature (anyone
can recompute it), so load files only from sources you trust to give you
the model they claim. Loading an untrusted file is still safe in the
sense that no code runs.

Policy on versions: a file loads only in a numpynn with the same
``major.minor`` version as the one that saved it (patch releases never
change what is stored).

Callbacks are code and cannot be stored: :func:`save` stores
``callbacks=None`` and warns (:class:`UserWarning`).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
import zlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import check_params
from .estimators import LinearRegressor, TwoLayerNet

__all__ = ["save", "load"]

FORMAT = 1
_CLASSES = {cls.__name__: cls for cls in (LinearRegressor, TwoLayerNet)}
#: Fitted attributes every saved model must have.
_REQUIRED = {
    "LinearRegressor": ("coef_", "intercept_", "n_features_in_", "n_outputs_",
                        "loss_curve_", "n_iter_"),
    "TwoLayerNet": ("coefs_", "intercepts_", "n_features_in_", "n_outputs_",
                    "loss_curve_", "n_iter_", "_optimizer_state"),
}
_META, _CHECKSUM = "__meta__", "__checksum__"


def _version():
    from . import __version__
    return __version__


def _major_minor(version):
    return tuple(str(version).split(".")[:2])


# -- encoding: Python values <-> JSON nodes plus named arrays ----------------
def _encode(value, path, arrays):
    """A JSON node for ``value``; arrays go into ``arrays`` under ``path``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return {"float": repr(value)} if isinstance(value, float) else value
    if isinstance(value, np.ndarray) and value.dtype == object:
        if all(isinstance(v, str) for v in value.ravel()):
            return {"strings": value.tolist()}          # e.g. feature_names_in_
        raise ValueError(f"cannot save {path!r}: an object array of non-strings.")
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"cannot save {path!r}: dtype {value.dtype} is not numeric.")
        arrays[path] = np.asarray(value, order="C")              # keeps 0-d as 0-d
        return {"scalar" if isinstance(value, np.generic) else "array": path}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]
        return {"list" if isinstance(value, list) else "tuple": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, f"{path}/{k}", arrays) for k, v in value.items()}}
    raise ValueError(f"cannot save {path!r}: values of type {type(value).__name__} "
                     "are not supported.")


def _decode(node, arrays, used):
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"malformed entry {node!r}.")
    (kind, body), = node.items()
    if kind == "float":
        return float(body)
    if kind == "strings":
        return np.array(body, dtype=object)
    if kind in ("array", "scalar"):
        if body not in arrays:
            raise ValueError(f"the array {body!r} is missing.")
        used.add(body)
        arr = arrays[body]
        return arr[()] if kind == "scalar" else arr
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, used) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {k: _decode(v, arrays, used) for k, v in body.items()}
    raise ValueError(f"malformed entry of kind {kind!r}.")


def _checksum(meta, arrays):
    h = hashlib.sha256(meta.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _get_state(estimator):
    """``(params, attributes)`` to store: hyperparameters and fitted state."""
    params = estimator.get_params(deep=False)
    if params.get("callbacks") is not None:
        warnings.warn("callbacks cannot be saved; the file stores callbacks=None. "
                      "Set them again after loading if you need them.",
                      UserWarning, stacklevel=3)
        params["callbacks"] = None
    attributes = {k: v for k, v in vars(estimator).items() if k not in params}
    return params, attributes


def save(estimator, path):
    """Save a fitted estimator to a ``.npz`` file, without pickle.

    The file is written to a temporary name and renamed into place, so an
    interrupted save never leaves a half-written model at ``path``.

    Parameters
    ----------
    estimator : LinearRegressor or TwoLayerNet
        A fitted estimator.
    path : str or os.PathLike
        Written exactly as given (no ``.npz`` is appended); overwritten if
        it exists.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``estimator`` is not a numpynn estimator (subclasses included),
        or holds a value that cannot be stored without pickle.

    Warns
    -----
    UserWarning
        When ``callbacks`` is set: callbacks are code and are saved as None.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpynn
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> reg = numpynn.LinearRegressor(solver="lstsq").fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> numpynn.save(reg, path)
    >>> bool((numpynn.load(path).predict(X) == reg.predict(X)).all())
    True
    """
    name = type(estimator).__name__
    if _CLASSES.get(name) is not type(estimator):
        raise ValueError(f"numpynn.save saves {', '.join(_CLASSES)} only; "
                         f"got {type(estimator).__qualname__}.")
    check_is_fitted(estimator)
    params, attributes = _get_state(estimator)
    arrays = {}
    meta = json.dumps({
        "format": FORMAT,
        "class": name,
        "numpynn_version": _version(),
        "numpy_version": np.__version__,
        "params": _encode(params, "params", arrays),
        "attributes": _encode(attributes, "attributes", arrays),
    })                                 # insertion order kept: state dicts are ordered
    arrays[_META] = np.array(meta)
    arrays[_CHECKSUM] = np.array(_checksum(meta, {k: v for k, v in arrays.items()
                                                  if k != _META}))
    tmp = f"{os.fspath(path)}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read(path):
    """All arrays of the file, as a dict; any read problem is a ValueError."""
    try:
        with open(path, "rb") as fh:            # closed even when np.load fails
            npz = np.load(fh, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an .npz archive")
            with npz:
                return {name: npz[name] for name in npz.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a valid numpynn model file "
                         f"(truncated, corrupted or holding pickled objects): {exc}") from exc


def _check_header(path, arrays):
    if _META not in arrays or _CHECKSUM not in arrays:
        raise ValueError(f"{os.fspath(path)!r} is not a numpynn model file: "
                         f"it has no {_META} or {_CHECKSUM} entry.")
    meta_arr, sum_arr = arrays.pop(_META), arrays.pop(_CHECKSUM)
    if meta_arr.shape != () or meta_arr.dtype.kind != "U" or sum_arr.dtype.kind != "U":
        raise ValueError(f"{os.fspath(path)!r}: malformed {_META} or {_CHECKSUM} entry.")
    meta_text = str(meta_arr[()])
    if str(sum_arr[()]) != _checksum(meta_text, arrays):
        raise ValueError(f"{os.fspath(path)!r}: checksum mismatch; the file was "
                         "modified or corrupted after it was saved.")
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{os.fspath(path)!r}: {_META} is not valid JSON.") from exc
    missing = {"format", "class", "numpynn_version", "params", "attributes"} - set(meta)
    if missing:
        raise ValueError(f"{os.fspath(path)!r}: {_META} lacks {sorted(missing)}.")
    if meta["format"] != FORMAT:
        raise ValueError(f"{os.fspath(path)!r} uses file format {meta['format']!r}; "
                         f"this numpynn reads format {FORMAT}.")
    if _major_minor(meta["numpynn_version"]) != _major_minor(_version()):
        raise ValueError(f"{os.fspath(path)!r} was saved by numpynn "
                         f"{meta['numpynn_version']}; this is numpynn {_version()}. "
                         "Models load only within the same major.minor version: "
                         "refit, or load with that version.")
    if meta["class"] not in _CLASSES:
        raise ValueError(f"{os.fspath(path)!r}: unknown class {meta['class']!r}; "
                         f"numpynn loads {', '.join(_CLASSES)}.")
    return meta


def _build(meta, arrays):
    cls = _CLASSES[meta["class"]]
    used = set()
    params = _decode(meta["params"], arrays, used)
    attributes = _decode(meta["attributes"], arrays, used)
    if not (isinstance(params, dict) and isinstance(attributes, dict)):
        raise ValueError("params and attributes must be dicts.")
    unknown = set(params) - set(cls().get_params())
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameters {sorted(unknown)}.")
    missing = [a for a in _REQUIRED[cls.__name__] if a not in attributes]
    if missing:
        raise ValueError(f"missing fitted attributes {missing}.")
    if set(arrays) - used:
        raise ValueError(f"unexpected arrays {sorted(set(arrays) - used)}.")
    shadowing = [a for a in attributes if hasattr(cls, a) or not a.endswith("_")
                 and not a.startswith("_")]
    if shadowing:
        raise ValueError(f"attributes {shadowing} are not fitted attributes.")
    est = cls(**params)
    check_params(est, est._constraints)
    vars(est).update(attributes)
    try:
        _check_parameters(est)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"inconsistent fitted attributes: {exc}") from exc
    return est


def _check_parameters(est):
    """Every parameter array is finite, floating and fits its neighbours."""
    params = est._params()
    fan_in = est.n_features_in_
    if type(fan_in) is not int:
        raise TypeError(f"n_features_in_={fan_in!r} is not an int")
    for layer in range(1, len(params) // 2 + 1):
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        if W.ndim != 2 or W.shape[0] != fan_in or b.shape != (W.shape[1],):
            raise ValueError(f"layer {layer} has W {W.shape} and b {b.shape} after "
                             f"{fan_in} inputs")
        for arr in (W, b):
            if arr.dtype not in (np.float32, np.float64):
                raise TypeError(f"parameters of dtype {arr.dtype}")
            if not np.isfinite(arr).all():
                raise ValueError("the stored parameters are not finite")
        fan_in = W.shape[1]
    if fan_in != est.n_outputs_:
        raise ValueError(f"n_outputs_={est.n_outputs_!r} but the last layer has {fan_in}")


def load(path):
    """Load an estimator saved by :func:`save`; never unpickles.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator : LinearRegressor or TwoLayerNet
        Fitted, with bit-identical parameters and the state
        :meth:`partial_fit` continues from; ``callbacks`` is None.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a numpynn model (not an ``.npz``, truncated,
        corrupted, checksum mismatch, object arrays, unknown class, missing
        or unexpected entries, invalid parameters) or was saved by a
        numpynn of another ``major.minor`` version.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpynn
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> numpynn.save(numpynn.LinearRegressor(solver="lstsq").fit(X, y), path)
    >>> numpynn.load(path).coef_.round(12)
    array([2.])
    """
    arrays = _read(path)
    meta = _check_header(path, arrays)
    try:
        return _build(meta, arrays)
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a valid numpynn model file: "
                         f"{exc}") from exc
