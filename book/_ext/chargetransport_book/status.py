"""How and where the book was built: chapter execution times, versions, commit, machine.

Two markups, filled in once every chapter has been executed (a post-transform, so a
page that shows another chapter's time is always up to date):

``{execution-time}``
    As a directive (no argument: the current chapter; or a chapter's docname such as
    ``book/boltzmann_limit``)::

        :::{execution-time}
        :::

    renders a short paragraph "Executed in 42 s on 2026-12-01 15:30 UTC."; as a role,
    ``{execution-time}`this``` (or a docname) renders the same inline, without the
    capital and the full stop: "executed in 42 s on 2026-12-01 15:30 UTC".

``{reproducibility-status}``
    The whole report (the page ``book/reproducibility``): every chapter of the table of
    contents with its execution time, date and status and a link to its notebook; the
    git commit; the machine (CPU, cores, memory); the versions of Python and of the
    packages that compute and build the book.

The times are myst-nb's execution records: the seconds a chapter took when it was last
executed (``execute_notebooks: cache`` reuses a chapter's outputs, and its time, from
the execution cache ``_build/.jupyter_cache`` until its code or the package changes).
"""
from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import posixpath
import subprocess
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective, SphinxRole

# The distributions whose versions the status page lists (the package, what it
# computes with, what executes and renders the chapters).
PACKAGES = (
    "chargetransport", "numpy", "scipy", "numba", "llvmlite", "matplotlib", "dask",
    "distributed", "scikit-image", "jupyter-book", "myst-nb", "jupyter-cache",
    "nbclient", "ipykernel", "sphinx", "sphinx-proof",
)
_ENV_KEY = "chargetransport_status_docs"  # docnames that show execution data


class execution_time(nodes.Inline, nodes.Element):
    """Placeholder: the execution time of chapter ``docname``."""


class reproducibility_status(nodes.General, nodes.Element):
    """Placeholder: the reproducibility report."""


# ----------------------------------------------------------------------------------------
# What the build knows about itself
# ----------------------------------------------------------------------------------------
def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _memory_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def build_info(root: Path) -> dict[str, Any]:
    """The commit, the machine and the versions of this build (read once per build)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git(root, "rev-parse", "HEAD"),
        "dirty": bool(status),
        "built": _dt.datetime.now(_dt.timezone.utc),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": _memory_bytes(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def format_seconds(seconds: float | None) -> str:
    """``"42 s"``, ``"3.2 s"``, ``"2 min 05 s"``."""
    if seconds is None:
        return "unknown time"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def format_time(timestamp: float | None) -> str:
    if not timestamp:
        return "an unknown date"
    return _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def execution_text(data: dict[str, Any] | None) -> str:
    """"executed in 42 s on 2026-12-01 15:30 UTC" (or why there is no time)."""
    if not data:
        return "not executed in this build"
    if not data.get("succeeded"):
        return f"failed ({data.get('error') or 'error'}) on {format_time(data.get('mtime'))}"
    return f"executed in {format_seconds(data.get('runtime'))} on {format_time(data.get('mtime'))}"


def _exec_data(env, docname: str) -> dict[str, Any] | None:
    from myst_nb.sphinx_ import NbMetadataCollector

    return NbMetadataCollector.get_doc_data(env).get(docname, {}).get("exec_data")


def chapters_in_order(env) -> list[str]:
    """The notebooks of the book (pages with a kernel), in table-of-contents order."""
    order: list[str] = []

    def visit(docname: str) -> None:
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            visit(child)

    visit(env.config.root_doc)
    order += sorted(set(env.found_docs) - set(order))
    return [doc for doc in order if "kernelspec" in env.metadata.get(doc, {})]


# ----------------------------------------------------------------------------------------
# Markup
# ----------------------------------------------------------------------------------------
def _note_uses_status(env) -> None:
    docs = getattr(env, _ENV_KEY, None)
    if docs is None:
        docs = set()
        setattr(env, _ENV_KEY, docs)
    docs.add(env.docname)


def _resolve_docname(env, name: str | None) -> str:
    if not name or name in (".", "this"):
        return env.docname
    name = name.strip().removesuffix(".md").removesuffix(".ipynb")
    if name.startswith("/"):
        return name[1:]
    relative = posixpath.normpath(posixpath.join(posixpath.dirname(env.docname), name))
    return relative if relative in env.found_docs else name


class ExecutionTimeDirective(SphinxDirective):
    """``:::{execution-time} [docname]``: "Executed in 42 s on <date>."."""

    optional_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        _note_uses_status(self.env)
        node = execution_time(docname=_resolve_docname(self.env, self.arguments[0] if self.arguments else None),
                              sentence=True)
        return [nodes.paragraph("", "", node, classes=["execution-time"])]


class ExecutionTimeRole(SphinxRole):
    """``{execution-time}`this``` or ``{execution-time}`book/boltzmann_limit```."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        _note_uses_status(self.env)
        node = execution_time(docname=_resolve_docname(self.env, self.text), sentence=False,
                              classes=["execution-time"])
        return [node], []


class ReproducibilityStatusDirective(SphinxDirective):
    """``:::{reproducibility-status}``: the report of this build."""

    has_content = False
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        _note_uses_status(self.env)
        return [reproducibility_status()]


def _table(header: list[str], rows: list[list[Any]], classes: list[str]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto", *classes])
    tgroup = nodes.tgroup(cols=len(header))
    table += tgroup
    for _ in header:
        tgroup += nodes.colspec(colwidth=1)
    thead, tbody = nodes.thead(), nodes.tbody()
    tgroup += thead
    tgroup += tbody
    row = nodes.row()
    for name in header:
        row += nodes.entry("", nodes.paragraph(text=name))
    thead += row
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            paragraph = nodes.paragraph()
            paragraph += cell if isinstance(cell, nodes.Node) else nodes.Text(str(cell))
            row += nodes.entry("", paragraph)
        tbody += row
    return table


def _doc_link(fromdoc: str, todoc: str, text: str) -> pending_xref:
    link = pending_xref(refdoc=fromdoc, reftarget="/" + todoc, reftype="doc", refdomain="std",
                        refexplicit=True, refwarn=True, classes=["xref", "doc"])
    link += nodes.inline(text=text)
    return link


def status_nodes(env, info: dict[str, Any], docname: str) -> list[nodes.Node]:
    """The report: chapters, build, machine, versions."""
    out: list[nodes.Node] = []
    rows = []
    for chapter in chapters_in_order(env):
        data = _exec_data(env, chapter) or {}
        title = env.titles[chapter].astext() if chapter in env.titles else chapter
        notebook = posixpath.relpath(f"_sources/{chapter}.ipynb", posixpath.dirname(docname) or ".")
        rows.append([
            _doc_link(docname, chapter, title),
            format_seconds(data.get("runtime")) if data else "not executed",
            format_time(data.get("mtime")) if data else "",
            ("ok" if data.get("succeeded") else f"failed: {data.get('error')}") if data else "",
            nodes.reference("", f"{posixpath.basename(chapter)}.ipynb", refuri=notebook),
        ])
    out.append(_table(["Chapter", "Execution time", "Executed on", "Status", "Notebook"],
                      rows, ["reproducibility-chapters"]))

    commit = info["commit"] or "unknown (not a git checkout)"
    memory = info["memory"]
    facts = [
        ("Git commit", commit),
        ("Built on", info["built"].strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", info["cpu"]),
        ("Cores", f"{info['cores']} ({info['usable_cores']} usable by the build)"),
        ("Memory", f"{memory / 2**30:.1f} GiB" if memory else "unknown"),
        ("Operating system", info["platform"]),
        ("Python", info["python"]),
    ]
    commit_cell = nodes.inline("", "", nodes.literal(text=commit, classes=["git-commit"]))
    if info["dirty"]:
        commit_cell += nodes.Text(" (with uncommitted changes)")
    facts[0] = ("Git commit", commit_cell)
    out.append(_table(["Build", ""], [[k, v] for k, v in facts], ["reproducibility-build"]))
    out.append(_table(["Package", "Version"], [[k, v] for k, v in info["versions"].items()],
                      ["reproducibility-versions"]))
    return out


class FillStatus(SphinxPostTransform):
    """Replace the placeholders once every chapter has its execution record."""

    default_priority = 8  # before the references (10) are resolved: the links work

    def run(self, **kwargs: Any) -> None:
        info = self.app.chargetransport_build_info
        for node in list(self.document.findall(execution_time)):
            text = execution_text(_exec_data(self.env, node["docname"]))
            if node.get("sentence"):
                text = text[0].upper() + text[1:] + "."
            node.replace_self(nodes.inline(text, text, classes=["execution-time"]))
        for node in list(self.document.findall(reproducibility_status)):
            node.replace_self(status_nodes(self.env, info, self.env.docname))


def _record_build_info(app) -> None:
    app.chargetransport_build_info = build_info(Path(app.srcdir))


def _purge(app, env, docname: str) -> None:
    getattr(env, _ENV_KEY, set()).discard(docname)


def _merge(app, env, docnames, other) -> None:
    getattr(env, _ENV_KEY, set()).update(getattr(other, _ENV_KEY, set()) & set(docnames))


def _rewrite_status_pages(app, env) -> list[str]:
    """Pages that show execution data are written again on every build."""
    return sorted(getattr(env, _ENV_KEY, set()) & set(env.found_docs))


def setup(app) -> None:
    app.add_node(execution_time)
    app.add_node(reproducibility_status)
    app.add_directive("execution-time", ExecutionTimeDirective)
    app.add_role("execution-time", ExecutionTimeRole())
    app.add_directive("reproducibility-status", ReproducibilityStatusDirective)
    app.add_post_transform(FillStatus)
    app.connect("builder-inited", _record_build_info)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-updated", _rewrite_status_pages)
