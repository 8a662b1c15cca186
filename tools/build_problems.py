"""Build the problem-set edition: the book without the solutions of its exercises.

``make problems`` runs ``python tools/build_problems.py`` after ``make book``. It
builds the same pages into ``_build/problems/_build/html`` with sphinx-exercise's
``hide_solutions`` switched on, so every ``{solution}`` block is left out while the
exercises stay numbered as in the book. The chapters are not executed again: the
build reads the execution cache of ``make book`` (``_build/.jupyter_cache``), whose
entries are keyed on the chapters' code cells (and, through ``tools/build_book.py``,
on the package).

The configuration is ``_config.yml`` with three changes, written to
``_build/problems/_config.yml``: ``hide_solutions: true``, the title, and absolute
paths for the execution cache and the local Sphinx extension (Jupyter Book resolves
relative paths against the folder of the configuration file).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "_build" / "problems"
CACHE = ROOT / "_build" / ".jupyter_cache"


def problem_set_config(config: dict) -> dict:
    """The book's configuration, changed for the problem-set edition."""
    config = dict(config)
    config["title"] = f"{config.get('title', 'The book')} — problem sets"
    execute = dict(config.get("execute") or {})
    execute["execute_notebooks"] = "cache"
    execute["cache"] = str(CACHE)
    config["execute"] = execute
    sphinx = dict(config.get("sphinx") or {})
    sphinx_config = dict(sphinx.get("config") or {})
    sphinx_config["hide_solutions"] = True
    sphinx["config"] = sphinx_config
    local = dict(sphinx.get("local_extensions") or {})
    sphinx["local_extensions"] = {name: str((ROOT / path).resolve()) for name, path in local.items()}
    config["sphinx"] = sphinx
    return config


def main(argv: list[str]) -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    shutil.rmtree(OUTPUT / "_build" / "html", ignore_errors=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    config_path = OUTPUT / "_config.yml"
    config_path.write_text(yaml.safe_dump(problem_set_config(config), allow_unicode=True),
                           encoding="utf-8")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--config", str(config_path),
               "--path-output", str(OUTPUT), *argv]
    print(" ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
