"""
A two-layer network with a linear activation is linear regression
=================================================================

The tutorial ends by noting that stacking layers with a *linear* activation
gains nothing: :math:`(X W_1 + b_1) W_2 + b_2 = X (W_1 W_2) + (b_1 W_2 + b_2)`
is one linear map. ``TwoLayerNet(activation="linear")`` shows it: whatever
its hidden width, it converges to the least-squares line, and its
effective coefficients :math:`W_1 W_2` are those of ``LinearRegressor``.
A ReLU hidden layer is what lets the network bend.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from numpynn import LinearRegressor, TwoLayerNet

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(300, 2))
y = X[:, 0] ** 2 - X[:, 1] + rng.normal(scale=0.1, size=300)

exact = LinearRegressor(solver="lstsq").fit(X, y)
linear_net = TwoLayerNet(hidden_units=8, activation="linear", alpha=0.0,
                         max_iter=300, tol=None, random_state=0).fit(X, y)
relu_net = TwoLayerNet(hidden_units=8, activation="relu", alpha=0.0,
                       max_iter=300, tol=None, random_state=0).fit(X, y)

W1, W2 = linear_net.coefs_
b1, b2 = linear_net.intercepts_
print("least squares  coef:", exact.coef_.round(4), " intercept:", round(exact.intercept_, 4))
print("linear net  W1 @ W2:", (W1 @ W2).ravel().round(4),
      " b1 @ W2 + b2:", (b1 @ W2 + b2).round(4))
print(f"R^2: least squares {exact.score(X, y):.4f}, linear net "
      f"{linear_net.score(X, y):.4f}, ReLU net {relu_net.score(X, y):.4f}")

# %%
# Along the first feature (the second held at 0), the linear network is a
# straight line however many units it has; eight ReLU units follow the
# parabola.
grid = np.column_stack([np.linspace(-2, 2, 200), np.zeros(200)])
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
near = np.abs(X[:, 1]) < 0.3
ax.scatter(X[near, 0], y[near], s=10, color="0.6", label="data with |x2| < 0.3")
ax.plot(grid[:, 0], exact.predict(grid), "k--", label="least squares")
ax.plot(grid[:, 0], linear_net.predict(grid), color="C0", label="8 linear units")
ax.plot(grid[:, 0], relu_net.predict(grid), color="C3", label="8 ReLU units")
ax.set(xlabel="x1", ylabel="y", title="Slice at x2 = 0")
ax.legend(fontsize="small")
plt.show()
