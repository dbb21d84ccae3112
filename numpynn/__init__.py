"""numpynn: linear regression and small neural networks in vectorised NumPy.

The math lives once, as pure functions, in :mod:`numpynn.kernels`
(``forward_prop``, ``compute_loss``, ``gradient``, ``update_params``);
:class:`LinearRegressor` and :class:`TwoLayerNet` are scikit-learn
estimators around them. :mod:`numpynn.plotting` and :mod:`numpynn.parallel`
load on first use (``numpynn.plotting.plot_fit``), so ``import numpynn``
imports neither matplotlib nor dask.
"""

import importlib

from . import curvature, datasets, kernels, optimizers, quadratic
from ._engine import reference_kernels
from .estimators import LinearRegressor, TwoLayerNet
from .lr_finder import lr_find
from .persistence import load, save

__version__ = "0.1.0"

__all__ = ["LinearRegressor", "TwoLayerNet", "curvature", "datasets", "kernels", "optimizers",
           "quadratic", "reference_kernels", "lr_find", "save", "load",
           "__version__"]

_LAZY = ("plotting", "parallel")


def __getattr__(name):
    """Import :mod:`numpynn.plotting` and :mod:`numpynn.parallel` on first access."""
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
