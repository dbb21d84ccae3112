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
from benchmarks.quality_paired import (
    bootstrap_median_ci,
    chance_at_or_above,
    holm,
    paired,
    wilcoxon_p,
)
from numpynn import TwoLayerNet


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


def test_lbfgs_setting_is_both_solvers_at_their_defaults():
    rows = dict(quality.settings(quality.MODES["full"]))
    assert "lbfgs" not in dict(quality.settings(quality.MODES["quick"]))
    net, mlp = rows["lbfgs"]["TwoLayerNet"](3), rows["lbfgs"]["MLPRegressor"](3)
    assert net.get_params() == {**TwoLayerNet().get_params(), "optimizer": "lbfgs",
                                "random_state": 3}
    assert mlp.get_params() == {**MLPRegressor().get_params(), "solver": "lbfgs",
                                "random_state": 3}


def test_paired_statistics_by_hand():
    # ranks of |d| are 1..5; W- = 2; exact two-sided p = 2 * #{subsets summing <= 2} / 2^5
    assert wilcoxon_p([1.0, -2.0, 3.0, 4.0, 5.0]) == pytest.approx(2 * 3 / 32)
    assert wilcoxon_p(np.arange(1.0, 21.0)) == pytest.approx(2 / 2**20)
    assert wilcoxon_p(np.zeros(5)) == 1.0
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert bootstrap_median_ci([0.25] * 9) == (0.25, 0.25)
    d = np.random.default_rng(0).normal(size=25)
    lo, hi = bootstrap_median_ci(d)
    assert d.min() <= lo < np.median(d) < hi <= d.max()
    b = np.arange(10.0)
    assert chance_at_or_above(b + 1, b) == 1.0 and chance_at_or_above(b - 1, b) == 0.0
    # the difference of medians (the target's quantity) is not the median difference
    s = paired([0.0, 5.0, 3.0], [1.0, 2.0, 0.0])
    assert (s["diff_of_medians"], s["median_diff"], s["at_or_above"]) == (2.0, 3.0, 2)


def test_paired_smoke_run_fits_what_it_says(tmp_path):
    assert quality.main(["--paired", "--smoke", "--only", "diabetes",
                         "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "quality_paired.json").read_text())
    assert res["settings"] == ["defaults", "lbfgs"] and res["seeds"] == 3
    entry = res["datasets"]["diabetes"]
    X, y = diabetes()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        replica = quality.pipeline(MLPRegressor(solver="lbfgs", random_state=1001))
        net = quality.pipeline(TwoLayerNet(optimizer="lbfgs", random_state=1))
        expected = [m.fit(X_tr, y_tr).score(X_te, y_te) for m in (replica, net)]
    runs = entry["runs"]["lbfgs"]
    assert [runs["MLPRegressor replica"][1]["r2"], runs["TwoLayerNet"][1]["r2"]] == expected
    for setting in res["settings"]:
        st = entry["stats"][setting]
        r2 = {k: [r["r2"] for r in v] for k, v in entry["runs"][setting].items()}
        d = np.subtract(r2["TwoLayerNet"], r2["MLPRegressor"])
        assert st["numpynn"]["median_diff"] == pytest.approx(np.median(d))
        assert st["numpynn"]["at_or_above"] == int(np.sum(d >= 0))
        assert st["floor"]["diff_of_medians"] == pytest.approx(
            np.median(r2["MLPRegressor replica"]) - np.median(r2["MLPRegressor"]))
    md = (tmp_path / "quality_paired.md").read_text()
    assert "## defaults" in md and "## lbfgs" in md and "| diabetes | " in md


def test_first_seed_moves_the_splits():
    """``--first-seed``: fresh splits for a second look are the seeds asked for."""
    X, y = sine(200)
    rows = [("short", {"TwoLayerNet": lambda s: TwoLayerNet(hidden_units=4, max_iter=2,
                                                            tol=None, random_state=s)})]
    (run,) = quality.run_dataset(X, y, rows, 1, first_seed=7)["short"]["TwoLayerNet"]
    split = train_test_split(X, y, test_size=0.2, random_state=7)
    assert run["r2"] == quality.fit_once(rows[0][1]["TwoLayerNet"], 7, split)["r2"]
    (other,) = quality.run_dataset(X, y, rows, 1)["short"]["TwoLayerNet"]
    assert other["r2"] != run["r2"]
