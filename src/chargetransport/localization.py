"""Localization: eigenvector diagnostics and the spreading functional (section 4).

Section 4 of the lectures bounds localization lengths from below: if the state started
at the origin has hardly noticed the disorder by time ``t``, no eigenfunction that
overlaps it can be localized on a length much shorter than ``t``. The tools for that
argument:

* :func:`spreading_functional`, the quantity ``E ||e^{-itH} phi_0 - e^{-it Delta}
  phi_0||^2`` of eqs. (4.1) and (4.16), over disorder realizations
  (:func:`spreading_distance` is one realization), and its kinetic-limit value
  :func:`golden_rule_spreading`;
* :func:`inverse_participation_ratio` and :func:`eigenvector_ipr`: how many sites the
  eigenvectors of ``H`` occupy.

The localization lengths themselves (Lyapunov exponents of chains, strips and bars by
the transfer-matrix method) are in :mod:`chargetransport.transfer_matrix`.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_bool, check_instance, check_int, check_real, check_real_array
from .dos import density_of_states
from .hamiltonian import AndersonHamiltonian
from .lattice import Lattice
from .propagation import free_evolution, trajectory
from .rng import Realization
from .transfer_matrix import _MAX_ETA

__all__ = ["eigenvector_ipr", "golden_rule_spreading", "inverse_participation_ratio",
           "spreading_distance", "spreading_functional"]


# --------------------------------------------------------------------------------------
# Eigenvector diagnostics and the spreading functional
# --------------------------------------------------------------------------------------
def inverse_participation_ratio(vectors, axis=-1):
    """``IPR = sum |psi|^4 / (sum |psi|^2)^2`` of each vector along ``axis``.

    ``1/IPR`` is the number of sites a state occupies: ``1/N`` for a plane wave
    on ``N`` sites, 1 for a state on one site, ``~xi^{-d}`` for a state localized
    on a length ``xi``.

    Parameters
    ----------
    vectors : array_like (real or complex)
    axis : int, default -1
        The site axis (for ``numpy.linalg.eigh`` output use ``axis=0``).

    Returns
    -------
    numpy.ndarray or float
    """
    v = np.asarray(vectors)
    if v.dtype == object or not np.issubdtype(v.dtype, np.number):
        raise TypeError("'vectors' must be an array of numbers")
    if v.ndim == 0:
        raise ValueError("'vectors' must have at least one dimension")
    p = np.abs(v) ** 2
    norm = p.sum(axis=axis)
    if np.any(norm == 0) or not np.all(np.isfinite(norm)):
        raise ValueError("'vectors' must be finite and nonzero")
    out = (p**2).sum(axis=axis) / norm**2
    return float(out) if np.ndim(out) == 0 else out


def eigenvector_ipr(hamiltonian, energy_window=None):
    """Eigenvalues and IPRs of the eigenvectors of ``H`` (dense diagonalisation).

    Parameters
    ----------
    hamiltonian : AndersonHamiltonian
        On at most 8000 sites (dense ``eigh``).
    energy_window : (float, float), optional
        Keep only eigenvalues in ``[a, b]``.

    Returns
    -------
    energies, ipr : numpy.ndarray
    """
    check_instance("hamiltonian", hamiltonian, AndersonHamiltonian)
    n = hamiltonian.lattice.num_sites
    if n > 8000:
        raise ValueError(f"the lattice has {n} sites; dense diagonalisation is limited to 8000")
    if energy_window is not None:
        if np.ndim(energy_window) != 1 or len(energy_window) != 2:
            raise ValueError("'energy_window' must be a pair (a, b) of energies with a < b, got "
                             f"{energy_window!r}")
        a, b = (check_real("energy_window[0]", energy_window[0]),
                check_real("energy_window[1]", energy_window[1]))
        if not a < b:
            raise ValueError("'energy_window' must be (a, b) with a < b")
    Hd = hamiltonian.to_sparse().toarray()
    evals, evecs = np.linalg.eigh(Hd)
    if energy_window is not None:
        keep = (evals >= a) & (evals <= b)
        evals, evecs = evals[keep], evecs[:, keep]
    if evals.size == 0:
        return evals, np.zeros(0)
    return evals, inverse_participation_ratio(evecs, axis=0)


def _check_times(times):
    times = check_real_array("times", times, ndim=1)
    if times.size == 0:
        raise ValueError("'times' must contain at least one time, got an empty array")
    return times


def spreading_distance(seed, *, d, L, eta, times, distribution="gaussian", decay_exponent=0.0,
                       tol=1e-10):
    """One realization of ``||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2`` at ``times``.

    The observable behind :func:`spreading_functional` (for
    :func:`chargetransport.ensemble_average`): draws ``V`` from ``seed`` by the
    seed contract, :meth:`chargetransport.rng.Realization.potential` (``decay_exponent`` gives the
    decaying potential ``w_x <x>^{-sigma}`` of section 4.1), starts from the
    Kronecker delta at the centre of the periodic box ``Lambda_L`` and compares
    ``ct.evolve`` (Chebyshev, tolerance ``tol``) with the exact free flow.

    Returns
    -------
    numpy.ndarray, shape ``(len(times),)``
    """
    real = Realization(seed)
    lattice = Lattice(d=d, L=L)
    times = _check_times(times)
    H = real.hamiltonian(lattice, eta, distribution, decay_exponent)
    psi0 = np.zeros(lattice.shape, dtype=np.complex128)
    psi0[(lattice.origin_index,) * d] = 1.0
    free = free_evolution(lattice, psi0, times)
    out = np.empty(len(times))
    for i, psi in trajectory(H, psi0, times, tol=tol):
        out[i] = float(np.sum(np.abs(psi - free[i]) ** 2))
    return out


def spreading_functional(*, d, L, eta, times, num_realizations, seed=0, distribution="gaussian",
                         decay_exponent=0.0, tol=1e-10, executor="serial", max_workers=None,
                         numba_threads=None, progress=True):
    """``E ||e^{-itH} phi_0 - e^{-it Delta} phi_0||^2`` with ``phi_0 = delta_0``, eqs. (4.1), (4.16).

    Parameters
    ----------
    d, L : int
        The periodic box ``Lambda_L`` in ``Z^d``; choose ``L`` larger than twice
        the ballistic distance ``2 sqrt(d) t`` so that the box boundary is not seen.
    eta : float
    times : array_like of float
    num_realizations : int
    seed : int or SeedSequence
    distribution : str
    decay_exponent : float, default 0
        ``sigma`` of the decaying potential ``w_x <x>^{-sigma}`` (section 4.1).
    tol : float
        Chebyshev tolerance of :func:`chargetransport.evolve`.
    executor, max_workers, numba_threads, progress
        Passed to :func:`chargetransport.ensemble_average` (the result does not
        depend on them).

    Returns
    -------
    mean, standard_error : numpy.ndarray, shape ``(len(times),)``

    Notes
    -----
    If the functional is small at time ``t``, the state started at the origin
    has not yet noticed the disorder: ``e^{-itH} delta_0`` still spreads
    ballistically over a distance ``~t``, so no eigenfunction overlapping
    ``delta_0`` can be localized on a much shorter length; (4.1) small up to
    ``t`` is a lower bound ``O(t)`` on the localization length (section 4).
    """
    from functools import partial

    from .ensemble import ensemble_average

    progress = check_bool("progress", progress)
    eta = check_real("eta", eta, minimum=0.0, maximum=_MAX_ETA)
    Lattice(d=d, L=L)                      # validates d and L before any realization
    obs = partial(spreading_distance, d=d, L=L, eta=eta, times=_check_times(times),
                  distribution=distribution, decay_exponent=decay_exponent, tol=tol)
    result = ensemble_average(obs, num_realizations, seed, executor=executor,
                              max_workers=max_workers, numba_threads=numba_threads,
                              progress=progress)
    return np.asarray(result.mean), np.asarray(result.standard_error)


def golden_rule_spreading(T, d, *, half_width=400.0, num_points=2**21):
    """Kinetic-limit value of ``E ||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2`` at ``T = eta^2 t``.

    Parameters
    ----------
    T : float or array_like of float, ``T >= 0``
        Kinetic time.
    d : {1, 2, 3}
    half_width, num_points : float, int
        The energy grid ``[-half_width, half_width)`` on which the Hilbert
        transform of the density of states is taken by FFT (its periodic images
        shift ``R`` by ``O(1 / half_width)``).

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    To second order in ``eta`` and for ``t -> infinity`` at fixed ``T`` the
    averaged propagator is ``E e^{-itH} = e^{-it (Delta + eta^2 Sigma(Delta))}`` with
    the Born self-energy ``Sigma(E) = G_0(E + i0) = R(E) - i pi rho(E)``,
    ``R(E) = P.V. int rho(E') / (E - E') dE'``. With ``|delta_0^(k)|^2 = 1`` this
    gives

        F(T) = 2 - 2 int dE rho(E) exp(-pi rho(E) T) cos(R(E) T),

    whose slope at ``T = 0`` is the golden-rule rate ``2 pi int rho^2 dE`` and
    which tends to 2 (no memory of the free flow) as ``T -> infinity``.
    """
    from scipy.signal import hilbert

    d = check_int("d", d, minimum=1, maximum=3)
    half_width = check_real("half_width", half_width, minimum=10.0)
    num_points = check_int("num_points", num_points, minimum=1024)
    scalar = np.ndim(T) == 0
    Ts = np.atleast_1d(check_real_array("T", T))
    if np.any(Ts < 0):
        raise ValueError("'T' must be >= 0")
    dE = 2.0 * half_width / num_points
    # cell centres: E = 0 (log singularity of rho_2) is never a grid point
    E = -half_width + dE * (np.arange(num_points) + 0.5)
    rho = np.zeros_like(E)
    inside = np.abs(E) < 2 * d
    rho[inside] = density_of_states(E[inside], d)
    rho /= rho.sum() * dE  # the discretised density has unit mass, so F(0) = 0 exactly
    R = np.pi * np.imag(hilbert(rho))
    out = np.array([2.0 - 2.0 * np.sum(rho * np.exp(-np.pi * rho * t) * np.cos(R * t)) * dE
                    for t in Ts.ravel()]).reshape(Ts.shape)
    return float(out[0]) if scalar else out
