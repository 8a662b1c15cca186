"""Closed-form counts of the contraction graphs of section 2.3.1 and section 3.2.

The paper's graph expansion (section 2.3.1) bounds a sum over the ``(2m - 1)!!``
pairings of ``Gamma_{n, nbar}`` (eq. (2.13)) by counting its classes: the decorated
ladders that survive the kinetic limit, the crossing and the nesting graphs, those
without immediate recollisions; section 3.2 counts the pairings of ``r`` particle
lines by connectivity (disconnected, 2-connected, connected). This module holds those
counts as exact integers for any size, derived in closed form (binomial sums,
Catalan numbers, inclusion-exclusion). The graphs themselves, their classes and the
exhaustive enumeration that checks every formula here are in
:mod:`chargetransport.graphs`, whose docstring fixes the conventions (vertex numbers,
the J vertex, the class definitions).
"""
from __future__ import annotations

import math

from ._validation import check_int

__all__ = [
    "class_counts_formula",
    "double_factorial",
    "multiline_class_counts_formula",
    "num_decorated_ladders",
    "num_graphs",
    "num_nesting_free",
    "num_noncrossing",
    "num_without_immediate_recollision",
]


# --------------------------------------------------------------------------------------
# One pair of particle lines (section 2.3.1)
# --------------------------------------------------------------------------------------
def double_factorial(k):
    """``k!! = k (k-2) (k-4) ...`` for ``k >= -1`` (``(-1)!! = 0!! = 1``), exact integer.

    Examples
    --------
    >>> double_factorial(7)
    105
    """
    k = check_int("k", k, minimum=-1)
    out = 1
    while k > 1:
        out *= k
        k -= 2
    return out


def _check_sides(n, nbar):
    n = check_int("n", n, minimum=0)
    nbar = check_int("nbar", nbar, minimum=0)
    return n, nbar


def num_graphs(n, nbar):
    """``|Gamma_{n, nbar}| = (n + nbar - 1)!!`` for ``n + nbar`` even, else 0 (eq. (2.13)).

    Parameters
    ----------
    n, nbar : int
        Numbers of interaction vertices on the left and right particle line (>= 0).

    Returns
    -------
    int
        The number of pairings of ``2m = n + nbar`` vertices, ``(2m-1)!! = (2m)!/(2^m m!)``.

    Examples
    --------
    >>> num_graphs(5, 7)
    10395
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        return 0
    return double_factorial(n + nbar - 1)


def num_decorated_ladders(n, nbar, rungs=None):
    """Number of decorated ladders in ``Gamma_{n, nbar}`` (derived closed form).

    Parameters
    ----------
    n, nbar : int
    rungs : int, optional
        Count only those with exactly this many rungs ``k``.

    Returns
    -------
    int
        ``sum_k C((n + k)/2, k) C((nbar + k)/2, k)`` over ``k = n mod 2, ..., min(n, nbar)``
        in steps of 2.

    Notes
    -----
    A decorated ladder with ``k`` rungs is fixed by the positions of the rung vertices
    on each side: the rungs pair them nested around J, and the vertices between two
    consecutive rung vertices (and before the first, after the last) are tiled by
    immediate recollisions ``(l, l+1)`` in exactly one way, so each of the ``k + 1``
    gaps on a side has even length. The gaps on the left are a weak composition of
    ``(n - k)/2`` into ``k + 1`` parts: ``C((n - k)/2 + k, k) = C((n + k)/2, k)`` ways;
    likewise on the right.

    Examples
    --------
    >>> num_decorated_ladders(3, 3)   # 4 with one rung, the basic ladder
    5
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        return 0
    ks = range(n % 2, min(n, nbar) + 1, 2)
    if rungs is not None:
        rungs = check_int("rungs", rungs, minimum=0)
        ks = [k for k in ks if k == rungs]
    return sum(math.comb((n + k) // 2, k) * math.comb((nbar + k) // 2, k) for k in ks)


def num_noncrossing(n, nbar):
    """Number of graphs of ``Gamma_{n, nbar}`` without a crossing: the Catalan number ``C_m``.

    Non-crossing pairings of ``2m`` points on a line are counted by
    ``C_m = (2m)! / (m! (m+1)!)`` (vertex 1 is paired with some ``2j``; inside and
    outside are independent non-crossing pairings: ``C_m = sum_j C_{j-1} C_{m-j}``).
    The position of J does not matter.

    Examples
    --------
    >>> num_noncrossing(4, 4)
    14
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        return 0
    m = (n + nbar) // 2
    return math.comb(2 * m, m) // (m + 1)


def _path_matchings(length, j):
    """Ways to choose j disjoint adjacent pairs in a path of `length` vertices."""
    return math.comb(length - j, j) if 0 <= j <= length - j else 0


def num_without_immediate_recollision(n, nbar, exactly=0):
    """Number of graphs with exactly ``exactly`` immediate recollisions (derived closed form).

    Parameters
    ----------
    n, nbar : int
    exactly : int, default 0
        The number ``r`` of immediate recollisions.

    Returns
    -------
    int
        ``sum_j (-1)^(j-r) C(j, r) N_j (2m - 2j - 1)!!`` with
        ``N_j = sum_{a+b=j} C(n-a, a) C(nbar-b, b)``.

    Notes
    -----
    Inclusion-exclusion over sets of ``j`` prescribed immediate recollisions: they
    are ``j`` disjoint adjacent pairs of the two paths of ``n`` and ``nbar`` vertices
    (the pair ``(n, n+1)`` across J is a rung, not a recollision); a path of ``n``
    vertices has ``C(n - a, a)`` sets of ``a`` disjoint adjacent pairs, and the other
    ``2m - 2j`` vertices pair in ``(2m - 2j - 1)!!`` ways. The factor ``C(j, r)``
    turns "at least these" into "exactly r".

    Examples
    --------
    >>> num_without_immediate_recollision(2, 2)  # only the crossing (1,3)(2,4) and the ladder
    2
    """
    n, nbar = _check_sides(n, nbar)
    r = check_int("exactly", exactly, minimum=0)
    if (n + nbar) % 2:
        return 0
    m = (n + nbar) // 2
    total = 0
    for j in range(r, m + 1):
        nj = sum(_path_matchings(n, a) * _path_matchings(nbar, j - a) for a in range(j + 1))
        total += (-1) ** (j - r) * math.comb(j, r) * nj * double_factorial(2 * m - 2 * j - 1)
    return total


def _nest_placements(length):
    """{(j, s): ways to place j disjoint nests of total length s on a path}."""
    out = {(0, 0): 1}
    for j in range(1, length // 4 + 1):
        for s in range(4 * j, length + 1, 2):
            out[(j, s)] = math.comb(length - s + j, j) * math.comb(s // 2 - j - 1, j - 1)
    return out


def num_nesting_free(n, nbar):
    """Number of graphs of ``Gamma_{n, nbar}`` without a nesting (derived closed form).

    Returns
    -------
    int
        ``sum_{j, s} (-1)^j G_{j,s} (2m - s - 1)!!``, where ``G`` counts sets of ``j``
        disjoint nests of total length ``s`` on the two sides.

    Notes
    -----
    A nest occupies an interval ``[l, l + 2k + 1]`` of one side, ``k >= 1``, with a
    fixed pairing inside. Two nests of one graph are disjoint intervals (an interval
    closed under the pairing cannot overlap another one partially, and a nest cannot
    contain another one: everything inside it is an immediate recollision). So the
    graphs containing a prescribed set of nests are the ``(2m - s - 1)!!`` pairings of
    the ``2m - s`` other vertices, and inclusion-exclusion over such sets counts the
    nest-free graphs. On a path of ``n`` vertices, ``j`` disjoint nests of total length
    ``s`` can be placed in ``C(n - s + j, j) C(s/2 - j - 1, j - 1)`` ways (arrange
    ``j`` blocks among ``n - s`` free vertices; compose ``s/2`` into ``j`` parts >= 2).

    Examples
    --------
    >>> num_nesting_free(0, 4)   # of the three pairings of 4 vertices one is the nest (1,4)(2,3)
    2
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        return 0
    m2 = n + nbar
    left, right = _nest_placements(n), _nest_placements(nbar)
    total = 0
    for (j1, s1), c1 in left.items():
        for (j2, s2), c2 in right.items():
            total += (-1) ** (j1 + j2) * c1 * c2 * double_factorial(m2 - s1 - s2 - 1)
    return total


def class_counts_formula(n, nbar):
    """The closed-form counts of :func:`chargetransport.graphs.class_counts` (those that have one).

    Returns
    -------
    dict
        ``total``, ``basic_ladder``, ``decorated_ladder``, ``noncrossing``
        (``= total - crossing``), ``nesting`` (``= total - nesting-free``),
        ``no_immediate_recollision``.
    """
    n, nbar = _check_sides(n, nbar)
    total = num_graphs(n, nbar)
    return {
        "total": total,
        "basic_ladder": int(n == nbar),
        "decorated_ladder": num_decorated_ladders(n, nbar),
        "noncrossing": num_noncrossing(n, nbar),
        "nesting": total - num_nesting_free(n, nbar),
        "no_immediate_recollision": num_without_immediate_recollision(n, nbar),
    }


# --------------------------------------------------------------------------------------
# r particle lines (section 3.2)
# --------------------------------------------------------------------------------------
def _check_multiline(r, nbar):
    r = check_int("r", r, minimum=1)
    nbar = check_int("nbar", nbar, minimum=0)
    return r, nbar


def multiline_class_counts_formula(r, nbar):
    """Closed forms for :func:`chargetransport.graphs.multiline_class_counts`, any ``r``, ``nbar``.

    Returns
    -------
    dict of int
        * ``total = (r nbar - 1)!!``;
        * ``disconnected = ((nbar - 1)!!)^r`` (each line paired with itself);
        * ``two_connected = sum_s (-1)^s C(r, s) ((nbar-1)!!)^s ((r - s) nbar - 1)!!``
          (inclusion-exclusion over the set of lines paired only with themselves);
        * ``connected = c(r)`` from ``t(r) = sum_{s=1}^{r} C(r-1, s-1) c(s) t(r - s)``,
          ``t(k) = (k nbar - 1)!!`` (split by the component of line 1).

    Examples
    --------
    >>> multiline_class_counts_formula(3, 2)["connected"]
    8
    """
    r, nbar = _check_multiline(r, nbar)

    def t(k):
        return double_factorial(k * nbar - 1) if (k * nbar) % 2 == 0 else 0

    single = t(1)
    total = t(r)
    two = sum((-1) ** s * math.comb(r, s) * single**s * t(r - s) for s in range(r + 1))
    conn = [0] * (r + 1)
    for k in range(1, r + 1):
        conn[k] = t(k) - sum(math.comb(k - 1, s - 1) * conn[s] * t(k - s) for s in range(1, k))
    return {"total": total, "disconnected": single**r, "non_disconnected": total - single**r,
            "two_connected": two, "connected": conn[r]}
