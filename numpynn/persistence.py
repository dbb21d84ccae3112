"""Save and load fitted models without pickle: numpynn estimators and pipelines of them.

What can be saved: :class:`~numpynn.LinearRegressor`, :class:`~numpynn.TwoLayerNet`
and scikit-learn's ``Pipeline``, ``TransformedTargetRegressor``,
``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``, ``RobustScaler``,
``PolynomialFeatures`` and ``FunctionTransformer`` (identity or an
allow-listed NumPy function), nested in any way (the exact classes, not
subclasses). Anything else is refused at save with a ``ValueError`` that
lists what is supported.

A saved model is one ``.npz`` file: a zip of uncompressed ``.npy`` arrays,
one per array of the model, plus ``__meta__`` (UTF-8 JSON: versions, the
dtype and shape of every array, and the model as a tree of class names,
``get_params()`` and fitted attributes) and ``__checksum__`` (SHA-256 of
the JSON and of every array's name, dtype, shape and bytes).

Loading runs no code from the file: arrays are read as raw bytes into
arrays of their declared real numeric dtype (never unpickled); classes and
functions come from fixed tables here, never imported by a name read from
the file. Each object's hyperparameters and fitted state are checked
against a schema (``numpynn/_schema.py``, ``numpynn/_sklearn_io.py``):
every array's shape follows from ``n_features_in_``, ``n_outputs_`` and
``hidden_units``, its dtype is the model's, its values are finite. The same
checks run at save, so a file that would not load is never written.
Reading is bounded: a regular file only, uncompressed entries whose sizes
fit the file and match the declared arrays, so :func:`load` never waits on
a pipe nor allocates more arrays than the file holds. Every problem is a
``ValueError`` that starts with the path and names the cause. The checksum
detects corruption and edits; it is not a signature (anyone can recompute
it), so load files only from sources you trust to hold the model they claim.

Why a hand-written allow-list and not skops.io (evaluated at 0.16.0)?
skops keeps predictions bit-identical and does not unpickle, but needs
numpynn's classes trusted by name on every load, reads each zip entry
whole (a 200 KB file with one compressed 200 MB entry took 437 MiB and
3 s to refuse), rebuilds objects through ``__new__``/``__setstate__`` of
any trusted class the file names, has no checksum, checks no shapes,
dtypes or finiteness, raises assorted exception types on damaged files,
and adds a dependency: every guarantee above would have to be rebuilt
around it. A few well-understood classes, each stored as ``get_params()``
plus its fitted arrays, keep the guarantees short to state and to test.
The "Saving models" page (``docs/persistence.md``) has the details.

Versions: a file loads only in a numpynn with the same ``major.minor``
version as the one that saved it; scikit-learn objects load in any
scikit-learn whose classes accept the stored hyperparameters and
attributes. Callbacks are code: :func:`save` stores ``callbacks=None``
and warns (:class:`UserWarning`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from . import _npz
from ._codec import FUNCTIONS, Decoder, Encoder, parse_json
from ._registry import CLASSES, NAMES, NUMPYNN, SUPPORTED, check_object
from ._sklearn_io import check_derived

__all__ = ["save", "load"]

FORMAT = 2
_META, _CHECKSUM = "__meta__", "__checksum__"
#: Largest ``__meta__`` accepted (the JSON; arrays are stored apart).
MAX_META_BYTES = 32 << 20
#: Run-time attributes that are not model state (callback plumbing, metadata
#: routing requests): never saved. ``_skl_callbacks`` are callbacks: warned about.
_RUNTIME = ("_skl_callbacks", "_skl_callbacks_to_teardown", "_callback_fit_ctx",
            "_parent_callback_ctx", "_metadata_request")


def _version():
    from . import __version__
    return __version__


def _major_minor(version):
    return tuple(str(version).split(".")[:2])


def _stacklevel():
    """The stacklevel of the first caller outside numpynn (for warnings.warn here)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _checksum(meta, arrays):
    """SHA-256 hex digest of the metadata text and every array's name, dtype, shape, bytes."""
    h = hashlib.sha256(meta.encode())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8))   # no copy of the data
    return h.hexdigest()


# -- saving -----------------------------------------------------------------------
def _state(obj, name):
    """``(params, attributes)`` to store for ``obj``, callbacks and run-time plumbing left out."""
    params = obj.get_params(deep=False)
    callbacks = params.get("callbacks") is not None if name in NUMPYNN else False
    if callbacks:
        params["callbacks"] = None
    attributes = {}
    for key, value in vars(obj).items():
        if key in _RUNTIME:
            callbacks = callbacks or (key == "_skl_callbacks" and bool(value))
        elif key not in params:
            attributes[key] = value
    if callbacks:
        warnings.warn("callbacks cannot be saved; the file stores callbacks=None. "
                      "Set them again after loading if you need them.",
                      UserWarning, stacklevel=_stacklevel())
    return params, attributes


def _refusal(value, path):
    if callable(value) and not hasattr(value, "get_params") and path:
        return (f"cannot save {path!r}: {value!r} is code; the only functions that can "
                f"be saved are {', '.join(FUNCTIONS)}.")
    if hasattr(value, "get_params") or not path:
        at = f" at {path!r}" if path else ""
        return f"numpynn.save saves {SUPPORTED}; got {type(value).__qualname__}{at}."
    return f"cannot save {path!r}: values of type {type(value).__name__} are not supported."


def _encode_object(obj, path, encoder):
    name = NAMES.get(type(obj))
    if name is None:
        raise ValueError(_refusal(obj, path))
    return {"estimator": _encode_body(obj, name, path + "/", encoder)}


def _encode_body(obj, name, prefix, encoder):
    """Params first: a nested object of an unsupported class is named as such."""
    params, attributes = _state(obj, name)
    params_node = encoder.encode(params, prefix + "params")
    try:
        check_object(name, params, attributes)
        check_derived(obj)
    except ValueError as exc:
        where = f" at {prefix[:-1]!r}" if prefix else ""
        raise ValueError(f"cannot save the {type(obj).__name__}{where}: {exc}") from exc
    return {"class": name, "params": params_node,
            "attributes": encoder.encode(attributes, prefix + "attributes")}


def save(model, path):
    """Save a fitted model to a ``.npz`` file, without pickle.

    The file is written to a new temporary file with a unique name in the
    same folder, synced to disk and renamed into place: ``path`` always
    holds one whole model, the previous or the new one, even when a save
    is interrupted or several threads or processes save to the same path
    at once. Overwriting a file keeps its permission bits; a new file gets
    the mode the umask gives.

    Parameters
    ----------
    model : LinearRegressor, TwoLayerNet, Pipeline or TransformedTargetRegressor
        A fitted numpynn estimator, or a scikit-learn ``Pipeline`` /
        ``TransformedTargetRegressor`` built from the supported classes
        (see :mod:`numpynn.persistence`).
    path : str or os.PathLike
        Written exactly as given (no ``.npz`` is appended); overwritten if
        it exists.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If ``model`` (or a step in it) is not of a supported class
        (subclasses included), holds a function that is not an
        allow-listed NumPy function, an attribute that cannot be stored
        without pickle, or fitted state that is not consistent.

    Warns
    -----
    UserWarning
        When callbacks are set: callbacks are code and are saved as None.

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
    name = NAMES.get(type(model))
    if name is None:
        raise ValueError(_refusal(model, ""))
    check_is_fitted(model)
    encoder = Encoder(_encode_object)
    body = _encode_body(model, name, "", encoder)
    table = {key: [a.dtype.str, list(a.shape)] for key, a in encoder.arrays.items()}
    meta = json.dumps({
        "format": FORMAT, "numpynn_version": _version(), "numpy_version": np.__version__,
        "sklearn_version": sklearn.__version__, "arrays": table, **body,
    }, separators=(",", ":"))         # insertion order kept: state dicts are ordered
    arrays = {_META: np.frombuffer(meta.encode(), np.uint8),
              _CHECKSUM: np.frombuffer(_checksum(meta, encoder.arrays).encode(), np.uint8),
              **encoder.arrays}
    _npz.write_atomic(path, lambda f: np.savez(f, **arrays))


# -- loading ----------------------------------------------------------------------
def _read_header(archive, where):
    """``(meta text, checksum)`` from their entries."""
    if _META not in archive.sizes or _CHECKSUM not in archive.sizes:
        raise ValueError(f"{where} is not a numpynn model file: it has no {_META} or "
                         f"{_CHECKSUM} entry.")
    try:
        if archive.header(_META)[0].kind == "U":              # text, as format 1 stored it
            raise ValueError(f"{where} uses file format 1 (numpynn 0.1.0 before the "
                             f"pipeline support); this numpynn reads format {FORMAT}.")
        meta = archive.read_vector(_META, np.dtype(np.uint8), MAX_META_BYTES)
        digest = archive.read_vector(_CHECKSUM, np.dtype(np.uint8), 64)
        return meta.tobytes(), digest.tobytes().decode("ascii")
    except _npz.FileError as exc:
        raise ValueError(f"{where}: malformed {_META} or {_CHECKSUM} entry ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: malformed {_CHECKSUM} entry ({exc}).") from exc


def _check_meta(text, where):
    """The parsed metadata, after the checks that need no array."""
    try:
        meta = parse_json(text)
    except ValueError as exc:
        raise ValueError(f"{where}: {_META} is not valid: {exc}.") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: {_META} is not a JSON object.")
    missing = {"format", "class", "numpynn_version", "params", "attributes", "arrays"} \
        - set(meta)
    if missing:
        raise ValueError(f"{where}: {_META} lacks {sorted(missing)}.")
    if meta["format"] != FORMAT:
        raise ValueError(f"{where} uses file format {meta['format']!r}; this numpynn "
                         f"reads format {FORMAT}.")
    if not isinstance(meta["numpynn_version"], str) or \
            _major_minor(meta["numpynn_version"]) != _major_minor(_version()):
        raise ValueError(f"{where} was saved by numpynn {meta['numpynn_version']}; this is "
                         f"numpynn {_version()}. Models load only within the same "
                         "major.minor version: refit, or load with that version.")
    if not isinstance(meta["class"], str) or meta["class"] not in CLASSES:
        raise ValueError(f"{where}: unknown class {meta['class']!r}; numpynn loads "
                         f"{SUPPORTED}.")
    return meta


def _table(meta, archive):
    """``{name: (dtype, shape)}`` of the arrays, checked against the zip directory."""
    table = meta["arrays"]
    if not isinstance(table, dict):
        raise ValueError("the array table is not a dict.")
    stored = set(archive.sizes) - {_META, _CHECKSUM}
    if set(table) - stored:
        raise ValueError(f"the array {sorted(set(table) - stored)[0]!r} is missing.")
    if stored - set(table):
        raise ValueError(f"unexpected arrays {sorted(stored - set(table))}.")
    out = {}
    for name, spec in table.items():
        ok = isinstance(spec, list) and len(spec) == 2 and isinstance(spec[1], list) \
            and len(spec[1]) <= _npz.MAX_NDIM \
            and all(type(n) is int and 0 <= n < 2 ** 40 for n in spec[1])
        if not ok:
            raise ValueError(f"malformed table entry for array {name!r}.")
        try:
            out[name] = (_npz.check_dtype(spec[0]), tuple(spec[1]))
        except ValueError as exc:
            raise ValueError(f"the array {name!r}: {exc}.") from None
    return out


def _decode_object(body, decoder, depth):
    if not (isinstance(body, dict) and set(body) == {"class", "params", "attributes"}):
        raise ValueError("malformed estimator entry.")
    name = body["class"]
    if not isinstance(name, str) or name not in CLASSES:
        raise ValueError(f"unknown class {name!r}; numpynn loads {SUPPORTED}.")
    params = decoder.decode(body["params"], depth)
    attributes = decoder.decode(body["attributes"], depth)
    check_object(name, params, attributes)
    obj = CLASSES[name](**params)
    vars(obj).update(attributes)
    check_derived(obj)
    return obj


def _build(meta, arrays):
    decoder = Decoder(arrays, _decode_object)
    model = _decode_object({key: meta[key] for key in ("class", "params", "attributes")},
                           decoder, 0)
    if set(arrays) - decoder.used:
        raise ValueError(f"unexpected arrays {sorted(set(arrays) - decoder.used)}.")
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ValueError(f"the {type(model).__name__} is not fitted.") from None
    return model


def _load(path, where):
    with _npz.Archive(path) as archive:
        text, digest = _read_header(archive, where)
        meta = _check_meta(text, where)
        arrays = {name: archive.read(name, dtype, shape)
                  for name, (dtype, shape) in _table(meta, archive).items()}
    if digest != _checksum(text.decode("utf-8"), arrays):
        raise ValueError(f"{where}: checksum mismatch; the file was modified or corrupted "
                         "after it was saved.")
    return _build(meta, arrays)


def load(path):
    """Load a model saved by :func:`save`; never unpickles or imports.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : LinearRegressor, TwoLayerNet, Pipeline or TransformedTargetRegressor
        Fitted, with bit-identical parameters and the state ``partial_fit``
        continues from; ``callbacks`` is None.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For every other problem, naming it: not a regular file, not an
        ``.npz`` model file (truncated, corrupted, compressed, oversized or
        pickled entries), checksum mismatch, unknown class, missing or
        unexpected entries, invalid hyperparameters, fitted state of the
        wrong shape, dtype or values, or saved by a numpynn of another
        ``major.minor`` version.

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
    where = repr(os.fspath(path))
    try:
        return _load(path, where)
    except Exception as exc:          # every failure but a missing file is a ValueError
        if isinstance(exc, FileNotFoundError) or \
                (type(exc) is ValueError and str(exc).startswith(where)):
            raise
        raise ValueError(_failure(exc, where)) from exc


def _failure(exc, where):
    plain = type(exc) in (ValueError, _npz.FileError)
    detail = str(exc) if plain else f"{type(exc).__name__}: {exc}"
    return f"{where} is not a valid numpynn model file: {detail}"
