"""Checks that the documentation keeps up with the code.

Not the Sphinx build (CI runs that as its own step): these are properties
of the sources that the build alone would not catch.

* Every ``>>>`` example on the getting-started page runs and prints what
  the page says.
* Every public function and estimator has a numpydoc docstring with a
  ``Parameters`` or ``Returns`` section (functions) and an ``Examples``
  section containing a doctest.
* Every public name of every public module appears on the API page.
* Every gallery script has the title block sphinx-gallery needs.
"""

import ast
import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"

# Modules whose ``__all__`` is the public API. Optional ones are skipped
# when their dependencies are missing.
PUBLIC_MODULES = [
    "numpynn",
    "numpynn.kernels",
    "numpynn.quadratic",
    "numpynn.curvature",
    "numpynn.lr_finder",
    "numpynn.schedules",
    "numpynn.losses",
    "numpynn.activations",
    "numpynn.optimizers",
    "numpynn.lstsq",
    "numpynn.inference",
    "numpynn.datasets",
    "numpynn.plotting",
    "numpynn.persistence",
    "numpynn.parallel",
]

pytestmark = pytest.mark.skipif(not DOCS.is_dir(), reason="docs/ not present")


def _public_objects():
    """``(qualified name, object)`` for the functions and classes in ``__all__``."""
    out = []
    for modname in PUBLIC_MODULES:
        mod = _module(modname)
        if mod is None:
            continue
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or name.startswith("__"):
                continue
            if inspect.isfunction(obj) or (inspect.isclass(obj) and not _is_namedtuple(obj)):
                out.append((f"{modname}.{name}", obj))
    return out


def _module(modname):
    """The module, or None when an optional dependency is missing."""
    try:
        return importlib.import_module(modname)
    except ImportError:
        return None


def _is_namedtuple(cls):
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _sections(doc):
    """Names of the numpydoc sections (a title line underlined with dashes)."""
    lines = doc.splitlines()
    return {
        lines[i].strip()
        for i in range(len(lines) - 1)
        if lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip())
        and len(lines[i + 1].strip()) == len(lines[i].strip())
    }


def _example_block(doc):
    """The text of the Examples section (up to the next section or the end)."""
    match = re.search(r"^Examples\n-{8}\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", doc, re.M | re.S)
    return match.group(1) if match else ""


def test_getting_started_examples_run():
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testfile(str(DOCS / "getting_started.rst"), module_relative=False,
                              optionflags=flags, verbose=False, report=True)
    assert result.attempted > 20
    assert result.failed == 0


def _gaps(qualname, obj):
    """The numpydoc sections ``obj``'s docstring lacks."""
    doc = inspect.getdoc(obj) or ""
    sections = _sections(doc)
    gaps = set()
    if inspect.isfunction(obj) and inspect.signature(obj).parameters \
            and not sections & {"Parameters", "Returns"}:
        gaps.add("Parameters")
    if "Examples" not in sections or ">>>" not in _example_block(doc):
        gaps.add("Examples")
    return gaps


@pytest.mark.parametrize("qualname, obj", _public_objects(),
                         ids=[q for q, _ in _public_objects()])
def test_public_docstring_is_numpydoc_with_example(qualname, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{qualname} has no docstring"
    assert doc.splitlines()[0].strip(), f"{qualname}: no summary line"
    gaps = _gaps(qualname, obj)
    assert not gaps, f"{qualname}: docstring lacks {sorted(gaps)} section(s)"


def _documented_names():
    """``module.name`` for every autosummary entry and py:data on the API page."""
    names, module, in_summary = set(), None, False
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\.\. (?:currentmodule|automodule|module):: (\S+)", line):
            module, in_summary = m.group(1), False
        elif line.startswith(".. autosummary::"):
            in_summary = True
        elif m := re.match(r"\.\. py:data:: (\w+)", line):
            names.add(f"{module}.{m.group(1)}")
        elif in_summary and re.match(r"   [~\w.]+$", line) and module:
            entry = line.strip().lstrip("~")
            names.add(entry if entry.startswith("numpynn.") else f"{module}.{entry}")
        elif line and not line.startswith(" "):
            in_summary = False
    return names


def _resolve(qualname):
    module, _, name = qualname.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


@pytest.mark.parametrize("modname", PUBLIC_MODULES)
def test_api_page_lists_every_public_name(modname):
    # An object counts as documented under any of its public names
    # (``numpynn.save`` documents ``numpynn.persistence.save``).
    mod = _module(modname)
    if mod is None:
        pytest.skip(f"cannot import {modname}")
    documented = {id(obj) for obj in map(_resolve, _documented_names()) if obj is not None}
    missing = [
        f"{modname}.{name}" for name in getattr(mod, "__all__", [])
        if not name.startswith("__") and not inspect.ismodule(getattr(mod, name))
        and id(getattr(mod, name)) not in documented
    ]
    assert not missing, f"add to docs/api.rst: {missing}"


@pytest.mark.parametrize("path", sorted((DOCS / "examples").glob("plot_*.py")),
                         ids=lambda p: p.name)
def test_gallery_script_has_title(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    assert doc, f"{path.name}: sphinx-gallery needs a module docstring"
    lines = [ln for ln in doc.strip().splitlines()]
    assert len(lines) >= 2 and re.fullmatch(r"=+", lines[1].strip()), (
        f"{path.name}: the docstring must start with a title underlined with '='"
    )
    assert len(lines[1].strip()) >= len(lines[0].strip()), f"{path.name}: title underline short"


def _python_blocks(text):
    """The bodies of the ``.. code-block:: python`` directives of an rST page."""
    blocks, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for nxt in lines[i + 1:]:
            if nxt.strip() and not nxt.startswith("   "):
                break
            body.append(nxt[3:])
        blocks.append("\n".join(body).strip("\n"))
    return blocks


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.rst")))
def test_code_blocks_run(page):
    """Every Python code block on a page runs, in order, in one namespace."""
    namespace = {}
    for block in _python_blocks((DOCS / page).read_text(encoding="utf-8")):
        exec(compile(block, f"{page} code block", "exec"), namespace)  # noqa: S102
