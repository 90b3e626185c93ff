"""Sphinx configuration of skmat's documentation.

Build it from the repository root, offline, with warnings as errors::

    pip install "torch==2.13.0" -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
    python docs/check_links.py docs/_build/html

The build runs every ``examples/plot_*.py`` (sphinx-gallery, a few minutes on 2
CPU cores) and downloads nothing: no intersphinx, MathJax served from the
``sphinx-mathjax-offline`` package.
"""

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The helpers that sphinx-gallery imports by name (_gallery_reset.reset_torch), and
# the extension that computes results tables (_results).
sys.path.insert(0, str(HERE))

import skmat  # noqa: E402

project = "skmat"
author = "skmat developers"
copyright = "skmat developers"
release = skmat.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Copies MathJax into _static/mathjax and points mathjax_path at it.
    "sphinx-mathjax-offline",
    # ``.. plot::``: the figure of the method, drawn by code at build time
    "matplotlib.sphinxext.plot_directive",
    # ``.. results-table::``: results tables computed from the results files
    # (docs/_results.py), with their provenance
    "_results",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
# ``sklearn.pipeline.Pipeline`` and the like stay plain text: no intersphinx,
# nothing is downloaded.
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
# "fit()" rather than "MATClassifier.fit()" in the page's table of contents
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = {
    # a torch DataLoader: its own methods belong to torch's documentation
    "skmat.InMemoryDataLoader": False,
}
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"/plot_",
    # every example runs at build time; a failing one fails the build
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmat",),
    "backreferences_dir": str(HERE / "generated" / "backreferences"),
    "image_scrapers": ("matplotlib",),
    # each example runs as in a fresh process: matplotlib and torch's thread count
    # reset before it (plot_memorization.py sets one thread)
    "reset_modules": ("matplotlib", "_gallery_reset.reset_torch"),
    "download_all_examples": False,
    "show_memory": False,
    # No sg_execution_times pages: they load jQuery and DataTables from a CDN.
    "write_computation_times": False,
    "min_reported_time": 1,
}

# -- matplotlib's plot directive ------------------------------------------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

# -- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmat {release}"
html_static_path = ["_static"]
html_css_files = ["skmat.css"]
html_theme_options = {
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
html_show_sourcelink = True
html_copy_source = True
# the build date stays out of the pages, so rebuilds are reproducible
html_last_updated_fmt = None


# -- scikit-learn's inherited docstrings ----------------------------------------------
# The estimators inherit score, get_params, set_params and set_*_request from
# scikit-learn, whose docstrings point into scikit-learn's own user guide and
# glossary (:ref:`... <metadata_routing>`, :term:`meta-estimator`). Without
# intersphinx (the build downloads nothing) those targets cannot resolve, so in
# docstrings that come from scikit-learn they become plain text.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _sklearn_roles_to_text(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    # on the joined text, for roles that run over two lines
    text = _SKLEARN_ROLE.sub(lambda m: m.group(1) or m.group(2), "\n".join(lines))
    lines[:] = text.split("\n")


def setup(app):
    app.connect("autodoc-process-docstring", _sklearn_roles_to_text)
