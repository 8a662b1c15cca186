"""The Hartree-Fock terms (6.2) of an average: direct constant, exchange multiplier (section 6).

The Hamiltonian (6.1) is ``H(t) = T + eta V_omega + lambda W(t)`` with the
Hartree-Fock interaction (6.2)::

    W(t) = sum_{x,y} v(x - y) { gbar_t(x, x) a_y^+ a_y  -  gbar_t(x, y) a_x^+ a_y },
    gbar_t(x, y) = E[rho_t(a_y^+ a_x)],

direct and exchange term, built from the *ensemble-averaged* one-particle density
matrix ``gbar_t``. Because the average is translation invariant,
``gbar_t(x, y) = L^{-d} sum_u mu_t(u) exp(2 pi i u.(x - y))`` with the momentum
distribution ``mu_t(p) = E[rho_t(a_p^+ a_p)] / L^d`` (6.10), and the one-particle
operator of ``W`` is

* direct term: ``v_hat(0) n_t`` times the identity (``n_t = int mu_t``, the density),
  which commutes with everything and only adds a global phase
  (:func:`direct_constant`);
* exchange term: the Fourier multiplier ``-kappa_t(p)``,
  ``kappa_t = v_hat * mu_t`` (6.16) (:func:`exchange_multiplier`).

:func:`hartree_fock_matrix` builds the same operator site by site from (6.2), for any
density matrix, as a check. A multiplier commutes with every translation-invariant
density matrix and drops out of the equation for the diagonal ``rho_t(a_p^+ a_p)``:
without disorder the Hartree-Fock terms do nothing to the momentum distribution
("the Hartree-Fock interactions cancel, due to translation invariance",
Theorem 6.1).

Conventions. The book's dispersion is ``e(p) = sum_i 2 cos(2 pi p_i)``; section 6
of the paper writes ``E(p) = sum_i cos(2 pi p_i)``. The sign of the exchange term in
(6.2)/(6.8) gives the renormalized dispersion ``Ebar = e - lambda v_hat * F``
(:func:`renormalized_dispersion`); (6.39) prints ``E + lambda v_hat * F``, the same
with ``lambda -> -lambda``.

The self-consistent dynamics these terms drive is in :mod:`chargetransport.hartree_fock`,
its stationary solutions (6.43) in :mod:`chargetransport.hartree_fock_stationary`.
"""
from __future__ import annotations

import numpy as np
import scipy.fft

from ._validation import check_instance, check_real
from .lattice import Lattice
from .quasi_free_states import as_momentum_distribution
from .shells import _check_grid_field, _reflect

__all__ = ["gaussian_pair_potential", "pair_potential_symbol", "exchange_multiplier",
           "direct_constant", "hartree_fock_matrix", "renormalized_dispersion"]


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------
def _check_potential(v):
    v = _check_grid_field("v", v)
    reflected = _reflect(v)
    scale = max(float(np.abs(v).max()), 1e-300)
    if np.abs(reflected - v).max() > 1e-12 * scale:
        raise ValueError("'v' must be even, v(-x) = v(x) (numpy.fft order), so that the "
                         "Hartree-Fock operator is Hermitian")
    return v


def _check_distribution(name, mu, shape=None):
    """A momentum distribution (0 <= mu <= 1), validated as in :mod:`.quasi_free_states`."""
    arr = _check_grid_field(name, mu)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"'{name}' must have shape {tuple(shape)}, got {arr.shape}")
    try:
        return as_momentum_distribution(Lattice(arr.ndim, arr.shape[0]), arr)
    except ValueError as exc:
        raise ValueError(str(exc).replace("'J'", f"'{name}'")) from None


def _check_same_shape(name, arr, shape):
    if arr.shape != tuple(shape):
        raise ValueError(f"'{name}' must have the shape {tuple(shape)} of 'v', got {arr.shape}")


def _grid_dispersion(field):
    """e(p) on the momentum grid of a field of shape (L,)*d."""
    return Lattice(field.ndim, field.shape[0]).dispersion()


# --------------------------------------------------------------------------------------
# The pair potential and the Hartree-Fock operator
# --------------------------------------------------------------------------------------
def gaussian_pair_potential(lattice, strength=1.0, range_=1.0):
    """A short-range pair potential ``v(x) = strength exp(-|x|^2 / (2 range^2))``.

    Parameters
    ----------
    lattice : Lattice
    strength : float, default 1.0
        ``v(0)``, in units of the hopping amplitude. Only ``lambda * strength``
        enters the dynamics.
    range_ : float, default 1.0
        Range in lattice units, ``0 < range_ <= L / 4``. The potential is cut at
        the minimal image; for ``range_ <= L / 8`` the cut is below ``exp(-8)``
        relative.

    Returns
    -------
    numpy.ndarray, shape ``lattice.shape``
        ``v`` at the minimal-image displacement of each array index (numpy.fft
        order: index ``n`` is ``x = n`` for ``n <= L/2``, ``n - L`` otherwise),
        even and real.

    Notes
    -----
    Its Fourier transform is a sum of shifted Gaussians, real-analytic on the
    torus, so it has every Sobolev regularity the paper asks for
    (``||v_hat||_{H^{3/2 + delta}} < C``, below (6.2)).

    Examples
    --------
    >>> v = gaussian_pair_potential(Lattice(2, 16), strength=1.0, range_=1.0)
    >>> float(v[0, 0]), round(float(v[1, 0]), 4)
    (1.0, 0.6065)
    """
    check_instance("lattice", lattice, Lattice)
    strength = check_real("strength", strength)
    range_ = check_real("range_", range_, minimum=0.0, strict_minimum=True,
                        maximum=lattice.L / 4)
    n = np.arange(lattice.L)
    x = np.where(n <= lattice.L // 2, n, n - lattice.L).astype(np.float64)
    grids = np.meshgrid(*([x] * lattice.d), indexing="ij", sparse=True)
    r2 = sum(g**2 for g in grids)
    v = strength * np.exp(-r2 / (2.0 * range_**2)) * np.ones(lattice.shape)
    if lattice.L % 2 == 0:  # x = L/2 and -L/2 are the same site: keep v even
        v = 0.5 * (v + _reflect(v))
    return v


def pair_potential_symbol(v):
    """The Fourier transform ``v_hat(p) = sum_x v(x) exp(-2 pi i p.x)`` on the momentum grid.

    Parameters
    ----------
    v : numpy.ndarray, shape ``(L,) * d``
        Even, real pair potential in numpy.fft order.

    Returns
    -------
    numpy.ndarray, shape ``(L,) * d``
        Real (``v`` is even).
    """
    v = _check_potential(v)
    return np.real(scipy.fft.fftn(v))


def _exchange(v, mu):
    """kappa = v_hat * mu = L^{-d} sum_u v_hat(p - u) mu(u), by FFT (no validation)."""
    axes = tuple(range(-v.ndim, 0))
    return np.real(scipy.fft.fftn(v * scipy.fft.ifftn(mu, axes=axes), axes=axes))


def exchange_multiplier(v, mu):
    """The exchange symbol ``kappa(p) = (v_hat * mu)(p)`` of (6.16).

    Parameters
    ----------
    v : numpy.ndarray, shape ``(L,) * d``
        Pair potential (see :func:`gaussian_pair_potential`).
    mu : numpy.ndarray, shape ``(L,) * d``
        Momentum distribution on the grid (any real density; the convolution is
        linear).

    Returns
    -------
    numpy.ndarray
        ``kappa(p) = int du v_hat(p - u) mu(u) = L^{-d} sum_u v_hat(p - u) mu(u)``.
        The exchange term of (6.2) acts on one particle as the multiplier
        ``-kappa``.

    Notes
    -----
    Computed as ``fft(v * ifft(mu))``: ``ifft(mu)(x) = gbar(x, 0)`` is the
    translation-invariant density matrix, and ``sum_x v(x) gbar(x, 0)
    exp(-2 pi i p.x)`` is the exchange kernel's symbol; cost ``O(L^d log L)``.
    """
    v = _check_potential(v)
    mu = _check_grid_field("mu", mu)
    _check_same_shape("mu", mu, v.shape)
    return _exchange(v, mu)


def direct_constant(v, mu):
    """The direct (Hartree) term of (6.2) for a translation-invariant average: ``v_hat(0) n``.

    Parameters
    ----------
    v, mu : numpy.ndarray, shape ``(L,) * d``

    Returns
    -------
    float
        ``sum_x v(x) * int mu``; the direct term is this number times the
        particle-number operator, which commutes with ``H(t)`` and with every
        observable that conserves the particle number.
    """
    v = _check_potential(v)
    mu = _check_grid_field("mu", mu)
    _check_same_shape("mu", mu, v.shape)
    return float(v.sum() * mu.mean())


def hartree_fock_matrix(v, gamma):
    """The one-particle Hartree-Fock operator of (6.2), as a dense matrix (small boxes).

    Parameters
    ----------
    v : numpy.ndarray, shape ``(L,) * d``
        Pair potential.
    gamma : numpy.ndarray, shape ``(L^d, L^d)``
        One-particle density matrix ``gamma(x, y) = E[rho(a_y^+ a_x)]``, sites in
        C order of the box array (Hermitian).

    Returns
    -------
    numpy.ndarray of complex128, shape ``(L^d, L^d)``
        ``w(x, y) = delta_{xy} sum_z v(x - z) gamma(z, z) - v(x - y) gamma(x, y)``,
        the coefficient of ``a_x^+ a_y`` in ``W`` (direct minus exchange), built
        site by site from (6.2) without Fourier transforms. For a translation-
        invariant ``gamma`` it equals ``direct_constant - kappa(-i grad)``.
    """
    v = _check_potential(v)
    gamma = np.asarray(gamma)
    N = v.size
    if gamma.shape != (N, N):
        raise ValueError(f"'gamma' must have shape ({N}, {N}) for a box of {v.shape}, "
                         f"got {gamma.shape}")
    if not np.issubdtype(gamma.dtype, np.number) or not np.all(np.isfinite(gamma)):
        raise ValueError("'gamma' must be a finite numeric matrix")
    if N > 4096:
        raise ValueError(f"'gamma' has {N} sites: the dense operator is meant for boxes of at "
                         "most 4096 sites; use exchange_multiplier for larger ones")
    L, d = v.shape[0], v.ndim
    idx = np.indices(v.shape).reshape(d, -1)
    diff = (idx[:, :, None] - idx[:, None, :]) % L
    vxy = v[tuple(diff)]
    w = -vxy * gamma
    w[np.diag_indices(N)] += vxy @ np.real(np.diag(gamma))
    return w.astype(np.complex128)


def renormalized_dispersion(F, v, lam):
    """The renormalized kinetic energy ``Ebar(p) = e(p) - lambda (v_hat * F)(p)`` (6.39).

    Parameters
    ----------
    F : numpy.ndarray, shape ``(L,) * d``
        Momentum distribution. Any real array is accepted: a statistical estimate
        of ``mu_t`` (random-phase vectors) may leave [0, 1] by its noise.
    v : numpy.ndarray, shape ``(L,) * d``
        Pair potential.
    lam : float
        Coupling ``lambda``.

    Returns
    -------
    numpy.ndarray
        ``Ebar`` on the momentum grid; ``e(p) = sum_i 2 cos(2 pi p_i)``.

    Notes
    -----
    Sign: with the exchange term of (6.2) as printed, the one-particle
    dispersion of (6.8) is ``e - lambda kappa``; the paper's (6.39) prints
    ``+ lambda``, which is the same formula for ``-lambda``.
    """
    v = _check_potential(v)
    F = _check_grid_field("F", F)
    _check_same_shape("F", F, v.shape)
    lam = check_real("lam", lam)
    return _grid_dispersion(v) - lam * _exchange(v, F)
