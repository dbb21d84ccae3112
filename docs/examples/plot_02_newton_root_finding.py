r"""
Newton's method: minimising versus root-finding
================================================

The talk fits the slope ``m`` of ``f(m, x) = m x`` to Moore's-law points
and proposes Newton's method as

.. math:: m_{i+1} = m_i - \frac{\mathrm{Cost}(m_i)}{\mathrm{dCost}(m_i)} .

That is Newton's method for a *root* of Cost: it looks for ``m`` with
``Cost(m) = 0``. A mean of squares is zero only for a perfect fit, so on
real data there is no root and the iteration cannot settle. Newton's
method for a *minimum* looks for a root of the derivative instead,

.. math:: m_{i+1} = m_i - \frac{\mathrm{dCost}(m_i)}{\mathrm{d^2Cost}(m_i)} ,

and because Cost is a parabola in ``m`` it lands on the minimum in one
step. Both are run below on the talk's own six data points.
"""

# %%
# The talk's data and cost
# ------------------------
# Years since 1970, and log10 of the transistor count (in thousands), as on
# the talk's slides. Cost is the talk's mean of squares (no factor 1/2).
import matplotlib.pyplot as plt
import numpy as np

from numpynn import LinearRegressor

years = np.array([1971, 1972, 1974, 1979, 1982, 1985])
counts = np.array([2.31, 3.55, 6.10, 29.16, 135.77, 273.84])   # thousands
x = years - 1970.0
y = np.log10(counts)


def cost(m):
    return np.mean((m * x - y) ** 2)


def d_cost(m):
    return np.mean(2 * (m * x - y) * x)


d2_cost = np.mean(2 * x * x)          # constant: Cost is a parabola in m

m_best = np.sum(x * y) / np.sum(x * x)
print(f"minimum: m* = {m_best:.6f}, Cost(m*) = {cost(m_best):.6f} > 0")

# %%
# The two iterations from the same start
# --------------------------------------
m_root, m_newton = [1.0], [1.0]
for _ in range(40):
    m = m_root[-1]
    m_root.append(m - cost(m) / d_cost(m))
    m = m_newton[-1]
    m_newton.append(m - d_cost(m) / d2_cost)

for i in (0, 1, 2, 5, 10, 20, 30, 40):
    print(f"step {i:2d}   root-finding m = {m_root[i]:.6f}  Cost = {cost(m_root[i]):.6f}"
          f"   |   minimising m = {m_newton[i]:.6f}  Cost = {cost(m_newton[i]):.6f}")

# %%
# Root-finding first halves its distance to the minimum, as if it were
# converging, then starts bouncing around it and every so often is thrown
# far away. Writing :math:`u = m - m^*`, :math:`a = \overline{x^2}` and
# :math:`q = \mathrm{Cost}(m^*) / a`, the cost is
# :math:`a (u^2 + q)` and the talk's update becomes
#
# .. math:: u_{i+1} = \tfrac12 \left(u_i - \frac{q}{u_i}\right),
#
# Newton's iteration for :math:`u^2 + q = 0`, which has no real root. With
# :math:`u = \sqrt q \cot\theta` it is exactly :math:`\theta \mapsto 2\theta`
# (mod :math:`\pi`): the iterates never settle, and each time ``u`` comes
# close to 0 -- close to the minimum -- the division by the small
# derivative sends it far off.
q = cost(m_best) / np.mean(x * x)
u = np.array(m_root) - m_best
theta = np.arctan2(np.sqrt(q), u)                   # cot(theta) = u / sqrt(q)
doubled = np.mod(2 * theta[:-1], np.pi)
print("theta doubles each step (mod pi):",
      np.allclose(np.mod(theta[1:], np.pi), doubled, atol=1e-6))

# %%
# What numpynn does
# -----------------
# ``LinearRegressor(solver="newton")`` takes the minimising step
# :math:`\theta - \mathcal H^{-1} \nabla L` on slope and intercept together;
# after one epoch it agrees with the exact least-squares fit.
X = x.reshape(-1, 1)
newton = LinearRegressor(solver="newton", max_iter=1, tol=None).fit(X, y)
exact = LinearRegressor(solver="lstsq").fit(X, y)
print("one Newton step == least squares:",
      np.allclose([newton.coef_[0], newton.intercept_],
                  [exact.coef_[0], exact.intercept_], rtol=1e-10))

# %%
# The picture
# -----------
# Left: the cost parabola with both iterations (the minimising step jumps
# straight to the bottom; the root-finding iterates, aiming for the
# ``Cost = 0`` line that the parabola never touches, scatter around it).
# Right: Cost at each step.
fig, (ax_c, ax_i) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
grid = np.linspace(0.0, 0.4, 400)
ax_c.plot(grid, [cost(m) for m in grid], color="0.3", label="Cost(m)")
ax_c.axhline(0.0, color="0.7", lw=0.8)
ax_c.plot(m_root, [cost(m) for m in m_root], "o", ms=4, color="C3",
          label="m - Cost/dCost (root-finding)")
ax_c.plot(m_newton[:2], [cost(m) for m in m_newton[:2]], "s-", ms=6, color="C0",
          label="m - dCost/d²Cost (minimising)")
ax_c.set(xlim=(0, 0.4), ylim=(-0.1, 1.5), xlabel="slope m", ylabel="Cost",
         title="The cost parabola has no root")
ax_c.legend(loc="upper right", fontsize="small")

steps = np.arange(len(m_root))
ax_i.semilogy(steps, [cost(m) for m in m_root], "o-", ms=3, color="C3",
              label="root-finding")
ax_i.semilogy(steps, [cost(m) for m in m_newton], "s-", ms=3, color="C0",
              label="minimising")
ax_i.axhline(cost(m_best), color="0.5", ls="--", lw=1, label="minimum of Cost")
ax_i.set(xlabel="step", ylabel="Cost (log scale)", title="Cost per step")
ax_i.legend(loc="upper right", fontsize="small")
plt.show()
