"""Smoke run of the quality benchmark (two data sets, one split; nothing timed)."""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor

from benchmarks import quality
from benchmarks.quality_data import DATASETS, diabetes, friedman, sine


def test_smoke_run_writes_the_tables(tmp_path):
    assert quality.main(["--smoke", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "quality.json").read_text())
    assert res["mode"] == "smoke" and res["blas_threads"] == 1
    assert set(res["datasets"]) == {"diabetes", "sine"}
    assert res["settings"] == ["defaults", "3 epochs"]
    entry = res["datasets"]["diabetes"]
    assert (entry["n"], entry["d"]) == (442, 10)
    for setting in res["settings"]:
        for name in ("TwoLayerNet", "MLPRegressor"):
            (run,) = entry["runs"][setting][name]
            assert np.isfinite(run["r2"]) and run["fit_s"] > 0
    # the fixed budget really is fixed, and hitting it is counted for both
    for name in ("TwoLayerNet", "MLPRegressor"):
        (run,) = entry["runs"]["3 epochs"][name]
        assert run["n_iter"] == 3 and run["hit_max_iter"]
    assert entry["runs"]["3 epochs"]["MLPRegressor"][0]["convergence_warnings"] == 1
    md = (tmp_path / "quality.md").read_text()
    assert "## defaults" in md and "## 3 epochs" in md and "| diabetes | 442 | 10 |" in md
    assert res["target"]["datasets"] == 2


def test_mlp_row_is_the_readme_pipeline_on_the_same_split(tmp_path):
    """The table's MLPRegressor R^2 is what a user gets from the README's pipeline."""
    quality.main(["--smoke", "--only", "diabetes", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "quality.json").read_text())
    X, y = diabetes()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = quality.pipeline(MLPRegressor(random_state=0)).fit(X_tr, y_tr)
    (run,) = res["datasets"]["diabetes"]["runs"]["defaults"]["MLPRegressor"]
    assert run["r2"] == model.score(X_te, y_te)


def test_data_sets_are_fixed_and_well_formed():
    for load in (diabetes, sine, lambda: friedman(2)):
        X1, y1 = load()
        X2, y2 = load()
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)
        assert X1.dtype == y1.dtype == np.float64 and X1.shape[0] == y1.shape[0]
        assert np.isfinite(X1).all() and np.isfinite(y1).all()
    assert {kind for _, kind, _ in DATASETS.values()} == {"real", "synthetic"}


@pytest.mark.parametrize("name", ["auto_mpg", "star98", "anes96", "fair", "randhie_5k"])
def test_optional_real_data_sets(name):
    load, kind, source = DATASETS[name]
    pytest.importorskip(source)                  # the bench extra
    X, y = load()
    assert kind == "real" and X.shape[0] >= 300 and np.isfinite(X).all()
    assert np.isfinite(y).all() and np.std(y) > 0
