"""The built book renders in a real browser, offline.

Every page listed in ``_toc.yml`` is opened from ``_build/html`` (built once per session
by the ``built_book`` fixture) in headless Chromium, with every host name resolving to
nothing, and the DOM is dumped after MathJax has run. The tests check that

* MathJax typeset the equations: ``mjx-container`` elements, no ``mjx-merror``, no raw
  TeX left in ``.math`` elements or in the text;
* every image of the page content is an existing, non-empty PNG or SVG in ``_build/html``;
* the page loads nothing from the network: no ``http(s)://`` script, stylesheet, image
  ... in the HTML or in the DOM after the scripts ran, every local resource it names
  exists, and the browser's network log shows no http(s) request made by the page;
* and no uncaught JavaScript error occurs;
* no formula (``mjx-container``) or code block is cut off, at a desktop's width (1280 px)
  and at a phone's (390 px): wider than its box is fine only where a scroll container
  (``overflow-x: auto``) lets the reader scroll to the rest, not where an ancestor with
  ``overflow: hidden``/``clip`` cuts it or it runs out of the window (checked through
  Chromium's DevTools protocol, ``tools/chromium.py``);
* and screenshots of each chapter (desktop and phone) are written to
  ``_build/screenshots/`` for humans to look at (their paths are printed).

Links (``<a href>``, such as the launch buttons to Binder or Colab) are not loaded
resources: only what a page loads by itself must be local.

``make test`` installs Debian's ``chromium``; without it these tests are skipped.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import BUILD_DIR, HTML_DIR, ROOT, BookBuild


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


devtools = _load_tool("chromium")  # headless Chromium over the DevTools pipe

pytestmark = pytest.mark.book

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Offline: any attempt to reach a host fails, and the failure is logged below.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--virtual-time-budget=15000",
]
CHROMIUM_TIMEOUT = 300  # seconds of wall time for one page (2 cores, cold start)

# Known, harmless console errors. sphinx-thebe 0.3.1 under Sphinx 7.4 adds its inline
# configuration script twice, so the second `const THEBE_JS_URL` is a redeclaration.
# (Thebe itself is never loaded: launch_buttons.thebe is false.)
KNOWN_CONSOLE_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)

# <link rel=...> values that only name other pages, never loaded by the browser.
NAVIGATION_RELS = {"index", "search", "next", "prev", "canonical", "alternate", "author",
                   "license", "help", "copyright", "top", "up", "first", "last"}
RESOURCE_ATTRIBUTES = (
    ("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
    ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data"),
    ("input", "src"), ("track", "src"),
)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{")
EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)


@dataclasses.dataclass
class RenderedPage:
    page: str
    html_path: Path
    static_html: str
    dom: str
    console: list[str]
    network_requests: list[str]

    @property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.dom, "html.parser")

    @property
    def static_soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.static_html, "html.parser")

    def console_errors(self) -> list[str]:
        return [
            line for line in self.console
            if ("Uncaught" in line or "Failed to load resource" in line or "net::ERR_" in line)
            and not any(known in line for known in KNOWN_CONSOLE_ERRORS)
        ]


def _content(soup: BeautifulSoup):
    """The page content (not the navigation of the theme)."""
    return soup.select_one("article.bd-article") or soup.select_one("main") or soup.body


def _page_requests(net_log: Path) -> list[str]:
    """The http(s) URLs the page itself asked for, from Chromium's NetLog.

    A request made on behalf of a ``file://`` page carries a network isolation key that
    starts with ``file://``; Chromium's own background requests (update checks, ...) do
    not, and are ignored (the host resolver rules make all of them fail locally anyway).
    """
    try:
        log = json.loads(net_log.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        pytest.fail(f"could not read Chromium's network log {net_log}: {exc}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if (
            event.get("type") == start_job
            and str(params.get("network_isolation_key", "")).startswith("file://")
            and re.match(r"(?i)(https?|wss?|ftp)://", str(params.get("url", "")))
        ):
            urls.append(params["url"])
    return sorted(set(urls))


def _missing_local_resources(rendered: RenderedPage) -> list[str]:
    """Local scripts, stylesheets and images named by the HTML that do not exist."""
    missing = []
    soup = rendered.static_soup
    named = [(tag, attr, el.get(attr)) for tag, attr in RESOURCE_ATTRIBUTES
             for el in soup.find_all(tag) if el.get(attr)]
    named += [("link", "href", el.get("href")) for el in soup.find_all("link")
              if el.get("href") and not NAVIGATION_RELS.intersection(el.get("rel") or [])]
    for tag, attr, url in named:
        if EXTERNAL.match(url) or url.startswith(("data:", "#", "javascript:", "about:")):
            continue
        path = rendered.html_path.parent / unquote(urlsplit(url).path)
        if not path.is_file():
            missing.append(f"<{tag} {attr}={url!r}>: {path.resolve()} does not exist")
    return missing


def _chromium_command(chromium: str, profile: Path, *args: str) -> list[str]:
    return [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]


@pytest.fixture(scope="session")
def chromium() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    pytest.skip(
        "no Chromium found (tried /usr/bin/chromium, chromium, chromium-browser, "
        "google-chrome): `make test` installs Debian's chromium; or `apt-get install chromium`"
    )


@pytest.fixture(scope="session")
def render(
    chromium: str, built_book: BookBuild, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], RenderedPage]:
    """Open a page in headless Chromium (once per page per session), dump its DOM."""
    cache: dict[str, RenderedPage] = {}

    def _render(page: str) -> RenderedPage:
        if page in cache:
            return cache[page]
        html_path = HTML_DIR / f"{page}.html"
        if not html_path.exists():
            pytest.fail(
                f"{page}: {html_path} was not built (build exit code {built_book.returncode})"
            )
        profile = tmp_path_factory.mktemp("chromium-profile")
        net_log = profile / "netlog.json"
        proc = subprocess.run(
            _chromium_command(
                chromium, profile, f"--log-net-log={net_log}", "--dump-dom", html_path.as_uri()
            ),
            capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )
        if proc.returncode != 0 or "<html" not in proc.stdout:
            pytest.fail(
                f"{page}: chromium exited with {proc.returncode} and no DOM; stderr:\n"
                + proc.stderr[-4000:]
            )
        cache[page] = RenderedPage(
            page=page,
            html_path=html_path,
            static_html=html_path.read_text(encoding="utf-8"),
            dom=proc.stdout,
            console=[line for line in proc.stderr.splitlines() if ":CONSOLE" in line],
            network_requests=_page_requests(net_log),
        )
        return cache[page]

    return _render


@pytest.fixture(scope="session")
def screenshot_dir(built_book: BookBuild) -> Path:
    path = BUILD_DIR / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser(chromium: str, built_book: BookBuild):
    """One headless Chromium driven through the DevTools protocol, for the session."""
    with devtools.Browser(chromium, timeout=CHROMIUM_TIMEOUT) as instance:
        yield instance


def test_page_math_is_typeset(render: Callable[[str], RenderedPage], page: str) -> None:
    """MathJax typeset every equation of the page, without TeX errors."""
    rendered = render(page)
    static_math = _content(rendered.static_soup).select(".math")
    content = _content(rendered.soup)
    containers = content.find_all("mjx-container")
    if static_math:
        assert containers, (
            f"{page}: {len(static_math)} equations in the HTML but no mjx-container in the "
            f"browser: MathJax did not run (is _build/html/_static/mathjax/tex-chtml.js "
            f"there?). Console:\n" + "\n".join(rendered.console)
        )
    errors = sorted({
        err.get("data-mjx-error") or err.get("title") or err.get_text(" ", strip=True)[:120]
        for err in content.find_all("mjx-merror")
    })
    assert not errors, f"{page}: MathJax reports TeX errors:\n" + "\n".join(errors)

    untypeset = []
    for element in content.select(".math"):
        if element.find("mjx-container") is None:
            untypeset.append(element.get_text(" ", strip=True)[:120])
            continue
        for text in element.find_all(string=True, recursive=False):
            if RAW_TEX.search(text):
                untypeset.append(text.strip()[:120])
    for text in content.find_all(string=RAW_TEX):
        if not text.find_parents(["mjx-container", "script", "style", "pre", "code", "textarea"]):
            untypeset.append(text.strip()[:120])
    assert not untypeset, f"{page}: math left untypeset:\n" + "\n".join(sorted(set(untypeset)))


def test_page_images_exist(render: Callable[[str], RenderedPage], page: str) -> None:
    """Every image of the page content is a non-empty PNG or SVG in _build/html."""
    rendered = render(page)
    problems = []
    for img in _content(rendered.soup).find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:image/png") or src.startswith("data:image/svg+xml"):
            continue
        if not src or EXTERNAL.match(src) or src.startswith("data:"):
            problems.append(f"<img src={src!r}>: not a local file")
            continue
        path = (rendered.html_path.parent / unquote(urlsplit(src).path)).resolve()
        if not path.is_relative_to(HTML_DIR.resolve()):
            problems.append(f"<img src={src!r}>: outside _build/html")
        elif not path.is_file() or path.stat().st_size == 0:
            problems.append(f"<img src={src!r}>: {path} missing or empty")
        else:
            head = path.read_bytes()[:512]
            if not (head.startswith(b"\x89PNG\r\n\x1a\n") or b"<svg" in head or b"<?xml" in head):
                problems.append(f"<img src={src!r}>: {path} is neither PNG nor SVG")
    assert not problems, f"{page}: broken images\n" + "\n".join(problems)


def test_page_loads_nothing_from_the_network(render: Callable[[str], RenderedPage], page: str) -> None:
    """No http(s):// script, stylesheet or image; the browser had no failed load."""
    rendered = render(page)
    external = []
    for label, soup in (("HTML", rendered.static_soup), ("DOM after scripts", rendered.soup)):
        for tag, attribute in RESOURCE_ATTRIBUTES:
            for element in soup.find_all(tag, attrs={attribute: EXTERNAL}):
                external.append(f"{label}: <{tag} {attribute}={element[attribute]!r}>")
        for link in soup.find_all("link", href=EXTERNAL):
            if not NAVIGATION_RELS.intersection(link.get("rel") or []):
                external.append(f"{label}: <link rel={link.get('rel')} href={link['href']!r}>")
    failed = [line for line in rendered.console_errors() if "Uncaught" not in line]
    requested = [f"requested by the page: {url}" for url in rendered.network_requests]
    missing = _missing_local_resources(rendered)
    assert not (external or failed or requested or missing), (
        f"{page} is not self-contained:\n"
        + "\n".join(sorted(set(external)) + failed + requested + missing)
    )


def test_page_has_no_javascript_errors(render: Callable[[str], RenderedPage], page: str) -> None:
    """No uncaught JavaScript error while the page loads and MathJax runs."""
    rendered = render(page)
    uncaught = [line for line in rendered.console_errors() if "Uncaught" in line]
    assert not uncaught, f"{page}: JavaScript errors\n" + "\n".join(uncaught)


@pytest.mark.parametrize("guide", ["book/course_guide", "book/theorems_and_experiments"])
def test_guide_page_screenshot(
    chromium: str,
    built_book: BookBuild,
    guide: str,
    screenshot_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Screenshots of the course guide and of the theorems-and-experiments atlas."""
    test_chapter_screenshot(chromium, built_book, guide, screenshot_dir, tmp_path_factory,
                            capsys)


def test_chapter_screenshot(
    chromium: str,
    built_book: BookBuild,
    chapter: str,
    screenshot_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Screenshots of the chapter for humans: its top (1280x2000) and its first 12000 px."""
    html_path = HTML_DIR / f"{chapter}.html"
    if not html_path.exists():
        pytest.fail(f"{chapter}: {html_path} was not built")
    name = chapter.replace("/", "__")
    shots = []
    for suffix, size in (("", "1280,2000"), ("-long", "1280,12000")):
        png = screenshot_dir / f"{name}{suffix}.png"
        proc = subprocess.run(
            _chromium_command(
                chromium, tmp_path_factory.mktemp("chromium-profile"),
                f"--screenshot={png}", f"--window-size={size}", "--hide-scrollbars",
                html_path.as_uri(),
            ),
            capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )
        assert proc.returncode == 0 and png.is_file(), (
            f"{chapter}: no screenshot (chromium exit code {proc.returncode}):\n"
            f"{proc.stderr[-4000:]}"
        )
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, f"{png} looks empty"
        shots.append(png)
    with capsys.disabled():
        print(f"\n[screenshots] {chapter}: " + "  ".join(str(p) for p in shots))


# --------------------------------------------------------------------------------------
# Formulas and code that fit their boxes
# --------------------------------------------------------------------------------------
# For each formula and code block of the article: what it draws (the math itself, not
# MathJax's clipped assistive MathML; the whole content of a block that lets it spill),
# then its ancestors outwards. An ancestor that scrolls (overflow-x auto/scroll) and is
# narrower makes the rest reachable: from there on its own box counts. One that hides
# or clips (a block box: overflow does not apply to inline boxes) cuts it off. At the
# top, anything past the window's edges is cut off too.
FIT_CHECK = """
(() => {
  const root = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const viewport = document.documentElement.clientWidth;
  const problems = [];
  let checked = 0, scrolling = 0;
  const label = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + Array.from(el.classList).slice(0, 3).join(".") : "");
  const extent = el => {
    const b = el.getBoundingClientRect();
    if (el.tagName.toLowerCase() === "mjx-container") {
      const m = el.querySelector(":scope > mjx-math");
      const r = m ? m.getBoundingClientRect() : b;
      return {left: Math.min(r.left, b.left), right: Math.max(r.right, b.right)};
    }
    return {left: b.left, right: Math.max(b.right, b.left + el.scrollWidth)};
  };
  for (const el of root.querySelectorAll("mjx-container, pre")) {
    if (!el.getClientRects().length) continue;                       // folded away
    if (el.parentElement && el.parentElement.closest("mjx-container")) continue;
    checked += 1;
    let ext = extent(el);
    const own = getComputedStyle(el).overflowX;
    if (own === "auto" || own === "scroll") {
      const b = el.getBoundingClientRect();
      if (el.scrollWidth > el.clientWidth + 1) scrolling += 1;
      ext = {left: b.left, right: b.right};
    }
    let cut = null;
    for (let a = el.parentElement; a && !cut; a = a.parentElement) {
      const style = getComputedStyle(a), ox = style.overflowX;
      if (ox === "visible" || style.display === "inline" || style.display === "contents") continue;
      const ab = a.getBoundingClientRect();
      const left = ab.left + a.clientLeft, right = left + a.clientWidth;
      if (ext.right <= right + 1 && ext.left >= left - 1) continue;
      if (ox === "auto" || ox === "scroll") { scrolling += 1; ext = {left: ab.left, right: ab.right}; continue; }
      cut = {by: label(a) + " (overflow-x: " + ox + ")", excess: Math.max(ext.right - right, left - ext.left)};
    }
    if (!cut && (ext.right > viewport + 1 || ext.left < -1)) {
      cut = {by: "the window", excess: Math.max(ext.right - viewport, -ext.left)};
    }
    if (cut) {
      const section = el.closest("section[id]");
      problems.push({
        element: el.tagName.toLowerCase() + (el.getAttribute("display") === "true" ? " (display)" : ""),
        text: (el.getAttribute("aria-label") || el.textContent || "").replace(/\\s+/g, " ").slice(0, 90),
        section: section ? section.id : "", cut_by: cut.by, excess_px: Math.round(cut.excess),
      });
    }
  }
  return {viewport, checked, scrolling, problems};
})()
"""
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_page_math_and_code_fit_their_boxes(browser, page: str, device: str) -> None:
    """No formula or code block is cut off, at 1280 px and at 390 px."""
    html_path = HTML_DIR / f"{page}.html"
    if not html_path.exists():
        pytest.fail(f"{page}: {html_path} was not built")
    tab = browser.open(html_path, width=WIDTHS[device], height=900)
    try:
        tab.wait_for_mathjax()
        report = tab.evaluate(FIT_CHECK)
    finally:
        tab.close()
    assert report["viewport"] == WIDTHS[device], report
    problems = [
        f"  {p['element']} in #{p['section']}: {p['text']!r} cut off by {p['cut_by']} "
        f"({p['excess_px']} px)" for p in report["problems"]
    ]
    assert not problems, (
        f"{page} at {WIDTHS[device]} px: {len(problems)} of {report['checked']} formulas and "
        f"code blocks are cut off (scrolling ones: {report['scrolling']}):\n" + "\n".join(problems)
    )


def test_chapter_screenshot_phone(
    browser, chapter: str, screenshot_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A screenshot of the chapter's first screens at a phone's width (390 x 2400)."""
    html_path = HTML_DIR / f"{chapter}.html"
    tab = browser.open(html_path, width=390, height=2400)
    try:
        tab.wait_for_mathjax()
        png = tab.screenshot(screenshot_dir / f"{chapter.replace('/', '__')}-phone.png")
    finally:
        tab.close()
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000, f"{png} looks empty"
    with capsys.disabled():
        print(f"\n[screenshots] {chapter} (phone): {png}")
