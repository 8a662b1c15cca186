"""Read the numbers a chapter states from its executed notebook.

Chapters put every number they quote in the text through ``myst_nb.glue``; the
claim tests (``tests/test_<chapter>_claims.py``) read those glued values from
the notebook the book build executed and check them against theory or an
independent computation. So the number a reader sees is the number a test
asserts, and a chapter cannot drift from its claims unnoticed.

A glued value is stored as its ``text/plain`` display (its ``repr``). It is read
back as a Python literal: numbers, booleans, strings, ``None`` and tuples, lists,
dicts and sets of them, where NumPy scalars (``np.float64(0.5)``, ``np.int64(3)``,
``np.True_``, ...) become the Python number or bool they display and ``nan`` and
``inf`` become floats. Anything else (an array's ``array([...])``, an object's
``<... at 0x...>``, IPython's ``...`` for a truncated sequence) raises a
``GlueParseError`` naming the glue key: a claim must not be compared with a
string by accident. Figures glued for layout (an ``image/*`` output) are not
values and are left out.
"""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

_NUMPY_MODULES = {"np", "numpy"}
# NumPy scalar types whose repr is ``np.<type>(<Python literal>)``.
_NUMPY_SCALAR_TYPES = {
    "float16", "float32", "float64", "longdouble", "half", "single", "double",
    "int8", "int16", "int32", "int64", "intp", "intc", "longlong",
    "uint8", "uint16", "uint32", "uint64", "uintp", "uintc", "ulonglong",
    "complex64", "complex128", "clongdouble", "str_", "bytes_",
}
_NUMPY_CONSTANTS = {"True_": True, "False_": False, "nan": math.nan, "inf": math.inf}
_NAMES = {"nan": math.nan, "inf": math.inf}


class GlueParseError(ValueError):
    """A glued value whose display is not a Python literal (e.g. an array)."""


def _is_numpy(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in _NUMPY_MODULES


class _NumpyScalarsToLiterals(ast.NodeTransformer):
    """Replace the reprs of NumPy scalars (and ``nan``, ``inf``) by plain constants."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if (
            isinstance(func, ast.Attribute) and _is_numpy(func.value)
            and func.attr in _NUMPY_SCALAR_TYPES and len(node.args) == 1 and not node.keywords
        ):
            return self.visit(node.args[0])
        if isinstance(func, ast.Name) and func.id == "set" and not node.args and not node.keywords:
            return node  # the empty set, which literal_eval reads
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("array", "matrix", "masked_array"):
            raise GlueParseError("an array is glued as text; glue a number or a tuple of numbers")
        raise GlueParseError(f"a call to {ast.unparse(func)!r} is not a literal")

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if _is_numpy(node.value) and node.attr in _NUMPY_CONSTANTS:
            return ast.copy_location(ast.Constant(_NUMPY_CONSTANTS[node.attr]), node)
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if node.value is Ellipsis:  # IPython shortens long sequences with "..."
            raise GlueParseError("the display is truncated ('...')")
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _NAMES:
            return ast.copy_location(ast.Constant(_NAMES[node.id]), node)
        return node


def parse_glued_text(name: str, text: str) -> object:
    """The Python value of a glued ``text/plain`` display; see the module docstring.

    Raises
    ------
    GlueParseError
        If ``text`` is not a Python literal up to NumPy scalars; the message names
        the glue key ``name`` and shows the text.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return ast.literal_eval(_NumpyScalarsToLiterals().visit(tree))
    except (GlueParseError, SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        shown = text if len(text) <= 200 else text[:200] + "..."
        raise GlueParseError(
            f"glued value {name!r} is not a Python literal ({exc}): {shown!r}. Glue numbers, "
            f"booleans, strings or tuples/lists/dicts of them (e.g. float(x), tuple(map(float, a)))."
        ) from None


def glued_values(notebook: Path) -> dict[str, object]:
    """All values glued in an executed notebook, by name (Python literals).

    Raises
    ------
    GlueParseError
        If a glued value is not a literal (see :func:`parse_glued_text`) or has no
        ``text/plain`` display.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            name = scrapbook.get("name")
            if name is None:
                continue
            # glue(..., display=False) stores the bundle under a prefixed mime type.
            prefix = scrapbook.get("mime_prefix", "")
            data = {key[len(prefix):] if key.startswith(prefix) else key: value
                    for key, value in output.get("data", {}).items()}
            if any(mime.startswith("image/") for mime in data):
                continue  # a glued figure
            text = data.get("text/plain")
            if isinstance(text, list):
                text = "".join(text)
            if not isinstance(text, str):
                raise GlueParseError(f"glued value {name!r} has no text/plain display")
            values[name] = parse_glued_text(name, text)
    return values


def chapter_values(chapter: str):
    """A module-scoped pytest fixture ``values``: the glued values of ``chapter``.

    Use in a claims test as ``values = chapter_values("book/<chapter>")``; the
    values come from the notebook of the session's book build (``built_book``).
    """
    import pytest

    @pytest.fixture(scope="module")
    def values(built_book):
        path = built_book.executed_notebook(chapter)
        assert path.exists(), f"the chapter was not executed: {path}"
        return glued_values(path)

    return values
