"""Theorem boxes carry the paper's numbers, not sphinx-proof's count.

sphinx-proof numbers its boxes itself ("Theorem 1", "Definition 2", counted through
the book), which disagrees with the lectures' numbering that the titles quote
("Boltzmann limit (Theorem 2.1, ...)"). Here:

* a box whose title names its own kind and a number ("Theorem 2.1", "Corollary 3.5",
  "Definition 3.2") is captioned with that number, which is taken out of the title
  where that leaves it readable: ``Boltzmann limit (Theorem 2.1, [cite])`` becomes
  "Theorem 2.1 (Boltzmann limit ([cite]))", ``Theorem 6.1 ([cite])`` becomes
  "Theorem 6.1 ([cite])" and ``Connectivity classes (Definition 3.2)`` becomes
  "Definition 3.2 (Connectivity classes)";
* any other box is captioned with its kind alone, "Proposition (title)": no number;
* ``{prf:ref}`label``` reads "Theorem 2.1" for a numbered box and "Proposition
  (title)" for another (its title without citations; the kind alone if the title has
  references in it). A reference with an explicit text keeps its text.
"""
from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.locale import get_translation
from sphinx.writers.latex import LaTeXTranslator
from sphinx_proof import nodes as proof_nodes
from sphinx_proof.domain import ProofDomain

_ = get_translation("proof")  # sphinx-proof's message catalog (the kind's name)
_PAPER_NUMBER = "paper_number"


def paper_number(kind: str, title: str) -> str | None:
    """The number the title gives a box of this kind: ("theorem", "... Theorem 2.1 ...") -> "2.1"."""
    match = re.search(rf"\b{re.escape(kind.title())} (\d+(?:\.\d+)*)\b", title)
    return match.group(1) if match else None


def _strip_number(title: nodes.title, label: str) -> None:
    """Take "Kind n.m" out of a title (format " (%t)") where that reads well."""
    texts = [child for child in title.children if isinstance(child, nodes.Text)]
    if not texts:
        return
    first, last = texts[0], texts[-1]
    lead = f" ({label} "
    if str(first).startswith(lead):
        # "Theorem 6.1 ([cite])": the title already reads as a caption.
        new_first = " " + str(first)[len(lead):]
        if str(last).endswith(")") and last is not first:
            title.replace(last, nodes.Text(str(last)[:-1]))
            title.replace(first, nodes.Text(new_first))
        elif last is first and str(first).endswith(")"):
            title.replace(first, nodes.Text(new_first[:-1]))
        return
    for child in texts:
        text = str(child)
        for pattern, repl in ((f"({label}, ", "("), (f" ({label})", ""), (f"({label}; ", "(")):
            if pattern in text:
                title.replace(child, nodes.Text(text.replace(pattern, repl, 1)))
                return


def _proof_node_types() -> tuple[type, ...]:
    return tuple(proof_nodes.NODE_TYPES.values())


def number_boxes_as_the_paper(app, doctree: nodes.document) -> None:
    """``doctree-read``: find each box's paper number, shorten its title, remember both."""
    env = app.env
    for node in doctree.findall(lambda n: isinstance(n, _proof_node_types())):
        kind = node.get("realtype", "")
        title = node.next_node(nodes.title)
        if title is None:
            continue
        text = title.astext()
        number = paper_number(kind, text)
        entry = getattr(env, "proof_list", {}).get(node.get("label"))
        has_refs = bool(list(title.findall(lambda n: n.tagname in ("pending_xref", "citation_reference", "reference"))))
        if number:
            node[_PAPER_NUMBER] = number
            _strip_number(title, f"{kind.title()} {number}")
        if entry is not None:
            entry[_PAPER_NUMBER] = number
            plain = title.astext().strip()
            if plain.startswith("(") and plain.endswith(")"):
                plain = plain[1:-1]
            entry["plain_title"] = None if has_refs else plain


def caption(kind: str, number: str | None) -> str:
    return f"{_(kind.title())} {number}" if number else _(kind.title())


def depart_enumerable_node(self, node: nodes.Element) -> None:
    """sphinx-proof's HTML departure, with the caption "Kind n.m" or "Kind"."""
    if isinstance(self, LaTeXTranslator):
        proof_nodes.depart_enumerable_node(self, node)
        return
    countertyp = node.attributes.get("countertype", "")
    number = proof_nodes.get_node_number(self, node, countertyp)
    idx = self.body.index(f"{countertyp} {number} ")
    proof_nodes.depart_enumerable_node(self, node)
    self.body[idx] = caption(node.get("realtype", ""), node.get(_PAPER_NUMBER)) + " "


def reference_text(entry: dict[str, Any]) -> str:
    """What ``{prf:ref}`` shows for a box: "Theorem 2.1", or "Proposition (title)"."""
    kind = entry.get("realtype", "")
    if entry.get(_PAPER_NUMBER):
        return caption(kind, entry[_PAPER_NUMBER])
    if entry.get("plain_title"):
        return f"{caption(kind, None)} ({entry['plain_title']})"
    return caption(kind, None)


class PaperNumberedProofDomain(ProofDomain):
    """sphinx-proof's domain; implicit reference texts use the paper's numbers."""

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        implicit = len(contnode) > 0 and target in contnode[0]
        ref = super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
        if ref is None or not implicit:
            return ref
        ref.children = []
        ref += nodes.Text(reference_text(env.proof_list[target]))
        return ref


def setup(app) -> None:
    app.add_domain(PaperNumberedProofDomain, override=True)
    for node_type in _proof_node_types():
        app.add_node(node_type, override=True,
                     html=(proof_nodes.visit_enumerable_node, depart_enumerable_node),
                     latex=(proof_nodes.visit_enumerable_node, proof_nodes.depart_enumerable_node))
    app.connect("doctree-read", number_boxes_as_the_paper)
