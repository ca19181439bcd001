"""Sphinx configuration of the brics_ecom documentation.

Build with (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

from pathlib import Path

import brics_ecom

DOCS = Path(__file__).resolve().parent

# -- project -------------------------------------------------------------------------
project = "brics_ecom"
author = "brics_ecom developers"
copyright = "2024–2025, brics_ecom developers"  # noqa: A001
release = brics_ecom.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ----------------------------------------------------------------------
extensions = [
    "myst_nb",  # MyST markdown pages and Jupyter notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
# intersphinx is deliberately off: the build must not need the network.

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "**/.ipynb_checkpoints",
    "notebooks/*.py",
    "notebooks/*.md",
    "README.md",
]
root_doc = "index"

# -- MyST ----------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

# -- notebooks (myst-nb) -------------------------------------------------------------
# The quickstart notebook is stored without outputs and executed at every build, so the
# documentation always shows what the current code does; an error fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- autodoc / autosummary / napoleon ------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
python_maximum_signature_line_length = 88
python_use_unqualified_type_names = True

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" sections as fields: no clash with properties
napoleon_use_rtype = False
napoleon_preprocess_types = False

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"brics_ecom {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
