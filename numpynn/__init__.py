"""numpynn: linear regression and small neural networks in vectorised NumPy.

The math lives once, as pure functions, in :mod:`numpynn.kernels`
(``forward_prop``, ``compute_loss``, ``gradient``, ``update_params``);
:class:`LinearRegressor` and :class:`TwoLayerNet` are scikit-learn
estimators around them.
"""

from . import kernels, optimizers
from .estimators import LinearRegressor, TwoLayerNet

__version__ = "0.1.0"

__all__ = ["LinearRegressor", "TwoLayerNet", "kernels", "optimizers", "__version__"]
