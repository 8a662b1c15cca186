"""One disorder realization of the kinetic-limit experiments (paper section 2.2).

Each function runs the Schrodinger dynamics ``exp(-itH) psi0`` for one
realization of the potential, at the microscopic times ``t = T / eta^2`` of
the kinetic scaling, and returns the observables that the Boltzmann limit
predicts. They are module-level functions of a ``SeedSequence`` (plus keyword
parameters), so that :func:`chargetransport.ensemble.ensemble_average` can run
them in worker processes or on a Dask cluster via ``functools.partial``; the
matching Boltzmann predictions are in :mod:`chargetransport.boltzmann`.
"""
from __future__ import annotations

import dataclasses
from functools import partial

import numba as nb
import numpy as np

from ._validation import check_bool, check_instance, check_int, check_real, check_real_array
from .boltzmann import collision_rate, group_velocity, shell_mean_square_velocity
from .dos import density_of_states
from .lattice import Lattice, _check_twist, dispersion
from .observables import boundary_weight, mean_square_displacement, momentum_distribution
from .propagation import trajectory
from .rng import Realization, as_generator, check_seed
from .states import plane_wave, wkb_state
from .wigner import SeparableTestFunction, wigner_pairing

__all__ = ["nearest_grid_momentum", "plane_wave_relaxation",
           "plane_wave_born_terms", "relaxation_deviations", "plane_wave_boltzmann_prediction",
           "momentum_bump", "generic_shell_points", "wkb_wigner_pairings", "wkb_mean_square_displacement",
           "gaussian_wkb_state", "GaussianWKBWigner", "WKBExperiment", "WKB_DEFAULT_MOMENTA"]


def _check_momentum(momentum, d, name="momentum"):
    """A momentum: a 1D array of ``d`` finite reals (any real values; e is 1-periodic)."""
    p = check_real_array(name, momentum, ndim=1)
    if p.shape != (d,):
        raise ValueError(f"'{name}' must have d = {d} components, got {p.shape[0]}")
    return p


def momentum_bump(V, center, width):
    """Periodic Gaussian bump ``prod_i exp(-dist(V_i, q_i)^2 / (2 s^2))`` on the torus (peak 1).

    Parameters
    ----------
    V : array_like, shape (..., d) or a sequence of d broadcastable arrays
    center : sequence of d floats
        ``q``.
    width : float
        ``s``; ``dist`` is the distance on the circle [0, 1).
    """
    center = check_real_array("center", center, ndim=1)
    width = check_real("width", width, minimum=0.0, strict_minimum=True)
    comps = [V[..., i] for i in range(len(center))] if isinstance(V, np.ndarray) else list(V)
    out = 1.0
    for vi, qi in zip(comps, center):
        dist = (vi - qi + 0.5) % 1.0 - 0.5
        out = out * np.exp(-dist**2 / (2.0 * width**2))
    return out


def _grid_index(lattice, k):
    """Array index ``m`` (mod L) of a momentum ``k = (m + theta) / L`` of the box's grid."""
    theta = np.asarray(lattice.twist)
    return tuple(int(mi) % lattice.L for mi in np.round(np.asarray(k) * lattice.L - theta))


def nearest_grid_momentum(lattice, target):
    """The momentum ``(m + theta) / L`` of the box's grid nearest ``target``, in [0, 1)^d.

    Examples
    --------
    >>> import chargetransport as ct
    >>> nearest_grid_momentum(ct.Lattice(2, 64), (0.11, 0.23)).tolist()     # 7/64, 15/64
    [0.109375, 0.234375]
    >>> nearest_grid_momentum(ct.Lattice(1, 8, twist=0.5), (0.3,)).tolist()  # (2 + 1/2) / 8
    [0.3125]
    """
    check_instance("lattice", lattice, Lattice)
    target = _check_momentum(target, lattice.d, "target")
    theta = np.asarray(lattice.twist)
    return ((np.round(target * lattice.L - theta) + theta) / lattice.L) % 1.0


@nb.njit(cache=True)
def _first_order_sums(L, d, theta, m_p, e_p, times, windows, eps, use_eps, centers, width,
                      out):
    """out[i, 0, j] = sum_{k != p} F_t(e(k) - e_p) h_j(k), out[i, 1, j] = the same weighted by
    eps(p - k), over the grid momenta k = (m + theta) / L with |e(k) - e_p| < windows[i];
    F_t(w) = (sin(w t / 2) / (w / 2))^2, t = times[i]; h = (1, v_1..v_d, J_1..J_nb).

    The last axis is solved for: for each (m_1, ..., m_{d-1}) only the m_d whose energy can
    lie in the widest window are visited (two arcs of the circle, a point where they
    overlap counted once), so the cost is L^{d-1} plus the number of points summed."""
    nT = times.shape[0]
    nb_ = centers.shape[0]
    wmax = 0.0
    for i in range(nT):
        wmax = max(wmax, windows[i])
    two_pi = 2.0 * np.pi
    n_rest = L ** (d - 1)
    idx = np.zeros(3, dtype=np.int64)
    k = np.zeros(3)
    h = np.zeros(1 + d + nb_)
    for r in range(n_rest):
        rem = r
        e_rest = 0.0
        for a in range(d - 1):
            idx[a] = rem % L
            rem //= L
            k[a] = (idx[a] + theta[a]) / L
            e_rest += 2.0 * np.cos(two_pi * k[a])
        c_lo = 0.5 * (e_p - wmax - e_rest)
        c_hi = 0.5 * (e_p + wmax - e_rest)
        if c_lo > 1.0 or c_hi < -1.0:
            continue
        a_lo = np.arccos(min(c_hi, 1.0)) / two_pi      # k_d in [a_lo, a_hi] or its mirror
        a_hi = np.arccos(max(c_lo, -1.0)) / two_pi
        for branch in range(2):
            if branch == 0:
                lo, hi = a_lo, a_hi
            else:
                lo, hi = 1.0 - a_hi, 1.0 - a_lo
            m_lo = int(np.ceil(lo * L - theta[d - 1]))
            m_hi = int(np.floor(hi * L - theta[d - 1]))
            for m in range(m_lo, m_hi + 1):
                md = m % L
                k[d - 1] = (md + theta[d - 1]) / L
                if branch == 1 and a_lo <= k[d - 1] <= a_hi:
                    continue                               # on the first arc: counted there
                idx[d - 1] = md
                same = True
                for a in range(d):
                    if idx[a] != m_p[a]:
                        same = False
                if same:
                    continue
                e = e_rest + 2.0 * np.cos(two_pi * k[d - 1])
                omega = e - e_p
                if abs(omega) >= wmax:
                    continue
                h[0] = 1.0
                for a in range(d):
                    h[1 + a] = -2.0 * np.sin(two_pi * k[a])
                for b in range(nb_):
                    # a product of Gaussians, set to 0 beyond 9 widths (below 1e-17)
                    g = 1.0
                    for a in range(d):
                        dist = (k[a] - centers[b, a] + 0.5) % 1.0 - 0.5
                        if abs(dist) > 9.0 * width:
                            g = 0.0
                            break
                        g *= np.exp(-dist * dist / (2.0 * width * width))
                    h[1 + d + b] = g
                e_q = 0.0
                if use_eps:
                    q = 0
                    for a in range(d):
                        q = q * L + (m_p[a] - idx[a]) % L
                    e_q = eps[q]
                for i in range(nT):
                    if abs(omega) >= windows[i]:
                        continue
                    x = 0.5 * omega * times[i]
                    F = times[i] * times[i]
                    if x != 0.0:
                        s = np.sin(x) / x
                        F *= s * s
                    for j in range(1 + d + nb_):
                        out[i, 0, j] += F * h[j]
                        out[i, 1, j] += F * e_q * h[j]


def _first_order_terms(d, L, theta, eta, momentum, T, centers, width, eps=None):
    """The box's first-order (Born) transfer out of the plane wave ``p``, dressed by ``exp(-m T)``.

    With ``S_f = eta^2 L^{-d} sum_{k != p} F_t(e(k) - e(p)) f(k) w(k)`` over the grid
    ``(m + theta) / L`` (``F_t`` summed within ``6 / t + 4 Gamma`` of ``e(p)``), returns
    ``(born, fluctuation)``, each a dict with ``"survival"`` (nT,), ``"current"`` (nT, d)
    and ``"bumps"`` (nT, nb), for ``f = v`` (current) and ``f = J_q`` (bumps):

    * ``born`` (``w = 1``, a function of the twist only): ``exp(-m T) [S_f - f(p) (S_1 - m T)]``,
      and ``exp(-m T) (m T - S_1)`` for the survival: the second-order excess of the box
      over the Boltzmann change ``(1 - exp(-m T)) ((P f)(e(p)) - f(p)) ~ m T (...)``;
    * ``fluctuation`` (``w = eps(p - k)``, mean 0 over the potential):
      ``exp(-m T) (S_f - f(p) S_1)``, and ``-exp(-m T) S_1`` for the survival
      (``None`` without ``eps``).
    """
    p = np.asarray(momentum, dtype=float)
    e_p = float(dispersion(p))
    m = float(collision_rate(e_p, d))
    T = np.asarray(T, dtype=float)
    t = T / eta**2
    positive = t > 0
    windows = np.where(positive, 6.0 / np.where(positive, t, 1.0) + 4.0 * m * eta**2, 0.0)
    centers = np.asarray(centers, dtype=float).reshape(-1, d)
    theta3 = np.zeros(3)
    theta3[:d] = theta
    m_p = np.zeros(3, dtype=np.int64)
    m_p[:d] = [int(x) % L for x in np.round(p * L - np.asarray(theta))]
    use_eps = eps is not None
    flat_eps = np.ascontiguousarray(eps, dtype=float).ravel() if use_eps else np.zeros(1)
    sums = np.zeros((len(t), 2, 1 + d + len(centers)))
    _first_order_sums(L, d, theta3, m_p, e_p, t, windows, flat_eps, use_eps, centers,
                      float(width), sums)
    sums *= eta**2 / L**d
    at_p = np.concatenate([group_velocity(p), [momentum_bump(p, q, width) for q in centers]])
    decay = np.exp(-m * T)[:, None]
    rate = (m * T)[:, None]
    born, fluct = sums[:, 0, :], sums[:, 1, :]
    born_terms = decay * (born[:, 1:] - at_p[None, :] * (born[:, :1] - rate))
    fluct_terms = decay * (fluct[:, 1:] - at_p[None, :] * fluct[:, :1])
    parts = [{"survival": decay[:, 0] * (rate[:, 0] - born[:, 0]),
              "current": born_terms[:, :d], "bumps": born_terms[:, d:]},
             {"survival": -decay[:, 0] * fluct[:, 0],
              "current": fluct_terms[:, :d], "bumps": fluct_terms[:, d:]}]
    return parts[0], (parts[1] if use_eps else None)


def plane_wave_relaxation(seed, *, d, L, eta, momentum, T, distribution="gaussian",
                          bump_centers=(), bump_width=0.05, tol=1e-8, twist=False,
                          control_variates=False):
    """Momentum-space relaxation of a plane wave, for one realization.

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
        The realization (:class:`~chargetransport.rng.Realization`): its potential and,
        with ``twist=True``, the twist of its box.
    d, L : int
        Dimension and box side.
    eta : float
        Disorder strength (> 0).
    momentum : sequence of d floats
        The initial momentum p. Without a twist it must lie on the grid ``(Z/L)^d``;
        with a twist it is the target, and the plane wave starts at the grid momentum
        nearest to it (:func:`nearest_grid_momentum`, returned under ``"momentum"``).
    T : array_like of float
        Macroscopic times; the state is evaluated at ``t = T / eta^2``.
    distribution : str, default "gaussian"
    bump_centers : sequence of momenta, optional
        Centres q of periodic Gaussian bumps ``J_q(V) = prod_i g(V_i - q_i)``
        (width ``bump_width``, peak 1) to pair the momentum distribution with.
    tol : float, default 1e-8
        Accuracy of the propagation (l2).
    twist : bool, default False
        Give the box the twist ``theta`` of the realization (``Realization.twist``):
        momenta ``(m + theta) / L``. With a generic twist no symmetry image of p other
        than p lies on the grid, so p has no exactly degenerate partner.
    control_variates : bool, default False
        Also return the first-order (Born) changes of the observables survival,
        current and bumps in this box: ``"*_born"``, a function of the box and its
        twist only, and ``"*_cv"``, the share of the realization's potential, whose mean
        is exactly zero (see Notes).

    Returns
    -------
    dict of numpy.ndarray
        With ``P_T(k) = |psi_hat_t(k)|^2 / L^d`` the momentum distribution
        (a probability on the grid):
        ``"survival"`` (nT,): ``P_T(p)``; ``"current"`` (nT, d): ``sum_k v(k) P_T(k)``
        with ``v = grad e / (2 pi)``; ``"speed_squared"`` (nT,): ``sum |v|^2 P_T``;
        ``"kinetic_energy"`` (nT,): ``sum e(k) P_T(k)``; ``"bumps"`` (nT, n_bumps);
        ``"final_distribution"`` (L,)*d: ``P_T`` at the last time. With a twist or
        control variates also ``"momentum"`` (d,), the p used, and its Boltzmann
        prediction ``"survival_boltzmann"``, ``"current_boltzmann"``,
        ``"bumps_boltzmann"`` (:func:`plane_wave_boltzmann_prediction`, shell averages by
        quadrature); with control variates ``"survival_born"``, ``"current_born"``,
        ``"bumps_born"``, ``"survival_cv"``, ``"current_cv"``, ``"bumps_cv"``.

    Notes
    -----
    The Boltzmann prediction of the homogeneous equation for ``F_0 = delta_p``
    is ``<J, F_T> = exp(-m T) J(p) + (1 - exp(-m T)) (P J)(e(p))``, ``m = 2 pi rho(e(p))``.
    The box must be large enough that the decay width ``2 pi rho eta^2`` holds
    many levels: ``L^d rho(E) 2 pi rho(E) eta^2 >> 1`` (of order 100 or more).

    Control variates. To second order in ``eta`` the plane wave sends the weight
    ``eta^2 |V_pk|^2 F_t(e(k) - e(p))``, ``F_t(w) = (sin(w t / 2) / (w / 2))^2``, to each
    grid momentum ``k != p``, with ``L^d |V_pk|^2 = |V_hat(p - k)|^2 / L^d = 1 + eps(p - k)``.
    Dressed with the decay ``exp(-m T)`` of p and k (times of order ``1/m``), an
    observable ``f`` changes by ``exp(-m T) eta^2 L^{-d} sum_k (1 + eps) F_t (f(k) - f(p))``
    (:func:`_first_order_terms`). The part without ``eps``, minus the Boltzmann change
    ``m T ((P f)(e(p)) - f(p))`` that it approximates, is ``"*_born"``: the box's
    second-order excess over Boltzmann, which depends on where the twist puts the
    grid (its average over twists: :func:`plane_wave_born_terms`). The
    part with ``eps`` is ``"*_cv"``; its mean is exactly zero because
    ``E |V_hat(q)|^2 = sum_x E[omega_x^2] = L^d`` for every law of the potential.
    Subtracting ``cv + born - E_theta[born]`` from an observable removes most of the
    momentum speckle and of the lattice-point fluctuations of the twisted grid without
    changing the average over potentials and twists.

    Examples
    --------
    >>> import numpy as np
    >>> out = plane_wave_relaxation(1, d=2, L=32, eta=0.3, momentum=(0.11, 0.23),
    ...                             T=[0.0, 0.5], twist=True, control_variates=True)
    >>> float(out["survival"][0]), bool(out["survival"][1] < 1)
    (1.0, True)
    >>> p = out["momentum"]; bool(np.abs(p - (0.11, 0.23)).max() <= 0.5 / 32)
    True
    """
    d = check_int("d", d, minimum=1, maximum=3)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    bump_width = check_real("bump_width", bump_width, minimum=0.0, strict_minimum=True)
    twist = check_bool("twist", twist)
    control_variates = check_bool("control_variates", control_variates)
    target = _check_momentum(momentum, d)
    centers = [_check_momentum(q, d, "bump_centers[i]") for q in bump_centers]
    real = Realization(seed)
    lat = Lattice(d, L, twist=real.twist(d) if twist else None)
    p = nearest_grid_momentum(lat, target) if twist else target
    psi0 = plane_wave(lat, p)           # raises if p is off the grid
    p_index = _grid_index(lat, p)
    k = lat.momenta(sparse=True)
    bumps = [np.broadcast_to(momentum_bump(k, q, bump_width), lat.shape) for q in centers]
    H = real.hamiltonian(lat, eta, distribution)   # the seed contract (rng)
    velocity = [np.broadcast_to(-2.0 * np.sin(2.0 * np.pi * ki), lat.shape) for ki in k]
    speed2 = sum(v**2 for v in velocity)
    energy = lat.dispersion()
    out = {"survival": np.empty(len(T)), "current": np.empty((len(T), d)),
           "speed_squared": np.empty(len(T)), "kinetic_energy": np.empty(len(T)),
           "bumps": np.empty((len(T), len(bumps)))}
    for i, psi in trajectory(H, psi0, T / eta**2, tol=tol):
        P = momentum_distribution(psi, lat) / lat.num_sites
        out["survival"][i] = P[p_index]
        out["current"][i] = [float((v * P).sum()) for v in velocity]
        out["speed_squared"][i] = float((speed2 * P).sum())
        out["kinetic_energy"][i] = float((energy * P).sum())
        out["bumps"][i] = [float((b * P).sum()) for b in bumps]
        if i == len(T) - 1:
            out["final_distribution"] = P
    if not (twist or control_variates):
        return out
    out["momentum"] = p
    reference = plane_wave_boltzmann_prediction(d=d, momentum=p, T=T, bump_centers=centers,
                                                bump_width=bump_width, method="quadrature")
    for key in ("survival", "current", "bumps"):
        out[f"{key}_boltzmann"] = reference[key]
    if control_variates:
        eps = np.abs(np.fft.fftn(H.potential)) ** 2 / lat.num_sites - 1.0
        born, fluctuation = _first_order_terms(d, L, lat.twist, eta, p, T, centers, bump_width,
                                               eps=eps)
        for key in ("survival", "current", "bumps"):
            out[f"{key}_born"] = born[key]
            out[f"{key}_cv"] = fluctuation[key]
    return out


def plane_wave_born_terms(seed, *, d, L, eta, momentum, T, bump_centers=(), bump_width=0.05):
    """The ``"*_born"`` values of :func:`plane_wave_relaxation` for the twist of one seed.

    No evolution and no potential: only the twist ``Realization(seed).twist(d)``, the
    grid momentum nearest ``momentum`` and the box's first-order sums, so that their
    average over twists (the mean of the control variate ``"*_born"``) costs little:
    ``ensemble_average(partial(plane_wave_born_terms, ...), M, seed=s)`` with a master
    seed ``s`` *other* than the experiment's (the twists must be independent of the
    realizations').

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
    d, L, eta, momentum, T, bump_centers, bump_width
        As for :func:`plane_wave_relaxation` with ``twist=True``.

    Returns
    -------
    dict of numpy.ndarray
        ``"survival"`` (nT,), ``"current"`` (nT, d), ``"bumps"`` (nT, nb).

    Examples
    --------
    >>> import chargetransport as ct
    >>> born = plane_wave_born_terms(3, d=2, L=64, eta=0.3, momentum=(0.11, 0.23),
    ...                              T=[0.0, 1.0])
    >>> r = plane_wave_relaxation(3, d=2, L=64, eta=0.3, momentum=(0.11, 0.23),
    ...                           T=[0.0, 1.0], twist=True, control_variates=True)
    >>> bool((born["survival"] == r["survival_born"]).all())
    True
    """
    d = check_int("d", d, minimum=1, maximum=3)
    L = check_int("L", L, minimum=3)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    target = _check_momentum(momentum, d)
    T = check_real_array("T", T, ndim=1)
    centers = [_check_momentum(q, d, "bump_centers[i]") for q in bump_centers]
    bump_width = check_real("bump_width", bump_width, minimum=0.0, strict_minimum=True)
    theta = _check_twist(Realization(seed).twist(d), d)
    p = ((np.round(target * L - np.asarray(theta)) + np.asarray(theta)) / L) % 1.0
    born, _ = _first_order_terms(d, L, theta, eta, p, T, centers, bump_width)
    return born


def relaxation_deviations(samples, *, control_variates=True, born_mean=None, born_error=None):
    """Per-realization deviations of :func:`plane_wave_relaxation` from Boltzmann, stacked.

    Parameters
    ----------
    samples : dict of array_like
        ``samples[key][r]`` for the keys ``survival``, ``current``, ``bumps``, their
        ``*_boltzmann`` values and ``momentum`` (with ``control_variates`` also ``*_cv``,
        and with ``born_mean`` also ``*_born``): the ``samples`` of an
        :class:`~chargetransport.EnsembleResult` of ``plane_wave_relaxation(...,
        twist=True, control_variates=True)`` or of a stored study of it.
    control_variates : bool, default True
        Subtract the potential's first-order share ``*_cv`` (mean exactly zero).
    born_mean, born_error : dict, optional
        Mean and standard error over twists of the ``*_born`` terms (e.g. an ensemble of
        :func:`plane_wave_born_terms` with independent twists). When given, the twist
        share ``*_born - born_mean`` is subtracted as well, and ``born_error`` becomes the
        reference error of the result.

    Returns
    -------
    deviations : numpy.ndarray, shape (R, nT, 1 + d + nb)
        Columns: survival, the ``d`` components of the current divided by ``|v(p)|``,
        the bumps. Their mean over realizations estimates the deviation of the
        disorder-and-twist average from the Boltzmann prediction.
    reference_error : numpy.ndarray, shape (nT, 1 + d + nb)
        The standard error shared by all realizations (that of ``born_mean``; zeros
        without it), for :func:`~chargetransport.statistics.sup_deviation`.

    Examples
    --------
    >>> import chargetransport as ct
    >>> from functools import partial
    >>> run = ct.ensemble_average(partial(plane_wave_relaxation, d=2, L=48, eta=0.4,
    ...     momentum=(0.11, 0.23), T=[0.0, 0.5], twist=True, control_variates=True), 4, 1,
    ...     keep_samples=True, progress=False)
    >>> dev, err = relaxation_deviations(run.samples)
    >>> dev.shape, bool(abs(dev[:, 0]).max() < 1e-14)     # 4 realizations; T = 0: rounding only
    ((4, 2, 3), True)
    """
    def get(key):
        return np.asarray(samples[key], dtype=float)

    R, nT = get("survival").shape
    speed = np.linalg.norm(group_velocity(get("momentum")), axis=-1)   # |v(p)| per realization
    columns, errors = [], []
    for key in ("survival", "current", "bumps"):
        dev = get(key) - get(f"{key}_boltzmann")
        if control_variates:
            dev = dev - get(f"{key}_cv")
        error = np.zeros(dev.shape[1:])
        if born_mean is not None:
            dev = dev - (get(f"{key}_born") - np.asarray(born_mean[key], dtype=float))
            if born_error is not None:
                error = np.broadcast_to(np.asarray(born_error[key], dtype=float), error.shape)
        if key == "current":     # relative to |v(p)|
            dev, error = dev / speed[:, None, None], error / float(np.mean(speed))
        columns.append(dev.reshape(R, nT, -1))
        errors.append(np.asarray(error).reshape(nT, -1))
    return np.concatenate(columns, axis=2), np.concatenate(errors, axis=1)


def _shell_bump_average(E, center, width, d, nodes=None):
    """``(P J)(E)`` of the bump ``J = momentum_bump(., center, width)``, by quadrature.

    The shell ``e(U) = E`` is written as a graph over all axes but one, ``a``, whose
    gradient component at ``center`` is largest; ``U_a`` solves ``2 cos(2 pi U_a) =
    E - sum_{i != a} 2 cos(2 pi U_i)`` (both branches), and
    ``(P J)(E) = rho(E)^{-1} int dU_rest J(U) / |4 pi sin(2 pi U_a)|`` is a trapezoid sum
    over ``U_rest`` within 8 widths of the centre (the Gaussian is below 1e-13 beyond),
    spectrally accurate for an integrand that is smooth there.
    """
    center = np.asarray(center, dtype=float)
    axis = int(np.argmax(np.abs(np.sin(2.0 * np.pi * center))))
    rest = [i for i in range(d) if i != axis]
    if nodes is None:
        nodes = 1601 if d == 2 else 241
    grids = [center[i] + np.linspace(-8.0 * width, 8.0 * width, nodes) for i in rest]
    U_rest = np.meshgrid(*grids, indexing="ij")
    c = 0.5 * (E - sum(2.0 * np.cos(2.0 * np.pi * u) for u in U_rest))
    inside = np.abs(c) < 1.0
    c = np.where(inside, c, 0.0)
    jacobian = np.where(inside, 1.0 / (4.0 * np.pi * np.sqrt(1.0 - c**2)), 0.0)
    total = 0.0
    for sign in (1.0, -1.0):
        U = [None] * d
        for i, u in zip(rest, U_rest):
            U[i] = u
        U[axis] = sign * np.arccos(c) / (2.0 * np.pi)
        total = total + momentum_bump(U, center, width) * jacobian
    step = (grids[0][1] - grids[0][0]) ** len(rest)
    return float(total.sum() * step / density_of_states(E, d))


def plane_wave_boltzmann_prediction(*, d, momentum, T, bump_centers=(), bump_width=0.05,
                                    num_shell_samples=1_000_000, seed=0, method="monte_carlo"):
    """The Boltzmann limit of the observables of :func:`plane_wave_relaxation`.

    For ``F_0 = delta_p`` the homogeneous equation gives
    ``<J, F_T> = exp(-m T) J(p) + (1 - exp(-m T)) (P J)(e(p))`` with
    ``m = 2 pi rho(e(p))``: the unscattered fraction keeps momentum p, the rest
    is spread uniformly (in the shell measure) over the energy shell of p.

    Parameters
    ----------
    d : int
    momentum : sequence of d floats
    T : array_like of float
    bump_centers : sequence of momenta, optional
    bump_width : float, default 0.05
    num_shell_samples : int, default 1000000
        Exact shell samples per bump (``method="monte_carlo"``).
    seed : int or numpy.random.SeedSequence, default 0
    method : {"monte_carlo", "quadrature"}, default "monte_carlo"
        How the shell averages ``P J`` of the bumps are computed: from exact shell
        samples, with a standard error, or by a trapezoid sum over the shell written
        as a graph near the bump (converged to about 1e-14; error reported as 0).

    Returns
    -------
    dict of numpy.ndarray
        The keys of :func:`plane_wave_relaxation` (except the distribution), and
        ``"bumps_error"``: the Monte Carlo error of the shell averages ``P J``
        of the bumps (the other shell averages are exact).

    Examples
    --------
    >>> pred = plane_wave_boltzmann_prediction(d=2, momentum=(0.11, 0.23), T=[0.0, 1.0],
    ...                                        bump_centers=[(0.98, 0.2653)], bump_width=0.03,
    ...                                        method="quadrature")
    >>> m = float(collision_rate(float(dispersion([0.11, 0.23])), 2))
    >>> bool(np.allclose(pred["survival"], np.exp(-m * np.array([0.0, 1.0]))))
    True
    >>> [round(float(b), 4) for b in pred["bumps"][:, 0]]     # J(p) ~ 0, then (1 - e^-m) P J
    [0.0, 0.0265]
    """
    from .shells import shell_average
    d = check_int("d", d, minimum=1, maximum=3)
    p = _check_momentum(momentum, d)
    T = check_real_array("T", T, ndim=1)
    num_shell_samples = check_int("num_shell_samples", num_shell_samples, minimum=2)
    centers = [_check_momentum(q, d, "bump_centers[i]") for q in bump_centers]
    bump_width = check_real("bump_width", bump_width, minimum=0.0, strict_minimum=True)
    if method not in ("monte_carlo", "quadrature"):
        raise ValueError(f"'method' must be 'monte_carlo' or 'quadrature', got {method!r}")
    E = float(dispersion(p))
    survival = np.exp(-float(collision_rate(E, d)) * T)
    v = group_velocity(p)
    shell_v2 = float(shell_mean_square_velocity(E, d))
    bumps, errors = [], []
    for q in centers:
        if method == "quadrature":
            mean, err = _shell_bump_average(E, q, bump_width, d), 0.0
        else:
            mean, err = shell_average(lambda U, q=q: momentum_bump(U, q, bump_width), E, d,
                                      num_samples=num_shell_samples, seed=seed)
        bumps.append(survival * momentum_bump(p, q, bump_width) + (1.0 - survival) * mean)
        errors.append((1.0 - survival) * err)
    return {"survival": survival,
            "current": survival[:, None] * v[None, :],
            "speed_squared": survival * float((v**2).sum()) + (1.0 - survival) * shell_v2,
            "kinetic_energy": np.full(len(T), E),
            "bumps": np.array(bumps).T.reshape(len(T), len(bumps)),
            "bumps_error": np.array(errors).T.reshape(len(T), len(bumps))}


def _symmetry_images(p):
    """Images of p under the symmetries of e: sign changes and permutations of components."""
    import itertools
    images = []
    for perm in itertools.permutations(range(len(p))):
        for signs in itertools.product((1.0, -1.0), repeat=len(p)):
            images.append((np.array(signs) * p[list(perm)]) % 1.0)
    return np.array(images)


def generic_shell_points(momentum, count, min_distance=0.08):
    """Points on the energy shell of ``p`` far from every symmetry image of ``p``.

    Candidates move the first coordinate away from ``p_1`` in small steps (the
    others kept) and re-solve the last coordinate so that ``e(q) = e(p)``; a
    candidate is kept if it is at least ``min_distance`` (torus distance, per
    component max) from every image of ``p`` under sign changes and permutations
    and from the points already kept. Those images are degenerate with ``p`` on
    any grid and pick up weight at first order in a finite box (and ``-p`` the
    coherent backscattering peak); test functions centred at generic points avoid
    them.

    Returns
    -------
    list of numpy.ndarray
        Up to ``count`` points (fewer if the shell has no such room).
    """
    p = check_real_array("momentum", momentum, ndim=1)
    count = check_int("count", count, minimum=1)
    min_distance = check_real("min_distance", min_distance, minimum=0.0)
    if len(p) < 2:
        raise ValueError("'momentum' must have d >= 2 components: in d = 1 the shell is {p, -p}")
    E = float(dispersion(p))
    avoid = list(_symmetry_images(p))
    points = []
    for shift in np.arange(0.01, 1.0, 0.01):
        q = p.copy()
        q[0] = (p[0] + shift) % 1.0
        c = 0.5 * (E - float(dispersion(q[:-1])))
        if not -1.0 < c < 1.0:
            continue
        for sign in (1.0, -1.0):
            q[-1] = (sign * np.arccos(c) / (2.0 * np.pi)) % 1.0
            dist = [np.abs((q - a + 0.5) % 1.0 - 0.5).max() for a in avoid]
            if min(dist) >= min_distance:
                points.append(q.copy())
                avoid.append(q.copy())
                break
        if len(points) == count:
            break
    return points


class _GaussianAmplitude:
    # picklable h(X) = exp(-|X|^2 / (4 w^2)), so |h|^2 has standard deviation w per axis
    def __init__(self, width):
        self.width = width

    def __call__(self, *X):
        return np.exp(-sum(x**2 for x in X) / (4.0 * self.width**2))


class _LinearPhase:
    # picklable S(X) = p . X: constant local momentum p
    def __init__(self, momentum):
        self.momentum = np.asarray(momentum, dtype=float)

    def __call__(self, *X):
        return sum(pi * x for pi, x in zip(self.momentum, X))


def gaussian_wkb_state(lattice, eta, momentum, width):
    """The WKB state (2.6) with ``mu = eta^2``, ``h`` Gaussian and ``S(X) = p . X``.

    Its kinetic limit is ``F_0(X, V) = N(0, width^2)^{(x) d}(X) delta(V - p)``.
    """
    check_instance("lattice", lattice, Lattice)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    p = _check_momentum(momentum, lattice.d)
    width = check_real("width", width, minimum=0.0, strict_minimum=True)
    return wkb_state(lattice, _GaussianAmplitude(width), _LinearPhase(p), mu=eta**2)


@dataclasses.dataclass(frozen=True)
class GaussianWKBWigner:
    """The Wigner function of :func:`gaussian_wkb_state` at finite ``eta``.

    For ``psi_0(x) = C h(mu x) exp(2 pi i p.x)`` with ``h(X) = exp(-|X|^2 / (4 w^2))``
    and ``mu = eta^2``, the rescaled Wigner transform ``W^(mu)_0`` (see
    :mod:`chargetransport.wigner`) paired with a test function that is smooth on the
    lattice scale ``mu`` in ``X`` equals, up to terms of order ``exp(-2 pi^2 w^2 / mu^2)``, the pairing
    with the probability density

        F_0^eta(X, V) = prod_i N(0, w^2)(X_i) g_s(V_i - p_i),
        g_s(u) = sum_{j in Z} exp(-(u - j)^2 / (2 s^2)) / (sqrt(2 pi) s),
        s = mu / (4 pi w):

    positions and momenta independent, a Gaussian of variance ``w^2`` per axis in
    ``X``, a periodised Gaussian of standard deviation ``s`` about ``p`` in ``V``.
    Theorem 2.1's ``F_0 = N(0, w^2)(X) delta(V - p)`` is its limit ``s -> 0``.
    Started from ``F_0^eta`` instead, the Boltzmann solution separates the error of
    the initial state (order ``s^2``) from that of the dynamics.

    Parameters
    ----------
    eta : float
        ``eta > 0``; the WKB scale is ``mu = eta^2``.
    momentum : sequence of d floats
        ``p``, ``1 <= d <= 3``.
    width : float
        ``w > 0``: standard deviation of ``|h|^2`` per axis (macroscopic units).

    Notes
    -----
    Per axis, with ``y = x + n/2``, ``z = x - n/2`` (``n = y - z`` has the parity
    of ``2x``), ``conj(psi(y)) psi(z) = C^2 exp(-mu^2 x^2 / (2 w^2))
    exp(-mu^2 n^2 / (8 w^2)) exp(-2 pi i p n)``. Poisson summation over ``n`` of
    one parity gives Gaussians of standard deviation ``s`` at ``p + j/2``, all
    positive on the integer sublattice of ``x`` and with sign ``(-1)^j`` on the
    half-integer one. A test function smooth on the scale ``mu`` sums the two
    sublattices alike, so the images at ``p + 1/2`` cancel and those at
    ``p + j`` add up to ``g_s`` (the lattice Wigner transform's aliasing).
    With ``C^2 = mu / (sqrt(2 pi) w)`` the mass is 1.

    Examples
    --------
    >>> F = GaussianWKBWigner(eta=0.4, momentum=(0.125, 0.25), width=0.5)
    >>> round(F.momentum_spread, 6)          # 0.16 / (2 pi)
    0.025465
    >>> X, V = F.sample(100_000, np.random.default_rng(0))
    >>> bool(abs(X[:, 0].std() - 0.5) < 0.01), bool(abs(V[:, 1].std() - 0.025465) < 0.001)
    (True, True)
    """

    eta: float
    momentum: tuple
    width: float

    def __post_init__(self):
        p = check_real_array("momentum", self.momentum, ndim=1)
        if not 1 <= p.size <= 3:
            raise ValueError(f"'momentum' must have d = 1, 2 or 3 components, got {p.size}")
        object.__setattr__(self, "eta", check_real("eta", self.eta, minimum=0.0,
                                                   strict_minimum=True))
        object.__setattr__(self, "momentum", tuple(float(x) for x in p))
        object.__setattr__(self, "width", check_real("width", self.width, minimum=0.0,
                                                     strict_minimum=True))

    @property
    def d(self):
        """Dimension (the length of ``momentum``)."""
        return len(self.momentum)

    @property
    def momentum_spread(self):
        """``s = eta^2 / (4 pi w)``: standard deviation of the momentum per axis."""
        return self.eta**2 / (4.0 * np.pi * self.width)

    def density(self, X, V):
        """``F_0^eta(X, V)`` at positions ``X`` and momenta ``V`` (arrays of shape (..., d)).

        The periodised Gaussian keeps the images ``|j| <= 3``, exact to rounding
        for ``s <= 0.25``.
        """
        X = np.asarray(X, dtype=float)
        V = np.asarray(V, dtype=float)
        w, s = self.width, self.momentum_spread
        j = np.arange(-3, 4)
        out = 1.0
        for i, p in enumerate(self.momentum):
            out = out * np.exp(-X[..., i] ** 2 / (2.0 * w**2)) / (np.sqrt(2.0 * np.pi) * w)
            u = (V[..., i] - p)[..., None] + j
            out = out * np.exp(-u**2 / (2.0 * s**2)).sum(axis=-1) / (np.sqrt(2.0 * np.pi) * s)
        return out

    def sample(self, num, rng):
        """``num`` samples ``(X, V)`` of ``F_0^eta``, for :func:`~chargetransport.boltzmann.kinetic_monte_carlo`.

        ``X`` first (normal draws of shape (num, d)), then ``V`` likewise; ``V`` is
        reduced to the torus ``[0, 1)^d``.
        """
        num = check_int("num", num, minimum=0)
        X = rng.normal(0.0, self.width, size=(num, self.d))
        V = (np.asarray(self.momentum) + rng.normal(0.0, self.momentum_spread,
                                                    size=(num, self.d))) % 1.0
        return X, V


def _check_fits(psi, lattice, eta, margin_macro):
    """Weight within ``margin_macro`` macroscopic units of the box boundary."""
    return boundary_weight(psi, margin_macro / eta**2)


def wkb_wigner_pairings(seed, *, d, L, eta, momentum, width, T, test_functions,
                        distribution="gaussian", boundary_margin=0.5, tol=1e-8):
    """``<J, W_T^(eta^2)>`` of the WKB initial state (Theorem 2.1), for one realization.

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
    d, L : int
        The box must hold the macroscopic motion: side ``L eta^2`` in units of X.
    eta : float
        Disorder strength; also the WKB scale ``mu = eta^2`` (eq. (2.9)).
    momentum : sequence of d floats
        ``p = grad S``.
    width : float
        Standard deviation of ``|h|^2`` per axis, in macroscopic units.
    T : array_like of float
        Macroscopic times.
    test_functions : sequence of SeparableTestFunction
        ``J(X, V)`` (picklable, e.g. from :func:`gaussian_test_function`).
    boundary_margin : float, default 0.5
        Width (macroscopic units) of the boundary layer whose weight is reported.

    Returns
    -------
    dict
        ``"pairings"`` (nT, nJ): ``Re <J, W_T^(eta^2)>``;
        ``"boundary_weight"`` (nT,): weight of the state within the boundary layer,
        to check that it does not wrap around the periodic box.
    """
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    test_functions = list(test_functions)
    if not all(isinstance(J, SeparableTestFunction) for J in test_functions):
        raise TypeError("'test_functions' must be SeparableTestFunction instances")
    boundary_margin = check_real("boundary_margin", boundary_margin, minimum=0.0)
    real = Realization(seed)
    lat = Lattice(d, L)
    psi0 = gaussian_wkb_state(lat, eta, momentum, width)
    H = real.hamiltonian(lat, eta, distribution)   # the seed contract (rng)
    pairings = np.empty((len(T), len(test_functions)))
    edge = np.empty(len(T))
    for i, psi in trajectory(H, psi0, T / eta**2, tol=tol):
        pairings[i] = [wigner_pairing(psi, J, scale=eta**2).real for J in test_functions]
        edge[i] = _check_fits(psi, lat, eta, boundary_margin)
    return {"pairings": pairings, "boundary_weight": edge}


def wkb_mean_square_displacement(seed, *, d, L, eta, momentum, width, T,
                                 distribution="gaussian", boundary_margin=0.5, tol=1e-8):
    """Macroscopic mean-square displacement ``eta^4 <|x|^2>_{T / eta^2}`` of the WKB state.

    Returns
    -------
    dict
        ``"msd"`` (nT,) in macroscopic units (X = eta^2 x; includes the initial
        spread ``d width^2``) and ``"boundary_weight"`` (nT,).
    """
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    T = check_real_array("T", T, ndim=1)
    boundary_margin = check_real("boundary_margin", boundary_margin, minimum=0.0)
    real = Realization(seed)
    lat = Lattice(d, L)
    psi0 = gaussian_wkb_state(lat, eta, momentum, width)
    H = real.hamiltonian(lat, eta, distribution)   # the seed contract (rng)
    msd = np.empty(len(T))
    edge = np.empty(len(T))
    for i, psi in trajectory(H, psi0, T / eta**2, tol=tol):
        msd[i] = eta**4 * mean_square_displacement(psi)
        edge[i] = _check_fits(psi, lat, eta, boundary_margin)
    return {"msd": msd, "boundary_weight": edge}


#: Default momentum ``p`` of :class:`WKBExperiment` by dimension (generic points of the
#: band: no component 0 or 1/2; in d = 3 the energy e(p) = 0 is the band centre).
WKB_DEFAULT_MOMENTA = {2: (0.125, 0.25), 3: (0.125, 0.25, 0.375)}


@dataclasses.dataclass(frozen=True)
class WKBExperiment:
    """The phase-space set-up of the book's "Theorem 2.1 in numbers" experiment.

    A WKB state (2.6) with ``mu = eta^2``, Gaussian amplitude and linear phase
    ``S(X) = p . X``, so that ``F_0(X, V) = N(0, width^2)^{(x) d}(X) delta(V - p)``,
    and three Gaussian test functions: ``J_1`` around the unscattered particles at
    ``X = v(p) T_1``, ``V = p``; ``J_2`` around ``X = 0``, ``V = q`` (weight
    scattered to the momentum ``q`` on the shell of ``p``); ``J_3`` the density
    near ``X = 0`` whatever the momentum. The dimension is the length of ``momentum``;
    :meth:`in_dimension` gives the set-up with the default momentum of ``d = 2`` or
    ``d = 3`` (Theorems 2.1 and 3.1 are proven on ``Z^3``).

    Parameters
    ----------
    momentum : tuple of float, default (1/8, 1/4)
        ``p = grad S``, with ``d = len(momentum)`` components, ``1 <= d <= 3``.
    scattered_momentum : tuple of float, optional
        ``q``, on the energy shell of ``p``. Default: ``p`` with its first two
        components swapped (on the shell, since ``e`` is symmetric under
        permutations of the components): ``(1/4, 1/8)`` for the default ``p``;
        ``-p`` in ``d = 1``.
    width : float, default 0.5
        Standard deviation of ``|h|^2`` per axis (macroscopic units).
    unscattered_time : float, default 1
        ``T_1``: ``J_1`` is centred where the unscattered packet is at ``T = T_1``.

    Examples
    --------
    >>> exp = WKBExperiment()
    >>> [round(float(x), 3) for x in exp.velocity]
    [-1.414, -2.0]
    >>> exp.box_side(0.2, half_width=5.0)
    250
    >>> exp3 = WKBExperiment.in_dimension(3, unscattered_time=0.5)
    >>> exp3.d, exp3.momentum, exp3.scattered_momentum
    (3, (0.125, 0.25, 0.375), (0.25, 0.125, 0.375))
    """

    momentum: tuple = WKB_DEFAULT_MOMENTA[2]
    scattered_momentum: tuple = None
    width: float = 0.5
    unscattered_time: float = 1.0

    def __post_init__(self):
        p = check_real_array("momentum", self.momentum, ndim=1)
        if not 1 <= p.size <= 3:
            raise ValueError(f"'momentum' must have d = 1, 2 or 3 components, got {p.size}")
        if self.scattered_momentum is None:
            q = (-p) % 1.0 if p.size == 1 else p[[1, 0] + list(range(2, p.size))]
        else:
            q = _check_momentum(self.scattered_momentum, p.size, "scattered_momentum")
        # frozen dataclass: store the validated values as tuples of floats
        object.__setattr__(self, "momentum", tuple(float(x) for x in p))
        object.__setattr__(self, "scattered_momentum", tuple(float(x) for x in q))
        object.__setattr__(self, "width", check_real("width", self.width, minimum=0.0,
                                                     strict_minimum=True))
        object.__setattr__(self, "unscattered_time",
                           check_real("unscattered_time", self.unscattered_time, minimum=0.0))

    @classmethod
    def in_dimension(cls, d, **parameters):
        """The set-up in dimension ``d`` (2 or 3) with that dimension's default momentum.

        Parameters
        ----------
        d : int
            2 or 3; the momentum defaults to ``WKB_DEFAULT_MOMENTA[d]``.
        **parameters
            Further fields (``scattered_momentum``, ``width``, ``unscattered_time``,
            or a ``momentum`` with ``d`` components).

        Examples
        --------
        >>> WKBExperiment.in_dimension(2) == WKBExperiment()
        True
        """
        d = check_int("d", d, minimum=2, maximum=3)
        parameters.setdefault("momentum", WKB_DEFAULT_MOMENTA[d])
        setup = cls(**parameters)
        if setup.d != d:
            raise ValueError(f"'momentum' must have d = {d} components, got {setup.d}")
        return setup

    @property
    def d(self):
        """Dimension (the length of ``momentum``)."""
        return len(self.momentum)

    @property
    def velocity(self):
        """Group velocity ``v(p) = grad e(p) / (2 pi)``."""
        return -2.0 * np.sin(2.0 * np.pi * np.asarray(self.momentum, dtype=float))

    @property
    def labels(self):
        """Short names of the three test functions (for plots)."""
        return [r"$J_1$: unscattered", r"$J_2$: scattered to $q$", r"$J_3$: near the origin"]

    def test_functions(self):
        """``[J_1, J_2, J_3]`` as picklable :class:`~chargetransport.wigner.SeparableTestFunction`."""
        from .wigner import gaussian_test_function
        origin = (0.0,) * self.d
        return [gaussian_test_function(self.velocity * self.unscattered_time, self.momentum,
                                       width=0.5, momentum_width=0.05),
                gaussian_test_function(origin, self.scattered_momentum, width=1.5,
                                       momentum_width=0.05),
                gaussian_test_function(origin, None, width=1.0)]

    def initial_samples(self, num, rng):
        """``num`` samples ``(X, V)`` of ``F_0``, for :func:`~chargetransport.boltzmann.kinetic_monte_carlo`."""
        X = rng.normal(0.0, self.width, size=(num, self.d))
        return X, np.tile(np.asarray(self.momentum, dtype=float), (num, 1))

    def box_side(self, eta, half_width):
        """Even box side holding ``[-half_width, half_width]^d`` in macroscopic units: ``2 ceil(half_width / eta^2)``."""
        eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
        half_width = check_real("half_width", half_width, minimum=0.0, strict_minimum=True)
        return 2 * int(np.ceil(half_width / eta**2))

    def observable(self, eta, T, half_width, **kwargs):
        """One-realization observable: ``partial(wkb_wigner_pairings, ...)`` on the box of :meth:`box_side`.

        Further keyword arguments go to :func:`wkb_wigner_pairings`. Being a
        ``functools.partial`` of a module-level function with picklable arguments,
        it runs on worker processes and Dask clusters.
        """
        return partial(wkb_wigner_pairings, d=self.d, L=self.box_side(eta, half_width), eta=eta,
                       momentum=np.asarray(self.momentum, dtype=float), width=self.width,
                       T=np.atleast_1d(np.asarray(T, dtype=float)),
                       test_functions=self.test_functions(), **kwargs)
