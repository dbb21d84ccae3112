"""``numpynn fit`` / ``predict`` up to saving: reading CSV, clear errors, metrics, pictures.

Everything here runs without writing a model file; the end-to-end runs that
save and load one are in test_cli_fit.py.
"""

import json
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from numpynn import LinearRegressor, TwoLayerNet  # noqa: E402
from numpynn import _cli_fit as fit_cli  # noqa: E402
from numpynn.__main__ import main  # noqa: E402
from numpynn._cli_figures import fit_figure, loss_figure, residuals_figure  # noqa: E402
from numpynn._cli_io import CliError, numeric, read_table, write_predictions  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def linear_csv(tmp_path):
    """60 rows of price = 3 size - 2 rooms + 5 + noise, with an unused text column."""
    rng = np.random.default_rng(0)
    size, rooms = rng.uniform(20, 200, 60), rng.integers(1, 6, 60).astype(float)
    price = 3 * size - 2 * rooms + 5 + rng.normal(0, 4, 60)
    lines = ["size,rooms,price"] + [",".join(repr(float(v)) for v in row)
                                     for row in zip(size, rooms, price, strict=True)]
    return _csv(tmp_path, "\n".join(lines) + "\n"), np.column_stack([size, rooms]), price


# -- reading ---------------------------------------------------------------------------
def test_numbers_are_read_exactly_by_name(tmp_path):
    path = _csv(tmp_path, '\ufeffb,"a, quoted",c\n1.5,-2e3,0.1\n\n  7 , 8,"9"\n')
    table = read_table(path)
    assert table.columns == ["b", "a, quoted", "c"] and table.lines == [2, 4]
    assert_array_equal(numeric(table, ["c", "b"]), [[0.1, 1.5], [9.0, 7.0]])
    X, y, features = fit_cli.load_training_data(path, "b")
    assert features == ["a, quoted", "c"]
    assert_array_equal(X, [[-2000.0, 0.1], [8.0, 9.0]])
    assert_array_equal(y, [1.5, 7.0])


def test_full_precision_round_trip(tmp_path):
    values = np.random.default_rng(1).normal(size=20) * 10.0 ** np.arange(-10, 10)
    path = _csv(tmp_path, "v\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    assert_array_equal(numeric(read_table(path), ["v"])[:, 0], values)


def _error(call):
    with pytest.raises(CliError) as exc:
        call()
    return str(exc.value)


def test_every_non_numeric_column_is_named_with_its_first_bad_cell(tmp_path):
    path = _csv(tmp_path, "a,city,b,when,y\n1,Paris,2,2020-01-01,3\n4,Rome,x5,,6\n")
    msg = _error(lambda: fit_cli.load_training_data(path, "y"))
    assert "'city' (line 2: 'Paris')" in msg
    assert "'b' (line 3: 'x5')" in msg
    assert "'when' (line 2: '2020-01-01')" in msg
    assert "'a'" not in msg and "\n" not in msg


def test_missing_values_are_counted_with_the_first_line(tmp_path):
    # Line numbers are the file's: the header is line 1, blank lines and quoted
    # newlines count.
    text = 'a,note,y\n1,ok,2\n\n3,"two\nlines",4\n5,x, \n6,y,7\nNA,z,8\n9,w,nan\n'
    path = _csv(tmp_path, text)
    msg = _error(lambda: numeric(read_table(path), ["a", "y"]))
    assert "3 of 6 rows have missing values (the first at line 6)" in msg


def test_missing_values_in_unused_columns_do_not_matter(tmp_path):
    path = _csv(tmp_path, "a,b,y\n1,,2\n3,,4\n")
    assert_array_equal(numeric(read_table(path), ["a", "y"]), [[1, 2], [3, 4]])


@pytest.mark.parametrize("text, target, expected", [
    ("a,b\n1,2\n", "price", "has no column 'price' (--target); its columns are: a, b"),
    ("a,b,y\n1,2,3\n4,5\n", "y", "line 3: 2 fields, but the header has 3"),
    ("a,a,y\n1,2,3\n", "y", "column names must be unique; repeated: 'a'"),
    (",a,y\n0,1,2\n", "y", "column 1 of the header has no name"),
    ("", "y", "is empty: it needs a header row"),
    ("a,y\n", "y", "has a header but no rows of data"),
    ("y\n1\n2\n", "y", "no column besides the target 'y'"),
    ("a,y\n1,2\ninf,3\n", "y", "'a' (line 3: 'inf' is not finite)"),
])
def test_clear_errors(tmp_path, text, target, expected):
    path = _csv(tmp_path, text)
    assert expected in _error(lambda: fit_cli.load_training_data(path, target))


def test_unreadable_files(tmp_path):
    assert "No such file or directory" in _error(lambda: read_table(tmp_path / "no.csv"))
    path = tmp_path / "latin1.csv"
    path.write_bytes("caf\xe9,y\n1,2\n".encode("latin-1"))
    assert _error(lambda: read_table(path)).startswith(f"cannot read {path}: ")


def test_the_command_reports_a_data_error_in_one_line(tmp_path, capsys):
    path = _csv(tmp_path, "a,city,y\n1,Paris,2\n")
    assert main(["fit", str(path), "--target", "y", "--out", str(tmp_path / "o")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"numpynn fit: {path}: not numeric: 'city' (line 2: 'Paris')")


@pytest.mark.parametrize("argv, expected", [
    (["--model", "linear", "--solver", "adam"], "--solver adam is not one for --model linear"),
    (["--model", "net", "--solver", "lstsq"], "--solver lstsq is not one for --model net"),
    (["--hidden-units", "5"], "--hidden-units applies to --model net only"),
])
def test_option_mismatches(tmp_path, capsys, argv, expected):
    assert main(["fit", "d.csv", "--target", "y", "--out", str(tmp_path), *argv]) == 1
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--test-size", "1"], ["--test-size", "0"],
                                  ["--max-iter", "0"], ["--hidden-units", "-1"]])
def test_bad_numbers_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "d.csv", "--target", "y", *argv])
    assert exc.value.code == 2
    assert "usage: numpynn fit" in capsys.readouterr().err


def test_too_few_rows_for_the_split():
    X, y = np.zeros((4, 1)), np.arange(4.0)
    msg = _error(lambda: fit_cli.split(X, y, 0.2, 0))
    assert msg == ("4 rows are too few for --test-size 0.2: it leaves 3 training and 1 test "
                   "rows, and each part needs at least 2")


# -- the model and its metrics -------------------------------------------------------------
def test_linear_model_standardises_inside_and_matches_least_squares(linear_csv):
    path, X, y = linear_csv
    Xr, yr, features = fit_cli.load_training_data(path, "price")
    assert_array_equal(Xr, X) and features == ["size", "rooms"]
    model = fit_cli.make_model("linear", "lstsq")
    fitted = fit_cli.fit_and_score(model, Xr, yr, features, test_size=0.25, random_state=3)
    assert isinstance(model, Pipeline) and isinstance(model[0], StandardScaler)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=3)
    assert_array_equal(fitted.X_test, X_te)
    assert_allclose(model[0].mean_, X_tr.mean(axis=0))
    ref = LinearRegression().fit(X_tr, y_tr)
    for part, Xp, yp in [("train", X_tr, y_tr), ("test", X_te, y_te)]:
        pred = ref.predict(Xp)
        m = fitted.metrics[part]
        assert m["r2"] == pytest.approx(r2_score(yp, pred), rel=1e-9)
        assert m["mae"] == pytest.approx(mean_absolute_error(yp, pred), rel=1e-7)
        assert m["rmse"] == pytest.approx(np.sqrt(mean_squared_error(yp, pred)), rel=1e-7)
    assert fitted.metrics["n_train"] == 45 and fitted.metrics["n_test"] == 15
    assert fitted.metrics["n_iter"] == 1 and fitted.metrics["features"] == features
    json.dumps(fitted.metrics)                                   # plain JSON types


def test_metrics_are_in_the_targets_units(linear_csv):
    _, X, y = linear_csv
    runs = [fit_cli.fit_and_score(fit_cli.make_model("linear", "lstsq"), X, s * y,
                                  ["size", "rooms"]).metrics for s in (1.0, 1000.0)]
    for part in ("train", "test"):
        assert runs[1][part]["mae"] == pytest.approx(1000 * runs[0][part]["mae"], rel=1e-9)
        assert runs[1][part]["rmse"] == pytest.approx(1000 * runs[0][part]["rmse"], rel=1e-9)
        assert runs[1][part]["r2"] == pytest.approx(runs[0][part]["r2"], rel=1e-9)


def test_net_standardises_the_target_too(linear_csv):
    _, X, y = linear_csv
    model = fit_cli.make_model("net", "adam", hidden_units=4, max_iter=30, random_state=0)
    fitted = fit_cli.fit_and_score(model, X, y, ["size", "rooms"])
    assert isinstance(model, TransformedTargetRegressor)
    assert_allclose(model.transformer_.mean_, [fitted.y_train.mean()])
    net = model.regressor_
    assert isinstance(net[0], StandardScaler) and isinstance(net[-1], TwoLayerNet)
    assert net[-1].hidden_units == 4 and net[-1].random_state == 0
    assert_allclose(net[0].mean_, fitted.X_train.mean(axis=0))
    pred = model.predict(fitted.X_test)                             # in price units
    assert fitted.metrics["test"]["mae"] == pytest.approx(
        mean_absolute_error(fitted.y_test, pred), rel=1e-12)
    assert fitted.metrics["n_iter"] == net[-1].n_iter_ <= 30


def test_training_warnings_are_kept_not_printed(linear_csv, recwarn):
    _, X, y = linear_csv
    model = fit_cli.make_model("linear", "gd", max_iter=2)
    fitted = fit_cli.fit_and_score(model, X, y, ["size", "rooms"])
    assert len(recwarn) == 0
    assert any("max_iter=2" in w for w in fitted.metrics["warnings"])


def test_report_prints_the_metrics(linear_csv):
    path, X, y = linear_csv
    fitted = fit_cli.fit_and_score(fit_cli.make_model("linear", "lstsq"), X, y,
                                   ["size", "rooms"])

    class Args:
        data, target, test_size, random_state = path, "price", 0.2, 0

    text = fit_cli.report(fitted, Args, "OUT")
    m = fitted.metrics
    assert "target 'price', 2 feature(s): size, rooms" in text
    assert f"{m['n_train']} training rows, {m['n_test']} test rows" in text
    assert "StandardScaler -> LinearRegressor(solver='lstsq'), 1 epoch(s)" in text
    for part in ("train", "test"):
        row = re.search(rf"^  {part}\s+(\S+)\s+(\S+)\s+(\S+)$", text, re.M).groups()
        assert [float(v) for v in row] == pytest.approx(
            [m[part]["r2"], m[part]["mae"], m[part]["rmse"]], rel=1e-3)
    assert text.endswith("to OUT")


# -- pictures ----------------------------------------------------------------------------
@pytest.fixture
def one_feature():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 10, 50)
    X, y = x.reshape(-1, 1), 3 * x + 2 + rng.normal(0, 1, 50)
    return fit_cli.fit_and_score(fit_cli.make_model("linear", "gd", max_iter=200), X, y,
                                 ["size"])


def _gid(ax, gid):
    return next(a for a in [*ax.get_lines(), *ax.collections] if a.get_gid() == gid)


def test_fit_png_with_one_feature_is_the_line_over_the_data(one_feature):
    f = one_feature
    (ax,) = fit_figure(f, "price").axes
    line = _gid(ax, "model")
    x = line.get_xdata()
    assert_allclose(line.get_ydata(), f.model.predict(x.reshape(-1, 1)))
    assert x.min() == f.X_train.min() and x.max() == f.X_train.max()
    assert_allclose(_gid(ax, "train").get_offsets(), np.column_stack([f.X_train, f.y_train]))
    assert_allclose(_gid(ax, "test").get_offsets(), np.column_stack([f.X_test, f.y_test]))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("size", "price")
    assert f"{f.metrics['test']['r2']:.3f}" in ax.get_title()


def test_fit_png_with_several_features_is_predicted_against_actual(linear_csv):
    _, X, y = linear_csv
    f = fit_cli.fit_and_score(fit_cli.make_model("linear", "lstsq"), X, y, ["size", "rooms"])
    (ax,) = fit_figure(f, "price").axes
    for part, Xp, yp in [("train", f.X_train, f.y_train), ("test", f.X_test, f.y_test)]:
        assert_allclose(_gid(ax, part).get_offsets(),
                        np.column_stack([yp, f.model.predict(Xp)]))
    ident = _gid(ax, "identity")
    assert_array_equal(ident.get_xdata(), ident.get_ydata())
    assert ident.get_xdata()[0] == y.min() and ident.get_xdata()[1] == y.max()


def test_loss_png_marks_the_exact_minimum_of_the_linear_model(one_feature):
    f = one_feature
    (ax,) = loss_figure(f).axes
    assert_array_equal(ax.get_lines()[0].get_ydata(), f.model[-1].loss_curve_)
    A = np.column_stack([np.ones(len(f.y_train)), f.X_train])
    coef = np.linalg.lstsq(A, f.y_train, rcond=None)[0]
    floor = 0.5 * np.mean((A @ coef - f.y_train) ** 2)
    assert_allclose(_gid(ax, "minimum").get_ydata(), [floor, floor], rtol=1e-9)
    assert min(f.model[-1].loss_curve_) >= floor * (1 - 1e-12)


def test_loss_png_marks_the_lowest_loss_of_the_net(linear_csv):
    _, X, y = linear_csv
    f = fit_cli.fit_and_score(fit_cli.make_model("net", "adam", hidden_units=3, max_iter=25),
                              X, y, ["size", "rooms"])
    (ax,) = loss_figure(f).axes
    curve = f.model.regressor_[-1].loss_curve_
    star = _gid(ax, "minimum")
    assert star.get_xdata()[0] == np.argmin(curve) and star.get_ydata()[0] == min(curve)
    assert "standardised" in ax.get_ylabel()


def test_residuals_png(one_feature):
    f = one_feature
    (ax,) = residuals_figure(f, "price").axes
    for part, Xp, yp in [("train", f.X_train, f.y_train), ("test", f.X_test, f.y_test)]:
        pred = f.model.predict(Xp)
        assert_allclose(_gid(ax, part).get_offsets(), np.column_stack([pred, yp - pred]))
    assert_array_equal(_gid(ax, "zero").get_ydata(), [0, 0])


# -- predict, up to the model file ------------------------------------------------------------
def test_predict_finds_the_columns_by_name_and_ignores_the_rest(linear_csv, tmp_path):
    _, X, y = linear_csv
    f = fit_cli.fit_and_score(fit_cli.make_model("linear", "lstsq"), X, y, ["size", "rooms"])
    expected = f.model.predict(X)
    fit_cli.name_features(f.model, ["size", "rooms"])
    assert list(f.model.feature_names_in_) == ["size", "rooms"]
    shuffled = "\n".join(f"note {i},{float(b)!r},{float(p)!r},{float(a)!r}"
                         for i, (a, b, p) in enumerate(zip(X[:, 0], X[:, 1], y, strict=True)))
    path = _csv(tmp_path, "comment,rooms,price,size\n" + shuffled + "\n", "new.csv")
    cols = fit_cli.model_columns(f.model, read_table(path))
    assert_array_equal(cols, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no feature-name warning either
        pred = fit_cli.predict(f.model, cols)
    assert_array_equal(pred, expected)
    missing = _csv(tmp_path, "rooms,price\n1,2\n", "missing.csv")
    assert "has no training column 'size'" in _error(
        lambda: fit_cli.model_columns(f.model, read_table(missing)))


def test_predict_without_names_takes_the_columns_in_order(tmp_path):
    X = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 3.0], [4.0, 1.0], [3.0, 5.0], [5.0, 2.0]])
    model = LinearRegressor(solver="lstsq").fit(X, X @ [1.0, 2.0])
    ok = _csv(tmp_path, "p,q\n1,2\n3,4\n", "ok.csv")
    assert_array_equal(fit_cli.model_columns(model, read_table(ok)), [[1, 2], [3, 4]])
    wide = _csv(tmp_path, "p,q,r\n1,2,3\n", "wide.csv")
    assert "must have exactly its 2 feature columns" in _error(
        lambda: fit_cli.model_columns(model, read_table(wide)))


@pytest.mark.parametrize("shape, header", [((5,), "prediction"), ((5, 1), "prediction"),
                                           ((5, 3), "prediction_0,prediction_1,prediction_2")])
def test_predictions_csv_round_trips_exactly(tmp_path, capsys, shape, header):
    pred = np.random.default_rng(3).normal(size=shape) * 1e5 / 3
    write_predictions(pred)
    text = capsys.readouterr().out
    write_predictions(pred, tmp_path / "p.csv")
    assert (tmp_path / "p.csv").read_text() == text
    lines = text.splitlines()
    assert lines[0] == header and len(lines) == 6
    back = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert_array_equal(back, pred.reshape(5, -1))
