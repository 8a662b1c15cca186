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
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
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
    return build(root, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
