"""numpynn.save / numpynn.load of scikit-learn pipelines (issue 15, item 2).

Pipelines and TransformedTargetRegressors of the allow-listed scikit-learn
steps and numpynn estimators round-trip without pickle: same classes, equal
hyperparameters, bit-identical fitted state, transforms and predictions.
Anything else is refused at save, and forged files are refused at load.
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from numpynn import LinearRegressor, TwoLayerNet, load, save
from numpynn.persistence import _checksum

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _net(**kw):
    return TwoLayerNet(hidden_units=5, max_iter=8, tol=None, random_state=0, **kw)


def _lstsq():
    return LinearRegressor(solver="lstsq")


MODELS = {
    "standard": lambda: make_pipeline(StandardScaler(), _lstsq()),
    "standard-no-mean": lambda: make_pipeline(StandardScaler(with_mean=False), _net()),
    "minmax": lambda: make_pipeline(MinMaxScaler((-1, 2), clip=True),
                                    LinearRegressor(learning_rate=0.1, max_iter=50)),
    "maxabs": lambda: make_pipeline(MaxAbsScaler(), LinearRegressor(solver="newton")),
    "robust": lambda: make_pipeline(RobustScaler(quantile_range=(10.0, 90.0)),
                                    _net(optimizer="momentum")),
    "robust-centre": lambda: make_pipeline(RobustScaler(with_scaling=False), _lstsq()),
    "poly": lambda: make_pipeline(StandardScaler(), PolynomialFeatures(2), _lstsq()),
    "poly-interactions": lambda: make_pipeline(
        PolynomialFeatures((1, 3), interaction_only=True, include_bias=False, order="F"),
        _net(optimizer="sgd", learning_rate=1e-3)),
    "function": lambda: Pipeline([("cbrt", FunctionTransformer(np.cbrt, check_inverse=False)),
                                  ("skip", "passthrough"), ("fit", _lstsq())]),
    "ttr-nested": lambda: TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), _net()), transformer=StandardScaler()),
    "ttr-identity": lambda: TransformedTargetRegressor(regressor=_lstsq()),
    "ttr-log": lambda: TransformedTargetRegressor(
        regressor=make_pipeline(MinMaxScaler(), _lstsq()), func=np.log1p,
        inverse_func=np.expm1, check_inverse=False),
    "pipeline-ttr-pipeline": lambda: make_pipeline(RobustScaler(), TransformedTargetRegressor(
        regressor=make_pipeline(PolynomialFeatures(2), _lstsq()), transformer=MaxAbsScaler())),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(70, 3))
    y = 5 + X @ [1.0, -2.0, 0.5] + np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=70)
    return X, y


def same_params(a, b):
    """Equal hyperparameters, recursing into estimators (get_params(deep=False))."""
    if hasattr(a, "get_params"):
        assert type(a) is type(b)
        pa, pb = a.get_params(deep=False), b.get_params(deep=False)
        assert pa.keys() == pb.keys()
        for key in pa:
            same_params(pa[key], pb[key])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, z in zip(a, b, strict=True):
            same_params(x, z)
    else:
        assert a is b or a == b, (a, b)


def same_state(a, b):
    """Bit-identical fitted state: every attribute of every object, arrays by bytes."""
    if hasattr(a, "get_params"):
        assert type(a) is type(b) and vars(a).keys() == vars(b).keys()
        for key in vars(a):
            same_state(vars(a)[key], vars(b)[key])
    elif isinstance(a, np.ndarray | np.generic):
        assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes() if a.dtype != object else a.tolist() == b.tolist()
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, z in zip(a, b, strict=True):
            same_state(x, z)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same_state(a[key], b[key])
    else:
        assert type(a) is type(b) and (a is b or a == b), (a, b)


@pytest.mark.parametrize("kind", list(MODELS))
def test_pipelines_round_trip_bit_identically(kind, data, tmp_path):
    X, y = data
    model = MODELS[kind]().fit(X, y)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    same_params(model, back)
    same_state(model, back)
    pred = model.predict(X)
    assert back.predict(X).dtype == pred.dtype
    assert_array_equal(back.predict(X), pred)
    if isinstance(model, Pipeline) and len(model) > 1:
        assert_array_equal(back[:-1].transform(X), model[:-1].transform(X))


def test_two_outputs_and_pandas_output(data, tmp_path):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    Y = np.column_stack([y, -2 * y])
    model = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler().set_output(transform="pandas"), _net()),
        transformer=StandardScaler()).fit(frame, Y)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    same_state(model, back)
    assert_array_equal(back.predict(frame), model.predict(frame))
    assert isinstance(back.regressor_[0].transform(frame), pd.DataFrame)
    assert list(back.regressor_.feature_names_in_) == ["a", "b", "c"]


def test_float32_pipeline_keeps_its_dtype(data, tmp_path):
    X, y = data
    model = make_pipeline(MinMaxScaler(), _net()).fit(X.astype(np.float32), y)
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    pred = back.predict(X.astype(np.float32))
    assert pred.dtype == np.float32
    assert_array_equal(pred, model.predict(X.astype(np.float32)))


@pytest.mark.parametrize("estimator", [_lstsq, _net], ids=["lstsq", "adam"])
def test_partial_fit_inside_a_loaded_pipeline_continues_identically(estimator, data, tmp_path):
    X, y = data
    model = make_pipeline(StandardScaler(), estimator()).fit(X[:40], y[:40])
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    for m in (model, back):
        m[-1].partial_fit(m[0].transform(X[40:]), y[40:])
    same_state(model, back)


# -- refused at save ------------------------------------------------------------
class MyScaler(StandardScaler):
    pass


SUPPORTED = ("numpynn.save saves LinearRegressor, TwoLayerNet and these scikit-learn "
             "classes: Pipeline, TransformedTargetRegressor, StandardScaler, MinMaxScaler, "
             "MaxAbsScaler, RobustScaler, PolynomialFeatures, FunctionTransformer "
             r"\(exact classes, not subclasses\); got ")


@pytest.mark.parametrize("build, message", [
    (lambda: make_pipeline(FunctionTransformer(lambda x: 2 * x), _lstsq()),
     r"cannot save 'params/steps/0/1/params/func': <function .*<lambda>.* is code; the "
     r"only functions that can be saved are numpy.log, numpy.exp, numpy.log1p"),
    (lambda: make_pipeline(Normalizer(), _lstsq()),
     SUPPORTED + "Normalizer at 'params/steps/0/1'"),
    (lambda: make_pipeline(MyScaler(), _lstsq()), SUPPORTED + "MyScaler at"),
    (lambda: make_pipeline(StandardScaler(), LinearRegression()),
     SUPPORTED + "LinearRegression at 'params/steps/1/1'"),
    (lambda: TransformedTargetRegressor(_lstsq(), func=np.sin, inverse_func=np.arcsin,
                                        check_inverse=False),
     "cannot save 'params/func': <ufunc 'sin'> is code"),
    (lambda: make_pipeline(StandardScaler(), _lstsq(), memory="/tmp/cache"),
     "The 'memory' parameter of Pipeline must be None"),
], ids=["lambda", "normalizer", "subclass", "sklearn-regressor", "sin", "memory"])
def test_unsupported_steps_are_refused_at_save(build, message, data, tmp_path):
    model = build().fit(*data)
    with pytest.raises(ValueError, match=message):
        save(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_unknown_attribute_on_a_scaler_is_refused(data, tmp_path):
    model = make_pipeline(StandardScaler(), _lstsq()).fit(*data)
    model[0].note_ = "mine"
    with pytest.raises(ValueError, match=r"cannot save the StandardScaler at 'params/steps/0/1':"
                       r" attributes \['note_'\] are not fitted attributes \(StandardScaler has"):
        save(model, tmp_path / "m.npz")


def test_unfitted_pipeline_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        save(make_pipeline(StandardScaler(), _lstsq()), tmp_path / "m.npz")


def test_callbacks_inside_a_pipeline_are_saved_as_none(data, tmp_path):
    model = make_pipeline(StandardScaler(), LinearRegressor(
        max_iter=3, tol=None, callbacks=[lambda est, logs: None])).fit(*data)
    with pytest.warns(UserWarning, match="callbacks cannot be saved") as record:
        save(model, tmp_path / "m.npz")
    assert len(record) == 1 and record[0].filename == __file__
    assert load(tmp_path / "m.npz")[-1].callbacks is None


# -- forged files are refused at load --------------------------------------------
def _forge(path, edit):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    arrays.pop("__checksum__")
    edit(meta, arrays)
    meta["arrays"] = {k: [v.dtype.str, list(v.shape)] for k, v in arrays.items()}
    text = json.dumps(meta)
    np.savez(path, __meta__=np.frombuffer(text.encode(), np.uint8),
             __checksum__=np.frombuffer(_checksum(text, arrays).encode(), np.uint8), **arrays)


def _step(meta, i):
    """The encoded body of step ``i`` of the saved Pipeline."""
    return meta["params"]["dict"]["steps"]["list"][i]["tuple"][1]["estimator"]


def _set_array(name, value):
    def edit(meta, arrays):
        arrays[name] = value(arrays[name])
    return edit


POLY = "params/steps/1/1/attributes/n_output_features_"


@pytest.mark.parametrize("edit, message", [
    (lambda m, a: _step(m, 0).update({"class": "os.system"}), "unknown class 'os.system'"),
    (lambda m, a: _step(m, 0).update({"class": "sklearn.preprocessing.Normalizer"}),
     "unknown class 'sklearn.preprocessing.Normalizer'"),
    (_set_array("params/steps/0/1/attributes/mean_", lambda v: v[:2]),
     r"inconsistent fitted attributes: mean_ has shape \(2,\), expected \(3,\)"),
    (_set_array("params/steps/0/1/attributes/scale_", lambda v: -v),
     "scale_ has negative entries"),
    (lambda m, a: _step(m, 1)["attributes"]["dict"].update(n_output_features_=11),
     r"PolynomialFeatures.n_output_features_=11, but its parameters on 3 features give 10"),
    (lambda m, a: _step(m, 0)["attributes"]["dict"].update(transform=1),
     r"attributes \['transform'\] are not fitted attributes"),
    (lambda m, a: _step(m, 0)["attributes"]["dict"].update(
        _sklearn_output_config={"dict": {"transform": "evil"}}), "'evil' is not one of"),
    (lambda m, a: _step(m, 0)["params"]["dict"].update(with_mean="yes"),
     "The 'with_mean' parameter of StandardScaler must be a bool; got 'yes'"),
    (lambda m, a: m["params"]["dict"]["steps"]["list"][0]["tuple"].__setitem__(1, "rm -rf"),
     "The 'steps' parameter of Pipeline must be"),
    (lambda m, a: _step(m, 0).update({"params": {"dict": {"func": {"function": "os.system"}}}}),
     "unknown function 'os.system'"),
], ids=["os-system", "not-allowed", "shape", "negative", "poly", "shadow", "output",
        "param", "steps", "function"])
def test_forged_pipelines_are_refused(edit, message, data, tmp_path):
    path = tmp_path / "m.npz"
    save(make_pipeline(StandardScaler(), PolynomialFeatures(2), _lstsq()).fit(*data), path)
    _forge(path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_file_names_only_allow_listed_classes(data, tmp_path):
    save(MODELS["ttr-nested"]().fit(*data), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        text = npz["__meta__"].tobytes().decode()
    classes = sorted(set(re.findall(r'"class":"([^"]+)"', text)))
    assert classes == ["TwoLayerNet", "sklearn.compose.TransformedTargetRegressor",
                       "sklearn.pipeline.Pipeline", "sklearn.preprocessing.StandardScaler"]


def test_the_docs_page_code_runs():
    page = Path(__file__).resolve().parent.parent / "docs" / "persistence.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/persistence.md", "exec"), namespace)  # noqa: S102
    assert_array_equal(namespace["back"].predict(namespace["X"]),
                       namespace["model"].predict(namespace["X"]))


def test_errors_page_lists_what_save_supports(data, tmp_path):
    """docs/errors.md quotes the refusal messages as the code writes them."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text("utf-8")
    for build, placeholder in [
        (lambda: make_pipeline(Normalizer(), _lstsq()), "Normalizer at 'params/steps/0/1'"),
        (lambda: make_pipeline(FunctionTransformer(np.sin, check_inverse=False), _lstsq()),
         "'params/steps/0/1/params/func': <ufunc 'sin'>"),
    ]:
        with pytest.raises(ValueError) as info:
            save(build().fit(*data), tmp_path / "m.npz")
        message = str(info.value)
        template = (message.replace(placeholder, "<class>[ at '<where>']")
                    if "Normalizer" in placeholder else
                    message.replace(placeholder, "'<where>': <function>"))
        assert f"ValueError: {template}" in page
