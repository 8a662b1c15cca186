"""The periodic box of Z^d, its momentum grid and the dispersion relation.

Conventions (used throughout the package)
-----------------------------------------
* Sites of the box are indexed ``n = 0, ..., L-1`` per axis; the physical
  coordinate is ``x = n - L // 2``, so the origin sits in the middle of the
  box (the paper's box is [-L, L]^d; only the labelling differs).
* Momenta live on the torus [0, 1)^d; the box's grid is ``k = (m + theta) / L``
  with the twist ``theta`` of the boundary condition (0 for a periodic box).
* Fourier transform (paper eq. (2.3)): ``psi_hat(k) = sum_x exp(-2 pi i k.x) psi(x)``;
  ``int dk`` on the box means ``L^{-d} sum_k`` (eq. (2.5)).
* Laplacian ``(Delta psi)(x) = sum_{|y-x|=1} psi(y)`` with symbol
  ``e(k) = sum_i 2 cos(2 pi k_i)``, so the spectrum of Delta is [-2d, 2d].
"""
from __future__ import annotations

import numpy as np

from ._validation import (available_memory_bytes, check_int, check_real_array,
                          format_bytes)

__all__ = ["Lattice", "dispersion", "dispersion_gradient"]

#: Complex fields that a propagation keeps alive at once (three Chebyshev
#: vectors, the result and the input); the memory check budgets for them.
_FIELDS_IN_FLIGHT = 5


def dispersion(k):
    """The kinetic energy ``e(k) = sum_i 2 cos(2 pi k_i)`` of the lattice Laplacian.

    Parameters
    ----------
    k : array_like, shape (..., d)
        Momenta on the torus [0, 1)^d (any real values; e is 1-periodic).

    Returns
    -------
    numpy.ndarray, shape (...)
        ``e(k)`` in units of the hopping amplitude; values in [-2d, 2d].

    Examples
    --------
    >>> float(dispersion([0.0, 0.0, 0.0]))
    6.0
    """
    k = check_real_array("k", k)
    if k.ndim == 0:
        raise ValueError("'k' must have a last axis of length d (1, 2 or 3)")
    return (2.0 * np.cos(2.0 * np.pi * k)).sum(axis=-1)


def dispersion_gradient(k):
    """The gradient ``grad e(k) = (-4 pi sin(2 pi k_i))_i`` of the dispersion.

    Parameters
    ----------
    k : array_like, shape (..., d)

    Returns
    -------
    numpy.ndarray, shape (..., d)
        Note the factor 2 pi: the group velocity of a wave packet in lattice
        units per unit time is ``grad e / (2 pi)``, and the transport term of
        the Boltzmann equation (2.11) is ``2 pi grad e . grad_X`` in the
        paper's normalisation of the Wigner transform.

    Examples
    --------
    >>> (dispersion_gradient([0.25, 0.0]) / (4 * np.pi)).tolist()
    [-1.0, -0.0]
    """
    k = check_real_array("k", k)
    if k.ndim == 0:
        raise ValueError("'k' must have a last axis of length d (1, 2 or 3)")
    return -4.0 * np.pi * np.sin(2.0 * np.pi * k)


def _check_twist(twist, d):
    """The twist as a tuple of d floats in [0, 1)."""
    if twist is None:
        return (0.0,) * d
    theta = check_real_array("twist", twist)
    if theta.ndim == 0:
        theta = np.full(d, float(theta))
    if theta.shape != (d,):
        raise ValueError(f"'twist' must have d = {d} components (one per axis), "
                         f"got shape {theta.shape}")
    if np.any(theta < 0.0) or np.any(theta >= 1.0):
        raise ValueError(f"'twist' must lie in [0, 1) on every axis, got {tuple(theta.tolist())}")
    return tuple(float(t) + 0.0 for t in theta)   # + 0.0 turns -0.0 into 0.0


class Lattice:
    """A box of side ``L`` in ``Z^d`` with periodic or twisted boundary conditions.

    Parameters
    ----------
    d : int
        Dimension, 1, 2 or 3.
    L : int
        Side of the box, ``L >= 3`` (with ``L < 3`` the two neighbours of a
        site along an axis coincide and the Laplacian is not the one of Z^d).
    twist : float or sequence of d floats, optional
        ``theta`` in ``[0, 1)^d`` (a number applies to every axis): fields obey
        ``psi(x + L e_i) = exp(2 pi i theta_i) psi(x)``. ``None`` (default) or
        zeros is the periodic box.

    Raises
    ------
    ValueError
        If ``d``, ``L`` or ``twist`` is out of range, or if the complex fields a
        propagation needs (about five of ``16 L^d`` bytes) would not fit in the
        memory available on this machine.

    Notes
    -----
    The box is a discretisation of both position and momentum space: the
    momentum grid ``k = (m + theta) / L`` resolves energy shells of width about
    ``|grad e| / L``; kinetic experiments need the decay width
    ``2 pi rho eta^2`` to hold many such states (``L^d rho Gamma >> 1``).

    The twist is a property of the box, not of a Hamiltonian: everything built
    on a ``Lattice`` (the :class:`AndersonHamiltonian` and its propagation, the
    momentum grid, free flows, momentum distributions, plane waves) reads it
    from here, so the pieces of a computation cannot disagree about it.
    Averaging over twists samples momenta between the points of the periodic
    grid (twist averaging); ``theta = 1/2`` is the antiperiodic box.

    Examples
    --------
    >>> lat = Lattice(d=2, L=8)
    >>> lat.shape, lat.num_sites
    ((8, 8), 64)
    >>> float(lat.dispersion().max())
    4.0
    >>> Lattice(d=1, L=4, twist=0.5).momenta()[0].tolist()
    [0.125, 0.375, 0.625, 0.875]
    """

    def __init__(self, d, L, twist=None):
        self.d = check_int("d", d, minimum=1, maximum=3)
        self.L = check_int("L", L, minimum=3)
        self.twist = _check_twist(twist, self.d)
        needed = _FIELDS_IN_FLIGHT * 16 * self.L**self.d
        available = available_memory_bytes()
        if needed > available:
            largest = int((available / (_FIELDS_IN_FLIGHT * 16)) ** (1.0 / self.d))
            raise ValueError(
                f"'L' = {self.L} in d = {self.d} is too large for this machine: a propagation "
                f"needs about {format_bytes(needed)} ({_FIELDS_IN_FLIGHT} complex fields of "
                f"{self.L}^{self.d} sites) but {format_bytes(available)} is available; "
                f"choose L <= {largest}")

    def __repr__(self):
        if not self.is_twisted:
            return f"Lattice(d={self.d}, L={self.L})"
        return f"Lattice(d={self.d}, L={self.L}, twist={self.twist!r})"

    def __eq__(self, other):
        return isinstance(other, Lattice) and \
            (self.d, self.L, self.twist) == (other.d, other.L, other.twist)

    def __hash__(self):
        return hash((self.d, self.L, self.twist))

    @property
    def is_twisted(self):
        """Whether any component of the twist is non-zero."""
        return any(t != 0.0 for t in self.twist)

    @property
    def shape(self):
        """Array shape of a field on the lattice, ``(L,) * d``."""
        return (self.L,) * self.d

    @property
    def num_sites(self):
        """Number of sites ``L^d``."""
        return self.L**self.d

    @property
    def origin_index(self):
        """Array index of the site x = 0 along every axis, ``L // 2``."""
        return self.L // 2

    def coordinates(self, sparse=True):
        """Centred site coordinates ``x_i = n_i - L // 2``.

        Parameters
        ----------
        sparse : bool, default True
            Return an open mesh (broadcastable arrays, cheap) or full arrays.

        Returns
        -------
        tuple of d numpy.ndarray of float64
        """
        x = np.arange(self.L, dtype=np.float64) - self.origin_index
        return tuple(np.meshgrid(*([x] * self.d), indexing="ij", sparse=sparse))

    def momenta(self, sparse=True):
        """The momentum grid ``k_i = (m_i + theta_i) / L`` in [0, 1), as a (sparse) mesh.

        Its order (``m_i = 0, ..., L - 1``) matches ``numpy.fft.fftn`` of a field
        on the lattice (of ``psi * conj(twist_factor())`` on a twisted box).
        """
        m = np.arange(self.L, dtype=np.float64)
        ks = [(m + theta) / self.L for theta in self.twist]
        return tuple(np.meshgrid(*ks, indexing="ij", sparse=sparse))

    def twist_factor(self):
        """The gauge factor ``g(x) = exp(2 pi i theta.x / L)`` on the sites (centred ``x``).

        ``psi = g phi`` turns a periodic field ``phi`` into one that obeys the
        twisted boundary condition, and ``H`` of the twisted box into a
        periodic operator whose hoppings carry the phases ``exp(+-2 pi i
        theta_i / L)``; the FFT of ``phi`` is the Fourier transform of ``psi`` on
        the grid :meth:`momenta`. All ones on a periodic box.

        Returns
        -------
        numpy.ndarray of complex128, shape ``lattice.shape``

        Examples
        --------
        >>> import numpy as np
        >>> g = Lattice(d=1, L=4, twist=0.5).twist_factor()
        >>> np.round(np.angle(g) / (2 * np.pi), 12).tolist()          # theta x / L, x = -2..1
        [-0.25, -0.125, 0.0, 0.125]
        """
        phase = sum(theta * x for theta, x in zip(self.twist, self.coordinates(sparse=True)))
        return np.exp(2j * np.pi * np.broadcast_to(phase, self.shape) / self.L)

    def dispersion(self):
        """``e(k)`` on the momentum grid, an array of the lattice shape: the spectrum of
        the Laplacian of the box (free Hamiltonian), twisted or not."""
        return sum(2.0 * np.cos(2.0 * np.pi * ki) for ki in self.momenta(sparse=True)) \
            * np.ones(self.shape)

    def dispersion_gradient(self):
        """``grad e(k)`` on the momentum grid, shape ``(d, L, ..., L)``."""
        return np.stack([np.broadcast_to(-4.0 * np.pi * np.sin(2.0 * np.pi * ki), self.shape)
                         for ki in self.momenta(sparse=True)])
