"""Numba kernels: small, private, no validation (the public wrappers do that).

Every field is handled as a 3D C-contiguous array; a lattice of dimension d < 3
is viewed with leading axes of length 1 (``(1, 1, L)`` or ``(1, L, L)``). An
axis of length 1 is not a lattice axis: its neighbour rows are a row of zeros.
The public ``Lattice`` guarantees ``L >= 3`` on the real axes.

Loops run in parallel over rows ``(i, j)``; each row is streamed along the
contiguous last axis through 1D views of its four neighbour rows, so that the
inner loop has no index arithmetic and vectorises (this is what brings the
stencil to the memory-bandwidth limit; see benchmarks/bench_kernels.py). Every
output element is written by exactly one iteration, so results do not depend on
the number of threads.
"""
from __future__ import annotations

import numba as nb
import numpy as np

# Rows per block of the deterministic reductions: partial sums over fixed
# blocks, added in a fixed order, so a norm is the same for any thread count.
_REDUCTION_BLOCK = 64


@nb.njit(cache=True, inline="always")
def _hop(c, xm, xp, ym, yp, v, eta, k, km, kp):
    """(Delta + eta V) psi at site k of a row c, given its neighbour rows."""
    return xm[k] + xp[k] + ym[k] + yp[k] + c[km] + c[kp] + eta * v[k] * c[k]


@nb.njit(cache=True, inline="always")
def _neighbour_rows(psi, i, j, zero):
    n0, n1, _ = psi.shape
    if n0 > 1:
        xm, xp = psi[(i - 1) % n0, j], psi[(i + 1) % n0, j]
    else:
        xm, xp = zero, zero
    if n1 > 1:
        ym, yp = psi[i, (j - 1) % n1], psi[i, (j + 1) % n1]
    else:
        ym, yp = zero, zero
    return xm, xp, ym, yp


@nb.njit(cache=True, inline="always")
def _apply_row(psi, V, eta, c_h, c_id, out, i, j, zero):
    """Row (i, j) of out = c_h (Delta + eta V) psi + c_id psi."""
    n = psi.shape[2]
    xm, xp, ym, yp = _neighbour_rows(psi, i, j, zero)
    c, v, o = psi[i, j], V[i, j], out[i, j]
    o[0] = c_h * _hop(c, xm, xp, ym, yp, v, eta, 0, n - 1, 1) + c_id * c[0]
    for k in range(1, n - 1):
        o[k] = c_h * _hop(c, xm, xp, ym, yp, v, eta, k, k - 1, k + 1) + c_id * c[k]
    o[n - 1] = c_h * _hop(c, xm, xp, ym, yp, v, eta, n - 1, n - 2, 0) + c_id * c[n - 1]


@nb.njit(cache=True, inline="always")
def _chebyshev_row(psi, V, eta, c_h, c_id, prev, acc, c_acc, i, j, zero):
    """Row (i, j) of prev <- c_h (Delta + eta V) psi + c_id psi - prev; acc += c_acc prev.

    In place is safe: each site reads ``prev`` only at itself.
    """
    n = psi.shape[2]
    xm, xp, ym, yp = _neighbour_rows(psi, i, j, zero)
    c, v, p, a = psi[i, j], V[i, j], prev[i, j], acc[i, j]
    p[0] = c_h * _hop(c, xm, xp, ym, yp, v, eta, 0, n - 1, 1) + c_id * c[0] - p[0]
    for k in range(1, n - 1):
        p[k] = c_h * _hop(c, xm, xp, ym, yp, v, eta, k, k - 1, k + 1) + c_id * c[k] - p[k]
    p[n - 1] = c_h * _hop(c, xm, xp, ym, yp, v, eta, n - 1, n - 2, 0) + c_id * c[n - 1] - p[n - 1]
    if c_acc != 0.0:
        for k in range(n):
            a[k] += c_acc * p[k]


# Each sweep has a threaded and a serial driver: for small fields waking the thread
# pool costs more than the sweep itself. Below this many sites the serial one runs.
PARALLEL_MIN_SITES = 1 << 15


@nb.njit(cache=True, parallel=True)
def _stencil_apply_threads(psi, V, eta, c_h, c_id, out):
    n0, n1, n = psi.shape
    zero = np.zeros(n, dtype=psi.dtype)
    for row in nb.prange(n0 * n1):
        _apply_row(psi, V, eta, c_h, c_id, out, row // n1, row % n1, zero)


@nb.njit(cache=True)
def _stencil_apply_serial(psi, V, eta, c_h, c_id, out):
    n0, n1, n = psi.shape
    zero = np.zeros(n, dtype=psi.dtype)
    for row in range(n0 * n1):
        _apply_row(psi, V, eta, c_h, c_id, out, row // n1, row % n1, zero)


@nb.njit(cache=True, parallel=True)
def _chebyshev_step_threads(psi, V, eta, c_h, c_id, prev, acc, c_acc):
    n0, n1, n = psi.shape
    zero = np.zeros(n, dtype=psi.dtype)
    for row in nb.prange(n0 * n1):
        _chebyshev_row(psi, V, eta, c_h, c_id, prev, acc, c_acc, row // n1, row % n1, zero)


@nb.njit(cache=True)
def _chebyshev_step_serial(psi, V, eta, c_h, c_id, prev, acc, c_acc):
    n0, n1, n = psi.shape
    zero = np.zeros(n, dtype=psi.dtype)
    for row in range(n0 * n1):
        _chebyshev_row(psi, V, eta, c_h, c_id, prev, acc, c_acc, row // n1, row % n1, zero)


def stencil_apply(psi, V, eta, c_h, c_id, out):
    """out = c_h (Delta + eta V) psi + c_id psi.  (``out`` must not alias ``psi``.)"""
    if psi.size >= PARALLEL_MIN_SITES:
        _stencil_apply_threads(psi, V, eta, c_h, c_id, out)
    else:
        _stencil_apply_serial(psi, V, eta, c_h, c_id, out)


def chebyshev_step(psi, V, eta, c_h, c_id, prev, acc, c_acc):
    """One Chebyshev recursion step fused with the accumulation of the series:
    prev <- c_h (Delta + eta V) psi + c_id psi - prev;  acc += c_acc prev (if c_acc != 0).
    """
    if psi.size >= PARALLEL_MIN_SITES:
        _chebyshev_step_threads(psi, V, eta, c_h, c_id, prev, acc, c_acc)
    else:
        _chebyshev_step_serial(psi, V, eta, c_h, c_id, prev, acc, c_acc)


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
