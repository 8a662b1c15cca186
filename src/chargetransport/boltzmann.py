"""Linear Boltzmann theory of the weakly disordered Anderson model (paper eq. (2.11)).

In the kinetic scaling (T, X) = eta^2 (t, x), a particle of momentum V moves
with the group velocity ``v(V) = grad e(V) / (2 pi)`` (lattice units per unit of
time; ``e(k) = sum_i 2 cos(2 pi k_i)``) and jumps, at rate
``m(V) = int sigma(U, V) dU = 2 pi rho(e(V))`` per unit of T, to a momentum
drawn from the energy shell ``{U : e(U) = e(V)}`` with weight
``delta(e(U) - e(V)) dU``. Velocities on a shell average to zero (e is even),
so at times much longer than ``1 / m`` the motion is diffusive.

.. note::
   The OCR of the paper writes the transport term of (2.11) as
   ``2 pi grad e . grad_X``; for the dispersion ``sum_i 2 cos(2 pi k_i)`` the
   group velocity of a lattice wave packet is ``grad e / (2 pi)`` (stationary
   phase of ``exp(2 pi i k.x - i e(k) t)``), and that is what is used here.
"""
from __future__ import annotations

import numba as nb
import numpy as np
from scipy import integrate
from tqdm import tqdm

from ._validation import (check_bool, check_eta_squared, check_int, check_memory, check_real,
                          check_real_array, check_values_per_sample)
from .dos import density_of_states, mean_density_of_states
from .lattice import Lattice, dispersion, dispersion_gradient
from .rng import as_generator, realization_seeds
from .shell_sampling import (_SHELL_CELLS, _SHELL_COLUMNS, _UNIFORM_BLOCK, _check_shell_energies,
                             _fill_shell_table, _momentum_from_cosine, _sample_shell_cosines,
                             _velocity_from_cosine)
from .shells import EnergyBins, _check_grid_field

__all__ = ["collision_rate", "group_velocity", "shell_mean_square_velocity",
           "diffusion_constant", "boltzmann_mean_square_displacement",
           "homogeneous_solution", "homogeneous_time_stepping", "entropy",
           "KineticMonteCarloResult", "kinetic_monte_carlo"]

def group_velocity(k):
    """Group velocity ``grad e(k) / (2 pi) = (-2 sin(2 pi k_i))_i`` (lattice units per unit time).

    Parameters
    ----------
    k : array_like, shape (..., d)

    Returns
    -------
    numpy.ndarray, shape (..., d)

    Examples
    --------
    >>> group_velocity([0.25, 0.0]).tolist()   # fastest along axis 1, at rest along axis 2
    [-2.0, -0.0]
    """
    return dispersion_gradient(k) / (2.0 * np.pi)


def collision_rate(E, d):
    """Total scattering rate ``m(E) = 2 pi rho_d(E)`` per unit of macroscopic time T.

    In microscopic time the rate is ``eta^2 m(E)``: the survival probability of a
    plane wave of energy E decays like ``exp(-2 pi rho(E) eta^2 t)``.

    Examples
    --------
    >>> import chargetransport as ct
    >>> bool(collision_rate(0.5, 3) == 2 * np.pi * ct.density_of_states(0.5, 3))
    True
    """
    return 2.0 * np.pi * density_of_states(E, d)


def _shell_mean_e1_squared(E, d):
    # <e_1(U)^2> over the shell e(U) = E, with e_1 = 2 cos(2 pi U_1): split off
    # axis 1, whose e_1 has density rho_1, from the other d - 1 axes.
    # With e_1 = 2 cos(theta), rho_1(e_1) de_1 = d theta / pi.
    if d == 1:
        return E**2

    def integrand(theta):
        x = 2.0 * np.cos(theta)
        return x**2 * density_of_states(np.array([E - x]), d - 1)[0]

    reach = 2.0 * (d - 1)   # support of rho_{d-1} is [-reach, reach]
    breaks = [np.arccos(np.clip(c / 2.0, -1.0, 1.0))
              for c in (E, E - reach, E + reach) if abs(c) < 2.0]
    value, _ = integrate.quad(integrand, 0.0, np.pi, points=sorted(set(breaks)) or None,
                              epsabs=1e-12, epsrel=1e-10, limit=400)
    return value / np.pi / density_of_states(np.array([E]), d)[0]


def shell_mean_square_velocity(E, d):
    """Average of ``|v|^2 = |grad e / (2 pi)|^2`` over the energy shell ``e(U) = E``.

    Parameters
    ----------
    E : array_like of float
        Energies strictly inside the band (-2d, 2d).
    d : int

    Returns
    -------
    numpy.ndarray
        ``<|v|^2>_E = int delta(e(U) - E) |v(U)|^2 dU / rho(E)``, computed from
        ``|v|^2 = sum_i (4 - e_i^2)`` and one-dimensional quadratures of
        ``rho_1 * rho_{d-1}``.

    Examples
    --------
    In d = 1 the shell is two points with ``|v|^2 = 4 - E^2``:

    >>> shell_mean_square_velocity(np.array([0.0, 1.0]), 1).tolist()
    [4.0, 3.0]
    """
    d = check_int("d", d, minimum=1, maximum=3)
    E = check_real_array("E", E)
    if np.any(np.abs(E) >= 2 * d):
        raise ValueError(f"'E' must lie strictly inside the band (-{2 * d}, {2 * d})")
    if d == 2 and np.any(E == 0.0):         # rho_2 diverges there: 0 / 0
        raise ValueError("'E' = 0 is the van Hove energy of d = 2, where rho diverges and "
                         "<|v|^2>_E -> 0 (D ~ 1/log^2(16/|E|)); take E != 0")
    flat = [4.0 * d - d * _shell_mean_e1_squared(e, d) for e in E.ravel()]
    return np.asarray(flat).reshape(E.shape)


def diffusion_constant(E, d, eta):
    """Diffusion constant of the Boltzmann process at energy E, in lattice units.

    ``D(E) = <|v|^2>_E / (d eta^2 m(E))``, so that the mean-square displacement
    grows like ``2 d D t`` at times ``t >> 1 / (eta^2 m)``. In macroscopic units
    (X, T) the same process has ``D_macro = eta^2 D``.

    Examples
    --------
    ``D`` grows like ``eta^{-2}``:

    >>> D1, D2 = diffusion_constant(np.array([1.0]), 2, 0.1), diffusion_constant(np.array([1.0]), 2, 0.2)
    >>> round(float(D1[0] / D2[0]), 12)
    4.0
    """
    eta = check_eta_squared(eta)
    d = check_int("d", d, minimum=1, maximum=3)
    return shell_mean_square_velocity(E, d) / (d * eta**2 * collision_rate(E, d))


def boltzmann_mean_square_displacement(t, v0_squared, E, d, eta):
    """Mean-square displacement of the Boltzmann process started at one momentum.

    Parameters
    ----------
    t : array_like of float
        Microscopic times ``t >= 0``.
    v0_squared : float
        ``|v(p)|^2`` of the initial momentum p.
    E : float
        Its energy ``e(p)``, strictly inside the band.
    d : int
    eta : float

    Returns
    -------
    numpy.ndarray
        ``E|x(t) - x(0)|^2 = 2A [1 - e^{-r t}(1 + r t)] / r^2 + 2B [t / r - (1 - e^{-r t}) / r^2]``
        with ``r = eta^2 m(E)``, ``B = <|v|^2>_E`` and ``A = |v(p)|^2 - B``: the
        velocity keeps its value until the first collision and is afterwards
        uncorrelated with mean zero, so ``E[v(s).v(s')] = E|v(s)|^2 e^{-r|s'-s|}``.
        Ballistic ``|v(p)|^2 t^2`` at short times, diffusive ``2 B t / r`` at long times.

    Examples
    --------
    The two limits, for ``p = (0.1, 0.2)`` at ``eta = 0.1``:

    >>> import chargetransport as ct
    >>> p = np.array([0.1, 0.2])
    >>> v2, E = float((group_velocity(p) ** 2).sum()), float(ct.dispersion(p))
    >>> early, late = boltzmann_mean_square_displacement([1e-3, 1e6], v2, E, 2, 0.1)
    >>> D = diffusion_constant(np.array([E]), 2, 0.1)[0]
    >>> bool(abs(early / (v2 * 1e-6) - 1) < 1e-4), bool(abs(late / (4 * D * 1e6) - 1) < 1e-3)
    (True, True)
    """
    t = check_real_array("t", t)
    if np.any(t < 0):
        raise ValueError("'t' must be >= 0")
    E = check_real("E", E)
    v0_squared = check_real("v0_squared", v0_squared, minimum=0.0)
    eta = check_eta_squared(eta)
    r = eta**2 * float(collision_rate(E, d))
    B = float(shell_mean_square_velocity(E, d))
    A = v0_squared - B
    rt = r * t
    return (2.0 * A * (1.0 - np.exp(-rt) * (1.0 + rt)) / r**2
            + 2.0 * B * (t / r - (1.0 - np.exp(-rt)) / r**2))

# --------------------------------------------------------------------------
# Spatially homogeneous equation on a momentum grid
# --------------------------------------------------------------------------


def homogeneous_solution(F0, T, bin_width=0.01):
    """Exact solution of the homogeneous linear Boltzmann equation on a momentum grid.

    Parameters
    ----------
    F0 : numpy.ndarray, shape ``(L,) * d``
        Initial momentum density on the box's grid ``k = m / L`` (numpy.fft
        order), e.g. ``ct.momentum_distribution(psi) / L^d``-like data.
    T : float or array_like
        Macroscopic time(s) ``T >= 0``.
    bin_width : float, default 0.01
        Energy resolution of the shell projection on the grid.

    Returns
    -------
    numpy.ndarray
        ``F_T = P F0 + exp(-m T) (F0 - P F0)`` (stacked over T if an array).

    Notes
    -----
    The collision operator of (2.11) without transport is
    ``C F = int sigma(U, V) (F(U) - F(V)) dU = m(V) (P F - F)(V)`` with
    ``m = 2 pi rho(e)`` and ``P`` the average over the energy shell of V. Both
    ``m`` and ``P`` depend on V only through e(V), P is a projection and
    ``P F_T = P F_0``, hence the closed form. On the grid, ``P`` averages F over
    the grid momenta in the same energy bin
    (:class:`chargetransport.shells.EnergyBins`, bins ``[-2d + k w, -2d + (k + 1) w)``)
    and ``m`` is ``2 pi`` times the exact density of states averaged over the
    bin's energy interval (:func:`chargetransport.dos.mean_density_of_states`),
    finite also in the bin of a van Hove energy, where ``rho`` diverges (a
    grid of even ``L`` has momenta with ``e = 0`` exactly in d = 2). Both are
    ``O(w^2)`` from their continuum values away from the van Hove energies.

    Examples
    --------
    A delta at one grid momentum: mass is conserved, the weight left at the
    momentum decays from ``L^d`` towards its shell average.

    >>> L = 32
    >>> F0 = np.zeros((L, L)); F0[3, 5] = L**2
    >>> F = homogeneous_solution(F0, [0.0, 50.0])
    >>> F.mean(axis=(1, 2)).round(12).tolist()
    [1.0, 1.0]
    >>> bool(F[1, 3, 5] < 0.2 * L**2)
    True
    """
    F0 = _check_grid_field("F0", F0)
    bin_width = check_real("bin_width", bin_width, minimum=0.0, strict_minimum=True)
    Ts = np.atleast_1d(check_real_array("T", T))
    if np.any(Ts < 0):
        raise ValueError("'T' must be >= 0")
    d = F0.ndim
    e = Lattice(d, F0.shape[0]).dispersion()
    bins = EnergyBins(e, bin_width, origin=-2.0 * d)
    PF = bins.project(F0)
    # The rate is constant on each bin, so that the discrete P and m commute and mass is
    # conserved exactly: 2 pi times the density of states averaged over the bin's energy
    # interval (within the band). Averaging 2 pi rho(e(V)) over the bin's grid momenta
    # instead makes the bin's rate infinite as soon as one momentum sits exactly on a van
    # Hove energy where rho diverges (e = 0 in d = 2, +-2 in d = 1), and the whole bin
    # relaxes at T = 0+.
    lo = np.clip(bins.lower, -2.0 * d, 2.0 * d)
    hi = np.clip(bins.lower + bin_width, -2.0 * d, 2.0 * d)
    inside = (bins.counts > 0) & (hi > lo)   # the bin [2d, 2d + w) holds only e = 2d: P F = F
    rate = np.zeros(len(bins.counts))
    rate[inside] = 2.0 * np.pi * mean_density_of_states(lo[inside], hi[inside], d)
    m = rate[bins.index].reshape(e.shape)
    out = np.stack([PF + np.exp(-m * t) * (F0 - PF) for t in Ts])
    return out[0] if np.ndim(T) == 0 else out


def homogeneous_time_stepping(F0, T, num_steps, smearing=0.02, bin_width=None):
    """Independent solver of the homogeneous equation: RK4 with a smeared collision kernel.

    Parameters
    ----------
    F0 : numpy.ndarray, shape ``(L,) * d``
    T : float
        Final macroscopic time.
    num_steps : int
        RK4 steps (error O((T / num_steps)^4)).
    smearing : float, default 0.02
        Width s of the Gaussian ``delta_s`` that replaces the delta function in
        ``sigma(U, V) = 2 pi delta(e(U) - e(V))``.
    bin_width : float, optional
        Energy histogram resolution for the convolution (default ``smearing / 10``).

    Returns
    -------
    numpy.ndarray
        ``F_T`` for ``dF/dT = int 2 pi delta_s(e(U) - e(V)) (F(U) - F(V)) dU``.

    Notes
    -----
    Nothing here uses the closed form: the gain term is the grid sum
    ``L^{-d} sum_U 2 pi delta_s(e(U) - e(V)) F(U)`` (evaluated as a histogram of
    F over energy convolved with delta_s), the loss rate the same sum with F = 1.
    As ``s -> 0`` and ``L -> infinity`` it converges to :func:`homogeneous_solution`,
    which makes it an independent check of rates and shell projections.

    Examples
    --------
    Against the closed form for a smooth initial density that relaxes by up to
    0.26: on average over the grid they agree to about 0.01 (the grid's resolution
    of the shells and the smearing, not the time stepping; largest near the van
    Hove energy ``e = 0``):

    >>> L = 64
    >>> k1, k2 = np.meshgrid(np.arange(L) / L, np.arange(L) / L, indexing="ij")
    >>> F0 = 1 + 0.5 * np.cos(2 * np.pi * k1) * np.sin(2 * np.pi * k2)
    >>> stepped = homogeneous_time_stepping(F0, 1.0, num_steps=10)
    >>> bool(np.abs(stepped - homogeneous_solution(F0, 1.0)).mean() < 0.02)
    True
    """
    F0 = _check_grid_field("F0", F0)
    T = check_real("T", T, minimum=0.0)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    s = check_real("smearing", smearing, minimum=0.0, strict_minimum=True)
    bw = s / 10.0 if bin_width is None else check_real("bin_width", bin_width, minimum=0.0,
                                                          strict_minimum=True)
    d = F0.ndim
    num_bins = int((4 * d + 12 * s) / bw) + 2
    # the kernel matrix and its temporaries: three num_bins^2 float arrays
    check_memory("bin_width", 3 * 8 * num_bins**2,
                 f"the kernel between {num_bins} energy bins (smearing / bin_width)",
                 hint="raise 'bin_width' (default smearing / 10)")
    e = Lattice(d, F0.shape[0]).dispersion()
    edges = np.arange(-2 * d - 6 * s, 2 * d + 6 * s + bw, bw)
    centres = 0.5 * (edges[1:] + edges[:-1])
    idx = np.clip(np.searchsorted(edges, e.ravel()) - 1, 0, len(centres) - 1)
    # kernel matrix between energy bins (small: a few thousand bins)
    diff = centres[:, None] - centres[None, :]
    kernel = 2.0 * np.pi * np.exp(-0.5 * (diff / s) ** 2) / (s * np.sqrt(2.0 * np.pi))
    n_sites = F0.size

    def gain(F):
        hist = np.bincount(idx, weights=F.ravel(), minlength=len(centres)) / n_sites
        return (kernel @ hist)[idx].reshape(F.shape)

    loss_rate = gain(np.ones_like(F0))
    dt = T / num_steps
    F = F0.copy()
    for _ in range(num_steps):
        k1 = gain(F) - loss_rate * F
        k2 = gain(F + 0.5 * dt * k1) - loss_rate * (F + 0.5 * dt * k1)
        k3 = gain(F + 0.5 * dt * k2) - loss_rate * (F + 0.5 * dt * k2)
        k4 = gain(F + dt * k3) - loss_rate * (F + dt * k3)
        F = F + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return F


def entropy(F):
    """Boltzmann entropy ``S[F] = -int F log F dV`` of a momentum density on a grid.

    ``int dV`` is ``L^{-d} sum`` over the grid (eq. (2.5)). The linear Boltzmann
    flow increases it (its kernel is symmetric), up to the maximum on each
    energy shell, reached by functions of the energy.

    Examples
    --------
    >>> entropy(np.ones((8, 8)))      # the uniform density: the maximum, 0
    -0.0
    >>> F0 = np.zeros((8, 8)); F0[1, 2] = 64.0
    >>> bool(entropy(homogeneous_solution(F0, 1.0)) > entropy(F0))
    True
    """
    F = check_real_array("F", F)
    if np.any(F < 0):
        raise ValueError("'F' must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(F > 0, F * np.log(np.where(F > 0, F, 1.0)), 0.0)
    return float(-terms.sum() / F.size)


# --------------------------------------------------------------------------
# Spatially inhomogeneous equation (2.11): kinetic Monte Carlo
# --------------------------------------------------------------------------

@nb.njit(cache=True)
def _kmc_chunk(X, V, energies, rates, times, rng, X_out, V_out):
    """Run each particle through free flights and collisions; record (X, V) at `times`.

    Between collisions X moves with v(V) = grad e(V) / (2 pi) = -2 sin(2 pi V);
    the clock is exponential with the particle's rate m(e(V)) (constant, since
    collisions conserve the energy); at a collision V is redrawn from the shell,
    as its cosines and branches (V itself, one arccos per axis, is formed only
    when it is recorded). The exponential clock is memoryless, so it is simply
    redrawn after each recording time: -log(1 - u) in d <= 2 (the draws of the
    book's runs), ``rng.standard_exponential()`` (ziggurat, no log) in d = 3.
    Returns the number of collisions.
    """
    # one body, compiled once per dimension with d a constant (the shell sampler's
    # branches on d fold away: about a tenth of the collision rate in d = 3)
    d = X.shape[1]
    if d == 1:
        return _kmc_particles(X, V, energies, rates, times, rng, X_out, V_out, 1)
    if d == 2:
        return _kmc_particles(X, V, energies, rates, times, rng, X_out, V_out, 2)
    return _kmc_particles(X, V, energies, rates, times, rng, X_out, V_out, 3)


@nb.njit(cache=True, inline="always")
def _kmc_particles(X, V, energies, rates, times, rng, X_out, V_out, d):
    """The body of :func:`_kmc_chunk` for dimension ``d``."""
    n = X.shape[0]
    block = np.empty(_UNIFORM_BLOCK)
    cursor = block.size
    table = np.empty((_SHELL_CELLS, _SHELL_COLUMNS))
    table_energy = np.nan
    collisions = 0
    # positions and velocities in scalars (axes beyond d stay 0)
    for p in range(n):
        E = energies[p]
        rate = rates[p]
        if d == 3 and E != table_energy:
            _fill_shell_table(E, table)
            table_energy = E
        x0, v0 = X[p, 0], -2.0 * np.sin(2.0 * np.pi * V[p, 0])
        x1 = v1 = x2 = v2 = 0.0
        if d > 1:
            x1, v1 = X[p, 1], -2.0 * np.sin(2.0 * np.pi * V[p, 1])
        if d > 2:
            x2, v2 = X[p, 2], -2.0 * np.sin(2.0 * np.pi * V[p, 2])
        c0 = c1 = c2 = 0.0
        branches = -1                     # V[p] is current until the first collision
        t = 0.0
        for j in range(times.size):
            while True:
                if d < 3:
                    tau = -np.log(1.0 - rng.random()) / rate
                else:
                    tau = rng.standard_exponential() / rate
                if t + tau >= times[j]:
                    dt = times[j] - t
                    x0 += v0 * dt
                    x1 += v1 * dt
                    x2 += v2 * dt
                    t = times[j]
                    break
                x0 += v0 * tau
                x1 += v1 * tau
                x2 += v2 * tau
                t += tau
                c0, c1, c2, branches, _, cursor = _sample_shell_cosines(E, d, table, rng, block,
                                                                        cursor)
                v0 = _velocity_from_cosine(c0, branches, 0)
                if d > 1:
                    v1 = _velocity_from_cosine(c1, branches, 1)
                if d > 2:
                    v2 = _velocity_from_cosine(c2, branches, 2)
                collisions += 1
            if branches >= 0:
                V[p, 0] = _momentum_from_cosine(c0, branches, 0)
                if d > 1:
                    V[p, 1] = _momentum_from_cosine(c1, branches, 1)
                if d > 2:
                    V[p, 2] = _momentum_from_cosine(c2, branches, 2)
                branches = -1
            X[p, 0] = x0
            if d > 1:
                X[p, 1] = x1
            if d > 2:
                X[p, 2] = x2
            for i in range(d):
                X_out[j, p, i] = X[p, i]
                V_out[j, p, i] = V[p, i]
    return collisions


class KineticMonteCarloResult:
    """Estimates ``<J, F_T>`` of the kinetic Monte Carlo solver.

    Attributes
    ----------
    times : numpy.ndarray, shape (n_times,)
    estimates : numpy.ndarray, shape (n_tests, n_times)
        Monte Carlo means of ``J_k(X_T, V_T)``.
    standard_errors : numpy.ndarray, shape (n_tests, n_times)
    num_particles : int
    collisions : int
        Total number of collisions simulated.
    collisions_per_second : float
        Throughput of the particle kernel alone (flights, clocks, shell
        sampling), wall clock, one core.
    seconds : float
        Wall time of the whole run, test-function evaluations included.
    """

    def __init__(self, times, estimates, standard_errors, num_particles, collisions, seconds,
                 kernel_seconds):
        self.times = times
        self.estimates = estimates
        self.standard_errors = standard_errors
        self.num_particles = num_particles
        self.collisions = collisions
        self.seconds = seconds
        self.collisions_per_second = (collisions / kernel_seconds if kernel_seconds > 0
                                      else float("nan"))

    def __repr__(self):
        return (f"KineticMonteCarloResult({self.estimates.shape[0]} test functions, "
                f"{len(self.times)} times, {self.num_particles} particles, "
                f"{self.collisions_per_second:.3g} collisions/s)")


def kinetic_monte_carlo(initial, times, test_functions, num_particles, seed=0,
                        chunk_size=100_000, progress=False):
    """Solve the linear Boltzmann equation (2.11) by kinetic Monte Carlo.

    Parameters
    ----------
    initial : callable
        ``initial(n, rng) -> (X, V)``: n samples of the initial density
        ``F_0(X, V)`` (arrays of shape (n, d); V on the torus), e.g.
        ``X ~ |h|^2``, ``V = grad S(X)`` for the WKB limit (2.12).
    times : array_like of float
        Macroscopic times ``T >= 0``, increasing.
    test_functions : sequence of callables
        ``J(X, V) -> (n,)`` evaluated on the particles at every time.
    num_particles : int
    seed : int or SeedSequence
        Chunk c of particles uses child c of the seed, so results do not depend
        on how the run is split or scheduled.
    chunk_size : int, default 100000
        Particles per chunk (bounds the memory).
    progress : bool, default False

    Returns
    -------
    KineticMonteCarloResult

    Notes
    -----
    The process: transport ``dX/dT = v(V) = grad e(V) / (2 pi)``, and jumps at
    rate ``m(V) = int sigma(U, V) dU = 2 pi rho(e(V))`` to a momentum drawn
    exactly from the shell measure
    (:func:`chargetransport.shell_sampling.sample_energy_shell`). Its law at time T is the
    solution F_T of (2.11); ``<J, F_T> = E[J(X_T, V_T)]``.

    The particle kernel runs at about 2e7 collisions per second on one core in d = 2
    and 1e7 in d = 3 (``benchmarks/bench_transport.py``, against the former d = 3
    sampler). Between collisions a particle carries the cosines of its momentum
    and their branches, so a collision costs no inverse trig call.
    """
    import time as _time
    times = check_real_array("times", times, ndim=1)
    if np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("'times' must be non-negative and increasing")
    num_particles = check_int("num_particles", num_particles, minimum=2)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    progress = check_bool("progress", progress)
    test_functions = list(test_functions)
    if not test_functions or not all(callable(J) for J in test_functions):
        raise TypeError("'test_functions' must be a non-empty sequence of callables J(X, V)")
    if not callable(initial):
        raise TypeError("'initial' must be a callable initial(n, rng) -> (X, V)")
    n_chunks = -(-num_particles // chunk_size)
    # per chunk: X, V, their records at every time (3 dims at most) and the energies
    check_memory("chunk_size", 8 * min(chunk_size, num_particles) * (3 * (2 + 2 * len(times)) + 4),
                 f"a chunk of {min(chunk_size, num_particles)} particles at {len(times)} times")
    seeds = realization_seeds(seed, n_chunks)
    sums = np.zeros((len(test_functions), len(times)))
    sums2 = np.zeros_like(sums)
    collisions = 0
    kernel_seconds = 0.0
    start = _time.perf_counter()
    for c in tqdm(range(n_chunks), disable=not progress, desc="kinetic Monte Carlo"):
        n = min(chunk_size, num_particles - c * chunk_size)
        rng = as_generator(seeds[c])
        X, V = initial(n, rng)
        X = np.array(X, dtype=float, ndmin=2, order="C")
        V = np.array(V, dtype=float, ndmin=2, order="C") % 1.0
        finite = np.isfinite(X).all() and np.isfinite(V).all()
        if X.shape != V.shape or X.shape[0] != n or not finite:
            raise ValueError(f"'initial' must return finite X and V of shape (n, d), got {X.shape}, {V.shape}")
        d = X.shape[1]
        E = dispersion(V)
        unique_E, inverse = np.unique(np.round(E, 12), return_inverse=True)
        _check_shell_energies(unique_E, d)
        rates = collision_rate(unique_E, d)[inverse]
        expected = float(rates.sum() * times[-1])    # the kernel cannot be interrupted
        if expected > 1e11:                          # hours at 1e7 collisions per second
            raise ValueError(f"'times' up to {times[-1]:g} need about {expected:.1e} collisions per "
                             f"chunk of {n} particles (more than 1e11): shorten 'times' or "
                             "'chunk_size'")
        X_out = np.empty((len(times), n, d))
        V_out = np.empty((len(times), n, d))
        tick = _time.perf_counter()
        collisions += _kmc_chunk(X, V, E, rates, times, rng, X_out, V_out)
        kernel_seconds += _time.perf_counter() - tick
        for j in range(len(times)):
            for k, J in enumerate(test_functions):
                vals = check_values_per_sample(f"test_functions[{k}]", J(X_out[j], V_out[j]),
                                               n, "particle")
                sums[k, j] += vals.sum()
                sums2[k, j] += (vals**2).sum()
    seconds = _time.perf_counter() - start
    mean = sums / num_particles
    var = np.maximum(sums2 / num_particles - mean**2, 0.0) * num_particles / (num_particles - 1)
    return KineticMonteCarloResult(times, mean, np.sqrt(var / num_particles), num_particles,
                                   collisions, seconds, kernel_seconds)
