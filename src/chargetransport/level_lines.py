"""Level lines of the 2D dispersion: the dimensional reduction of the crossing estimate.

Section 2.3.2 of the lectures bounds the crossing integral (2.21) in three dimensions
by fixing the third momentum components ``(p_3, q_3)``: what remains is a
two-dimensional problem for ``e_2(p) = 2 cos 2 pi p_1 + 2 cos 2 pi p_2`` at energies
such as ``E_1 = E - 2 cos 2 pi p_3`` (eqs. (2.25)-(2.32)). Its level lines
``e_2 = E_1`` are curved, with curvature proportional to ``|E_1|``, except on the flat
square ``E_1 = 0``; the slices where ``|E_1| <= tau`` form the *bad set*, of measure
``O(tau^{1/2})``; on the others the Fourier transform of the level-set measure decays
like ``tau^{-1/2} |x|^{-1/2}`` (stationary phase, (2.31)-(2.32)). This module holds
those ingredients: :func:`level_line_curvature`, :func:`min_level_line_curvature`,
:func:`level_line_points`, :func:`bad_set_measure`, the transforms
:func:`smoothed_level_set_transform` and :func:`diagonal_level_set_transform`, and
:func:`stationary_phase_envelope`. The resolvent integrals themselves are in
:mod:`chargetransport.resolvents`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from ._validation import check_int, check_real, check_real_array
from .dos import density_of_states

__all__ = [
    "bad_set_measure",
    "diagonal_level_set_transform",
    "level_line_curvature",
    "level_line_points",
    "min_level_line_curvature",
    "smoothed_level_set_transform",
    "stationary_phase_envelope",
]


def level_line_curvature(p):
    """Curvature of the level line of ``e_2(p) = 2 cos 2 pi p_1 + 2 cos 2 pi p_2`` through ``p``.

    Parameters
    ----------
    p : array_like, shape (..., 2)

    Returns
    -------
    numpy.ndarray, shape (...)
        ``kappa = pi |E| (1 - cos a cos b) / (sin^2 a + sin^2 b)^{3/2}``, ``a = 2 pi p_1``,
        ``b = 2 pi p_2``, ``E = e_2(p)`` (``inf`` at the critical points).

    Notes
    -----
    For a level line ``f = E`` the curvature is
    ``|f_11 f_2^2 - 2 f_12 f_1 f_2 + f_22 f_1^2| / |grad f|^3``. Here ``f_12 = 0``,
    ``f_i = -4 pi sin a_i``, ``f_ii = -8 pi^2 cos a_i``, and
    ``cos a sin^2 b + cos b sin^2 a = (cos a + cos b)(1 - cos a cos b)`` with
    ``cos a + cos b = E/2``: the curvature is proportional to ``|E|``, and the level line
    ``E = 0`` is straight (the square ``|p_1| + |p_2| = 1/2``).

    Examples
    --------
    >>> round(float(level_line_curvature([0.25, 0.25])), 12)      # on the straight line E = 0
    0.0
    """
    p = check_real_array("p", p)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError("'p' must have a last axis of length 2")
    a, b = 2.0 * np.pi * p[..., 0], 2.0 * np.pi * p[..., 1]
    E = 2.0 * np.cos(a) + 2.0 * np.cos(b)
    grad2 = np.sin(a) ** 2 + np.sin(b) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.pi * np.abs(E) * (1.0 - np.cos(a) * np.cos(b)) / grad2**1.5
    return np.where(grad2 == 0.0, np.inf, kappa)


def min_level_line_curvature(E):
    """Minimum over the level line ``e_2 = E`` of its curvature (derived closed form).

    Parameters
    ----------
    E : float or array_like
        ``0 <= |E| < 4``.

    Returns
    -------
    float or numpy.ndarray
        ``kappa_min(E) = pi |E| (1 - E^2/16) / (2 - E^2/8)^{3/2}`` ``= pi |E| / 2^{3/2} + O(E^3)``,
        attained on the diagonals ``p_1 = +-p_2``.

    Notes
    -----
    On the line, with ``s = cos a + cos b = E/2`` and ``q = cos a cos b``, the
    curvature is ``pi |E| (1 - q) / (2 - s^2 + 2q)^{3/2}``, decreasing in ``q``
    (its ``q``-derivative has the sign of ``q + s^2 - 5 < 0``); at fixed ``s``, ``q`` is
    largest for ``cos a = cos b = E/4``. Near the band edge ``E -> 4`` the line is a
    circle of radius ``r`` with ``E = 4 - 4 pi^2 r^2``, and the formula gives ``1/r``.

    Examples
    --------
    >>> round(float(min_level_line_curvature(0.1)) / (np.pi * 0.1 / 2**1.5), 3)
    1.0
    """
    E = check_real_array("E", E)
    if np.any(np.abs(E) >= 4.0):
        raise ValueError("'E' must satisfy |E| < 4 (inside the 2D band)")
    out = np.pi * np.abs(E) * (1.0 - E**2 / 16.0) / (2.0 - E**2 / 8.0) ** 1.5
    return float(out) if out.ndim == 0 else out


def level_line_points(E, num_points=2001):
    """Points of the level line ``e_2 = E`` in the quarter ``0 <= p_1, p_2 <= 1/2``.

    Parameters
    ----------
    E : float
        ``|E| < 4``.
    num_points : int, default 2001

    Returns
    -------
    numpy.ndarray, shape (num_points, 2)
        ``p_2 = arccos(E/2 - cos 2 pi p_1) / (2 pi)`` on the range of ``p_1`` where it is
        defined, sampled uniformly in the angle ``a = 2 pi p_1``; the rest of the line
        follows by the reflections ``p_i -> -p_i``.
    """
    E = check_real("E", E, minimum=-4.0, maximum=4.0)
    if abs(E) == 4.0:
        raise ValueError("'E' must satisfy |E| < 4")
    num_points = check_int("num_points", num_points, minimum=3)
    # cos b = E/2 - cos a must lie in [-1, 1]
    lo = math.acos(min(1.0, E / 2.0 + 1.0)) if E / 2.0 + 1.0 < 1.0 else 0.0
    hi = math.acos(max(-1.0, E / 2.0 - 1.0)) if E / 2.0 - 1.0 > -1.0 else math.pi
    a = np.linspace(lo, hi, num_points)
    cb = np.clip(E / 2.0 - np.cos(a), -1.0, 1.0)
    return np.stack([a, np.arccos(cb)], axis=-1) / (2.0 * np.pi)


def bad_set_measure(E, tau):
    """Measure of ``{p_3 in T : |E - 2 cos 2 pi p_3| <= tau}`` (closed form).

    In the dimensional reduction the 2D slice at height ``p_3`` has energy
    ``E_1 = E - 2 cos 2 pi p_3``; its level line is nearly flat when ``|E_1| <= tau``.

    Parameters
    ----------
    E : float
        3D energy.
    tau : float or array_like
        ``tau > 0``.

    Returns
    -------
    float or numpy.ndarray
        ``(arccos(max(-1, (E - tau)/2)) - arccos(min(1, (E + tau)/2))) / pi``: of order
        ``tau`` for ``|E| < 2`` and of order ``tau^{1/2}`` at ``|E| = 2``, where
        ``cos`` is stationary; the paper's ``O(tau^{1/2})`` is the bound uniform in ``E``.

    Examples
    --------
    >>> round(float(bad_set_measure(0.0, 1e-3)) / (1e-3 / np.pi), 4)
    1.0
    """
    E = check_real("E", E)
    tau = check_real_array("tau", tau)
    if np.any(tau <= 0):
        raise ValueError("'tau' must be > 0")
    lo = np.clip((E - tau) / 2.0, -1.0, 1.0)
    hi = np.clip((E + tau) / 2.0, -1.0, 1.0)
    out = (np.arccos(lo) - np.arccos(hi)) / np.pi
    return float(out) if out.ndim == 0 else out


def smoothed_level_set_transform(E, nu, x, *, step=0.25):
    """Fourier transform of the smoothed level-set measure of ``e_2`` at lattice points (2.31).

    Parameters
    ----------
    E : float or array_like
        Energies of the level lines.
    nu : float
        Smoothing width in energy, ``nu > 0``.
    x : array_like of int, shape (..., 2)
        Lattice points.
    step : float, default 0.25
        Step of the trapezoidal rule in the time variable (see Notes), at most 0.5.

    Returns
    -------
    numpy.ndarray of float, shape ``E.shape + x.shape[:-1]``
        ``delta_nu^(x) = int_{T^2} e^{-2 pi i p.x} g_nu(e_2(p) - E) dp`` with the Gaussian
        ``g_nu(y) = exp(-y^2 / (2 nu^2)) / (nu sqrt(2 pi))``; at ``x = 0`` it tends to the
        density of states ``rho_2(E)`` as ``nu -> 0``. Real, since ``e_2`` is even.

    Notes
    -----
    With ``g_nu(y) = (1/2 pi) int ds e^{-nu^2 s^2 / 2} e^{i s y}`` and the Jacobi-Anger
    expansion ``int_T e^{-2 pi i p n} e^{2 i s cos 2 pi p} dp = i^{|n|} J_{|n|}(2s)``,

        delta_nu^(x) = (1/pi) Re int_0^inf ds e^{-nu^2 s^2/2 - i s E} i^{|x_1| + |x_2|}
                       J_{|x_1|}(2s) J_{|x_2|}(2s),

    the Gaussian-damped return amplitude of the 2D lattice walk. The integrand is an
    entire function of exponential type ``|E| + 4`` times a Gaussian, so the trapezoidal
    rule with ``step <= 0.5`` on ``[0, 9/nu]`` is exact to rounding (the aliasing error
    is of order ``exp(-(2 pi/step - |E| - 4)^2 / (2 nu^2))``). The Bessel values do not
    depend on ``E`` and are computed once for all energies. Cost: about
    ``(number of distinct |x_i|) * 36/nu`` Bessel evaluations.

    Examples
    --------
    >>> rho = smoothed_level_set_transform(1.0, 0.01, [0, 0])
    >>> round(float(rho), 3) == round(float(density_of_states(1.0, 2)), 3)
    True
    """
    E_arr = check_real_array("E", E)
    nu = check_real("nu", nu, minimum=0.0, strict_minimum=True)
    step = check_real("step", step, minimum=0.0, strict_minimum=True, maximum=0.5)
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != 2 or not np.issubdtype(x.dtype, np.integer):
        raise TypeError("'x' must be an integer array with a last axis of length 2")
    s = np.arange(0.0, 9.0 / nu + step, step)
    weights = np.full(s.shape, step)
    weights[0] = step / 2.0
    gauss = weights * np.exp(-0.5 * (nu * s) ** 2)
    flat = np.abs(x.reshape(-1, 2)).astype(np.int64)
    orders = np.unique(flat)
    table = {int(o): special.jv(int(o), 2.0 * s) for o in orders}
    energies = E_arr.ravel()
    phases = np.exp(-1j * np.outer(energies, s)) * gauss[None, :]      # (num_E, num_s)
    out = np.empty((len(energies), len(flat)))
    for i, (n1, n2) in enumerate(flat):
        values = phases @ (table[int(n1)] * table[int(n2)])
        out[:, i] = ((1j) ** int((n1 + n2) % 4) * values).real / np.pi
    return out.reshape(E_arr.shape + x.shape[:-1])


def diagonal_level_set_transform(E, n):
    """Fourier transform of the level-set measure of ``e_2`` on the diagonal ``x = (n, n)``.

    Parameters
    ----------
    E : float
        ``0 < |E| < 4`` (at ``E = 0`` the transform diverges: ``rho_2(0) = inf``).
    n : array_like of int
        Diagonal lattice points ``x = (n, n)``, ``|x| = sqrt(2) |n|``.

    Returns
    -------
    numpy.ndarray of float, the shape of ``n``
        ``mu_E^(x) = int_{T^2} e^{-2 pi i p.x} delta(e_2(p) - E) dp`` (the ``nu -> 0`` limit
        of :func:`smoothed_level_set_transform`); ``mu_E^(0) = rho_2(E)``.

    Notes
    -----
    In the variables ``u = p_1 + p_2``, ``w = p_1 - p_2`` (Jacobian 1/2, fundamental domain
    ``[0, 1) x [0, 2)``) one has ``e_2 = 4 cos(pi u) cos(pi w)``, and the ``w``-integral of
    the delta function is ``(2/pi) (16 cos^2(pi u) - E^2)_+^{-1/2}``. Hence

        mu_E^(n, n) = (2/pi) int_0^{u_0} cos(2 pi n u) (16 cos^2(pi u) - E^2)^{-1/2} du,

    ``u_0 = arccos(|E|/4)/pi``. The inverse square-root singularity at ``u_0`` (the
    stationary point of the phase on the level line) is removed by ``u = u_0 - v^2``; the
    smooth, oscillatory ``v``-integral is done with composite Gauss-Legendre panels,
    accurate to about ``1e-12``.

    Examples
    --------
    >>> round(float(diagonal_level_set_transform(1.0, 0)), 10) == round(float(density_of_states(1.0, 2)), 10)
    True
    """
    E = check_real("E", E)
    if not 0.0 < abs(E) < 4.0:
        raise ValueError("'E' must satisfy 0 < |E| < 4 (the transform diverges at E = 0)")
    n_arr = np.asarray(n)
    if not np.issubdtype(n_arr.dtype, np.integer):
        raise TypeError("'n' must be an integer array")
    flat = np.abs(n_arr.ravel()).astype(np.float64)
    u0 = math.acos(abs(E) / 4.0) / math.pi
    vmax = math.sqrt(u0)
    panels = max(16, int(np.max(flat, initial=0.0)) // 2 + 16)
    nodes, weights = np.polynomial.legendre.leggauss(24)
    edges = np.linspace(0.0, vmax, panels + 1)
    half = 0.5 * np.diff(edges)
    v = ((edges[:-1] + half)[:, None] + half[:, None] * nodes[None, :]).ravel()
    w = (half[:, None] * weights[None, :]).ravel()
    u = u0 - v * v
    jac = 2.0 * v / np.sqrt(np.maximum(16.0 * np.cos(np.pi * u) ** 2 - E * E, 1e-300))
    # (16 cos^2 - E^2) ~ c v^2 near v = 0: the ratio 2v/sqrt(...) tends to a finite limit
    base = w * jac
    out = np.array([np.dot(base, np.cos(2.0 * np.pi * k * u)) for k in flat])
    return (2.0 / math.pi * out).reshape(n_arr.shape)


def stationary_phase_envelope(E, r):
    """Stationary-phase envelope of the level-set measure's transform along the diagonal.

    Parameters
    ----------
    E : float
        ``0 < |E| < 4``.
    r : float or array_like
        Distance ``|x|`` along the diagonal ``x = (n, n)``, ``r = n sqrt 2``.

    Returns
    -------
    float or numpy.ndarray
        ``2 / (|grad e_2(p*)| sqrt(kappa_min(E) r))``: the amplitude of the two
        stationary points ``p* = +-(a, a)/(2 pi)``, ``cos a = E/4``, where the normal is
        diagonal and the curvature is ``kappa_min(E)``. Since
        ``|grad e_2(p*)| = 4 pi sqrt 2 sqrt(1 - E^2/16)`` and ``kappa_min ~ pi |E|/2^{3/2}``,
        the envelope is ``~ tau^{-1/2} |x|^{-1/2}`` for ``|E| ~ tau`` (eq. (2.32)); it holds
        for ``r >> 1/kappa_min`` (before that the line looks straight).

    Examples
    --------
    >>> e1, e4 = stationary_phase_envelope(0.1, 100.0), stationary_phase_envelope(0.1, 400.0)
    >>> round(float(e1 / e4), 6)
    2.0
    """
    E = check_real("E", E)
    if not 0.0 < abs(E) < 4.0:
        raise ValueError("'E' must satisfy 0 < |E| < 4")
    r = check_real_array("r", r)
    if np.any(r <= 0):
        raise ValueError("'r' must be > 0")
    grad = 4.0 * np.pi * math.sqrt(2.0) * math.sqrt(1.0 - E**2 / 16.0)
    out = 2.0 / (grad * np.sqrt(min_level_line_curvature(E) * r))
    return float(out) if out.ndim == 0 else out
