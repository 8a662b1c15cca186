"""Shared test fixtures.

The expensive one is ``built_book``: it builds the whole book once per test session
(every chapter executed afresh, warnings are errors) into the normal ``_build`` folder,
with ``CHARGETRANSPORT_FIGURE_LOG`` pointing at a temporary directory, so that
``tests/test_chapters.py`` can check each chapter's figures and ``tests/test_browser.py``
can open the HTML in a headless browser. Tests that need it carry the ``book`` marker;
``pytest -m "not book"`` runs only the fast unit tests.

``pytest_generate_tests`` parametrizes any test with a ``chapter`` argument by the
executable chapters listed in ``_toc.yml`` and any test with a ``page`` argument by all
pages listed there, so a chapter added to the table of contents is tested automatically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
EXECUTED_DIR = BUILD_DIR / "jupyter_execute"
EXECUTION_CACHE = BUILD_DIR / ".jupyter_cache"
TOC_FILE = ROOT / "_toc.yml"
CONFIG_FILE = ROOT / "_config.yml"
BUILD_SCRIPT = ROOT / "tools" / "build_book.py"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Sphinx warnings and errors look like "path:line: WARNING: message" or "WARNING: message".
_SPHINX_PROBLEM = re.compile(r"(^|:\s)(WARNING|ERROR|CRITICAL|SEVERE):\s")


# --------------------------------------------------------------------------------------
# The table of contents
# --------------------------------------------------------------------------------------
def _files_in(entries: list[dict[str, Any]] | None) -> list[str]:
    files: list[str] = []
    for entry in entries or []:
        if "file" in entry:
            files.append(str(entry["file"]))
        for key in ("chapters", "sections", "parts"):
            files.extend(_files_in(entry.get(key)))
    return files


def toc_pages() -> list[str]:
    """All pages of ``_toc.yml`` (docnames such as ``"book/intro"``), in book order."""
    toc = yaml.safe_load(TOC_FILE.read_text(encoding="utf-8"))
    pages = [str(toc["root"])]
    for key in ("chapters", "parts", "sections"):
        pages.extend(_files_in(toc.get(key)))
    return [re.sub(r"\.(md|ipynb)$", "", page) for page in pages]


def source_of(page: str) -> Path:
    """The source file of a page: ``<page>.md`` or ``<page>.ipynb``."""
    for suffix in (".md", ".ipynb"):
        path = ROOT / f"{page}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"_toc.yml lists {page!r} but neither {page}.md nor {page}.ipynb exists")


def front_matter(page: str) -> dict[str, Any]:
    """The YAML front matter of a MyST page, or the metadata of a notebook."""
    path = source_of(page)
    if path.suffix == ".ipynb":
        return json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---[ \t]*\n(.*?\n)---[ \t]*(\n|$)", text, flags=re.DOTALL)
    if not match:
        return {}
    return yaml.safe_load(match.group(1)) or {}


def is_executable(page: str) -> bool:
    """Whether a page is a notebook (an ``.ipynb`` or a MyST notebook with a kernel)."""
    path = source_of(page)
    if path.suffix == ".ipynb":
        return True
    meta = front_matter(page)
    return "kernelspec" in meta or "jupytext" in meta


def toc_chapters() -> list[str]:
    """The executable chapters listed in ``_toc.yml``."""
    return [page for page in toc_pages() if is_executable(page)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", toc_chapters())
    if "page" in metafunc.fixturenames:
        metafunc.parametrize("page", toc_pages())


# --------------------------------------------------------------------------------------
# The book, built once per session
# --------------------------------------------------------------------------------------
@dataclasses.dataclass
class BookBuild:
    """The result of one ``jupyter-book build`` of the whole book."""

    command: list[str]
    returncode: int
    log: str
    log_path: Path
    figure_log_dir: Path
    seconds: float
    html_dir: Path = HTML_DIR
    executed_dir: Path = EXECUTED_DIR

    def problems(self) -> list[str]:
        """The Sphinx warnings and errors in the build log (``-W`` makes them fatal)."""
        return [line for line in self.log.splitlines() if _SPHINX_PROBLEM.search(line)]

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def executed_notebook(self, chapter: str) -> Path:
        return self.executed_dir / f"{chapter}.ipynb"

    def error_report(self, chapter: str) -> Path:
        """Where myst-nb saves the traceback of a chapter whose execution failed."""
        return self.html_dir / "reports" / f"{chapter}.err.log"

    def figure_log(self, chapter: str) -> Path:
        return self.figure_log_dir / f"{Path(chapter).name}.jsonl"

    def figure_records(self, chapter: str) -> list[dict[str, Any]] | None:
        """The figures a chapter drew, or ``None`` if it wrote no figure log."""
        path = self.figure_log(chapter)
        if not path.exists():
            return None
        text = path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _jupyter_book() -> str:
    here = Path(sys.executable).parent / "jupyter-book"
    found = str(here) if here.exists() else shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed: run `make test`, which sets up .venv")
    return found


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    """Build the book once: every chapter executed afresh (empty cache), figures logged."""
    work = tmp_path_factory.mktemp("book-build")
    figure_log_dir = work / "figure-log"
    figure_log_dir.mkdir()

    # Same configuration as `make book`, with the execution cache emptied first: a stale
    # cache must not hide a broken chapter, so every chapter is executed afresh, and the
    # cache it fills serves `make pdf`, `make problems` and the next `make book`.
    config = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "cache"
    shutil.rmtree(EXECUTION_CACHE, ignore_errors=True)
    # Jupyter Book resolves local extension paths against the config file's folder.
    local_extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, path in local_extensions.items():
        local_extensions[name] = str((ROOT / path).resolve())
    config_path = work / "_config.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    # Executed notebooks and error reports of an earlier build must not be mistaken
    # for this build's.
    for stale in (EXECUTED_DIR, HTML_DIR):
        shutil.rmtree(stale, ignore_errors=True)

    command = [
        _jupyter_book(), "build", str(ROOT), "--path-output", str(ROOT),
        "-W", "-n", "--keep-going", "--all", "--config", str(config_path),
    ]
    env = dict(os.environ)
    env["CHARGETRANSPORT_FIGURE_LOG"] = str(figure_log_dir)
    env["PYTHONUNBUFFERED"] = "1"
    # The kernels must run this interpreter (the one with chargetransport installed).
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")

    log_path = work / "build.log"
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log_file:
        # As `make book` does: the chapters execute two at a time into the (empty)
        # execution cache first, then Sphinx takes them from there. A chapter that
        # fails there is executed again by Sphinx, which reports the error.
        subprocess.run(
            [sys.executable, str(BUILD_SCRIPT), "--execute-chapters", "--config", str(config_path)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=subprocess.STDOUT, check=False,
        )
        proc = subprocess.run(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=subprocess.STDOUT, check=False,
        )
    seconds = time.perf_counter() - start
    log = _ANSI.sub("", log_path.read_text(encoding="utf-8", errors="replace"))
    log_path.write_text(log, encoding="utf-8")
    BUILD_DIR.mkdir(exist_ok=True)
    shutil.copyfile(log_path, BUILD_DIR / "test-build.log")  # for humans, next to the HTML
    return BookBuild(
        command=command, returncode=proc.returncode, log=log, log_path=log_path,
        figure_log_dir=figure_log_dir, seconds=seconds,
    )


# --------------------------------------------------------------------------------------
# A Dask cluster, shared by the ensemble and lock-step tests
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dask_cluster():
    """Two single-threaded worker processes on loopback. A task that was running on one
    dying worker fails with ``KilledWorker`` on the second (``allowed-failures=1``), so
    that the tests of dead workers stay short. Skipped only where dask is not installed,
    and never under ``CI`` (the set-up installs it there, so a missing dask is a failure)."""
    if os.environ.get("CI"):
        import distributed  # noqa: F401
    distributed = pytest.importorskip("distributed")
    import dask
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
    _collect_asyncio_garbage()


def _collect_asyncio_garbage():
    """Finalize now the asyncio tasks that dead workers and closed clusters leave behind.

    A pending task that is garbage collected logs "Task was destroyed but it is pending"
    with a traceback, and CPython 3.11 formats tracebacks with ast.parse (for the carets).
    If that collection happens inside another ast.parse of the main thread (pytest
    rewriting a module it imports), the nested parse corrupts the ast module's recursion
    counter: "SystemError: AST constructor recursion depth mismatch". Collected here, at
    a safe point, the tasks are harmless.
    """
    import gc
    gc.collect()


@pytest.fixture
def dask_client(dask_cluster):
    """The shared cluster's client, with both workers up (a test may have killed one)."""
    dask_cluster.wait_for_workers(2, timeout=60)
    yield dask_cluster
    _collect_asyncio_garbage()
