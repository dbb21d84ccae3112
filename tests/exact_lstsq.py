"""The exact least-squares solution of float64 data, in rational arithmetic.

Every float64 number is a rational, so the normal equations of the data
*as stored* can be solved with no rounding at all (``fractions.Fraction``,
Gauss-Jordan elimination). This is the ceiling for any float64 solver: the
tests compare numpynn's refined solution with it to the last bit.
"""

from fractions import Fraction

import numpy as np


def exact_lstsq(X, y, fit_intercept=True):
    """``[intercept,] coef`` of ``min ||y - [1,] X theta||`` exactly, rounded once to float64.

    >>> exact_lstsq(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])).tolist()
    [1.0, 2.0]
    """
    cols = [[Fraction(1)] * len(y)] if fit_intercept else []
    cols += [[Fraction(float(v)) for v in X[:, j]] for j in range(X.shape[1])]
    yf = [Fraction(float(v)) for v in y]
    p = len(cols)
    M = [[sum(a * b for a, b in zip(cols[i], cols[j], strict=True)) for j in range(p)]
         + [sum(a * v for a, v in zip(cols[i], yf, strict=True))] for i in range(p)]
    for c in range(p):
        piv = next(r for r in range(c, p) if M[r][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        M[c] = [v / M[c][c] for v in M[c]]
        for r in range(p):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * e for a, e in zip(M[r], M[c], strict=True)]
    return np.array([float(M[i][p]) for i in range(p)])
