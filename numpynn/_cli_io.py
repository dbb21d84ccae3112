"""Files for the command line: output checks, CSV in and out, figures.

CSV files are read with the standard library's :mod:`csv` module, so the
command line needs no pandas. Every problem with a user's file is a
:class:`CliError` with a one-line message naming what is wrong and where
(column, line number); ``numpynn`` prints it without a traceback.
"""

from __future__ import annotations

import csv
import math
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: Cells read as missing values (compared after stripping blanks, case-insensitively).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})


class CliError(Exception):
    """A problem with the user's input or files: reported in one line, exit status 1."""


# -- where the results go ---------------------------------------------------------
def writable_dir(path):
    """Create the folder ``path`` if needed and prove it writable by writing to it.

    A real write, not a permission-bit check: ``os.access`` says yes to root
    everywhere, and read-only file systems have their own error.

    Returns
    -------
    path : Path
        Absolute.
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise CliError(f"cannot write to {path}: it is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".numpynn-write-test-"):
            pass
    except OSError as exc:
        raise CliError(f"cannot write to {path}: {exc.strerror or exc}") from None
    return path.resolve()


def writable_file(path):
    """Check that the file ``path`` can be written (its folder is created if needed)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise CliError(f"cannot write to {path}: it is a folder, not a file")
    writable_dir(path.parent)
    return path.resolve()


def save_figure(fig, path):
    """Write a matplotlib figure as a PNG and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -- CSV in -----------------------------------------------------------------------
class Table(NamedTuple):
    """A CSV file as text: its header, its rows and each row's line number."""

    path: str
    columns: list           # the header's names, in file order
    rows: list              # list of list of str, one per data row
    lines: list             # line number (from 1, the header's is 1) of each row


def read_table(path):
    """Read a CSV file with a header row into a :class:`Table` of strings.

    Blank lines are skipped; a row with another number of fields than the
    header, an empty header or a repeated column name is a :class:`CliError`.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise CliError(f"{path}, line {reader.line_num}: {len(row)} fields, "
                                   f"but the header has {len(header)}")
                rows.append(row)
                lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    return Table(str(path), _header(path, header), rows, lines)


def _header(path, header):
    if not header or not any(name.strip() for name in header):
        raise CliError(f"{path} is empty: it needs a header row of column names")
    names = [name.strip() for name in header]
    if "" in names:
        raise CliError(f"{path}: column {names.index('') + 1} of the header has no name "
                       "(an index saved with the data?): name it or remove it")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CliError(f"{path}: column names must be unique; repeated: "
                       f"{', '.join(map(repr, repeated))}")
    return names


def numeric(table, names, *, what="column"):
    """The columns ``names`` of ``table`` as a float64 array of shape (n_rows, len(names)).

    Checked in this order, each a :class:`CliError`: every name is a column;
    every non-missing cell parses as a finite number (all offending columns
    are named, each with its first bad cell); no row has a missing cell (the
    count and the first such row's line number).
    """
    absent = [n for n in names if n not in table.columns]
    if absent:
        raise CliError(f"{table.path} has no {what} {', '.join(map(repr, absent))}; its "
                       f"columns are: {', '.join(table.columns)}")
    if not table.rows:
        raise CliError(f"{table.path} has a header but no rows of data")
    index = [table.columns.index(n) for n in names]
    cells = [[row[i].strip() for row in table.rows] for i in index]   # per column
    values, bad = [], []
    for name, column in zip(names, cells, strict=True):
        parsed, problem = _parse(column, table.lines)
        values.append(parsed)
        if problem:
            bad.append(f"{name!r} ({problem})")
    if bad:
        raise CliError(f"{table.path}: not numeric: {'; '.join(bad)}. numpynn needs "
                       "numbers: encode such columns or remove them from the file")
    X = np.column_stack(values)                                          # (n, len(names))
    holes = np.isnan(X).any(axis=1)                                      # (n,)
    if holes.any():
        first = table.lines[int(np.argmax(holes))]
        raise CliError(f"{table.path}: {int(holes.sum())} of {len(holes)} rows have missing "
                       f"values (the first at line {first}) in the columns used; numpynn "
                       "does not impute: fill or drop those rows")
    return X


def _parse(column, lines):
    """``(values, problem)``: floats with NaN where missing; the first bad cell or None."""
    out = np.empty(len(column))
    for j, cell in enumerate(column):
        if cell.lower() in MISSING:
            out[j] = np.nan
            continue
        try:
            out[j] = float(cell)
        except ValueError:
            return out, f"line {lines[j]}: {cell!r}"
        if not math.isfinite(out[j]):
            return out, f"line {lines[j]}: {cell!r} is not finite"
    return out, None


# -- CSV out ----------------------------------------------------------------------
def write_predictions(pred, path=None):
    """Write predictions as CSV at full precision (``repr``), to ``path`` or stdout.

    One column ``prediction`` for one output; ``prediction_0``, ... for several.
    """
    pred = np.asarray(pred, dtype=np.float64)
    pred = pred.reshape(len(pred), -1)                                   # (n, k)
    header = (["prediction"] if pred.shape[1] == 1
              else [f"prediction_{j}" for j in range(pred.shape[1])])
    text = "\n".join([",".join(header)] +
                     [",".join(repr(float(v)) for v in row) for row in pred]) + "\n"
    if path is None:
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")
