"""Flat buffers for elementwise optimizers.

An elementwise optimizer (sgd, momentum, adam: ``Optimizer.elementwise``)
treats every entry of every parameter alike, so the training loop packs
all parameters, their gradients and the per-parameter optimizer state into
single contiguous buffers and steps once per ufunc instead of once per
parameter and ufunc. The parameter dict keeps views of the buffers, so the
kernels see the usual ``W1, b1, ...`` arrays. Stepping the flat buffers is
bit-identical to stepping key by key (tests/test_training.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class _Flat(NamedTuple):
    """All parameters, their gradients and per-parameter optimizer state as
    single contiguous buffers (``params`` and ``opt_state`` hold views of
    them), so that an elementwise optimizer steps in one call per ufunc."""

    params: dict                # {"flat": (P,)}, the optimizer's view
    grads: dict                 # {"flat": (P,)}
    state: object               # opt_state with per-parameter dicts flattened
    grad_views: dict            # key -> view of grads["flat"] shaped like params[key]


def _pack(arrays, buf=None):
    """Copy a dict of arrays into one flat buffer; the dict then holds views of it."""
    if buf is None:
        dtype = next(iter(arrays.values())).dtype
        buf = np.empty(sum(v.size for v in arrays.values()), dtype)
    start = 0
    for key, v in arrays.items():
        view = buf[start:start + v.size].reshape(v.shape)
        view[...] = v
        arrays[key] = view
        start += v.size
    return buf


def _flat_state(state, keys):
    if isinstance(state, dict):
        if state.keys() == keys:                # a per-parameter dict (velocity, m, v)
            ordered = {k: state[k] for k in keys}   # pack in the parameters' order
            buf = _pack(ordered)
            state.update(ordered)
            return {"flat": buf}
        return {k: _flat_state(v, keys) for k, v in state.items()}
    return state


def sync_state(state, flat, keys):
    """Copy scalars (e.g. Adam's step count) from the flat state back."""
    if isinstance(state, dict) and state.keys() != keys:
        for k, v in state.items():
            if isinstance(v, dict):
                sync_state(v, flat[k], keys)
            else:
                state[k] = flat[k]


def _uniform(tree, dtype):
    if isinstance(tree, dict):
        return all(_uniform(v, dtype) for v in tree.values())
    return not isinstance(tree, np.ndarray) or tree.dtype == dtype


def flatten(optimizer, params, opt_state):
    """A :class:`_Flat` for ``optimizer``, or ``None`` when it cannot apply.

    Mutates ``params`` and ``opt_state`` so that their arrays are views of
    the flat buffers (same values).
    """
    dtypes = {v.dtype for v in params.values()}
    if not getattr(optimizer, "elementwise", False) or len(dtypes) != 1 \
            or not all(isinstance(v, np.ndarray) for v in params.values()):
        return None
    dtype = dtypes.pop()
    if not _uniform(opt_state, dtype):
        return None
    keys = params.keys()
    flat_params = _pack(params)
    grad_views = {k: np.empty_like(v) for k, v in params.items()}
    flat_grads = _pack(grad_views)
    return _Flat({"flat": flat_params}, {"flat": flat_grads},
                 _flat_state(opt_state, keys), grad_views)
