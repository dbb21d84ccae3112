"""Warnings that point at the user's line, wherever in numpynn they are raised."""

import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
#: scikit-learn's frames are not the user's line either: its decorators around
#: numpynn's methods, and the Pipeline, search or cross-validation the user
#: called (which runs its fits through joblib).
_CALLERS = tuple(os.sep + name + os.sep for name in ("sklearn", "joblib"))


def _inside(filename):
    path = os.path.abspath(filename)
    return os.path.dirname(path) == _PACKAGE_DIR or any(c in path for c in _CALLERS)


def _stacklevel():
    """The ``stacklevel`` of the first frame outside numpynn, seen from :func:`warn`'s caller."""
    frame, level = sys._getframe(2), 2
    while frame is not None and _inside(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first caller outside the numpynn package.

    The stack level is computed by walking out of numpynn's frames and
    scikit-learn's (its decorators around numpynn's methods, a ``Pipeline``,
    a search or a cross-validation the user called), so the warning names
    the user's own line, however deep inside numpynn it is raised.

    Parameters
    ----------
    message : str
    category : type of Warning, default=UserWarning

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn("hello")
    >>> w[0].message.args[0]
    'hello'
    """
    warnings.warn(message, category, stacklevel=_stacklevel())
