"""Sphinx extension of the chargetransport book (loaded by ``_config.yml``).

* :mod:`.notebooks`: each chapter downloadable as a notebook; launch buttons
  (Binder, Colab, JupyterHub) from the one ``repository`` setting;
* :mod:`.status`: ``{execution-time}`` and ``{reproducibility-status}`` (chapter
  execution times, commit, machine, versions);
* :mod:`.reading`: ``{reading-time}`` (a chapter's reading time, from its word count);
* :mod:`.proofs`: theorem boxes and ``{prf:ref}`` with the paper's numbers;
* ``static/``: CSS (math that fits its box, print layout) and a script that shrinks
  display equations slightly too wide for their box.

Kept beside the book, not in ``_static/`` at the repository root: Jupyter Book 1 would
add every ``.js`` file found there to every page (see ``_config.yml``).
"""
from __future__ import annotations

from pathlib import Path

from . import notebooks, problems, proofs, reading, status

STATIC = Path(__file__).resolve().parent / "static"


def _add_static_path(app, config) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def setup(app):
    app.setup_extension("sphinx_proof")
    app.setup_extension("myst_nb")
    app.connect("config-inited", _add_static_path)
    app.add_css_file("chargetransport.css")
    app.add_js_file("chargetransport.js", defer="defer")
    # After sphinx-book-theme's header buttons (priority 501).
    app.connect("html-page-context", notebooks.add_notebook_and_launch_links, priority=502)
    app.connect("doctree-read", notebooks.restore_executed_copy)
    proofs.setup(app)
    status.setup(app)
    reading.setup(app)
    problems.setup(app)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
