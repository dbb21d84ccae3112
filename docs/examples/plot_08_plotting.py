"""
Seeing the learning: numpynn.plotting
=====================================

:mod:`numpynn.plotting` draws the pictures of the tutorial and the talk
for any fitted model: the fit and the loss curve, the loss surface with
the path gradient descent took, and the hidden units of a network. Each
function draws on a matplotlib Axes (``ax=``) and returns it; none calls
``plt.show()``.
"""
# sphinx_gallery_thumbnail_number = 2

# %%
# Fit and loss, side by side
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression

from numpynn import LinearRegressor, TwoLayerNet
from numpynn.plotting import plot_hidden_units, plot_loss_surface, plot_training

X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
tutorial = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X, y)
fig = plot_training(tutorial, X, y)
plt.show()

# %%
# The loss surface
# ----------------
# For a line the loss is a quadratic bowl over the slope ``m`` and the
# intercept ``b``. Left, the tutorial's learning rate: 61 small steps that
# have not reached the bottom. Right, the automatic learning rate, which
# gets there in far fewer. The arrow is Newton's single step from the start.
fig, (ax_slow, ax_auto) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
plot_loss_surface(LinearRegressor(learning_rate=0.05, max_iter=61, tol=None), X, y,
                  ax=ax_slow)
ax_slow.set_title("learning_rate=0.05, 61 epochs")
plot_loss_surface(LinearRegressor(), X, y, ax=ax_auto)
ax_auto.set_title('learning_rate="auto"')
plt.show()

# %%
# Hidden units
# ------------
# A network with one input is a sum of its hidden units' contributions,
# each :math:`n_i\,\mathrm{relu}(m_i x + b_i)`: a hinge. Six units fitted to
# a sine:
rng = np.random.default_rng(0)
X_sin = rng.uniform(-3, 3, size=(300, 1))
y_sin = np.sin(X_sin[:, 0])
net = TwoLayerNet(hidden_units=6, learning_rate=0.02, max_iter=400, tol=None,
                  random_state=1).fit(X_sin, y_sin)
print(f"R^2 = {net.score(X_sin, y_sin):.3f}")
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
plot_hidden_units(net, X_sin, y_sin, ax=ax)
plt.show()

# %%
# :func:`~numpynn.plotting.animate_training` and
# :func:`~numpynn.plotting.save_training_gif` turn the first figure into an
# animation: frame *k* draws the line before epoch *k*'s update, whose loss
# ``loss_curve_[k]`` its title prints (frame 0 is the start, m = b = 0), and
# a last frame, held for two seconds, draws the trained model
# (``numpynn demo`` writes one).
