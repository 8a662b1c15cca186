"""Read the numbers a chapter states from its executed notebook.

Chapters put every number they quote in the text through ``myst_nb.glue``; the
claim tests (``tests/test_<chapter>_claims.py``) read those glued values from
the notebook the book build executed and check them against theory or an
independent computation. So the number a reader sees is the number a test
asserts, and a chapter cannot drift from its claims unnoticed.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path


def glued_values(notebook: Path) -> dict[str, object]:
    """All values glued in an executed notebook, by name (Python literals)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            text = output.get("data", {}).get("text/plain")
            if isinstance(text, list):
                text = "".join(text)
            text = text.replace("np.float64(", "").replace(")", "") if text else text
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
    return values


def chapter_values(chapter: str):
    """A module-scoped pytest fixture ``values``: the glued values of ``chapter``.

    Use in a claims test as ``values = chapter_values("book/<chapter>")``; the
    values come from the notebook of the session's book build (``built_book``).
    """
    import pytest

    @pytest.fixture(scope="module")
    def values(built_book):
        path = built_book.executed_notebook(chapter)
        assert path.exists(), f"the chapter was not executed: {path}"
        return glued_values(path)

    return values
