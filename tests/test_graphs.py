"""Tests of chargetransport.graphs: contraction graphs of section 2.3.1 and section 3.2.

References: an independent brute-force enumeration of pairings (itertools), the class
definitions re-implemented here directly from the text (plain Python, no shared code),
and the exhaustive class counts (test_graph_counts.py checks the closed forms against
them).
"""
import itertools
import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from chargetransport import graph_counts, graphs

matplotlib.use("Agg")


# --------------------------------------------------------------------------------------
# Independent reference implementations (direct transcriptions of the definitions)
# --------------------------------------------------------------------------------------
def brute_force_pairings(num_vertices):
    """All pairings of 1..num_vertices, as sorted tuples of sorted pairs (via permutations)."""
    out = set()
    for perm in itertools.permutations(range(1, num_vertices + 1)):
        pairs = tuple(sorted(tuple(sorted(perm[i:i + 2])) for i in range(0, num_vertices, 2)))
        out.add(pairs)
    return out


def ref_is_ir(a, b, n):
    a, b = min(a, b), max(a, b)
    return b == a + 1 and ((a <= n and b <= n) or (a >= n + 1 and b >= n + 1))


def ref_is_crossing(g):
    return any(l < j < lp < jp for (l, lp) in g for (j, jp) in g)


def ref_is_nesting(g, n):
    partner = {}
    for a, b in g:
        partner[a], partner[b] = b, a
    for a, b in g:
        same_side = b <= n or a >= n + 1
        if not same_side or (b - a) < 3 or (b - a) % 2 == 0:
            continue
        if all(partner[j] == j + 1 for j in range(a + 1, b, 2)):
            return True
    return False


def ref_is_decorated_ladder(g, n):
    rungs = []
    for a, b in g:
        if ref_is_ir(a, b, n):
            continue
        if a <= n < b:
            rungs.append((a, b))
            continue
        return False
    rungs.sort()
    return all(r2[1] < r1[1] for r1, r2 in zip(rungs, rungs[1:]))


def ref_is_ladder(g, n):
    m2 = 2 * len(g)
    return m2 == 2 * n and all((l, m2 + 1 - l) in g for l in range(1, n + 1))


def all_sides(max_vertices):
    return [(n, m2 - n) for m2 in range(0, max_vertices + 1, 2) for n in range(m2 + 1)]


# --------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("m2", [0, 2, 4, 6, 8])
def test_enumeration_equals_brute_force_set_of_pairings(m2):
    enumerated = list(graphs.contraction_graphs(m2 // 2, m2 - m2 // 2))
    assert len(enumerated) == len(set(enumerated)) == graph_counts.double_factorial(m2 - 1)
    assert set(enumerated) == (brute_force_pairings(m2) if m2 else {()})


def test_enumeration_counts_are_double_factorials_up_to_twelve_vertices():
    for n, nbar in all_sides(12):
        count = sum(1 for _ in graphs.contraction_graphs(n, nbar))
        assert (count == graph_counts.num_graphs(n, nbar)
                == graph_counts.double_factorial(n + nbar - 1))


def test_odd_number_of_vertices_has_no_graph():
    assert list(graphs.contraction_graphs(2, 3)) == []
    assert graph_counts.num_graphs(2, 3) == 0
    assert graphs.class_counts(1, 2)["total"] == 0


def test_graphs_are_sorted_pairs_covering_every_vertex_once():
    for g in graphs.contraction_graphs(4, 6):
        assert list(g) == sorted(g)
        assert all(a < b for a, b in g)
        assert sorted(v for pair in g for v in pair) == list(range(1, 11))


# --------------------------------------------------------------------------------------
# Predicates against the reference definitions
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, nbar", all_sides(8))
def test_predicates_agree_with_reference_definitions_exhaustively(n, nbar):
    for g in graphs.contraction_graphs(n, nbar):
        assert graphs.is_crossing(g) == ref_is_crossing(g), g
        assert graphs.is_nesting(g, n) == ref_is_nesting(g, n), g
        assert graphs.is_decorated_ladder(g, n) == ref_is_decorated_ladder(g, n), g
        assert graphs.is_ladder(g, n) == ref_is_ladder(g, n), g
        for pair in g:
            assert graphs.is_immediate_recollision_pair(pair, n) == ref_is_ir(*pair, n)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 12), n_frac=st.floats(0, 1), seed=st.integers(0, 2**31))
def test_predicates_agree_with_reference_on_random_large_graphs(m, n_frac, seed):
    n = int(round(n_frac * 2 * m))
    g = graphs.random_contraction_graph(n, 2 * m - n, seed=seed)
    assert graphs.is_crossing(g) == ref_is_crossing(g)
    assert graphs.is_nesting(g, n) == ref_is_nesting(g, n)
    assert graphs.is_decorated_ladder(g, n) == ref_is_decorated_ladder(g, n)


def test_recollision_across_the_j_vertex_is_a_rung_not_a_recollision():
    assert not graphs.is_immediate_recollision_pair((3, 4), n=3)
    assert graphs.is_immediate_recollision_pair((4, 3), n=2)
    # n = 1: (1, 2) straddles J, so it is a rung, and (3, 4) a recollision on the right
    assert graphs.is_decorated_ladder(((1, 2), (3, 4)), n=1)
    # n = 1: (2, 4) lies on the right but is not adjacent: neither rung nor recollision
    assert not graphs.is_decorated_ladder(((1, 3), (2, 4)), n=1)
    assert graphs.is_decorated_ladder(((1, 4), (2, 3)), n=2)           # nested rungs


def test_paper_examples_basic_ladder_is_decorated_and_neither_crossing_nor_nesting():
    for m in range(1, 7):
        ladder = tuple((l, 2 * m + 1 - l) for l in range(1, m + 1))
        assert graphs.is_ladder(ladder, m) and graphs.is_decorated_ladder(ladder, m)
        assert not graphs.is_crossing(ladder) and not graphs.is_nesting(ladder, m)
        # the same pairing with J moved is no ladder
        assert not graphs.is_ladder(ladder, m - 1)


# --------------------------------------------------------------------------------------
# Counts: the exhaustive statement
# --------------------------------------------------------------------------------------
def test_every_graph_is_decorated_ladder_or_crossing_or_nesting_up_to_twelve_vertices():
    rows = graphs.count_table(12)
    assert len(rows) == sum(m2 + 1 for m2 in range(2, 13, 2))
    assert all(r["unexplained"] == 0 for r in rows)
    # and the converse: decorated ladders never cross or nest
    for n, nbar in all_sides(10):
        for g in graphs.contraction_graphs(n, nbar):
            if graphs.is_decorated_ladder(g, n):
                assert not graphs.is_crossing(g) and not graphs.is_nesting(g, n)


# --------------------------------------------------------------------------------------
# r particle lines
# --------------------------------------------------------------------------------------
def ref_multiline(g, r, nbar):
    line = {v: (v - 1) // nbar for pair in g for v in pair}
    closed = [all(line[a] == line[b] == j for a, b in g if j in (line[a], line[b]))
              for j in range(r)]
    parent = list(range(r))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in g:
        parent[find(line[a])] = find(line[b])
    return {"disconnected": all(line[a] == line[b] for a, b in g),
            "two_connected": not any(closed),
            "connected": len({find(j) for j in range(r)}) == 1}


@pytest.mark.parametrize("r, nbar", [(2, 2), (2, 4), (3, 2), (3, 4), (4, 2), (2, 5), (6, 2)])
def test_multiline_classes_agree_with_reference(r, nbar):
    counts = {"disconnected": 0, "two_connected": 0, "connected": 0}
    for g in graphs.contraction_graphs(0, r * nbar):
        ref = ref_multiline(g, r, nbar)
        got = graphs.multiline_graph_class(g, r, nbar)
        assert {k: got[k] for k in ref} == ref, g
        assert got["non_disconnected"] == (not ref["disconnected"])
        for k in counts:
            counts[k] += ref[k]
    formula = graph_counts.multiline_class_counts_formula(r, nbar)
    assert {k: formula[k] for k in counts} == counts
    assert graphs.multiline_class_counts(r, nbar) == formula


# --------------------------------------------------------------------------------------
# Random graphs, validation (the drawings are tested in test_plotting.py)
# --------------------------------------------------------------------------------------
def test_random_graph_is_reproducible_and_valid():
    a = graphs.random_contraction_graph(5, 7, seed=3)
    assert a == graphs.random_contraction_graph(5, 7, seed=3)
    assert sorted(v for p in a for v in p) == list(range(1, 13))


@pytest.mark.parametrize("call, error", [
    (lambda: list(graphs.contraction_graphs(-1, 2)), ValueError),
    (lambda: list(graphs.contraction_graphs(1.5, 2)), TypeError),
    (lambda: list(graphs.contraction_graphs(10, 10)), ValueError),         # beyond enumeration
    (lambda: graphs.is_crossing(((1, 2), (2, 3))), ValueError),           # vertex used twice
    (lambda: graphs.is_crossing(((1, 5),)), ValueError),                  # vertex out of range
    (lambda: graphs.is_nesting(((1, 2),), n=3), ValueError),              # n > n + nbar
    (lambda: graphs.is_crossing(((1, 2.0),)), TypeError),
    (lambda: graphs.is_crossing(5), TypeError),
    (lambda: graphs.random_contraction_graph(2, 3, seed=0), ValueError),     # odd n + nbar
    (lambda: graphs.random_contraction_graph(2, 2), TypeError),             # seed required
    (lambda: graphs.multiline_graph_class(((1, 2),), r=2, nbar=2), ValueError),
    (lambda: graphs.count_table(18), ValueError),
])
def test_invalid_input_raises_with_a_clear_error(call, error):
    with pytest.raises(error):
        call()


def test_contraction_graphs_checks_its_arguments_when_called():
    with pytest.raises(ValueError, match="'n'"):
        graphs.contraction_graphs(-1, 2)          # no next() needed
