"""The Anderson Hamiltonian ``H = Delta + eta V`` on a periodic box (paper eq. (2.1))."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _kernels
from ._validation import check_field, check_real
from .lattice import Lattice

__all__ = ["AndersonHamiltonian", "as_3d"]


def as_3d(field):
    """View a d-dimensional lattice field as the 3D array the kernels expect."""
    return field.reshape((1,) * (3 - field.ndim) + field.shape)


class AndersonHamiltonian:
    """``H = Delta + eta V`` acting on complex fields of a :class:`Lattice`.

    Parameters
    ----------
    lattice : Lattice
        The periodic box.
    eta : float
        Disorder strength, ``eta >= 0``.
    potential : numpy.ndarray of float64, shape ``lattice.shape``, optional
        The values ``omega_x`` of the random potential (normalised by the
        caller, usually via :func:`random_potential`, to ``E[omega] = 0``,
        ``E[omega^2] = 1``). ``None`` means ``V = 0``, i.e. ``H = Delta``.

    Notes
    -----
    ``(Delta psi)(x) = sum_{|y - x| = 1} psi(y)`` with periodic boundary
    conditions, symbol ``e(k) = sum_i 2 cos(2 pi k_i)``; ``(V psi)(x) =
    omega_x psi(x)``. By Gershgorin the spectrum lies in
    ``[-2d + eta min V, 2d + eta max V]`` (see :meth:`spectral_bounds`).

    Examples
    --------
    >>> import numpy as np
    >>> lat = Lattice(d=1, L=5)
    >>> H = AndersonHamiltonian(lat, eta=0.0)
    >>> psi = np.zeros(5, complex); psi[2] = 1
    >>> H.apply(psi).real
    array([0., 1., 0., 1., 0.])
    """

    def __init__(self, lattice, eta, potential=None):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"'lattice' must be a chargetransport.Lattice, got {type(lattice).__name__}")
        self.lattice = lattice
        self.eta = check_real("eta", eta, minimum=0.0)
        if potential is None:
            potential = np.zeros(lattice.shape)
        else:
            check_field("potential", potential, lattice.shape, dtype=np.float64)
            if not np.all(np.isfinite(potential)):
                raise ValueError("'potential' must contain only finite values (no NaN or inf)")
        # A private copy, writable: Numba dispatches read-only arrays through a slow
        # path (~20 ms per call measured with numba 0.68), so only the public view is
        # read-only.
        self._potential = np.array(potential, dtype=np.float64, order="C", copy=True)
        self._potential_3d = as_3d(self._potential)

    def __repr__(self):
        return f"AndersonHamiltonian({self.lattice!r}, eta={self.eta})"

    @property
    def potential(self):
        """The potential values ``omega_x`` (read-only array of the lattice shape)."""
        view = self._potential.view()
        view.setflags(write=False)
        return view

    def spectral_bounds(self):
        """Rigorous bounds ``(E_min, E_max)`` on the spectrum (Gershgorin).

        Returns
        -------
        tuple of float
            ``(-2d + eta min V, 2d + eta max V)``.
        """
        d = self.lattice.d
        return (-2.0 * d + self.eta * float(self._potential.min()),
                2.0 * d + self.eta * float(self._potential.max()))

    def _check_psi(self, psi, name="psi"):
        check_field(name, psi, self.lattice.shape, dtype=np.complex128)
        if not psi.flags.c_contiguous:
            raise ValueError(f"'{name}' must be C-contiguous (use numpy.ascontiguousarray)")
        return psi

    def apply(self, psi, out=None):
        """Return ``H psi``.

        Parameters
        ----------
        psi : numpy.ndarray of complex128, shape ``lattice.shape``, C-contiguous
        out : numpy.ndarray, optional
            Where to write the result (same shape and dtype, not ``psi``).

        Returns
        -------
        numpy.ndarray of complex128
            ``(Delta + eta V) psi``; a Numba stencil that streams through memory
            once (about 40 bytes per site).
        """
        self._check_psi(psi)
        if out is None:
            out = np.empty_like(psi)
        else:
            self._check_psi(out, "out")
            if np.shares_memory(out, psi):
                raise ValueError("'out' must not overlap 'psi'")
        _kernels.stencil_apply(as_3d(psi), self._potential_3d, self.eta, 1.0, 0.0, as_3d(out))
        return out

    def to_sparse(self):
        """``H`` as a ``scipy.sparse.csr_matrix`` acting on ``psi.ravel()``.

        Meant for cross-checks on small lattices (it is ~17x slower than
        :meth:`apply`). Row-major (C) ordering of the sites.
        """
        L, d = self.lattice.L, self.lattice.d
        shift = sp.diags([np.ones(L - 1), np.ones(L - 1), [1.0], [1.0]],
                         [1, -1, L - 1, -(L - 1)], shape=(L, L), format="csr")
        eye = sp.identity(L, format="csr")
        lap = sp.csr_matrix((L**d, L**d))
        for axis in range(d):
            factors = [shift if a == axis else eye for a in range(d)]
            term = factors[0]
            for f in factors[1:]:
                term = sp.kron(term, f, format="csr")
            lap = lap + term
        return (lap + sp.diags(self.eta * self._potential.ravel())).tocsr().astype(np.complex128)
