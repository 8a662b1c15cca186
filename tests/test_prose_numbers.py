"""Every number in a chapter's prose is computed: glued from a cell, or allowed for a reason.

A sentence of a chapter that states a number must take it from a glued value
(``{glue:text}`name:fmt```), so that the claims test checks what the reader sees.
This test reads each chapter's MyST source, strips code cells, glue/cite/ref roles,
labels, directive options and link targets, and lists every number left in the prose
(in text and in math). A number is allowed when it is

* an integer up to 12: dimensions, orders of moments, exponents, small counts
  (the structure of formulas such as ``2\\pi`` or ``\\eta^2``); and any integer inside
  math that is a constant of a formula (``\\log(16/|E|)``, ``M_{22}``), unless it
  follows an approximate relation (``\\approx``, ``\\sim``, ``\\gtrsim``...): then it
  states a measured size;
* a year (1900-2099), or a number of the paper's structure: equation numbers
  ``(2.11)``, ``Theorem 2.1``, ``section 2.3``, ``Proposition 3.3``, ``Corollary 3.5``...;
* a literal of one of the chapter's visible code cells (a parameter the reader can see
  and change, e.g. ``eta = 0.4`` or a box side ``L = 512``);
* listed in ``ALLOWED`` below for its chapter, with the reason.

Approximate quantities in words ("about eight", "a sixth", "roughly half") are numbers
too: they are flagged in the same way.
"""
from __future__ import annotations

import re

import pytest

from conftest import source_of

# Per chapter: {number as written: reason}. Keep it short; prefer glue.
ALLOWED: dict[str, dict[str, str]] = {
    "convergence_in_higher_mean": {
        "a third": "an exercise's parameter: a momentum bump a third as wide as in Experiment 4",
    },
}

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w])")
_FRACTIONS = r"half|third|thirds|quarter|quarters|fifth|sixth|seventh|eighth|tenth"
_WORD_NUMBERS = (rf"{_FRACTIONS}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                 r"dozen|dozens|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|"
                 r"twice|thrice")
# "about eight", "roughly half", "a sixth": a measured size in words. ("at least two
# lines", "a three-dimensional lattice" state structure, not a measurement.)
_APPROXIMATE = re.compile(
    rf"\b(?:about|roughly|nearly|almost|around|approximately|some)\s+(?:a\s+)?(?:{_WORD_NUMBERS})\b"
    rf"|\b(?:a|one)\s+(?:{_FRACTIONS})\b(?!-)",
    flags=re.IGNORECASE)
# Structure of the paper and of the book: never a measured number.
_STRUCTURE = re.compile(
    r"(?:\(\s*\d+\.\d+[a-z]?\s*\)"                       # (2.11)
    r"|(?:Theorems?|Propositions?|Corollary|Corollaries|Lemmas?|Definitions?|Remarks?|"
    r"Conjectures?|[Ss]ections?|[Ss]ec\.|§|[Ee]qs?\.|[Ee]quations?|Figures?|Chapters?|"
    r"Part|parts?)\s*~?\s*\d+(?:\.\d+)*(?:\s*(?:[-–—,]|and|to)\s*\d+(?:\.\d+)*)*)")
_ROLES = re.compile(r"\{[\w:.-]+\}`[^`]*`")                 # {glue:text}`x`, {cite}`y`, ...
_INLINE_CODE = re.compile(r"``[^`]+``|`[^`]+`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[^>\s]+>")
_HTML = re.compile(r"<[^>]+>")


def _split_cells(text: str) -> tuple[list[tuple[int, str]], list[str]]:
    """(prose lines with their line numbers, code lines) of a MyST notebook.

    Front matter, code cells, directive fences and option lines are left out of the
    prose; a left-out line ends a paragraph (an empty prose line is kept as the break).
    """
    prose, code = [], []
    lines = text.splitlines()
    i = 0
    if lines and lines[0].strip() == "---":            # YAML front matter
        i = lines.index("---", 1) + 1
    in_code, fence = False, ""
    for number, line in enumerate(lines[i:], start=i + 1):
        stripped = line.strip()
        if in_code:
            if stripped == fence:
                in_code = False
            else:
                code.append(line)
            continue
        m = re.match(r"^(`{3,}|~{3,})\{code-cell\}", stripped)
        if m:
            in_code, fence = True, m.group(1)
            prose.append((number, ""))
            continue
        if (re.match(r"^(`{3,}|~{3,}|:{3,})", stripped)     # directive fences (text inside is prose)
                or re.match(r"^:[\w-]+:", stripped)         # directive options (:label:, :class:)
                or re.match(r"^\(\s*[\w-]+\s*\)=\s*$", stripped)):  # (label)=
            prose.append((number, ""))
            continue
        prose.append((number, line))
    return prose, code


def _code_literals(code_lines: list[str]) -> set[str]:
    literals = set()
    for line in code_lines:
        line = line.split("#", 1)[0]                       # comments are not parameters
        for m in _NUMBER.finditer(line):
            literals.add(_canonical(m.group(1)))
    return literals


def _canonical(token: str) -> str:
    try:
        value = float(token)
    except ValueError:
        return token
    return repr(int(value)) if value.is_integer() else repr(value)


_APPROX_RELATION = re.compile(r"(?:\\approx|\\simeq|\\sim|\\gtrsim|\\lesssim|\\gg|\\ll|≈|~)\s*$")


def _math_mask(line: str, in_display: bool) -> tuple[list[bool], bool]:
    """Per character: inside math ($...$, $$...$$, or a display block continued from above)."""
    mask, i, in_inline = [], 0, False
    while i < len(line):
        if line.startswith("$$", i):
            in_display = not in_display
            mask += [True, True]
            i += 2
            continue
        if line[i] == "$" and not in_display:
            in_inline = not in_inline
            mask.append(True)
            i += 1
            continue
        mask.append(in_display or in_inline)
        i += 1
    return mask, in_display


def _paragraphs(prose: list[tuple[int, str]]) -> list[tuple[list[int], str]]:
    """Consecutive non-empty prose lines joined: (line number of each line, text)."""
    out, numbers, lines = [], [], []
    for number, line in prose + [(0, "")]:
        if line.strip():
            numbers.append(number)
            lines.append(line)
        elif lines:
            out.append((numbers, "\n".join(lines)))
            numbers, lines = [], []
    return out


def prose_numbers(page: str) -> list[tuple[int, str, str]]:
    """``(line number, token, line)`` of every number in the prose that is not allowed."""
    text = source_of(page).read_text(encoding="utf-8")
    prose, code = _split_cells(text)
    literals = _code_literals(code)
    allowed = ALLOWED.get(page.split("/")[-1], {})
    found = []
    in_display = False
    for numbers, paragraph in _paragraphs(prose):
        lines = paragraph.split("\n")
        starts = [sum(len(x) + 1 for x in lines[:k]) for k in range(len(lines))]

        def where(offset):
            k = max(i for i, st in enumerate(starts) if st <= offset)
            return numbers[k], lines[k].strip()

        clean = _ROLES.sub(lambda m: " " * len(m.group(0)), paragraph)
        for pattern in (_INLINE_CODE, _LINK_TARGET, _HTML, _STRUCTURE):
            clean = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), clean)
        math, in_display = _math_mask(clean, in_display)
        for m in _APPROXIMATE.finditer(clean):
            words = re.sub(r"\s+", " ", m.group(0))
            if words.lower() not in allowed and words not in allowed:
                found.append((where(m.start())[0], words, where(m.start())[1]))
        for m in _NUMBER.finditer(clean):
            token = m.group(1)
            canon = _canonical(token)
            value = float(token)
            if value.is_integer() and 0 <= value <= 12:
                continue
            if value.is_integer() and 1900 <= value <= 2099:
                continue
            if (value.is_integer() and math[m.start()]
                    and not _APPROX_RELATION.search(clean[:m.start()])):
                continue
            if canon in literals or token in allowed or canon in allowed:
                continue
            found.append((where(m.start())[0], token, where(m.start())[1]))
    return found


def test_every_number_in_the_prose_is_glued_or_allowed(chapter):
    found = prose_numbers(chapter)
    report = "\n".join(f"  {chapter}.md:{n}: {tok!r} in: {line[:110]}" for n, tok, line in found)
    assert not found, ("numbers in the prose that are neither glued nor a visible parameter "
                       f"(glue them, or add them to ALLOWED with a reason):\n{report}")


@pytest.mark.parametrize("text, flagged", [
    ("the rate is 0.53 here", ["0.53"]),
    ("at about eight mean free times", ["about eight"]),
    ("by Theorem 2.1 and eq. (2.11), see section 2.3", []),
    ("in $d = 3$ with $2\\pi\\rho\\eta^2$", []),
    ("{glue:text}`rate:.2f` (Chen, 2010)", []),
    ("we use $L = 512$", []),                 # 512 is a code literal below
    ("an error of $10^{-4}$", []),
    ("$\\rho_2 \\approx \\log(16/|E|)$ and $M_{22}$", []),
    ("$\\xi_{64} \\approx 25$ at $\\eta = 2$", ["25"]),
    ("$$\nx = 0.9139\n$$", ["0.9139"]),
    ("about 25 sites", ["25"]),
    ("a sixth of the current", ["a sixth"]),
    ("as Theorem\n4.3 states", []),
    ("at least two lines of a three-dimensional box, more than two vertices", []),
    ("about a hundred times larger", ["about a hundred"]),
])
def test_the_detector_flags_what_it_should(tmp_path, monkeypatch, text, flagged):
    page = tmp_path / "book" / "scratch.md"
    page.parent.mkdir()
    page.write_text("---\nkernelspec: {}\n---\n# T\n\n" + text + "\n\n```{code-cell} ipython3\nL = 512\n```\n")
    monkeypatch.setattr("test_prose_numbers.source_of", lambda p: page)
    assert [tok for _, tok, _ in prose_numbers("book/scratch")] == flagged
