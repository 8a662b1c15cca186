"""The ideal Fermi gas in a random medium (paper section 5).

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
:func:`momentum_distribution_realization` can draw a twist per realization (twist
averaging), with the Boltzmann prediction of each observable on the realization's own
grid (:func:`boltzmann_observable`).

Dynamics. The many-body Hamiltonian is the second quantisation ``dGamma(h)`` of
the one-particle Anderson Hamiltonian ``h = Delta + eta V``; the Heisenberg
evolution maps ``a(f) -> a(f_t)`` with ``f_t = exp(i t h) f`` (eqs. (5.25)-(5.29)),
so the evolved state is quasi-free with ::

    gamma_t = U_t gamma U_t^*,     U_t = exp(-i t h),

and every correlation function at time t is a determinant of
``<g_i, gamma_t f_j> = <U_t^* g_i, gamma U_t^* f_j>``: two one-particle
propagations per test function, whatever the number of particles.
The exact many-body evolution on a few sites, against which this reduction and Wick's
rule are checked, is :class:`chargetransport.fock_space.FockSpace`.

Ordering of the 2r-point functions: with this module's convention ::

    rho(a^+(f_1) ... a^+(f_r) a(g_r) ... a(g_1)) = det[<g_i, gamma f_j>]_{i,j},

(note the reversed order of the annihilators); the paper's order
``a(g_1) ... a(g_r)`` multiplies this by ``(-1)^{r (r - 1) / 2}``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import special

from ._validation import (available_memory_bytes, check_bool, check_instance, check_int,
                          check_real, check_real_array, format_bytes)
from .hamiltonian import AndersonHamiltonian
from .lattice import Lattice
from .propagation import trajectory
from .rng import Realization, as_generator, check_seed, realization_seeds

__all__ = ["fermi_dirac", "as_momentum_distribution", "gibbs_distribution", "fermi_sea",
           "one_particle_density_matrix", "apply_density_matrix", "two_point_matrix",
           "wick_determinant", "evolved_two_point_matrix", "evolved_momentum_distribution",
           "MOMENTUM_OBSERVABLES", "boltzmann_observable", "momentum_distribution_realization",
           "two_point_realization", "quasi_free_deviation", "momentum_packet",
           "second_order_kinetic_gain"]


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
# Time evolution (one-particle reduction (5.26)-(5.30))
# --------------------------------------------------------------------------------------
def _check_hamiltonian(H):
    return check_instance("hamiltonian", H, AndersonHamiltonian)


def evolved_two_point_matrix(hamiltonian, J, f, g, times, *, tol=1e-10):
    """``<g_i, gamma_t f_j>`` at several times, for one realization.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
        The one-particle ``h = Delta + eta V``.
    J : array_like, shape ``lattice.shape``
        Momentum distribution of the initial translation-invariant quasi-free state.
    f, g : array_like, shape ``(r, *lattice.shape)`` (or one field)
    times : array_like of float
        Microscopic times t.
    tol : float, default 1e-10
        Propagation accuracy (l2, relative).

    Returns
    -------
    numpy.ndarray of complex128, shape ``(len(times), r_g, r_f)``

    Notes
    -----
    ``rho_t(a^+(f) a(g)) = rho_0(a^+(f_t) a(g_t))`` with ``f_t = exp(i t h) f``
    (eq. (5.30)), i.e. ``<g, gamma_t f> = <g_t, gamma f_t>``: each test function
    is propagated backwards once (``trajectory`` with times ``-t``) and ``gamma``
    is applied by FFT. No many-body object and no dense matrix is formed.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(1, 16)
    >>> H = ct.AndersonHamiltonian(lat, 0.3, ct.random_potential(lat, seed=2))
    >>> J = gibbs_distribution(lat, 2.0, 0.0)
    >>> f = np.zeros(lat.shape, complex); f[8] = 1.0          # a_x at one site
    >>> M = evolved_two_point_matrix(H, J, f, f, [0.0, 3.0])
    >>> bool(np.isclose(M[0, 0, 0].real, J.mean()))           # density rho(a_x^+ a_x)
    True
    """
    H = _check_hamiltonian(hamiltonian)
    lat = H.lattice
    J = as_momentum_distribution(lat, J)
    f = _stack(lat, f, "f")
    g = _stack(lat, g, "g")
    times = check_real_array("times", times, ndim=1)
    ft = np.empty((len(times),) + f.shape, dtype=np.complex128)
    gt = np.empty((len(times),) + g.shape, dtype=np.complex128)
    for src, dst in ((f, ft), (g, gt)):
        for j, psi0 in enumerate(src):
            for i, psi in trajectory(H, np.ascontiguousarray(psi0), -times, tol=tol):
                dst[i, j] = psi
    N = lat.num_sites
    F = _to_momentum(lat, ft).reshape(len(times), len(f), N)
    G = _to_momentum(lat, gt).reshape(len(times), len(g), N)
    return np.einsum("tip,p,tjp->tij", G.conj(), J.ravel(), F) / N


def _unitary_fft(psi, lattice):
    return _to_momentum(lattice, psi) / np.sqrt(lattice.num_sites)


def evolved_momentum_distribution(hamiltonian, J, times, *, method="auto", num_vectors=16,
                                  seed=None, tol=1e-10):
    """``n_t(p) = <phi_p, gamma_t phi_p> = sum_q J(q) |<phi_p, U_t phi_q>|^2`` for one realization.

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
    J : array_like, shape ``lattice.shape``
        Initial momentum distribution.
    times : array_like of float
        Microscopic times.
    method : {"auto", "dense", "plane_waves", "random_phase"}
        * ``"dense"``: diagonalise ``h`` (``L^d <= 4096``); ``n_t = |M_t|^2 J``
          with ``M_t = F U_t F^*``, exact.
        * ``"plane_waves"``: propagate every plane wave ``phi_q`` in the support
          of ``J`` (or of ``1 - J``, whichever is smaller, using
          ``sum_q |<p|U|q>|^2 = 1``) with Chebyshev, exact to ``tol``; cost
          ``min(#supp J, #supp(1 - J))`` propagations.
        * ``"random_phase"``: an unbiased estimate from ``num_vectors``
          random-phase vectors ``xi = sum_q sqrt(w_q) e^{i theta_q} phi_q``
          (``w = J`` or ``1 - J``): ``E_theta |<p|U xi>|^2 = sum_q w_q |<p|U|q>|^2``.
          Cost ``num_vectors`` propagations, independent of the volume.
        * ``"auto"``: dense for ``L^d <= 1024``, else plane waves.
    num_vectors : int, default 16
        Random-phase vectors (``"random_phase"`` only).
    seed : int, SeedSequence or Generator
        Phases of ``"random_phase"`` (required for that method; unused by the others).
    tol : float, default 1e-10

    Returns
    -------
    numpy.ndarray of float64, shape ``(len(times), *lattice.shape)``
        In numpy.fft order of the momenta.

    Notes
    -----
    Since ``gamma`` is diagonal in momentum, ``n_t(p) = sum_q J(q) K_t(p, q)``
    with the transition probabilities ``K_t(p, q) = |<p|U_t|q>|^2`` of single
    plane waves: the averaged momentum distribution ``E[n_t]`` is the average
    of ``K_t`` (the quantity of the plane-wave experiments of the Boltzmann
    chapter, :func:`chargetransport.kinetic_limit.plane_wave_relaxation`)
    weighted by ``J``. Exactness for one realization needs one propagation per
    occupied (or empty) momentum. The disorder average is a Monte Carlo
    estimate anyway; the random-phase estimator adds its own zero-mean noise at
    the cost of one propagation per vector, which is the cheapest unbiased
    route on large boxes (stochastic trace estimation, Weisse et al., Rev. Mod. Phys. 78, 275 (2006)).

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(2, 8)
    >>> H = ct.AndersonHamiltonian(lat, 0.5, ct.random_potential(lat, seed=0))
    >>> J = fermi_sea(lat, -1.0, shift=[0.125, 0.0])
    >>> n = evolved_momentum_distribution(H, J, [0.0, 5.0], method="dense")
    >>> bool(np.allclose(n[0], J)), bool(np.isclose(n[1].sum(), J.sum()))  # N conserved
    (True, True)
    """
    H = _check_hamiltonian(hamiltonian)
    lat = H.lattice
    J = as_momentum_distribution(lat, J)
    times = check_real_array("times", times, ndim=1)
    if method not in ("auto", "dense", "plane_waves", "random_phase"):
        raise ValueError(f"'method' must be 'auto', 'dense', 'plane_waves' or 'random_phase', "
                         f"got {method!r}")
    N = lat.num_sites
    if method == "auto":
        method = "dense" if N <= 1024 else "plane_waves"
    if method == "random_phase":
        num_vectors = check_int("num_vectors", num_vectors, minimum=1)
        rng = as_generator(check_seed(seed, allow_generator=True))
    complement = J.sum() > (1.0 - J).sum()
    w = (1.0 - J) if complement else J
    out = np.zeros((len(times),) + lat.shape)
    if method == "dense":
        if N > 4096:
            raise ValueError(f"method='dense' needs L^d <= 4096, got {N}")
        lam, Q = np.linalg.eigh(H.to_sparse().toarray())
        A = _unitary_fft(Q.T.reshape((N,) + lat.shape), lat).reshape(N, N).T  # A[p, n] = <p|n>
        for i, t in enumerate(times):
            M = (A * np.exp(-1j * t * lam)) @ A.conj().T
            out[i] = ((np.abs(M) ** 2) @ w.ravel()).reshape(lat.shape)
    elif method == "plane_waves":
        for flat in np.flatnonzero(w.ravel()):
            delta = np.zeros(N, dtype=np.complex128)
            delta[flat] = 1.0
            phi = _from_momentum(lat, delta.reshape(lat.shape)) * np.sqrt(N)
            for i, psi in trajectory(H, phi, times, tol=tol):
                out[i] += w.flat[flat] * np.abs(_unitary_fft(psi, lat)) ** 2
    else:
        amp = np.sqrt(w)
        for _ in range(num_vectors):
            phases = np.exp(2j * np.pi * rng.random(lat.shape))
            xi = _from_momentum(lat, amp * phases) * np.sqrt(N)
            for i, psi in trajectory(H, xi, times, tol=tol):
                out[i] += np.abs(_unitary_fft(psi, lat)) ** 2
        out /= num_vectors
    return 1.0 - out if complement else out


# --------------------------------------------------------------------------------------
# Observables of the momentum distribution, and their Boltzmann predictions
# --------------------------------------------------------------------------------------
def _current(k):
    return -2.0 * np.sin(2.0 * np.pi * k[0])


def _quadrupole(k):
    return np.cos(2.0 * np.pi * k[0]) - np.cos(2.0 * np.pi * k[1])


def _kinetic_energy(k):
    return sum(2.0 * np.cos(2.0 * np.pi * ki) for ki in k)


#: Named momentum-space observables ``w(p)`` of :func:`momentum_distribution_realization`:
#: name -> (weight function of the momentum mesh, whether ``w`` is a function of ``e(p)``
#: (then the shell average ``P w = w``) or has shell average ``P w = 0``).
#: ``current``: ``v_1(p) = -2 sin(2 pi p_1)``, the first component of the group velocity
#: ``grad e / 2 pi`` (odd in ``p``); ``quadrupole``: ``cos 2 pi p_1 - cos 2 pi p_2``
#: (odd under ``p_1 <-> p_2``, ``d >= 2``); ``kinetic_energy``: ``e(p)``.
MOMENTUM_OBSERVABLES = {
    "current": (_current, False),
    "quadrupole": (_quadrupole, False),
    "kinetic_energy": (_kinetic_energy, True),
}


def boltzmann_observable(lattice, J, name, T):
    """``L^{-d} sum_p w(p) F_T(p)`` for the homogeneous Boltzmann solution from ``F_0 = J``.

    Parameters
    ----------
    lattice : Lattice
        The box (periodic or twisted): the sum runs over its momentum grid.
    J : array_like, shape ``lattice.shape``
        Initial momentum distribution ``F_0`` on that grid.
    name : str
        A key of :data:`MOMENTUM_OBSERVABLES`.
    T : array_like of float
        Kinetic times ``T >= 0``.

    Returns
    -------
    numpy.ndarray, shape ``(len(T),)``

    Notes
    -----
    The solution of ``dF/dT = m (P F - F)`` (``m = 2 pi rho(e)``, ``P`` the shell
    average) is ``F_T = P F_0 + e^{-m T} (F_0 - P F_0)``; since ``P`` is self-adjoint
    and ``m`` a function of the energy, ``<w, F_T> = <e^{-m T} w + (1 - e^{-m T}) P w,
    F_0>``, with ``P w = 0`` for the current and the quadrupole (the current is
    carried by the unscattered particles only) and ``P w = w`` for ``e``. The rate
    ``m`` is the exact continuum ``2 pi rho_d(e(p))`` at each grid momentum
    (:func:`chargetransport.density_of_states`), not a binned one (compare
    :func:`chargetransport.boltzmann.homogeneous_solution`): averaged over uniform
    twists the grid sum is the integral over the torus, exactly.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(2, 64)
    >>> J = fermi_sea(lat, -1.0, shift=[0.08, 0.0])
    >>> j = boltzmann_observable(lat, J, "current", [0.0, 1.0])
    >>> bool(np.isclose(j[0], (J * -2 * np.sin(2 * np.pi * lat.momenta()[0])).mean()))
    True
    >>> bool(0 < j[1] < j[0])                   # the current decays
    True
    """
    from .dos import density_of_states

    check_instance("lattice", lattice, Lattice)
    J = as_momentum_distribution(lattice, J)
    if name not in MOMENTUM_OBSERVABLES:
        raise ValueError(f"'name' must be one of {sorted(MOMENTUM_OBSERVABLES)}, got {name!r}")
    T = check_real_array("T", T, ndim=1)
    if np.any(T < 0):
        raise ValueError("'T' must be >= 0")
    weight, energy_function = MOMENTUM_OBSERVABLES[name]
    if name == "quadrupole" and lattice.d < 2:
        raise ValueError("the quadrupole needs d >= 2")
    support = J != 0.0
    k = tuple(np.broadcast_to(ki, lattice.shape)[support] for ki in lattice.momenta())
    w, Jw = weight(k), J[support]
    if energy_function:      # <w, F_T> = <w, F_0>: the energy of every particle is kept
        return np.full(len(T), (w * Jw).sum() / lattice.num_sites)
    e = _kinetic_energy(k)
    # Grid momenta on a van Hove energy (e = 0 in d = 2, +-2 in d = 1: rho = inf) must get
    # the same rate as their mirror images p -> -p, whose cosines round differently.
    for e_vh in {1: (-2.0, 2.0), 2: (0.0,), 3: ()}[lattice.d]:
        e = np.where(np.abs(e - e_vh) < 1e-12, e_vh, e)
    m = 2.0 * np.pi * density_of_states(e, lattice.d)
    with np.errstate(invalid="ignore", over="ignore"):
        decay = np.where(T[:, None] == 0.0, 1.0, np.exp(-np.multiply.outer(T, m)))
    return decay @ (w * Jw) / lattice.num_sites


def _initial_distribution(lattice, J):
    """``J`` as an array on ``lattice``: an array (periodic box), or the keyword
    arguments of :func:`fermi_sea` evaluated on the box's grid."""
    if isinstance(J, dict):
        allowed = {"mu", "shift", "beta", "anisotropy"}
        if not set(J) <= allowed:
            raise ValueError(f"'J' as a dict takes the keywords {sorted(allowed)} of fermi_sea, "
                             f"got {sorted(J)}")
        if "mu" not in J:
            raise ValueError("'J' as a dict needs the Fermi energy 'mu'")
        return fermi_sea(lattice, **J)
    if lattice.is_twisted:
        raise ValueError("with twist=True the grid changes from realization to realization: "
                         "give 'J' as a dict of fermi_sea keywords (mu, shift, beta, "
                         "anisotropy), not as an array")
    return as_momentum_distribution(lattice, J)


def _observable_weights(lattice, observables):
    """``{name: (weight, named)}``: arrays given by the caller, or named observables."""
    if observables is None:
        return {}
    if isinstance(observables, str):
        observables = (observables,)
    out = {}
    if isinstance(observables, dict):
        if lattice.is_twisted:
            raise ValueError("with twist=True give 'observables' as names of "
                             f"MOMENTUM_OBSERVABLES ({sorted(MOMENTUM_OBSERVABLES)}), not arrays "
                             "on one grid")
        for name, w in observables.items():
            if name == "distribution" or name.endswith("_boltzmann"):
                raise ValueError(f"'observables' must not use the key {name!r}")
            w = check_real_array(f"observables[{name!r}]", w)
            if w.shape != lattice.shape:
                raise ValueError(f"observables[{name!r}] must have the lattice shape "
                                 f"{lattice.shape}, got {w.shape}")
            out[name] = (w, False)
        return out
    for name in observables:
        if name not in MOMENTUM_OBSERVABLES:
            raise ValueError(f"'observables' must be a dict of arrays or names among "
                             f"{sorted(MOMENTUM_OBSERVABLES)}, got {name!r}")
        if name == "quadrupole" and lattice.d < 2:
            raise ValueError("the quadrupole needs d >= 2")
        weight = MOMENTUM_OBSERVABLES[name][0]
        out[name] = (np.broadcast_to(weight(lattice.momenta()), lattice.shape), True)
    return out


def momentum_distribution_realization(seed, *, d, L, eta, J, T, method="auto", num_vectors=16,
                                      observables=None, twist=False, distribution="gaussian",
                                      tol=1e-10):
    """One realization of :func:`evolved_momentum_distribution` at kinetic times ``T``.

    For :func:`chargetransport.ensemble.ensemble_average` (pass a
    ``functools.partial``) and :mod:`chargetransport.studies`. The seed contract of
    :mod:`chargetransport.rng`: the potential is drawn from ``seed`` itself (the same
    potential as every other observable of this realization), the phases of
    ``"random_phase"`` from its ``phases`` stream, the twist from its ``twist`` stream.

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
    d, L : int
    eta : float
        Disorder strength, > 0.
    J : array_like, shape ``(L,) * d``, or dict
        Initial momentum distribution: an array on the periodic grid, or the keyword
        arguments of :func:`fermi_sea` (``mu``, and optionally ``shift``, ``beta``,
        ``anisotropy``; JSON data, for studies), evaluated on this realization's box.
    T : array_like of float
        Kinetic times; microscopic ``t = T / eta^2``.
    method, num_vectors, tol
        As in :func:`evolved_momentum_distribution`.
    observables : dict of str to array_like, or sequence of str, optional
        Momentum-space weights ``w(p)``: for each, the key ``name`` of the result holds
        ``L^{-d} sum_p w(p) n_t(p)`` per time, so that its standard error over
        realizations is available. Either arrays of the lattice shape (periodic box
        only), or names of :data:`MOMENTUM_OBSERVABLES`; for a name, the key
        ``name + "_boltzmann"`` also holds the Boltzmann prediction on this
        realization's grid (:func:`boltzmann_observable`), so that the deviation is
        paired realization by realization.
    twist : bool, default False
        Twisted boundary conditions with the realization's own twist ``theta``
        (:meth:`Realization.twist`, uniform in ``[0, 1)^d``): the grid
        ``(m + theta) / L`` moves from realization to realization, which lifts the
        degeneracies of the periodic grid's energy shells, and the average over
        twists of a grid sum is the integral over the torus.
    distribution : str, default "gaussian"
        Of the site potential (:func:`chargetransport.random_potential`).

    Returns
    -------
    dict
        ``"distribution"``: array ``(len(T), L, ..., L)``, ``n_t(p)`` on this
        realization's grid; one ``(len(T),)`` array per observable (and per
        Boltzmann prediction).

    Examples
    --------
    >>> import numpy as np
    >>> out = momentum_distribution_realization(
    ...     7, d=2, L=16, eta=0.5, J={"mu": -1.0, "shift": [0.1, 0.0]}, T=[0.0, 0.5],
    ...     method="random_phase", num_vectors=2, observables=["current"], twist=True)
    >>> bool(np.isclose(out["current"][0], out["current_boltzmann"][0]))   # exact at T = 0
    True
    """
    real = Realization(seed)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    twist = check_bool("twist", twist)
    d = check_int("d", d, minimum=1, maximum=3)
    lat = Lattice(d, L, twist=real.twist(d) if twist else None)
    J = _initial_distribution(lat, J)
    weights = _observable_weights(lat, observables)
    H = real.hamiltonian(lat, eta, distribution)
    n = evolved_momentum_distribution(H, J, T / eta**2, method=method, num_vectors=num_vectors,
                                      seed=real.stream("phases"), tol=tol)
    out = {"distribution": n}
    for name, (w, named) in weights.items():
        out[name] = (n * w).reshape(len(T), -1).sum(axis=1) / lat.num_sites
        if named:
            out[name + "_boltzmann"] = boltzmann_observable(lat, J, name, T)
    return out


def two_point_realization(seed, *, d, L, eta, J, f, g, T, distribution="gaussian", tol=1e-10):
    """One realization of the two-point matrix and of its determinant at kinetic times ``T``.

    Returns
    -------
    dict of real arrays
        ``"re"``, ``"im"`` (nT, r, r): ``<g_i, gamma_t f_j>``; ``"det_re"``, ``"det_im"``
        (nT,): its determinant, the 2r-point function
        ``rho_t(a^+(f_1)...a^+(f_r) a(g_r)...a(g_1))`` of this realization.
    """
    real = Realization(seed)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    H = real.hamiltonian(Lattice(d, L), eta, distribution)
    M = evolved_two_point_matrix(H, J, f, g, T / eta**2, tol=tol)
    det = wick_determinant(M)
    return {"re": M.real, "im": M.imag, "det_re": det.real, "det_im": det.imag}


def quasi_free_deviation(num_realizations, seed, *, d, L, eta, J, f, g, T,
                         distribution="gaussian", tol=1e-10, progress=False):
    """How far the disorder-averaged state is from quasi-free (Theorem 5.2), with error bars.

    For each realization the state is quasi-free, so its 2r-point function is
    ``det M_t`` with ``M_t = [<g_i, gamma_t f_j>]``; the average of the
    determinants is in general not the determinant of the averages.

    Parameters
    ----------
    num_realizations : int
        ``R >= 2`` (the jackknife needs two).
    seed : int or numpy.random.SeedSequence
        Realization ``r`` uses ``realization_seeds(seed, R)[r]``.
    d, L, eta, J, f, g, T, distribution, tol
        As in :func:`two_point_realization` (``T`` kinetic times).
    progress : bool, default False
        tqdm bar over realizations.

    Returns
    -------
    dict
        ``"two_point"`` (nT, r, r) complex: ``E M_t``; ``"correlation"`` (nT,)
        complex: ``E det M_t``, the averaged 2r-point function
        ``E rho_t(a^+(f_1)...a^+(f_r) a(g_r)...a(g_1))``; ``"deviation"`` (nT,)
        complex: ``E det M_t - det E M_t``; ``"deviation_se"`` (nT,): its
        jackknife standard error; ``"two_point_se"`` (nT, r, r): standard errors
        of ``E M_t`` (modulus of the complex error).

    Notes
    -----
    The plug-in ``det(mean M)`` is biased at order ``1/R``; the jackknife
    estimate ``R D - (R - 1) mean_i D_(i)`` removes that bias and is the value
    returned, ``D_(i)`` being the estimate without realization i.
    """
    from tqdm import tqdm

    R = check_int("num_realizations", num_realizations, minimum=2)
    progress = check_bool("progress", progress)
    seeds = realization_seeds(seed, R)
    Ms = []
    for s in tqdm(seeds, disable=not progress, desc="realizations"):
        out = two_point_realization(s, d=d, L=L, eta=eta, J=J, f=f, g=g, T=T,
                                    distribution=distribution, tol=tol)
        Ms.append(out["re"] + 1j * out["im"])
    Ms = np.array(Ms)                       # (R, nT, r, r)
    dets = np.linalg.det(Ms)                # (R, nT)
    mean_M = Ms.mean(axis=0)
    full = dets.mean(axis=0) - np.linalg.det(mean_M)
    loo_M = (Ms.sum(axis=0)[None] - Ms) / (R - 1)
    loo_det = (dets.sum(axis=0)[None] - dets) / (R - 1)
    loo = loo_det - np.linalg.det(loo_M)    # (R, nT)
    jack_mean = loo.mean(axis=0)
    se = np.sqrt((R - 1) / R * (np.abs(loo - jack_mean) ** 2).sum(axis=0))
    se_M = np.sqrt(Ms.real.var(axis=0, ddof=1) + Ms.imag.var(axis=0, ddof=1)) / np.sqrt(R)
    return {"two_point": mean_M, "two_point_se": se_M, "correlation": dets.mean(axis=0),
            "deviation": R * full - (R - 1) * jack_mean, "deviation_se": se}


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


# --------------------------------------------------------------------------------------
# The dressing of a stationary state: second-order perturbation theory
# --------------------------------------------------------------------------------------
def second_order_kinetic_gain(lattice, J, t=None, *, intermediate="continuum", bin_width=1e-3):
    """Kinetic energy gained per site at second order in ``eta``, divided by ``eta^2``.

    For the quasi-free state of momentum distribution ``J`` evolved by
    ``h = Delta + eta V`` (``E omega = 0``, ``E omega^2 = 1``), to second order in
    ``eta`` ::

        E <e>_t - <e>_0 = eta^2 c(t),
        c(t) = int dp int dq (J(q) - J(p)) (1 - cos((e(p) - e(q)) t)) / (e(p) - e(q))
             = 2 int dq J(q) h_t(e(q)),   h_t(E) = int dp (1 - cos((e(p) - E) t)) / (e(p) - E),

    and ``c(t) -> K_J = 2 int dq J(q) h(e(q))`` as ``t -> inf``, with
    ``h(E) = PV int dp / (e(p) - E)`` (minus the real part of the free Green's function).

    Parameters
    ----------
    lattice : Lattice
        The grid of ``J`` (outer integral ``int dq``, as ``L^{-d} sum_q``).
    J : array_like, shape ``lattice.shape``
        Momentum distribution, ``0 <= J <= 1``.
    t : float or array_like of float, optional
        Microscopic times ``0 <= t <= inf``; default ``inf`` (the limit ``K_J``).
    intermediate : {"continuum", "grid"}, default "continuum"
        The virtual momenta ``p``: the torus (exact density of states, ``L -> inf``)
        or the lattice's own grid (the box's exact second order; at ``t = inf`` this is
        a discrete principal value, well conditioned only if ``J`` is a function of
        ``e``: for other ``J`` nearly degenerate pairs ``e(p) ~ e(q)`` dominate it).
    bin_width : float, default 1e-3
        Energies are binned to this width; ``c(t)`` is then a discrete correlation
        of two energy histograms (an FFT). The error is ``O(bin_width)`` for
        ``t = inf`` and ``O(bin_width * t)`` in the phases at finite ``t``.

    Returns
    -------
    float or numpy.ndarray
        ``c`` (per site, book units ``e = sum 2 cos``), of the shape of ``t``.

    Notes
    -----
    Derivation. Energy conservation, ``<h>_t = <h>_0``, and ``E <V>_0 = 0`` give
    ``E <e>_t - <e>_0 = -eta E <V>_t``; the first-order Duhamel term of
    ``gamma_t`` and ``E |<p|V|q>|^2 = L^{-d}`` give ``c(t)`` above
    (section "Experiment 2" of the Fermi-gas chapter). For ``J`` decreasing in
    ``e``, ``(J(q) - J(p)) / (e(p) - e(q)) >= 0``: the kinetic energy rises;
    for ``J = 1/2`` it is zero. The particles lower their potential energy by
    ``eta^2 c`` as the state adjusts to the potential, within a few units of
    microscopic time, while the Boltzmann equation keeps every function of
    ``e`` (such as a Fermi-Dirac distribution) fixed.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(2, 64)
    >>> second_order_kinetic_gain(lat, np.full(lat.shape, 0.5))    # J = 1/2: nothing
    0.0
    >>> K = second_order_kinetic_gain(lat, gibbs_distribution(lat, np.inf, -1.0))
    >>> bool(K > 0)
    True
    """
    from scipy.signal import fftconvolve

    from .dos import mean_density_of_states

    check_instance("lattice", lattice, Lattice)
    J = as_momentum_distribution(lattice, J)
    if intermediate not in ("continuum", "grid"):
        raise ValueError(f"'intermediate' must be 'continuum' or 'grid', got {intermediate!r}")
    w = check_real("bin_width", bin_width, minimum=0.0, strict_minimum=True, maximum=0.1)
    scalar = t is None or np.ndim(t) == 0
    ts = np.atleast_1d(np.asarray(np.inf if t is None else t))
    # t = inf (the limit K_J) is allowed; NaN and finite negatives are not
    check_real_array("t", np.where(np.isposinf(ts), 0.0, ts) if np.isrealobj(ts) else ts)
    ts = ts.astype(np.float64)
    if np.any(ts < 0):
        raise ValueError("'t' must be >= 0")
    d = lattice.d
    num_bins = int(np.ceil(4.0 * d / w)) + 1
    edges = -2.0 * d + w * np.arange(num_bins + 1)
    e = lattice.dispersion().ravel()
    index = np.clip(((e + 2.0 * d) / w).astype(np.int64), 0, num_bins - 1)
    occupied = np.bincount(index, weights=J.ravel(), minlength=num_bins) / lattice.num_sites
    if intermediate == "grid":
        states = np.bincount(index, minlength=num_bins) / lattice.num_sites
    else:
        lo, hi = edges[:-1], edges[1:]
        states = w * mean_density_of_states(lo, hi, d)
    # C_k = sum_b occupied_b states_{b + k}, k = -(n - 1) ... n - 1
    corr = fftconvolve(states, occupied[::-1])
    k = np.arange(-(num_bins - 1), num_bins)
    omega = k * w
    nonzero = k != 0
    out = np.empty(ts.shape)
    for i, ti in enumerate(ts):
        if np.isinf(ti):
            g = 1.0 / omega[nonzero]
        else:
            g = (1.0 - np.cos(omega[nonzero] * ti)) / omega[nonzero]
        out[i] = 2.0 * float(g @ corr[nonzero])
    if np.all(J == 0.5):         # exactly zero by antisymmetry (rounding of the FFT aside)
        out[:] = 0.0
    return float(out[0]) if scalar else out
