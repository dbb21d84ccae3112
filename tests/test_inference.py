"""numpynn.inference against statsmodels OLS/WLS and NIST's certified standard deviations."""

import re
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

sm = pytest.importorskip("statsmodels.api")

from benchmarks.nist import load, lre  # noqa: E402
from numpynn.datasets import load_moore  # noqa: E402
from numpynn.inference import (  # noqa: E402
    coef_cov,
    merge_meats,
    predict_std,
    prediction_interval,
    robust_meat,
    summarize,
)
from numpynn.lstsq import lstsq_fit, lstsq_merge, lstsq_solve, lstsq_update  # noqa: E402

COV_TYPES = ["nonrobust", "HC0", "HC1", "HC2", "HC3"]


def heteroscedastic(rng, n=60, k=2):
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [2.0, -1.0, 3.0]
    noise = rng.normal(size=(n, k)) * (1 + np.abs(X[:, :1]))
    return X, X @ rng.normal(size=(3, k)) + 1.5 + noise


def statsmodels_fit(X, y, sw, fit_intercept, cov_type):
    exog = sm.add_constant(X) if fit_intercept else X
    model = sm.OLS(y, exog) if sw is None else sm.WLS(y, exog, weights=sw)
    return model.fit(cov_type=cov_type, use_t=True)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_field_equals_statsmodels(rng, cov_type, weighted, fit_intercept):
    X, Y = heteroscedastic(rng)
    sw = rng.uniform(0.2, 3.0, size=len(Y)) if weighted else None
    X0 = rng.normal(size=(5, 3))
    state, sol = lstsq_fit(X, Y, sw, fit_intercept=fit_intercept)
    meat = robust_meat(X, Y, sw, state, sol)
    s = summarize(state, sol, cov_type=cov_type, meat=meat, alpha=0.1)
    se0 = predict_std(state, sol, X0, cov_type=cov_type, meat=meat)
    lower, upper = prediction_interval(state, sol, X0, alpha=0.1, sample_weight=2.0,
                                       cov_type=cov_type, meat=meat)
    exog0 = sm.add_constant(X0, has_constant="add") if fit_intercept else X0
    for j in range(2):                                        # several outputs, each its own fit
        r = statsmodels_fit(X, Y[:, j], sw, fit_intercept, cov_type)
        frame = r.get_prediction(exog0, weights=2.0).summary_frame(alpha=0.1)
        pairs = {"coef": (s.coef[j], r.params), "std_err": (s.std_err[j], r.bse),
                 "t": (s.t[j], r.tvalues), "p_values": (s.p_values[j], r.pvalues),
                 "conf_int": (s.conf_int[j], r.conf_int(alpha=0.1)),
                 "r2": (s.r2[j], r.rsquared), "adj_r2": (s.adj_r2[j], r.rsquared_adj),
                 "residual_sd": (s.residual_sd[j], np.sqrt(r.scale)),
                 "f_statistic": (s.f_statistic[j], r.fvalue),
                 "f_pvalue": (s.f_pvalue[j], r.f_pvalue), "cov": (s.cov[j], r.cov_params()),
                 "mean_se": (se0[:, j], frame["mean_se"]),
                 "obs_ci_lower": (lower[:, j], frame["obs_ci_lower"]),
                 "obs_ci_upper": (upper[:, j], frame["obs_ci_upper"])}
        for field, (ours, theirs) in pairs.items():
            assert rel(ours, theirs) < 1e-10, (field, ours, theirs)
        assert (s.n, s.df_resid, s.df_model) == (r.nobs, r.df_resid, r.df_model)


def test_one_output_fields_are_one_dimensional(rng):
    X, Y = heteroscedastic(rng, k=1)
    s = summarize(*lstsq_fit(X, Y[:, 0]), feature_names=["a", "b", "c"])
    assert s.names == ("intercept", "a", "b", "c")
    assert s.coef.shape == s.std_err.shape == (4,) and s.conf_int.shape == (4, 2)
    assert s.cov.shape == (4, 4) and np.ndim(s.r2) == 0
    r = statsmodels_fit(X, Y[:, 0], None, True, "nonrobust")
    assert rel(s.coef, r.params) < 1e-12 and rel(s.conf_int, r.conf_int()) < 1e-12


def test_after_streaming_and_merging_equals_in_memory(rng):
    # where statsmodels cannot go: the rows are never all in memory
    X, Y = heteroscedastic(rng, n=90)
    sw = rng.uniform(0.5, 2.0, size=90)
    streamed = None
    for s in range(0, 90, 13):
        streamed = lstsq_update(streamed, X[s:s + 13], Y[s:s + 13], sw[s:s + 13])
    merged = lstsq_merge([lstsq_update(None, X[i::4], Y[i::4], sw[i::4]) for i in range(4)])
    ref = summarize(*lstsq_fit(X, Y, sw))
    for state in (streamed, merged):
        sol = lstsq_solve(state)
        s = summarize(state, sol)
        for field in ("coef", "std_err", "p_values", "r2", "f_statistic", "residual_sd"):
            assert_allclose(getattr(s, field), getattr(ref, field), rtol=1e-10)
        # the robust meat is a sum over rows: blocks computed apart add up
        meats = [robust_meat(X[a:a + 30], Y[a:a + 30], sw[a:a + 30], state, sol)
                 for a in range(0, 90, 30)]
        whole = robust_meat(X, Y, sw, state, sol, block_rows=7)
        for v in range(3):
            assert_allclose(merge_meats(meats)[v], whole[v], rtol=1e-12)


# -- NIST's certified standard deviations -------------------------------------

#: Digits of the certified standard deviations reached (the factor is exact to
#: about cond * 1e-16: Filip's float64 data themselves allow about 7.6 digits).
SD_DIGITS = {"Norris": 13.5, "Pontius": 13.0, "NoInt1": 14.0, "NoInt2": 14.0,
             "Longley": 14.0, "Filip": 7.0, "Wampler2": 14.0, "Wampler3": 11.5,
             "Wampler4": 12.5, "Wampler5": 11.5}


@pytest.mark.parametrize("name", sorted(SD_DIGITS))
def test_standard_errors_match_nist(name):
    X, y, fi, cert = load(name)
    s = summarize(*lstsq_fit(X, y, fit_intercept=fi))
    digits = lre(s.std_err, cert["std_errors"])
    assert digits.min() >= SD_DIGITS[name], digits
    assert lre(s.residual_sd, cert["residual_sd"])[0] >= min(SD_DIGITS[name], 13.5)


def test_an_exact_fit_has_zero_standard_errors_as_nist_certifies():
    X, y, fi, cert = load("Wampler1")            # y is the polynomial itself
    s = summarize(*lstsq_fit(X, y, fit_intercept=fi))
    assert cert["std_errors"] == [0] * 6 and cert["residual_sd"] == 0
    assert lre(s.std_err, cert["std_errors"]).min() == 15          # |error| < 1e-15
    assert lre(s.residual_sd, 0.0)[0] == 15 and s.r2 == pytest.approx(1.0, abs=1e-15)


# -- the Moore's-law example of docs/inference.md ---------------------------------

def test_moore_doubling_time_interval_matches_statsmodels():
    moore = load_moore()
    logy = np.log10(moore.target)
    s = summarize(*lstsq_fit(moore.data, logy))
    r = statsmodels_fit(moore.data, logy, None, True, "nonrobust")
    slope_lo, slope_hi = r.conf_int()[1]
    expected = np.log10(2) / np.array([r.params[1], slope_hi, slope_lo])
    got = np.log10(2) / np.array([s.coef[1], s.conf_int[1, 1], s.conf_int[1, 0]])
    assert_allclose(got, expected, rtol=1e-12)
    assert 1.9 < got[1] < got[0] < got[2] < 2.2                # about two years


def test_str_is_an_aligned_table_with_the_intercept_first(rng):
    X, Y = heteroscedastic(rng, k=2)
    s = summarize(*lstsq_fit(X, Y), feature_names=["speed", "mass", "a_long_name"])
    text = str(s)
    blocks = text.split("\n\n")
    assert len(blocks) == 2 and "output 1" in blocks[1]
    rows = [ln for ln in blocks[0].splitlines()
            if ln.split() and ln.split()[0] in ("intercept", *s.names)]
    assert [ln.split()[0] for ln in rows] == list(s.names)
    assert len({len(ln) for ln in rows}) == 1                  # aligned
    for ln, coef, se in zip(rows, s.coef[0], s.std_err[0], strict=True):
        assert float(ln.split()[1]) == pytest.approx(coef, rel=1e-4)
        assert float(ln.split()[2]) == pytest.approx(se, rel=1e-4)
    assert "[2.5%" in text and "97.5%]" in text and "nonrobust" in text


# -- what is not defined is refused, saying why -----------------------------------

def test_rank_deficient_design_is_refused_naming_what_is_defined(rng):
    X = rng.normal(size=(30, 2))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    state, sol = lstsq_fit(X, rng.normal(size=30))
    with pytest.raises(ValueError, match=r"rank 2 < 3 features.*not identifiable.*"
                                         r"Predictions, residual SD and R\^2 remain defined"):
        summarize(state, sol)
    with pytest.raises(ValueError, match="rank 2 < 3"):
        predict_std(state, sol, X[:2])


def test_no_residual_degrees_of_freedom_is_refused(rng):
    X = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match=r"n = 3, 3 coefficients, df_resid = 0"):
        summarize(*lstsq_fit(X, rng.normal(size=3)))


def test_ridge_and_bad_arguments_are_refused(rng):
    X, Y = heteroscedastic(rng, k=1)
    state, sol = lstsq_fit(X, Y)
    with pytest.raises(ValueError, match="penalised"):
        summarize(*lstsq_fit(X, Y, alpha=1.0))
    with pytest.raises(ValueError, match="cov_type must be one of nonrobust, HC0"):
        coef_cov(state, sol, "HC4")
    with pytest.raises(ValueError, match=r"needs the residuals of every row: pass meat="):
        summarize(state, sol, cov_type="HC1")
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        prediction_interval(state, sol, X[:2], alpha=1.5)
    with pytest.raises(ValueError, match="feature_names has 2 names for 3 features"):
        summarize(state, sol, feature_names=["a", "b"])


def test_the_inference_page_runs_and_prints_what_it_shows(capsys):
    # docs/inference.md: each python block runs (in one namespace, in order) and
    # prints exactly the text block that follows it
    page = (Path(__file__).resolve().parent.parent / "docs" / "inference.md").read_text()
    blocks = re.findall(r"```(python|text)\n(.*?)```", page, re.S)
    namespace, checked = {}, 0
    for (kind, body), (next_kind, shown) in zip(blocks, blocks[1:] + [("", "")], strict=True):
        if kind != "python":
            continue
        exec(compile(body, "docs/inference.md", "exec"), namespace)  # noqa: S102
        printed = capsys.readouterr().out
        if next_kind == "text":
            assert printed == shown, (printed, shown)
            checked += 1
    assert checked == 3
