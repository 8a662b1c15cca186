"""What the built book publishes: notebooks, launch buttons, the status page, theorem
numbers, the PDF (all from the session's book build, ``built_book``).

* every chapter's notebook is in ``_build/html/_sources`` (valid nbformat, a setup cell,
  then the chapter's code cells as jupytext reads them from the MyST source), and the
  chapter page links to it;
* the launch buttons point at the repository of ``_config.yml`` (a placeholder,
  https://github.com/example-org/chargetransport, until the publish workflow sets the
  real one), written out here from the hubs' URL schemes;
* the "Reproducibility status" page lists every chapter with an execution time, and
  the commit is ``git rev-parse HEAD``;
* theorem boxes show the paper's numbers, and references to them too;
* ``tools/build_pdf.py`` (``make pdf``) prints the book: every chapter's title is in the
  PDF's text, with its figures; no raw TeX. Its first pages are rendered to PNG in
  ``_build/screenshots/`` for humans (paths printed).
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jupytext
import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import BUILD_DIR, CONFIG_FILE, HTML_DIR, ROOT, BookBuild, toc_chapters, toc_pages

pytestmark = pytest.mark.book


def _config() -> dict:
    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))


def _soup(page: str) -> BeautifulSoup:
    path = HTML_DIR / f"{page}.html"
    if not path.exists():
        pytest.fail(f"{page}: {path} was not built")
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _code_sources(notebook) -> list[str]:
    return [cell.source.strip() for cell in notebook.cells if cell.cell_type == "code"]


def test_chapter_notebook_is_downloadable(built_book: BookBuild, chapter: str) -> None:
    path = HTML_DIR / "_sources" / f"{chapter}.ipynb"
    assert path.is_file(), f"{chapter}: no notebook {path}"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["language"] == "python"
    setup, *cells = notebook.cells
    assert setup.cell_type == "code" and "chargetransport-setup" in setup.metadata.get("tags", [])
    repository = _config()["repository"]
    assert f"git+{repository['url']}@{repository['branch']}" in setup.source
    source = jupytext.read(ROOT / f"{chapter}.md")
    chapter_cells = nbformat.v4.new_notebook(cells=cells)
    assert _code_sources(chapter_cells) == _code_sources(source), (
        f"{chapter}: the notebook's code cells differ from the MyST source's")
    # executed: code cells carry this build's outputs
    assert any(cell.get("outputs") for cell in cells if cell.cell_type == "code")
    links = [a["href"] for a in _soup(chapter).find_all("a", href=True)]
    assert f"../_sources/{chapter}.ipynb" in links, f"{chapter}: no download link to its notebook"


def test_launch_buttons_point_at_the_repository(built_book: BookBuild, chapter: str) -> None:
    config = _config()
    url = config["repository"]["url"].rstrip("/")
    branch = config["repository"]["branch"]
    org, repo = url.split("/")[-2:]
    hubs = config["launch_buttons"]
    links = {a["href"] for a in _soup(chapter).select("a[href]")}
    binder = f"{hubs['binderhub_url'].rstrip('/')}/v2/gh/{org}/{repo}/{branch}?urlpath=lab/tree/{chapter}.ipynb"
    colab = f"{hubs['colab_url'].rstrip('/')}/github/{org}/{repo}/blob/notebooks/{chapter}.ipynb"
    assert binder in links, f"{chapter}: no Binder link {binder}"
    assert colab in links, f"{chapter}: no Colab link {colab}"
    hub_prefix = f"{hubs['jupyterhub_url'].rstrip('/')}/hub/user-redirect/git-pull?"
    (hub,) = [link for link in links if link.startswith(hub_prefix)]
    query = {k: v[0] for k, v in parse_qs(urlsplit(hub).query).items()}
    assert query == {"repo": url, "branch": "notebooks", "urlpath": f"lab/tree/{repo}/{chapter}.ipynb"}
    repo_button = [a for a in _soup(chapter).select("a[href]") if a["href"].rstrip("/") == url]
    assert repo_button, f"{chapter}: no repository button to {url}"


def test_reproducibility_status_page(built_book: BookBuild) -> None:
    assert "book/reproducibility" in toc_pages()
    assert toc_pages().index("book/reproducibility") > toc_pages().index("book/bibliography")
    soup = _soup("book/reproducibility")
    table = soup.select_one("table.reproducibility-chapters")
    assert table is not None, "no table of chapters on the status page"
    rows = {}
    for row in table.select("tbody tr"):
        cells = row.find_all("td")
        link = cells[0].find("a")
        rows[link["href"].split("#")[0]] = [c.get_text(" ", strip=True) for c in cells]
    for chapter in toc_chapters():
        name = f"{Path(chapter).name}.html"
        assert name in rows, f"the status page does not list {chapter}"
        _, seconds, date, state, notebook = rows[name]
        assert re.fullmatch(r"\d+(\.\d)? s|\d+ min \d\d s", seconds), (chapter, seconds)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", date), (chapter, date)
        assert state == "ok" and notebook == f"{Path(chapter).name}.ipynb"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    commit = soup.select_one("table.reproducibility-build code.git-commit, table.reproducibility-build .git-commit")
    assert commit is not None and commit.get_text(strip=True) == head
    build = soup.select_one("table.reproducibility-build").get_text(" ", strip=True)
    assert re.search(r"Cores \d+ \(\d+ usable", build) and re.search(r"Memory [\d.]+ GiB", build)
    versions = soup.select_one("table.reproducibility-versions").get_text(" ", strip=True)
    import numpy
    assert f"numpy {numpy.__version__}" in versions


def test_theorem_boxes_show_the_papers_numbers(built_book: BookBuild, chapter: str) -> None:
    for box in _soup(chapter).select("div.proof"):
        number_span = box.select_one("p.admonition-title span.caption-number")
        if number_span is None or not box.get("id", "").startswith(("thm-", "def-", "cor-", "prop-", "lem-")):
            continue  # a proof, or a box without a label
        caption = number_span.get_text(" ", strip=True)
        kind = next(c for c in box["class"] if c not in ("proof", "admonition")).title()
        raw = (ROOT / f"{chapter}.md").read_text(encoding="utf-8")
        label = box.get("id")
        match = re.search(rf":::{{prf:{kind.lower()}}}(.*)\n:label: {re.escape(label)}\n", raw)
        assert match, f"{chapter}: box {label} not found in the source"
        number = re.search(rf"\b{kind} (\d+(?:\.\d+)*)\b", match.group(1))
        expected = f"{kind} {number.group(1)}" if number else kind
        assert caption == expected, f"{chapter}: box {label} captioned {caption!r}, not {expected!r}"
    for link in _soup(chapter).select('a[href*="#thm-"], a[href*="#cor-"]'):
        text = link.get_text(" ", strip=True)
        assert not re.fullmatch(r"(Theorem|Corollary) \d+", text), f"{chapter}: book number in {text!r}"


def _build_pdf_module():
    spec = importlib.util.spec_from_file_location("build_pdf", ROOT / "tools" / "build_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def book_pdf(built_book: BookBuild, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists():
        pytest.skip("no Chromium: `make test` installs Debian's chromium")
    out = tmp_path_factory.mktemp("pdf") / "chargetransport.pdf"
    start = time.perf_counter()
    summary = _build_pdf_module().build_pdf(HTML_DIR, out, toc_pages())
    summary["seconds"] = time.perf_counter() - start
    return summary


def test_pdf_has_every_chapter(book_pdf: dict, capsys: pytest.CaptureFixture[str]) -> None:
    from pypdf import PdfReader

    reader = PdfReader(book_pdf["pdf"])
    assert len(reader.pages) == book_pdf["pages"] > 0
    contents = {entry["page"]: entry for entry in book_pdf["contents"]}
    assert list(contents) == toc_pages()
    problems = []
    for chapter in toc_chapters():
        entry = contents[chapter]
        pages = reader.pages[entry["first_page"] - 1: entry["first_page"] - 1 + entry["pages"]]
        text = re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in pages))
        title = _soup(chapter).select_one("article h1").get_text(" ", strip=True).rstrip("#¶ ")
        if re.sub(r"\s+", " ", title) not in text:
            problems.append(f"{chapter}: title {title!r} not in its pages' text")
        if re.search(r"\$\$|\\\\(begin|frac|mathbb)\b", text):
            problems.append(f"{chapter}: raw TeX in the PDF")
        figures = len(_soup(chapter).select("article img"))
        images = sum(len(page.images) for page in pages)
        if images < min(figures, 1):
            problems.append(f"{chapter}: {figures} figures in the HTML, {images} images in the PDF")
    assert not problems, "\n".join(problems)
    with capsys.disabled():
        print(f"\n[pdf] {book_pdf['pages']} pages in {book_pdf['seconds']:.0f} s: {book_pdf['pdf']}")


def test_pdf_first_pages_screenshots(book_pdf: dict, capsys: pytest.CaptureFixture[str]) -> None:
    out = BUILD_DIR / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    chapter = toc_chapters()[0]
    first = next(e for e in book_pdf["contents"] if e["page"] == chapter)["first_page"]
    shots = []
    if shutil.which("pdftoppm"):
        for number in (1, first):
            prefix = out / f"pdf-page-{number}"
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", str(number),
                            "-l", str(number), book_pdf["pdf"], str(prefix)], check=True)
            shots.append(prefix.with_suffix(".png"))
    else:  # Chromium's PDF viewer cannot be screenshotted headless: the HTML print view
        from test_browser import devtools

        with devtools.Browser() as browser:
            for page in (toc_pages()[0], chapter):
                tab = browser.open(HTML_DIR / f"{page}.html", width=688, height=1123, media="print")
                tab.wait_for_mathjax()
                shots.append(tab.screenshot(out / f"print-{page.replace('/', '__')}.png"))
                tab.close()
    for shot in shots:
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 5_000, shot
    with capsys.disabled():
        print("\n[screenshots] PDF pages: " + "  ".join(str(s) for s in shots))


# --------------------------------------------------------------------------------------
# The problem-set edition (make problems)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def problem_set(built_book: BookBuild) -> Path:
    """``tools/build_problems.py`` run after the session's build (from its execution cache)."""
    assert built_book.returncode == 0, "the book build failed"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_problems.py"),
         "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    print(f"make problems: {time.perf_counter() - start:.0f} s")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Executing" not in proc.stdout, "the problem-set build executed chapters again"
    return ROOT / "_build" / "problems" / "_build" / "html"


def test_problem_set_edition_has_every_exercise_and_no_solution(problem_set: Path, chapter: str):
    book = BeautifulSoup((HTML_DIR / f"{chapter}.html").read_text(encoding="utf-8"), "html.parser")
    problems = BeautifulSoup((problem_set / f"{chapter}.html").read_text(encoding="utf-8"),
                             "html.parser")
    exercises = [e.get("id") for e in book.select("div.exercise")]
    assert exercises, f"{chapter}: the book shows no exercise"
    assert [e.get("id") for e in problems.select("div.exercise")] == exercises
    assert book.select("div.solution"), f"{chapter}: the book shows no solution"
    assert not problems.select("div.solution"), f"{chapter}: the problem set shows solutions"
    # nothing of a solution leaks, gated ones ({solution-start}...{solution-end}, whose
    # cells and text sphinx-exercise alone would leave on the page) included
    text = problems.get_text(" ", strip=True)
    for solution in book.select("div.solution"):
        body = (solution.select_one("section") or solution).get_text(" ", strip=True)
        middle = body[len(body) // 2:len(body) // 2 + 60]
        assert middle not in text, f"{chapter}: the problem set shows a solution: {middle!r}"
    # the computed content stays: the figures of the chapter outside its solutions
    in_solutions = sum(len(s.select("img")) for s in book.select("div.solution"))
    assert len(problems.select("img")) == len(book.select("img")) - in_solutions
