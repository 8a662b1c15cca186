"""One disorder realization of the kinetic-limit experiments (paper section 2.2).

Each function runs the Schrodinger dynamics ``exp(-itH) psi0`` for one
realization of the potential, at the microscopic times ``t = T / eta^2`` of
the kinetic scaling, and returns the observables that the Boltzmann limit
predicts. They are module-level functions of a ``SeedSequence`` (plus keyword
parameters), so that :func:`chargetransport.ensemble.ensemble_average` can run
them in worker processes or on a Dask cluster via ``functools.partial``. Here:
the relaxation of a plane wave in momentum space (with the box's first-order
control variates) and the spreading of the WKB state; the Boltzmann predictions
are in :mod:`chargetransport.relaxation_prediction` and
:mod:`chargetransport.boltzmann`, the WKB state and its Wigner pairings in
:mod:`chargetransport.wkb_experiment`.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._validation import (_check_momentum, check_bool, check_instance, check_int, check_real,
                          check_real_array)
from .boltzmann import collision_rate, group_velocity
from .lattice import Lattice, _check_twist, dispersion
from .observables import mean_square_displacement, momentum_distribution
from .propagation import trajectory
from .relaxation_prediction import momentum_bump, plane_wave_boltzmann_prediction
from .rng import Realization
from .states import plane_wave
from .wkb_experiment import _check_fits, gaussian_wkb_state

__all__ = ["nearest_grid_momentum", "plane_wave_relaxation", "plane_wave_born_terms",
           "generic_shell_points", "wkb_mean_square_displacement"]


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
        prediction ``"survival_boltzmann"``, ``"current_boltzmann"``, ``"bumps_boltzmann"``
        (:func:`~chargetransport.relaxation_prediction.plane_wave_boltzmann_prediction`,
        shell averages by quadrature); with control variates ``"survival_born"``, ``"current_born"``,
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


def plane_wave_born_terms(seed, *, d, L, eta, momentum, T, bump_centers=(), bump_width=0.05,
                          twist=None):
    """The ``"*_born"`` values of :func:`plane_wave_relaxation` for the twist of one seed.

    No evolution and no potential: only the twist ``Realization(seed).twist(d)``, the
    grid momentum nearest ``momentum`` and the box's first-order sums, so that their
    average over twists (the mean of the control variate ``"*_born"``) costs little:
    ``ensemble_average(partial(plane_wave_born_terms, ...), M, seed=s)`` with a master
    seed ``s`` *other* than the experiment's (the twists must be independent of the
    realizations').

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence or None
        The realization whose twist is used; ignored (may be None) when ``twist`` is given.
    d, L, eta, momentum, T, bump_centers, bump_width
        As for :func:`plane_wave_relaxation` with ``twist=True``.
    twist : sequence of d floats in [0, 1), optional
        Use this twist instead of the seed's: zeros give the periodic box, whose grid
        holds ``p`` and its exact symmetry images (the box's own first-order sums, which
        a twist average would otherwise replace by the golden rule).

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
    >>> periodic = plane_wave_born_terms(None, d=2, L=64, eta=0.3, momentum=(7 / 64, 15 / 64),
    ...                                  T=[0.0, 1.0], twist=(0.0, 0.0))
    >>> periodic["survival"].shape
    (2,)
    """
    d = check_int("d", d, minimum=1, maximum=3)
    L = check_int("L", L, minimum=3)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    target = _check_momentum(momentum, d)
    T = check_real_array("T", T, ndim=1)
    centers = [_check_momentum(q, d, "bump_centers[i]") for q in bump_centers]
    bump_width = check_real("bump_width", bump_width, minimum=0.0, strict_minimum=True)
    theta = _check_twist(Realization(seed).twist(d) if twist is None else twist, d)
    p = ((np.round(target * L - np.asarray(theta)) + np.asarray(theta)) / L) % 1.0
    born, _ = _first_order_terms(d, L, theta, eta, p, T, centers, bump_width)
    return born


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


def wkb_mean_square_displacement(seed, *, d, L, eta, momentum, width, T,
                                 distribution="gaussian", boundary_margin=0.5, tol=1e-8):
    """Macroscopic mean-square displacement ``eta^4 <|x|^2>_{T / eta^2}`` of the WKB state.

    The state is :func:`~chargetransport.wkb_experiment.gaussian_wkb_state` (``mu = eta^2``).

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
