"""
Gradient descent on a line, the tutorial's way
===============================================

The beginners' tutorial fits ``y = m x + b`` to
``make_regression(n_samples=200, n_features=1, noise=10, random_state=42)``
by gradient descent: 61 epochs at learning rate 0.05, starting from
``m = b = 0``, printing the loss every 10 epochs. Here is that loop written
with numpynn's kernels, then the same fit as one estimator call.
"""

# %%
# The loop, with the kernels
# --------------------------
# The parameters are a dict of arrays: ``W1`` is the slope ``m`` (one
# feature by one output), ``b1`` the intercept ``b``. ``forward_prop`` keeps
# what ``gradient`` needs in ``cache``; ``update_params`` steps in place.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression

from numpynn import LinearRegressor
from numpynn.kernels import compute_loss, forward_prop, gradient, update_params

X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)

params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
losses = []
for epoch in range(61):
    y_pred, cache = forward_prop(X, params, activation="linear")
    loss = compute_loss(y, y_pred)
    losses.append(loss)
    grads = gradient(params, cache, y, y_pred, activation="linear")
    update_params(params, grads, learning_rate=0.05)
    if epoch % 10 == 0:
        print(f"Epoch {epoch:2d}  loss = {loss:.4f}")

m, b = params["W1"][0, 0], params["b1"][0]
print(f"m = {m:.4f}, b = {b:.4f}")

# %%
# The same fit in one line
# ------------------------
# ``LinearRegressor`` runs exactly that loop (full batch, from zeros).
# ``tol=None`` switches off early stopping so that all 61 epochs run.
reg = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X, y)
print("largest difference in the loss curves:",
      np.max(np.abs(np.array(losses) - reg.loss_curve_)))
print("same slope and intercept:",
      np.allclose([m, b], [reg.coef_[0], reg.intercept_], rtol=1e-12, atol=0))

# %%
# 61 epochs are not quite enough at this learning rate: the loss is still
# falling. The closed-form least-squares solution is where it is heading.
exact = LinearRegressor(solver="lstsq").fit(X, y)
print(f"least squares: m = {exact.coef_[0]:.4f}, b = {exact.intercept_:.4f}")

# %%
# The fit and the loss curve
# --------------------------
# The tutorial's figure: the data with the fitted line, and the loss
# recorded at every epoch.
fig, (ax_fit, ax_loss) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
order = np.argsort(X[:, 0])
ax_fit.scatter(X[:, 0], y, s=12, alpha=0.7, label="data")
ax_fit.plot(X[order, 0], reg.predict(X[order]), color="C3", lw=2,
            label=f"gd, 61 epochs: y = {m:.1f} x + {b:.2f}")
ax_fit.plot(X[order, 0], exact.predict(X[order]), color="k", ls="--", lw=1,
            label="least squares")
ax_fit.set(xlabel="x", ylabel="y", title="Fitted line")
ax_fit.legend(loc="upper left")
ax_loss.plot(reg.loss_curve_, marker="o", ms=3)
ax_loss.set(xlabel="epoch", ylabel="half-MSE loss", title="Loss per epoch")
plt.show()
