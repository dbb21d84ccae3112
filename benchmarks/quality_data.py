"""The quality table's data sets: real ones that installed packages ship, and classic
synthetic ones. Nothing is downloaded.

Each loader returns ``(X, y)`` as float64 arrays, the same on every call
(synthetic data from a fixed seed); the benchmark varies only the split.
Real data sets come from scikit-learn (always installed) and from
statsmodels and vega_datasets (the ``bench`` extra,
``pip install "numpynn[bench]"``); a loader whose package is missing
raises ``ImportError`` and the benchmark lists the data set as skipped.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn import datasets as skd

#: Noise levels of Friedman's three functions as Breiman ("Bagging
#: predictors", 1996) used them: signal-to-noise about 3:1 for #2 and #3.
FRIEDMAN_NOISE = {1: 1.0, 2: 125.0, 3: 0.1}


def _statsmodels(name):
    import importlib

    with warnings.catch_warnings():         # pandas/statsmodels deprecation chatter
        warnings.simplefilter("ignore")
        mod = importlib.import_module(f"statsmodels.datasets.{name}")
        return mod.load_pandas().data


def diabetes():
    """scikit-learn's diabetes: 442 patients, 10 baseline variables, progression after a year."""
    X, y = skd.load_diabetes(return_X_y=True, scaled=False)
    return X, y


def friedman(k, n=1000):
    """Friedman #k (1, 2 or 3), ``n`` rows, Breiman's noise level, seed 0."""
    make = {1: skd.make_friedman1, 2: skd.make_friedman2, 3: skd.make_friedman3}[k]
    return make(n_samples=n, noise=FRIEDMAN_NOISE[k], random_state=0)


def sine(n=500):
    """``y = sin(2x) + N(0, 0.2^2)`` for ``x ~ U(-3, 3)``, seed 0."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + rng.normal(0, 0.2, n)


def linear(n=500):
    """``make_regression``: 20 features, 10 informative, noise 10, seed 0."""
    return skd.make_regression(n_samples=n, n_features=20, n_informative=10, noise=10.0,
                               random_state=0)


def smooth(n=20_000):
    """The network benchmark's data (:func:`benchmarks.cases_net.make_data`, d=20):
    a smooth target of five features plus noise, seed 0."""
    from .cases_net import make_data

    return make_data(n, 20, np.float64)


def star98():
    """statsmodels' star98: 303 California school districts, 20 covariates;
    target the share of pupils above the national maths median."""
    df = _statsmodels("star98")
    y = df["NABOVE"] / (df["NABOVE"] + df["NBELOW"])
    return df.drop(columns=["NABOVE", "NBELOW"]).to_numpy(float), y.to_numpy(float)


def anes96():
    """statsmodels' anes96: 944 voters of the 1996 US election survey; party
    identification (0-6) from left-right placements, TV news, age, education,
    income and log population (the vote itself left out)."""
    df = _statsmodels("anes96")
    cols = ["logpopul", "TVnews", "selfLR", "ClinLR", "DoleLR", "age", "educ", "income"]
    return df[cols].to_numpy(float), df["PID"].to_numpy(float)


def fair():
    """statsmodels' fair: 6366 women of a 1974 survey; time spent in affairs from
    8 covariates (a noisy, zero-inflated target)."""
    df = _statsmodels("fair")
    return df.drop(columns=["affairs"]).to_numpy(float), df["affairs"].to_numpy(float)


def randhie(n=5000):
    """statsmodels' randhie: the RAND health insurance experiment, outpatient
    visits from 9 covariates; the first ``n`` of its 20190 rows."""
    df = _statsmodels("randhie").iloc[:n]
    return df.drop(columns=["mdvis"]).to_numpy(float), df["mdvis"].to_numpy(float)


def auto_mpg():
    """vega_datasets' cars (UCI Auto MPG): 392 cars with complete rows; miles per
    gallon from cylinders, displacement, horsepower, weight, acceleration, model
    year and origin (one-hot)."""
    from vega_datasets import local_data

    with warnings.catch_warnings():         # its read_json keyword, deprecated by pandas
        warnings.simplefilter("ignore")
        df = local_data.cars().dropna()
    X = df[["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"]]
    X = X.assign(Year=df["Year"].dt.year)
    origin = (df["Origin"].to_numpy()[:, None] == np.array(["Europe", "Japan"])).astype(float)
    return np.hstack([X.to_numpy(float), origin]), df["Miles_per_Gallon"].to_numpy(float)


#: name -> (loader, kind, source)
DATASETS = {
    "diabetes": (diabetes, "real", "sklearn"),
    "auto_mpg": (auto_mpg, "real", "vega_datasets"),
    "star98": (star98, "real", "statsmodels"),
    "anes96": (anes96, "real", "statsmodels"),
    "fair": (fair, "real", "statsmodels"),
    "randhie_5k": (randhie, "real", "statsmodels"),
    "friedman1": (lambda: friedman(1), "synthetic", "sklearn"),
    "friedman2": (lambda: friedman(2), "synthetic", "sklearn"),
    "friedman3": (lambda: friedman(3), "synthetic", "sklearn"),
    "sine": (sine, "synthetic", "numpy"),
    "make_regression": (linear, "synthetic", "sklearn"),
}
