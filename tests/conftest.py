"""Shared fixtures: a seeded generator and a central-difference gradient check."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20181001)


def numerical_gradient(f, params, eps=1e-6):
    """Central differences of the scalar ``f(params)`` w.r.t. every entry.

    ``params`` is a dict of float64 arrays; entries are perturbed in place
    and restored.
    """
    grads = {}
    for key, P in params.items():
        G = np.zeros_like(P)
        it = np.nditer(P, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = P[i]
            P[i] = old + eps
            up = f(params)
            P[i] = old - eps
            down = f(params)
            P[i] = old
            G[i] = (up - down) / (2 * eps)
        grads[key] = G
    return grads


@pytest.fixture
def gradcheck():
    return numerical_gradient
