"""The Fermi gas's kinetic limit: Boltzmann predictions of momentum observables (sections 5, 6).

In the kinetic scaling ``T = eta^2 t`` the disorder-averaged momentum distribution of a
translation-invariant quasi-free state converges to the solution ``F_T`` of the linear
Boltzmann equation (5.23) with ``F_0 = J`` (Theorem 5.1); without disorder the
Hartree-Fock terms cancel and the same equation (6.32) holds for the interacting gas of
section 6 (Theorem 6.1). This module holds the Boltzmann side of those comparisons:

* :data:`MOMENTUM_OBSERVABLES` and :func:`boltzmann_observable`: pairings
  ``L^{-d} sum_p w(p) F_T(p)`` of named momentum weights with ``F_T``, on any grid
  (periodic or twisted), with the exact continuum collision rate;
* :func:`displaced_sea_boltzmann_current`: the normalized current of a displaced Fermi
  sea, the reference of the Hartree-Fock chapter;
* :func:`second_order_kinetic_gain`: what the Boltzmann equation does not see, the
  ``O(eta^2)`` dressing of a stationary state by the potential.

The disorder experiments whose averages these predict are in
:mod:`chargetransport.fermions` and :mod:`chargetransport.hartree_fock`; the states in
:mod:`chargetransport.quasi_free_states`. Conventions as there: ``e(p) = sum_i 2 cos(2 pi p_i)``.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_instance, check_int, check_real, check_real_array
from .lattice import Lattice
from .quasi_free_states import as_momentum_distribution, fermi_sea

__all__ = ["MOMENTUM_OBSERVABLES", "boltzmann_observable", "displaced_sea_boltzmann_current",
           "second_order_kinetic_gain"]

# Largest (times x momenta) array of displaced_sea_boltzmann_current: 64 MB of floats.
_REFERENCE_BLOCK = 2**23


# --------------------------------------------------------------------------------------
# Observables of the momentum distribution, and their Boltzmann predictions
# --------------------------------------------------------------------------------------
def _current(k):
    return -2.0 * np.sin(2.0 * np.pi * k[0])


def _quadrupole(k):
    return np.cos(2.0 * np.pi * k[0]) - np.cos(2.0 * np.pi * k[1])


def _kinetic_energy(k):
    return sum(2.0 * np.cos(2.0 * np.pi * ki) for ki in k)


#: Named momentum-space observables ``w(p)`` of
#: :func:`chargetransport.fermions.momentum_distribution_realization`:
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
    >>> J = ct.fermi_sea(lat, -1.0, shift=[0.08, 0.0])
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


# --------------------------------------------------------------------------------------
# The current of a displaced Fermi sea in the linear Boltzmann limit (6.32)
# --------------------------------------------------------------------------------------
def displaced_sea_boltzmann_current(d, L, T, *, mu=0.5, shift=None, beta=3.0, twist=None):
    """Linear Boltzmann current ``j(T) / j(0)`` of a displaced Fermi sea, on a momentum grid.

    Parameters
    ----------
    d, L : int
        Dimension and side of the momentum grid ``(m + twist) / L``.
    T : float or array_like
        Kinetic times ``T >= 0``.
    mu, shift, beta :
        The sea, as in :func:`chargetransport.hartree_fock.displaced_sea_current`.
    twist : float or sequence of d floats, optional
        Offset of the grid (:class:`chargetransport.Lattice`); a twist that keeps
        the grid off the van Hove energy ``e = 0`` (such as ``(1/2, 1/4)`` in
        ``d = 2``) makes the grid sums converge to the integral as ``L`` grows.

    Returns
    -------
    numpy.ndarray
        ``j(T) / j(0)`` with ``j(T) = int dp J(p) v_1(p) exp(-2 pi rho(e(p)) T)``.

    Notes
    -----
    The solution of the homogeneous linear Boltzmann equation (6.32) is
    ``F_T = P J + exp(-m T) (J - P J)``, ``m = 2 pi rho(e)`` and ``P`` the average over
    the energy shell. ``v_1`` is odd under ``p_1 -> -p_1``, which preserves every shell,
    so neither ``P J`` nor ``exp(-m T) P J`` carries current:
    ``j(T) = int J v_1 exp(-m T)``. This is :func:`boltzmann_observable` (the one
    implementation: exact density of states at every grid momentum, van Hove momenta given
    the rate of their mirror images) for the sea of
    :func:`chargetransport.hartree_fock.displaced_sea_current`, normalized by its value at
    ``T = 0``; its grid error is measured by refining ``L``.

    Examples
    --------
    >>> j = displaced_sea_boltzmann_current(2, 256, [0.0, 1.0, 4.0], twist=(0.5, 0.25))
    >>> float(j[0]), bool(1 > j[1] > j[2] > 0)
    (1.0, True)
    """
    lat = Lattice(check_int("d", d, minimum=1, maximum=3), check_int("L", L, minimum=3),
                  twist=twist)
    Ts = np.atleast_1d(check_real_array("T", T))
    if np.any(Ts < 0):
        raise ValueError("'T' must be >= 0")
    shift = [0.1] + [0.0] * (lat.d - 1) if shift is None else shift
    J = fermi_sea(lat, mu, shift=shift, beta=beta)
    times = np.concatenate([[0.0], Ts.ravel()])
    # boltzmann_observable holds a (times x momenta) array: blocks of times keep it
    # below _REFERENCE_BLOCK numbers (a 1024^2 grid at 160 times would take 1.3 GB)
    block = max(1, _REFERENCE_BLOCK // lat.num_sites)
    j = np.concatenate([boltzmann_observable(lat, J, "current", times[i:i + block])
                        for i in range(0, len(times), block)])
    out = (j[1:] / j[0]).reshape(Ts.shape)
    return out[0] if np.ndim(T) == 0 else out


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
    >>> K = second_order_kinetic_gain(lat, ct.gibbs_distribution(lat, np.inf, -1.0))
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
