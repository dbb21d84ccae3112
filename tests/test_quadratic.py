"""numpynn.quadratic: the block-wise passes equal the reference kernels' math."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from numpynn import quadratic
from numpynn.kernels import forward_prop, gradient
from numpynn.optimizers import frozen, sgd


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_full_gradient_over_many_blocks_is_the_kernels_gradient(rng, sparse, weighted):
    # 3 columns: blocks of BLOCK_BYTES hold 87381 rows, so 200_003 rows make
    # three blocks, the last one partial
    n, d, k = 200_003, 3, 2
    X = rng.normal(size=(n, d))
    y = rng.normal(size=(n, k))
    sw = rng.uniform(0.0, 2.0, size=n) if weighted else None
    params = {"W1": rng.normal(size=(d, k)), "b1": rng.normal(size=k)}
    assert n > 2 * quadratic._cache_rows(X)
    y_pred, cache = forward_prop(X, params, "linear")
    ref = gradient(params, cache, y, y_pred, "linear", alpha=0.3, sample_weight=sw)
    got = quadratic.full_gradient(sp.csr_array(X) if sparse else X, y, params,
                                  sample_weight=sw, alpha=0.3)
    for key in ("W1", "b1"):
        assert_allclose(got[key], ref[key], rtol=1e-11, atol=1e-14)


def test_without_intercept_the_hessian_is_the_weights_block(rng):
    X = rng.normal(size=(50, 4)) + 3.0
    H = quadratic.hessian(X, alpha=0.2)
    assert_allclose(quadratic.hessian(X, alpha=0.2, fit_intercept=False), H[:4, :4])
    op = quadratic.hessian_operator(X, alpha=0.2, fit_intercept=False)
    v = rng.normal(size=4)
    assert op.shape == (4, 4)
    assert_allclose(op @ v, H[:4, :4] @ v, rtol=1e-12)
    assert quadratic.lambda_max(X, fit_intercept=False) == pytest.approx(
        np.linalg.eigvalsh(X.T @ X / 50)[-1], rel=1e-12)


def test_frozen_holds_its_keys_and_moves_the_others_as_the_optimizer(rng):
    params = {"W1": rng.normal(size=(3, 1)), "b1": np.zeros(1)}
    grads = {"W1": rng.normal(size=(3, 1)), "b1": np.ones(1)}
    expected = params["W1"] - 0.1 * grads["W1"]
    opt = frozen(sgd(0.1), ["b1"])
    opt.step(params, grads, opt.init(params))
    assert_allclose(params["W1"], expected, rtol=1e-15)
    assert params["b1"][0] == 0.0 and grads["b1"][0] == 1.0     # the caller's grads untouched
