"""numpynn.lstsq: the streamed state, the rank-revealing solve, the in-memory fit.

NIST's certified problems are in test_nist.py; inference in test_inference.py.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression, Ridge

from benchmarks.nist import exact_lstsq
from numpynn.losses import compute_loss
from numpynn.lstsq import (
    FAST_COND,
    SMALL_SIZE,
    lstsq_fit,
    lstsq_merge,
    lstsq_solve,
    lstsq_update,
    newton_step,
    qr_combine,
    qr_solve,
    qr_update,
)


def problem(rng, n=300, d=5, k=2, scales=(1, 10, 0.1, 3, 1), offset=0.0):
    X = rng.normal(size=(n, d)) * np.asarray(scales)[:d] + offset
    Y = X @ rng.normal(size=(d, k)) + 3 + rng.normal(size=(n, k))
    return X, Y


# -- the streamed state ------------------------------------------------------

@pytest.mark.parametrize("block_rows", [None, 7, 50])
def test_streamed_state_matches_sklearn_linear_regression(rng, block_rows):
    X, Y = problem(rng)
    sol = lstsq_solve(lstsq_update(None, X, Y, block_rows=block_rows))
    ref = LinearRegression(tol=0).fit(X, Y)
    assert_allclose(sol.coef.T, ref.coef_, rtol=1e-10)
    assert_allclose(sol.intercept, ref.intercept_, rtol=1e-10)
    assert_allclose(sol.rss, ((ref.predict(X) - Y) ** 2).sum(axis=0), rtol=1e-9)
    assert sol.rank == ref.rank_ == 5
    assert_allclose(sol.singular, ref.singular_, rtol=1e-10)


def test_state_records_counts_and_weights(rng):
    X, Y = problem(rng, n=40)
    w = rng.uniform(0, 2, size=40)
    w[:5] = 0.0
    state = lstsq_update(None, X, Y, w)
    assert state.n_samples == 35 and state.sum_weights == pytest.approx(w.sum(), rel=1e-15)
    assert state.R.shape == (8, 8) and state.x_shift.shape == (5,) and state.y_shift.shape == (2,)
    dropped = lstsq_solve(lstsq_update(None, X[5:], Y[5:], w[5:]))
    assert_allclose(lstsq_solve(state).coef, dropped.coef, rtol=1e-11)


def test_weighted_ridge_matches_sklearn(rng):
    X, Y = problem(rng, n=80, d=3, k=1)
    sw = rng.uniform(0.1, 3, size=80)
    ref = Ridge(alpha=2.5, solver="svd").fit(X, Y[:, 0], sample_weight=sw)
    for sol in (lstsq_solve(lstsq_update(None, X, Y, sw), alpha=2.5),
                lstsq_fit(X, Y, sw, alpha=2.5).solution):
        assert_allclose(sol.coef[:, 0], ref.coef_, rtol=1e-10)
        assert_allclose(sol.intercept[0], ref.intercept_, rtol=1e-10)


def test_ridge_on_the_fast_path_matches_sklearn(rng):
    X, Y = problem(rng, n=20_000, d=5, k=2, offset=3.0)
    sw = rng.uniform(0.1, 3, size=20_000)
    sol = lstsq_fit(X, Y, sw, alpha=1e4).solution
    assert sol.refinements >= 1 and sol.alpha == 1e4
    ref = Ridge(alpha=1e4, solver="svd").fit(X, Y, sample_weight=sw)
    assert_allclose(sol.coef.T, ref.coef_, rtol=1e-12)
    assert_allclose(sol.intercept, ref.intercept_, rtol=1e-12)


def test_loss_is_the_kernels_loss_at_the_solution(rng):
    X, Y = problem(rng, n=60, d=3, k=2)
    sw = rng.uniform(0.5, 2, size=60)
    sol = lstsq_fit(X, Y, sw, alpha=0.8 * 2).solution          # estimator alpha 0.8, k = 2
    params = {"W1": sol.coef, "b1": sol.intercept}
    expected = compute_loss(Y, X @ sol.coef + sol.intercept, sample_weight=sw, params=params,
                            alpha=0.8)
    assert sol.loss == pytest.approx(expected, rel=1e-12)


def test_blocks_in_any_grouping_give_the_same_answer(rng):
    X, Y = problem(rng, n=120, d=4, k=1, offset=50.0)
    whole = lstsq_solve(lstsq_update(None, X, Y))
    streamed = None
    for s in range(0, 120, 17):
        streamed = lstsq_update(streamed, X[s:s + 17], Y[s:s + 17])
    # states with their own shifts (each block's mean) merge in any order
    parts = [lstsq_update(None, X[i::3], Y[i::3]) for i in range(3)]
    assert not np.array_equal(parts[0].x_shift, parts[1].x_shift)
    for state in (streamed, lstsq_merge(parts), lstsq_merge(parts[::-1])):
        sol = lstsq_solve(state)
        assert_allclose(sol.coef, whole.coef, rtol=1e-11)
        assert_allclose(sol.intercept, whole.intercept, rtol=1e-11)
        assert_allclose(sol.rss, whole.rss, rtol=1e-10)
        assert state.n_samples == 120


def test_merge_refuses_incompatible_states(rng):
    X, Y = problem(rng, n=20, d=3, k=1)
    a = lstsq_update(None, X, Y)
    with pytest.raises(ValueError, match="fit_intercept=True"):
        lstsq_merge([a, lstsq_update(None, X, Y, fit_intercept=False)])
    with pytest.raises(ValueError, match="has 2 features and 1 outputs; got 3 and 1"):
        lstsq_merge([a, lstsq_update(None, X[:, :2], Y)])
    with pytest.raises(ValueError, match="fit_intercept=True; got fit_intercept=False"):
        lstsq_update(a, X, Y, fit_intercept=False)


def test_no_intercept_matches_sklearn(rng):
    X, Y = problem(rng, n=50, d=3, k=2, offset=2.0)
    ref = LinearRegression(fit_intercept=False, tol=0).fit(X, Y)
    for sol in (lstsq_solve(lstsq_update(None, X, Y, fit_intercept=False)),
                lstsq_fit(X, Y, fit_intercept=False).solution):
        assert_allclose(sol.coef.T, ref.coef_, rtol=1e-12)
        assert_array_equal(sol.intercept, [0.0, 0.0])
        assert_allclose(sol.singular, ref.singular_, rtol=1e-12)


def test_no_positive_weight_is_an_error(rng):
    X, Y = problem(rng, n=10, d=2, k=1)
    with pytest.raises(ValueError, match="at least one sample with positive weight"):
        lstsq_solve(lstsq_update(None, X, Y, np.zeros(10)))


# -- rank: scale-invariant, minimum norm, never silent -----------------------

def test_rank_deficient_gives_sklearn_minimum_norm(rng):
    X = rng.normal(size=(50, 3))
    X = np.hstack([X, X[:, :1], np.full((50, 1), 4.0)])     # duplicated + constant
    y = rng.normal(size=50)
    ref = LinearRegression().fit(X, y)
    for sol in (lstsq_solve(lstsq_update(None, X, y)), lstsq_fit(X, y).solution):
        assert sol.rank == ref.rank_ == 3
        assert_allclose(sol.coef[:, 0], ref.coef_, atol=1e-12)
        assert_allclose(sol.intercept[0], ref.intercept_, atol=1e-12)
        assert sol.coef[0, 0] == pytest.approx(sol.coef[3, 0])      # split equally
        assert sol.coef[4, 0] == 0.0                                 # the constant column


def test_rank_decision_does_not_depend_on_units(rng):
    # badly scaled but independent columns: the unscaled singular values span
    # 1e22, far beyond any relative cut-off; after scaling they are all ~1
    X, y = problem(rng, n=100, d=3, k=1)
    units = np.array([1e-10, 1.0, 1e12])
    sol = lstsq_solve(lstsq_update(None, X * units, y))
    assert sol.rank == 3 and sol.cond < 10
    assert sol.singular[0] / sol.singular[-1] > 1e20
    assert_allclose(sol.coef[:, 0] * units, lstsq_solve(lstsq_update(None, X, y)).coef[:, 0],
                    rtol=1e-12)


def test_nearly_constant_column_with_a_large_mean_is_kept(rng):
    # x = 1e6 + tiny variation: raw norm / centred norm ~ 1e9, still full rank
    x = 1e6 + rng.normal(size=200) * 1e-3
    y = 5.0 * (x - 1e6) * 1e3 + rng.normal(size=200) * 1e-3
    sol = lstsq_fit(x[:, None], y).solution
    ref = np.polyfit(x - 1e6, y, 1)
    assert sol.rank == 1
    assert_allclose(sol.coef[0, 0], ref[0], rtol=1e-9)


# -- the in-memory fit ------------------------------------------------------------

def test_small_data_take_householder_and_refinement(rng):
    X, Y = problem(rng, n=100, d=5, k=1)
    assert 100 * 6 <= SMALL_SIZE
    state, sol = lstsq_fit(X, Y)
    assert sol.refinements >= 1
    ref = LinearRegression(tol=0).fit(X, Y)
    assert_allclose(sol.coef.T, ref.coef_, rtol=1e-12)
    # the kept state solves to the refined solution again
    again = lstsq_solve(state)
    assert_allclose(again.coef, sol.coef, rtol=1e-13)
    assert_allclose(again.rss, sol.rss, rtol=1e-12)


def test_big_well_conditioned_data_take_the_cholesky_fast_path(rng):
    X, Y = problem(rng, n=20_000, d=5, k=2)
    assert 20_000 * 6 > SMALL_SIZE
    state, sol = lstsq_fit(X, Y)
    assert sol.refinements == 1                      # one float64 pass: the fast path
    exact = lstsq_fit(X, Y, refine=True).solution    # Householder + double-double
    assert exact.refinements >= 1
    assert_allclose(sol.coef, exact.coef, rtol=1e-14, atol=1e-15)
    assert_allclose(sol.intercept, exact.intercept, rtol=1e-14)
    assert_allclose(sol.rss, exact.rss, rtol=1e-13)
    one_pass = lstsq_fit(X, Y, refine=False).solution
    assert one_pass.refinements == 0
    assert_allclose(one_pass.coef, exact.coef, rtol=1e-12)
    # the fast state streams on like any other
    more = lstsq_solve(lstsq_update(state, X[:100], Y[:100]))
    ref = LinearRegression(tol=0).fit(np.vstack([X, X[:100]]), np.vstack([Y, Y[:100]]))
    assert_allclose(more.coef.T, ref.coef_, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_gram_in_its_own_pass_gives_the_same_fit(rng, monkeypatch, weighted):
    # the ablation switch: the Gram matrix from a pass of its own, then the
    # residual pass, lands on the same solution as the one-read pass
    from numpynn import _engine

    X, Y = problem(rng, n=20_000, d=5, k=2, offset=30.0)
    sw = rng.uniform(0.5, 2.0, size=20_000) if weighted else None
    one_read = lstsq_fit(X, Y, sw).solution
    monkeypatch.setitem(_engine.TRICKS, "gram_in_residual_pass", False)
    two_reads = lstsq_fit(X, Y, sw).solution
    assert one_read.refinements == two_reads.refinements == 1
    assert_allclose(two_reads.coef, one_read.coef, rtol=1e-14)
    assert_allclose(two_reads.intercept, one_read.intercept, rtol=1e-14)
    assert_allclose(two_reads.rss, one_read.rss, rtol=1e-12)


def test_fast_path_starts_from_zeros_when_the_sample_is_singular(rng):
    # a column that is zero on every sampled row: the sample's normal equations
    # fail, the start is zero, and the step from it is still the solution
    from numpynn import lstsq as ls
    from numpynn._state import shifts

    n = 20_000
    X, Y = problem(rng, n=n, d=3, k=1, scales=(1, 1, 1))
    X[::n // 2048, 2] = 0.0
    start, _ = ls._sample_start(X, Y, None, True, *shifts(X, Y, None, True))
    assert_array_equal(start, 0.0)
    sol = lstsq_fit(X, Y).solution
    exact = lstsq_fit(X, Y, refine=True).solution
    assert sol.cond < FAST_COND and sol.refinements >= 1
    assert_allclose(sol.coef, exact.coef, rtol=1e-14)
    assert_allclose(sol.intercept, exact.intercept, rtol=1e-14)


def test_fast_path_gives_way_when_its_steps_do_not_land(rng, monkeypatch):
    # a start 1e40 off: three float64 steps each contract the error by about
    # kappa^2 eps, not enough, so the fit takes Householder and double-double
    from numpynn import lstsq as ls

    X, Y = problem(rng, n=20_000, d=3, k=1, scales=(1, 1, 1))
    exact = lstsq_fit(X, Y, refine=True)
    far = lambda *args, **kw: (np.full((4, 1), 1e40), False)  # noqa: E731
    monkeypatch.setattr(ls, "_sample_start", far)
    state, sol = lstsq_fit(X, Y)
    assert_array_equal(state.R[:4, :4], exact.state.R[:4, :4])      # Householder's factor
    assert_array_equal(sol.coef, exact.solution.coef)


def test_ill_conditioned_big_data_leave_the_fast_path(rng):
    # two columns 1e-6 apart: scaled condition 2e6, beyond FAST_COND
    X, Y = problem(rng, n=20_000, d=3, k=1, scales=(1, 1, 1))
    X[:, 2] = X[:, 1] + 1e-6 * rng.normal(size=20_000)
    state, sol = lstsq_fit(X, Y)
    assert sol.cond > FAST_COND
    assert_array_equal(state.R[:4, :4], lstsq_update(None, X, Y).R[:4, :4])  # Householder's
    assert sol.refinements >= 1
    assert_array_equal(sol.coef, lstsq_fit(X, Y, refine=True).solution.coef)


@pytest.mark.parametrize("offset", [1e5, 1e8])
def test_large_means_are_centred_before_the_fast_paths_gram_matrix(rng, offset):
    # a column with mean/sd = offset: the uncentred Gram matrix would cancel
    # 2 log10(offset) digits; centred in the pass, the data stay well-conditioned
    X, Y = problem(rng, n=20_000, d=3, k=1, scales=(1, 1, 1))
    X[:, 1] += offset
    sol = lstsq_fit(X, Y).solution
    exact = lstsq_fit(X, Y, refine=True).solution         # Householder + double-double
    assert sol.refinements == 1 and sol.cond < 2         # the fast path, one float64 step
    assert_allclose(sol.coef, exact.coef, rtol=1e-14)
    assert_allclose(sol.intercept, exact.intercept, rtol=1e-14)


def test_refinement_reaches_the_exact_solution_where_one_pass_cannot():
    # degree 4 on [1000, 1010] with large residuals: scaled condition 2e9, and
    # a solution more sensitive still (Wampler-like); the exact least-squares
    # solution of these float64 data, computed in rational arithmetic, is the
    # target (it is far from the polynomial the data were made from)
    x = np.arange(1000.0, 1010.0, 0.125)
    X = np.column_stack([x ** j for j in (1, 2, 3, 4)])
    Q = np.linalg.qr(np.vander(x - 1005.0, 5, increasing=True), mode="complete")[0]
    y = 7.0 + X @ [3.0, -2.0, 0.5, 0.25] + Q[:, 5:] @ np.linspace(-1, 1, len(x) - 5) * 10
    exact = exact_lstsq(X, y)
    err = lambda s: np.max(np.abs(np.r_[s.intercept, s.coef[:, 0]] - exact) / np.abs(exact))  # noqa: E731
    one, ref = lstsq_fit(X, y, refine=False).solution, lstsq_fit(X, y).solution
    assert err(one) > 1e-3                       # one pass: the accuracy of QR
    assert err(ref) < 1e-14                      # refined: the exact solution, to ~10 ulps
    assert ref.cond > 1e9


def test_sparse_memmap_and_float32_inputs_give_the_same_fit(rng, tmp_path):
    X, Y = problem(rng, n=400, d=5, k=1)
    X[rng.random(X.shape) < 0.5] = 0.0
    X32 = X.astype(np.float32)
    ref = lstsq_fit(X32.astype(np.float64), Y)
    path = tmp_path / "X.npy"
    np.save(path, X32)
    for Xin in (sp.csr_array(X32), np.load(path, mmap_mode="r"), X32):
        state, sol = lstsq_fit(Xin, Y)
        assert_array_equal(sol.coef, ref.solution.coef)
        assert_array_equal(state.R, ref.state.R)


def test_refine_must_be_auto_true_or_false(rng):
    X, Y = problem(rng, n=20, d=2, k=1)
    with pytest.raises(ValueError, match="refine must be 'auto', True or False"):
        lstsq_fit(X, Y, refine="yes")


# -- Newton's step from the QR factor ----------------------------------------

def test_newton_step_is_the_pseudo_inverse_newton_step(rng):
    X = rng.normal(size=(30, 2))
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])           # a flat direction
    y = rng.normal(size=30)
    b0, W0 = 0.3, np.array([1.0, -2.0, 0.5])
    A = np.column_stack([np.ones(30), X])                       # theta = (b, W)
    H = A.T @ A / 30
    grad = A.T @ (A @ np.r_[b0, W0] - y) / 30
    expected = np.r_[b0, W0] - np.linalg.pinv(H) @ grad
    sol = newton_step(X, y, coef=W0[:, None], intercept=np.array([b0])).solution
    assert sol.rank == 2
    assert_allclose(np.r_[sol.intercept, sol.coef[:, 0]], expected, rtol=1e-10)


def test_newton_step_from_anywhere_lands_on_the_minimum(rng):
    X, Y = problem(rng, n=50, d=3, k=2)
    sol = newton_step(X, Y, coef=rng.normal(size=(3, 2)), intercept=np.ones(2)).solution
    assert_allclose(sol.coef, lstsq_fit(X, Y).solution.coef, rtol=1e-14)


# -- the first interface, kept for LinearRegressor ---------------------------------

def test_legacy_interface_still_solves(rng):
    X, Y = problem(rng, n=60, d=3, k=1)
    R = qr_combine([qr_update(None, X[:20], Y[:20]), qr_update(None, X[20:], Y[20:])])
    coef, intercept, rss = qr_solve(R, 3)
    ref = LinearRegression(tol=0).fit(X, Y)
    assert_allclose(coef.T, ref.coef_, rtol=1e-10)
    assert_allclose(intercept, ref.intercept_, rtol=1e-10)


def test_fewer_rows_than_columns_still_square(rng):
    state = lstsq_update(None, rng.normal(size=(2, 6)), rng.normal(size=(2, 1)))
    assert state.R.shape == (8, 8)
    sol = lstsq_solve(state)
    assert sol.rank == 1 and sol.rss[0] == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("layout", ["dense", "float32", "sparse"])
@pytest.mark.parametrize("centre, offset", [(True, 50.0), (False, 0.5)])
def test_one_read_gram_and_residual_products_equal_the_formulas(rng, weighted, fit_intercept,
                                                               layout, centre, offset):
    # the fast path's pass forms, block by block in threads, what the normal
    # equations write as A.T @ A and A.T @ W E for A = sqrt(w)[1, X - c]: on
    # centred blocks when the means pass the spread, else shifted afterwards
    from numpynn import _passes

    n, d, k = 3000, 4, 2
    X, Y = problem(rng, n=n, d=d, k=k, scales=(1, 1, 1, 1), offset=offset)
    sw = rng.uniform(0.5, 2.0, size=n) if weighted else None
    w = np.ones(n) if sw is None else sw
    if layout == "float32":
        X = X.astype(np.float32)
    Xd = np.asarray(X, np.float64)
    Xin = sp.csr_matrix(X) if layout == "sparse" else X
    c, c_y = Xd[::7].mean(axis=0), Y[::7].mean(axis=0)
    x_s = rng.normal(size=(int(fit_intercept) + d, k))
    A = np.column_stack([np.ones(n), Xd - c]) if fit_intercept else Xd
    E = (Y - c_y if fit_intercept else Y) - A @ x_s
    shift = (c, c_y) if fit_intercept else (np.zeros(d), np.zeros(k))
    g, S, G = _passes.residual_pass(Xin, Y, sw, x_s, *shift, fit_intercept, centre,
                                    gram=True, rows=256, workers=2)
    G_ref = A.T @ (A * w[:, None])
    assert_allclose(G, G_ref, rtol=1e-13, atol=1e-13 * np.abs(G_ref).max())
    assert_allclose(g, A.T @ (E * w[:, None]), rtol=1e-11, atol=1e-9)
    assert_allclose(S, E.T @ (E * w[:, None]), rtol=1e-13)
    assert_allclose(_passes.design_gram(Xin, sw, shift[0], fit_intercept, rows=256, workers=2),
                    G, rtol=1e-13, atol=1e-13 * np.abs(G_ref).max())
    g2, S2, none = _passes.residual_pass(Xin, Y, sw, x_s, *shift, fit_intercept, centre,
                                         rows=256, workers=2)
    assert none is None
    assert_allclose(g2, g, rtol=1e-11, atol=1e-9)
    assert_allclose(S2, S, rtol=1e-13)


def test_threads_do_not_change_the_result(rng):
    # the fast path's chunked passes share fixed segments of blocks among threads
    # (weighted data: the Gram matrix too is formed block by block)
    from threadpoolctl import threadpool_limits

    X, Y = problem(rng, n=150_000, d=5, k=1)
    sw = rng.uniform(0.5, 2.0, size=150_000)
    with threadpool_limits(limits=1, user_api="blas"):
        one = lstsq_fit(X, Y, sw)
    with threadpool_limits(limits=2, user_api="blas"):
        two = lstsq_fit(X, Y, sw)
    assert one.solution.refinements == 1                # the fast path, with > 8 blocks
    assert_array_equal(one.solution.coef, two.solution.coef)
    assert_array_equal(one.state.R, two.state.R)
