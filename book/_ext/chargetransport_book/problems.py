"""The problem-set edition: gated solutions left out with everything inside them.

sphinx-exercise's ``hide_solutions`` drops a ``{solution}`` block, but of a gated solution
(``{solution-start}`` ... ``{solution-end}``, used where a solution holds code cells) it
drops only the start: the text and the executed cells in between stay on the page, and
the orphaned end node has no HTML writer (sphinx-exercise 1.0). With ``hide_solutions``
on, this module puts a marker where the start was and removes the marker, everything
after it in the same parent, and the matching end node, before sphinx-exercise merges
gated solutions.
"""
from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node

LOGGER = logging.getLogger(__name__)


class hidden_solution_start(nodes.Element):
    """Where a gated solution started (problem-set edition only)."""


class HiddenSolutionStart(SolutionStartDirective):
    """``solution-start`` when solutions are hidden: registers the start as usual (so
    sphinx-exercise's structure check still pairs it with its end) and leaves a marker."""

    def run(self):
        super().run()
        marker = hidden_solution_start()
        self.set_source_info(marker)
        return [marker]


class RemoveHiddenGatedSolutions(SphinxTransform):
    """Remove each marker, the nodes after it and the next ``solution-end`` of its parent."""

    default_priority = 5  # before sphinx-exercise's MergeGatedSolutions (10)

    def apply(self, **kwargs):
        for marker in list(self.document.findall(hidden_solution_start)):
            parent = marker.parent
            start = parent.index(marker)
            end = next((i for i in range(start + 1, len(parent.children))
                        if isinstance(parent.children[i], solution_end_node)), None)
            if end is None:
                LOGGER.warning("solution-start without a solution-end in the same block",
                               location=marker)
                parent.remove(marker)
                continue
            del parent.children[start:end + 1]


def _hide_gated_solutions(app, config):
    if config.hide_solutions:
        app.add_directive("solution-start", HiddenSolutionStart, override=True)


def setup(app):
    app.add_node(hidden_solution_start)
    app.add_transform(RemoveHiddenGatedSolutions)
    app.connect("config-inited", _hide_gated_solutions)
