"""Chebyshev sweeps: several steps of the Chebyshev recursion in one pass over memory.

Temporal blocking. Step s writes T_{n+s+1} over
prev (s even) or psi (s odd). A row of step s needs the rows of step s - 1 next to it
(in the planes on either side in 3D, the rows on either side in 2D), so each step
follows the one before a plane (a row) behind, while those rows are still in cache:
about one pass over memory for all the steps. A 3D plane of more than _STRIP_SITES
sites is swept in strips of rows, so that the planes kept in cache stay small. Each
site is computed by the same row kernels whatever the order, so the result is bit for
bit that of one sweep per step. Edges: step s overwrites the field that step s - 1 of
a neighbouring chunk or strip (or across the periodic wrap) still reads, so in the
first pass step s leaves the s planes (rows) at each end of a chunk and the s rows at
each edge of a strip; pass s + 1 does them, after every chunk has finished the passes
before.

The row kernels (``_kernels._chebyshev_rows``) do the arithmetic; this module only
orders the rows. A single step is a sweep with one coefficient.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._kernels import PARALLEL_MIN_SITES, _chebyshev_rows, _chunk_rows, _row_workspace, num_chunks

_STEPS_MIN_BLOCK_SITES = 4096
_STRIP_SITES = 1 << 14


@nb.njit(cache=True)
def _chebyshev_row_range(psi, V, eta, c_h, c_id, prev, acc, c_acc, phases, first, last, ws):
    # a function of its own (not inlined): the sweeps below call it in many places
    _chebyshev_rows(psi, V, eta, c_h, c_id, prev, acc, c_acc, phases, first, last, ws[0], ws[1])


@nb.njit(cache=True, inline="always")
def _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, first, last, ws):
    """Step s of the sweep on the rows [first, last)."""
    if last <= first:
        return
    if s % 2 == 0:
        _chebyshev_row_range(psi, V, eta, c_h, c_id, prev, acc, coeffs[s], phases, first, last, ws)
    else:
        _chebyshev_row_range(prev, V, eta, c_h, c_id, psi, acc, coeffs[s], phases, first, last, ws)


@nb.njit(cache=True, inline="always")
def _rows_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, first, last, ws):
    """1D and 2D: step 0 on the rows [first, last), step s >= 1 on [first + s, last - s),
    each at least one row behind the step before (step 0 runs blocks of a few thousand
    sites)."""
    block = max(1, _STEPS_MIN_BLOCK_SITES // psi.shape[2])
    nsteps = coeffs.size
    done = np.empty(nsteps, dtype=np.int64)
    for s in range(nsteps):
        done[s] = first + s
    while done[0] < last:
        a = min(last, done[0] + block)
        _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, 0, done[0], a, ws)
        done[0] = a
        for s in range(1, nsteps):
            b = min(last - s, done[s - 1] - 1)
            if b > done[s]:
                _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, done[s], b, ws)
                done[s] = b


@nb.njit(cache=True, inline="always")
def _rows_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, first, last, ws):
    """Step s on the rows of [first, last) that ``_rows_lagged`` left."""
    head = min(first + s, last)
    _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, first, head, ws)
    _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, max(head, last - s), last, ws)


@nb.njit(cache=True, inline="always")
def _strip_width(psi, nsteps):
    """3D: rows per strip of a plane, so that the planes a sweep keeps in cache stay small
    (one strip per plane when the plane is small)."""
    n1, n = psi.shape[1], psi.shape[2]
    if n1 * n <= _STRIP_SITES:
        return n1
    return min(n1, max(2 * nsteps, _STRIP_SITES // n))


@nb.njit(cache=True, inline="always")
def _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i, ja, jb, ws):
    n1 = psi.shape[1]
    _step_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i * n1 + ja, i * n1 + jb, ws)


@nb.njit(cache=True, inline="always")
def _planes_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, p0, p1, ws):
    """3D, planes [p0, p1), strip by strip: step 0 on all rows of the strip, step s >= 1 a
    plane behind step s - 1 on planes [p0 + s, p1 - s) and (when a plane has several
    strips) rows [j0 + s, j1 - s) of the strip [j0, j1)."""
    n1 = psi.shape[1]
    nsteps = coeffs.size
    width = _strip_width(psi, nsteps)
    e = 0 if width == n1 else 1        # strip edges wait for the edge passes
    done = np.empty(nsteps, dtype=np.int64)
    for j0 in range(0, n1, width):
        j1 = min(n1, j0 + width)
        for s in range(nsteps):
            done[s] = p0 + s
        while done[0] < p1:
            _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, 0, done[0], j0, j1, ws)
            done[0] += 1
            for s in range(1, nsteps):
                lim = min(p1 - s, done[s - 1] - 1)
                while done[s] < lim:
                    _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, done[s],
                                j0 + e * s, j1 - e * s, ws)
                    done[s] += 1


@nb.njit(cache=True, inline="always")
def _planes_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, p0, p1, ws):
    """Step s on the rows of planes [p0, p1) that ``_planes_lagged`` left."""
    n1 = psi.shape[1]
    width = _strip_width(psi, coeffs.size)
    head = min(p0 + s, p1)
    tail = max(head, p1 - s)
    for i in range(p0, head):
        _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i, 0, n1, ws)
    if width < n1:
        for i in range(head, tail):
            for j0 in range(0, n1, width):
                j1 = min(n1, j0 + width)
                jh = min(j0 + s, j1)
                _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i, j0, jh, ws)
                _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i,
                            max(jh, j1 - s), j1, ws)
    for i in range(tail, p1):
        _plane_rows(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, i, 0, n1, ws)


@nb.njit(cache=True, inline="always")
def _chunk(psi, chunk, nchunks):
    """A thread chunk's part of the field: planes [first, last) in 3D (chunks of whole
    planes), rows [first, last) in 1D and 2D."""
    if psi.shape[0] > 1:
        n0 = psi.shape[0]
        return chunk * n0 // nchunks, (chunk + 1) * n0 // nchunks
    return _chunk_rows(psi, chunk, nchunks)


@nb.njit(cache=True, inline="always")
def _steps_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, chunk, nchunks):
    ws = _row_workspace(psi)
    first, last = _chunk(psi, chunk, nchunks)
    if psi.shape[0] > 1:
        _planes_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, first, last, ws)
    else:
        _rows_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, first, last, ws)


@nb.njit(cache=True, inline="always")
def _steps_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, chunk, nchunks):
    ws = _row_workspace(psi)
    first, last = _chunk(psi, chunk, nchunks)
    if psi.shape[0] > 1:
        _planes_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, first, last, ws)
    else:
        _rows_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, first, last, ws)


@nb.njit(cache=True, parallel=True)
def _chebyshev_steps_threads(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, nchunks):
    for chunk in nb.prange(nchunks):
        _steps_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, chunk, nchunks)
    for s in range(1, coeffs.size):
        for chunk in nb.prange(nchunks):   # after every chunk has finished the passes before
            _steps_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, chunk, nchunks)


@nb.njit(cache=True)
def _chebyshev_steps_serial(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases):
    _steps_lagged(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, 0, 1)
    for s in range(1, coeffs.size):
        _steps_edges(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases, s, 0, 1)


def chebyshev_steps(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases):
    """``len(coeffs)`` steps of the Chebyshev recursion fused with the accumulation of
    the series, in one sweep: prev <- c_h (Delta + eta V) psi + c_id psi - prev and
    acc += coeffs[0] prev (if coeffs[0] != 0), then the same with psi and prev
    swapped and coeffs[1], and so on. ``coeffs`` is a complex128 array (empty: no step).
    The result does not depend on ``len(coeffs)``: k steps give bit for bit what k
    sweeps of one step give."""
    if coeffs.size == 0:                # no step (the drivers index coeffs[0])
        return
    if psi.size >= PARALLEL_MIN_SITES:
        _chebyshev_steps_threads(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases,
                                 num_chunks(psi.shape[0] * psi.shape[1]))
    else:
        _chebyshev_steps_serial(psi, V, eta, c_h, c_id, prev, acc, coeffs, phases)
