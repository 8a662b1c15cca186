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
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = [
    "BOOK_RC_PARAMS",
    "FIGURE_LOG_ENV",
    "describe_figure",
    "figure_log_path",
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
