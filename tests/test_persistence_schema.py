"""Every saved attribute is checked (issue 12, items 9 and 10).

Files here are forged the way a careful forger would: the arrays or the
JSON edited, the array table and the checksum recomputed, so only the
schema checks (numpynn/_schema.py) stand between the file and a model
that ``partial_fit`` would silently continue wrongly.
"""

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numpynn import LinearRegressor, TwoLayerNet, load, save
from numpynn.persistence import _checksum

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 + 0.1 * rng.normal(size=60)


def _arrays(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _forge(path, edit_arrays=None, edit_meta=None):
    """Edit a saved file, then rewrite its array table and checksum."""
    arrays = _arrays(path)
    meta = json.loads(arrays.pop("__meta__").tobytes())
    arrays.pop("__checksum__")
    if edit_arrays:
        edit_arrays(arrays)
    if edit_meta:
        edit_meta(meta["attributes"]["dict"])
    meta["arrays"] = {k: [v.dtype.str, list(v.shape)] for k, v in arrays.items()}
    text = json.dumps(meta)
    np.savez(path, __meta__=np.frombuffer(text.encode(), np.uint8),
             __checksum__=np.frombuffer(_checksum(text, arrays).encode(), np.uint8), **arrays)


def _saved(model, tmp_path):
    path = tmp_path / "m.npz"
    save(model, path)
    return path


# -- item 10: the least-squares state ----------------------------------------------
QR = "attributes/_lstsq_state/0"


def _set(name, value):
    def edit(arrays):
        arrays[name] = value(arrays[name]) if callable(value) else value
    return edit


def _lower(R):
    R = R.copy()
    R[2, 1] = 1.0
    return R


@pytest.mark.parametrize("edit, message", [
    (_set(QR, lambda R: R[:-1, :-1]), r"_lstsq_state\[0\] has shape \(4, 4\), expected \(5, 5\)"),
    (_set(QR, lambda R: R.astype(complex)), r"'attributes/_lstsq_state/0': dtype '<c16' is not"),
    (_set(QR, lambda R: R.astype("datetime64[s]")), r"_lstsq_state/0': dtype '<M8\[s\]' is not"),
    (_set(QR, lambda R: R.astype(np.float32)),
     r"_lstsq_state\[0\] has dtype float32, expected float64"),
    (_set(QR, lambda R: R.astype(np.int64)),
     r"_lstsq_state\[0\] has dtype int64, expected float64"),
    (_set(QR, lambda R: np.where(R == R.max(), np.nan, R)), r"_lstsq_state\[0\] is not finite"),
    (_set(QR, _lower), r"_lstsq_state\[0\] is not upper triangular"),
    (_set(QR, lambda R: np.triu(np.ones_like(R)) - np.eye(5)[0] * np.eye(5)),
     r"_lstsq_state\[0\] has R\[0, 0\] = 0"),
], ids=["shape", "complex", "datetime", "float32", "int", "nan", "lower", "empty"])
def test_forged_least_squares_state_is_refused(edit, message, data, tmp_path):
    path = _saved(LinearRegressor(solver="lstsq").fit(*data), tmp_path)
    _forge(path, edit)
    with pytest.raises(ValueError, match="inconsistent fitted attributes: .*" + message
                       if "dtype '" not in message else message):
        load(path)


def test_partial_fit_after_load_of_least_squares_matches_one_fit(data, tmp_path):
    X, y = data
    path = _saved(LinearRegressor(solver="lstsq").fit(X[:30], y[:30]), tmp_path)
    back = load(path).partial_fit(X[30:], y[30:])
    once = LinearRegressor(solver="lstsq").fit(X, y)
    np.testing.assert_allclose(back.coef_, once.coef_, rtol=1e-12)


# -- item 10: the optimizer state -----------------------------------------------------
M = "attributes/_optimizer_state"


def _net(optimizer, data, dtype=np.float64):
    X, y = data
    return TwoLayerNet(hidden_units=4, max_iter=3, tol=None, optimizer=optimizer,
                       random_state=0).fit(X.astype(dtype), y)


@pytest.mark.parametrize("optimizer, arrays, meta, message", [
    ("adam", _set(f"{M}/m/W1", lambda a: a[:, :3]), None,
     r"\['m'\]\['W1'\] has shape \(3, 3\), expected \(3, 4\)"),
    ("adam", _set(f"{M}/v/b1", lambda a: -a - 1), None, r"\['v'\]\['b1'\] has negative"),
    ("adam", _set(f"{M}/v/W2", lambda a: a * np.nan), None, r"\['v'\]\['W2'\] is not finite"),
    ("adam", _set(f"{M}/m/b2", lambda a: a.astype(np.float32)), None,
     r"\['m'\]\['b2'\] has dtype float32, expected float64"),
    ("adam", None, lambda m: m["_optimizer_state"]["dict"].update(t=-1), r"\['t'\]=-1"),
    ("adam", None, lambda m: m["_optimizer_state"]["dict"].update(t={"float": "3.0"}),
     r"\['t'\]=3.0 is not an int"),
    ("adam", None, lambda m: m["_optimizer_state"]["dict"].pop("v"), "must be a dict with"),
    ("momentum", _set(f"{M}/W1", lambda a: a.astype(complex)), None, "dtype '<c16'"),
    ("momentum", None, lambda m: m["_optimizer_state"]["dict"].update(W3=1), "dict with keys"),
    ("momentum", _set(f"{M}/b1", lambda a: np.full_like(a, np.inf)), None, "not finite"),
    ("sgd", None, lambda m: m.update(_optimizer_state={"dict": {}}), "must be None"),
], ids=["adam-shape", "adam-negative-v", "adam-nan", "adam-dtype", "adam-t", "adam-t-float",
        "adam-missing", "momentum-complex", "momentum-extra", "momentum-inf", "sgd"])
def test_forged_optimizer_state_is_refused(optimizer, arrays, meta, message, data, tmp_path):
    path = _saved(_net(optimizer, data), tmp_path)
    _forge(path, arrays, meta)
    with pytest.raises(ValueError, match=message):
        load(path)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(n_iter_=-1), "n_iter_=-1 is not an int >= 0"),
    (lambda m: m.update(n_outputs_=0), "n_outputs_=0 is not an int >= 1"),
    (lambda m: m.update(loss_curve_={"tuple": []}), "loss_curve_ is not a list of floats"),
    (lambda m: m.update(loss_={"float": "nan"}), "loss_=nan is not a finite float"),
    (lambda m: m.update(coefs_={"tuple": m["coefs_"]["list"]}), "coefs_ is not a list of 2"),
    (lambda m: m.update(t_=True), "t_=True is not an int"),
], ids=["n_iter", "n_outputs", "curve", "loss", "coefs-tuple", "t-bool"])
def test_forged_scalars_are_refused(edit, message, data, tmp_path):
    path = _saved(_net("adam", data), tmp_path)
    _forge(path, edit_meta=edit)
    with pytest.raises(ValueError, match=message):
        load(path)


@pytest.mark.parametrize("name, value, message", [
    ("attributes/coef_", lambda a: a.astype(np.float32),
     "intercept_ has dtype float64, expected float32"),
    ("attributes/coef_", lambda a: a.astype(np.int64), "coef_ has dtype int64"),
    ("attributes/coef_", lambda a: np.append(a, 1.0), r"coef_ has shape \(4,\)"),
], ids=["float32", "int", "shape"])
def test_forged_coefficients_are_refused(name, value, message, data, tmp_path):
    path = _saved(LinearRegressor(solver="newton").fit(*data), tmp_path)
    _forge(path, _set(name, value))
    with pytest.raises(ValueError, match=message):
        load(path)


def test_save_refuses_a_nan_optimizer_state_and_writes_nothing(data, tmp_path):
    net = _net("adam", data)
    net._optimizer_state["m"]["W1"][0, 0] = np.nan        # what a failed partial_fit left
    with pytest.raises(ValueError, match=r"cannot save the TwoLayerNet: inconsistent fitted "
                       r"attributes: _optimizer_state .*\['m'\]\['W1'\] is not finite"):
        save(net, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_float32_model_state_keeps_its_dtype(data, tmp_path):
    net = _net("momentum", data, np.float32)
    back = load(_saved(net, tmp_path))
    assert back._optimizer_state["W1"].dtype == np.float32
    reg = LinearRegressor(solver="lstsq").fit(data[0].astype(np.float32), data[1])
    back = load(_saved(reg, tmp_path))
    assert back.coef_.dtype == np.float32 and back._lstsq_state[0].dtype == np.float64


# -- generic attributes and item 9 ------------------------------------------------------
def test_new_fitted_attributes_round_trip_without_schema_entries(data, tmp_path):
    reg = LinearRegressor(solver="lstsq").fit(*data)
    reg.rank_, reg.singular_ = 3, np.array([3.0, 2.0, 1.0])
    reg.learning_rate_curve_ = [0.1, 0.05]
    back = load(_saved(reg, tmp_path))
    assert back.rank_ == 3 and type(back.rank_) is int
    assert_array_equal(back.singular_, reg.singular_)
    assert back.learning_rate_curve_ == [0.1, 0.05]


def test_slash_in_dict_keys_does_not_collide(data, tmp_path):
    reg = LinearRegressor(solver="lstsq").fit(*data)
    reg.extra_ = {"a/b": np.array([1.0]), "a": {"b": np.array([2.0])},
                  "a%2Fb": np.array([3.0]), "": np.array([4.0]), "é/..": np.array([5.0])}
    back = load(_saved(reg, tmp_path)).extra_
    assert list(back) == list(reg.extra_)
    for key in ("a/b", "a%2Fb", "", "é/.."):
        assert_array_equal(back[key], reg.extra_[key])
    assert_array_equal(back["a"]["b"], [2.0])


@pytest.mark.parametrize("name, message", [
    ("_cache", r"attributes \['_cache'\] are not fitted attributes .*_lstsq_state"),
    ("note", r"attributes \['note'\] are not fitted attributes"),
    ("predict_", None),                      # a fitted-looking name is stored generically
])
def test_attribute_names_are_checked_at_save(name, message, data, tmp_path):
    reg = LinearRegressor(solver="lstsq").fit(*data)
    setattr(reg, name, 1)
    if message is None:
        assert getattr(load(_saved(reg, tmp_path)), name) == 1
        return
    with pytest.raises(ValueError, match=message):
        save(reg, tmp_path / "m.npz")


@pytest.mark.parametrize("value, message", [
    (object(), r"cannot save 'attributes/odd_': values of type object are not supported"),
    (np.array([1j]), r"cannot save 'attributes/odd_': dtype complex128 is not a real numeric"),
    (np.array(["a"]), r"cannot save 'attributes/odd_': dtype <U1 is not a real numeric"),
    (2 ** 70, r"cannot save 'attributes/odd_': the int 1180591620717411303424 exceeds 64"),
    ({1: 2}, r"cannot save 'attributes/odd_': values of type dict are not supported"),
])
def test_values_that_cannot_be_stored_are_refused_at_save(value, message, data, tmp_path):
    reg = LinearRegressor(solver="lstsq").fit(*data)
    reg.odd_ = value
    with pytest.raises(ValueError, match=message):
        save(reg, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_a_file_holding_an_unfitted_model_is_refused(data, tmp_path):
    path = _saved(LinearRegressor(solver="newton").fit(*data), tmp_path)
    _forge(path, lambda arrays: arrays.clear(), lambda m: m.clear())
    with pytest.raises(ValueError, match="the LinearRegressor is not fitted"):
        load(path)
