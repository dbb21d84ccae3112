"""numpynn.plotting: assert on what is drawn, not only that calls return."""

import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.datasets import make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn.kernels import compute_loss  # noqa: E402
from numpynn.plotting import (  # noqa: E402
    animate_training,
    plot_fit,
    plot_hidden_units,
    plot_loss_curve,
    plot_loss_surface,
    plot_training,
    save_training_gif,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def tutorial():
    X, y = make_regression(n_samples=60, n_features=1, noise=10, random_state=42)
    return X, y


def _gd(**kw):
    return LinearRegressor(**{"learning_rate": 0.05, "max_iter": 12, "tol": None, **kw})


def _fit_far(est, X, y):
    """Fit the tutorial's few epochs, which end above the minimum and say so."""
    with pytest.warns(ConvergenceWarning, match="tol=None ran all"):
        return est.fit(X, y)


def _record_params(est, X, y):
    """Fit a clone, recording (m, b) after every epoch: the reference path."""
    seen = []
    model = clone(est).set_params(callbacks=[lambda e, logs: seen.append(
        (float(e.coef_[0]), float(e.intercept_)))])
    _fit_far(model, X, y)
    return model, np.array(seen)


def _gid(ax, gid):
    return next(a for a in list(ax.get_lines()) + list(ax.texts) if a.get_gid() == gid)


# -- plot_fit -----------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: LinearRegressor(solver="lstsq"),
    lambda: make_pipeline(StandardScaler(), TwoLayerNet(hidden_units=5, max_iter=30,
                                                        tol=None, random_state=0)),
])
def test_plot_fit_line_is_predict(tutorial, make):
    X, y = tutorial
    est = make().fit(X, y)
    ax = plot_fit(est, X, y)
    line = ax.get_lines()[-1]
    x = line.get_xdata()
    assert_allclose(line.get_ydata(), est.predict(x.reshape(-1, 1)))
    assert x[0] == X.min() and x[-1] == X.max()
    assert_allclose(ax.collections[0].get_offsets(), np.column_stack([X[:, 0], y]))
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None


def test_plot_fit_several_features_is_predicted_vs_actual():
    X, y = make_regression(n_samples=50, n_features=3, noise=5, random_state=0)
    est = LinearRegressor(solver="lstsq").fit(X, y)
    ax = plot_fit(est, X, y)
    assert_allclose(ax.collections[0].get_offsets(), np.column_stack([y, est.predict(X)]))
    ident = ax.get_lines()[0]
    assert_array_equal(ident.get_xdata(), ident.get_ydata())


def test_plot_fit_on_a_dataframe_warns_nothing(tutorial):
    pd = pytest.importorskip("pandas")
    X, y = tutorial
    Xf = pd.DataFrame(X, columns=["size"])
    est = LinearRegressor(solver="lstsq").fit(Xf, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_fit(est, Xf, y)
    assert ax.get_xlabel() == "size"


def test_plot_fit_draws_into_the_given_axes(tutorial):
    X, y = tutorial
    fig, ax = plt.subplots()
    assert plot_fit(LinearRegressor(solver="lstsq").fit(X, y), X, y, ax=ax) is ax
    assert len(fig.axes) == 1


# -- plot_loss_curve / plot_training -----------------------------------------------------
def test_loss_curve_is_loss_curve_(tutorial):
    X, y = tutorial
    est = _fit_far(_gd(), X, y)
    ax = plot_loss_curve(est)
    line = ax.get_lines()[0]
    assert_array_equal(line.get_ydata(), est.loss_curve_)
    assert_array_equal(line.get_xdata(), np.arange(est.n_iter_))
    assert ax.get_xlabel() == "Epoch" and "Loss" in ax.get_ylabel()
    assert ax.get_yscale() == "linear"
    assert plot_loss_curve(est, log=True).get_yscale() == "log"


def test_loss_curve_shows_validation_when_recorded(tutorial):
    X, y = tutorial
    est = _gd(early_stopping=True, validation_fraction=0.2, random_state=0).fit(X, y)
    lines = plot_loss_curve(est).get_lines()
    assert len(lines) == 2
    assert_array_equal(lines[1].get_ydata(), est.validation_loss_curve_)


def test_loss_curve_from_a_list_and_from_a_pipeline(tutorial):
    X, y = tutorial
    assert_array_equal(plot_loss_curve([3.0, 2.0]).get_lines()[0].get_ydata(), [3.0, 2.0])
    pipe = _fit_far(make_pipeline(StandardScaler(), _gd()), X, y)
    assert_array_equal(plot_loss_curve(pipe).get_lines()[0].get_ydata(),
                       pipe[-1].loss_curve_)
    with pytest.raises(ValueError, match="fit it first"):
        plot_loss_curve(_gd())


def test_plot_training_is_fit_and_loss(tutorial):
    X, y = tutorial
    est = _fit_far(_gd(), X, y)
    fig = plot_training(est, X, y)
    ax_fit, ax_loss = fig.axes
    line = ax_fit.get_lines()[-1]
    assert_allclose(line.get_ydata(), est.predict(line.get_xdata().reshape(-1, 1)))
    assert_array_equal(ax_loss.get_lines()[0].get_ydata(), est.loss_curve_)


# -- animation --------------------------------------------------------------------------
def _frames(est, X, y, n_points):
    """``(update, n_frames, fig)`` of the animation, as both public functions draw it."""
    from numpynn._plotting import learning_frames

    fig = plt.figure(figsize=(6, 3))
    update, n_frames = learning_frames(est, X, y, fig, n_points, False)
    return update, n_frames, fig


@pytest.mark.parametrize("make", [
    lambda: _gd(max_iter=7),
    lambda: make_pipeline(StandardScaler(), TwoLayerNet(
        hidden_units=4, max_iter=6, tol=None, alpha=0.0, batch_size=None, random_state=0)),
    lambda: make_pipeline(StandardScaler(), TwoLayerNet(
        hidden_units=3, max_iter=5, tol=None, alpha=0.0, batch_size=None, optimizer="sgd",
        learning_rate=0.3)),                                  # random_state=None
])
def test_each_frame_draws_the_line_whose_loss_its_title_prints(make):
    # X is the grid itself, so the drawn line is the predictions at the data and
    # its half-MSE can be computed independently of the code drawing it.
    X = np.linspace(-2.0, 3.0, 40).reshape(-1, 1)
    y = 3.0 * X[:, 0] - 1.0 + np.sin(5 * X[:, 0])
    est = make()
    update, n_frames, fig = _frames(est, X, y, n_points=40)
    line = fig.axes[0].get_lines()[0]
    assert_array_equal(line.get_xdata(), X[:, 0])
    n_epochs, drawn = n_frames - 1, []
    for k in range(n_frames):
        update(k)
        title = fig.get_suptitle()
        loss = 0.5 * np.mean((line.get_ydata() - y) ** 2)
        if k < n_epochs:
            assert f"epoch {k} of {n_epochs - 1}" in title
            printed = float(re.search(r"loss (\S+)$", title).group(1))
            assert loss == pytest.approx(printed, rel=1e-3)           # 4 significant digits
            drawn.append(loss)
        else:
            assert "trained model" in title
    final = est[-1] if hasattr(est, "steps") else est
    if final.random_state is None:
        return                  # unseeded: no second fit can replay it, the titles must do
    ref = clone(est).fit(X, y)
    # Frame k is gradient descent before its k-th update, frame 0 the starting point.
    ref_curve = ref[-1].loss_curve_ if hasattr(ref, "steps") else ref.loss_curve_
    assert_allclose(drawn, ref_curve, rtol=1e-10)
    assert_allclose(line.get_ydata(), ref.predict(X), rtol=1e-10, atol=1e-12)


def test_first_frame_of_linear_regression_is_m_b_zero(tutorial):
    X, y = tutorial
    update, n_frames, fig = _frames(_gd(max_iter=3), X, y, n_points=50)
    update(0)
    assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), np.zeros(50))
    assert fig.get_suptitle().endswith(f"loss {0.5 * np.mean(y ** 2):.4g}")
    assert n_frames == 4


def test_animation_gif_holds_the_trained_model(tutorial, tmp_path):
    X, y = tutorial
    est = _gd(max_iter=7)
    fig = plt.figure(figsize=(6, 3))
    anim = animate_training(est, X, y, fig=fig, interval=100, hold=1.5)
    anim.save(tmp_path / "a.gif", writer="pillow", dpi=30)
    ref = _fit_far(clone(est), X, y)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == ref.n_iter_ + 1 == 8                   # repeats merged
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == 1500
    # After saving, the figure shows the last frame: the fitted line and loss_curve_.
    ax_fit, ax_loss = fig.axes
    line = ax_fit.get_lines()[0]
    assert_allclose(line.get_ydata(), ref.predict(line.get_xdata().reshape(-1, 1)))
    assert_allclose(ax_loss.get_lines()[0].get_ydata(), ref.loss_curve_)
    assert not hasattr(est, "coef_")                                  # a clone was fitted


def test_save_training_gif_frames_move_and_the_last_stays(tutorial, tmp_path):
    X, y = tutorial
    user_cb = []
    est = _gd(max_iter=5, callbacks=[lambda e, logs: user_cb.append(logs["epoch"])])
    n = save_training_gif(est, X, y, tmp_path / "b.gif", dpi=30, fps=10, hold=2.0)
    frames, durations = [], []
    with Image.open(tmp_path / "b.gif") as gif:
        assert n == gif.n_frames == 6
        for k in range(n):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
            durations.append(gif.info["duration"])
    assert all(np.abs(a - b).sum() > 0 for a, b in zip(frames, frames[1:], strict=False))
    assert durations == [100] * 5 + [2000]
    assert len(est.callbacks) == 1                                     # param untouched


def test_animation_of_a_network_in_a_pipeline(tutorial, tmp_path):
    X, y = tutorial
    net = make_pipeline(StandardScaler(), TwoLayerNet(hidden_units=4, max_iter=6, tol=None,
                                                      random_state=0))
    assert save_training_gif(net, X, y, tmp_path / "c.gif", dpi=30) == 7


def test_animation_needs_epochs(tutorial):
    X, y = tutorial
    with pytest.raises(ValueError, match="no epochs"):
        animate_training(LinearRegressor(solver="lstsq"), X, y)


# -- loss surface --------------------------------------------------------------------------
def test_surface_path_is_the_recorded_parameters(tutorial):
    X, y = tutorial
    est = _gd()
    ax = plot_loss_surface(est, X, y)
    ref, seen = _record_params(est, X, y)
    path = _gid(ax, "gd_path").get_xydata()
    assert_allclose(path[0], [0.0, 0.0])
    assert_allclose(path[1:], seen)
    assert len(seen) == ref.n_iter_
    lo = np.array([ax.get_xlim()[0], ax.get_ylim()[0]])
    hi = np.array([ax.get_xlim()[1], ax.get_ylim()[1]])
    assert np.all(path >= lo) and np.all(path <= hi)                   # nothing clipped


@pytest.mark.parametrize("alpha", [0.0, 5.0])
def test_newton_step_lands_on_the_least_squares_solution(tutorial, alpha):
    X, y = tutorial
    ax = plot_loss_surface(_gd(alpha=alpha), X, y)
    step = _gid(ax, "newton_step")
    sk = (Ridge(alpha=alpha) if alpha else LinearRegression()).fit(X, y)
    assert_allclose(step.xyann, [0.0, 0.0])
    assert_allclose(step.xy, [sk.coef_[0], sk.intercept_], rtol=1e-9)
    # The lowest contour level is the loss at the minimum.
    params = {"W1": np.array([[sk.coef_[0]]]), "b1": np.array([sk.intercept_])}
    L_min = compute_loss(y, sk.predict(X).reshape(-1, 1), params=params, alpha=alpha)
    assert_allclose(ax.collections[0].levels[0], L_min, rtol=1e-9)
    lo, hi = ax.get_xlim(), ax.get_ylim()
    assert lo[0] < step.xy[0] < lo[1] and hi[0] < step.xy[1] < hi[1]


def test_surface_colour_bar_is_readable_near_the_minimum(tutorial):
    X, y = tutorial
    ax = plot_loss_surface(_gd(max_iter=61), X, y)
    filled = ax.collections[0]
    levels = np.asarray(filled.levels)
    excess = levels[1:] - levels[0]
    assert_allclose(excess[1:] / excess[:-1], excess[1] / excess[0], rtol=1e-9)  # geometric
    assert excess[0] < 2e-3 * excess[-1]
    # Every band its own colour, the ones near the minimum too.
    mids = (levels[1:] + levels[:-1]) / 2
    colours = {tuple(np.round(filled.cmap(filled.norm(v)), 6)) for v in mids}
    assert len(colours) == len(mids)
    # The colour bar labels levels down near the minimum, where descent ends.
    bar = ax.figure.axes[-1]
    ticks = np.array([t for t in bar.get_yticks() if levels[0] <= t <= levels[-1]])
    assert np.sum(ticks - levels[0] < 0.01 * excess[-1]) >= 3
    assert all(lbl.get_text() for lbl in bar.get_yticklabels())


@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_loss_grid_is_compute_loss_at_every_point(tutorial, alpha):
    from numpynn._plotting import loss_grid, quadratic_loss

    X, y = tutorial
    L0, g, H, theta_min, L_min = quadratic_loss(X, y, alpha)
    M, B, Z = loss_grid(L0, g, H, (-50.0, -20.0), (120.0, 30.0), 7)
    for m, b, z in zip(M.ravel(), B.ravel(), Z.ravel(), strict=True):
        params = {"W1": np.array([[m]]), "b1": np.array([b])}
        assert_allclose(z, compute_loss(y, m * X + b, params=params, alpha=alpha), rtol=1e-10)
    assert np.all(Z >= L_min)


def test_surface_needs_one_feature_and_the_bare_model(tutorial):
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="one feature"):
        plot_loss_surface(_gd(), X, y)
    with pytest.raises(ValueError, match="not a Pipeline"):
        plot_loss_surface(make_pipeline(StandardScaler(), _gd()), *tutorial)


def test_plot_fit_needs_one_output(tutorial):
    X, y = tutorial
    Y = np.column_stack([y, -y])
    with pytest.raises(ValueError, match="one-output"):
        plot_fit(LinearRegressor(solver="lstsq").fit(X, Y), X, y)


# -- hidden units --------------------------------------------------------------------------
def test_hidden_units_sum_to_predict(tutorial):
    X, y = tutorial
    h = 4
    net = make_pipeline(StandardScaler(), TwoLayerNet(hidden_units=h, max_iter=40, tol=None,
                                                      random_state=1)).fit(X, y)
    ax = plot_hidden_units(net, X, y)
    units = [_gid(ax, f"unit{i}") for i in range(h)]
    x = units[0].get_xdata()
    pred = net.predict(x.reshape(-1, 1))
    total = sum(u.get_ydata() for u in units) + _gid(ax, "bias").get_ydata()
    assert_allclose(total, pred, rtol=1e-10, atol=1e-10)
    assert_allclose(_gid(ax, "sum").get_ydata(), pred, rtol=1e-10, atol=1e-10)
    # Each curve is n_i * relu(m_i * x_scaled + b_i), written out independently.
    scaler, model = net[0], net[-1]
    xs = (x - scaler.mean_[0]) / scaler.scale_[0]
    (W1, W2), (b1, _) = model.coefs_, model.intercepts_
    for i, u in enumerate(units):
        assert_allclose(u.get_ydata(), W2[i, 0] * np.maximum(W1[0, i] * xs + b1[i], 0.0),
                        atol=1e-12)
    assert x[0] == X.min() and x[-1] == X.max()


def test_hidden_units_through_an_affine_target_transform(tutorial):
    # Units are drawn on the target's own scale: scaled by the transform, bias shifted.
    X, y = tutorial
    h = 3
    model = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), TwoLayerNet(
            hidden_units=h, max_iter=40, tol=None, random_state=1)),
        transformer=StandardScaler()).fit(X, 1e6 + 1e3 * y)
    ax = plot_hidden_units(model, X, 1e6 + 1e3 * y)
    x = _gid(ax, "sum").get_xdata()
    pred = model.predict(x.reshape(-1, 1))
    units = [_gid(ax, f"unit{i}").get_ydata() for i in range(h)]
    assert_allclose(sum(units) + _gid(ax, "bias").get_ydata(), pred, rtol=1e-10)
    assert_allclose(_gid(ax, "sum").get_ydata(), pred, rtol=1e-10)
    scaler, net = model.regressor_[0], model.regressor_[-1]
    t_scale = model.transformer_.scale_[0]
    (W1, W2), (b1, b2) = net.coefs_, net.intercepts_
    xs = (x - scaler.mean_[0]) / scaler.scale_[0]
    for i in range(h):
        assert_allclose(units[i], t_scale * W2[i, 0] * np.maximum(W1[0, i] * xs + b1[i], 0.0),
                        atol=1e-6)
    assert_allclose(_gid(ax, "bias").get_ydata(),
                    model.transformer_.mean_[0] + t_scale * b2[0])
    assert "TwoLayerNet" in ax.get_title()


def test_hidden_units_refuse_a_curved_target_transform(tutorial):
    X, y = tutorial
    model = TransformedTargetRegressor(
        regressor=TwoLayerNet(hidden_units=2, max_iter=5, tol=None, random_state=0),
        func=np.log, inverse_func=np.exp).fit(X, np.exp(y / 100))
    with pytest.raises(ValueError, match="affine"):
        plot_hidden_units(model, X, y)


def test_hidden_units_need_one_input():
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    net = TwoLayerNet(hidden_units=2, max_iter=2, tol=None, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="one-input"):
        plot_hidden_units(net, X, y)


def test_import_numpynn_does_not_import_matplotlib():
    code = ("import sys, numpynn, numpynn.plotting, numpynn.datasets; "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_plotting_and_parallel_load_lazily_from_the_package():
    code = ("import sys, numpynn\n"
            "assert 'matplotlib' not in sys.modules and 'dask' not in sys.modules\n"
            "assert 'numpynn.plotting' not in sys.modules\n"
            "assert callable(numpynn.plotting.plot_fit)\n"
            "assert callable(numpynn.parallel.fit_lstsq_dask)\n"
            "assert 'matplotlib.pyplot' not in sys.modules and 'dask' not in sys.modules\n"
            "assert {'plotting', 'parallel'} <= set(dir(numpynn))\n"
            "try:\n"
            "    numpynn.no_such_thing\n"
            "except AttributeError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "module 'numpynn' has no attribute 'no_such_thing'"


def _band(ax, gid):
    """``(x, lower, upper)`` of a fill_between band, from its polygon."""
    (poly,) = [c for c in ax.collections if c.get_gid() == gid]
    xs, ys = poly.get_paths()[0].vertices.T
    grid = np.unique(xs)
    lower = np.array([ys[xs == g].min() for g in grid])
    upper = np.array([ys[xs == g].max() for g in grid])
    return grid, lower, upper


def test_plot_fit_bands_equal_statsmodels_intervals():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    x = rng.uniform(1970, 2020, 40)
    y = 0.15 * (x - 1970) + 3 + rng.normal(scale=0.4, size=40)
    reg = LinearRegressor(solver="lstsq").fit(x[:, None], y)
    ax = plot_fit(reg, x[:, None], y, interval="both", alpha=0.1)
    ref = sm.OLS(y, sm.add_constant(x)).fit()
    for gid, cols in (("confidence", ["mean_ci_lower", "mean_ci_upper"]),
                      ("prediction", ["obs_ci_lower", "obs_ci_upper"])):
        grid, lower, upper = _band(ax, gid)
        frame = ref.get_prediction(sm.add_constant(grid)).summary_frame(alpha=0.1)
        assert_allclose(lower, frame[cols[0]], rtol=1e-9)
        assert_allclose(upper, frame[cols[1]], rtol=1e-9)
    plt.close(ax.figure)


def test_plot_fit_bands_are_refused_where_undefined():
    X, y = make_regression(n_samples=30, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="interval must be None"):
        plot_fit(LinearRegressor(solver="lstsq").fit(X[:, :1], y), X[:, :1], y, interval="ci")
    with pytest.raises(ValueError, match="one feature"):
        plot_fit(LinearRegressor(solver="lstsq").fit(X, y), X, y, interval="both")
    with pytest.raises(ValueError, match="Bands need a LinearRegressor"):
        plot_fit(TwoLayerNet(), X[:, :1], y, interval="prediction")
    gd = LinearRegressor(solver="gd").fit(X[:, :1], y)
    with pytest.raises(ValueError, match="solver='gd'"):
        plot_fit(gd, X[:, :1], y, interval="confidence")
    assert plt.get_fignums() == []                       # refused before drawing
