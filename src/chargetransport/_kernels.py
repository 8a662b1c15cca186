"""Numba kernels: small, private, no validation (the public wrappers do that).

Every field is handled as a 3D C-contiguous array; a lattice of dimension d < 3
is viewed with leading axes of length 1 (``(1, 1, L)`` or ``(1, L, L)``). An
axis of length 1 is not a lattice axis: its neighbour rows are a row of zeros.
The public ``Lattice`` guarantees ``L >= 3`` on the real axes.

The stencils see a field as rows along the contiguous last axis, indexed by
``r = i n1 + j``. The interior rows of a plane ``i`` (``0 < j < n1 - 1``) are
contiguous in memory and all their neighbours sit at fixed offsets, so one
long unit-stride loop covers them (vectorised by LLVM, no per-row set-up);
the two end sites of each row, where the last axis wraps, are then recomputed.
The rows on the wrap of axis 1 (``j = 0, n1 - 1``) run through a row kernel
that takes its four neighbour rows explicitly. Every site is computed with the
same sequence of floating-point operations whichever loop reaches it (the
periodic arithmetic of the original row-by-row kernel), so results are
bit-for-bit those of that kernel. Twisted boundary conditions (``psi(x + L
e_a) = exp(2 pi i theta_a) psi(x)``) enter only at the wraps: a neighbour row
across the wrap is multiplied by its phase into a per-thread scratch row (the
two planes on a twisted wrap of axis 0 run row by row), and the end sites of a
row pick up the phase of the last axis, so a twist costs nothing in the bulk
and an untwisted axis runs exactly the periodic arithmetic.

``phases`` is a complex array of shape ``(2, 3)``: ``phases[0, a]`` multiplies
the neighbour reached by stepping forward across the wrap of 3D axis ``a``
(``exp(2 pi i theta_a)``), ``phases[1, a]`` the one reached backwards (its
conjugate); 1 on untwisted and missing axes.

Rows are split into one contiguous chunk per thread; every output element is
written by exactly one iteration with the same arithmetic, so results do not
depend on the number of threads.
"""
from __future__ import annotations

import numba as nb
import numpy as np

# Rows per block of the deterministic reductions: partial sums over fixed
# blocks, added in a fixed order, so a norm is the same for any thread count.
_REDUCTION_BLOCK = 64

# Each sweep has a threaded and a serial driver: for small fields waking the thread
# pool costs more than the sweep itself. Below this many sites the serial one runs.
PARALLEL_MIN_SITES = 1 << 15

# Scratch rows of a thread: 0 is a row of zeros (the neighbours along a missing
# axis), 1-4 hold the phased neighbour rows across a twisted wrap.
_SCRATCH_ROWS = 5


@nb.njit(cache=True, inline="always")
def _rmul(x, c):
    """The real x times the complex c, as two real products: a complex product with
    x + 0j would spend four multiplications and two additions whose only effect is the
    sign of a zero result (x c.real - 0 c.imag). Values are those of ``x * c``."""
    return complex(x * c.real, x * c.imag)


@nb.njit(cache=True, inline="always")
def _site(c_h, c_id, eta, v, psi, neighbours):
    """One site of ``c_h (Delta + eta V) psi + c_id psi``, given the sum of its six
    neighbours (added in the kernels' fixed order, so that every loop that reaches a site
    computes it with the same operations)."""
    return _rmul(c_h, neighbours + _rmul(eta * v, psi)) + _rmul(c_id, psi)


def boundary_phases(twist):
    """The ``phases`` argument of the kernels for a box with twist ``theta`` (d numbers)."""
    phases = np.ones((2, 3), dtype=np.complex128)
    for axis, theta in enumerate(twist):
        if theta != 0.0:
            a = axis + 3 - len(twist)
            phases[0, a] = np.exp(2j * np.pi * theta)
            phases[1, a] = np.conj(phases[0, a])
    return phases


@nb.njit(cache=True, inline="always")
def _phased_row(src, row, phase, scratch, slot):
    n = src.shape[1]
    for k in range(n):
        scratch[slot, k] = phase * src[row, k]


@nb.njit(cache=True, inline="always")
def neighbour_rows(p2, base, scratch, i, j, n0, n1, phases):
    """Where the four neighbour rows of row (i, j) are, as (array, row) pairs.

    ``p2`` is the field as a 2D array of rows; ``base`` the index of row (0, 0)
    in it (non-zero for stacked fields). Returns ``xa, xm, xb, xp, ya, ym, yb,
    yp``: the rows (i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1) are
    ``xa[xm]``, ``xb[xp]``, ``ya[ym]``, ``yb[yp]``; a row across a twisted wrap
    is copied, times its phase, into ``scratch``.
    """
    if n0 > 1:
        im = i - 1 if i > 0 else n0 - 1
        ip = i + 1 if i < n0 - 1 else 0
        xa, xm = p2, base + im * n1 + j
        xb, xp = p2, base + ip * n1 + j
        if phases[0, 0] != 1.0:
            if i == 0:
                _phased_row(p2, xm, phases[1, 0], scratch, 1)
                xa, xm = scratch, 1
            elif i == n0 - 1:
                _phased_row(p2, xp, phases[0, 0], scratch, 2)
                xb, xp = scratch, 2
    else:
        xa, xm, xb, xp = scratch, 0, scratch, 0
    if n1 > 1:
        jm = j - 1 if j > 0 else n1 - 1
        jp = j + 1 if j < n1 - 1 else 0
        ya, ym = p2, base + i * n1 + jm
        yb, yp = p2, base + i * n1 + jp
        if phases[0, 1] != 1.0:
            if j == 0:
                _phased_row(p2, ym, phases[1, 1], scratch, 3)
                ya, ym = scratch, 3
            elif j == n1 - 1:
                _phased_row(p2, yp, phases[0, 1], scratch, 4)
                yb, yp = scratch, 4
    else:
        ya, ym, yb, yp = scratch, 0, scratch, 0
    return xa, xm, xb, xp, ya, ym, yb, yp


@nb.njit(cache=True, inline="always")
def wrap_values(p2, r, phases):
    """The last-axis neighbours across the wrap: of site 0 (``psi[r, n-1]``) and of
    site n - 1 (``psi[r, 0]``), with the phases of a twist."""
    n = p2.shape[1]
    left, right = p2[r, n - 1], p2[r, 0]
    if phases[0, 2] != 1.0:
        left = phases[1, 2] * left
        right = phases[0, 2] * right
    return left, right


@nb.njit(cache=True, inline="always")
def _apply_row(p2, v2, eta, c_h, c_id, o2, r, xa, xm, xb, xp, ya, ym, yb, yp, left, right):
    """Row r of out = c_h (Delta + eta V) psi + c_id psi."""
    n = p2.shape[1]
    o2[r, 0] = _site(c_h, c_id, eta, v2[r, 0], p2[r, 0],
                     xa[xm, 0] + xb[xp, 0] + ya[ym, 0] + yb[yp, 0] + left + p2[r, 1])
    for k in range(1, n - 1):
        o2[r, k] = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                         xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + p2[r, k - 1]
                         + p2[r, k + 1])
    k = n - 1
    o2[r, k] = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                     xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + p2[r, k - 1] + right)


@nb.njit(cache=True, inline="always")
def _chebyshev_row(p2, v2, eta, c_h, c_id, q2, a2, c_acc, r, xa, xm, xb, xp, ya, ym, yb, yp,
                   left, right):
    """Row r of prev <- c_h (Delta + eta V) psi + c_id psi - prev; acc += c_acc prev.

    In place is safe: each site reads ``prev`` only at itself.
    """
    n = p2.shape[1]
    q2[r, 0] = _site(c_h, c_id, eta, v2[r, 0], p2[r, 0],
                     xa[xm, 0] + xb[xp, 0] + ya[ym, 0] + yb[yp, 0] + left + p2[r, 1]) - q2[r, 0]
    for k in range(1, n - 1):
        q2[r, k] = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                         xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + p2[r, k - 1]
                         + p2[r, k + 1]) - q2[r, k]
    k = n - 1
    q2[r, k] = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                     xa[xm, k] + xb[xp, k] + ya[ym, k] + yb[yp, k] + p2[r, k - 1]
                     + right) - q2[r, k]
    if c_acc != 0.0:
        for k in range(n):
            a2[r, k] += c_acc * q2[r, k]


# ---------------------------------------------------------------------------------------
# Planes: the interior rows of a plane (not on the wrap of axis 1, not on a twisted wrap of
# axis 0) are contiguous in memory and all their neighbours are at fixed offsets, so one
# long unit-stride loop covers them (no per-row loop overhead, one vectorised loop). Its
# values at the two ends of each row use the wrong last-axis neighbour (the end of the
# adjacent row) and are then recomputed with the wrap (``_fix_row_ends``), with the same
# arithmetic as the row kernels. The loops index views from 0 so that Numba's
# negative-index wraparound is provably dead.
# ---------------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _long_apply(A, B, has_x, Cm, Cp, C, Vv, O, eta, c_h, c_id):
    """O[t] = c_h (A + B + Cm + Cp + C[t] + C[t + 2] + eta V C[t + 1]) + c_id C[t + 1]; without
    an axis 0 its two neighbours are the zeros the row kernels add."""
    if has_x:
        for t in range(O.size):
            O[t] = _site(c_h, c_id, eta, Vv[t], C[t + 1],
                         A[t] + B[t] + Cm[t] + Cp[t] + C[t] + C[t + 2])
    else:
        z = 0j
        for t in range(O.size):
            O[t] = _site(c_h, c_id, eta, Vv[t], C[t + 1],
                         z + z + Cm[t] + Cp[t] + C[t] + C[t + 2])


@nb.njit(cache=True, inline="always")
def _long_chebyshev(A, B, has_x, Cm, Cp, C, Vv, Q, Acc, eta, c_h, c_id, c_acc):
    """Q <- c_h (...) + c_id C[t + 1] - Q, and Acc += c_acc Q if c_acc != 0, in one pass."""
    if has_x and c_acc != 0.0:
        for t in range(Q.size):
            q = _site(c_h, c_id, eta, Vv[t], C[t + 1],
                      A[t] + B[t] + Cm[t] + Cp[t] + C[t] + C[t + 2]) - Q[t]
            Q[t] = q
            Acc[t] += c_acc * q
    elif has_x:
        for t in range(Q.size):
            Q[t] = _site(c_h, c_id, eta, Vv[t], C[t + 1],
                         A[t] + B[t] + Cm[t] + Cp[t] + C[t] + C[t + 2]) - Q[t]
    else:
        z = 0j
        for t in range(Q.size):
            Q[t] = _site(c_h, c_id, eta, Vv[t], C[t + 1],
                         z + z + Cm[t] + Cp[t] + C[t] + C[t + 2]) - Q[t]
        if c_acc != 0.0:
            for t in range(Q.size):
                Acc[t] += c_acc * Q[t]


@nb.njit(cache=True, inline="always")
def _end_values(p2, v2, eta, c_h, c_id, r, xr, pr, has_x, left, right):
    """Sites 0 and n - 1 of interior row r: c_h (Delta + eta V) psi + c_id psi, with the x
    neighbours in rows xr, pr of p2 (or zeros) and the last-axis wrap values left, right."""
    n = p2.shape[1]
    k = n - 1
    if has_x:
        a = _site(c_h, c_id, eta, v2[r, 0], p2[r, 0],
                  p2[xr, 0] + p2[pr, 0] + p2[r - 1, 0] + p2[r + 1, 0] + left + p2[r, 1])
        b = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                  p2[xr, k] + p2[pr, k] + p2[r - 1, k] + p2[r + 1, k] + p2[r, k - 1] + right)
    else:
        z = 0j
        a = _site(c_h, c_id, eta, v2[r, 0], p2[r, 0],
                  z + z + p2[r - 1, 0] + p2[r + 1, 0] + left + p2[r, 1])
        b = _site(c_h, c_id, eta, v2[r, k], p2[r, k],
                  z + z + p2[r - 1, k] + p2[r + 1, k] + p2[r, k - 1] + right)
    return a, b


@nb.njit(cache=True, inline="always")
def _interior(i, ja, jb, n0, n1, phases):
    """The rows [lo, hi) of the segment [ja, jb) of plane i that a long loop covers."""
    lo = max(ja, 1)
    hi = max(lo, min(jb, n1 - 1))
    if n0 > 1 and phases[0, 0] != 1.0 and (i == 0 or i == n0 - 1):
        hi = lo        # a plane across a twisted wrap: row by row, with phased neighbours
    return lo, hi


@nb.njit(cache=True, inline="always")
def _x_planes(i, n0):
    return (i - 1 if i > 0 else n0 - 1), (i + 1 if i < n0 - 1 else 0)


@nb.njit(cache=True, inline="always")
def _chunk_rows(psi, chunk, nchunks):
    """The rows [first, last) of a field that thread chunk ``chunk`` of ``nchunks`` sweeps."""
    rows = psi.shape[0] * psi.shape[1]
    return chunk * rows // nchunks, (chunk + 1) * rows // nchunks


@nb.njit(cache=True, inline="always")
def _apply_rows(psi, V, eta, c_h, c_id, out, phases, chunk, nchunks):
    n0, n1, n = psi.shape
    rows = n0 * n1
    p2, v2, o2 = psi.reshape(rows, n), V.reshape(rows, n), out.reshape(rows, n)
    p, v, o = psi.reshape(psi.size), V.reshape(V.size), out.reshape(out.size)
    has_x = n0 > 1
    scratch = np.zeros((_SCRATCH_ROWS, n), dtype=psi.dtype)
    first, last = _chunk_rows(psi, chunk, nchunks)
    r = first
    while r < last:
        i = r // n1
        ja = r - i * n1
        jb = min(n1, ja + last - r)
        lo, hi = _interior(i, ja, jb, n0, n1, phases)
        for j in range(ja, lo):
            xa, xm, xb, xp, ya, ym, yb, yp = neighbour_rows(p2, 0, scratch, i, j, n0, n1, phases)
            left, right = wrap_values(p2, i * n1 + j, phases)
            _apply_row(p2, v2, eta, c_h, c_id, o2, i * n1 + j, xa, xm, xb, xp, ya, ym, yb, yp,
                       left, right)
        if hi > lo:
            im, ip = _x_planes(i, n0)
            q0, m = (i * n1 + lo) * n, (hi - lo) * n
            xq, pq = (im * n1 + lo) * n, (ip * n1 + lo) * n
            _long_apply(p[xq:xq + m], p[pq:pq + m], has_x, p[q0 - n:q0 - n + m],
                        p[q0 + n:q0 + n + m], p[q0 - 1:q0 + m + 1], v[q0:q0 + m], o[q0:q0 + m],
                        eta, c_h, c_id)
            for j in range(lo, hi):
                rr = i * n1 + j
                left, right = wrap_values(p2, rr, phases)
                o2[rr, 0], o2[rr, n - 1] = _end_values(p2, v2, eta, c_h, c_id, rr, im * n1 + j,
                                                       ip * n1 + j, has_x, left, right)
        for j in range(hi, jb):
            xa, xm, xb, xp, ya, ym, yb, yp = neighbour_rows(p2, 0, scratch, i, j, n0, n1, phases)
            left, right = wrap_values(p2, i * n1 + j, phases)
            _apply_row(p2, v2, eta, c_h, c_id, o2, i * n1 + j, xa, xm, xb, xp, ya, ym, yb, yp,
                       left, right)
        r += jb - ja


@nb.njit(cache=True, inline="always")
def _row_workspace(psi):
    """A thread's work space for ``_chebyshev_rows``: the scratch rows (row 0 stays zero)
    and, for each row of a plane, prev and acc at its two ends, kept before the long loop
    overwrites them."""
    scratch = np.zeros((_SCRATCH_ROWS, psi.shape[2]), dtype=psi.dtype)
    ends = np.empty((psi.shape[1], 4), dtype=psi.dtype)
    return scratch, ends


@nb.njit(cache=True, inline="always")
def _chebyshev_rows(psi, V, eta, c_h, c_id, prev, acc, c_acc, phases, first, last, scratch,
                    ends):
    """The Chebyshev step on the rows [first, last) of the field. ``scratch`` and ``ends``
    are a thread's work space (``_row_workspace``)."""
    n0, n1, n = psi.shape
    rows = n0 * n1
    p2, v2 = psi.reshape(rows, n), V.reshape(rows, n)
    q2, a2 = prev.reshape(rows, n), acc.reshape(rows, n)
    p, v = psi.reshape(psi.size), V.reshape(V.size)
    q, a = prev.reshape(prev.size), acc.reshape(acc.size)
    has_x = n0 > 1
    r = first
    while r < last:
        i = r // n1
        ja = r - i * n1
        jb = min(n1, ja + last - r)
        lo, hi = _interior(i, ja, jb, n0, n1, phases)
        for j in range(ja, lo):
            xa, xm, xb, xp, ya, ym, yb, yp = neighbour_rows(p2, 0, scratch, i, j, n0, n1, phases)
            left, right = wrap_values(p2, i * n1 + j, phases)
            _chebyshev_row(p2, v2, eta, c_h, c_id, q2, a2, c_acc, i * n1 + j, xa, xm, xb, xp,
                           ya, ym, yb, yp, left, right)
        if hi > lo:
            im, ip = _x_planes(i, n0)
            for j in range(lo, hi):
                rr = i * n1 + j
                ends[j, 0], ends[j, 1] = q2[rr, 0], q2[rr, n - 1]
                ends[j, 2], ends[j, 3] = a2[rr, 0], a2[rr, n - 1]
            q0, m = (i * n1 + lo) * n, (hi - lo) * n
            xq, pq = (im * n1 + lo) * n, (ip * n1 + lo) * n
            _long_chebyshev(p[xq:xq + m], p[pq:pq + m], has_x, p[q0 - n:q0 - n + m],
                            p[q0 + n:q0 + n + m], p[q0 - 1:q0 + m + 1], v[q0:q0 + m],
                            q[q0:q0 + m], a[q0:q0 + m], eta, c_h, c_id, c_acc)
            for j in range(lo, hi):
                rr = i * n1 + j
                left, right = wrap_values(p2, rr, phases)
                e0, e1 = _end_values(p2, v2, eta, c_h, c_id, rr, im * n1 + j, ip * n1 + j, has_x,
                                     left, right)
                q2[rr, 0] = e0 - ends[j, 0]
                q2[rr, n - 1] = e1 - ends[j, 1]
                if c_acc != 0.0:
                    a2[rr, 0] = ends[j, 2] + c_acc * q2[rr, 0]
                    a2[rr, n - 1] = ends[j, 3] + c_acc * q2[rr, n - 1]
        for j in range(hi, jb):
            xa, xm, xb, xp, ya, ym, yb, yp = neighbour_rows(p2, 0, scratch, i, j, n0, n1, phases)
            left, right = wrap_values(p2, i * n1 + j, phases)
            _chebyshev_row(p2, v2, eta, c_h, c_id, q2, a2, c_acc, i * n1 + j, xa, xm, xb, xp,
                           ya, ym, yb, yp, left, right)
        r += jb - ja


def num_chunks(rows):
    """One contiguous chunk of rows per Numba thread (read here, in Python: inside a
    jitted function ``numba.get_num_threads`` would prevent caching)."""
    return max(1, min(nb.get_num_threads(), rows))


@nb.njit(cache=True, parallel=True)
def _stencil_apply_threads(psi, V, eta, c_h, c_id, out, phases, nchunks):
    for chunk in nb.prange(nchunks):
        _apply_rows(psi, V, eta, c_h, c_id, out, phases, chunk, nchunks)


@nb.njit(cache=True)
def _stencil_apply_serial(psi, V, eta, c_h, c_id, out, phases):
    _apply_rows(psi, V, eta, c_h, c_id, out, phases, 0, 1)


def stencil_apply(psi, V, eta, c_h, c_id, out, phases):
    """out = c_h (Delta + eta V) psi + c_id psi.  (``out`` must not alias ``psi``.)"""
    if psi.size >= PARALLEL_MIN_SITES:
        _stencil_apply_threads(psi, V, eta, c_h, c_id, out, phases,
                               num_chunks(psi.shape[0] * psi.shape[1]))
    else:
        _stencil_apply_serial(psi, V, eta, c_h, c_id, out, phases)


@nb.njit(cache=True, inline="always")
def _finite_range(x, first, last):
    """Whether x[first:last] is finite: x - x is 0 for a finite x and NaN otherwise (inf - inf,
    NaN - NaN), and NaN == 0 is false. An and-reduction of booleans: branch-free and
    associative, so it vectorises without fast-math; x - x cannot overflow."""
    y = x[first:last]      # a view indexed from 0: no negative-index wraparound in the loop
    ok = True
    for k in range(y.size):
        ok &= (y[k] - y[k]) == 0.0
    return ok


@nb.njit(cache=True, parallel=True)
def _all_finite_threads(x, nchunks):
    ok = np.zeros(nchunks, dtype=np.bool_)
    for chunk in nb.prange(nchunks):
        ok[chunk] = _finite_range(x, chunk * x.size // nchunks, (chunk + 1) * x.size // nchunks)
    return ok.all()


@nb.njit(cache=True)
def _all_finite_serial(x):
    return _finite_range(x, 0, x.size)


def all_finite(a):
    """Whether a contiguous float or complex array holds only finite numbers (one pass,
    no temporary array)."""
    x = a.reshape(-1).view(np.float64) if np.iscomplexobj(a) else a.reshape(-1)
    if x.size >= 2 * PARALLEL_MIN_SITES:
        return bool(_all_finite_threads(x, num_chunks(x.size)))
    return bool(_all_finite_serial(x))


@nb.njit(cache=True, inline="always")
def _block_vdot(a, b, blk, block):
    n0, n1, n2 = a.shape
    s = 0.0 + 0.0j
    for row in range(blk * block, min(n0 * n1, (blk + 1) * block)):
        i, j = row // n1, row % n1
        for k in range(n2):
            s += np.conj(a[i, j, k]) * b[i, j, k]
    return s


@nb.njit(cache=True, parallel=True)
def _block_partials_threads(a, b, block):
    nblocks = (a.shape[0] * a.shape[1] + block - 1) // block
    partial = np.zeros(nblocks, dtype=np.complex128)
    for blk in nb.prange(nblocks):
        partial[blk] = _block_vdot(a, b, blk, block)
    return partial


@nb.njit(cache=True)
def _block_partials_serial(a, b, block):
    nblocks = (a.shape[0] * a.shape[1] + block - 1) // block
    partial = np.zeros(nblocks, dtype=np.complex128)
    for blk in range(nblocks):
        partial[blk] = _block_vdot(a, b, blk, block)
    return partial


def vdot(a, b):
    """<a|b> = sum conj(a) b, summed block by block in a fixed order, so the result
    is bit-for-bit the same for any number of threads (and for both drivers)."""
    drivers = _block_partials_threads if a.size >= PARALLEL_MIN_SITES else _block_partials_serial
    partial = drivers(a, b, _REDUCTION_BLOCK)
    s = 0.0 + 0.0j
    for p in partial:
        s += p
    return complex(s)
