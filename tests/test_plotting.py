"""chargetransport.plotting: the book's matplotlib style and the figure log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.patches
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from chargetransport import graphs, plotting
from chargetransport.plotting import (
    BOOK_RC_PARAMS,
    FIGURE_LOG_ENV,
    describe_figure,
    figure_log_path,
    use_book_style,
)


@pytest.fixture(autouse=True)
def _isolated_matplotlib(monkeypatch: pytest.MonkeyPatch):
    """Each test starts without a figure log and leaves rcParams as it found them."""
    monkeypatch.delenv(FIGURE_LOG_ENV, raising=False)
    plt.switch_backend("agg")
    with matplotlib.rc_context():
        yield
        plt.close("all")
    plotting._ACTIVE_LOG = None


def _read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_use_book_style_sets_the_book_rcparams() -> None:
    use_book_style("unit")
    for key, value in BOOK_RC_PARAMS.items():
        if isinstance(value, tuple):
            assert tuple(matplotlib.rcParams[key]) == pytest.approx(value), key
        else:
            assert matplotlib.rcParams[key] == value, key
    assert matplotlib.rcParams["savefig.bbox"] == "tight"
    assert tuple(plt.figure().get_size_inches()) == pytest.approx((6.4, 4.0))


def test_use_book_style_without_log_variable_installs_no_hook_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    use_book_style("unit")
    assert all("chargetransport" not in hook for hook in matplotlib.rcParams["figure.hooks"])
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.canvas.draw()
    assert not hasattr(fig, "_chargetransport_log_id")
    assert list(tmp_path.iterdir()) == []
    assert figure_log_path("unit") is None


def test_figure_log_records_labels_of_each_drawn_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))
    use_book_style("unit")
    fig, ax = plt.subplots()
    ax.plot(np.arange(3), np.arange(3))
    ax.set_xlabel("$t$")
    ax.set_ylabel(r"$\|\psi_t\|$")
    ax.set_title("norm")
    fig.suptitle("conservation")
    fig.canvas.draw()

    (record,) = _read_log(tmp_path / "unit.jsonl")
    assert record["chapter"] == "unit"
    assert record["figure_id"] == 1
    assert record["suptitle"] == "conservation"
    (axes,) = record["axes"]
    assert (axes["xlabel"], axes["ylabel"], axes["title"]) == ("$t$", r"$\|\psi_t\|$", "norm")
    assert axes["zlabel"] is None and axes["colorbar"] is False
    assert (axes["lines"], axes["collections"], axes["images"]) == (1, 0, 0)


def test_figure_log_keeps_one_line_per_figure_with_the_labels_of_the_last_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))
    use_book_style("unit")
    fig1, ax1 = plt.subplots()
    fig1.canvas.draw()
    ax1.set_xlabel("late label")
    fig1.canvas.draw()
    fig2, _ = plt.subplots()
    fig2.canvas.draw()
    plt.subplots()  # created but never drawn: not logged

    records = _read_log(tmp_path / "unit.jsonl")
    assert [r["figure_id"] for r in records] == [1, 2]
    assert records[0]["draws"] == 2
    assert records[0]["axes"][0]["xlabel"] == "late label"


def test_figure_log_marks_colorbar_and_3d_axes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))
    use_book_style("unit")
    fig, ax = plt.subplots()
    image = ax.imshow(np.eye(4))
    fig.colorbar(image, ax=ax)
    fig.canvas.draw()
    fig3d = plt.figure()
    ax3d = fig3d.add_subplot(projection="3d")
    ax3d.set_zlabel("$E$")
    fig3d.canvas.draw()

    flat, surface = _read_log(tmp_path / "unit.jsonl")
    assert [a["colorbar"] for a in flat["axes"]] == [False, True]
    assert flat["axes"][0]["images"] == 1
    (axes3d,) = surface["axes"]
    assert axes3d["name"] == "3d" and axes3d["zlabel"] == "$E$" and axes3d["axis_on"] is True


def test_figure_log_reports_labels_of_shared_axes_and_figure_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))
    use_book_style("unit")
    fig, axes = plt.subplots(2, 1, sharex=True)
    axes[1].set_xlabel("$x$")
    fig.supylabel("density")
    fig.canvas.draw()

    (record,) = _read_log(tmp_path / "unit.jsonl")
    top, bottom = record["axes"]
    assert top["xlabel"] == "" and top["shared_xlabel"] == "$x$"
    assert bottom["xlabel"] == "$x$"
    assert record["supylabel"] == "density"


def test_use_book_style_starts_a_new_log_each_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))
    use_book_style("unit")
    plt.subplots()[0].canvas.draw()
    assert len(_read_log(tmp_path / "unit.jsonl")) == 1
    use_book_style("unit")  # e.g. the chapter is executed again
    assert _read_log(tmp_path / "unit.jsonl") == []
    assert matplotlib.rcParams["figure.hooks"].count(plotting._HOOK) == 1


@pytest.mark.parametrize("bad", ["", "book/anderson_model", "../x", "a b", None])
def test_use_book_style_rejects_a_chapter_that_is_not_a_file_name(bad) -> None:
    with pytest.raises(ValueError, match="'chapter'"):
        use_book_style(bad)


def test_describe_figure_of_an_undrawn_figure_lists_its_axes() -> None:
    fig, axes = plt.subplots(1, 2)
    axes[0].set_ylabel("y")
    description = describe_figure(fig)
    assert [a["index"] for a in description["axes"]] == [0, 1]
    assert description["axes"][0]["ylabel"] == "y"


def test_figure_log_counts_the_figures_the_inline_backend_shows_in_a_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mechanism the chapter tests rely on, in a real ipykernel (as myst-nb runs it)."""
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv(FIGURE_LOG_ENV, str(tmp_path))  # inherited by the kernel
    cells = [
        "from chargetransport.plotting import use_book_style\nuse_book_style('kernel')",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1])\n"
        "ax.set_xlabel('a')\nax.set_ylabel('b')",
        "fig, axes = plt.subplots(1, 2)\naxes[0].set_xlabel('c')\nplt.show()",
        "print(plt.rcParams['figure.dpi'], tuple(plt.rcParams['figure.figsize']))",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    images = [
        output for cell in notebook.cells for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    records = _read_log(tmp_path / "kernel.jsonl")
    assert len(images) == len(records) == 2
    assert records[0]["axes"][0]["xlabel"] == "a" and records[0]["axes"][0]["ylabel"] == "b"
    assert [a["xlabel"] for a in records[1]["axes"]] == ["c", ""]
    # The inline backend must not undo the book style (it sets its own dpi and size).
    assert notebook.cells[3].outputs[0]["text"].strip() == "110.0 (6.4, 4.0)"


# --------------------------------------------------------------------------------------
# Contraction graphs drawn as in the paper's Figures 1 and 2
# --------------------------------------------------------------------------------------
def _arcs(ax) -> list[tuple[float, float, float, float]]:
    """(left end, right end, y, theta1) of every arc patch."""
    return sorted(
        (p.center[0] - p.width / 2, p.center[0] + p.width / 2, p.center[1], p.theta1)
        for p in ax.patches if isinstance(p, matplotlib.patches.Arc)
    )


def _dashed_segments(ax) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [
        tuple(zip(*line.get_data())) for line in ax.lines
        if line.get_linestyle() not in ("-", "None") and len(line.get_xdata()) == 2
    ]


EXAMPLE = ((1, 2), (3, 12), (4, 6), (5, 7), (8, 11), (9, 10))   # Gamma_{5,7}, the book's


def test_line_layout_puts_one_arc_over_each_contraction() -> None:
    fig, ax = plt.subplots()
    out = plotting.draw_contraction_graph(EXAMPLE, 5, ax, highlight={(6, 4): "r"})
    assert out is ax and ax.get_xlabel() and ax.get_ylabel()
    x = {v: v if v <= 5 else v + 1 for v in range(1, 13)}       # J sits at x = 6
    assert _arcs(ax) == sorted((x[a], x[b], 0.0, 0.0) for a, b in EXAMPLE)
    colors = {(p.center[0] - p.width / 2, p.center[0] + p.width / 2): p.get_edgecolor()
              for p in ax.patches}
    assert colors[(4, 7)] == matplotlib.colors.to_rgba("r")     # (4, 6) highlighted
    assert colors[(1, 2)] == matplotlib.colors.to_rgba("C0")
    vertices, j_vertex = ax.collections
    assert sorted(vertices.get_offsets()[:, 0]) == sorted(x.values())
    assert j_vertex.get_offsets().tolist() == [[6.0, 0.0]]


def test_folded_layout_draws_a_basic_ladder_with_vertical_rungs() -> None:
    n = 4
    ladder = tuple((l, 2 * n + 1 - l) for l in range(1, n + 1))
    fig, ax = plt.subplots()
    plotting.draw_contraction_graph(ladder, n, ax, layout="folded")
    rungs = _dashed_segments(ax)
    assert not _arcs(ax) and len(rungs) == n
    assert sorted(rungs) == [((l, 1.0), (l, 0.0)) for l in range(1, n + 1)]


def test_folded_layout_bends_recollisions_away_from_the_other_line() -> None:
    fig, ax = plt.subplots()
    plotting.draw_contraction_graph(EXAMPLE, 5, ax, layout="folded")
    arcs = _arcs(ax)
    # left line (y = 1): arcs above it (theta 0..180); right line (y = 0): below (180..360)
    assert all((y == 1.0) == (theta1 == 0.0) for _, _, y, theta1 in arcs)
    same_side = [(a, b) for a, b in EXAMPLE if (a <= 5) == (b <= 5)]
    assert len(arcs) == len(same_side) and len(_dashed_segments(ax)) == len(EXAMPLE) - len(same_side)


def test_multiline_drawing_arcs_within_lines_and_segments_between() -> None:
    r, n, nbar = 3, 2, 4
    g = graphs.random_contraction_graph(0, r * nbar, seed=1)
    line = {v: (v - 1) // nbar for pair in g for v in pair}
    within = sum(line[a] == line[b] for a, b in g)
    fig, ax = plt.subplots()
    plotting.draw_multiline_graph(g, r, n, nbar, ax)
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(_arcs(ax)) == within
    assert len(_dashed_segments(ax)) == len(g) - within
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3"]


def test_drawing_uses_the_current_axes_by_default() -> None:
    fig, ax = plt.subplots()
    assert plotting.draw_contraction_graph((), 0) is ax
    assert plotting.draw_multiline_graph(((1, 2),), 1, 0, 2) is ax


@pytest.mark.parametrize("call, error, match", [
    (lambda: plotting.draw_contraction_graph(((1, 2),), 1, layout="circle"), ValueError, "layout"),
    (lambda: plotting.draw_contraction_graph(((1, 2),), 3), ValueError, "'n'"),
    (lambda: plotting.draw_contraction_graph(((1, 2), (2, 3)), 1), ValueError, "graph"),
    (lambda: plotting.draw_contraction_graph(5, 1), TypeError, "graph"),
    (lambda: plotting.draw_multiline_graph(((1, 2),), 2, 0, 2), ValueError, "r \\* nbar"),
    (lambda: plotting.draw_multiline_graph(((1, 2),), 1, 3, 2), ValueError, "'n'"),
    (lambda: plotting.draw_multiline_graph(((1, 2),), 0, 0, 2), ValueError, "'r'"),
])
def test_drawing_rejects_invalid_input(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def test_markdown_table_has_a_header_a_rule_and_one_formatted_line_per_row() -> None:
    text = plotting.markdown_table(["$m$", "count", "name"], [(1, 0.5, "a"), (2, 0.25, "b|c")],
                                   formats=["d", ".2f", ""], align="lrc")
    lines = text.splitlines()
    assert lines[0] == "| $m$ | count | name |"
    assert lines[1] == "|:--|--:|:-:|"
    assert lines[2:] == ["| 1 | 0.50 | a |", "| 2 | 0.25 | b\\|c |"]
    # every line splits into the same number of cells (escaped pipes do not split)
    assert {len(re.split(r"(?<!\\)\|", line)) for line in lines} == {5}


@pytest.mark.parametrize("kwargs, match", [
    (dict(header=[], rows=[]), "header"),
    (dict(header=["a"], rows=[(1, 2)]), r"rows\[0\]"),
    (dict(header=["a", "b"], rows=[], formats=["d"]), "formats"),
    (dict(header=["a", "b"], rows=[], align="lx"), "align"),
])
def test_markdown_table_rejects_inconsistent_columns(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        plotting.markdown_table(**kwargs)
