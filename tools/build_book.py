"""Build the book with an execution cache that is keyed on the package too.

``make book`` runs ``python tools/build_book.py <jupyter-book flags>`` from the
repository root. Jupyter Book keys its execution cache (``_build/.jupyter_cache``)
on the code cells of each chapter only, and Sphinx re-reads only the chapters
whose source changed; on their own, a change to ``src/`` would leave every chapter
showing the outputs of the old code. So this script also keys the cache on the
package: a fingerprint (SHA-256) of every file under ``src/`` (and ``data/``, the
stored studies that chapters plot), of
``requirements.txt`` and ``pyproject.toml``, of the Python version and of the
installed distributions. If it differs from the fingerprint stored by the last
successful build (``_build/.package-fingerprint``), the execution cache is emptied
and Sphinx starts from a fresh environment (``--all``), so every chapter is
executed again; otherwise the build takes the fast path (unchanged chapters come
from the cache, unchanged pages are not even re-read).

Why the whole package and not per-chapter dependencies: every chapter imports
``chargetransport`` as a whole (``import chargetransport as ct``) and the modules
import each other, so a chapter's dependencies are the package.

The fingerprint is stored only after a build that succeeded: after a failed build
the next one starts afresh again. ``python tools/build_book.py --fingerprint``
prints the fingerprint and exits.

Chapters execute two at a time. Jupyter Book 1 executes one notebook after the
other, and most of a chapter runs on one core (measured: a whole ``.ci/run`` used
1.06 cores on average on a 2-core machine), so before Sphinx starts, this script
executes the chapters that are not in the cache in a pool of worker processes (one
per core) and stores them in the execution cache exactly as Jupyter Book would
(same cache, same key: the chapter's code cells); Sphinx then finds every chapter
there. Results do not depend on it: every chapter seeds its own draws and the
kernels give the same bits whatever the number of threads. A chapter that fails
is not stored, so Sphinx executes it once more and reports the error as usual.
``python tools/build_book.py --execute-chapters [--config FILE]`` runs this step
alone (the test suite's book build uses it).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

# What the chapters' outputs depend on besides their own cells: the package, and the
# stored production studies (chargetransport.studies) that chapters plot.
PACKAGE_DIR = "src"
DATA_DIR = "data"
ENVIRONMENT_FILES = ("requirements.txt", "pyproject.toml")
# Written by Python, setuptools or editors, not source: they must not force a rebuild.
_NOT_SOURCE_DIRS = {"__pycache__", ".ipynb_checkpoints"}
_NOT_SOURCE_SUFFIXES = (".pyc", ".pyo", ".nbi", ".nbc", ".egg-info", ".swp", "~")

BUILD_DIR = "_build"
FINGERPRINT_FILE = "_build/.package-fingerprint"
EXECUTION_CACHE = "_build/.jupyter_cache"  # Jupyter Book's default (execute: cache)
CONFIG_FILE = "_config.yml"
TOC_FILE = "_toc.yml"


def _package_files(root: Path) -> list[Path]:
    """The files under ``root/src`` and ``root/data``, sorted, generated files left out."""
    files = []
    for directory, subdirs, names in (item for top in (PACKAGE_DIR, DATA_DIR)
                                      for item in os.walk(root / top)):
        subdirs[:] = sorted(
            d for d in subdirs if d not in _NOT_SOURCE_DIRS and not d.endswith(_NOT_SOURCE_SUFFIXES)
        )
        files.extend(
            Path(directory, name) for name in names if not name.endswith(_NOT_SOURCE_SUFFIXES)
        )
    return sorted(files)


def package_fingerprint(root: Path | str = ".") -> str:
    """SHA-256 (hex) of the package sources, the pinned environment and this Python.

    Covers every file under ``root/src`` and ``root/data`` (the stored studies that
    chapters plot; path and content: so an edit, a new
    file, a removed or renamed one all count, committed or not), the files
    ``requirements.txt`` and ``pyproject.toml``, the version of the running
    Python and the name and version of every distribution installed in it (the
    chapters' kernels run this Python).
    """
    root = Path(root)
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        # Length-prefixed, so that no two different inputs hash the same stream.
        for part in (label.encode(), data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)

    for path in _package_files(root):
        add(path.relative_to(root).as_posix(), path.read_bytes())
    for name in ENVIRONMENT_FILES:
        path = root / name
        add(name, path.read_bytes() if path.exists() else b"<missing>")
    add("python", sys.version.encode())
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}".lower()
        for dist in importlib.metadata.distributions()
    )
    add("distributions", "\n".join(installed).encode())
    return digest.hexdigest()


def _jupyter_book() -> str:
    here = Path(sys.executable).parent / "jupyter-book"
    found = str(here) if here.exists() else shutil.which("jupyter-book")
    if found is None:
        sys.exit("build_book.py: jupyter-book is not installed (run `make env`)")
    return found


def read_page(page: Path):
    """A page of the book as the notebook Jupyter Book executes (``.md`` or ``.ipynb``)."""
    import nbformat
    from myst_nb.core.read import read_myst_markdown_notebook

    if page.suffix == ".ipynb":
        return nbformat.read(page, as_version=4)
    return read_myst_markdown_notebook(page.read_text("utf8"), add_source_map=True, path=str(page))


def toc_pages(toc_file: Path) -> list[str]:
    """The pages of ``_toc.yml`` (docnames), in book order."""
    import re

    import yaml

    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))

    def files(entries):
        for entry in entries or []:
            if "file" in entry:
                yield str(entry["file"])
            for key in ("chapters", "sections", "parts"):
                yield from files(entry.get(key))

    pages = [str(toc["root"]), *files(toc.get("chapters")), *files(toc.get("parts"))]
    return [re.sub(r"\.(md|ipynb)$", "", page) for page in pages]


def chapter_notebooks(root: Path) -> list[Path]:
    """The pages of ``_toc.yml`` that are notebooks with code cells, largest first.

    Largest first because the size of a chapter is a fair proxy for its run time,
    and a pool that starts the longest jobs first finishes them together.
    """
    notebooks = []
    for name in dict.fromkeys(toc_pages(root / TOC_FILE)):
        page = next((p for p in (root / f"{name}.md", root / f"{name}.ipynb") if p.exists()), None)
        if page is not None and any(cell.cell_type == "code" for cell in read_page(page).cells):
            notebooks.append(page)
    return sorted(notebooks, key=lambda page: page.stat().st_size, reverse=True)


def _execute_chapter(page: str, timeout: int, allow_errors: bool) -> tuple[str, float, str | None]:
    """Execute one chapter in its own folder; the executed notebook as JSON, seconds, error."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read_page(Path(page))
    # What myst-nb does for `execute_notebooks: cache` (myst_nb/core/execute/cache.py).
    result = single_nb_execution(nb, cwd=str(Path(page).parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True)
    error = result.exc_string if result.err is not None else None
    return nbformat.writes(result.nb), result.time, error


def execute_chapters(root: Path, config_file: Path | None = None,
                     workers: int | None = None) -> int:
    """Execute the chapters missing from the execution cache, ``workers`` at a time.

    Each executed chapter is stored in ``_build/.jupyter_cache`` under the key Jupyter
    Book looks up (its code cells), so that the Sphinx build that follows takes it
    from there. Returns the number of chapters that failed (those are not stored).
    """
    import nbformat
    import yaml
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    config = yaml.safe_load((config_file or root / CONFIG_FILE).read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    if execute.get("execute_notebooks", "auto") != "cache":
        return 0  # "force" executes anyway, "off" never: nothing to prepare
    timeout, allow_errors = execute.get("timeout", 30), execute.get("allow_errors", False)
    cache = get_cache(str(root / EXECUTION_CACHE))
    pending = []
    for page in chapter_notebooks(root):
        try:
            cache.match_cache_notebook(read_page(page))
        except KeyError:
            pending.append(page)
    if not pending:
        return 0
    if workers is None:  # one per core this process may use (as the package's pools)
        affinity = getattr(os, "sched_getaffinity", None)
        workers = len(affinity(0)) if affinity else os.cpu_count()
    workers = max(1, min(len(pending), workers or 1))
    print(f"build_book.py: executing {len(pending)} chapters, {workers} at a time", flush=True)
    failed, start = 0, time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = {pool.submit(_execute_chapter, str(page), timeout, allow_errors): page
                for page in pending}
        for job in as_completed(jobs):
            page = jobs[job].relative_to(root)
            text, seconds, error = job.result()
            if error is not None:
                failed += 1
                print(f"build_book.py: {page} FAILED after {seconds:.0f} s "
                      "(Sphinx executes it again and reports the error)", flush=True)
                continue
            bundle = CacheBundleIn(nbformat.reads(text, as_version=4), str(jobs[job]),
                                   data={"execution_seconds": seconds})
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            print(f"build_book.py: executed {page} in {seconds:.0f} s", flush=True)
    print(f"build_book.py: chapters executed in {time.perf_counter() - start:.0f} s", flush=True)
    return failed


def build(root: Path, jupyter_book_args: list[str]) -> int:
    """Build the book in ``root``; re-execute every chapter if the package changed."""
    fingerprint = package_fingerprint(root)
    stored_path = root / FINGERPRINT_FILE
    stored = stored_path.read_text(encoding="utf-8").strip() if stored_path.exists() else None
    args = list(jupyter_book_args)
    if fingerprint != stored:
        reason = "no earlier build" if stored is None else "the package or its environment changed"
        print(f"build_book.py: {reason}: every chapter is executed again", flush=True)
        shutil.rmtree(root / EXECUTION_CACHE, ignore_errors=True)
        if "--all" not in args:
            args.append("--all")  # Sphinx re-reads every page, so every chapter executes
    else:
        print("build_book.py: package unchanged: chapters come from the execution cache", flush=True)
    execute_chapters(root)
    command = [_jupyter_book(), "build", ".", *args]
    returncode = subprocess.run(command, cwd=root, check=False).returncode
    if returncode == 0:
        stored_path.parent.mkdir(parents=True, exist_ok=True)
        stored_path.write_text(fingerprint + "\n", encoding="utf-8")
    return returncode


def main(argv: list[str]) -> int:
    root = Path.cwd()
    if argv[:1] == ["--fingerprint"]:
        print(package_fingerprint(root))
        return 0
    if argv[:1] == ["--execute-chapters"]:
        config = Path(argv[2]) if argv[1:2] == ["--config"] else None
        return 1 if execute_chapters(root, config) else 0
    return build(root, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
