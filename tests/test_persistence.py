"""numpynn.save / numpynn.load: no pickle, exact round trips, loud failures."""

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

import numpynn
from numpynn import LinearRegressor, TwoLayerNet, load, save
from numpynn.persistence import _checksum

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    LinearRegressor(solver="gd", random_state=0),
    LinearRegressor(solver="gd", learning_rate=0.01, batch_size=16, max_iter=30, tol=None,
                    random_state=0),
    LinearRegressor(solver="lstsq"),
    LinearRegressor(solver="newton", alpha=0.5),
    TwoLayerNet(hidden_units=6, max_iter=15, tol=None, random_state=0),
    TwoLayerNet(hidden_units=6, max_iter=15, tol=None, optimizer="momentum",
                nesterov=True, activation="tanh", random_state=1),
    TwoLayerNet(hidden_units=6, max_iter=15, tol=None, optimizer="sgd",
                early_stopping=True, random_state=2),
]


def _ids(est):
    params = est.get_params()
    return f"{type(est).__name__}-{params.get('solver', params.get('optimizer'))}"


def _state(est):
    if isinstance(est, LinearRegressor):
        return [est.coef_, est.intercept_]
    return est.coefs_ + est.intercepts_


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 + 0.1 * rng.normal(size=80)
    return X, y


@pytest.fixture
def fitted(data):
    return LinearRegressor(solver="lstsq").fit(*data)


@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
@pytest.mark.parametrize("outputs", [1, 2])
def test_round_trip_is_bit_identical(est, outputs, data, tmp_path):
    X, y = data
    Y = y if outputs == 1 else np.column_stack([y, -y])
    model = est.__sklearn_clone__().fit(X, Y)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    assert type(back) is type(model)
    assert back.get_params() == model.get_params()
    assert_array_equal(back.predict(X), model.predict(X))
    for a, b in zip(_state(model), _state(back), strict=True):
        assert_array_equal(b, a)
        assert np.asarray(b).dtype == np.asarray(a).dtype
    assert back.loss_curve_ == model.loss_curve_
    assert back.n_iter_ == model.n_iter_
    assert back.n_features_in_ == model.n_features_in_
    assert type(back.intercept_ if hasattr(back, "intercept_") else back.intercepts_) \
        is type(model.intercept_ if hasattr(model, "intercept_") else model.intercepts_)
    assert back.score(X, Y) == model.score(X, Y)


@pytest.mark.parametrize("est", [e for e in ESTIMATORS if not e.get_params().get(
    "early_stopping")], ids=_ids)
def test_partial_fit_continues_identically(est, data, tmp_path):
    X, y = data
    model = est.__sklearn_clone__().partial_fit(X[:40], y[:40])
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    for rows in (slice(40, 80), slice(0, 80)):
        model.partial_fit(X[rows], y[rows])
        back.partial_fit(X[rows], y[rows])
    for a, b in zip(_state(model), _state(back), strict=True):
        assert_array_equal(b, a)
    assert back.loss_curve_ == model.loss_curve_


def test_adam_state_is_saved(data, tmp_path):
    X, y = data
    net = TwoLayerNet(hidden_units=4, max_iter=3, tol=None, random_state=0).fit(X, y)
    save(net, tmp_path / "m.npz")
    state = load(tmp_path / "m.npz")._optimizer_state
    assert state["t"] == net._optimizer_state["t"] > 0
    for key in ("m", "v"):
        for name, arr in net._optimizer_state[key].items():
            assert_array_equal(state[key][name], arr)
            assert state[key][name].flags.writeable


def test_float32_and_feature_names_survive(tmp_path):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(30, 2)).astype(np.float32), columns=["a", "b"])
    y = X["a"] - X["b"]
    model = TwoLayerNet(hidden_units=3, max_iter=5, tol=None, random_state=0).fit(X, y)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    assert back.coefs_[0].dtype == np.float32
    assert_array_equal(back.feature_names_in_, model.feature_names_in_)
    assert_array_equal(back.predict(X), model.predict(X))


def test_file_holds_no_pickles(fitted, tmp_path):
    save(fitted, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        for name in npz.files:
            assert npz[name].dtype != object
        meta = json.loads(npz["__meta__"].tobytes())
    assert meta["class"] == "LinearRegressor"
    assert meta["numpynn_version"] == numpynn.__version__
    assert meta["params"]["dict"]["solver"] == "lstsq"


def test_path_is_written_exactly_and_overwritten(fitted, data, tmp_path):
    path = tmp_path / "model.bin"
    save(LinearRegressor(solver="lstsq").fit(data[0], -data[1]), path)
    save(fitted, str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    assert_array_equal(load(str(path)).coef_, fitted.coef_)


def test_unfitted_model_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        save(TwoLayerNet(), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_foreign_estimator_is_refused(data, tmp_path):
    from sklearn.linear_model import LinearRegression

    class MyNet(LinearRegressor):
        pass

    for est in (LinearRegression().fit(*data), MyNet(solver="lstsq").fit(*data)):
        with pytest.raises(ValueError, match="numpynn.save saves LinearRegressor, TwoLayerNet "
                           "and these scikit-learn classes: Pipeline, .*; got "):
            save(est, tmp_path / "m.npz")


def test_callbacks_are_saved_as_none_with_a_warning(data, tmp_path):
    seen = []
    model = LinearRegressor(max_iter=3, tol=None, callbacks=[lambda est, logs: seen.append(logs)])
    model.fit(*data)
    with pytest.warns(UserWarning, match="callbacks cannot be saved"):
        save(model, tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").callbacks is None
    assert model.callbacks is not None              # the live model is untouched


# -- refusing bad files ------------------------------------------------------
def _rewrite(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _arrays(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _meta(arrays):
    return json.loads(arrays["__meta__"].tobytes())


def _set_meta(arrays, meta):
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    return arrays


def _resign(arrays):
    """Rewrite the array table and the checksum, as a careful forger would."""
    body = {k: v for k, v in arrays.items() if k not in ("__meta__", "__checksum__")}
    meta = _meta(arrays)
    meta["arrays"] = {k: [v.dtype.str, list(v.shape)] for k, v in body.items()}
    text = json.dumps(meta)
    _set_meta(arrays, meta)
    arrays["__checksum__"] = np.frombuffer(_checksum(text, body).encode(), np.uint8)
    return arrays


def _edit_meta(arrays, edit):
    meta = _meta(arrays)
    edit(meta)
    return _set_meta(arrays, meta)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "m.npz"
    save(fitted, path)
    return path


def test_truncated_file_is_refused(saved):
    raw = saved.read_bytes()
    for cut in (0, 10, len(raw) // 2, len(raw) - 30):
        saved.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="not a valid numpynn model file"):
            load(saved)


def test_flipped_array_byte_is_refused(saved):
    arrays = _arrays(saved)
    coef = arrays["attributes/coef_"].copy()
    coef.view(np.uint8)[3] ^= 1
    arrays["attributes/coef_"] = coef
    _rewrite(saved, arrays)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load(saved)


def test_edited_json_is_refused(saved):
    arrays = _edit_meta(_arrays(saved),
                        lambda m: m["params"]["dict"].update(alpha={"float": "1.0"}))
    _rewrite(saved, arrays)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load(saved)


def test_object_array_is_refused(saved):
    arrays = _arrays(saved)
    arrays["attributes/coef_"] = np.array([object()], dtype=object)
    with open(saved, "wb") as f:
        np.savez(f, **arrays)                 # numpy pickles object arrays into .npz
    with pytest.raises(ValueError, match="pickled"):
        load(saved)


def test_pickle_file_is_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled!",))

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="not a valid numpynn model file"):
        load(path)


def test_plain_npy_and_foreign_npz_are_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    np.savez(tmp_path / "b.npz", w=np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        load(tmp_path / "a.npy")
    with pytest.raises(ValueError, match="not a numpynn model file"):
        load(tmp_path / "b.npz")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update({"class": "os.system"}), "unknown class 'os.system'"),
    (lambda m: m.update(numpynn_version="0.2.0"), "same major.minor version"),
    (lambda m: m.update(numpynn_version="1.1.0"), "was saved by numpynn 1.1.0"),
    (lambda m: m.update(format=99), "file format 99"),
    (lambda m: m.pop("params"), r"lacks \['params'\]"),
    (lambda m: m["params"]["dict"].update(solver="magic"), "'solver' parameter"),
    (lambda m: m["params"]["dict"].update(evil=1), r"unknown LinearRegressor parameters"),
    (lambda m: m["attributes"]["dict"].pop("coef_"), "missing the array|missing fitted"),
    (lambda m: m["attributes"]["dict"].update(predict=1), "not fitted attributes"),
    (lambda m: m["attributes"]["dict"].update(n_features_in_=7), "inconsistent"),
], ids=["class", "minor", "major", "format", "params", "bad-param", "unknown-param",
        "attribute", "shadow", "n_features"])
def test_forged_metadata_is_refused(saved, edit, message):
    _rewrite(saved, _resign(_edit_meta(_arrays(saved), edit)))
    with pytest.raises(ValueError, match=message):
        load(saved)


def test_patch_version_difference_loads(saved):
    major, minor, *_ = numpynn.__version__.split(".")
    arrays = _edit_meta(_arrays(saved),
                        lambda m: m.update(numpynn_version=f"{major}.{minor}.99"))
    _rewrite(saved, _resign(arrays))
    assert load(saved).n_features_in_ == 3


def test_missing_and_extra_arrays_are_refused(saved):
    arrays = _arrays(saved)
    del arrays["attributes/coef_"]
    _rewrite(saved, _resign(arrays))
    with pytest.raises(ValueError, match="array 'attributes/coef_' is missing"):
        load(saved)
    arrays = _arrays(saved)
    arrays["attributes/coef_"] = np.zeros(3)
    arrays["sneaky"] = np.zeros(2)
    _rewrite(saved, _resign(arrays))
    with pytest.raises(ValueError, match="unexpected arrays"):
        load(saved)


def test_non_finite_parameters_are_refused(saved):
    arrays = _arrays(saved)
    arrays["attributes/coef_"] = np.full(3, np.nan)
    _rewrite(saved, _resign(arrays))
    with pytest.raises(ValueError, match="not finite"):
        load(saved)


def test_interrupted_save_leaves_previous_file(fitted, saved, monkeypatch):
    before = saved.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(KeyboardInterrupt):
        save(fitted, saved)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]


# -- pickle and joblib keep working --------------------------------------------
@pytest.mark.parametrize("est", [ESTIMATORS[0], ESTIMATORS[2], ESTIMATORS[4]], ids=_ids)
def test_pickle_and_joblib_round_trip(est, data):
    X, y = data
    model = est.__sklearn_clone__().fit(X, y)
    for back in (pickle.loads(pickle.dumps(model)),
                 joblib.load(_joblib_bytes(model))):
        assert_array_equal(back.predict(X), model.predict(X))
        back.partial_fit(X, y)
        assert np.isfinite(back.predict(X)).all()


def _joblib_bytes(model):
    buf = io.BytesIO()
    joblib.dump(model, buf)
    buf.seek(0)
    return buf


def test_saved_file_is_a_plain_zip(saved):
    names = zipfile.ZipFile(saved).namelist()
    assert "__meta__.npy" in names and "__checksum__.npy" in names
