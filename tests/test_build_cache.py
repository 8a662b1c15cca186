"""``make book`` re-executes the chapters when the package changes, and only then.

``make book`` runs ``tools/build_book.py``, which keys Jupyter Book's execution cache
on a fingerprint of ``src/`` and of the environment as well as on the chapters' cells.
The fingerprint itself is checked by fast unit tests. The end-to-end test builds a
scratch book (one one-cell chapter that prints a value computed by a scratch package
under ``src/``, with the execution settings of the real ``_config.yml`` and the
Makefile's jupyter-book flags) three times: first build; after the package changed (the
new value must be shown, the old one gone); with nothing changed (the fast path: the
chapter is not executed again). Each execution prints a fresh random token, so a
re-execution cannot be mistaken for a cache hit or the other way round.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from conftest import CONFIG_FILE, ROOT, toc_chapters

MAKEFILE = ROOT / "Makefile"
BUILD_SCRIPT = ROOT / "tools" / "build_book.py"


def _build_book_module():
    spec = importlib.util.spec_from_file_location("build_book", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    # registered, so that its pool's worker processes can unpickle its functions
    sys.modules.setdefault("build_book", module)
    spec.loader.exec_module(module)
    return module


build_book = _build_book_module()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


# --------------------------------------------------------------------------------------
# The fingerprint
# --------------------------------------------------------------------------------------
@pytest.fixture
def package_tree(tmp_path: Path) -> Path:
    _write(tmp_path / "src" / "pkg" / "__init__.py", "from .core import f\n")
    _write(tmp_path / "src" / "pkg" / "core.py", "def f():\n    return 1.0\n")
    _write(tmp_path / "requirements.txt", "numpy==2.0\n")
    _write(tmp_path / "pyproject.toml", "[project]\nname = 'pkg'\n")
    return tmp_path


def test_fingerprint_is_deterministic(package_tree: Path) -> None:
    assert build_book.package_fingerprint(package_tree) == build_book.package_fingerprint(package_tree)


@pytest.mark.parametrize(
    "change",
    ["edit", "new file", "remove", "rename", "requirements", "pyproject", "stored study"],
)
def test_fingerprint_changes_with_the_package(package_tree: Path, change: str) -> None:
    before = build_book.package_fingerprint(package_tree)
    core = package_tree / "src" / "pkg" / "core.py"
    if change == "edit":
        core.write_text("def f():\n    return 2.0\n", encoding="utf-8")
    elif change == "new file":
        (package_tree / "src" / "pkg" / "extra.py").write_text("", encoding="utf-8")
    elif change == "remove":
        core.unlink()
    elif change == "rename":
        core.rename(core.with_name("kernel.py"))
    elif change == "stored study":  # chapters plot data/studies (chargetransport.studies)
        _write(package_tree / "data" / "studies" / "s" / "provenance.json", "{}")
    elif change == "requirements":
        (package_tree / "requirements.txt").write_text("numpy==2.1\n", encoding="utf-8")
    else:
        (package_tree / "pyproject.toml").write_text("[project]\nname = 'pkg2'\n", encoding="utf-8")
    assert build_book.package_fingerprint(package_tree) != before


def test_fingerprint_ignores_generated_files(package_tree: Path) -> None:
    """Bytecode, Numba's cache and setuptools' egg-info are not source."""
    before = build_book.package_fingerprint(package_tree)
    pycache = package_tree / "src" / "pkg" / "__pycache__"
    pycache.mkdir()
    (pycache / "core.cpython-311.pyc").write_bytes(b"\0" * 16)
    (pycache / "core.f-1.py311.nbi").write_bytes(b"\1" * 16)
    egg = package_tree / "src" / "pkg.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Name: pkg\n", encoding="utf-8")
    assert build_book.package_fingerprint(package_tree) == before


def test_make_book_runs_the_build_script() -> None:
    """``make book`` goes through tools/build_book.py with the Makefile's flags."""
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", MAKEFILE.read_text(encoding="utf-8"), re.M)
    assert recipe, "no `book:` rule in the Makefile"
    assert "tools/build_book.py $(JB_FLAGS)" in recipe.group(1), recipe.group(1)


# --------------------------------------------------------------------------------------
# End to end: a scratch book built three times
# --------------------------------------------------------------------------------------
CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Scratch chapter

```{code-cell} ipython3
import uuid
import scratchpkg

print(f"value={scratchpkg.density_of_states()!r} run={uuid.uuid4().hex}")
```
"""

PACKAGE_V1 = "def density_of_states():\n    return 0.25\n"
# The change: a wrapper that doubles the density of states.
PACKAGE_V2 = PACKAGE_V1 + (
    "\n_original = density_of_states\n\n\n"
    "def density_of_states():\n    return 2 * _original()\n"
)


def _jupyter_book_flags() -> list[str]:
    """``make book``'s flags, with the Makefile's own variables (``$(JB_CHECKS)``) expanded."""
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*)$", MAKEFILE.read_text(encoding="utf-8"), re.M))
    assert "JB_FLAGS" in variables, "no JB_FLAGS in the Makefile"
    flags = variables["JB_FLAGS"]
    while (reference := re.search(r"\$\((\w+)\)", flags)):
        flags = flags.replace(reference.group(0), variables[reference.group(1)])
    return flags.split()


def _scratch_book(root: Path) -> None:
    real = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    config = {
        "title": "scratch",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "src", ".*"],
        "execute": real["execute"],  # the book's execution settings, cache included
    }
    assert config["execute"]["execute_notebooks"] == "cache"
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: chapter\n", encoding="utf-8")
    (root / "chapter.md").write_text(CHAPTER, encoding="utf-8")
    _write(root / "src" / "scratchpkg" / "__init__.py", PACKAGE_V1)


def _build(root: Path) -> tuple[str, float]:
    """Run ``make book``'s build step in ``root``; the chapter's printed line and the time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root / "src")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), *_jupyter_book_flags()],
        cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        check=False, timeout=600,
    )
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    # The chapters run in build_book.py's pool; Sphinx only takes them from the cache.
    assert "Executing notebook" not in proc.stdout + proc.stderr, proc.stdout[-3000:]
    # The executed output as the HTML shows it (this scratch book does not load the
    # book's extension, which also writes it into _build/jupyter_execute/).
    html = (root / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")
    match = re.search(r"value=(\S+) run=([0-9a-f]{32})", html)
    assert match, "the HTML shows no printed value of the chapter"
    return match.group(0), seconds


@pytest.mark.book
def test_a_package_change_re_executes_the_chapters(tmp_path: Path) -> None:
    _scratch_book(tmp_path)

    first, _ = _build(tmp_path)
    assert first.startswith("value=0.25 ")

    (tmp_path / "src" / "scratchpkg" / "__init__.py").write_text(PACKAGE_V2, encoding="utf-8")
    second, _ = _build(tmp_path)
    assert second.startswith("value=0.5 "), f"stale output after the package changed: {second}"
    html = (tmp_path / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")
    assert "value=0.25" not in html, "the HTML still shows the old package's value"

    third, seconds = _build(tmp_path)
    assert third == second, "nothing changed, yet the chapter was executed again"
    print(f"fast path (nothing changed): {seconds:.1f} s")


# --------------------------------------------------------------------------------------
# The chapters execute in a pool, into Jupyter Book's cache
# --------------------------------------------------------------------------------------
def test_the_pool_executes_exactly_the_books_chapters() -> None:
    pages = [page.relative_to(ROOT).with_suffix("").as_posix()
             for page in build_book.chapter_notebooks(ROOT)]
    assert sorted(pages) == sorted(toc_chapters())


def test_a_chapter_that_fails_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failing chapter is left for Sphinx (which reports it); a good one is stored under
    the key Jupyter Book looks up, and is not executed a second time."""
    from jupyter_cache import get_cache

    _scratch_book(tmp_path)
    bad = tmp_path / "bad.md"
    bad.write_text(CHAPTER.replace("import scratchpkg", "raise ValueError('scratch')"), "utf-8")
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: chapter\nchapters:\n  - file: bad\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "src"))  # the kernels import scratchpkg

    assert build_book.execute_chapters(tmp_path, workers=2) == 1
    cache = get_cache(str(tmp_path / build_book.EXECUTION_CACHE))
    cache.match_cache_notebook(build_book.read_page(tmp_path / "chapter.md"))
    with pytest.raises(KeyError):
        cache.match_cache_notebook(build_book.read_page(bad))

    toc.write_text("format: jb-book\nroot: chapter\n", encoding="utf-8")
    assert build_book.execute_chapters(tmp_path, workers=2) == 0
    assert len(cache.list_cache_records()) == 1
