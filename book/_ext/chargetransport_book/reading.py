"""``{reading-time}``: the reading time of a chapter, counted, not typed.

As a directive in a chapter's opening block::

    :::{reading-time}
    :::

renders "Reading time: about 35 minutes (5200 words of text, exercises included)." The
words are those of the MyST source outside code cells, directive fences and option
lines; display math counts as words as it stands (a formula takes reading time too). The
rate, 150 words a minute, is that of careful reading of mathematical text; the result is
rounded to 5 minutes.
"""
from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

WORDS_PER_MINUTE = 150
_CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}.*?^\1\s*$", flags=re.MULTILINE | re.DOTALL)
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", flags=re.DOTALL)
_MARKUP_LINE = re.compile(r"^\s*(?:`{3,}|~{3,}|:{3,}|:[\w-]+:).*$", flags=re.MULTILINE)
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['’-][A-Za-z0-9]+)*")


def count_words(text: str) -> int:
    """Words of a MyST notebook's prose (no front matter, code cells or markup lines)."""
    text = _FRONT_MATTER.sub("", text)
    text = _CODE_CELL.sub("", text)
    text = _MARKUP_LINE.sub("", text)
    return len(_WORD.findall(text))


def reading_minutes(words: int) -> int:
    """Minutes at :data:`WORDS_PER_MINUTE`, rounded to 5 (at least 5)."""
    return max(5, 5 * round(words / WORDS_PER_MINUTE / 5))


class ReadingTimeDirective(SphinxDirective):
    """``:::{reading-time}``: "Reading time: about N minutes (W words ...)."."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        source = Path(self.env.doc2path(self.env.docname))
        words = count_words(source.read_text(encoding="utf-8"))
        text = (f"Reading time: about {reading_minutes(words)} minutes "
                f"({words} words of text, exercises included).")
        return [nodes.paragraph("", text, classes=["reading-time"])]


def setup(app) -> None:
    app.add_directive("reading-time", ReadingTimeDirective)
