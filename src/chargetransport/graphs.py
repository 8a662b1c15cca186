"""Feynman (contraction) graphs of the graph expansion of section 2.3.1 and section 3.2.

Conventions
-----------
A graph of ``Gamma_{n, nbar}`` lives on two particle lines joined by the
distinguished J vertex: ``n`` interaction vertices on the left line and ``nbar``
on the right one, numbered ``1, ..., n + nbar`` from the left, so that the J vertex
sits between ``n`` and ``n + 1``. A contraction graph pairs all interaction
vertices; it is stored as a tuple of pairs ``(l, l')`` with ``l < l'``, sorted by
``l`` (the paper's ``l ~_pi l'``). Vertex ``l <= n`` is the ``l``-th potential in
time order on the left line (vertex 1 is next to ``psi_0``); on the right line
vertex ``n + nbar`` is the earliest and ``n + 1`` the latest (next to J).

Classes (paper section 2.3.1, with the OCR's garbled indices made consistent):

* immediate recollision: ``l ~ l + 1`` with both on the same side of J;
* basic ladder: ``n = nbar`` and ``l ~ 2n + 1 - l`` for every ``l <= n``;
* decorated ladder: every contraction is an immediate recollision or a *rung*
  ``l <= n < l'``, and the rungs do not cross (``l_1 < l_2`` implies ``l_2' < l_1'``);
* crossing: two contractions with ``l < j < l' < j'``;
* nesting: a contraction ``l ~ l + 2k + 1`` (``k >= 1``) with both ends on the same
  side and the ``k`` immediate recollisions ``(l+1, l+2), ..., (l+2k-1, l+2k)``
  inside it. (The OCR prints ``l ~ l + 2k`` with recollisions up to ``j = l+2k-1``,
  which would use vertex ``l + 2k`` twice.)

With these definitions a graph that is not a decorated ladder contains a crossing
or a nesting: if it has no crossing, take a same-side contraction that is not an
immediate recollision and has no shorter one inside; everything inside it is
paired inside, without crossings, by immediate recollisions only, which is a nest.
:func:`class_counts` checks this by exhaustive enumeration, and :func:`count_table`
sets the enumerated counts beside the closed forms of :mod:`chargetransport.graph_counts`.

The pairings of ``2m`` vertices are enumerated by decoding their index in the
mixed radix ``(2m-1)(2m-3)...1``: the lowest unpaired vertex is paired with the
``c``-th of the remaining ones. The decoding and the classification run in Numba.

Drawings of the graphs in the style of the paper's Figures 1 and 2 are in
:mod:`chargetransport.plotting` (``draw_contraction_graph``, ``draw_multiline_graph``).
"""
from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

from ._validation import check_int
from .graph_counts import _check_multiline, _check_sides, class_counts_formula, double_factorial
from .rng import as_generator

__all__ = [
    "MAX_ENUMERATED_VERTICES",
    "class_counts",
    "contraction_graphs",
    "count_table",
    "is_crossing",
    "is_decorated_ladder",
    "is_immediate_recollision_pair",
    "is_ladder",
    "is_nesting",
    "multiline_class_counts",
    "multiline_graph_class",
    "random_contraction_graph",
]

#: Largest number of vertices whose pairings are enumerated exhaustively
#: (15!! = 2 027 025 pairings of 16 vertices, 32 MB as int8).
MAX_ENUMERATED_VERTICES = 16


# --------------------------------------------------------------------------------------
# Numba kernels
# --------------------------------------------------------------------------------------
@nb.njit(cache=True)
def _decode_pairings(num_vertices, total):
    """All pairings of 0..num_vertices-1 as partner arrays, in mixed-radix order."""
    out = np.empty((total, num_vertices), dtype=np.int8)
    free = np.empty(num_vertices, dtype=np.int64)
    for index in range(total):
        for v in range(num_vertices):
            free[v] = v
        nfree = num_vertices
        rest = index
        row = out[index]
        while nfree > 0:
            radix = nfree - 1
            choice = rest % radix
            rest //= radix
            a = free[0]
            b = free[1 + choice]
            row[a] = b
            row[b] = a
            # remove positions 0 and 1 + choice, keeping the order
            k = 0
            for i in range(1, nfree):
                if i != 1 + choice:
                    free[k] = free[i]
                    k += 1
            nfree -= 2
    return out


@nb.njit(cache=True)
def _has_crossing(p):
    m = p.shape[0]
    for a in range(m):
        b = p[a]
        if b < a:
            continue
        for j in range(a + 1, b):
            if p[j] > b:
                return True
    return False


@nb.njit(cache=True)
def _count_crossings(p):
    m = p.shape[0]
    count = 0
    for a in range(m):
        b = p[a]
        if b < a:
            continue
        for j in range(a + 1, b):
            if p[j] > b:
                count += 1
    return count


@nb.njit(cache=True)
def _is_ir(a, b, n):
    """0-based vertices a < b: an immediate recollision (adjacent, same side of J)."""
    return b == a + 1 and (b < n or a >= n)


@nb.njit(cache=True)
def _num_ir(p, n):
    count = 0
    for a in range(p.shape[0]):
        if p[a] > a and _is_ir(a, p[a], n):
            count += 1
    return count


@nb.njit(cache=True)
def _has_nesting(p, n):
    m = p.shape[0]
    for a in range(m):
        b = p[a]
        if b < a + 3:
            continue
        if not (b < n or a >= n):
            continue
        ok = True
        for j in range(a + 1, b, 2):
            if p[j] != j + 1:
                ok = False
                break
        if ok:
            return True
    return False


@nb.njit(cache=True)
def _is_decorated_ladder(p, n):
    m = p.shape[0]
    last_right = m  # right end of the previous rung (rungs must be nested around J)
    for a in range(m):
        b = p[a]
        if b < a:
            continue
        if _is_ir(a, b, n):
            continue
        if a < n <= b:
            if b >= last_right:
                return False
            last_right = b
            continue
        return False
    return True


@nb.njit(cache=True)
def _is_basic_ladder(p, n):
    m = p.shape[0]
    if 2 * n != m:
        return False
    for a in range(n):
        if p[a] != m - 1 - a:
            return False
    return True


@nb.njit(cache=True)
def _classify_all(pairings, n):
    """Flags per pairing: IR count, DL, basic ladder, crossing, nesting."""
    total = pairings.shape[0]
    ir = np.empty(total, dtype=np.int64)
    flags = np.zeros((total, 4), dtype=np.bool_)
    for i in range(total):
        p = pairings[i]
        ir[i] = _num_ir(p, n)
        flags[i, 0] = _is_decorated_ladder(p, n)
        flags[i, 1] = _is_basic_ladder(p, n)
        flags[i, 2] = _has_crossing(p)
        flags[i, 3] = _has_nesting(p, n)
    return ir, flags


@nb.njit(cache=True)
def _line_components(p, r, nbar):
    """Connected components of the particle lines (union-find), as labels."""
    parent = np.arange(r)
    for a in range(p.shape[0]):
        b = p[a]
        la, lb = a // nbar, b // nbar
        while parent[la] != la:
            la = parent[la]
        while parent[lb] != lb:
            lb = parent[lb]
        if la != lb:
            if la < lb:
                parent[lb] = la
            else:
                parent[la] = lb
    for j in range(r):
        root = j
        while parent[root] != root:
            root = parent[root]
        parent[j] = root
    return parent


@nb.njit(cache=True)
def _multiline_classify_all(pairings, r, nbar):
    """Per pairing: 0 disconnected, 1 two-connected and connected, ... as flags."""
    total = pairings.shape[0]
    flags = np.zeros((total, 3), dtype=np.bool_)  # disconnected, 2-connected, connected
    sizes = np.empty(r, dtype=np.int64)
    for i in range(total):
        labels = _line_components(pairings[i], r, nbar)
        sizes[:] = 0
        for j in range(r):
            sizes[labels[j]] += 1
        disconnected = True
        two_connected = True
        ncomp = 0
        for j in range(r):
            if sizes[j] > 0:
                ncomp += 1
                if sizes[j] > 1:
                    disconnected = False
                else:
                    two_connected = False
        flags[i, 0] = disconnected
        flags[i, 1] = two_connected
        flags[i, 2] = ncomp == 1
    return flags


# --------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _all_pairings(num_vertices):
    total = double_factorial(num_vertices - 1)
    out = _decode_pairings(num_vertices, total)
    out.setflags(write=False)
    return out


def _pairings_array(num_vertices, name="n + nbar"):
    if num_vertices > MAX_ENUMERATED_VERTICES:
        raise ValueError(f"'{name}' = {num_vertices} is too large to enumerate: at most "
                         f"{MAX_ENUMERATED_VERTICES} vertices ({double_factorial(MAX_ENUMERATED_VERTICES - 1)} "
                         "pairings)")
    if num_vertices == 0:
        return np.zeros((1, 0), dtype=np.int8)
    return _all_pairings(num_vertices)


def _as_tuple(partner):
    return tuple((a + 1, int(b) + 1) for a, b in enumerate(partner) if b > a)


def contraction_graphs(n, nbar):
    """Iterate over the contraction graphs ``Gamma_{n, nbar}`` of section 2.3.1.

    Parameters
    ----------
    n, nbar : int
        Interaction vertices on the left and right particle line; ``n + nbar`` at
        most :data:`MAX_ENUMERATED_VERTICES`.

    Yields
    ------
    tuple of (int, int)
        Each graph as its contractions ``(l, l')``, ``1 <= l < l' <= n + nbar``,
        sorted by ``l``. Nothing is yielded if ``n + nbar`` is odd; for
        ``n = nbar = 0`` the empty graph ``()`` is the only one.

    Notes
    -----
    ``(n + nbar - 1)!!`` graphs (eq. (2.13)), in a fixed order (the mixed-radix
    order of the choices "partner of the lowest unpaired vertex").

    Examples
    --------
    >>> list(contraction_graphs(2, 2))
    [((1, 2), (3, 4)), ((1, 3), (2, 4)), ((1, 4), (2, 3))]
    """
    n, nbar = _check_sides(n, nbar)   # checked now, when called, not at the first next()
    return _contraction_graphs(n + nbar)


def _contraction_graphs(m):
    if m % 2:
        return
    for partner in _pairings_array(m):
        yield _as_tuple(partner)


def _graph_partner(graph, n=None, name="graph"):
    """Validate a graph (tuple of pairs) and return its 0-based partner array."""
    try:
        pairs = [tuple(pair) for pair in graph]
    except TypeError as exc:
        raise TypeError(f"'{name}' must be a sequence of pairs (l, l') of vertex numbers") from exc
    m2 = 2 * len(pairs)
    partner = np.full(m2, -1, dtype=np.int64)
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"'{name}' must consist of pairs (l, l'), got {pair!r}")
        for v in pair:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"vertices of '{name}' must be integers, got {v!r}")
        a, b = int(pair[0]), int(pair[1])
        if not (1 <= a <= m2 and 1 <= b <= m2) or a == b:
            raise ValueError(f"'{name}' must pair distinct vertices 1..{m2}, got {pair!r}")
        if partner[a - 1] != -1 or partner[b - 1] != -1:
            raise ValueError(f"'{name}' uses a vertex twice: {pair!r}")
        partner[a - 1], partner[b - 1] = b - 1, a - 1
    if n is not None:
        n = check_int("n", n, minimum=0, maximum=m2)
    return partner


def is_immediate_recollision_pair(pair, n):
    """Whether a contraction ``(l, l')`` is an immediate recollision.

    Parameters
    ----------
    pair : tuple of int
        ``(l, l')``, vertex numbers (either order).
    n : int
        Number of vertices on the left line (the J vertex sits between ``n`` and ``n+1``).

    Returns
    -------
    bool
        ``|l - l'| = 1`` and both on the same side of J.

    Examples
    --------
    >>> is_immediate_recollision_pair((2, 3), n=3), is_immediate_recollision_pair((3, 4), n=3)
    (True, False)
    """
    n = check_int("n", n, minimum=0)
    try:
        a, b = sorted(int(v) for v in pair)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"'pair' must be two vertex numbers, got {pair!r}") from exc
    if a < 1:
        raise ValueError(f"vertex numbers start at 1, got {pair!r}")
    return bool(_is_ir(a - 1, b - 1, n))


def is_ladder(graph, n):
    """Whether ``graph`` is a basic ladder: ``n = nbar`` and ``l ~ 2n + 1 - l`` for all ``l``.

    Examples
    --------
    >>> is_ladder(((1, 4), (2, 3)), n=2)
    True
    """
    p = _graph_partner(graph, n)
    return bool(_is_basic_ladder(p, check_int("n", n, minimum=0)))


def is_decorated_ladder(graph, n):
    """Whether every contraction is an immediate recollision or a rung, rungs not crossing.

    Examples
    --------
    >>> is_decorated_ladder(((1, 2), (3, 4)), n=2)    # recollisions on both lines
    True
    >>> is_decorated_ladder(((1, 3), (2, 4)), n=2)    # crossing rungs
    False
    """
    p = _graph_partner(graph, n)
    return bool(_is_decorated_ladder(p, check_int("n", n, minimum=0)))


def is_crossing(graph):
    """Whether two contractions cross: ``l < j < l' < j'``.

    The position of J plays no role.

    Examples
    --------
    >>> is_crossing(((1, 3), (2, 4))), is_crossing(((1, 4), (2, 3)))
    (True, False)
    """
    return bool(_has_crossing(_graph_partner(graph)))


def is_nesting(graph, n):
    """Whether a same-side contraction ``l ~ l + 2k + 1`` encloses ``k >= 1`` recollisions.

    Examples
    --------
    >>> is_nesting(((1, 4), (2, 3)), n=0)   # on the right line: a nest
    True
    >>> is_nesting(((1, 4), (2, 3)), n=2)   # both are rungs: a ladder
    False
    """
    p = _graph_partner(graph, n)
    return bool(_has_nesting(p, check_int("n", n, minimum=0)))


def class_counts(n, nbar):
    """Count the graphs of ``Gamma_{n, nbar}`` by class, by exhaustive enumeration.

    Parameters
    ----------
    n, nbar : int
        ``n + nbar <= MAX_ENUMERATED_VERTICES``.

    Returns
    -------
    dict of int
        ``total``, ``basic_ladder``, ``decorated_ladder``, ``crossing``, ``nesting``,
        ``crossing_and_nesting``, ``noncrossing``, ``no_immediate_recollision``,
        ``with_immediate_recollision``, and ``unexplained``: the graphs that are
        neither decorated ladders nor contain a crossing or a nesting (the paper's
        statement is that there are none).

    Examples
    --------
    >>> c = class_counts(0, 4)
    >>> c["decorated_ladder"], c["nesting"], c["crossing"], c["unexplained"]
    (1, 1, 1, 0)
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        keys = ("total", "basic_ladder", "decorated_ladder", "crossing", "nesting",
                "crossing_and_nesting", "noncrossing", "no_immediate_recollision",
                "with_immediate_recollision", "unexplained")
        return dict.fromkeys(keys, 0)
    pairings = _pairings_array(n + nbar)
    ir, flags = _classify_all(pairings, n)
    dl, ladder, crossing, nesting = flags.T
    return {
        "total": int(len(pairings)),
        "basic_ladder": int(ladder.sum()),
        "decorated_ladder": int(dl.sum()),
        "crossing": int(crossing.sum()),
        "nesting": int(nesting.sum()),
        "crossing_and_nesting": int((crossing & nesting).sum()),
        "noncrossing": int((~crossing).sum()),
        "no_immediate_recollision": int((ir == 0).sum()),
        "with_immediate_recollision": int((ir > 0).sum()),
        "unexplained": int((~dl & ~crossing & ~nesting).sum()),
    }


def count_table(max_vertices=12):
    """Enumerated and closed-form class counts for every ``n + nbar <= max_vertices``.

    Parameters
    ----------
    max_vertices : int, default 12
        Largest ``n + nbar`` (even graphs only), at most :data:`MAX_ENUMERATED_VERTICES`.

    Returns
    -------
    list of dict
        One row per ``(n, nbar)`` with ``n + nbar`` even and positive: the keys of
        :func:`class_counts` plus ``n``, ``nbar`` and, for every closed form of
        :func:`chargetransport.graph_counts.class_counts_formula`, ``<key>_formula``.

    Examples
    --------
    >>> rows = count_table(4)
    >>> [(r["n"], r["nbar"], r["total"]) for r in rows][:3]
    [(0, 2, 1), (1, 1, 1), (2, 0, 1)]
    """
    max_vertices = check_int("max_vertices", max_vertices, minimum=2,
                             maximum=MAX_ENUMERATED_VERTICES)
    rows = []
    for m2 in range(2, max_vertices + 1, 2):
        for n in range(m2 + 1):
            row = {"n": n, "nbar": m2 - n}
            row.update(class_counts(n, m2 - n))
            for key, value in class_counts_formula(n, m2 - n).items():
                row[f"{key}_formula"] = value
            rows.append(row)
    return rows


def random_contraction_graph(n, nbar, seed):
    """A uniformly random graph of ``Gamma_{n, nbar}`` (any size), e.g. to draw one.

    Parameters
    ----------
    n, nbar : int
        ``n + nbar`` even.
    seed : int, SeedSequence or Generator (required: a random draw, see ``rng``)

    Returns
    -------
    tuple of (int, int)

    Examples
    --------
    >>> len(random_contraction_graph(5, 7, seed=1))
    6
    """
    n, nbar = _check_sides(n, nbar)
    if (n + nbar) % 2:
        raise ValueError(f"'n + nbar' must be even for a pairing, got {n + nbar}")
    perm = as_generator(seed).permutation(n + nbar) + 1
    pairs = [tuple(sorted((int(perm[2 * i]), int(perm[2 * i + 1])))) for i in range((n + nbar) // 2)]
    return tuple(sorted(pairs))


# --------------------------------------------------------------------------------------
# r particle lines (section 3.2)
# --------------------------------------------------------------------------------------
def multiline_graph_class(graph, r, nbar):
    """Connectivity class of a pairing of ``r`` particle lines with ``nbar`` vertices each.

    Parameters
    ----------
    graph : tuple of (int, int)
        A pairing of the ``r * nbar`` vertices; line ``j = 1..r`` holds the vertices
        ``(j-1) nbar + 1, ..., j nbar``.
    r, nbar : int

    Returns
    -------
    dict of bool
        ``disconnected``: every contraction joins two vertices of one line
        (``E_Disc``, eq. (3.17)); ``non_disconnected``: the complement (``E_N-D``,
        (3.18)); ``two_connected``: every connected component of lines contains at
        least two lines (no line is paired only with itself), which are the graphs
        of ``E_2-Conn = E[prod_j (U_j - E U_j)]`` (3.19); ``connected``: all ``r``
        lines form one component (as in Figure 2).

    Examples
    --------
    >>> multiline_graph_class(((1, 3), (2, 4)), r=2, nbar=2)["two_connected"]
    True
    """
    r, nbar = _check_multiline(r, nbar)
    p = _graph_partner(graph)
    if len(p) != r * nbar:
        raise ValueError(f"'graph' must pair r * nbar = {r * nbar} vertices, got {len(p)}")
    flags = _multiline_classify_all(p[None, :], r, nbar)[0]
    return {"disconnected": bool(flags[0]), "non_disconnected": not bool(flags[0]),
            "two_connected": bool(flags[1]), "connected": bool(flags[2])}


def multiline_class_counts(r, nbar):
    """Exhaustive counts of the pairings of ``r`` lines by connectivity class.

    Parameters
    ----------
    r, nbar : int
        ``r * nbar <= MAX_ENUMERATED_VERTICES``.

    Returns
    -------
    dict of int
        ``total``, ``disconnected``, ``non_disconnected``, ``two_connected``, ``connected``.

    Examples
    --------
    >>> multiline_class_counts(2, 2)
    {'total': 3, 'disconnected': 1, 'non_disconnected': 2, 'two_connected': 2, 'connected': 2}
    """
    r, nbar = _check_multiline(r, nbar)
    if (r * nbar) % 2:
        return dict.fromkeys(("total", "disconnected", "non_disconnected", "two_connected",
                              "connected"), 0)
    pairings = _pairings_array(r * nbar, name="r * nbar")
    flags = _multiline_classify_all(pairings, r, nbar)
    return {"total": int(len(pairings)), "disconnected": int(flags[:, 0].sum()),
            "non_disconnected": int((~flags[:, 0]).sum()),
            "two_connected": int(flags[:, 1].sum()), "connected": int(flags[:, 2].sum())}
