r"""
Choosing a learning rate
========================

The learning rate is the one hyperparameter of gradient descent that can
make training fail outright: too small and nothing is learnt in the epochs
you pay for, too large and the loss explodes. This example trains a small
network on a noisy sine three ways: at a few fixed rates, at the rate a
learning-rate range test (:func:`numpynn.lr_find`) suggests, and at the
rate computed from the curvature of the loss
(:func:`numpynn.curvature.auto_learning_rate_net`).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from numpynn import TwoLayerNet, lr_find
from numpynn.curvature import auto_learning_rate_net, top_curvature
from numpynn.kernels import init_params
from numpynn.plotting import plot_lr_find

rng = np.random.default_rng(0)
x = rng.uniform(-3, 3, size=(600, 1))
y = np.sin(2 * x[:, 0]) + rng.normal(0, 0.2, 600)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
scaler = StandardScaler().fit(x_train)
X_train, X_test = scaler.transform(x_train), scaler.transform(x_test)


def sgd_net(learning_rate, epochs=100):
    """Plain mini-batch SGD, a fixed number of epochs, no early stop."""
    return TwoLayerNet(hidden_units=32, optimizer="sgd", learning_rate=learning_rate,
                       max_iter=epochs, tol=None, random_state=0)


# %%
# A few fixed rates
# -----------------
# With plain SGD and 100 epochs, 1e-3 barely learns anything, 1e-2 learns
# part of the curve and 1e-1 most of it; a rate of 1 makes the loss
# explode, and the estimator stops with an explanation rather than return
# a destroyed model.
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for lr in (1e-3, 1e-2, 1e-1):
    net = sgd_net(lr).fit(X_train, y_train)
    ax.semilogy(net.loss_curve_, label=f"learning_rate={lr:g}: test R$^2$ "
                                       f"{net.score(X_test, y_test):.2f}")
try:
    sgd_net(1.0).fit(X_train, y_train)
except ValueError as err:
    print(err)
ax.set(xlabel="epoch", ylabel="training loss (log scale)", title="Fixed learning rates")
ax.legend()

# %%
# The learning-rate range test
# ----------------------------
# :func:`numpynn.lr_find` trains a copy of the network for one short run in
# which the rate grows geometrically from batch to batch, and records the
# loss after every step. The loss falls once the rate is large enough to
# make progress, and shoots up once it is too large; the run stops there.
# The suggestion is a tenth of the rate at the minimum of the (smoothed)
# curve. The estimator passed in is not changed.
result = lr_find(sgd_net(1e-3), X_train, y_train, min_lr=1e-5, max_lr=10.0)
print(f"{len(result.rates)} steps, stopped early: {result.stopped_early}; "
      f"suggestion: {result.suggestion:.3g}")
plot_lr_find(result)

# %%
# The rate from the curvature
# ---------------------------
# Gradient descent is stable only while the step is below
# :math:`2/\lambda_{\max}`, the largest eigenvalue of the loss's Hessian.
# :func:`numpynn.curvature.top_curvature` estimates it at the starting
# weights from a few exact Hessian-vector products, and
# :func:`numpynn.curvature.auto_learning_rate_net` takes half the bound for
# SGD (it also probes the curvature where the first epochs take the output
# layer, which can be much larger when ``y`` is large). Here the starting
# weights are those of ``TwoLayerNet(random_state=0)``.
params = init_params((1, 32, 1), "relu", np.random.default_rng(0))
lam = top_curvature(params, X_train, y_train, "relu", alpha=1e-4, rng=0)
auto = auto_learning_rate_net(params, X_train, y_train, "relu", "sgd", alpha=1e-4, rng=0)
print(f"lambda_max at the start: {lam:.3g}; stability bound 2/lambda_max = {2 / lam:.3g}; "
      f"automatic rate: {auto:.3g}")

# %%
# Both rates against the best fixed rate of the first figure, 1e-1, at the
# same 100 epochs:
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for label, lr in (("fixed 1e-1", 1e-1), ("lr_find suggestion", result.suggestion),
                  ("curvature rule", auto)):
    net = sgd_net(lr).fit(X_train, y_train)
    ax.semilogy(net.loss_curve_, label=f"{label} ({lr:.3g}): test R$^2$ "
                                       f"{net.score(X_test, y_test):.2f}")
ax.set(xlabel="epoch", ylabel="training loss (log scale)", title="Chosen learning rates")
ax.legend()

# %%
# Learning-rate schedules
# -----------------------
# %%
# Schedules: change the rate as training goes
# -------------------------------------------
# ``learning_rate_schedule`` changes the rate between epochs
# (:mod:`numpynn.schedules`): ``"invscaling"`` divides it by the square root
# of the samples seen, ``"adaptive"`` by 5 whenever the loss stalls, and
# ``"cosine"`` warms up and then decays to zero at ``max_iter``.
# ``learning_rate_curve_`` records the rate every epoch used.

fig, (ax_rate, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for schedule in ("constant", "invscaling", "adaptive", "cosine"):
    net = sgd_net(0.1).set_params(learning_rate_schedule=schedule, warmup_epochs=10,
                                  power_t=0.25)
    net.fit(X_train, y_train)
    ax_rate.semilogy(net.learning_rate_curve_, label=schedule)
    ax_loss.semilogy(net.loss_curve_, label=f"{schedule}: test R$^2$ "
                     f"{net.score(X_test, y_test):.2f}")
ax_rate.set(xlabel="epoch", ylabel="learning rate", title="learning_rate_curve_")
ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss_curve_")
ax_rate.legend()
ax_loss.legend()

# %%
# What to use
# -----------
# The curvature rule costs a few dozen Hessian-vector products and no
# training; it keeps the first steps stable, with a margin of two from the
# stability bound at the start, and so it is cautious: here, after 100
# epochs, it has learnt much less than the best fixed rate of the first
# figure. The range test costs about a hundred mini-batch steps and looks at
# the whole run; its suggestion, an order of magnitude below the point of
# divergence, lands here near the best fixed rate. On the data sets of
# ``python -m benchmarks.auto_lr`` (see :doc:`/benchmarks`) neither always
# matches the best rate of a grid search, which remains the reference when
# epochs are cheap.
plt.show()
