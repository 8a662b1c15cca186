"""The reading time a chapter shows is counted from its source (book/_ext/.../reading.py)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from chargetransport_book.reading import count_words, reading_minutes  # noqa: E402


def test_code_cells_front_matter_and_markup_are_not_read():
    text = ("---\nkernelspec: {name: python3}\n---\n# Title words\n\n"
            "```{code-cell} ipython3\nx = one two three\n```\n\n"
            ":::{exercise}\n:label: ex-a\n\nSolve this now.\n:::\n")
    assert count_words(text) == 5          # Title words Solve this now


def test_minutes_are_rounded_to_five_at_the_book_rate():
    assert reading_minutes(0) == 5
    assert reading_minutes(150 * 22) == 20
    assert reading_minutes(150 * 23) == 25
