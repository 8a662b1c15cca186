"""The Boltzmann prediction of the plane-wave relaxation, and the deviations from it (section 2).

For ``F_0 = delta_p`` the homogeneous Boltzmann equation predicts the momentum
distribution of :func:`chargetransport.kinetic_limit.plane_wave_relaxation` in
closed form up to shell averages: :func:`plane_wave_boltzmann_prediction`, for
the observables survival, current, speed and the periodic Gaussian bumps
:func:`momentum_bump` in momentum space; :func:`relaxation_deviations` stacks
the deviations of realizations from it, less their control variates.
"""
from __future__ import annotations

import numpy as np

from ._validation import _check_momentum, check_int, check_real, check_real_array
from .boltzmann import collision_rate, group_velocity, shell_mean_square_velocity
from .dos import density_of_states
from .lattice import dispersion

__all__ = ["momentum_bump", "plane_wave_boltzmann_prediction", "relaxation_deviations"]


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
    """The Boltzmann limit of the observables of :func:`~chargetransport.kinetic_limit.plane_wave_relaxation`.

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
        The keys of :func:`~chargetransport.kinetic_limit.plane_wave_relaxation` (except the distribution), and
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
    from .shell_sampling import _check_shell_energies, shell_average
    d = check_int("d", d, minimum=1, maximum=3)
    p = _check_momentum(momentum, d)
    T = check_real_array("T", T, ndim=1)
    if np.any(T < 0):
        raise ValueError("'T' must be >= 0 (kinetic times)")
    num_shell_samples = check_int("num_shell_samples", num_shell_samples, minimum=2)
    centers = [_check_momentum(q, d, "bump_centers[i]") for q in bump_centers]
    bump_width = check_real("bump_width", bump_width, minimum=0.0, strict_minimum=True)
    if method not in ("monte_carlo", "quadrature"):
        raise ValueError(f"'method' must be 'monte_carlo' or 'quadrature', got {method!r}")
    E = float(dispersion(p))
    try:
        _check_shell_energies(np.array([E]), d)
    except ValueError as err:
        raise ValueError(f"'momentum' {p.tolist()} has no regular energy shell: {err}") from None
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


def relaxation_deviations(samples, *, control_variates=True, born_mean=None, born_error=None):
    """Per-realization deviations of :func:`~chargetransport.kinetic_limit.plane_wave_relaxation` from Boltzmann, stacked.

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
        :func:`~chargetransport.kinetic_limit.plane_wave_born_terms` with independent twists). When given, the twist
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
        without it), for :func:`~chargetransport.deviations.sup_deviation`.

    Examples
    --------
    >>> import chargetransport as ct
    >>> from functools import partial
    >>> from chargetransport.kinetic_limit import plane_wave_relaxation
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
