"""Print the built book to one PDF, offline: ``make pdf``.

Every page of ``_toc.yml`` is opened from ``_build/html`` in headless Chromium (see
``tools/chromium.py``) with the book's print style sheet, as wide as an A4 page's
text; once MathJax has typeset it, the book's script scales each display equation to
the page width; then Chromium prints it (``Page.printToPDF``: A4, the margins of the
``@page`` rule in ``chargetransport.css``). The pages' PDFs are joined with pypdf,
with one bookmark per chapter, into ``_build/pdf/chargetransport.pdf``; beside it,
``chargetransport.json`` lists each page's title, first page and page count.

Usage: ``python tools/build_pdf.py [--html _build/html] [--out _build/pdf/chargetransport.pdf]``
"""
from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_book import toc_pages  # noqa: E402
from chromium import Browser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# A4 (210 mm) less the 14 mm margins of chargetransport.css, at 96 px per inch.
PRINT_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)


def build_pdf(html_dir: Path, out: Path, pages: list[str]) -> dict:
    """Print ``pages`` (docnames) of ``html_dir`` into ``out``; return the page index."""
    from pypdf import PdfReader, PdfWriter

    start = time.perf_counter()
    writer = PdfWriter()
    index = []
    with Browser() as browser:
        for page in pages:
            html = html_dir / f"{page}.html"
            if not html.is_file():
                raise FileNotFoundError(f"{html} was not built: run `make book` first")
            tab = browser.open(html, width=PRINT_WIDTH_PX, height=1123, media="print")
            tab.wait_for_mathjax()
            title = tab.evaluate(
                "(document.querySelector('article h1') || document.querySelector('h1') || document).textContent"
            ) or page
            title = re.sub(r"[#¶]\s*$", "", title.strip()).strip()
            # Every display equation scaled to the page width (no scrolling on paper).
            tab.evaluate("window.chargetransportFitMath && window.chargetransportFitMath();"
                         "window.chargetransportFitDisplayMath && window.chargetransportFitDisplayMath(0)")
            data = tab.print_to_pdf()
            tab.close()
            reader = PdfReader(io.BytesIO(data))
            first = len(writer.pages)
            writer.append(reader)
            writer.add_outline_item(title=title, page_number=first)
            index.append({"page": page, "title": title, "first_page": first + 1,
                          "pages": len(reader.pages)})
    writer.add_metadata({"/Title": index[0]["title"] if index else "chargetransport"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as handle:
        writer.write(handle)
    summary = {"pdf": str(out), "pages": len(writer.pages), "seconds": time.perf_counter() - start,
               "contents": index}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "chargetransport.pdf")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml")
    args = parser.parse_args(argv)
    summary = build_pdf(args.html, args.out, toc_pages(args.toc))
    print(f"build_pdf.py: {summary['pages']} pages in {summary['pdf']} "
          f"({summary['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
