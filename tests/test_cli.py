"""The ``numpynn`` command: the demo (run once in-process), help, version, output checks, Ctrl-C.

``numpynn fit`` and ``predict`` are tested in test_cli_data.py and test_cli_fit.py.
"""

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.datasets import make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import numpynn  # noqa: E402
import numpynn._cli_demo as cli  # noqa: E402
from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn.__main__ import main  # noqa: E402
from numpynn.datasets import load_moore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]         # this checkout, imported first
FILES = ["fit.png", "loss.png", "loss_surface.png", "learning.gif", "moore.png",
         "moore_relu_bend.png"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``main(["demo", "--out", DIR])`` once: (DIR, exit status, stdout, figures).

    ``figures`` maps each PNG's name to the Figure it was saved from.
    """
    out = tmp_path_factory.mktemp("demo") / "nested" / "out"
    capture = pytest.MonkeyPatch()
    buf = io.StringIO()
    figures, save = {}, cli.save_figure

    def keep(fig, path):
        figures[Path(path).name] = fig
        return save(fig, path)

    capture.setattr(sys, "stdout", buf)
    capture.setattr(cli, "save_figure", keep)
    try:
        status = main(["demo", "--out", str(out)])
    finally:
        capture.undo()
    return out, status, buf.getvalue(), figures


def test_demo_writes_the_files_it_names(demo_run):
    out, status, text, _ = demo_run
    assert status == 0
    for name in FILES:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000
        assert str(path) in text                                     # says where it went
    for name in FILES[:-1]:
        if name.endswith(".png"):
            with Image.open(out / name) as image:
                assert image.size[0] >= 400
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_gif_has_one_frame_per_epoch_and_the_trained_model(demo_run):
    out, _, _, _ = demo_run
    with Image.open(out / "learning.gif") as gif:
        assert gif.n_frames == 61 + 1


def _tutorial_fit(X, y):
    """The tutorial's fit; its 61 epochs end above the minimum and say so."""
    with pytest.warns(ConvergenceWarning, match="tol=None ran all 61 epochs"):
        return LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X, y)


def test_the_demo_prints_how_far_61_epochs_stop_from_the_minimum(demo_run):
    _, _, text, _ = demo_run
    X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    gap = float(re.search(r"numpynn's ConvergenceWarning: LinearRegressor: tol=None ran all "
                          r"61 epochs, but the loss is still (\S+) above its minimum",
                          text).group(1))
    gd, exact = _tutorial_fit(X_tr, y_tr), LinearRegression().fit(X_tr, y_tr)
    excess = 0.5 * (np.mean((y_tr - gd.predict(X_tr)) ** 2)
                    - np.mean((y_tr - exact.predict(X_tr)) ** 2))
    assert gap == pytest.approx(excess, rel=1e-3)


def test_epoch_log_matches_the_loss_curve(demo_run):
    _, _, text, _ = demo_run
    X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    ref = _tutorial_fit(X_tr, y_tr)
    logged = re.findall(r"^Epoch: (\d+)  Loss = ([\d.]+)$", text, flags=re.M)
    assert [int(k) for k, _ in logged] == list(range(0, 61, 10))
    for k, loss in logged:
        assert float(loss) == pytest.approx(ref.loss_curve_[int(k)], rel=1e-6)


def test_reports_metrics_and_moores_law(demo_run):
    _, _, text, _ = demo_run
    assert re.search(r"half-MSE = \d+\.\d+, R\^2 = 0\.9\d+", text)
    assert "mean absolute percentage error" in text and "Accuracy" in text
    doubling = float(re.search(r"= (\d+\.\d+) years", text).group(1))
    assert 1.8 < doubling < 2.3
    # the interval is the slope's t interval mapped through log10(2) / slope
    lo, hi = map(float, re.search(r"95% confidence interval of the doubling time: "
                                  r"(\d+\.\d+) to (\d+\.\d+) years", text).groups())
    X, counts = load_moore(return_X_y=True)
    x, y = X[:, 0], np.log10(counts)
    slope, icpt = np.polyfit(x, y, 1)
    se = np.sqrt(np.sum((y - slope * x - icpt) ** 2) / (len(y) - 2)
                 / np.sum((x - x.mean()) ** 2))
    t = stats.t.ppf(0.975, len(y) - 2)
    assert (lo, hi) == (round(np.log10(2) / (slope + t * se), 2),
                        round(np.log10(2) / (slope - t * se), 2))
    assert lo < doubling < hi
    # On the linear scale the ReLU units beat a straight line by far.
    line = float(re.search(r"straight line .*R\^2 = (-?\d\.\d+)", text).group(1))
    net = float(re.search(r"TwoLayerNet, \d ReLU units .*R\^2 = (\d\.\d+)", text).group(1))
    talk = float(re.search(r"the talk's hand-set units .*R\^2 = (-?\d\.\d+)", text).group(1))
    assert net > 0.65 and line < 0.35 and net > talk > line


@pytest.fixture(scope="module")
def moore_net():
    """The demo's linear-scale network, refitted: (X, counts in billions, pipeline)."""
    X, counts = load_moore(return_X_y=True)
    y = counts / 1e9
    return X, y, make_pipeline(StandardScaler(), TwoLayerNet(**cli.MOORE_NET)).fit(X, y)


def _gid(ax, gid):
    return next(line for line in ax.get_lines() if line.get_gid() == gid)


def test_moore_relu_bend_draws_the_network_and_its_units(demo_run, moore_net):
    _, _, text, figures = demo_run
    X, y, net = moore_net
    (ax,) = figures["moore_relu_bend.png"].axes
    assert ax.get_yscale() == "linear" and "billions" in ax.get_ylabel()
    assert_allclose(ax.collections[0].get_offsets(), np.column_stack([X[:, 0], y]))
    total = _gid(ax, "sum")
    x = total.get_xdata()
    assert_allclose(total.get_ydata(), net.predict(x.reshape(-1, 1)), rtol=1e-10, atol=1e-12)
    units = [_gid(ax, f"unit{i}") for i in range(cli.MOORE_UNITS)]
    assert_allclose(sum(u.get_ydata() for u in units) + _gid(ax, "bias").get_ydata(),
                    total.get_ydata(), rtol=1e-10, atol=1e-12)
    # Bending upwards: every unit is a hinge that switches on inside the data and
    # only grows, so the sum is convex; each switch is marked on the curve.
    for u in units:
        yu = u.get_ydata()
        assert yu[0] == 0.0 and yu[-1] > 0.0 and np.all(np.diff(yu) >= 0.0)
    assert np.all(np.diff(total.get_ydata(), 2) >= -1e-9)
    kinks = _gid(ax, "kinks")
    assert len(kinks.get_xdata()) == cli.MOORE_UNITS
    assert_allclose(kinks.get_ydata(), net.predict(kinks.get_xdata().reshape(-1, 1)))
    assert f"R^2 = {net.score(X, y):.4f}" in text


def test_moore_relu_bend_draws_the_line_and_the_talks_units(demo_run, moore_net):
    _, _, _, figures = demo_run
    X, y, _ = moore_net
    (ax,) = figures["moore_relu_bend.png"].axes
    line = _gid(ax, "line")
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert_allclose(line.get_ydata(), slope * line.get_xdata() + intercept, rtol=1e-8)
    talk = _gid(ax, "talk")
    x = talk.get_xdata() - 1970                                   # the talk's x, thousands
    thousands = (1e4 * np.maximum(x, 0) + 1e5 * np.maximum(x - 35, 0)
                 + 7.5e5 * np.maximum(x - 40, 0))
    assert_allclose(talk.get_ydata(), thousands * 1e3 / 1e9)
    assert "talk" in talk.get_label()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("straight line" in t for t in labels) and any("on from" in t for t in labels)
    lo, hi = ax.get_ylim()                                        # nothing clipped
    assert lo <= min(line.get_ydata().min(), 0.0) and hi >= y.max()



def _tutorial_split():
    X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    return train_test_split(X, y, test_size=0.2, random_state=42)


def test_fit_png_shows_the_exact_line_beside_gradient_descent(demo_run):
    _, _, text, figures = demo_run
    X_tr, X_te, y_tr, y_te = _tutorial_split()
    (ax,) = figures["fit.png"].axes
    gd = _tutorial_fit(X_tr, y_tr)
    m, b = np.polyfit(X_tr[:, 0], y_tr, 1)                          # the exact line
    exact, descent = _gid(ax, "lstsq"), _gid(ax, "gd")
    assert_allclose(exact.get_ydata(), m * exact.get_xdata() + b, rtol=1e-9)
    assert_allclose(descent.get_ydata(), gd.predict(descent.get_xdata().reshape(-1, 1)))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert b > 0 and gd.intercept_ > 0
    assert f"exact least squares: y = {m:.2f} x + {b:.2f}" in labels
    assert (f"gradient descent, 61 epochs: y = {gd.coef_[0]:.2f} x + {gd.intercept_:.2f}"
            in labels)
    assert f"exact least squares: m = {m:.6f}" in text
    assert_allclose(ax.collections[0].get_offsets(), np.column_stack([X_te[:, 0], y_te]))


def test_loss_png_marks_the_minimum(demo_run):
    _, _, _, figures = demo_run
    X_tr, _, y_tr, _ = _tutorial_split()
    (ax,) = figures["loss.png"].axes
    m, b = np.polyfit(X_tr[:, 0], y_tr, 1)
    floor = 0.5 * np.mean((m * X_tr[:, 0] + b - y_tr) ** 2)
    minimum = _gid(ax, "minimum")
    assert_allclose(minimum.get_ydata(), [floor, floor], rtol=1e-9)
    curve = ax.get_lines()[0].get_ydata()
    assert curve.min() > floor                                       # not reached yet
    assert _contains(ax.get_ylim(), [floor, curve.max()])


def _contains(lims, values):
    return min(lims) <= min(values) and max(values) <= max(lims)


def test_demo_says_why_mape_is_large(demo_run):
    _, _, text, _ = demo_run
    X_tr, X_te, y_tr, y_te = _tutorial_split()
    pred = _tutorial_fit(X_tr, y_tr) \
        .predict(X_te)
    i = np.argmin(np.abs(y_te))
    ape = np.abs(y_te - pred) / np.abs(y_te)
    found = re.search(r"MAPE divides each error by \|y\|.* y = (-?[\d.]+), is missed by "
                      r"([\d.]+), i\.e\. by (\d+)%: that one sample of (\d+) adds ([\d.]+) "
                      r"points", text)
    assert found
    assert float(found.group(1)) == pytest.approx(y_te[i], abs=0.006)
    assert float(found.group(2)) == pytest.approx(abs(y_te[i] - pred[i]), abs=0.006)
    assert int(found.group(3)) == round(100 * ape[i]) and ape[i] > 1.0    # over 100 %
    assert int(found.group(4)) == len(y_te)
    assert float(found.group(5)) == pytest.approx(100 * ape[i] / len(y_te), abs=0.06)


def test_moore_relu_bend_legend_is_off_the_data_and_the_x_axis_named(demo_run, moore_net):
    _, _, _, figures = demo_run
    X, y, net = moore_net
    fig = figures["moore_relu_bend.png"]
    (ax,) = fig.axes
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = ax.transData.transform(np.column_stack([X[:, 0], y]))
    assert not box.count_contains(points)
    for line in ax.get_lines():                                   # nor on any curve
        assert not box.count_contains(ax.transData.transform(line.get_xydata())), \
            line.get_gid()
    mean, scale = net[0].mean_[0], net[0].scale_[0]
    assert ax.get_xlabel().startswith("year of introduction")
    assert f"x = (year - {mean:.1f}) / {scale:.1f}" in ax.get_xlabel()


# -- the command itself ---------------------------------------------------------------
def test_help_runs_as_a_module_from_any_cwd(tmp_path):
    out = subprocess.run([sys.executable, "-m", "numpynn", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0
    assert all(cmd in out.stdout for cmd in ("demo", "fit", "predict"))


@pytest.mark.parametrize("argv", [[], ["-m", "numpynn"]])
def test_bare_command_prints_the_help_and_succeeds(argv, capsys):
    if argv:                                    # python -m numpynn, in a subprocess
        out = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                             timeout=120, cwd=ROOT)
        status, stdout, stderr = out.returncode, out.stdout, out.stderr
    else:
        status = main([])
        stdout, stderr = capsys.readouterr()
    assert status == 0 and stderr == ""
    assert stdout.startswith("usage: numpynn")
    assert all(cmd in stdout for cmd in ("demo", "fit", "predict", "--version"))


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"numpynn {numpynn.__version__}\n"


def test_demo_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    help_text = capsys.readouterr().out
    assert "--out" in help_text and "--no-gif" in help_text


def test_default_out_is_relative_to_the_cwd():
    from numpynn.__main__ import _parser

    # Parser only: the demo itself runs once, in demo_run.
    assert _parser().parse_args(["demo"]).out == Path("numpynn-demo")
    assert _parser().parse_args(["fit", "d.csv", "--target", "y"]).out == Path("numpynn-fit")


def test_no_gif_skips_the_gif(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "demo", lambda out, gif: seen.update(out=out, gif=gif) or 0)
    assert main(["demo", "--no-gif", "--out", str(tmp_path)]) == 0
    assert seen == {"out": tmp_path.resolve(), "gif": False}
    X_tr, _, y_tr, _ = _tutorial_split()
    files = cli._surface_and_gif(tmp_path, X_tr, y_tr, gif=False)
    assert [p.name for p, _ in files] == ["loss_surface.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss_surface.png"]


def _unwritable_folder(tmp_path):
    """An existing folder this process cannot write into.

    Permission bits stop a normal user but not root (tests often run as root,
    e.g. in containers); Linux's sysfs refuses new files to root as well.
    """
    if os.geteuid() != 0:
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if Path("/sys/kernel").is_dir():
        return Path("/sys/kernel")
    pytest.skip("running as root without /sys: no folder refuses root's writes")


@pytest.mark.parametrize("command", [["demo"], ["fit", "no-such-data.csv", "--target", "y"]])
@pytest.mark.parametrize("where", ["under_a_file", "a_file", "read_only"])
def test_unwritable_out_is_a_one_line_error_before_any_work(tmp_path, capsys, command, where):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = {"under_a_file": blocker / "sub", "a_file": blocker,
           "read_only": None}[where] or _unwritable_folder(tmp_path)
    assert main([*command, "--out", str(out)]) == 1
    stdout, stderr = capsys.readouterr()
    assert stdout == ""                                   # no work was done
    assert stderr.startswith(f"numpynn {command[0]}: cannot write to {out}: ")
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


def test_ctrl_c_during_the_demo_exits_130_without_a_traceback(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "numpynn", "demo", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()                 # the demo has started
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert first.startswith("== The tutorial")
    assert proc.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.strip().endswith("numpynn demo: interrupted")
    assert stderr.count("\n") <= 3


def test_ctrl_c_during_training_ends_the_run(tmp_path, monkeypatch, capsys):
    # Training turns a KeyboardInterrupt into "keep the last epoch"; on the command
    # line Ctrl-C must end the run instead, with nothing written.
    import numpynn._cli_fit as fit_cli

    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{x},{2 * x + 1}" for x in rng.normal(size=50))
    data.write_text("x,y\n" + rows + "\n")
    epochs = []

    def ctrl_c_at_epoch_3(est, logs):
        epochs.append(logs["epoch"])
        if logs["epoch"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    make = fit_cli.make_model

    def make_with_callback(*args, **kwargs):
        model = make(*args, **kwargs)
        model[-1].set_params(callbacks=[ctrl_c_at_epoch_3], verbose=False, tol=None)
        return model

    monkeypatch.setattr(fit_cli, "make_model", make_with_callback)
    before = signal.getsignal(signal.SIGINT)
    status = main(["fit", str(data), "--target", "y", "--out", str(tmp_path / "out")])
    assert status == 130
    assert epochs == [1, 2, 3]                             # stopped at once
    assert capsys.readouterr().err.strip() == "numpynn fit: interrupted"
    assert list((tmp_path / "out").iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is before       # handler restored
