"""The ``numpynn demo`` command: run once in-process, check what it says and writes."""

import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import make_regression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import numpynn.__main__ as cli  # noqa: E402
from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn.__main__ import main  # noqa: E402
from numpynn.datasets import load_moore  # noqa: E402

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
    figures, save = {}, cli._save

    def keep(fig, path):
        figures[Path(path).name] = fig
        return save(fig, path)

    capture.setattr(sys, "stdout", buf)
    capture.setattr(cli, "_save", keep)
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
            assert Image.open(out / name).size[0] >= 400
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_gif_has_one_frame_per_epoch_and_the_trained_model(demo_run):
    out, _, _, _ = demo_run
    assert Image.open(out / "learning.gif").n_frames == 61 + 1


def test_epoch_log_matches_the_loss_curve(demo_run):
    _, _, text, _ = demo_run
    X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    ref = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X_tr, y_tr)
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


def test_help_runs_as_a_module_from_any_cwd(tmp_path):
    out = subprocess.run([sys.executable, "-m", "numpynn", "--help"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert "demo" in out.stdout


def test_demo_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    assert "--out" in capsys.readouterr().out


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_default_out_is_relative_to_the_cwd():
    from numpynn.__main__ import _parser

    # Parser only: the demo itself runs once, in demo_run.
    assert _parser().parse_args(["demo"]).out == Path("numpynn-demo")


def test_unwritable_out_is_a_clean_error(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert main(["demo", "--out", str(blocker / "sub")]) == 1
    assert "cannot write to" in capsys.readouterr().err
