"""Energy shells of the dispersion: sampling, projections onto level sets, symmetrization.

The energy shell (level set) of ``E`` is ``{k in T^d : e(k) = E}`` with the
dispersion ``e(k) = sum_i 2 cos(2 pi k_i)`` (:meth:`chargetransport.Lattice.dispersion`).
Its measure ``delta(e(k) - E) dk`` has total mass ``rho(E)``
(:func:`chargetransport.density_of_states`, coarea formula); the normalised
measure ``delta(e(U) - E) dU / rho(E)`` is the jump law of the Boltzmann
process and the shell average ``P`` is the projection of the collision
operator. One module for the three ways the package meets shells:

* exactly, on the torus: :func:`sample_energy_shell` draws from the shell
  measure, :func:`shell_average` averages a function over it;
* on a momentum grid, with hard energy bins: :class:`EnergyBins` (the
  projection of :func:`chargetransport.boltzmann.homogeneous_solution`) and
  :func:`equidistribution_defect`;
* on a momentum grid, smoothed: :func:`level_set_average` and
  :func:`level_set_measure` replace the delta function by a Gaussian, so that
  they are continuous in the energy function (any ``E(p)``, e.g. the
  renormalized dispersion of the Hartree-Fock chapter).

:func:`symmetrize` averages a grid function over the point group of ``Z^d``,
which maps every shell of ``e`` to itself.
"""
from __future__ import annotations

import itertools
import math

import numba as nb
import numpy as np

from ._validation import check_int, check_memory, check_real, check_real_array
from .rng import as_generator, check_seed

__all__ = ["critical_energies", "sample_energy_shell", "shell_average", "EnergyBins",
           "level_set_average", "level_set_measure", "equidistribution_defect", "symmetrize"]


# --------------------------------------------------------------------------
# Energy shells of e on the torus: exact sampling through the coarea formula
# --------------------------------------------------------------------------

def critical_energies(d):
    """Energies where grad e vanishes on the shell (van Hove points): the shell
    measure is singular there (rho_2 diverges at 0; rho_3 has cusps at +-2).

    Returns
    -------
    tuple of float
        d = 1: (-2, 2); d = 2: (-4, 0, 4); d = 3: (-6, -2, 2, 6).

    Examples
    --------
    >>> critical_energies(2)
    (-4.0, 0.0, 4.0)
    """
    d = check_int("d", d, minimum=1, maximum=3)
    return {1: (-2.0, 2.0), 2: (-4.0, 0.0, 4.0), 3: (-6.0, -2.0, 2.0, 6.0)}[d]


def _min_gradient_on_shell(E, d):
    """min over the shell e = E of sum_i sin^2(2 pi u_i) = d - max sum_i eps_i^2 / 4,
    eps_i = 2 cos(2 pi u_i) in [-2, 2] with sum eps_i = E. A convex function's
    maximum over this polytope sits at a vertex, where at most one eps_i is
    strictly inside (-2, 2): enumerate the vertices."""
    best = -np.inf
    for plus in range(d):
        for minus in range(d - plus):
            free = E - 2.0 * plus + 2.0 * minus
            rest = d - plus - minus
            if rest >= 1 and abs(free) <= 2.0 and rest - 1 == 0:
                best = max(best, 4.0 * (plus + minus) + free**2)
    # vertices with all coordinates at +-2 (only for E on the lattice 2Z)
    for plus in range(d + 1):
        if abs(E - (2.0 * plus - 2.0 * (d - plus))) < 1e-15:
            best = max(best, 4.0 * d)
    return d - best / 4.0


@nb.njit(cache=True)
def _sample_shell(E, d, bound, rng, theta, out, vel):
    """Draw one momentum exactly from the shell measure delta(e(U) - E) dU (normalised).

    Write eps_i = 2 cos(2 pi u_i): under uniform U the eps_i are i.i.d. with the
    arcsine density a(x) = 1 / (pi sqrt(4 - x^2)), each u_i is one of the two
    preimages +-arccos(eps_i / 2) / (2 pi) with probability 1/2, and the shell
    measure is the law of (eps_i) conditioned on sum eps_i = E.

    * d = 1: eps_1 = E.
    * d = 2: eps_1 has density a(x) a(E - x) on [E - 2, 2] (E > 0; E < 0 by the
      symmetry eps -> -eps). This is the arcsine law of that interval times
      g(x) = ((2 + x)(2 + E - x))^{-1/2} <= (4E)^{-1/2}: propose from the arcsine
      law, accept with probability g / sup g (exact rejection, acceptance ~0.9
      except near the van Hove energy 0).
    * d = 3: with theta_i = arccos(eps_i / 2) the measure is
      delta(f(theta) - E) d theta, f = sum 2 cos theta_i. Split it with the
      partition of unity w_j = sin^2 theta_j / sum_i sin^2 theta_i; piece j, in
      the coordinates theta_{-j} (theta_j solves f = E), has the bounded density
      h_j = sin theta_j / (2 sum_i sin^2 theta_i) <= bound. Propose j and
      theta_{-j} uniformly, accept with probability h_j / bound.
    """
    if d == 1:
        out[0] = 0.5 * E
    elif d == 2:
        F = abs(E)
        a = F - 2.0
        gmax = 1.0 / np.sqrt(4.0 * F)
        while True:
            x = 0.5 * (a + 2.0) + 0.5 * (2.0 - a) * np.cos(np.pi * rng.random())
            g = 1.0 / np.sqrt((2.0 + x) * (2.0 + F - x))
            if rng.random() * gmax <= g:
                break
        sign = 1.0 if E > 0 else -1.0
        out[0] = 0.5 * sign * x
        out[1] = 0.5 * sign * (F - x)
    else:
        while True:
            j = int(rng.random() * d)
            rest = E
            sum_sin2 = 0.0
            for i in range(d):
                if i != j:
                    c = np.cos(np.pi * rng.random())
                    theta[i] = c
                    rest -= 2.0 * c
                    sum_sin2 += 1.0 - c * c
            c = 0.5 * rest
            if c < -1.0 or c > 1.0:
                continue
            theta[j] = c
            sin2_j = 1.0 - c * c
            sum_sin2 += sin2_j
            if rng.random() * bound * 2.0 * sum_sin2 <= np.sqrt(sin2_j):
                break
        for i in range(d):
            out[i] = theta[i]
    # out holds c_i = cos(2 pi u_i); pick one of the two preimages of each at random.
    # The velocity -2 sin(2 pi u_i) = -+2 sqrt(1 - c_i^2) comes without another trig call.
    for i in range(d):
        c = min(1.0, max(-1.0, out[i]))
        u = np.arccos(c) / (2.0 * np.pi)
        speed = 2.0 * np.sqrt(1.0 - c * c)
        if rng.random() < 0.5:
            out[i], vel[i] = u, -speed
        else:
            out[i], vel[i] = 1.0 - u, speed


def _shell_bound(E, d):
    """Rejection bound of the d = 3 sampler (unused, but validated, for d < 3)."""
    if any(abs(E - c) < 1e-9 for c in critical_energies(d)) or abs(E) >= 2 * d:
        raise ValueError(f"energy {E} is a critical energy {critical_energies(d)} or outside the "
                         f"band (-{2 * d}, {2 * d}) in d = {d}: the energy shell has no regular "
                         "measure there")
    return 0.5 / np.sqrt(_min_gradient_on_shell(E, d)) * (1.0 + 1e-12)


@nb.njit(cache=True)
def _sample_shell_many(E, d, bound, rng, n):
    out = np.empty((n, d))
    theta = np.empty(d)
    row = np.empty(d)
    vel = np.empty(d)
    for k in range(n):
        _sample_shell(E, d, bound, rng, theta, row, vel)
        out[k] = row
    return out


def sample_energy_shell(E, d, num_samples, seed):
    """Exact samples of the normalised shell measure ``delta(e(U) - E) dU / rho(E)``.

    Parameters
    ----------
    E : float
        Energy, inside the band and not a critical energy (see :func:`critical_energies`).
    d : int
    num_samples : int
    seed : int, SeedSequence or Generator
        Required (the seed policy of :mod:`chargetransport.rng`).

    Returns
    -------
    numpy.ndarray, shape (num_samples, d)
        Momenta on the torus [0, 1)^d with ``e(U) = E`` to rounding.

    Notes
    -----
    This is the jump law of the Boltzmann process: ``sigma(U, V) dU / m(V)``.
    The coarea formula writes ``delta(e - E) dU`` as ``dS / |grad e|`` on the
    shell. In d = 2 the sampler draws ``2 cos(2 pi U_1)`` from its exact
    conditional law by rejection from an arcsine law; in d = 3 it splits the
    shell into d charts (one per coordinate solved for), weighted by a
    partition of unity that makes every chart's density bounded, and draws by
    rejection (acceptance ``2 pi rho(E) s_min(E) / 3``, ``s_min^2`` the minimum
    of ``sum sin^2(2 pi U_i)`` on the shell). Both are exact; their cost grows
    near the critical energies, where the shell measure is singular.

    Examples
    --------
    >>> from chargetransport import dispersion
    >>> U = sample_energy_shell(1.5, 3, 1000, seed=0)
    >>> bool(np.abs(dispersion(U) - 1.5).max() < 1e-12)
    True
    """
    d = check_int("d", d, minimum=1, maximum=3)
    E = check_real("E", E)
    num_samples = check_int("num_samples", num_samples, minimum=0)
    check_memory("num_samples", 8 * d * num_samples, f"{num_samples} momenta in d = {d}")
    rng = as_generator(check_seed(seed, allow_generator=True))
    return _sample_shell_many(E, d, _shell_bound(E, d), rng, num_samples)


def shell_average(J, E, d, num_samples=200_000, seed=0):
    """Average of a function over the energy shell: ``(P J)(E)`` with its standard error.

    Parameters
    ----------
    J : callable
        ``J(U)`` for an array ``U`` of shape (n, d) of momenta; returns shape (n,).
    E : float
    d : int
    num_samples : int, default 200000
        Exact shell samples (Monte Carlo error ~ std(J) / sqrt(num_samples)).
    seed : int, SeedSequence or Generator, default 0
        An estimate with its error: reproducible default (:mod:`chargetransport.rng`).

    Returns
    -------
    mean, standard_error : float

    Examples
    --------
    >>> from chargetransport import dispersion
    >>> mean, se = shell_average(dispersion, 1.0, 2, num_samples=1000)   # e = E on the shell
    >>> round(mean, 12), se < 1e-12
    (1.0, True)
    """
    if not callable(J):
        raise TypeError(f"'J' must be a callable J(U) -> (n,), got {type(J).__name__}")
    num_samples = check_int("num_samples", num_samples, minimum=2)
    U = sample_energy_shell(E, d, num_samples, seed)
    values = np.asarray(J(U), dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


# --------------------------------------------------------------------------
# Fields on a momentum grid
# --------------------------------------------------------------------------

def _check_grid_field(name, value):
    arr = check_real_array(name, value)
    if not 1 <= arr.ndim <= 3 or len(set(arr.shape)) != 1 or arr.shape[0] < 3:
        raise ValueError(f"'{name}' must be a field on a box grid, shape (L,)*d with d in 1..3 "
                         f"and L >= 3, got {arr.shape}")
    return arr



def _reflect(v):
    """``v(-p)`` on the grid (numpy.fft order: ``-m`` is ``(-m) mod L`` on every axis)."""
    out = v
    for axis in range(v.ndim):
        out = np.roll(np.flip(out, axis=axis), 1, axis=axis)
    return out




class EnergyBins:
    """The momentum grid cut into energy bins ``[origin + k w, origin + (k + 1) w)``.

    Parameters
    ----------
    energy : numpy.ndarray
        Energy of each grid momentum (e.g. :meth:`chargetransport.Lattice.dispersion`).
    bin_width : float
        ``w > 0``.
    origin : float, optional
        Lower edge of bin 0 (default ``energy.min()``); every energy must be
        ``>= origin``.

    Attributes
    ----------
    index : numpy.ndarray of int64, shape ``(energy.size,)``
        Bin of each grid momentum (C order).
    counts : numpy.ndarray of int64
        Grid momenta per bin (bins ``0 .. index.max()``).
    lower : numpy.ndarray
        Lower edge of each bin.

    Notes
    -----
    :meth:`project` is the conditional expectation given the bin: an
    orthogonal projection for the grid's counting measure, which is the grid
    version of the shell average ``P``. It is exact on functions of the bin
    and conserves ``sum F``.

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 16).dispersion()
    >>> bins = EnergyBins(e, 0.5, origin=-4.0)
    >>> P = bins.project(e)
    >>> bool(np.allclose(bins.project(P), P)), bool(np.isclose(P.sum(), e.sum()))
    (True, True)
    """

    def __init__(self, energy, bin_width, origin=None):
        energy = check_real_array("energy", energy)
        self.bin_width = check_real("bin_width", bin_width, minimum=0.0, strict_minimum=True)
        self.origin = (float(energy.min()) if origin is None
                       else check_real("origin", origin, maximum=float(energy.min())))
        self.shape = energy.shape
        self.index = np.floor((energy - self.origin) / self.bin_width).astype(np.int64).ravel()
        self.counts = np.bincount(self.index)
        self.lower = self.origin + self.bin_width * np.arange(len(self.counts))

    def project(self, F):
        """Average of ``F`` (the shape of ``energy``) over each bin, at every grid momentum."""
        F = check_real_array("F", F)
        if F.shape != self.shape:
            raise ValueError(f"'F' must have the shape {self.shape} of 'energy', got {F.shape}")
        sums = np.bincount(self.index, weights=F.ravel())
        return (sums / np.maximum(self.counts, 1))[self.index].reshape(self.shape)


# --------------------------------------------------------------------------
# Smoothed level sets on a momentum grid
# --------------------------------------------------------------------------
@nb.njit(cache=True)
def _smoothed_shell_sums(energy_sorted, values_sorted, energy, width, cutoff):
    """For each energy E_p: sum_u K(E_u - E_p) F_u and sum_u K(E_u - E_p), K Gaussian."""
    n = energy.size
    m = energy_sorted.size
    num = np.empty(n)
    den = np.empty(n)
    for i in range(n):
        e0 = energy[i]
        lo = np.searchsorted(energy_sorted, e0 - cutoff)
        hi = np.searchsorted(energy_sorted, e0 + cutoff, side="right")
        s = 0.0
        w = 0.0
        for j in range(lo, hi):
            x = (energy_sorted[j] - e0) / width
            k = math.exp(-0.5 * x * x)
            s += k * values_sorted[j]
            w += k
        num[i] = s
        den[i] = w
    return num, den


def _shell_sums(F, energy, width):
    order = np.argsort(energy, axis=None, kind="stable")
    es = np.ascontiguousarray(energy.ravel()[order])
    fs = np.ascontiguousarray(F.ravel()[order])
    num, den = _smoothed_shell_sums(es, fs, np.ascontiguousarray(energy.ravel()), width,
                                    8.0 * width)
    return num.reshape(energy.shape), den.reshape(energy.shape)


def _check_width(width):
    return check_real("width", width, minimum=0.0, strict_minimum=True)


def level_set_average(F, energy, width=0.05):
    """Average of ``F`` over the level surface of ``energy`` through each grid point.

    Parameters
    ----------
    F : numpy.ndarray, shape ``(L,) * d``
        Real function on the momentum grid.
    energy : numpy.ndarray, shape ``(L,) * d``
        The dispersion whose level surfaces are used (``e`` or ``Ebar``).
    width : float, default 0.05
        Width ``w`` of the Gaussian ``delta_w`` replacing the delta function.

    Returns
    -------
    numpy.ndarray
        ``(P F)(p) = int du delta_w(E(u) - E(p)) F(u) / int du delta_w(E(u) - E(p))``,
        the right-hand side of (6.43) (``= 2 pi / mbar * int du delta(...) F``).

    Notes
    -----
    On the grid the integrals are sums over the ``L^d`` momenta. The smoothed
    ``P`` converges to the level-surface average as ``w -> 0`` and
    ``L -> infinity`` with ``w`` large compared with the grid's energy spacing
    ``|grad E| / L``. It is continuous in ``energy``, which the fixed-point
    iteration of :func:`chargetransport.hartree_fock_stationary.solve_stationary_state`
    needs (hard energy bins make the map discontinuous).

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 64).dispersion()
    >>> bool(np.allclose(level_set_average(np.ones_like(e), e), 1.0))
    True
    """
    F = _check_grid_field("F", F)
    energy = _check_grid_field("energy", energy)
    if energy.shape != F.shape:
        raise ValueError(f"'energy' must have the shape {F.shape} of 'F', got {energy.shape}")
    width = _check_width(width)
    num, den = _shell_sums(F, energy, width)
    return num / den


def level_set_measure(energy, width=0.05):
    """The measure ``mbar(p) = 2 pi int du delta(E(u) - E(p))`` of the level surface (6.44).

    Parameters
    ----------
    energy : numpy.ndarray, shape ``(L,) * d``
    width : float, default 0.05
        Gaussian width replacing the delta function.

    Returns
    -------
    numpy.ndarray
        ``2 pi L^{-d} sum_u delta_w(E(u) - E(p))``. For ``E = e`` it tends to the
        Boltzmann collision rate ``2 pi rho(e(p))``
        (:func:`chargetransport.boltzmann.collision_rate`).

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 256).dispersion()
    >>> m = level_set_measure(e, width=0.02)
    >>> i = np.argmin(np.abs(e - 1.0))
    >>> bool(abs(m.flat[i] / (2 * np.pi * ct.density_of_states(e.flat[i], 2)) - 1) < 0.02)
    True
    """
    energy = _check_grid_field("energy", energy)
    width = _check_width(width)
    _, den = _shell_sums(np.ones_like(energy), energy, width)
    return 2.0 * np.pi * den / (energy.size * width * math.sqrt(2.0 * math.pi))


def equidistribution_defect(F, energy, bin_width=0.05):
    """How far ``F`` is from a function of ``energy``: ``||F - B F||_2 / ||F - <F>||_2``.

    ``B`` is the average over energy bins of width ``bin_width`` (a projection:
    the conditional expectation given the bin), so the ratio is the fraction of
    the spread of ``F`` that is not explained by ``energy``: 0 for a function of
    ``energy`` that is constant on each bin, about 1 when ``energy`` carries no
    information about ``F``. A smooth function of ``energy`` of slope ``s`` gives
    about ``s * bin_width / sqrt(12)`` in the numerator. Norms are grid means.

    Parameters
    ----------
    F, energy : numpy.ndarray, shape ``(L,) * d``
    bin_width : float, default 0.05
        Bins of :class:`EnergyBins` starting at ``energy.min()``.

    Returns
    -------
    float

    Examples
    --------
    >>> import chargetransport as ct
    >>> lat = ct.Lattice(2, 32)
    >>> e = lat.dispersion()
    >>> F = EnergyBins(e, 0.25).index.reshape(e.shape) ** 2        # constant on every bin
    >>> equidistribution_defect(F, e, bin_width=0.25)
    0.0
    >>> k = lat.momenta()[0] * np.ones(lat.shape)
    >>> equidistribution_defect(np.sin(2 * np.pi * k), e) > 0.9    # odd in p, e even: no information
    True
    """
    F = _check_grid_field("F", F)
    energy = _check_grid_field("energy", energy)
    if energy.shape != F.shape:
        raise ValueError(f"'energy' must have the shape {F.shape} of 'F', got {energy.shape}")
    BF = EnergyBins(energy, bin_width).project(F)
    spread = float(np.sqrt(np.mean((F - F.mean()) ** 2)))
    if spread == 0.0:
        return 0.0
    return float(np.sqrt(np.mean((F - BF) ** 2))) / spread


def symmetrize(F):
    """Average of ``F`` over the point group of ``Z^d`` (axis reflections and permutations).

    When ``J`` and ``v`` are invariant under the ``d! 2^d`` symmetries of the
    lattice, so is the exact ensemble mean ``mu_t``; averaging an estimate over
    the group keeps its mean and divides the variance of independent noise by up
    to ``d! 2^d`` (8 in ``d = 2``).

    Parameters
    ----------
    F : numpy.ndarray, shape ``(L,) * d``
        Function on the momentum grid (numpy.fft order: ``-p`` is ``(-m) mod L``).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import chargetransport as ct
    >>> lat = ct.Lattice(2, 8)
    >>> bool(np.allclose(symmetrize(lat.dispersion()), lat.dispersion()))   # e is invariant
    True
    >>> F = np.cos(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)      # cos(2 pi p_1)
    >>> bool(np.allclose(symmetrize(F), lat.dispersion() / 4))               # -> e / 4
    True
    """
    F = _check_grid_field("F", F)
    d = F.ndim
    images = []
    for perm in itertools.permutations(range(d)):
        G = np.transpose(F, perm)
        for flips in itertools.product((False, True), repeat=d):
            H = G
            for axis, flip in enumerate(flips):
                if flip:
                    H = np.roll(np.flip(H, axis=axis), 1, axis=axis)
            images.append(H)
    return np.mean(images, axis=0)
