"""Small embedded data sets.

:func:`load_moore` returns microprocessor transistor counts by year, the
data of Moore's law and of the talk numpynn grew from, in scikit-learn's
``Bunch`` convention (``load_diabetes`` and friends).
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_moore"]

_MOORE_DESCR = """\
Moore's law: microprocessor transistor counts
---------------------------------------------

**Data Set Characteristics:**

:Number of Instances: {n} chips, introduced {first} to {last}
:Number of Attributes: 1 feature (``year`` of introduction) and
    1 target (``transistors``, the chip's transistor count)
:Other columns: ``processor`` (name) and ``designer``

Gordon Moore observed in 1965 (revised 1975) that the number of
transistors on a chip doubles about every two years, so ``log10(count)``
grows linearly with the year; a least-squares line through this table
gives a doubling time of roughly two years.

Compiled by hand for numpynn, one row per chip, from the "Microprocessors"
table of the English Wikipedia article "Transistor count"
(https://en.wikipedia.org/wiki/Transistor_count): the 1971-2012 rows as
they stand in the revision of 7 October 2011 (oldid=454346665) and the
current article, the later rows from the current article, consulted in
November 2026. Published counts are rounded and sometimes disputed (the
Intel 8080 is given as 4,500 or 6,000; the 4004 as 2,250 or 2,300); the
table keeps one value per chip. Counts after about 2015 are whole
packages, which may hold several dies.

The talk's own list (in thousands, 1971-1985): 2.31, 3.55, 6.10, 29.16,
135.77, 273.84 for 1971, 1972, 1974, 1979, 1982, 1985; the 4004, 8008,
8086/8088, 80286 and 80386 rows here agree with it to within 5%.
"""


def _read_moore():
    """Rows of ``_data/moore.csv`` as a list of dicts (``#`` lines skipped)."""
    text = resources.files("numpynn").joinpath("_data", "moore.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def load_moore(*, return_X_y=False, as_frame=False):
    r"""Load microprocessor transistor counts by year of introduction.

    ============  ===========================================
    Samples       one per chip, 1971 into the 2010s (51)
    Feature       ``year`` of introduction (float64)
    Target        ``transistors``, the count (float64)
    ============  ===========================================

    Moore's law says :math:`\log_{10}(\text{count})` is linear in the year;
    fit ``np.log10(y)`` (see ``numpynn demo``).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a ``Bunch``.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame and ``target`` as a Series
        (and ``frame``, a DataFrame with both); needs pandas.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` : ndarray of shape (n_samples, 1), the years;
        ``target`` : ndarray of shape (n_samples,), the counts;
        ``feature_names`` : ``["year"]``; ``target_names`` :
        ``["transistors"]``; ``frame`` : DataFrame or None;
        ``processor``, ``designer`` : ndarray of str of shape (n_samples,);
        ``DESCR`` : str, with the source of the figures.
    (data, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ImportError
        If ``as_frame=True`` and pandas is not installed.

    Examples
    --------
    >>> X, y = load_moore(return_X_y=True)
    >>> X.shape[1], X.shape[0] == y.shape[0], int(X[0, 0]), int(y[0])
    (1, True, 1971, 2300)
    >>> bunch = load_moore()
    >>> bunch.feature_names, bunch.target_names
    (['year'], ['transistors'])
    """
    rows = _read_moore()
    X = np.array([[float(r["year"])] for r in rows])              # (n, 1)
    y = np.array([float(r["transistors"]) for r in rows])         # (n,)
    processor = np.array([r["processor"] for r in rows])
    designer = np.array([r["designer"] for r in rows])
    feature_names, target_names = ["year"], ["transistors"]
    frame = None
    data, target = X, y
    if as_frame:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "load_moore(as_frame=True) needs pandas; install it with "
                "`pip install pandas`, or use as_frame=False for NumPy arrays."
            ) from exc
        data = pd.DataFrame(X, columns=feature_names)
        target = pd.Series(y, name=target_names[0])
        frame = pd.concat([data, target], axis=1)
    if return_X_y:
        return data, target
    descr = _MOORE_DESCR.format(n=len(rows), first=int(X.min()), last=int(X.max()))
    return Bunch(data=data, target=target, feature_names=feature_names,
                 target_names=target_names, frame=frame, processor=processor,
                 designer=designer, DESCR=descr)
