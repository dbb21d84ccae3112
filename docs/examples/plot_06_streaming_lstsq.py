"""
Exact least squares, one block at a time
========================================

``LinearRegressor(solver="lstsq")`` solves the least-squares problem by a
QR decomposition that is updated block by block (:mod:`numpynn.lstsq`).
Its state is a small triangular matrix, so ``partial_fit`` on chunks gives
the same model as one ``fit`` on everything -- exactly, not approximately
-- and agrees with scikit-learn's ``LinearRegression``.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression, Ridge

from numpynn import LinearRegressor
from numpynn.lstsq import qr_combine, qr_solve, qr_update

X, y = make_regression(n_samples=100_000, n_features=20, noise=5.0, random_state=0)

whole = LinearRegressor(solver="lstsq").fit(X, y)

streamed = LinearRegressor(solver="lstsq")
for X_chunk, y_chunk in zip(np.array_split(X, 10), np.array_split(y, 10), strict=True):
    streamed.partial_fit(X_chunk, y_chunk)

sk = LinearRegression().fit(X, y)
rel = np.max(np.abs(streamed.coef_ - whole.coef_)) / np.max(np.abs(whole.coef_))
print(f"10 chunks vs one fit:           max relative difference {rel:.1e}")
rel = np.max(np.abs(whole.coef_ - sk.coef_)) / np.max(np.abs(sk.coef_))
print(f"numpynn vs sklearn LinearRegression: max relative difference {rel:.1e}")
print("intercepts:", round(whole.intercept_, 10), round(sk.intercept_, 10))

# %%
# ``alpha > 0`` adds the ridge penalty, still from the same state:
ridge = LinearRegressor(solver="lstsq", alpha=1000.0).fit(X, y)
print("ridge matches sklearn Ridge:",
      np.allclose(ridge.coef_, Ridge(alpha=1000.0).fit(X, y).coef_, rtol=1e-8))

# %%
# Map and reduce
# --------------
# The same state can be computed on separate blocks, by separate workers,
# and combined afterwards (the reduce step of a "tall-skinny QR"). Here it
# is done by hand with the functions the estimator uses: ``y`` enters as a
# column of shape ``(n, 1)``.
blocks = zip(np.array_split(X, 4), np.array_split(y.reshape(-1, 1), 4), strict=True)
R = qr_combine([qr_update(None, Xb, yb) for Xb, yb in blocks])
coef, intercept, rss = qr_solve(R, d=X.shape[1])
print("map-reduce == one fit:", np.allclose(coef[:, 0], whole.coef_, rtol=1e-10))
print("state size:", R.shape, "whatever the number of rows")

# %%
# Cost grows linearly with the rows
# ---------------------------------
# Each block costs a QR of the block stacked under the small state, so the
# fit time grows linearly with the number of rows (timings are from the
# machine that built these pages) while the state's memory stays fixed.
sizes = [10_000, 20_000, 50_000, 100_000]
times = []
for n in sizes:
    start = time.perf_counter()
    LinearRegressor(solver="lstsq").fit(X[:n], y[:n])
    times.append(time.perf_counter() - start)
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(sizes, np.array(times) * 1e3, marker="o")
ax.set(xlabel="rows", ylabel="fit time (ms)", title="lstsq fit time, 20 features",
       ylim=(0, None))
plt.show()
