"""Matplotlib style of the book, and an optional log of the figures each chapter draws.

Every chapter of the book starts with a hidden cell::

    from chargetransport.plotting import use_book_style
    use_book_style("anderson_model")   # the chapter's file name, without ``.md``

which gives all figures the same look. When the environment variable
``CHARGETRANSPORT_FIGURE_LOG`` names a directory (the chapter tests set it),
every figure that gets drawn is also described in one JSON line of
``<dir>/<chapter>.jsonl``: its axes labels, titles and what the axes contain.
``tests/test_chapters.py`` reads that file to check that every figure of every
chapter has labelled axes. When the variable is unset nothing but the style is
changed, and the figures a reader sees are the same.

The contraction graphs of :mod:`chargetransport.graphs` are drawn here too, in the
style of the paper's Figures 1 and 2: :func:`draw_contraction_graph` and
:func:`draw_multiline_graph`. Tables that a chapter computes are shown as rendered
tables, not printed text: :func:`markdown_table`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_int
# The graphs' own validation, so that a drawing accepts exactly the graphs graphs.py does.
from .graph_counts import _check_multiline
from .graphs import _as_tuple, _graph_partner

__all__ = [
    "BOOK_RC_PARAMS",
    "FIGURE_LOG_ENV",
    "describe_figure",
    "draw_contraction_graph",
    "draw_multiline_graph",
    "figure_log_path",
    "markdown_table",
    "use_book_style",
]

#: Environment variable naming the directory of the figure logs.
FIGURE_LOG_ENV = "CHARGETRANSPORT_FIGURE_LOG"

#: The matplotlib settings shared by all chapters.
BOOK_RC_PARAMS: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "figure.facecolor": "white",
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "savefig.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}

_HOOK = "chargetransport.plotting:_attach_figure_log"
_CHAPTER_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


class _FigureLog:
    """The records of the figures drawn in one chapter, kept in draw order."""

    def __init__(self, path: Path, chapter: str) -> None:
        self.path = path
        self.chapter = chapter
        self.records: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")  # a new session starts a new log

    def attach(self, fig) -> None:
        if getattr(fig, "_chargetransport_log_id", None) is not None:
            return
        fig._chargetransport_log_id = next(self._ids)
        fig.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event) -> None:
        fig = event.canvas.figure
        key = fig._chargetransport_log_id
        record = describe_figure(fig)
        record["chapter"] = self.chapter
        record["figure_id"] = key
        record["draws"] = self.records.get(key, {}).get("draws", 0) + 1
        self.records[key] = record  # repeated draws of a figure: keep the last
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in self.records.values():
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
        os.replace(tmp, self.path)


_ACTIVE_LOG: _FigureLog | None = None


def _attach_figure_log(fig) -> None:
    """``figure.hooks`` entry: called by pyplot with every figure it creates."""
    if _ACTIVE_LOG is not None:
        _ACTIVE_LOG.attach(fig)


def _text(artist) -> str:
    return artist.get_text() if artist is not None else ""


def describe_figure(fig) -> dict[str, Any]:
    """Describe the labels and contents of a matplotlib figure.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, best after it has been drawn.

    Returns
    -------
    dict
        ``number`` (the pyplot figure number or ``None``), ``suptitle``,
        ``supxlabel``, ``supylabel`` and ``axes``: one dict per axes with
        ``index``, ``name`` (``"rectilinear"``, ``"3d"``, ``"polar"``, ...),
        ``xlabel``, ``ylabel``, ``zlabel`` (``None`` unless 3D), ``title``,
        ``colorbar`` (whether the axes holds a colorbar), ``visible``,
        ``axis_on``, ``shared_xlabel``/``shared_ylabel`` (a label carried by
        another axes sharing this axis) and the numbers of ``lines``,
        ``collections``, ``images``, ``patches`` and ``texts``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1]); _ = ax.set_xlabel("$t$")
    >>> describe_figure(fig)["axes"][0]["xlabel"]
    '$t$'
    >>> plt.close(fig)
    """
    axes = list(fig.axes)
    described = []
    for index, ax in enumerate(axes):
        is_3d = getattr(ax, "name", "") == "3d"
        shared = {}
        for axis_name in ("x", "y"):
            getter = ax.get_shared_x_axes if axis_name == "x" else ax.get_shared_y_axes
            siblings = [a for a in getter().get_siblings(ax) if a is not ax]
            label = ""
            for other in siblings:
                other_label = other.get_xlabel() if axis_name == "x" else other.get_ylabel()
                if other_label.strip():
                    label = other_label
                    break
            shared[axis_name] = label
        title = next(
            (ax.get_title(loc) for loc in ("center", "left", "right") if ax.get_title(loc)),
            "",
        )
        described.append(
            {
                "index": index,
                "name": getattr(ax, "name", "rectilinear"),
                "xlabel": ax.get_xlabel(),
                "ylabel": ax.get_ylabel(),
                "zlabel": ax.get_zlabel() if is_3d else None,
                "title": title,
                "colorbar": getattr(ax, "_colorbar", None) is not None
                or ax.get_label() == "<colorbar>",
                "visible": bool(ax.get_visible()),
                # Axes3D draws its own axes (``axison`` is False for it).
                "axis_on": bool(getattr(ax, "_axis3don", True) if is_3d else ax.axison),
                "shared_xlabel": shared["x"],
                "shared_ylabel": shared["y"],
                "lines": len(ax.lines),
                "collections": len(ax.collections),
                "images": len(ax.images),
                "patches": len(ax.patches),
                "texts": len(ax.texts),
            }
        )
    return {
        "number": getattr(fig, "number", None),
        "suptitle": _text(getattr(fig, "_suptitle", None)),
        "supxlabel": _text(getattr(fig, "_supxlabel", None)),
        "supylabel": _text(getattr(fig, "_supylabel", None)),
        "axes": described,
    }


def figure_log_path(chapter: str, directory: str | os.PathLike | None = None) -> Path | None:
    """Return the file the figures of ``chapter`` are logged to.

    Parameters
    ----------
    chapter : str
        The chapter's name, as passed to :func:`use_book_style`.
    directory : str or os.PathLike, optional
        The log directory; defaults to ``$CHARGETRANSPORT_FIGURE_LOG``.

    Returns
    -------
    pathlib.Path or None
        ``<directory>/<chapter>.jsonl``, or ``None`` when no directory is given
        and the environment variable is unset or empty.
    """
    _check_chapter(chapter)
    if directory is None:
        directory = os.environ.get(FIGURE_LOG_ENV, "")
        if not directory:
            return None
    return Path(directory) / f"{chapter}.jsonl"


def _check_chapter(chapter: str) -> None:
    if not isinstance(chapter, str) or not _CHAPTER_RE.match(chapter):
        raise ValueError(
            "'chapter' must be the chapter's file name without extension "
            f"(letters, digits, '_', '-', '.'), got {chapter!r}"
        )


def use_book_style(chapter: str) -> None:
    """Set the book's matplotlib style; log the chapter's figures if asked to.

    Call it once, in the first (hidden) code cell of every chapter.

    Parameters
    ----------
    chapter : str
        The chapter's file name without extension, e.g. ``"anderson_model"``.

    Raises
    ------
    ValueError
        If ``chapter`` is not a plain file name.

    Notes
    -----
    The style is :data:`BOOK_RC_PARAMS` (figure size 6.4 x 4 inches at 110 dpi,
    a light grid, tight bounding boxes).

    If the environment variable ``CHARGETRANSPORT_FIGURE_LOG`` names a
    directory, the file ``<dir>/<chapter>.jsonl`` is emptied and
    ``chargetransport.plotting:_attach_figure_log`` is added to matplotlib's
    ``figure.hooks``: pyplot then hands every new figure to it, and it connects a
    ``draw_event`` callback. Whenever a figure is drawn (the inline backend draws
    each figure once when it shows it at the end of a cell), the callback writes
    :func:`describe_figure` of it, with ``chapter``, ``figure_id`` (1, 2, ... in
    the order of creation) and ``draws`` (how often it was drawn), rewriting
    the file so that it holds exactly one line per figure drawn. Figures made
    without pyplot (``matplotlib.figure.Figure()``) are not logged.

    Examples
    --------
    >>> from chargetransport.plotting import use_book_style
    >>> use_book_style("anderson_model")
    """
    global _ACTIVE_LOG
    _check_chapter(chapter)
    import matplotlib
    import matplotlib.pyplot as plt

    # Resolve the backend now: the inline backend loads its own rcParams
    # (figure size, dpi) when it is first activated, which would undo ours.
    resolve_backend = getattr(plt, "_get_backend_mod", None)
    if resolve_backend is not None:
        resolve_backend()
    matplotlib.rcParams.update(BOOK_RC_PARAMS)

    hooks = [h for h in matplotlib.rcParams["figure.hooks"] if h != _HOOK]
    path = figure_log_path(chapter)
    if path is None:
        _ACTIVE_LOG = None
    else:
        _ACTIVE_LOG = _FigureLog(path, chapter)
        hooks.append(_HOOK)
    matplotlib.rcParams["figure.hooks"] = hooks


# --------------------------------------------------------------------------------------
# Contraction graphs drawn in the style of the paper's Figures 1 and 2 (chargetransport.graphs)
# --------------------------------------------------------------------------------------
def _arc(ax, x0, x1, y, height, *, below=False, **style):
    """A dashed-contraction half ellipse over ``[x0, x1]`` on the line ``y``, above or below it."""
    import matplotlib.patches as mpatches
    theta1, theta2 = (180, 360) if below else (0, 180)
    ax.add_patch(mpatches.Arc(((x0 + x1) / 2, y), abs(x1 - x0), 2 * height, theta1=theta1,
                              theta2=theta2, **style))


def draw_contraction_graph(graph, n, ax=None, *, layout="line", labels=True,
                           highlight=None):
    """Draw a graph of ``Gamma_{n, nbar}`` in the style of the paper's Figure 1.

    Parameters
    ----------
    graph : tuple of (int, int)
    n : int
        Vertices on the left particle line.
    ax : matplotlib.axes.Axes, optional
    layout : {"line", "folded"}, default "line"
        ``"line"``: both particle lines on one horizontal line, J (filled) between
        vertex ``n`` and ``n + 1``, contractions as dashed arcs above it.
        ``"folded"``: the right line folded back under the left one, both running
        from ``psi_0`` (left) to J (right), so that rungs are vertical and a basic
        ladder looks like a ladder.
    labels : bool, default True
        Number the vertices.
    highlight : dict, optional
        ``{(l, l'): color}`` to colour some contractions.

    Returns
    -------
    matplotlib.axes.Axes
        Axis labels name the vertex numbering and the time order.

    See Also
    --------
    chargetransport.graphs.contraction_graphs : the graphs of ``Gamma_{n, nbar}``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = draw_contraction_graph(((1, 4), (2, 3)), 2, ax)   # a ladder of Gamma_{2,2}
    >>> len(ax.patches)                                         # one arc per contraction
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    p = _graph_partner(graph, n)
    m2 = len(p)
    n = check_int("n", n, minimum=0, maximum=m2)
    if layout not in ("line", "folded"):
        raise ValueError(f"'layout' must be 'line' or 'folded', got {layout!r}")
    ax = plt.gca() if ax is None else ax
    highlight = {tuple(sorted(k)): v for k, v in (highlight or {}).items()}
    pairs = _as_tuple(p)
    line_style = dict(color="k", lw=1.6, zorder=1)
    if layout == "line":
        xs = {v: (v if v <= n else v + 1) for v in range(1, m2 + 1)}
        xj = n + 1
        ax.plot([0, m2 + 2], [0, 0], **line_style)
        for a, b in pairs:
            color = highlight.get((a, b), "C0")
            _arc(ax, xs[a], xs[b], 0.0, 0.35 + 0.28 * abs(xs[b] - xs[a]), color=color,
                 ls=(0, (4, 2.5)), lw=1.3)
        ax.scatter([xs[v] for v in xs], [0] * m2, s=46, facecolor="white", edgecolor="k",
                   zorder=3)
        ax.scatter([xj], [0], s=70, color="k", zorder=4)
        ax.annotate("J", (xj, 0), xytext=(0, -14), textcoords="offset points", ha="center",
                    fontsize=9)
        if labels:
            for v, x in xs.items():
                ax.annotate(str(v), (x, 0), xytext=(0, -14), textcoords="offset points",
                            ha="center", fontsize=8, color="0.3")
        for x, txt in ((0, r"$\overline{\psi_0}$"), (m2 + 2, r"$\psi_0$")):
            ax.annotate(txt, (x, 0), xytext=(0, 6), textcoords="offset points", ha="center",
                        fontsize=9)
        top = max([0.35 + 0.28 * abs(xs[b] - xs[a]) for a, b in pairs] or [1.0])
        ax.set_xlim(-0.6, m2 + 2.6)
        ax.set_ylim(-0.45 * max(top, 1.0) - 0.3, top + 0.4)
        ax.set_xlabel("vertex $\\ell$ (left line: time order; right line: reversed)")
        ax.set_ylabel("contractions")
    else:
        width = max(n, m2 - n)
        pos = {}
        for v in range(1, n + 1):                  # left line, time order, top
            pos[v] = (v, 1.0)
        for v in range(n + 1, m2 + 1):             # right line: vertex n+nbar earliest
            pos[v] = (m2 - v + 1, 0.0)
        xj = width + 1
        ax.plot([0, xj], [1, 1], **line_style)
        ax.plot([0, xj], [0, 0], **line_style)
        ax.plot([xj, xj], [0, 1], **line_style)
        for a, b in pairs:
            color = highlight.get((a, b), "C0")
            (xa, ya), (xb, yb) = pos[a], pos[b]
            if ya == yb:   # arcs above the upper (left) line, below the lower (right) one
                _arc(ax, xa, xb, ya, 0.18 + 0.1 * abs(xb - xa), below=ya != 1.0, color=color,
                     ls=(0, (4, 2.5)), lw=1.3)
            else:
                ax.plot([xa, xb], [ya, yb], color=color, ls=(0, (4, 2.5)), lw=1.3)
        ax.scatter([q[0] for q in pos.values()], [q[1] for q in pos.values()], s=46,
                   facecolor="white", edgecolor="k", zorder=3)
        ax.scatter([xj], [0.5], s=70, color="k", zorder=4)
        ax.plot([xj], [0.5], alpha=0)
        ax.annotate("J", (xj, 0.5), xytext=(8, -3), textcoords="offset points", fontsize=9)
        if labels:
            for v, (x, y) in pos.items():
                ax.annotate(str(v), (x, y), xytext=(0, 7 if y == 1 else -14),
                            textcoords="offset points", ha="center", fontsize=8, color="0.3")
        ax.set_xlim(-0.5, xj + 1.0)
        ax.set_ylim(-0.9, 1.9)
        ax.set_xlabel("time order of the interaction (from $\\psi_0$ to J)")
        ax.set_ylabel("left / right line")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def draw_multiline_graph(graph, r, n, nbar, ax=None):
    """Draw a pairing of ``r`` particle lines in the style of the paper's Figure 2.

    Parameters
    ----------
    graph : tuple of (int, int)
        A pairing of the ``r * nbar`` interaction vertices; line ``j`` holds the vertices
        ``(j-1) nbar + 1 .. j nbar``, the first ``n`` of them left of its J vertex.
    r, n, nbar : int
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Particle lines solid, J vertices black, potential vertices white, contractions
        dashed (arcs within a line, straight between lines).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = draw_multiline_graph(((1, 3), (2, 4)), r=2, n=1, nbar=2, ax=ax)
    >>> len(ax.lines)          # two particle lines, two contractions between them
    4
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    r, nbar = _check_multiline(r, nbar)
    n = check_int("n", n, minimum=0, maximum=nbar)
    p = _graph_partner(graph)
    if len(p) != r * nbar:
        raise ValueError(f"'graph' must pair r * nbar = {r * nbar} vertices, got {len(p)}")
    ax = plt.gca() if ax is None else ax

    def where(v):   # v 0-based
        line, k = divmod(v, nbar)
        x = k + 1 if k < n else k + 2
        return x, -1.6 * line

    for line in range(r):
        y = -1.6 * line
        ax.plot([0, nbar + 2], [y, y], color="k", lw=1.4, zorder=1)
        ax.scatter([n + 1], [y], s=60, color="k", zorder=4)
    for a in range(len(p)):
        b = int(p[a])
        if b < a:
            continue
        (xa, ya), (xb, yb) = where(a), where(b)
        if ya == yb:
            _arc(ax, xa, xb, ya, 0.18 + 0.1 * abs(xb - xa), color="C0", ls=(0, (4, 2.5)),
                 lw=1.1)
        else:
            ax.plot([xa, xb], [ya, yb], color="C3", ls=(0, (4, 2.5)), lw=1.0, zorder=2)
    xy = np.array([where(v) for v in range(len(p))])
    ax.scatter(xy[:, 0], xy[:, 1], s=36, facecolor="white", edgecolor="k", zorder=3)
    ax.set_xticks([])
    ax.set_yticks([-1.6 * j for j in range(r)])
    ax.set_yticklabels([f"{j + 1}" for j in range(r)])
    ax.set_xlim(-0.5, nbar + 2.5)
    ax.set_ylim(-1.6 * (r - 1) - 0.8, 1.2)
    ax.set_xlabel("vertex position along each line (J filled)")
    ax.set_ylabel("particle line $j$")
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def _table_cell(value, fmt) -> str:
    text = format(value, fmt) if fmt else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header, rows, formats=None, align=None) -> str:
    """A Markdown pipe table of computed values, for a rendered table in a chapter.

    Parameters
    ----------
    header : sequence of str
        Column titles (Markdown, math allowed: ``"$\\bar n$"``).
    rows : iterable of sequences
        One sequence of values per row, as long as ``header``.
    formats : sequence of str, optional
        A format spec per column (``".3f"``, ``".0f"``, ``""`` for ``str``).
    align : str, optional
        One letter per column, ``"l"``, ``"c"`` or ``"r"``; default right-aligned.

    Returns
    -------
    str
        The table; a chapter shows it with ``IPython.display.Markdown`` in a cell whose
        metadata has ``mystnb: {markdown_format: myst}`` (MyST parses pipe tables and
        ``$...$``; myst-nb's default CommonMark does not render tables). A literal ``|``
        in a value is escaped.

    Examples
    --------
    >>> print(markdown_table(["$n$", "$n!$"], [(1, 1), (4, 24)], formats=["d", ".1e"]))
    | $n$ | $n!$ |
    |--:|--:|
    | 1 | 1.0e+00 |
    | 4 | 2.4e+01 |
    """
    header = [str(h) for h in header]
    if not header:
        raise ValueError("'header' must name at least one column")
    ncol = len(header)
    formats = [""] * ncol if formats is None else list(formats)
    if len(formats) != ncol:
        raise ValueError(f"'formats' must have one entry per column ({ncol}), got {len(formats)}")
    align = "r" * ncol if align is None else str(align)
    if len(align) != ncol or set(align) - set("lcr"):
        raise ValueError(f"'align' must be {ncol} letters from 'l', 'c', 'r', got {align!r}")
    rule = {"l": ":--", "c": ":-:", "r": "--:"}
    lines = ["| " + " | ".join(_table_cell(h, "") for h in header) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    for k, row in enumerate(rows):
        row = list(row)
        if len(row) != ncol:
            raise ValueError(f"'rows[{k}]' has {len(row)} values, the header {ncol} columns")
        lines.append("| " + " | ".join(_table_cell(v, f) for v, f in zip(row, formats)) + " |")
    return "\n".join(lines)
