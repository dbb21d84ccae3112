"""Sphinx configuration for the numpynn documentation.

Build (warnings are errors)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

Needs the ``docs`` extra: ``pip install -e ".[docs]"``. Works offline:
no intersphinx inventories are fetched.
"""

import os
import shutil
import sys
import warnings

# Document the checkout this file belongs to, not whichever numpynn is installed
# (an editable install may point at another tree). Gallery scripts run in this
# process, so they use it too.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

import numpynn  # noqa: E402

project = "numpynn"
author = "The numpynn developers"
copyright = "2026, The numpynn developers"
release = numpynn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples",
                    "**/*.ipynb", "**/*.py.md5", "**/*.codeobj.json"]
templates_path = ["_templates"]
default_role = "obj"
# Every cross-reference inside numpynn must resolve. The build runs offline
# (no intersphinx), so references to other projects' objects are let through.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|sklearn|matplotlib|pandas|dask|distributed|tqdm)(\..*)?"),
    (r"py:.*", r"(UserWarning|ValueError|TypeError|ImportError|KeyboardInterrupt)"),
    (r"py:meth", r"(fit|partial_fit|predict|score)"),
    (r"py:mod", r"numpynn\._\w+"),
]

# -- autodoc / autosummary / numpydoc ----------------------------------------
# autosummary never deletes stub pages of names that left the API page, and
# they would then warn as orphans: start from an empty directory.
shutil.rmtree(os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated"),
              ignore_errors=True)
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- MyST (the markdown pages written alongside the code) --------------------
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "doc_module": ("numpynn",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"numpynn": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "plot_gallery": "True",
}

# Gallery scripts run headless.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"numpynn {release}"
html_static_path = ["_static"]
html_css_files = ["numpynn.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages need no left sidebar.
html_sidebars = {page: [] for page in
                 ("index", "getting_started", "math", "moore", "comparison", "errors",
                  "benchmarks", "scaling")}
