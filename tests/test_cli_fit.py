"""``numpynn fit`` then ``numpynn predict``, end to end through the saved model file.

These save a Pipeline (and a TransformedTargetRegressor) with numpynn.save
and read it back with numpynn.load; everything before saving is tested in
test_cli_data.py.
"""

import io
import json
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_array_equal  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import numpynn  # noqa: E402
from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn import _cli_fit as fit_cli  # noqa: E402
from numpynn.__main__ import main  # noqa: E402

COLUMNS = ["size", "rooms", "age"]


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    """A CSV of 80 houses: price from size, rooms and age, plus a text column."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 200, 80), rng.integers(1, 6, 80),
                         rng.uniform(0, 50, 80)])
    y = 3 * X[:, 0] - 2 * X[:, 1] - 0.5 * X[:, 2] + 5 + rng.normal(0, 4, 80)
    path = tmp_path_factory.mktemp("data") / "houses.csv"
    rows = [",".join(repr(float(v)) for v in row) for row in np.column_stack([X, y])]
    path.write_text("size,rooms,age,price\n" + "\n".join(rows) + "\n")
    return path, X, y


@pytest.fixture(scope="module", params=["linear", "net"])
def fitted(request, houses, tmp_path_factory):
    """``numpynn fit`` run once per model: (kind, out folder, its stdout)."""
    path, _, _ = houses
    out = tmp_path_factory.mktemp(request.param) / "out"
    extra = ["--hidden-units", "6", "--max-iter", "40"] if request.param == "net" else []
    capture = pytest.MonkeyPatch()
    buf = io.StringIO()
    capture.setattr(sys, "stdout", buf)
    try:
        status = main(["fit", str(path), "--target", "price", "--model", request.param,
                       "--random-state", "1", "--out", str(out), *extra])
    finally:
        capture.undo()
    assert status == 0
    return request.param, out, buf.getvalue()


def _same_fit(kind, X, y):
    """The model ``numpynn fit`` trained, refitted in memory with the same settings."""
    opts = {"hidden_units": 6, "max_iter": 40} if kind == "net" else {}
    solver = fit_cli.SOLVERS[kind][0]
    model = fit_cli.make_model(kind, solver, random_state=1, **opts)
    return fit_cli.fit_and_score(model, X, y, COLUMNS, test_size=0.2, random_state=1)


def test_fit_writes_the_model_metrics_and_pictures(fitted, houses):
    kind, out, text = fitted
    assert sorted(p.name for p in out.iterdir()) == sorted(fit_cli.FILES)
    for name in ("fit.png", "loss.png", "residuals.png"):
        with Image.open(out / name) as image:
            assert image.size[0] >= 500
    metrics = json.loads((out / "metrics.json").read_text())
    _, X, y = houses
    ref = _same_fit(kind, X, y).metrics
    assert metrics["features"] == COLUMNS and metrics["target"] == "price"
    for part in ("train", "test"):
        assert metrics[part] == pytest.approx(ref[part], rel=1e-12)
    assert metrics["n_iter"] == ref["n_iter"] and metrics["n_test"] == 16
    assert f"{metrics['test']['r2']:.4f}" in text and str(out) in text


def test_the_saved_model_is_the_fitted_one_scalers_included(fitted, houses):
    kind, out, _ = fitted
    _, X, y = houses
    model = numpynn.load(out / "model.npz")
    if kind == "net":
        assert isinstance(model, TransformedTargetRegressor)
        assert isinstance(model.transformer_, StandardScaler)
        pipe = model.regressor_
        assert isinstance(pipe[-1], TwoLayerNet)
    else:
        pipe = model
        assert isinstance(pipe[-1], LinearRegressor)
    assert isinstance(pipe, Pipeline) and isinstance(pipe[0], StandardScaler)
    assert list(model.feature_names_in_) == COLUMNS
    ref = _same_fit(kind, X, y).model
    assert_array_equal(fit_cli.predict(model, X), ref.predict(X))     # bit-identical


def test_predict_prints_full_precision_matched_by_name(fitted, houses, tmp_path, capsys):
    kind, out, _ = fitted
    _, X, y = houses
    X, y = X.tolist(), y.tolist()                               # Python floats: repr exact
    # Other column order, the target and a text column besides: matched by name.
    lines = [f"{y[i]!r},house {i},{X[i][2]!r},{X[i][0]!r},{X[i][1]!r}"
             for i in range(len(y))]
    data = tmp_path / "new.csv"
    data.write_text("price,name,age,size,rooms\n" + "\n".join(lines) + "\n")
    assert main(["predict", str(out / "model.npz"), str(data)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "prediction" and len(printed) == len(y) + 1
    expected = fit_cli.predict(numpynn.load(out / "model.npz"), np.array(X))
    assert_array_equal([float(v) for v in printed[1:]], expected)        # round-trips
    assert main(["predict", str(out / "model.npz"), str(data),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().splitlines() == printed


def test_predict_names_a_missing_column(fitted, tmp_path, capsys):
    _, out, _ = fitted
    data = tmp_path / "few.csv"
    data.write_text("size,price\n1,2\n")
    assert main(["predict", str(out / "model.npz"), str(data)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"numpynn predict: {data} has no training column 'rooms', 'age'")
    assert err.count("\n") == 1


def test_predict_several_outputs_of_a_model_saved_in_python(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(30, 2))
    Y = np.column_stack([X @ [1.0, 2.0], X @ [-1.0, 0.5], X[:, 0]])
    model = LinearRegressor(solver="lstsq").fit(X, Y)
    numpynn.save(model, tmp_path / "m.npz")
    data = tmp_path / "x.csv"
    data.write_text("a,b\n" + "\n".join(f"{a!r},{b!r}" for a, b in X.tolist()) + "\n")
    assert main(["predict", str(tmp_path / "m.npz"), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction_0,prediction_1,prediction_2"
    back = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert_array_equal(back, model.predict(X))


def test_predict_refuses_a_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "m.npz"
    bogus.write_text("not a model")
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    assert main(["predict", str(bogus), str(data)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"numpynn predict: cannot load the model {bogus}: ")
    assert err.count("\n") == 1
