"""The exact fermionic Fock space of a few sites: the reference for the quasi-free reduction.

Section 5 of the lectures reduces the many-body dynamics of the ideal Fermi gas,
``dGamma(h)`` with ``h = Delta + eta V``, to one-particle propagations: a quasi-free
state stays quasi-free (eqs. (5.25)-(5.30)), and its correlation functions are the
determinants of Wick's rule. :mod:`chargetransport.fermions` computes them that way.
This module holds the independent check: the full ``2^N``-dimensional Fock space of
``N`` sites (Jordan-Wigner), with creation and annihilation operators, second
quantization, the quasi-free (Gibbs) states (5.43) and their exact evolution, so that
Wick's rule and the one-particle reduction can be verified on small systems.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._validation import check_int

__all__ = ["FockSpace"]


class FockSpace:
    """The fermionic Fock space of ``num_sites`` modes, ``2^num_sites`` dimensional.

    Jordan-Wigner: basis vector ``|n>``, ``n = sum_x n_x 2^x``, and
    ``a_x |n> = (-1)^{sum_{y < x} n_y} |n - 2^x>`` if ``n_x = 1`` (else 0).
    Operators are ``scipy.sparse`` matrices; states are kept block-diagonal in
    the particle-number sectors (every operator here conserves the number, as
    ``H`` does, eq. (5.10)), so ``num_sites = 12`` costs blocks of at most 924.

    Parameters
    ----------
    num_sites : int
        ``1 <= num_sites <= 14``.
    """

    def __init__(self, num_sites):
        self.num_sites = check_int("num_sites", num_sites, minimum=1, maximum=14)
        self.dim = 2**self.num_sites
        n = np.arange(self.dim)
        bits = (n[:, None] >> np.arange(self.num_sites)) & 1
        self.particle_number = bits.sum(axis=1)
        self._bits = bits
        order = np.argsort(self.particle_number, kind="stable")
        self.sectors = [order[self.particle_number[order] == k] for k in range(self.num_sites + 1)]
        self._a = [self._annihilation(x) for x in range(self.num_sites)]

    def __repr__(self):
        return f"FockSpace(num_sites={self.num_sites})"

    def _annihilation(self, x):
        n = np.arange(self.dim)
        occ = self._bits[:, x] == 1
        sign = (-1.0) ** self._bits[:, :x].sum(axis=1)
        rows = n[occ] - 2**x
        return sp.csr_matrix((sign[occ], (rows, n[occ])), shape=(self.dim, self.dim),
                             dtype=np.complex128)

    def _vector(self, f, name):
        f = np.asarray(f, dtype=np.complex128).ravel()
        if f.shape != (self.num_sites,):
            raise ValueError(f"'{name}' must have {self.num_sites} components, got {f.shape}")
        return f

    def annihilator(self, g):
        """``a(g) = sum_x conj(g_x) a_x`` (antilinear in g)."""
        g = self._vector(g, "g")
        return sum(np.conj(gx) * ax for gx, ax in zip(g, self._a))

    def creator(self, f):
        """``a^+(f) = sum_x f_x a_x^+``."""
        f = self._vector(f, "f")
        return sum(fx * ax.conj().T for fx, ax in zip(f, self._a)).tocsr()

    def second_quantize(self, h):
        """``dGamma(h) = sum_{x,y} h_xy a_x^+ a_y`` of a one-particle matrix ``h``."""
        h = np.asarray(h.toarray() if sp.issparse(h) else h, dtype=np.complex128)
        if h.shape != (self.num_sites, self.num_sites):
            raise ValueError(f"'h' must be {self.num_sites} x {self.num_sites}, got {h.shape}")
        rows, cols, vals = [], [], []
        for x, y in zip(*np.nonzero(h)):
            term = (self._a[x].conj().T @ self._a[y]).tocoo()
            rows.append(term.row)
            cols.append(term.col)
            vals.append(h[x, y] * term.data)
        if not rows:
            return sp.csr_matrix((self.dim, self.dim), dtype=np.complex128)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.dim, self.dim))

    def _blocks(self, A):
        A = sp.csr_matrix(A)
        return [A[s][:, s].toarray() for s in self.sectors]

    def quasi_free_state(self, gamma):
        """The quasi-free state with one-particle density matrix ``gamma`` (``0 < gamma < 1``).

        ``rho = exp(-dGamma(kappa)) / Z`` with ``kappa = log((1 - gamma) / gamma)``
        (so ``rho(a^+(f) a(g)) = <g, gamma f>``; for ``gamma = fermi_dirac(h)``
        this is the Gibbs state (5.43)). Returned as a list of sector blocks.
        """
        gamma = np.asarray(gamma, dtype=np.complex128)
        lam, W = np.linalg.eigh(gamma)
        if lam.min() <= 0 or lam.max() >= 1:
            raise ValueError("'gamma' must have its spectrum strictly inside (0, 1) for a Gibbs "
                             f"form, got [{lam.min():.3g}, {lam.max():.3g}]")
        kappa = (W * np.log((1 - lam) / lam)) @ W.conj().T
        blocks = []
        K = self._blocks(self.second_quantize(kappa))
        for k in K:
            e, V = np.linalg.eigh(k)
            blocks.append((V * np.exp(-(e - 0.0))) @ V.conj().T)
        Z = sum(np.trace(b).real for b in blocks)
        return [b / Z for b in blocks]

    def evolve(self, state, h, t):
        """``rho_t = exp(-i t dGamma(h)) rho exp(i t dGamma(h))`` (Schrodinger picture).

        Then ``rho_t(A) = rho(exp(i t H) A exp(-i t H))``, eq. (5.13).
        """
        out = []
        for blk, hb in zip(state, self._blocks(self.second_quantize(h))):
            e, V = np.linalg.eigh(hb)
            U = (V * np.exp(-1j * t * e)) @ V.conj().T
            out.append(U @ blk @ U.conj().T)
        return out

    def expectation(self, state, A):
        """``Tr(rho A)`` for a number-conserving operator ``A``."""
        return complex(sum(np.sum(blk.T * a) for blk, a in zip(state, self._blocks(A))))
