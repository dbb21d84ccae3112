"""Internals of the training loop: flat optimizer buffers, reused workspaces."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from numpynn._flat import flatten, sync_state
from numpynn._training import Kernels, make_buffers, run_epoch
from numpynn.kernels import forward_prop, gradient, init_params
from numpynn.optimizers import OPTIMIZERS


def _data(rng, n=90, d=4, k=2):
    return rng.normal(size=(n, d)), rng.normal(size=(n, k))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flat_step_is_bit_identical_to_per_key_step(rng, name, dtype):
    X, Y = (a.astype(dtype) for a in _data(rng))
    opt = OPTIMIZERS[name](learning_rate=0.05)
    per_key = init_params((4, 6, 2), "tanh", rng, dtype)
    packed = {k: v.copy() for k, v in reversed(per_key.items())}   # other key order
    s1, s2 = opt.init(per_key), opt.init(packed)
    flat = flatten(opt, packed, s2)
    assert flat is not None
    state = flat.state
    for _ in range(4):
        for params in (per_key, packed):
            y_pred, cache = forward_prop(X, params, "tanh")
            grads = gradient(params, cache, Y, y_pred, "tanh", alpha=0.1)
            if params is per_key:
                s1 = opt.step(per_key, grads, s1)
            else:
                for k, g in grads.items():
                    np.copyto(flat.grad_views[k], g)
                state = opt.step(flat.params, flat.grads, state)
    sync_state(s2, state, packed.keys())
    for k in per_key:
        assert_array_equal(per_key[k], packed[k])
        assert packed[k].dtype == dtype
    if name == "adam":
        assert s2["t"] == s1["t"] == 4
        assert_array_equal(s2["m"]["W1"], s1["m"]["W1"])


@pytest.mark.parametrize("shuffle", [False, True])
def test_reused_buffers_match_fresh_buffers(rng, shuffle):
    """Buffers built once per run give bit-identical epochs to fresh ones."""
    X, Y = _data(rng, n=101)
    kernels = Kernels("relu", 1e-3)
    opt = OPTIMIZERS["adam"](learning_rate=0.01)
    runs = []
    for reuse in (False, True):
        params = init_params((4, 5, 2), "relu", np.random.default_rng(1))
        flat = flatten(opt, params, opt.init(params))
        state, order_rng = flat.state, np.random.default_rng(2)
        buffers = make_buffers(X, Y, params, 16, shuffle, flat) if reuse else None
        losses = []
        for _ in range(3):
            order = order_rng.permutation(101) if shuffle else None
            loss, state = run_epoch(kernels, opt, params, state, X, Y, None, 16, order,
                                    flat, buffers)
            losses.append(loss)
        runs.append((losses, params))
    assert runs[0][0] == runs[1][0]
    for k in runs[0][1]:
        assert_array_equal(runs[0][1][k], runs[1][1][k])


def test_bias_gradient_by_gemv_equals_column_sums(rng):
    X, Y = _data(rng, n=300, d=3, k=4)
    params = init_params((3, 7, 4), "relu", rng)
    y_pred, cache = forward_prop(X, params)
    pure = gradient(params, cache, Y, y_pred)
    ws = {}
    for _ in range(2):                          # the second call reuses the buffers
        y_pred, cache = forward_prop(X, params, workspace=ws)
        kept = gradient(params, cache, Y, y_pred, workspace=ws)
    H = np.maximum(X @ params["W1"] + params["b1"], 0)
    delta = (H @ params["W2"] + params["b2"] - Y) / Y.size
    assert_allclose(pure["b2"], delta.sum(axis=0), rtol=1e-13)
    for k in pure:
        assert_array_equal(pure[k], kept[k])
