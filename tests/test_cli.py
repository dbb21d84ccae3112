"""The ``numpynn demo`` command: run once in-process, check what it says and writes."""

import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import make_regression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from numpynn import LinearRegressor  # noqa: E402
from numpynn.__main__ import main  # noqa: E402

FILES = ["fit.png", "loss.png", "loss_surface.png", "learning.gif", "moore.png",
         "moore_hidden_units.png"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``main(["demo", "--out", DIR])`` once: (DIR, exit status, stdout)."""
    out = tmp_path_factory.mktemp("demo") / "nested" / "out"
    capture = pytest.MonkeyPatch()
    buf = io.StringIO()
    capture.setattr(sys, "stdout", buf)
    try:
        status = main(["demo", "--out", str(out)])
    finally:
        capture.undo()
    return out, status, buf.getvalue()


def test_demo_writes_the_files_it_names(demo_run):
    out, status, text = demo_run
    assert status == 0
    for name in FILES:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000
        assert str(path) in text                                     # says where it went
    for name in FILES[:-1]:
        if name.endswith(".png"):
            assert Image.open(out / name).size[0] >= 400
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_gif_has_one_frame_per_epoch(demo_run):
    out, _, _ = demo_run
    assert Image.open(out / "learning.gif").n_frames == 61


def test_epoch_log_matches_the_loss_curve(demo_run):
    _, _, text = demo_run
    X, y = make_regression(n_samples=200, n_features=1, noise=10, random_state=42)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.2, random_state=42)
    ref = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X_tr, y_tr)
    logged = re.findall(r"^Epoch: (\d+)  Loss = ([\d.]+)$", text, flags=re.M)
    assert [int(k) for k, _ in logged] == list(range(0, 61, 10))
    for k, loss in logged:
        assert float(loss) == pytest.approx(ref.loss_curve_[int(k)], rel=1e-6)


def test_reports_metrics_and_moores_law(demo_run):
    _, _, text = demo_run
    assert re.search(r"half-MSE = \d+\.\d+, R\^2 = 0\.9\d+", text)
    assert "mean absolute percentage error" in text and "Accuracy" in text
    doubling = float(re.search(r"= (\d+\.\d+) years", text).group(1))
    assert 1.8 < doubling < 2.3
    assert re.search(r"TwoLayerNet, \d+ ReLU units .*R\^2 = 0\.9\d+", text)


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
