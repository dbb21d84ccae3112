"""numpynn: linear regression and small neural networks in vectorised NumPy.

The math lives once, as pure functions, in :mod:`numpynn.kernels`
(``forward_prop``, ``compute_loss``, ``gradient``, ``update_params``);
:class:`LinearRegressor` and :class:`TwoLayerNet` are scikit-learn
estimators around them.
"""

from . import curvature, datasets, kernels, optimizers, quadratic
from ._engine import reference_kernels
from .estimators import LinearRegressor, TwoLayerNet
from .lr_finder import lr_find
from .persistence import load, save

__version__ = "0.1.0"

__all__ = ["LinearRegressor", "TwoLayerNet", "curvature", "datasets", "kernels", "optimizers",
           "quadratic", "reference_kernels", "lr_find", "save", "load",
           "__version__"]
