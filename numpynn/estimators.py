"""scikit-learn estimators: thin shells around :mod:`numpynn.kernels`.

Both estimators follow the same recipe in ``fit``: check hyperparameters,
validate data, build ``rng = np.random.default_rng(random_state)``, train
copies of the parameters through the shared loop (:mod:`numpynn._training`),
then publish the fitted attributes in one step. Any failure leaves the
estimator as it was.
"""

from ._linear import LinearRegressor
from ._net import TwoLayerNet

__all__ = ["LinearRegressor", "TwoLayerNet"]
