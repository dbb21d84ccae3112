"""numpynn.datasets.load_moore: the embedded transistor counts."""

import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils import Bunch

from numpynn.datasets import load_moore

# The talk's list (thousands of transistors) for the years it gives.
TALK = {1971: 2.31, 1972: 3.55, 1979: 29.16, 1982: 135.77, 1985: 273.84}


def test_bunch_keys_shapes_dtypes():
    b = load_moore()
    assert isinstance(b, Bunch)
    assert {"data", "target", "feature_names", "target_names", "frame", "DESCR",
            "processor", "designer"} <= set(b)
    n = b.data.shape[0]
    assert n >= 40
    assert b.data.shape == (n, 1) and b.target.shape == (n,)
    assert b.data.dtype == np.float64 and b.target.dtype == np.float64
    assert b.processor.shape == b.designer.shape == (n,)
    assert b.feature_names == ["year"] and b.target_names == ["transistors"]
    assert b.frame is None


def test_years_and_counts_are_plausible():
    b = load_moore()
    years, counts = b.data[:, 0], b.target
    assert_array_equal(years, np.round(years))                       # whole years
    assert years[0] == 1971 and years.max() >= 2015
    assert np.all(np.diff(years) >= 0)                                # sorted by year
    assert np.all(counts == np.round(counts)) and counts.min() >= 2000
    assert b.processor[0] == "Intel 4004" and counts[0] == 2300
    assert len(set(b.processor)) == len(b.processor)                   # one row per chip


@pytest.mark.parametrize("year", sorted(TALK))
def test_agrees_with_the_talk(year):
    b = load_moore()
    here = b.target[b.data[:, 0] == year] / 1000.0
    assert np.min(np.abs(here / TALK[year] - 1)) < 0.05


def test_moores_law_doubling_time_is_about_two_years():
    X, y = load_moore(return_X_y=True)
    slope = np.polyfit(X[:, 0], np.log10(y), 1)[0]
    assert 1.8 < np.log10(2) / slope < 2.3


def test_return_X_y_matches_bunch():
    X, y = load_moore(return_X_y=True)
    b = load_moore()
    assert_array_equal(X, b.data)
    assert_array_equal(y, b.target)


def test_as_frame():
    pd = pytest.importorskip("pandas")
    b = load_moore(as_frame=True)
    assert isinstance(b.data, pd.DataFrame) and list(b.data.columns) == ["year"]
    assert isinstance(b.target, pd.Series) and b.target.name == "transistors"
    assert list(b.frame.columns) == ["year", "transistors"]
    assert_array_equal(b.frame.to_numpy(), np.column_stack([load_moore().data,
                                                            load_moore().target]))
    X, y = load_moore(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)


def test_as_frame_without_pandas_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)                 # import fails
    with pytest.raises(ImportError, match="needs pandas"):
        load_moore(as_frame=True)
    assert load_moore().frame is None                                  # arrays still work


def test_descr_names_the_source():
    d = load_moore().DESCR
    assert "Wikipedia" in d and "Transistor count" in d and "2026" in d
    assert str(load_moore().data.shape[0]) in d


def test_csv_is_shipped_as_package_data():
    root = Path(__file__).resolve().parents[1]
    config = (root / "pyproject.toml").read_text()
    section = config.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert 'numpynn = ["_data/*.csv"]' in section
    assert (root / "numpynn" / "_data" / "moore.csv") in (root / "numpynn").glob("_data/*.csv")
