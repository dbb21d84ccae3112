import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor

from numpynn import LinearRegressor, TwoLayerNet

ERRORS_MD = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def tutorial_loop(x, y, l_r, epochs):
    """The tutorial's training loop, scalar m and b from zero."""
    m = b = 0.0
    losses = []
    for _ in range(epochs):
        y_pred = m * x + b
        losses.append(1 / 2 * np.mean((y_pred - y) ** 2))
        dm = np.mean((y_pred - y) * x)
        db = np.mean(y_pred - y)
        m -= l_r * dm
        b -= l_r * db
    return losses, m, b


@pytest.fixture
def tutorial_data():
    return make_regression(n_samples=200, n_features=1, n_informative=1, n_targets=1,
                           noise=10, random_state=42)


# ---------------------------------------------------------------- LinearRegressor
def test_reproduces_the_tutorial_trajectory(tutorial_data):
    X, y = tutorial_data
    losses, m, b = tutorial_loop(X[:, 0], y, 0.05, 61)
    with pytest.warns(ConvergenceWarning, match="tol=None ran all 61 epochs") as caught:
        reg = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X, y)
    # the warning's gap is the loss at the final (m, b) less the least-squares minimum
    gap = float(re.search(r"still (\S+) above", str(caught[0].message)).group(1))
    best = LinearRegression().fit(X, y)
    excess = 0.5 * (np.mean((y - reg.predict(X)) ** 2) - np.mean((y - best.predict(X)) ** 2))
    assert gap == pytest.approx(excess, rel=1e-3)          # printed to 4 digits
    assert reg.n_iter_ == 61 and len(reg.loss_curve_) == 61
    assert_allclose(reg.loss_curve_, losses, rtol=1e-12)
    assert_allclose(reg.coef_, [m], rtol=1e-12)
    assert_allclose(reg.intercept_, b, rtol=1e-11)


def test_tutorial_on_its_train_split_loss_falls(tutorial_data):
    X_train, _, y_train, _ = train_test_split(*tutorial_data, test_size=0.2,
                                              random_state=0)
    losses, m, _ = tutorial_loop(X_train[:, 0], y_train, 0.05, 61)
    with pytest.warns(ConvergenceWarning, match="tol=None ran all 61 epochs"):
        reg = LinearRegressor(learning_rate=0.05, max_iter=61, tol=None).fit(X_train, y_train)
    assert_allclose(reg.loss_curve_, losses, rtol=1e-12)
    assert np.all(np.diff(reg.loss_curve_) < 0)


@pytest.mark.parametrize("solver", ["lstsq", "newton", "gd"])
def test_agrees_with_sklearn_linear_regression(rng, solver):
    X = rng.normal(size=(300, 4)) * [1, 3, 0.5, 2] + [0, 2, -1, 0]
    y = X @ [1.0, -2.0, 0.5, 3.0] + 7 + rng.normal(size=300)
    reg = LinearRegressor(solver=solver, tol=None, max_iter=5000).fit(X, y)
    ref = LinearRegression().fit(X, y)
    rtol = 1e-10 if solver != "gd" else 1e-5
    assert_allclose(reg.coef_, ref.coef_, rtol=rtol)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=rtol)
    assert_allclose(reg.predict(X), ref.predict(X), rtol=rtol)


def test_lstsq_multi_output_and_ridge_match_sklearn(rng):
    X = rng.normal(size=(100, 3))
    Y = rng.normal(size=(100, 2))
    reg = LinearRegressor(solver="lstsq", alpha=3.0).fit(X, Y)
    ref = Ridge(alpha=2 * 3.0, solver="svd").fit(X, Y)     # k = 2 outputs share the mean
    assert reg.coef_.shape == (2, 3) and reg.intercept_.shape == (2,)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-10)
    assert_allclose(reg.predict(X), ref.predict(X), rtol=1e-10)
    one = LinearRegressor(solver="lstsq", alpha=3.0).fit(X, Y[:, 0])
    assert_allclose(one.coef_, Ridge(alpha=3.0, solver="svd").fit(X, Y[:, 0]).coef_,
                    rtol=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 2.0])
def test_every_solver_minimises_the_same_multi_output_loss(rng, alpha):
    X = rng.normal(size=(80, 3))
    Y = X @ rng.normal(size=(3, 3)) + rng.normal(size=(80, 3))
    fits = {s: LinearRegressor(solver=s, alpha=alpha, tol=None, max_iter=3000).fit(X, Y)
            for s in ("lstsq", "newton", "gd")}
    for solver in ("newton", "gd"):
        assert_allclose(fits[solver].coef_, fits["lstsq"].coef_, rtol=1e-7, atol=1e-10)
        assert_allclose(fits[solver].loss_curve_[-1], fits["lstsq"].loss_curve_[-1],
                        rtol=1e-9)


def test_lstsq_loss_curve_is_the_loss_at_the_solution(rng):
    X, y = rng.normal(size=(60, 2)), rng.normal(size=60)
    reg = LinearRegressor(solver="lstsq").fit(X, y)
    assert reg.n_iter_ == 1
    assert_allclose(reg.loss_curve_[0], 0.5 * np.mean((reg.predict(X) - y) ** 2),
                    rtol=1e-10)


def test_lstsq_partial_fit_streams_exactly(rng):
    X, y = rng.normal(size=(500, 6)), rng.normal(size=500)
    whole = LinearRegressor(solver="lstsq").fit(X, y)
    chunked = LinearRegressor(solver="lstsq")
    for s in range(0, 500, 64):
        chunked.partial_fit(X[s:s + 64], y[s:s + 64])
    assert_allclose(chunked.coef_, whole.coef_, rtol=1e-10)
    assert_allclose(chunked.intercept_, whole.intercept_, rtol=1e-10)
    assert_allclose(chunked.loss_curve_[-1], whole.loss_curve_[0], rtol=1e-9)


def test_newton_lands_in_one_step(rng):
    X = rng.normal(size=(200, 3)) * [1, 100, 0.01]        # badly scaled: no matter
    y = X @ [2.0, 0.03, 50.0] + 1 + rng.normal(size=200)
    newton = LinearRegressor(solver="newton").fit(X, y)
    exact = LinearRegressor(solver="lstsq").fit(X, y)
    assert_allclose(newton.loss_curve_[0], 0.5 * np.mean(y ** 2))       # from zero
    assert_allclose(newton.loss_curve_[1], exact.loss_curve_[0], rtol=1e-9)
    assert_allclose(newton.coef_, exact.coef_, rtol=1e-8)


def test_auto_learning_rate_is_one_over_largest_curvature_and_descends(rng):
    X = rng.normal(size=(150, 3)) * [1, 30, 0.2] + 5
    y = X @ [1.0, 0.1, -3.0] + rng.normal(size=150)
    with pytest.warns(ConvergenceWarning, match="tol=None ran all 300 .* Standardise"):
        reg = LinearRegressor(max_iter=300, tol=None).fit(X, y)      # cond ~1e5: crawls
    A = np.hstack([X, np.ones((150, 1))])
    L = np.linalg.eigvalsh(A.T @ A / 150)[-1]
    assert_allclose(reg.learning_rate_, 1 / L, rtol=1e-10)
    curve = np.array(reg.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])       # monotone: never diverges


def test_integer_sample_weights_equal_repeated_rows(rng):
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    w = rng.integers(0, 4, size=30)
    rep = np.repeat(np.arange(30), w)
    for solver in ("gd", "lstsq", "newton"):
        a = LinearRegressor(solver=solver, max_iter=50, tol=None).fit(X, y, w)
        b = LinearRegressor(solver=solver, max_iter=50, tol=None).fit(X[rep], y[rep])
        assert_allclose(a.coef_, b.coef_, rtol=1e-10)
        assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


def test_callbacks_see_live_model_and_can_stop(rng):
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    seen = []

    def record(est, logs):
        seen.append((logs, est.coef_.copy(), est.predict(X[:3])))
        return logs["epoch"] == 4

    reg = LinearRegressor(max_iter=50, tol=None, callbacks=[record]).fit(X, y)
    assert reg.n_iter_ == 4 and [s[0]["epoch"] for s in seen] == [1, 2, 3, 4]
    assert [s[0]["loss"] for s in seen] == reg.loss_curve_
    with pytest.warns(ConvergenceWarning, match="tol=None ran all 2 epochs"):
        ref = LinearRegressor(max_iter=2, tol=None).fit(X, y)
    assert_allclose(seen[1][1], ref.coef_)                  # epoch 2's live coef_
    assert_allclose(seen[1][2], ref.predict(X[:3]))


def test_tol_stops_and_max_iter_warns(tutorial_data):
    X, y = tutorial_data
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        LinearRegressor(max_iter=3).fit(X, y)
    reg = LinearRegressor(max_iter=5, tol=None).fit(X, y)          # no stopping rule
    assert reg.n_iter_ == 5
    # full batch: the stop comes when the extrapolated gain still to come is
    # below tol x the baseline loss, and the exact gap then is too
    from numpynn._training import remaining_gain
    from numpynn.losses import baseline_loss
    for tol in (1e-2, 1e-4, 1e-6):
        reg = LinearRegressor(tol=tol).fit(X, y)
        budget = tol * baseline_loss(y.reshape(-1, 1))
        assert remaining_gain(reg.loss_curve_) <= budget
        assert remaining_gain(reg.loss_curve_[:-1]) > budget     # not one epoch earlier
        best = LinearRegressor(solver="lstsq").fit(X, y).loss_
        assert 0 <= reg.loss_ - best <= budget
    # mini-batches: the plateau rule, n_iter_no_change epochs without a gain of tol x baseline
    reg = LinearRegressor(batch_size=20, tol=1e-2, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)           # mini-batch noise
        reg.fit(X, y)
    curve, budget = np.array(reg.loss_curve_), 1e-2 * baseline_loss(y.reshape(-1, 1))
    best_before = curve[:-3].min()
    assert np.all(curve[-3:] >= best_before - budget)                 # 3 epochs, no gain
    assert not np.all(curve[-4:-1] >= curve[:-4].min() - budget)      # not earlier


def test_early_stopping_records_validation_curves(rng):
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=200) * 0.1
    logs = []
    reg = LinearRegressor(early_stopping=True, random_state=0, n_iter_no_change=5,
                          callbacks=[lambda e, lg: logs.append(lg)]).fit(X, y)
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == reg.n_iter_
    assert reg.validation_scores_ == [lg["val_score"] for lg in logs]
    assert reg.validation_loss_curve_ == [lg["val_loss"] for lg in logs]
    assert reg.best_validation_score_ == max(reg.validation_scores_) > 0.99


def test_warm_start_continues_the_curve(rng):
    X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    five = LinearRegressor(max_iter=5, tol=None).fit(X, y)
    warm = LinearRegressor(max_iter=3, tol=None, warm_start=True).fit(X, y)
    warm.set_params(max_iter=2).fit(X, y)
    assert_allclose(warm.coef_, five.coef_, rtol=1e-13)
    assert_allclose(warm.loss_curve_, five.loss_curve_, rtol=1e-13)
    assert warm.n_iter_ == 5


def test_divergence_raises_and_keeps_the_previous_model(tutorial_data):
    X, y = tutorial_data
    reg = LinearRegressor(solver="gd").fit(X, y)
    before = dict(vars(reg))
    reg.set_params(learning_rate=5.0)
    with pytest.raises(ValueError, match=r"diverged at epoch \d+.*smaller learning_rate"):
        reg.fit(X, y)
    assert reg.coef_ is before["coef_"] and np.isfinite(reg.coef_).all()
    assert reg.loss_curve_ == before["loss_curve_"]


def test_keyboard_interrupt_keeps_the_last_finished_epoch(rng):
    X, y = rng.normal(size=(40, 2)), rng.normal(size=40)
    coefs = []

    def interrupt(est, logs):
        coefs.append(est.coef_.copy())
        if logs["epoch"] == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="training interrupted"):
        reg = LinearRegressor(max_iter=50, callbacks=[interrupt]).fit(X, y)
    assert reg.n_iter_ == 3
    assert_array_equal(reg.coef_, coefs[2])


def test_verbose_off_a_terminal_prints_one_line_per_tenth(rng, capsys):
    X, y = rng.normal(size=(20, 1)), rng.normal(size=20)
    reg = LinearRegressor(max_iter=30, tol=None, verbose=True).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and "\r" not in "".join(lines)
    for line, epoch in zip(lines, range(3, 31, 3), strict=True):
        assert line == f"numpynn: epoch {epoch}/30  loss {reg.loss_curve_[epoch - 1]:.6g}"


def test_verbose_on_a_terminal_shows_a_progress_bar(rng, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    X, y = rng.normal(size=(20, 1)), rng.normal(size=20)
    LinearRegressor(max_iter=3, tol=None, verbose=True).fit(X, y)
    assert "loss=" in err.getvalue() and "epoch" in err.getvalue()


def test_float32_stays_float32(rng):
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.normal(size=50).astype(np.float32)
    for solver in ("gd", "lstsq", "newton"):
        reg = LinearRegressor(solver=solver).fit(X, y)
        assert reg.coef_.dtype == np.float32
        assert reg.predict(X).dtype == np.float32


# -------------------------------------------------------------------- TwoLayerNet
def test_defaults_fit_a_sine_held_out():
    X = np.linspace(-3, 3, 600).reshape(-1, 1)
    y = np.sin(X).ravel()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=1)
    for seed in (0, 1, 2):
        net = TwoLayerNet(random_state=seed).fit(X_tr, y_tr)
        assert net.n_iter_ <= 300
        assert net.score(X_te, y_te) > 0.97     # 0.977-0.99 (learning_rate 0.001, 200 epochs)


@pytest.mark.parametrize("activation, sk_name",
                         [("relu", "relu"), ("tanh", "tanh"), ("sigmoid", "logistic"),
                          ("linear", "identity")])
def test_same_steps_as_mlp_regressor(rng, activation, sk_name):
    """From the same weights, full-batch SGD matches sklearn's MLP step by step.

    One output only: sklearn reports the loss averaged over outputs but its
    gradient is that of the sum over outputs, so with k outputs its steps are
    k times ours (ours is the gradient of the loss we report; see
    test_gradient_matches_central_differences).
    """
    X, Y = rng.normal(size=(25, 3)), rng.normal(size=25)
    net = TwoLayerNet(hidden_units=4, activation=activation, optimizer="sgd",
                      learning_rate=0.1, batch_size=None, alpha=0.01, shuffle=False,
                      max_iter=1, tol=None, random_state=0).fit(X, Y)
    mlp = MLPRegressor(hidden_layer_sizes=(4,), activation=sk_name, solver="sgd",
                       learning_rate_init=0.1, momentum=0.0, batch_size=25, alpha=0.01,
                       shuffle=False, random_state=0)
    mlp.partial_fit(X, Y)
    mlp.coefs_ = [W.copy() for W in net.coefs_]
    mlp.intercepts_ = [b.copy() for b in net.intercepts_]
    mlp.loss_curve_ = []
    for _ in range(5):
        net.partial_fit(X, Y)
        mlp.partial_fit(X, Y)
    for ours, theirs in zip(net.coefs_ + net.intercepts_, mlp.coefs_ + mlp.intercepts_,
                            strict=True):
        assert_allclose(ours, theirs, rtol=1e-12)
    assert_allclose(net.loss_curve_[1:], mlp.loss_curve_, rtol=1e-12)


def test_partial_fit_keeps_optimizer_state(rng):
    X, y = rng.normal(size=(60, 2)), rng.normal(size=60)
    params = dict(hidden_units=8, shuffle=False, tol=None, random_state=3)
    two = TwoLayerNet(max_iter=2, **params).fit(X, y)
    inc = TwoLayerNet(**params)
    inc.partial_fit(X, y).partial_fit(X, y)
    for a, b in zip(two.coefs_ + two.intercepts_, inc.coefs_ + inc.intercepts_,
                    strict=True):
        assert_array_equal(a, b)
    assert inc.loss_curve_ == two.loss_curve_ and inc.n_iter_ == 2


def test_same_seed_gives_bit_identical_models(rng):
    X, Y = rng.normal(size=(300, 4)), rng.normal(size=(300, 2))
    est = TwoLayerNet(hidden_units=16, batch_size=32, max_iter=5, tol=None, random_state=7)
    a, b = clone(est).fit(X, Y), clone(est).fit(X, Y)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert_array_equal(u, v)
    c = clone(est).set_params(random_state=8).fit(X, Y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_loss_curve_is_batch_weighted_mean_of_pre_update_losses(rng):
    X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    batches = []
    net = TwoLayerNet(hidden_units=5, batch_size=20, shuffle=False, max_iter=1, tol=None,
                      optimizer="sgd", learning_rate=0.01, random_state=0)
    net.fit(X, y)
    # replay the epoch from the same initial weights with the kernels
    from numpynn.kernels import compute_loss, forward_prop, gradient, init_params
    params = init_params((2, 5, 1), "relu", np.random.default_rng(0))
    for s in range(0, 50, 20):
        Xb, yb = X[s:s + 20], y[s:s + 20]
        y_pred, cache = forward_prop(Xb, params)
        batches.append((compute_loss(yb, y_pred, params=params, alpha=1e-4), len(yb)))
        grads = gradient(params, cache, yb, y_pred, alpha=1e-4)
        for k in params:
            params[k] -= 0.01 * grads[k]
    expected = sum(loss * m for loss, m in batches) / 50
    assert_allclose(net.loss_curve_, [expected], rtol=1e-12)
    assert_allclose(net.coefs_[0], params["W1"], rtol=1e-12)


def test_multi_output_shapes(rng):
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    net = TwoLayerNet(hidden_units=6, max_iter=3, tol=None).fit(X, Y)
    assert [W.shape for W in net.coefs_] == [(3, 6), (6, 2)]
    assert [b.shape for b in net.intercepts_] == [(6,), (2,)]
    assert net.n_outputs_ == 2 and net.predict(X).shape == (40, 2)
    assert TwoLayerNet(max_iter=2, tol=None).fit(X, Y[:, 0]).predict(X).shape == (40,)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_divergence_raises_for_every_optimizer(rng, optimizer):
    X, y = rng.normal(size=(100, 3)) * 100, rng.normal(size=100) * 100
    net = TwoLayerNet(hidden_units=8, optimizer=optimizer, learning_rate=1e3,
                      max_iter=50, random_state=0)
    with pytest.raises(ValueError, match="diverged at epoch"):
        net.fit(X, y)
    assert not hasattr(net, "coefs_")


def test_a_rising_loss_is_not_reported_as_convergence(rng):
    X = rng.normal(size=(100, 2))
    y = X @ [1.0, 2.0] + rng.normal(size=100)
    L = 1 / LinearRegressor(solver="gd").fit(X, y).learning_rate_
    for factor in (2.05, 2.3):          # past the 2/L stability bound
        with pytest.warns(ConvergenceWarning, match="loss rose in each of the last 10") \
                as rec:
            reg = LinearRegressor(learning_rate=factor / L, max_iter=200).fit(X, y)
        assert np.all(np.diff(reg.loss_curve_[-11:]) > 0)
        assert not any("above its minimum" in str(w.message) for w in rec)  # said once
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LinearRegressor(learning_rate=1.9 / L, max_iter=5000).fit(X, y)


def test_tol_stopping_far_from_the_minimum_warns_with_the_exact_gap(rng):
    """Raw years (condition number ~1e10): gd crawls and tol stops it early."""
    years = np.sort(rng.uniform(1971, 2020, size=60))[:, None]
    y = 0.15 * (years[:, 0] - 1971) + 3 + rng.normal(size=60) * 0.3
    with pytest.warns(ConvergenceWarning, match=r"still [\d.]+ above its minimum") as rec:
        reg = LinearRegressor().fit(years, y)
    gap = float(str(rec[0].message).split("still ")[1].split(" above")[0])
    best = LinearRegressor(solver="lstsq").fit(years, y).loss_curve_[0]
    final = 0.5 * np.mean((reg.predict(years) - y) ** 2)
    assert_allclose(gap, final - best, rtol=1e-3)
    with warnings.catch_warnings():                 # standardised: no warning
        warnings.simplefilter("error")
        LinearRegressor().fit((years - years.mean()) / years.std(), y)


def _slow_stop_warning(X, y, **params):
    with pytest.warns(ConvergenceWarning, match="above its minimum") as rec:
        LinearRegressor(**params).fit(X, y)
    message = str(rec[0].message)
    gap = float(message.split("still ")[1].split(" above")[0])
    cond = float(message.split("condition number is ")[1].split(")")[0])
    return message, gap, cond


def _documented(message):
    """The message matches a template of docs/errors.md, with one of its advices.

    After ``tol=None`` the advices say "a larger max_iter" where the page's
    say "a smaller tol" (as the page states).
    """
    text = ERRORS_MD.read_text()
    section = text.split("## Stopped far")[1].split("\n## ")[0]
    blocks = [b.strip().splitlines() for b in re.findall(r"```text\n(.*?)```", section, re.S)]
    heads = [h[len("ConvergenceWarning: "):].replace("<advice>", "") for h in blocks[0]]
    advices = [line for block in blocks[1:] for line in block]
    assert len(heads) == 2 and len(advices) == 6
    for head in heads:
        for advice in advices:
            for variant in {advice, advice.replace("a smaller tol", "a larger max_iter")}:
                parts = re.split(r"<[^>]+>", head + variant)
                if re.fullmatch(".*?".join(re.escape(p) for p in parts), message):
                    return advice
    raise AssertionError(message)


def test_slow_stops_name_their_cause_as_documented(rng):
    """Three causes, three remedies; each gap obeys the estimate it quotes."""
    X = rng.standard_normal((500, 4))
    y = X @ np.ones(4) + rng.standard_normal(500)
    message, gap, _ = _slow_stop_warning(X, y, learning_rate=0.001, batch_size=50,
                                         random_state=0)          # a small step
    assert _documented(message).startswith("learning_rate=<lr> is")
    message, gap, _ = _slow_stop_warning(X, y, batch_size=8, random_state=0)
    assert _documented(message).startswith("Mini-batches (batch_size=<B>)")
    # full batch: the extrapolated stop leaves no gap worth a warning, even on
    # correlated features (condition number ~200) or with a small fixed step
    X[:, 1] = X[:, 0] + 0.1 * X[:, 1]
    X = (X - X.mean(0)) / X.std(0)
    best = LinearRegressor(solver="lstsq").fit(X, y).loss_
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for params in ({"max_iter": 3000}, {"learning_rate": 0.2, "max_iter": 5000}):
            reg = LinearRegressor(**params).fit(X, y)
            assert reg.loss_ - best <= 1e-4 * 0.5 * np.var(y)
    years = np.sort(rng.uniform(1971, 2020, size=60))[:, None]   # condition number ~1e10
    message, _, cond = _slow_stop_warning(years, 0.15 * (years[:, 0] - 1971) + 3)
    assert _documented(message).startswith("Standardise") and cond > 1e3


@pytest.mark.parametrize("args, start", [
    ((0.01, False, 1.0, 10.0, 100, 100), "learning_rate=<lr> is"),     # step 0.01/L
    ((1.8, False, 1.0, 10.0, 100, 100), "learning_rate=<lr> is"),      # near 2/L
    ((None, True, 1.0, 10.0, 16, 100), "Mini-batches"),
    ((None, True, 1.0, np.inf, 100, 100), "The Hessian is singular"),
    ((None, True, 1.0, 1e14, 100, 100), "The Hessian is singular"),
    ((None, True, 1.0, 1e6, 100, 100), "Standardise"),
    ((None, True, 1.0, 1e6, 16, 100), "Standardise"),          # scaling before noise
    ((None, True, 1.0, 10.0, 100, 100), "The features are not badly scaled"),
])
@pytest.mark.parametrize("tol_stop", [True, False])
def test_every_slow_stop_advice_is_documented(args, start, tol_stop):
    from numpynn._linear import slow_stop_advice
    how = ("tol=0.0001 stopped gradient descent after 9 epochs" if tol_stop
           else "tol=None ran all 9 epochs")
    advice = slow_stop_advice(*args, tol_stop=tol_stop)
    if not tol_stop and not advice.startswith(("The Hessian", "Standardise")):
        assert "a larger max_iter" in advice and "tol" not in advice
    message = (f"LinearRegressor: {how}, but the loss is still 0.5 above its minimum (the "
               f"Hessian's condition number is 10). {advice}")
    assert _documented(message).startswith(start)


def test_early_stopping_does_not_claim_bad_scaling(rng):
    """The best-validation parameters sit above the full data's minimum by
    design; on well-scaled features that must not be reported as crawling."""
    X = rng.standard_normal((1000, 5))
    y = X @ rng.standard_normal(5) + rng.standard_normal(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = LinearRegressor(early_stopping=True, max_iter=500, random_state=0).fit(X, y)
    best = LinearRegression().fit(X, y).score(X, y)
    assert reg.n_iter_ < 500 and reg.score(X, y) > best - 0.01   # near the minimum
