"""
Optimizers on a two-layer network
=================================

``TwoLayerNet`` trains by backpropagation with plain SGD, heavy-ball
momentum, Nesterov's momentum or Adam (:mod:`numpynn.optimizers`). Here
each fits ``sin(x)`` on ``[-3, 3]`` with 32 ReLU units, from the same
initial weights and with the same mini-batches, and their loss curves are
compared.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from numpynn import TwoLayerNet

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, size=(400, 1))
y = np.sin(X[:, 0]) + rng.normal(scale=0.05, size=400)
X_test = np.linspace(-3, 3, 200).reshape(-1, 1)

settings = {
    "sgd": dict(optimizer="sgd", learning_rate=0.05),
    "momentum": dict(optimizer="momentum", learning_rate=0.01, momentum=0.9),
    "nesterov": dict(optimizer="momentum", learning_rate=0.01, momentum=0.9,
                     nesterov=True),
    "adam": dict(optimizer="adam", learning_rate=0.01),
}
nets = {}
for name, kw in settings.items():
    net = TwoLayerNet(hidden_units=32, batch_size=50, max_iter=150, tol=None,
                      random_state=0, **kw)
    nets[name] = net.fit(X, y)
    r2 = net.score(X_test, np.sin(X_test[:, 0]))
    print(f"{name:9s} final loss = {net.loss_curve_[-1]:.5f}   test R^2 = {r2:.4f}")

# %%
# With ``random_state=0`` every run starts from the same weights and sees
# the batches in the same order, so the curves differ only by the update
# rule (and the learning rate, which each needs its own of). Adam gets
# lowest fastest; the two momentum variants, nearly indistinguishable here,
# end well below plain SGD, whose loss is also the noisiest.
fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for name, net in nets.items():
    ax_loss.semilogy(net.loss_curve_, label=name)
    ax_fit.plot(X_test[:, 0], net.predict(X_test), label=name)
ax_loss.set(xlabel="epoch", ylabel="half-MSE loss (log scale)", title="Training loss")
ax_loss.legend()
ax_fit.scatter(X[:, 0], y, s=5, color="0.6", label="data")
ax_fit.set(xlabel="x", ylabel="y", title="Fitted curves after 150 epochs")
ax_fit.legend(fontsize="small")
plt.show()
