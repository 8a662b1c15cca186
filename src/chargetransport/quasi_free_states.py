"""Quasi-free fermion states: momentum distributions, density matrices, Wick's rule (section 5).

A quasi-free (determinantal) state of fermions on the periodic box is fixed by
its *one-particle density matrix* ``gamma``, the operator on ``l^2(Lambda_L)``
with ::

    rho(a^+(f) a(g)) = <g, gamma f>,       0 <= gamma <= 1,

where ``a^+(f) = sum_x f(x) a_x^+`` is linear and ``a(g) = sum_x conj(g(x)) a_x``
antilinear in its argument. A translation-invariant quasi-free state is
diagonal in momentum: ``gamma = F^* diag(J) F`` with ``F`` the unitary discrete
Fourier transform and ``J(p) = rho(a^+(phi_p) a(phi_p))`` the *momentum
distribution* (occupation of the plane wave ``phi_p``), ``0 <= J <= 1`` by the
Pauli principle. In the paper's normalisation ``a_p = L^{d/2} a(phi_p)``
(``{a_p^+, a_q} = L^d delta_{pq}``) this is ``J(p) = L^{-d} rho_0(a_p^+ a_p)``,
eq. (5.32).

Conventions. The book keeps the convention of section 2 throughout:
``e(p) = sum_i 2 cos(2 pi p_i)`` (the symbol of the nearest-neighbour Laplacian
``Delta``) and ``H = Delta + eta V``. Section 5 of the paper writes
``E(p) = sum_j cos(2 pi p_j)`` without the factor 2; here every energy, the
chemical potential ``mu`` and the inverse temperature ``beta`` refer to ``e``.

Boxes. Every function here works on the periodic box and on a twisted one
(``Lattice(d, L, twist=theta)``, momenta ``(m + theta) / L``): the Fourier transforms
act on ``psi / g`` with ``g = lattice.twist_factor()``, as in
:meth:`chargetransport.Lattice.momenta`; on a periodic box they are plain FFTs.

Ordering of the 2r-point functions: with this module's convention ::

    rho(a^+(f_1) ... a^+(f_r) a(g_r) ... a(g_1)) = det[<g_i, gamma f_j>]_{i,j},

(note the reversed order of the annihilators); the paper's order
``a(g_1) ... a(g_r)`` multiplies this by ``(-1)^{r (r - 1) / 2}``.

The evolution of these states in a random medium and the disorder experiments of
section 5 are in :mod:`chargetransport.fermions`; the Boltzmann predictions of their
momentum observables in :mod:`chargetransport.fermi_kinetics`; the exact many-body
evolution on a few sites, against which Wick's rule is checked, is
:class:`chargetransport.fock_space.FockSpace`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

from ._validation import (available_memory_bytes, check_instance, check_real, check_real_array,
                          format_bytes)
from .lattice import Lattice

__all__ = ["fermi_dirac", "as_momentum_distribution", "gibbs_distribution", "fermi_sea",
           "one_particle_density_matrix", "apply_density_matrix", "two_point_matrix",
           "wick_determinant", "momentum_packet"]


# --------------------------------------------------------------------------------------
# Momentum distributions
# --------------------------------------------------------------------------------------
def _check_beta(beta):
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"'beta' must be a real number or numpy.inf, got {type(beta).__name__} "
                        f"{beta!r}")
    beta = float(beta)
    if math.isnan(beta):
        raise ValueError("'beta' must be a number in [0, inf], got nan")
    if beta < 0:
        raise ValueError(f"'beta' must be >= 0 (inverse temperature; inf for the ground "
                         f"state), got {beta}")
    return beta


def fermi_dirac(energy, beta, mu):
    """The Fermi-Dirac distribution ``1 / (1 + exp(beta (E - mu)))``.

    Parameters
    ----------
    energy : float or array_like
        One-particle energies ``E``, in the book's convention
        ``e(p) = sum_i 2 cos(2 pi p_i)`` (twice the paper's ``E(p)`` of (5.8)).
    beta : float
        Inverse temperature, ``0 <= beta <= inf``. ``beta = numpy.inf`` gives the
        filled Fermi sea ``chi[E < mu]``, with the value 1/2 exactly at
        ``E = mu`` (the pointwise limit of the finite-beta formula).
    mu : float
        Chemical potential (finite).

    Returns
    -------
    numpy.ndarray or float
        Occupations in [0, 1], of the shape of ``energy``.

    Raises
    ------
    ValueError
        If ``beta < 0`` or NaN, ``mu`` not finite, or ``energy`` contains NaN/inf.

    Notes
    -----
    Evaluated as ``expit(-beta (E - mu))``, which never overflows.

    Examples
    --------
    >>> fermi_dirac([-1.0, 0.0, 1.0], beta=float("inf"), mu=0.0)
    array([1. , 0.5, 0. ])
    >>> float(fermi_dirac(0.3, beta=2.0, mu=0.3))
    0.5
    """
    beta = _check_beta(beta)
    mu = check_real("mu", mu)
    E = check_real_array("energy", energy)
    if math.isinf(beta):
        out = np.where(E < mu, 1.0, np.where(E > mu, 0.0, 0.5))
    else:
        out = special.expit(-beta * (E - mu))
    return float(out) if np.ndim(energy) == 0 else out


def as_momentum_distribution(lattice, J):
    """Validate a momentum distribution ``J`` on the momentum grid of ``lattice``.

    Parameters
    ----------
    lattice : Lattice
    J : array_like, shape ``lattice.shape``
        Occupation of the plane wave of grid momentum ``p = m / L`` (numpy.fft
        order, as :meth:`Lattice.momenta`); must satisfy ``0 <= J <= 1``
        (Pauli principle, eq. (5.18)).

    Returns
    -------
    numpy.ndarray of float64
        A copy of ``J``.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, or values outside [0, 1].
    TypeError
        Not a lattice, or a non-real array.
    """
    check_instance("lattice", lattice, Lattice)
    arr = check_real_array("J", J)
    if arr.shape != lattice.shape:
        raise ValueError(f"'J' must have the lattice shape {lattice.shape} (one occupation per "
                         f"grid momentum), got {arr.shape}")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"'J' must satisfy 0 <= J <= 1 (Pauli principle), got values in "
                         f"[{arr.min():.6g}, {arr.max():.6g}]")
    return np.array(arr, dtype=np.float64, copy=True)


def gibbs_distribution(lattice, beta, mu):
    """Momentum distribution of the free Gibbs state (5.43): ``fermi_dirac(e(p), beta, mu)``.

    ``beta = numpy.inf`` gives the filled Fermi sea ``chi[e(p) < mu]`` (1/2 on
    grid momenta with ``e(p) = mu`` exactly).
    """
    check_instance("lattice", lattice, Lattice)
    return fermi_dirac(lattice.dispersion(), beta, mu)


def fermi_sea(lattice, mu, shift=None, beta=np.inf, anisotropy=None):
    """A (possibly displaced or deformed) Fermi sea ``fermi_dirac(e_s(p), beta, mu)``.

    Parameters
    ----------
    lattice : Lattice
    mu : float
        Fermi energy (book convention ``e = sum 2 cos``).
    shift : sequence of d floats, optional
        Displacement ``s`` of the sea in momentum: ``e_s(p) = e(p - s)``. A
        displaced sea carries a current; it is not a function of ``e(p)``.
    beta : float, default inf
    anisotropy : sequence of d positive floats, optional
        Weights ``w_i``: ``e_s(p) = sum_i w_i 2 cos(2 pi (p_i - s_i))``.

    Returns
    -------
    numpy.ndarray, shape ``lattice.shape``
    """
    check_instance("lattice", lattice, Lattice)
    s = np.zeros(lattice.d) if shift is None else check_real_array("shift", shift, ndim=1)
    w = np.ones(lattice.d) if anisotropy is None else check_real_array("anisotropy", anisotropy,
                                                                      ndim=1)
    if s.shape != (lattice.d,) or w.shape != (lattice.d,):
        raise ValueError(f"'shift' and 'anisotropy' must have {lattice.d} components")
    if np.any(w <= 0):
        raise ValueError("'anisotropy' weights must be > 0")
    k = lattice.momenta(sparse=True)
    e = sum(wi * 2.0 * np.cos(2.0 * np.pi * (ki - si)) for wi, ki, si in zip(w, k, s))
    return fermi_dirac(e * np.ones(lattice.shape), beta, mu)


# --------------------------------------------------------------------------------------
# One-particle density matrix and quasi-free correlations
# --------------------------------------------------------------------------------------
def _axes(lattice):
    return tuple(range(-lattice.d, 0))


def _to_momentum(lattice, psi):
    """Unnormalised ``fftn`` over the lattice axes, on the box's momentum grid.

    On a twisted box the FFT acts on the periodic field ``psi / g``
    (``g = lattice.twist_factor()``, see :meth:`Lattice.momenta`); on a periodic box
    it is ``numpy.fft.fftn`` itself, bit for bit.
    """
    if lattice.is_twisted:
        psi = psi * np.conj(lattice.twist_factor())
    return np.fft.fftn(psi, axes=_axes(lattice))


def _from_momentum(lattice, coefficients):
    """Inverse of :func:`_to_momentum`."""
    out = np.fft.ifftn(coefficients, axes=_axes(lattice))
    if lattice.is_twisted:
        out *= lattice.twist_factor()
    return out


def apply_density_matrix(lattice, J, psi):
    """``gamma psi`` for ``gamma = F^* diag(J) F``, by FFT (any lattice size).

    Parameters
    ----------
    lattice : Lattice
    J : array_like, shape ``lattice.shape``
        Momentum distribution (validated).
    psi : array_like, shape ``(..., *lattice.shape)``
        One or a batch of wave functions (last ``d`` axes are the lattice).

    Returns
    -------
    numpy.ndarray of complex128
    """
    J = as_momentum_distribution(lattice, J)
    psi = np.asarray(psi)
    if psi.shape[psi.ndim - lattice.d:] != lattice.shape:
        raise ValueError(f"'psi' must end with the lattice shape {lattice.shape}, got {psi.shape}")
    return _from_momentum(lattice, J * _to_momentum(lattice, psi))


def one_particle_density_matrix(lattice, J):
    """Dense one-particle density matrix ``gamma = F^* diag(J) F`` (small lattices only).

    Parameters
    ----------
    lattice : Lattice
    J : array_like, shape ``lattice.shape``
        Momentum distribution, ``0 <= J <= 1``.

    Returns
    -------
    numpy.ndarray of complex128, shape ``(L^d, L^d)``
        ``gamma[x, y] = L^{-d} sum_p J(p) exp(2 pi i p.(x - y))``, sites in
        row-major (C) order of ``lattice.shape`` (the order of ``psi.ravel()``
        and of :meth:`AndersonHamiltonian.to_sparse`). Hermitian, spectrum
        ``{J(p)}``, and ``<g, gamma f> = rho(a^+(f) a(g))``.

    Raises
    ------
    ValueError
        If ``J`` is invalid, or if the ``L^d x L^d`` matrix (with the
        temporaries of its construction, ``3 * 16 L^{2d}`` bytes) would not fit
        in the available memory. Use :func:`apply_density_matrix` instead.

    Examples
    --------
    >>> import numpy as np
    >>> from chargetransport import Lattice
    >>> lat = Lattice(1, 4)
    >>> g = one_particle_density_matrix(lat, np.full(4, 0.25))
    >>> np.allclose(g, 0.25 * np.eye(4))
    True
    """
    J = as_momentum_distribution(lattice, J)
    N = lattice.num_sites
    needed = 3 * 16 * N * N
    available = available_memory_bytes()
    if needed > available:
        raise ValueError(f"a dense density matrix of {lattice} needs about {format_bytes(needed)} "
                         f"but {format_bytes(available)} is available; use "
                         "apply_density_matrix (FFT) for large lattices")
    cols = np.eye(N, dtype=np.complex128).reshape((N,) + lattice.shape)
    G = _from_momentum(lattice, J * _to_momentum(lattice, cols)).reshape(N, N)
    # G[m] = gamma e_m is column m of gamma
    return np.ascontiguousarray(G.T)


def _stack(lattice, fs, name):
    arr = np.asarray(fs)
    if arr.shape == lattice.shape:
        arr = arr[None]
    if arr.ndim != lattice.d + 1 or arr.shape[1:] != lattice.shape:
        raise ValueError(f"'{name}' must be a field of shape {lattice.shape} or a stack of them, "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"'{name}' must contain only finite numbers")
    return arr.astype(np.complex128, copy=False)


def two_point_matrix(lattice, J, f, g):
    """The matrix ``M_ij = <g_i, gamma f_j> = rho(a^+(f_j) a(g_i))`` of a translation-invariant state.

    Parameters
    ----------
    lattice : Lattice
    J : array_like, shape ``lattice.shape``
    f, g : array_like, shape ``(r, *lattice.shape)`` (or one field)
        Test functions in position space.

    Returns
    -------
    numpy.ndarray of complex128, shape ``(r_g, r_f)``
    """
    J = as_momentum_distribution(lattice, J)
    f = _stack(lattice, f, "f")
    g = _stack(lattice, g, "g")
    F = _to_momentum(lattice, f).reshape(len(f), -1)
    G = _to_momentum(lattice, g).reshape(len(g), -1)
    return (G.conj() * J.ravel()) @ F.T / lattice.num_sites


def wick_determinant(two_point):
    """The 2r-point function of a quasi-free state from its two-point matrix.

    Parameters
    ----------
    two_point : array_like, shape ``(..., r, r)``
        ``M_ij = <g_i, gamma f_j> = rho(a^+(f_j) a(g_i))``.

    Returns
    -------
    complex or numpy.ndarray
        ``rho(a^+(f_1) ... a^+(f_r) a(g_r) ... a(g_1)) = det M`` (Wick's rule for a
        quasi-free state). For the paper's order ``a(g_1) ... a(g_r)`` of (5.46)
        multiply by ``(-1)^{r (r - 1) / 2}``.
    """
    M = np.asarray(two_point, dtype=np.complex128)
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"'two_point' must be a square matrix (or a stack), got shape {M.shape}")
    return np.linalg.det(M)


# --------------------------------------------------------------------------------------
# Test functions localised in momentum
# --------------------------------------------------------------------------------------
def momentum_packet(lattice, center, width):
    """A normalised wave packet whose Fourier transform is a periodic Gaussian bump.

    ``f_hat(p) ∝ prod_i exp(-dist(p_i, k_i)^2 / (4 w^2))`` on the grid (so
    ``|f_hat|^2`` has standard deviation ``w`` per axis), centred at the origin of
    the box in position (spatial width about ``1 / (4 pi w)`` per axis). These are
    the Schwartz test functions of Theorems 5.1 and 5.2: smooth in momentum,
    localised in space.

    Parameters
    ----------
    lattice : Lattice
    center : sequence of d floats
        Momentum ``k`` (torus coordinates).
    width : float
        ``w > 0``.

    Returns
    -------
    numpy.ndarray of complex128, shape ``lattice.shape``, unit l2 norm.
    """
    check_instance("lattice", lattice, Lattice)
    k0 = check_real_array("center", center, ndim=1)
    if k0.shape != (lattice.d,):
        raise ValueError(f"'center' must have {lattice.d} components, got {k0.shape}")
    w = check_real("width", width, minimum=0.0, strict_minimum=True)
    amp = 1.0
    for ki, ci in zip(lattice.momenta(sparse=True), k0):
        dist = (ki - ci + 0.5) % 1.0 - 0.5
        amp = amp * np.exp(-dist**2 / (4.0 * w**2))
    amp = np.broadcast_to(amp, lattice.shape)
    # centre at the middle site: phase exp(-2 pi i p.x0) with x0 = L // 2
    x0 = lattice.origin_index
    phase = np.exp(-2j * np.pi * sum(ki * x0 for ki in lattice.momenta(sparse=True)))
    psi = _from_momentum(lattice, amp * phase)
    return (psi / np.linalg.norm(psi)).astype(np.complex128)
