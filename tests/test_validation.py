"""Bad input gets a clear error before any work; nothing half-trained is left."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from numpynn import LinearRegressor, TwoLayerNet
from numpynn._validation import Interval, Options, check_params, check_sample_weight

ALL = [LinearRegressor, TwoLayerNet]

BAD_PARAMS = [
    (LinearRegressor, "solver", "sgd"),
    (LinearRegressor, "learning_rate", 0.0),
    (LinearRegressor, "learning_rate", "fast"),
    (LinearRegressor, "batch_size", 0),
    (LinearRegressor, "batch_size", 2.5),
    (LinearRegressor, "max_iter", 0),
    (LinearRegressor, "tol", -1.0),
    (LinearRegressor, "alpha", -0.1),
    (LinearRegressor, "alpha", np.nan),
    (LinearRegressor, "validation_fraction", 1.0),
    (LinearRegressor, "n_iter_no_change", 0),
    (LinearRegressor, "shuffle", "yes"),
    (LinearRegressor, "random_state", -1),
    (LinearRegressor, "callbacks", [print, 3]),
    (LinearRegressor, "callbacks", print),
    (TwoLayerNet, "hidden_units", 0),
    (TwoLayerNet, "hidden_units", True),
    (TwoLayerNet, "activation", "softplus"),
    (TwoLayerNet, "optimizer", "newton"),
    (TwoLayerNet, "learning_rate", "fast"),
    (TwoLayerNet, "batch_size", "all"),
    (TwoLayerNet, "momentum", 1.0),
    (TwoLayerNet, "beta_2", -0.5),
    (TwoLayerNet, "epsilon", 0.0),
    (TwoLayerNet, "nesterov", None),
    (TwoLayerNet, "verbose", -1),
]


@pytest.mark.parametrize("cls, name, value", BAD_PARAMS)
def test_invalid_hyperparameter_is_named_before_any_work(rng, cls, name, value):
    calls = []
    est = cls(**{name: value})
    if name != "callbacks":
        est.set_params(callbacks=[lambda e, logs: calls.append(logs)])
    before = dict(vars(est))
    with pytest.raises(ValueError, match=rf"The '{name}' parameter of {cls.__name__} must be"):
        est.fit(rng.normal(size=(10, 2)), rng.normal(size=10))
    assert vars(est) == before and calls == []


BAD_DATA = [
    ("nan", lambda X, y: (np.where(X > 1, np.nan, X), y), "NaN"),
    ("inf", lambda X, y: (np.where(X > 1, np.inf, X), y), "infinity"),
    ("nan in y", lambda X, y: (X, np.where(y > 0, np.nan, y)), "NaN"),
    ("empty", lambda X, y: (X[:0], y[:0]), "0 sample"),
    ("1-D X", lambda X, y: (X[:, 0], y), "Expected 2D array"),
    ("lengths", lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
    ("strings", lambda X, y: (X.astype(str).astype(object) + "x", y), "could not convert"),
    ("3-D X", lambda X, y: (X[:, :, None], y), "dim 3"),
]


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("case, corrupt, message", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_data_is_refused_clearly(rng, cls, case, corrupt, message):
    X, y = corrupt(rng.normal(size=(20, 3)), rng.normal(size=20))
    est = cls()
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize("cls", ALL)
def test_wrong_number_of_features_at_predict(rng, cls):
    quick = {"solver": "lstsq"} if cls is LinearRegressor else {"max_iter": 2, "tol": None}
    est = cls(**quick).fit(rng.normal(size=(20, 3)), rng.normal(size=20))
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        est.predict(rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="X has 2 features"):
        est.partial_fit(rng.normal(size=(5, 2)), rng.normal(size=5))


@pytest.mark.parametrize("cls", ALL)
def test_predict_before_fit(rng, cls):
    with pytest.raises(NotFittedError):
        cls().predict(rng.normal(size=(3, 2)))


@pytest.mark.parametrize("cls", ALL)
def test_partial_fit_refuses_a_different_number_of_outputs(rng, cls):
    est = cls().partial_fit(rng.normal(size=(20, 3)), rng.normal(size=(20, 2)))
    before = [np.copy(a) for a in vars(est).values() if isinstance(a, np.ndarray)]
    with pytest.raises(ValueError, match="outputs|shapes"):
        est.partial_fit(rng.normal(size=(20, 3)), rng.normal(size=20))
    after = [a for a in vars(est).values() if isinstance(a, np.ndarray)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("weights, message", [
    ([1.0, 2.0], r"shape"),
    ([1.0] * 19 + [-1.0], "non-negative"),
    ([1.0] * 19 + [np.nan], "NaN"),
    ([0.0] * 20, "zero"),
])
def test_bad_sample_weight(rng, weights, message):
    with pytest.raises(ValueError, match=message):
        LinearRegressor().fit(rng.normal(size=(20, 2)), rng.normal(size=20), weights)


def test_check_sample_weight_broadcasts_a_scalar():
    np.testing.assert_array_equal(check_sample_weight(3, 4), [3.0] * 4)
    assert check_sample_weight(None, 4) is None


def test_constraint_specs():
    assert Interval("real", 0, 1, "neither").accepts(0.5)
    assert not Interval("real", 0, 1, "neither").accepts(1)
    assert not Interval("int", 0, None).accepts(1.0)
    assert Interval("int", 0, None).accepts(np.int64(3))
    assert not Options(("a",)).accepts(["a"])

    class E:
        solver = "x"

    with pytest.raises(ValueError, match=r"must be one of 'a', 'b'; got 'x'"):
        check_params(E(), {"solver": (Options(("a", "b")),)})
