"""Each chapter as a Jupyter notebook to download, and launch buttons that run it.

The notebook is made at build time from the chapter's MyST source: myst-nb's executed
copy (``_build/jupyter_execute/<chapter>.ipynb``: the source's cells with this build's
outputs), or the source read with jupytext if there is none. A first cell installs
the package when it is missing (Colab, a JupyterHub, a fresh kernel); then the
chapter's cells, unchanged. It is written to ``_build/html/_sources/<chapter>.ipynb``,
the file the theme's download menu (".ipynb") links to.

Launch buttons come from ONE setting, ``repository`` in ``_config.yml`` (url, branch,
path_to_book), and the hubs of ``launch_buttons``:

* Binder runs the repository's branch: ``binder/`` installs the pinned environment and
  the package, and converts the chapters to notebooks (jupytext);
* Colab and a JupyterHub open the notebook from the branch ``notebooks``
  (:data:`NOTEBOOKS_BRANCH`), which the publish workflow fills with the downloadable
  notebooks of each published build; their first cell installs the package.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import nbformat

# The branch the publish workflow (.github/workflows/publish.yml) pushes the chapters'
# notebooks to, under the same paths as their sources (book/<chapter>.ipynb).
NOTEBOOKS_BRANCH = "notebooks"
SETUP_CELL_TAG = "chargetransport-setup"

_SETUP_SOURCE = '''\
# Setup: outside the book's environment (Colab, a JupyterHub, a fresh kernel), install
# the chargetransport package and what the chapters need (its [book] extra).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("chargetransport") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", {requirement!r}])'''


def install_requirement(repository_url: str, branch: str) -> str:
    """The pip requirement that installs the package from the repository's branch."""
    return f"chargetransport[book] @ git+{repository_url.rstrip('/')}@{branch}"


def setup_cell(repository_url: str | None, branch: str) -> nbformat.NotebookNode:
    """The first code cell of a downloaded chapter: install the package if missing."""
    if repository_url:
        source = _SETUP_SOURCE.format(requirement=install_requirement(repository_url, branch))
    else:  # no repository configured: say what to install instead
        source = ("# Setup: this notebook needs the chargetransport package and its [book] extra\n"
                  "# (pip install \"chargetransport[book]\" from a clone of its repository).")
    return nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_CELL_TAG]})


def _has_outputs(notebook) -> bool:
    return any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def with_cached_outputs(notebook, cache_path: str | None):
    """``notebook`` with the outputs of its record in the execution cache, if it has one."""
    if cache_path and Path(cache_path).is_dir():
        from jupyter_cache import get_cache

        try:
            _, notebook = get_cache(cache_path).merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache: no outputs
            pass
    return notebook


def restore_executed_copy(app, doctree) -> None:
    """``doctree-read``: put the outputs into myst-nb's executed copy of a chapter.

    When a chapter's outputs come from the execution cache (every chapter of a build,
    since ``tools/build_book.py`` executes them into the cache first), myst-nb renders
    them but writes ``_build/jupyter_execute/<chapter>.ipynb`` without them (it writes
    the notebook it read, not the one it merged). The tests, the downloadable notebook
    and ``make problems`` read that copy, so it gets the cached outputs here.
    """
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if not executed.is_file():
        return
    notebook = nbformat.read(executed, as_version=4)
    if not any(cell.cell_type == "code" for cell in notebook.cells) or _has_outputs(notebook):
        return
    merged = with_cached_outputs(notebook, _execution_cache(app))
    if _has_outputs(merged):
        nbformat.write(merged, executed)


def chapter_notebook(source: Path, executed: Path | None, repository_url: str | None,
                     branch: str, cache_path: str | None = None) -> nbformat.NotebookNode:
    """The downloadable notebook of a chapter (setup cell + the chapter's cells).

    With this build's outputs: myst-nb's executed copy when it has them, else the
    execution cache's record of the chapter, else none.
    """
    notebook = None
    if executed is not None and executed.is_file():
        notebook = nbformat.read(executed, as_version=4)
    if notebook is None or not _has_outputs(notebook):
        import jupytext

        notebook = with_cached_outputs(jupytext.read(source), cache_path)
    notebook.metadata.pop("source_map", None)  # myst-nb's own bookkeeping
    notebook.cells.insert(0, setup_cell(repository_url, branch))
    return notebook


def _github_parts(repository_url: str) -> tuple[str, str] | None:
    parts = repository_url.rstrip("/").split("/")
    if len(parts) >= 5 and parts[2].lower() == "github.com":
        return parts[3], parts[4]
    return None


def launch_urls(repository_url: str, branch: str, path_in_repo: str,
                launch_buttons: dict[str, Any]) -> dict[str, str]:
    """Launch links for one chapter, by the theme's button text (Binder, JupyterHub, Colab).

    ``path_in_repo`` is the chapter's source path without suffix, e.g.
    ``"book/boltzmann_limit"``. Only GitHub repositories get Binder and Colab links.
    """
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch_buttons.get("notebook_interface", "classic")]
    notebook = f"{path_in_repo}.ipynb"
    repository_url = repository_url.rstrip("/")
    github = _github_parts(repository_url)
    urls = {}
    binderhub = str(launch_buttons.get("binderhub_url") or "").rstrip("/")
    if binderhub and github:
        urls["Binder"] = (f"{binderhub}/v2/gh/{github[0]}/{github[1]}/{quote(branch)}"
                          f"?urlpath={ui}/{notebook}")
    jupyterhub = str(launch_buttons.get("jupyterhub_url") or "").rstrip("/")
    if jupyterhub:
        repo_name = repository_url.split("/")[-1]
        query = urlencode({"repo": repository_url, "urlpath": f"{ui}/{repo_name}/{notebook}",
                           "branch": NOTEBOOKS_BRANCH}, safe="/")
        urls["JupyterHub"] = f"{jupyterhub}/hub/user-redirect/git-pull?{query}"
    colab = str(launch_buttons.get("colab_url") or "").rstrip("/")
    if colab and github:
        urls["Colab"] = f"{colab}/github/{github[0]}/{github[1]}/blob/{NOTEBOOKS_BRANCH}/{notebook}"
    return urls


def _theme_options(app) -> dict[str, Any]:
    from pydata_sphinx_theme.utils import get_theme_options_dict

    return get_theme_options_dict(app)


def _execution_cache(app) -> str:
    """myst-nb's execution cache (``_build/.jupyter_cache`` unless configured)."""
    configured = getattr(getattr(app.env, "mystnb_config", None), "execution_cache_path", "")
    return str(configured or Path(app.outdir).parent / ".jupyter_cache")


def _is_chapter(app, pagename: str) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def add_notebook_and_launch_links(app, pagename: str, templatename: str,
                                  context: dict[str, Any], doctree) -> None:
    """``html-page-context`` (after the theme's buttons): write the notebook, fix the links."""
    if doctree is None or not _is_chapter(app, pagename):
        return
    options = _theme_options(app)
    repository_url = options.get("repository_url") or None
    branch = options.get("repository_branch") or "main"
    out_dir = Path(app.outdir)
    target = out_dir / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    notebook = chapter_notebook(Path(app.env.doc2path(pagename)),
                                out_dir.parent / "jupyter_execute" / f"{pagename}.ipynb",
                                repository_url, branch,
                                _execution_cache(app))
    tmp = target.with_suffix(".ipynb.tmp")
    nbformat.write(notebook, tmp)
    shutil.move(tmp, target)

    buttons = context.get("header_buttons", [])
    downloads = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if downloads is not None and not any(
        b.get("label") == "download-notebook-button" for b in downloads["buttons"]
    ):
        downloads["buttons"].insert(0, {
            "type": "link",
            "url": f"{context['pathto']('_sources', 1)}/{pagename}.ipynb",
            "text": ".ipynb",
            "icon": "fas fa-code",
            "tooltip": "Download notebook file",
            "label": "download-notebook-button",
        })

    launch = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    if launch is None or not repository_url:
        return
    path_to_book = str(options.get("path_to_docs") or "").strip("/")
    path_in_repo = f"{path_to_book}/{pagename}" if path_to_book else pagename
    urls = launch_urls(repository_url, branch, path_in_repo, options.get("launch_buttons", {}))
    for button in launch["buttons"]:
        if button.get("text") in urls:
            button["url"] = urls[button["text"]]
