"""Tests of chargetransport.graph_counts: closed-form counts of contraction graphs.

References: the exhaustive enumeration and classification of chargetransport.graphs, and
the class definitions re-implemented directly from the text in test_graphs.py.
"""
import math

import pytest

from chargetransport import graph_counts, graphs
from test_graphs import ref_is_ir, ref_is_nesting


# --------------------------------------------------------------------------------------
# One pair of particle lines: closed forms against exhaustive enumeration
# --------------------------------------------------------------------------------------
def test_enumerated_class_counts_equal_closed_forms_up_to_fourteen_vertices():
    for r in graphs.count_table(14):
        for key in ("total", "basic_ladder", "decorated_ladder", "noncrossing", "nesting",
                    "no_immediate_recollision"):
            assert r[key] == r[f"{key}_formula"], (r["n"], r["nbar"], key)


@pytest.mark.parametrize("n, nbar", [(3, 3), (4, 6), (5, 5), (2, 8), (7, 3)])
def test_decorated_ladders_by_number_of_rungs(n, nbar):
    by_rungs = {}
    for g in graphs.contraction_graphs(n, nbar):
        if graphs.is_decorated_ladder(g, n):
            k = sum(1 for a, b in g if a <= n < b)
            by_rungs[k] = by_rungs.get(k, 0) + 1
    for k in range(0, min(n, nbar) + 1):
        assert by_rungs.get(k, 0) == graph_counts.num_decorated_ladders(n, nbar, rungs=k)


@pytest.mark.parametrize("n, nbar", [(0, 8), (3, 5), (4, 4), (6, 4)])
def test_distribution_of_immediate_recollisions_matches_inclusion_exclusion(n, nbar):
    hist = {}
    for g in graphs.contraction_graphs(n, nbar):
        r = sum(1 for pair in g if ref_is_ir(*pair, n))
        hist[r] = hist.get(r, 0) + 1
    for r in range((n + nbar) // 2 + 1):
        assert hist.get(r, 0) == graph_counts.num_without_immediate_recollision(n, nbar, exactly=r)


def test_noncrossing_counts_are_catalan_numbers():
    for m in range(1, 8):
        assert graph_counts.num_noncrossing(m, m) == math.comb(2 * m, m) // (m + 1)
        assert (graphs.class_counts(2 * m - 1, 1)["noncrossing"]
                == graph_counts.num_noncrossing(m, m))


def test_nesting_free_formula_on_one_line():
    # Gamma_{0, 2m}: all vertices on one line; compare with the reference predicate
    for m in range(1, 6):
        free = sum(1 for g in graphs.contraction_graphs(0, 2 * m) if not ref_is_nesting(g, 0))
        assert free == graph_counts.num_nesting_free(0, 2 * m)


# --------------------------------------------------------------------------------------
# r particle lines
# --------------------------------------------------------------------------------------
def test_multiline_formulas_for_a_single_line_and_large_sizes():
    f = graph_counts.multiline_class_counts_formula(1, 6)
    assert f["disconnected"] == f["total"] == f["connected"] == 15 and f["two_connected"] == 0
    big = graph_counts.multiline_class_counts_formula(8, 30)
    assert 0 < big["connected"] <= big["two_connected"] <= big["non_disconnected"] < big["total"]


def test_double_factorial_rejects_orders_below_minus_one():
    with pytest.raises(ValueError):
        graph_counts.double_factorial(-3)
