"""Smoke run of the benchmark package (tiny sizes; nothing here is timed)."""

import json

import pytest

pytest.importorskip("matplotlib")

import numpy as np  # noqa: E402

import numpynn  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402


def test_smoke_run_writes_results(tmp_path, capsys):
    assert main(["--smoke", "--no-torch", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["mode"] == "smoke"
    assert {"cpu", "logical_cpus", "blas", "versions"} <= res["machine"].keys()
    assert res["machine"]["versions"]["numpy"]
    assert set(res["cases"]) == {"python_loops", "gd_sgd", "bandwidth", "lstsq", "network",
                                 "handwritten", "layouts", "sparse_auto", "gd_floor",
                                 "ablation", "linear_parts"}
    assert {r["layout"] for r in res["cases"]["layouts"]["rows"]} == {
        "C ndarray", "DataFrame", "Fortran", "column slice", "int64", "float32"}
    assert {"epoch_s", "ratio_vs_C", "setup_s", "fit_s", "fit_ratio_vs_C"} <= \
        res["cases"]["layouts"]["rows"][0].keys()
    assert {r["trick"] for r in res["cases"]["ablation"]["rows"]} == set(numpynn._engine.TRICKS)
    for case in res["cases"].values():
        assert case["rows"] and "settings" in case
    net = res["cases"]["network"]["rows"][0]
    assert {"numpynn_epoch_s", "sklearn_epoch_s", "ratio_vs_sklearn", "numpynn_loss",
            "sklearn_loss", "numpynn_gflops", "gemm_only_gflops"} <= net.keys()
    assert {r["dtype"] for r in res["cases"]["network"]["rows"]} == {"float64", "float32"}
    lstsq = res["cases"]["lstsq"]["rows"][0]
    assert lstsq["max_rel_coef_diff_vs_sklearn"] < 1e-8
    py = res["cases"]["python_loops"]["rows"][0]
    assert py["python_loss"] == pytest.approx(py["numpynn_loss"], rel=1e-9)
    assert {"net_vs_mlp_float64", "lstsq_vs_linreg", "gd_vs_bandwidth"} <= res["targets"].keys()
    md = (tmp_path / "results.md").read_text()
    assert "## Targets" in md and "| n |" in md
    for name in res["plots"]:
        assert (tmp_path / name).stat().st_size > 0
    assert set(res["plots"]) == {"time_vs_n.png", "time_vs_hidden.png"}


def test_the_handwritten_contender_is_the_same_math():
    from benchmarks.cases_engine import handwritten_fit
    from benchmarks.cases_net import make_data

    X, y = make_data(1000, 6, np.float64)
    net = numpynn.TwoLayerNet(hidden_units=8, learning_rate=1e-3, batch_size=200,
                              alpha=1e-4, max_iter=3, tol=None, random_state=0).fit(X, y)
    assert handwritten_fit(X, y, 8, 3) == pytest.approx(net.loss_curve_, rel=1e-10)


def test_the_epoch_clock_splits_setup_from_epochs():
    from benchmarks.cases_engine import EpochClock

    clock = EpochClock()
    clock.stamps = [10.0, 13.0, 14.0, 15.5, 16.0]      # setup 2 + epoch 1, then 1, 1.5, 0.5
    assert clock.split() == (1.0, 2.0)
