"""Localization: eigenvector diagnostics and the spreading functional (section 4).

Section 4 of the lectures bounds localization lengths from below: if the state started
at the origin has hardly noticed the disorder by time ``t``, no eigenfunction that
overlaps it can be localized on a length much shorter than ``t``. The tools for that
argument:

* :func:`spreading_functional`, the quantity ``E ||e^{-itH} phi_0 - e^{-it Delta}
  phi_0||^2`` of eqs. (4.1) and (4.16), over disorder realizations
  (:func:`spreading_distance` is one realization), optionally with the first Duhamel
  term as a control variate; its second-order (Born) part :func:`born_spreading`,
  exact for the Anderson model and for decaying potentials ``w_x <x>^{-sigma}``; and
  its kinetic-limit value :func:`golden_rule_spreading`;
* :func:`inverse_participation_ratio` and :func:`eigenvector_ipr`: how many sites the
  eigenvectors of ``H`` occupy.

The localization lengths themselves (Lyapunov exponents by the transfer-matrix method)
are in :mod:`chargetransport.transfer_matrix` (chains) and
:mod:`chargetransport.strip_transfer_matrix` (strips and bars).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ._validation import (check_bool, check_instance, check_int, check_memory, check_real,
                          check_real_array)
from .dos import density_of_states
from .hamiltonian import AndersonHamiltonian
from .lattice import Lattice
from .propagation import free_evolution, trajectory
from .rng import Realization
from .transfer_matrix import _MAX_ETA

__all__ = ["SpreadingResult", "born_spreading", "eigenvector_ipr", "golden_rule_spreading",
           "inverse_participation_ratio", "spreading_distance", "spreading_estimate",
           "spreading_functional"]


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
                       tol=1e-10, born_term=False):
    """One realization of ``||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2`` at ``times``.

    The observable behind :func:`spreading_functional` (for
    :func:`chargetransport.ensemble_average`): draws ``V`` from ``seed`` by the
    seed contract, :meth:`chargetransport.rng.Realization.potential` (``decay_exponent`` gives the
    decaying potential ``w_x <x>^{-sigma}`` of section 4.1), starts from the
    Kronecker delta at the centre of the periodic box ``Lambda_L`` and compares
    ``ct.evolve`` (Chebyshev, tolerance ``tol``) with the exact free flow.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The realization (see :mod:`chargetransport.rng`).
    d, L : int
        The periodic box.
    eta : float
    times : array_like of float
    distribution : str, default "gaussian"
    decay_exponent : float, default 0
    tol : float, default 1e-10
        Chebyshev tolerance, relative to the norm of the state.
    born_term : bool, default False
        Also return ``||psi_t^(1)||^2``, the squared norm of the first Duhamel term
        ``psi_t^(1) = -i eta int_0^t e^{-i(t-s) Delta} V e^{-is Delta} delta_0 ds``
        (:func:`chargetransport.duhamel.duhamel_terms`), whose mean over the disorder
        is ``eta^2 born_spreading(t)`` exactly: the control variate of
        :func:`spreading_functional`. Costs about two more propagations.

    Returns
    -------
    numpy.ndarray, shape ``(len(times),)``, or dict
        The squared distance; with ``born_term=True`` a dict with the keys
        ``"distance"`` and ``"born_term"``.

    Examples
    --------
    >>> import chargetransport as ct
    >>> seed = ct.realization_seeds(0, 1)[0]
    >>> out = spreading_distance(seed, d=2, L=16, eta=0.1, times=[1.0], born_term=True)
    >>> bool(abs(out["distance"][0] / out["born_term"][0] - 1) < 0.05)  # second order dominates
    True
    """
    real = Realization(seed)
    lattice = Lattice(d=d, L=L)
    times = _check_times(times)
    born_term = check_bool("born_term", born_term)
    H = real.hamiltonian(lattice, eta, distribution, decay_exponent)
    psi0 = np.zeros(lattice.shape, dtype=np.complex128)
    psi0[(lattice.origin_index,) * d] = 1.0
    free = free_evolution(lattice, psi0, times)
    out = np.empty(len(times))
    for i, psi in trajectory(H, psi0, times, tol=tol):
        out[i] = float(np.sum(np.abs(psi - free[i]) ** 2))
    if not born_term:
        return out
    from .duhamel import duhamel_terms

    first = duhamel_terms(H, psi0, times=times, order=1, tol=tol)[:, 1]
    born = np.sum(np.abs(first) ** 2, axis=tuple(range(1, d + 1)))
    return {"distance": out, "born_term": born}


@dataclasses.dataclass(frozen=True)
class SpreadingResult:
    """The spreading functional over disorder realizations (:func:`spreading_functional`).

    Attributes
    ----------
    times : numpy.ndarray
    mean, standard_error : numpy.ndarray
        The estimate of ``E ||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2`` at each
        time and its standard error (over realizations).
    samples : numpy.ndarray, shape ``(R, len(times))``
        One value per realization whose average is :attr:`mean`: the squared
        distance ``F_r``, or with the control variate ``F_r - Q_r + eta^2 b(t)``
        (``Q_r`` the realization's Born term, ``b`` :func:`born_spreading`).
        Resample these rows for a bootstrap.
    born : numpy.ndarray or None
        ``eta^2 born_spreading(times)``, the exact mean of the Born term (control
        variate only).
    born_samples : numpy.ndarray or None, shape ``(R, len(times))``
        The realizations' Born terms ``Q_r`` (control variate only); their mean
        agrees with :attr:`born` within its error, a check of both.
    """

    times: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    samples: np.ndarray
    born: np.ndarray | None = None
    born_samples: np.ndarray | None = None

    @property
    def num_realizations(self):
        """``R``."""
        return self.samples.shape[0]

    def __iter__(self):
        """``mean, se = result``: the two numbers most callers want."""
        return iter((self.mean, self.standard_error))


def spreading_functional(*, d, L, eta, times, num_realizations, seed=0, distribution="gaussian",
                         decay_exponent=0.0, tol=1e-10, control_variate=False,
                         executor="serial", max_workers=None, numba_threads=None, progress=True):
    """``E ||e^{-itH} phi_0 - e^{-it Delta} phi_0||^2`` with ``phi_0 = delta_0``, eqs. (4.1), (4.16).

    Parameters
    ----------
    d, L : int
        The periodic box ``Lambda_L`` in ``Z^d``; with ``L > 4 t + O(t^{1/3})`` the
        ballistic front (speed at most 2 in each coordinate) has not wrapped around
        the box by time ``t``, and the result is that of ``Z^d``.
    eta : float
    times : array_like of float
    num_realizations : int
    seed : int or SeedSequence
    distribution : str
    decay_exponent : float, default 0
        ``sigma`` of the decaying potential ``w_x <x>^{-sigma}`` (section 4.1).
    tol : float
        Chebyshev tolerance of :func:`chargetransport.evolve`.
    control_variate : bool, default False
        Average ``F_r - Q_r`` instead of ``F_r`` and add the exact mean
        ``eta^2 born_spreading(t)`` of the Born terms ``Q_r`` (see
        :func:`spreading_distance`). Unbiased; the variance drops from that of the
        second-order term (dominated by the potential at the origin) to that of the
        higher orders, by one to three orders of magnitude at small ``eta``, for
        about three times the cost per realization. The exact mean is that of
        ``Z^d`` (``L`` is used for ``decay_exponent = 0``, where the periodic box
        has a closed form too); for ``decay_exponent > 0``, ``d <= 2`` and the
        times must stay below ``L / 4`` (no wrap-around).
    executor, max_workers, numba_threads, progress
        Passed to :func:`chargetransport.ensemble_average` (the result does not
        depend on them).

    Returns
    -------
    SpreadingResult
        ``mean``, ``standard_error``, the per-realization ``samples`` (and the Born
        terms); ``mean, se = spreading_functional(...)`` unpacks the first two.

    Notes
    -----
    If the functional is small at time ``t``, the state started at the origin
    has not yet noticed the disorder: ``e^{-itH} delta_0`` still spreads
    ballistically over a distance ``~t``, so no eigenfunction overlapping
    ``delta_0`` can be localized on a much shorter length; (4.1) small up to
    ``t`` is a lower bound ``O(t)`` on the localization length (section 4).

    Examples
    --------
    >>> res = spreading_functional(d=2, L=24, eta=0.2, times=[2.0, 4.0], num_realizations=16,
    ...                            control_variate=True, progress=False)
    >>> bool(np.all(res.standard_error < 0.1 * res.mean))
    True
    """
    from functools import partial

    from .ensemble import ensemble_average

    progress = check_bool("progress", progress)
    control_variate = check_bool("control_variate", control_variate)
    eta = check_real("eta", eta, minimum=0.0, maximum=_MAX_ETA)
    Lattice(d=d, L=L)                      # validates d and L before any realization
    times = _check_times(times)
    sigma = check_real("decay_exponent", decay_exponent, minimum=0.0)
    born = _born_mean(d, L, eta, times, sigma) if control_variate else None
    obs = partial(spreading_distance, d=d, L=L, eta=eta, times=times, distribution=distribution,
                  decay_exponent=sigma, tol=tol, born_term=control_variate)
    result = ensemble_average(obs, num_realizations, seed, executor=executor,
                              max_workers=max_workers, numba_threads=numba_threads,
                              progress=progress, keep_samples=True)
    if control_variate:
        return _spreading_result(times, result.samples["distance"], born,
                                 result.samples["born_term"])
    return _spreading_result(times, result.samples["value"])


def spreading_estimate(samples, *, d, L, eta, times, decay_exponent=0.0):
    """The spreading functional from stored values of :func:`spreading_distance`.

    The estimate :func:`spreading_functional` makes of its own realizations, for
    realizations computed elsewhere (e.g. a stored study,
    :func:`chargetransport.studies.load_study`): with the Born terms, the control variate.

    Parameters
    ----------
    samples : mapping
        ``"distance"``, shape ``(R, len(times))``, and optionally ``"born_term"`` of the
        same shape (then the control variate is used).
    d, L, eta, times, decay_exponent
        The arguments the realizations were computed with.

    Returns
    -------
    SpreadingResult

    Examples
    --------
    >>> import chargetransport as ct
    >>> seeds = ct.realization_seeds(1, 4)
    >>> runs = [spreading_distance(s, d=2, L=24, eta=0.3, times=[2.0], born_term=True)
    ...         for s in seeds]
    >>> samples = {k: np.array([r[k] for r in runs]) for k in ("distance", "born_term")}
    >>> est = spreading_estimate(samples, d=2, L=24, eta=0.3, times=[2.0])
    >>> ref = spreading_functional(d=2, L=24, eta=0.3, times=[2.0], num_realizations=4,
    ...                            seed=1, control_variate=True, progress=False)
    >>> bool(np.array_equal(est.samples, ref.samples))
    True
    """
    eta = check_real("eta", eta, minimum=0.0, maximum=_MAX_ETA)
    Lattice(d=d, L=L)
    times = _check_times(times)
    sigma = check_real("decay_exponent", decay_exponent, minimum=0.0)
    distance = np.asarray(samples["distance"], dtype=float)
    if distance.ndim != 2 or distance.shape[1] != times.size:
        raise ValueError(f"'samples[\"distance\"]' must have shape (R, {times.size}), got "
                         f"{distance.shape}")
    if "born_term" not in samples:
        return _spreading_result(times, distance)
    born_samples = np.asarray(samples["born_term"], dtype=float)
    if born_samples.shape != distance.shape:
        raise ValueError(f"'samples[\"born_term\"]' must have the shape {distance.shape} of "
                         f"'samples[\"distance\"]', got {born_samples.shape}")
    return _spreading_result(times, distance, _born_mean(d, L, eta, times, sigma), born_samples)


def _born_mean(d, L, eta, times, sigma):
    """``eta^2 born_spreading(times)``, the exact mean of the Born terms (the box's for
    sigma = 0; box-free for decaying potentials, which must not wrap around)."""
    if sigma > 0.0 and (d > 2 or times.max() > L / 4):
        raise ValueError("the control variate with 'decay_exponent' > 0 needs d <= 2 and "
                         f"times <= L / 4 = {L / 4:g} (no wrap-around), got d = {d}, "
                         f"max(times) = {times.max():g}")
    return eta**2 * born_spreading(times, d, decay_exponent=sigma,
                                   L=L if sigma == 0.0 else None)


def _spreading_result(times, distance, born=None, born_samples=None):
    """Mean and standard error over realizations of ``F_r`` or, with the Born terms, of
    ``F_r - Q_r + eta^2 b(t)``."""
    distance = np.asarray(distance)
    if born is None:
        samples = distance
    else:
        born_samples = np.asarray(born_samples)
        samples = distance - born_samples + born
    R = samples.shape[0]
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(R) if R > 1 else np.full_like(mean, np.nan)
    return SpreadingResult(times, mean, se, samples, born, born_samples)


# --------------------------------------------------------------------------------------
# The Born (second-order) term of the spreading functional
# --------------------------------------------------------------------------------------
# Gauss-Legendre panels for the time integrals, _BORN_NODES nodes on panels of length at
# most 6 / d. The integrands oscillate at angular frequencies up to 4d (products of the
# J_n(2s), each of frequency <= 2 per coordinate), i.e. by at most 12 radians over the
# half-panel; the error of the 16-point rule is then of the order of J_32(12) ~ 3e-11
# (checked in the tests against a finer rule).
_BORN_NODES = 16


def _gauss_panels(times, d):
    """Gauss-Legendre nodes and weights on ``[0, max(times)]``, panel edges at every time."""
    panel = 6.0 / d
    edges = [0.0]
    for t in np.unique(times):
        if t > edges[-1]:
            n = int(np.ceil((t - edges[-1]) / panel - 1e-12))
            edges += list(np.linspace(edges[-1], t, n + 1)[1:])
    edges = np.array(edges)
    x, w = np.polynomial.legendre.leggauss(_BORN_NODES)
    a, b = edges[:-1, None], edges[1:, None]
    return ((a + b) / 2 + (b - a) / 2 * x).ravel(), ((b - a) / 2 * w).ravel(), edges


def _light_cone(s):
    """Radius beyond which every J_n(2s), n > radius, is below ~1e-9: 2s + 6 (2s)^{1/3} + 12."""
    return np.ceil(2.0 * s + 6.0 * np.cbrt(2.0 * s) + 12.0).astype(np.int64)


def _born_uniform(times, d, L):
    """``2 int_0^t (t - u) |g(u)|^{2d} du``, ``g`` the return amplitude of the 1D chain."""
    from scipy import special

    out = np.empty(len(times))
    for i, t in enumerate(times):
        u, w, _ = _gauss_panels(np.array([t]), d)
        if L is None:
            g2 = special.j0(2.0 * u) ** 2
        else:  # the ring of L sites: g(u) = (1/L) sum_m exp(-2iu cos(2 pi m / L))
            c = 2.0 * np.cos(2.0 * np.pi * np.arange(L) / L)
            g2 = np.abs(np.exp(-1j * np.outer(u, c)).mean(axis=1)) ** 2
        out[i] = 2.0 * np.sum(w * (t - u) * g2**d)
    return out


@functools.lru_cache(maxsize=1)
def _propagator_table(times, d):
    """Quadrature nodes and the products ``J_{x_1}(2s) ... J_{x_d}(2s)`` over one orbit
    representative ``x`` of each site in the light cone (cached: several ``sigma``
    share it)."""
    from scipy import special

    s, w, edges = _gauss_panels(np.array(times), d)
    radius = int(_light_cone(np.array([max(times)]))[0])
    n = np.arange(radius + 1)
    J = special.jv(n[None, :], 2.0 * s[:, None])          # J_n(2s), n >= 0
    if d == 1:
        x1 = n
        mult = np.where(n == 0, 1.0, 2.0)
        r2 = n.astype(float) ** 2
        check_memory("times", 8 * len(x1) * len(s), "the propagator table of born_spreading")
        P = np.ascontiguousarray(J.T)
    else:   # the octant 0 <= x2 <= x1 with the multiplicity of its orbit, sorted by x1
        x1, x2 = np.meshgrid(n, n, indexing="ij")
        keep = x2 <= x1
        x1, x2 = x1[keep], x2[keep]
        order = np.argsort(x1, kind="stable")
        x1, x2 = x1[order], x2[order]
        mult = np.where(x1 == 0, 1.0, np.where((x2 == 0) | (x2 == x1), 4.0, 8.0))
        r2 = x1.astype(float) ** 2 + x2.astype(float) ** 2
        check_memory("times", 8 * len(x1) * len(s), "the propagator table of born_spreading")
        P = np.ascontiguousarray((J[:, x1] * J[:, x2]).T)
    K = special.j0(2.0 * (s[:, None] - s[None, :])) ** d * w[:, None] * w[None, :]
    return s, edges, x1, mult, r2, P, K


def _born_decaying(times, d, sigma):
    """``sum_x <x>^{-2 sigma} a_x(t)`` on ``Z^d`` (d = 1, 2): see :func:`born_spreading`."""
    s, edges, x1, mult, r2, P, K = _propagator_table(tuple(float(t) for t in times), d)
    weight = mult * (1.0 + r2) ** (-sigma)
    cone = _light_cone(s)
    q = _BORN_NODES
    M = np.zeros((len(s), len(s)))
    for p in range(len(edges) - 1):   # M[i, j] for i in panel p, j >= i: sites inside the cone
        i0, i1 = p * q, (p + 1) * q
        m = np.searchsorted(x1, cone[i1 - 1], side="right")
        M[i0:i1, i0:] = (P[:m, i0:i1] * weight[:m, None]).T @ P[:m, i0:]
    KM = K * (np.triu(M) + np.triu(M, 1).T)
    return np.array([KM[:k, :k].sum() for k in np.searchsorted(s, times, side="right")])


def born_spreading(times, d, *, decay_exponent=0.0, L=None):
    """Second-order (Born) part of the spreading functional, divided by ``eta^2``.

    ``b(t) = E ||psi_t^(1)||^2 / eta^2`` with ``psi_t^(1) = -i eta int_0^t
    e^{-i(t-s) Delta} V e^{-is Delta} delta_0 ds`` the first Duhamel term, for
    ``V(x) = w_x <x>^{-sigma}`` with i.i.d. ``w`` (``E w = 0``, ``E w^2 = 1``):
    the term ``eta^2 b(t)`` of the expansion of eq. (4.16) in powers of ``eta``,
    exactly, and the exact mean of the control variate of
    :func:`spreading_functional`.

    Parameters
    ----------
    times : float or array_like of float
        ``t >= 0``.
    d : {1, 2, 3}
    decay_exponent : float, default 0
        ``sigma >= 0``; ``sigma > 0`` needs ``d <= 2``.
    L : int, optional
        For ``sigma = 0``: the periodic box of side ``L`` instead of ``Z^d``.

    Returns
    -------
    float or numpy.ndarray

    Notes
    -----
    With ``G_s(x) = <delta_x, e^{-is Delta} delta_0> = prod_i (-i)^{x_i} J_{x_i}(2s)``
    and ``E V(x) V(y) = <x>^{-2 sigma} delta_{xy}``,

        b(t) = sum_x <x>^{-2 sigma} int_0^t int_0^t G_{s-s'}(0) conj(G_s(x)) G_{s'}(x) ds ds'.

    For ``sigma = 0`` the sum over ``x`` is ``conj(G_{s-s'}(0))`` (Neumann's addition
    theorem) and ``b(t) = 2 int_0^t (t - u) J_0(2u)^{2d} du``: its slope is the
    golden-rule rate ``2 int_0^oo J_0(2u)^{2d} du = 2 pi int rho^2 dE`` (Parseval) and,
    in ``d = 3``, ``b(t) = 2 pi int rho^2 t - c_0 + O(1/t)`` with
    ``c_0 = 2 int_0^oo u J_0(2u)^6 du``. In a box ``J_0(2u)`` becomes the return
    amplitude of the ring, ``(1/L) sum_m exp(-2iu cos(2 pi m / L))``. For ``sigma > 0``
    the double integral is done on Gauss-Legendre panels and the sum over the sites
    inside the light cone ``|x_i| <~ 2s``.

    Examples
    --------
    >>> import numpy as np
    >>> b = born_spreading([0.01, 50.0, 100.0], 3)
    >>> round(float(b[0]) / 0.01**2, 3)     # short times: E|w_0|^2 t^2 = t^2
    1.0
    >>> round(float((b[2] - b[1]) / 50), 4)    # golden-rule slope 2 pi int rho_3^2
    0.7064
    """
    scalar = np.ndim(times) == 0
    ts = np.atleast_1d(check_real_array("times", times))
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError("'times' must be a time or a 1D array of times")
    if np.any(ts < 0):
        raise ValueError("'times' must be >= 0")
    d = check_int("d", d, minimum=1, maximum=3)
    sigma = check_real("decay_exponent", decay_exponent, minimum=0.0)
    if L is not None:
        L = check_int("L", L, minimum=1)
        if sigma > 0.0:
            raise ValueError("'L' is supported for decay_exponent = 0 only (use times below L/4 "
                             "with L = None: the front has not wrapped around)")
    if sigma == 0.0:
        out = _born_uniform(ts, d, L)
    else:
        if d > 2:
            raise ValueError(f"'decay_exponent' > 0 is implemented for d <= 2, got d = {d}")
        out = np.zeros(ts.shape)
        pos = ts > 0
        if np.any(pos):
            out[pos] = _born_decaying(ts[pos], d, sigma)
    return float(out[0]) if scalar else out


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
