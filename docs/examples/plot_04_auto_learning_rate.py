r"""
The automatic learning rate, and what happens above it
=======================================================

For linear regression the half-MSE loss is a quadratic with a constant
Hessian :math:`\mathcal H`. Full-batch gradient descent with step
:math:`\eta` multiplies the error along each eigenvector of
:math:`\mathcal H` by :math:`1 - \eta\lambda_i` per epoch, so it converges
exactly when :math:`\eta < 2/\lambda_{\max}`. ``LinearRegressor``'s default
``learning_rate="auto"`` is :math:`1/\lambda_{\max}`, where every factor
lies in :math:`[0, 1)`: the loss can only go down. This example runs the
tutorial's problem at several multiples of :math:`1/\lambda_{\max}`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression

from numpynn import LinearRegressor
from numpynn.kernels import compute_loss, forward_prop, gradient, hessian, update_params

X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
H = hessian(X)                               # (2, 2): slope and intercept
lam = np.linalg.eigvalsh(H)
print("Hessian eigenvalues:", lam.round(4), " 1/lambda_max =", round(1 / lam[-1], 4))

# %%
# The estimator's default uses exactly that step, and with the default
# ``tol`` it stops once the loss no longer improves.
auto = LinearRegressor().fit(X, y)
print(f"learning_rate_ = {auto.learning_rate_:.4f}, epochs = {auto.n_iter_}, "
      f"final loss = {auto.loss_curve_[-1]:.3f}")
exact = LinearRegressor(solver="lstsq").fit(X, y)
print(f"least-squares loss     = {exact.loss_curve_[-1]:.3f}")

# %%
# The same kernels loop at several step sizes
# -------------------------------------------
# Here the loop is written out, because the estimator refuses to go on once
# the loss explodes (it raises a ``ValueError`` naming the epoch).


def run(learning_rate, epochs=40):
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros(1)}
    losses = []
    for _ in range(epochs):
        y_pred, cache = forward_prop(X, params, activation="linear")
        losses.append(compute_loss(y, y_pred))
        update_params(params, gradient(params, cache, y, y_pred, "linear"), learning_rate)
    return np.array(losses)


factors = [0.05 * lam[-1], 0.5, 1.0, 1.9, 2.1]
curves = {c: run(c / lam[-1]) for c in factors}
for c, losses in curves.items():
    print(f"eta = {c:4.2f} / lambda_max: loss after 40 epochs = {losses[-1]:.4g}")

# %%
# The first line is the tutorial's own ``learning_rate=0.05``, about
# :math:`0.05/\lambda_{\max}` here: safe, but twenty times slower than it
# needs to be. At :math:`1.9/\lambda_{\max}` the error flips sign every
# epoch and still shrinks; at :math:`2.1/\lambda_{\max}` it flips and grows.
#
# Past that point the estimator stops with an explanation:
try:
    LinearRegressor(learning_rate=2.5 / lam[-1], max_iter=200, tol=None).fit(X, y)
except ValueError as err:
    print(err)

# %%
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for c, losses in curves.items():
    label = (r"$\eta = 1/\lambda_{\max}$ (auto)" if c == 1.0
             else rf"$\eta = {c:.2f}/\lambda_{{\max}}$")
    ax.semilogy(losses, marker="o", ms=3, label=label)
ax.axhline(exact.loss_curve_[-1], color="0.4", ls="--", lw=1, label="least squares")
ax.set(xlabel="epoch", ylabel="half-MSE loss (log scale)",
       title="Full-batch gradient descent at several step sizes")
ax.legend(fontsize="small")
plt.show()
