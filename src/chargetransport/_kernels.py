"""Numba kernels: small, private, no validation (the public wrappers do that).

Every field is handled as a 3D C-contiguous array; a lattice of dimension d < 3
is viewed with leading axes of length 1 (``(1, 1, L)`` or ``(1, L, L)``). An
axis of length 1 is not a lattice axis and contributes no hopping; the public
``Lattice`` guarantees ``L >= 3`` on the real axes. Loops run in parallel over
the rows (i, j) and stream along the last axis, so that the inner loop is
contiguous and vectorises; every output element is written by exactly one
iteration, so results do not depend on the number of threads.
"""
from __future__ import annotations

import numba as nb
import numpy as np

# Rows of the deterministic reductions: partial sums over fixed blocks of rows,
# added in a fixed order, so a norm is bit-for-bit the same for any thread count.
_REDUCTION_BLOCK = 64


@nb.njit(cache=True, inline="always")
def _neighbours(i, n):
    return (i - 1) % n, (i + 1) % n


@nb.njit(cache=True, parallel=True, fastmath=False)
def stencil_step(psi, V, eta, c_h, c_id, prev, c_prev, out, acc, c_acc):
    """out = c_h (Delta + eta V) psi + c_id psi + c_prev prev;  acc += c_acc out.

    ``out`` may be the same array as ``prev`` (each site reads prev only at
    itself), which is how the Chebyshev recursion runs in place.
    ``acc`` is skipped when ``c_acc == 0``.
    """
    n0, n1, n2 = psi.shape
    w0 = 1.0 if n0 > 1 else 0.0
    w1 = 1.0 if n1 > 1 else 0.0
    use_prev = c_prev != 0.0
    use_acc = c_acc != 0.0
    for row in nb.prange(n0 * n1):
        i = row // n1
        j = row % n1
        im, ip = _neighbours(i, n0)
        jm, jp = _neighbours(j, n1)
        for k in range(n2):
            km = k - 1 if k > 0 else n2 - 1
            kp = k + 1 if k < n2 - 1 else 0
            h = (w0 * (psi[im, j, k] + psi[ip, j, k]) + w1 * (psi[i, jm, k] + psi[i, jp, k])
                 + psi[i, j, km] + psi[i, j, kp] + eta * V[i, j, k] * psi[i, j, k])
            val = c_h * h + c_id * psi[i, j, k]
            if use_prev:
                val += c_prev * prev[i, j, k]
            out[i, j, k] = val
            if use_acc:
                acc[i, j, k] += c_acc * val


@nb.njit(cache=True, parallel=True)
def _block_partials_vdot(a, b, block):
    n0, n1, n2 = a.shape
    rows = n0 * n1
    nblocks = (rows + block - 1) // block
    partial = np.zeros(nblocks, dtype=np.complex128)
    for blk in nb.prange(nblocks):
        s = 0.0 + 0.0j
        for row in range(blk * block, min(rows, (blk + 1) * block)):
            i = row // n1
            j = row % n1
            for k in range(n2):
                s += np.conj(a[i, j, k]) * b[i, j, k]
        partial[blk] = s
    return partial


@nb.njit(cache=True)
def vdot(a, b):
    """<a|b> = sum conj(a) b, summed in a fixed order (thread-count independent)."""
    partial = _block_partials_vdot(a, b, _REDUCTION_BLOCK)
    s = 0.0 + 0.0j
    for p in partial:
        s += p
    return s
