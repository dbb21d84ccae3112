"""``numpynn fit`` and ``numpynn predict``: a CSV file in; a model, metrics and pictures out.

The saved model is one scikit-learn object holding everything predict
needs: ``Pipeline(StandardScaler(), LinearRegressor(...))`` for
``--model linear``, and for ``--model net`` the same pipeline around a
:class:`~numpynn.TwoLayerNet` inside a
``TransformedTargetRegressor(transformer=StandardScaler())``, which
standardises the target for training and maps predictions back to its
units. The training columns' names are kept in ``feature_names_in_``, so
``predict`` finds the columns by name. Saving and loading go through
:func:`save_model` and :func:`load_model` only.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import NamedTuple

import numpy as np

from ._cli_figures import fit_figures
from ._cli_io import CliError, numeric, read_table, save_figure, write_predictions

#: Per model: the default solver and those allowed (``--solver``).
SOLVERS = {"linear": ("gd", ("gd", "lstsq", "newton")),
           "net": ("adam", ("adam", "sgd", "momentum"))}
FILES = ("model.npz", "metrics.json", "fit.png", "loss.png", "residuals.png")


class Fitted(NamedTuple):
    """What :func:`fit_and_score` returns."""

    model: object           # the fitted Pipeline or TransformedTargetRegressor
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    metrics: dict           # what metrics.json holds


# -- the two calls that touch model files ------------------------------------------
def save_model(model, path):
    """Write ``model`` (a Pipeline or TransformedTargetRegressor) with :func:`numpynn.save`."""
    from .persistence import save

    try:
        save(model, path)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot save the model to {path}: {exc}") from None


def load_model(path):
    """Read a model written by :func:`save_model` with :func:`numpynn.load`."""
    from .persistence import load

    try:
        return load(path)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot load the model {path}: {exc}") from None


# -- fit ---------------------------------------------------------------------------
def check_options(model, solver, hidden_units):
    """The solver for ``model`` (its default when None); a CliError for a mismatch."""
    default, allowed = SOLVERS[model]
    if solver is not None and solver not in allowed:
        raise CliError(f"--solver {solver} is not one for --model {model}; choose one of "
                       f"{', '.join(allowed)}")
    if hidden_units is not None and model != "net":
        raise CliError("--hidden-units applies to --model net only")
    return solver or default


def load_training_data(path, target):
    """``(X, y, features)`` from a CSV file: every column but ``target`` is a feature."""
    table = read_table(path)
    if target not in table.columns:
        raise CliError(f"{path} has no column {target!r} (--target); its columns are: "
                       f"{', '.join(table.columns)}")
    features = [c for c in table.columns if c != target]
    if not features:
        raise CliError(f"{path} has no column besides the target {target!r} to learn from")
    data = numeric(table, features + [target])                         # (n, d + 1)
    return data[:, :-1], data[:, -1], features


def make_model(model, solver, *, hidden_units=None, max_iter=None, random_state=0,
               verbose=False):
    """The unfitted model ``numpynn fit`` trains (see the module docstring)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .estimators import LinearRegressor, TwoLayerNet

    opts = {"random_state": random_state, "verbose": verbose}
    if max_iter is not None:
        opts["max_iter"] = max_iter
    if model == "linear":
        return make_pipeline(StandardScaler(), LinearRegressor(solver=solver, **opts))
    if hidden_units is not None:
        opts["hidden_units"] = hidden_units
    net = make_pipeline(StandardScaler(), TwoLayerNet(optimizer=solver, **opts))
    return TransformedTargetRegressor(regressor=net, transformer=StandardScaler())


def final_estimator(model):
    """The numpynn estimator inside the Pipeline (inside the TransformedTargetRegressor)."""
    model = getattr(model, "regressor_", model)
    return model[-1]


def split(X, y, test_size, random_state):
    """``train_test_split``, after checking both parts get at least 2 rows."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_test = math.ceil(test_size * n)
    if min(n_test, n - n_test) < 2:
        raise CliError(f"{n} rows are too few for --test-size {test_size}: it leaves "
                       f"{n - n_test} training and {n_test} test rows, and each part needs "
                       "at least 2")
    return train_test_split(X, y, test_size=test_size, random_state=random_state)


def fit_and_score(model, X, y, features, *, test_size=0.2, random_state=0):
    """Fit ``model`` on a training split and measure it on both parts.

    Returns
    -------
    Fitted
        ``metrics`` holds R^2, MAE and RMSE on ``train`` and ``test`` (in the
        target's units), ``n_iter``, the numbers of rows, ``features`` and the
        texts of any warnings training gave.
    """
    X_tr, X_te, y_tr, y_te = split(X, y, test_size, random_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_tr, y_tr)
        except ValueError as exc:                      # e.g. training diverged
            raise CliError(str(exc)) from None
    metrics = {"train": scores(y_tr, predict(model, X_tr)),
               "test": scores(y_te, predict(model, X_te)),
               "n_iter": int(final_estimator(model).n_iter_),
               "n_train": len(y_tr), "n_test": len(y_te), "features": list(features),
               "warnings": list(dict.fromkeys(str(w.message) for w in caught))}
    return Fitted(model, X_tr, X_te, y_tr, y_te, metrics)


def scores(y, pred):
    """R^2, mean absolute error and root mean squared error, as plain floats."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {"r2": float(r2_score(y, pred)), "mae": float(mean_absolute_error(y, pred)),
            "rmse": float(np.sqrt(mean_squared_error(y, pred)))}


def name_features(model, features):
    """Record the training columns' names as ``feature_names_in_`` (fitted on arrays).

    scikit-learn sets it only for data frames; set here, it travels with the
    saved model and lets ``predict`` match columns by name.
    """
    names = np.asarray(features, dtype=object)
    first = getattr(model, "regressor_", model)[0]
    first.feature_names_in_ = names
    if hasattr(model, "regressor_"):
        model.feature_names_in_ = names


def predict(model, X):
    """``model.predict`` on an array whose columns were matched by name already."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.predict(X)


def run_fit(args, out):
    """``numpynn fit``: train, then write the files of :data:`FILES` into ``out``."""
    solver = check_options(args.model, args.solver, args.hidden_units)
    X, y, features = load_training_data(args.data, args.target)
    model = make_model(args.model, solver, hidden_units=args.hidden_units,
                       max_iter=args.max_iter, random_state=args.random_state, verbose=True)
    fitted = fit_and_score(model, X, y, features, test_size=args.test_size,
                           random_state=args.random_state)
    for name, fig in fit_figures(fitted, args.target).items():
        save_figure(fig, out / name)
    metrics = {"target": args.target, "model": args.model, "solver": solver,
               **fitted.metrics}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n",
                                      encoding="utf-8")
    name_features(fitted.model, features)
    save_model(fitted.model, out / "model.npz")
    print(report(fitted, args, out))
    return 0


def report(fitted, args, out):
    """The short text ``numpynn fit`` prints."""
    m = fitted.metrics
    est = final_estimator(fitted.model)
    lines = [f"numpynn fit {args.data}: target {args.target!r}, {len(m['features'])} "
             f"feature(s): {', '.join(m['features'])}",
             f"  {m['n_train']} training rows, {m['n_test']} test rows (--test-size "
             f"{args.test_size}, --random-state {args.random_state})",
             f"  model: {describe(fitted.model)}, {m['n_iter']} epoch(s)",
             f"  {'':8}{'R^2':>10}{'MAE':>12}{'RMSE':>12}"]
    lines += [f"  {part:8}{m[part]['r2']:>10.4f}{m[part]['mae']:>12.4g}"
              f"{m[part]['rmse']:>12.4g}" for part in ("train", "test")]
    lines.append(f"  (MAE and RMSE in the units of {args.target!r}; "
                 f"{type(est).__name__} trained on standardised features)")
    lines += [f"  warning: {w}" for w in m["warnings"]]
    lines.append(f"Wrote {', '.join(FILES)} to {out}")
    return "\n".join(lines)


def describe(model):
    """E.g. ``StandardScaler -> TwoLayerNet(optimizer='adam'), target standardised``."""
    est = final_estimator(model)
    key = "solver" if hasattr(est, "solver") else "optimizer"
    text = f"StandardScaler -> {type(est).__name__}({key}={getattr(est, key)!r})"
    return text + (", target standardised" if hasattr(model, "regressor_") else "")


# -- predict -----------------------------------------------------------------------
def model_columns(model, table):
    """The columns of ``table`` the model was trained on, as a float array, by name.

    A model without ``feature_names_in_`` (fitted on an array in Python) takes
    every column, in order, and needs exactly as many as it has features.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return numeric(table, [str(n) for n in names], what="training column")
    d = model.n_features_in_
    if len(table.columns) != d:
        raise CliError(f"the model has no column names (fitted on an array), so "
                       f"{table.path} must have exactly its {d} feature columns, in "
                       f"training order; it has {len(table.columns)}")
    return numeric(table, table.columns)


def run_predict(args, out_file):
    """``numpynn predict``: predictions for every row, as CSV, to ``out_file`` or stdout."""
    model = load_model(args.model)
    X = model_columns(model, read_table(args.data))
    write_predictions(predict(model, X), out_file)
    return 0
