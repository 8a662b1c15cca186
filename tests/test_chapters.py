"""Every chapter of the book executes, and every figure it draws is readable.

The book is built once per session by the ``built_book`` fixture (tests/conftest.py):
``jupyter-book build -W -n --keep-going --all`` with forced execution and with
``CHARGETRANSPORT_FIGURE_LOG`` set, so that each chapter's ``use_book_style(<name>)``
records every figure it draws in ``<log dir>/<name>.jsonl``.

The tests are parametrized by the executable chapters listed in ``_toc.yml``. A chapter
may declare how many figures it draws in its front matter::

    chargetransport:
      figures: 5

Rules for the axes of a figure (checked by ``test_chapter_figures_have_axis_labels``):
every visible axes with its axis lines on, other than a colorbar, has a non-empty x and
y label (and z label for 3D axes). A label counts if the axes carries it, if another axes
sharing that axis carries it (``sharex``/``sharey`` grids labelled on the outer axes), or
if the figure has ``supxlabel``/``supylabel``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, BookBuild, front_matter, source_of

pytestmark = pytest.mark.book

IMAGE_MIME_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")


def _executed_cells(built_book: BookBuild, chapter: str) -> list[dict[str, Any]]:
    path = built_book.executed_notebook(chapter)
    if not path.exists():
        pytest.fail(
            f"{chapter}: no executed notebook at {path.relative_to(ROOT)}; "
            f"the build did not execute this chapter.\n--- end of the build log ---\n"
            f"{built_book.log_tail()}"
        )
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _image_outputs(cells: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(code cell number, output number) of every image output, 1-based."""
    found = []
    for i, cell in enumerate(cells, start=1):
        for j, output in enumerate(cell.get("outputs", []), start=1):
            if output.get("output_type") in ("display_data", "execute_result") and any(
                mime in output.get("data", {}) for mime in IMAGE_MIME_TYPES
            ):
                found.append((i, j))
    return found


def _figure_records(built_book: BookBuild, chapter: str) -> list[dict[str, Any]]:
    records = built_book.figure_records(chapter)
    if records is None:
        name = Path(chapter).name
        pytest.fail(
            f"{chapter}: no figure log {built_book.figure_log(chapter).name}. The chapter's "
            f"first code cell (tagged remove-cell) must call\n"
            f"    from chargetransport.plotting import use_book_style\n"
            f"    use_book_style({name!r})"
        )
    return records


def _describe(record: dict[str, Any]) -> str:
    titles = [ax["title"] for ax in record["axes"] if ax["title"]]
    name = record["suptitle"] or (titles[0] if titles else "")
    return f"figure {record['figure_id']}" + (f" ({name!r})" if name else "")


def test_book_builds_without_warnings(built_book: BookBuild) -> None:
    """The whole book builds with -W -n: no Sphinx warning, no failed cell."""
    problems = built_book.problems()
    assert built_book.returncode == 0 and not problems, (
        f"`{' '.join(built_book.command)}` exited with {built_book.returncode} after "
        f"{built_book.seconds:.0f} s.\n"
        f"Warnings and errors ({len(problems)}):\n" + "\n".join(problems)
        + f"\n--- end of the build log ({built_book.log_path}) ---\n{built_book.log_tail()}"
    )


def test_chapter_executes_once_in_the_pool(built_book: BookBuild, chapter: str) -> None:
    """The chapter ran in build_book.py's pool (two at a time) and Sphinx took it from
    the execution cache: executed once, not a second time one after the other."""
    source = source_of(chapter).relative_to(ROOT).as_posix()
    assert re.search(rf"build_book\.py: executed {re.escape(source)} in \d+ s", built_book.log), (
        f"{source} was not executed by tools/build_book.py --execute-chapters")
    executed_by_sphinx = [line for line in built_book.log.splitlines()
                          if source in line and "Executing notebook" in line]
    assert not executed_by_sphinx, executed_by_sphinx


def test_chapter_executes_without_errors(built_book: BookBuild, chapter: str) -> None:
    """The chapter ran top to bottom: no error output, no failed execution report."""
    cells = _executed_cells(built_book, chapter)
    errors = [
        f"code cell {i}: {output.get('ename')}: {output.get('evalue')}"
        for i, cell in enumerate(cells, start=1)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    source = str(source_of(chapter))
    failed_lines = [
        line for line in built_book.log.splitlines()
        if source in line and "Executing notebook failed" in line
    ]
    report = built_book.error_report(chapter)
    traceback = ""
    if report.exists():
        text = report.read_text(encoding="utf-8", errors="replace")
        traceback = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)[-4000:]
    assert not errors and not failed_lines and not traceback, (
        f"{chapter} did not execute cleanly.\n" + "\n".join(errors + failed_lines)
        + (f"\n--- {report} ---\n{traceback}" if traceback else "")
    )


def test_chapter_draws_figures(built_book: BookBuild, chapter: str) -> None:
    """Every chapter shows at least one figure."""
    records = _figure_records(built_book, chapter)
    assert records, f"{chapter} drew no figure (its figure log is empty)"


def test_chapter_figures_have_axis_labels(built_book: BookBuild, chapter: str) -> None:
    """Every axes of every figure is labelled (x, y, and z in 3D); colorbars excepted."""
    records = _figure_records(built_book, chapter)
    missing = []
    for record in records:
        for ax in record["axes"]:
            if ax["colorbar"] or not ax["visible"] or not ax["axis_on"]:
                continue
            where = (
                f"{_describe(record)}, axes {ax['index']} ({ax['name']}"
                + (f", title {ax['title']!r}" if ax["title"] else "")
                + ")"
            )
            for axis in ("x", "y"):
                labels = (ax[f"{axis}label"], ax[f"shared_{axis}label"], record[f"sup{axis}label"])
                if not any(label.strip() for label in labels):
                    missing.append(f"{where}: no {axis} label")
            if ax["name"] == "3d" and not (ax["zlabel"] or "").strip():
                missing.append(f"{where}: no z label")
    assert not missing, f"{chapter}: unlabelled axes\n" + "\n".join(missing)


def test_chapter_figure_count_matches_image_outputs(built_book: BookBuild, chapter: str) -> None:
    """Each figure drawn is shown exactly once: figures logged == image outputs."""
    records = _figure_records(built_book, chapter)
    images = _image_outputs(_executed_cells(built_book, chapter))
    assert len(records) == len(images), (
        f"{chapter}: {len(records)} figures drawn but {len(images)} image outputs in the "
        f"executed notebook (image outputs at code cell/output {images}; figures drawn: "
        f"{[_describe(r) for r in records]}). A figure drawn but not shown (savefig, "
        f"canvas.draw) or shown twice, or an image not made with pyplot, breaks the count."
    )


def test_chapter_figure_count_matches_front_matter(built_book: BookBuild, chapter: str) -> None:
    """If the front matter says ``chargetransport: {figures: N}``, the chapter draws N."""
    declared = (front_matter(chapter).get("chargetransport") or {}).get("figures")
    if declared is None:
        pytest.skip(f"{chapter} declares no figure count (chargetransport: figures: N)")
    records = _figure_records(built_book, chapter)
    assert len(records) == int(declared), (
        f"{chapter}: front matter declares {declared} figures, the chapter drew "
        f"{len(records)}: {[_describe(r) for r in records]}"
    )
