r"""
Moore's law: a line in log10, a few ReLU units on the raw scale
================================================================

The talk's example. Transistor counts of microprocessors grow
exponentially with the year, so their base-10 logarithm grows linearly:
fitting a line to ``log10(count)`` gives the doubling time. On the raw
scale the same data is a hockey stick, and the talk bends a line into it
with a few ReLU units, :math:`f(x) = \sum_i n_i\,\mathrm{relu}(m_i x + b_i)`.
"""
# sphinx_gallery_thumbnail_number = 2

# %%
# The data
# --------
# :func:`numpynn.datasets.load_moore` returns one row per chip, 1971 to
# 2020: ``X`` is the year (shape ``(n, 1)``), ``y`` the transistor count.
# The talk's own six points (1971-1985, given in thousands) are shown too.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from numpynn import LinearRegressor, TwoLayerNet
from numpynn.datasets import load_moore
from numpynn.kernels import forward_prop

X, y = load_moore(return_X_y=True)
print(f"{X.shape[0]} chips, {int(X.min())}-{int(X.max())}, "
      f"{y.min():.3g} to {y.max():.3g} transistors")

talk_years = np.array([1971, 1972, 1974, 1979, 1982, 1985])
talk_counts = 1e3 * np.array([2.31, 3.55, 6.10, 29.16, 135.77, 273.84])

# %%
# A line through log10(count)
# ---------------------------
# If :math:`\log_{10} N = a + s\,t`, the count doubles every
# :math:`\log_{10} 2 / s` years. The exact least-squares fit:
log_y = np.log10(y)
line = LinearRegressor(solver="lstsq").fit(X, log_y)
slope = line.coef_[0]
print(f"slope = {slope:.4f} decades per year, R^2 = {line.score(X, log_y):.3f}")
print(f"doubling time = log10(2) / slope = {np.log10(2) / slope:.2f} years")

# %%
# Gradient descent gets the same line -- once the year is standardised.
# On raw years (1971...2020) the Hessian's condition number is about
# :math:`10^{11}`: the automatic step is still safe, but each epoch improves
# the loss by so little that the default ``tol`` stops it long before the
# minimum. A ``StandardScaler`` in front fixes the conditioning.
raw = LinearRegressor().fit(X, log_y)
scaled = make_pipeline(StandardScaler(), LinearRegressor()).fit(X, log_y)
gd_slope = scaled[-1].coef_[0] / scaled[0].scale_[0]
print(f"gd on raw years:     slope {raw.coef_[0]:.4f} after {raw.n_iter_} epochs")
print(f"gd on scaled years:  slope {gd_slope:.4f} after {scaled[-1].n_iter_} epochs")

# %%
grid = np.linspace(1970, 2021, 200).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ax.scatter(X[:, 0], log_y, s=16, color="0.5", label="load_moore")
ax.scatter(talk_years, np.log10(talk_counts), s=40, marker="x", color="C3",
           label="the talk's points")
ax.plot(grid[:, 0], line.predict(grid), color="C0", lw=2,
        label=f"least squares: doubling every {np.log10(2) / slope:.2f} years")
ax.set(xlabel="year of introduction", ylabel="log10(transistor count)",
       title="Moore's law is a straight line in log10")
ax.legend(loc="upper left")
plt.show()

# %%
# The talk's ReLU network
# -----------------------
# On the raw scale the talk models the count (in thousands) with three
# hand-set units, ``mm = [1, 1, 1]``, ``bb = [0, -35, -40]``,
# ``nn = [1e4, 1e5, 7.5e5]`` on ``x = year - 1970``: a line whose slope
# jumps at 2005 and at 2010. That is exactly a two-layer network's forward
# pass, with ``W1 = mm``, ``b1 = bb`` and ``W2 = nn``:
talk_net = {
    "W1": np.array([[1.0, 1.0, 1.0]]),              # (1, 3): m_i
    "b1": np.array([0.0, -35.0, -40.0]),            # (3,):   b_i
    "W2": np.array([[1e4], [1e5], [7.5e5]]) * 1e3,  # (3, 1): n_i, in transistors
    "b2": np.zeros(1),
}
talk_curve = forward_prop(grid - 1970, talk_net, activation="relu")[0][:, 0]
print(f"the talk's network in 2012: {talk_curve[np.searchsorted(grid[:, 0], 2012)]:.3g}")

# %%
# A fitted network
# ----------------
# :class:`~numpynn.TwoLayerNet` learns such units from the data. Counts up
# to 2012 (later rows are multi-die packages), in billions, against decades
# since 1970, both of order one. The loss is a mean of squares on the raw
# scale, so it is dominated by the largest chips -- the early ones are all
# near zero here, which is exactly why Moore's law is fitted in log10.
keep = X[:, 0] <= 2012
x_dec = (X[keep] - 1970) / 10                       # decades since 1970
t_bn = y[keep] / 1e9                                # billions of transistors
net = TwoLayerNet(hidden_units=4, learning_rate=0.03, batch_size=None, alpha=0.0,
                  max_iter=2000, tol=None, random_state=1).fit(x_dec, t_bn)
print(f"R^2 on the raw scale: {net.score(x_dec, t_bn):.3f}")
W1, b1 = net.coefs_[0][0], net.intercepts_[0]
for i in np.flatnonzero(W1 != 0):
    print(f"unit {i + 1}: kink at year {1970 - 10 * b1[i] / W1[i]:.1f}, "
          f"{'rising' if W1[i] > 0 else 'falling'} side active")

# %%
# Units with their kink outside the data and pointing away from it never
# fire, get no gradient and stay dead: try another ``random_state`` to see
# one. Each live unit is a hinge; their sum is the bent line.
grid_dec = (grid[grid[:, 0] <= 2013] - 1970) / 10
fig, (ax_raw, ax_units) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
ax_raw.scatter(X[keep, 0], t_bn, s=16, color="0.5", label="load_moore, to 2012")
ax_raw.plot(grid[:, 0], talk_curve / 1e9, color="C3", ls="--",
            label="the talk's 3 hand-set units")
ax_raw.plot(1970 + 10 * grid_dec[:, 0], net.predict(grid_dec), color="C0", lw=2,
            label="TwoLayerNet, 4 fitted units")
ax_raw.set(xlim=(1970, 2013), ylim=(-0.3, 6), xlabel="year",
           ylabel="transistors (billions)", title="The raw scale: a bent line")
ax_raw.legend(loc="upper left")

hidden = np.maximum(grid_dec @ net.coefs_[0] + b1, 0)    # (n_grid, 4)
contrib = hidden * net.coefs_[1][:, 0]                  # (n_grid, 4)
years = 1970 + 10 * grid_dec[:, 0]
for i in range(contrib.shape[1]):
    ax_units.plot(years, contrib[:, i], ls="--", label=f"unit {i + 1}")
ax_units.plot(years, contrib.sum(axis=1) + net.intercepts_[1][0], color="k", lw=2,
              label="sum + output bias")
ax_units.set(xlim=(1970, 2013), xlabel="year", ylabel="contribution (billions)",
             title="Each unit is a hinge")
ax_units.legend(loc="upper left", fontsize="small")
plt.show()
