"""Glued values are read back as the values the chapter glued, or not at all.

The displays are made the way ``myst_nb.glue`` makes them (IPython's display
formatter), so the tests follow NumPy's and IPython's reprs rather than strings
written by hand.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from IPython.core.formatters import format_display_data
from IPython.lib.pretty import pretty

from book_values import GlueParseError, glued_values, parse_glued_text

GLUE_PREFIX = "application/papermill.record/"  # myst_nb's prefix for display=False


def _glue_output(name: str, value: object, display: bool = True) -> dict:
    """The notebook output that ``myst_nb.glue(name, value, display)`` writes."""
    bundle, _ = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    return {
        "output_type": "display_data",
        "data": {prefix + mime: content for mime, content in bundle.items()},
        "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}},
    }


def _notebook(tmp_path: Path, outputs: list[dict]) -> Path:
    path = tmp_path / "chapter.ipynb"
    cell = {"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
            "execution_count": 1}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def _display(value: object) -> str:
    return format_display_data(value)[0]["text/plain"]


# Each glued value and the plain Python value it must be read back as.
ROUND_TRIPS = {
    "float64": (np.float64(0.1), 0.1),
    "int64": (np.int64(-3), -3),
    "numpy bool": (np.True_, True),
    "python float": (2.5e-14, 2.5e-14),
    "tuple": ((np.float64(1.0), np.float64(-2.5), 3), (1.0, -2.5, 3)),
    "nested": (
        [np.float64(1.5), {"rate": np.float64(0.25), "ok": np.False_}, (np.int32(7),)],
        [1.5, {"rate": 0.25, "ok": False}, (7,)],
    ),
    "dict of tuples": ({"ci": (np.float64(0.9), np.float64(1.1))}, {"ci": (0.9, 1.1)}),
    "string with parentheses": ("f(x) = (a)", "f(x) = (a)"),
    "complex": (np.complex128(1 - 2j), 1 - 2j),
    "empty set": (set(), set()),
    "None": (None, None),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_values_round_trip(tmp_path: Path, case: str) -> None:
    glued, expected = ROUND_TRIPS[case]
    values = glued_values(_notebook(tmp_path, [_glue_output("x", glued)]))
    assert values == {"x": expected}
    assert type(values["x"]) is type(expected)


def test_display_false_is_read(tmp_path: Path) -> None:
    """``glue(..., display=False)`` stores the display under a prefixed mime type."""
    path = _notebook(tmp_path, [_glue_output("hidden", (np.float64(2.0), np.int64(1)), display=False)])
    assert glued_values(path) == {"hidden": (2.0, 1)}


@pytest.mark.parametrize("glued", [np.float64(np.nan), np.float64(-np.inf), math.inf])
def test_non_finite_floats(glued: float) -> None:
    value = parse_glued_text("x", _display(glued))
    assert isinstance(value, float)
    assert (math.isnan(value) and math.isnan(glued)) or value == glued


@pytest.mark.parametrize(
    "glued, message",
    [
        (np.array([1.0, 2.0]), "array"),
        (np.arange(3), "array"),
        (object(), "not a Python literal"),
    ],
)
def test_unparseable_values_raise_naming_the_key(tmp_path: Path, glued, message: str) -> None:
    path = _notebook(tmp_path, [_glue_output("good", 1.0), _glue_output("bad_key", glued)])
    with pytest.raises(GlueParseError, match=message) as info:
        glued_values(path)
    assert "'bad_key'" in str(info.value)


def test_truncated_sequence_raises() -> None:
    """In a kernel IPython shows at most 1000 items of a sequence, then "..."."""
    text = pretty(list(range(1200)), max_seq_length=1000)
    assert text.rstrip().endswith("...]")
    with pytest.raises(GlueParseError, match="truncated"):
        parse_glued_text("long", text)


def test_stripping_parentheses_would_have_been_wrong() -> None:
    """The old reader removed every ')': a tuple became a string, nested calls broke."""
    text = _display((np.float64(1.0), [np.float64(2.0)]))
    assert parse_glued_text("x", text) == (1.0, [2.0])
    with pytest.raises(GlueParseError):
        parse_glued_text("x", "np.float64(1.0")          # unbalanced
    with pytest.raises(GlueParseError):
        parse_glued_text("x", "np.float64(1.0, 2.0)")    # not a scalar repr
    with pytest.raises(GlueParseError):
        parse_glued_text("x", "np.sum([1.0, 2.0])")      # a computation, not a value


def test_glued_figure_is_not_a_value(tmp_path: Path) -> None:
    figure = _glue_output("fig", 0.0)
    figure["data"] = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    assert glued_values(_notebook(tmp_path, [figure, _glue_output("y", 2.0)])) == {"y": 2.0}


def test_missing_text_raises(tmp_path: Path) -> None:
    output = _glue_output("x", 1.0)
    output["data"] = {"text/html": "<b>1</b>"}
    with pytest.raises(GlueParseError, match="'x'"):
        glued_values(_notebook(tmp_path, [output]))
