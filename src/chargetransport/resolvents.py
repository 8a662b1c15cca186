"""Resolvent integrals of the crossing estimate (paper section 2.3.2) and its ingredients.

Notation. For a spectral parameter ``alpha`` and ``eps > 0`` write the resolvent modulus

    R_alpha(p) = 1 / |e(p) - alpha - i eps| = ((e(p) - alpha)^2 + eps^2)^{-1/2},

``e(p) = sum_i 2 cos(2 pi p_i)`` on the torus ``T^d``. The bounds (2.18)-(2.20) are

    sup_p R_alpha(p) <= 1/eps,   int_{T^d} R_alpha(p) dp <~ log(1/eps),
    sup_p int_{|E| <= Lambda} dE / |e(p) - E - i eps| <~ log(1/eps),

and the crossing integral (2.21) is

    I(u) = int_{T^d x T^d} R_alpha(p) R_beta(q) R_alpha(p + q - u) dp dq
         = (R_alpha * R_beta * R_alpha)(u)          (R is even),

trivially at most ``||R||_inf ||R||_1^2 <~ (log 1/eps)^2 / eps`` (2.22); the proofs show
``<~ eps^{-4/5} (log 1/eps)^2`` (Chen) and ``eps^{-3/4}`` (Erdos-Salmhofer), uniformly in
``alpha, beta, u``.

Numerics. ``R`` is even in every ``p_i`` and symmetric under ``p_i -> 1 - p_i``, so on the
grid ``p = j/N`` its Fourier coefficients ``R^(x) = N^{-d} sum_p R(p) e^{2 pi i p.x}`` are
a type-I discrete cosine transform of its values on ``[0, 1/2]^d`` (``N/2 + 1`` points per
axis, 2^d times fewer than the full grid), and ``I(u) = sum_x R^_alpha(x)^2 R^_beta(x)
e^{-2 pi i x.u}`` is another one. The grid sums are the trapezoidal rule for an analytic
periodic integrand, so they converge exponentially once the grid resolves the width
``eps / (4 pi)`` of the integrand's strip of analyticity: the error behaves like
``exp(-c N eps)`` with ``c ~ 1/2``.

The last part of the module holds the two-dimensional ingredients of the dimensional
reduction argument: the curvature of the level lines of ``e_2(p) = 2 cos 2 pi p_1 +
2 cos 2 pi p_2``, and the Fourier transform of its smoothed level-set measure (2.31).
"""
from __future__ import annotations

import dataclasses
import math

import numba as nb
import numpy as np
import scipy.fft as sfft
from scipy import integrate, special

from ._validation import (available_memory_bytes, check_int, check_real, check_real_array,
                          format_bytes)
from .dos import density_of_states
from .statistics import fit_power_law

__all__ = [
    "CrossingResult",
    "bad_set_measure",
    "crossing_integral",
    "default_crossing_grid",
    "diagonal_level_set_transform",
    "energy_integral",
    "growth_exponent",
    "level_line_curvature",
    "level_line_points",
    "min_level_line_curvature",
    "resolvent_l1_norm",
    "resolvent_modulus",
    "resolvent_sup_norm",
    "smoothed_level_set_transform",
    "stationary_phase_envelope",
]

#: Grid points per unit of 1/eps used by :func:`default_crossing_grid`: ``N eps >= 16``
#: gives a relative error of about 2e-5 (measured; the error decays like exp(-0.66 N eps)
#: at alpha = 0, the per-axis strip estimate gives exp(-N eps / 2)).
GRID_POINTS_PER_INVERSE_EPS = 16


# --------------------------------------------------------------------------------------
# The resolvent and its norms (2.18)-(2.20)
# --------------------------------------------------------------------------------------
def _check_eps(eps):
    return check_real("eps", eps, minimum=0.0, strict_minimum=True)


def resolvent_modulus(p, alpha, eps):
    """``R_alpha(p) = 1 / |e(p) - alpha - i eps|`` at momenta ``p``.

    Parameters
    ----------
    p : array_like, shape (..., d)
        Momenta on the torus.
    alpha : float
        Spectral parameter (real part of the energy).
    eps : float
        Imaginary part, ``eps > 0``.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> float(resolvent_modulus([0.25, 0.25, 0.25], alpha=0.0, eps=0.1))   # e = 0 there
    10.0
    """
    p = check_real_array("p", p)
    if p.ndim == 0 or not 1 <= p.shape[-1] <= 3:
        raise ValueError("'p' must have a last axis of length d (1, 2 or 3)")
    alpha = check_real("alpha", alpha)
    eps = _check_eps(eps)
    e = (2.0 * np.cos(2.0 * np.pi * p)).sum(axis=-1)
    return 1.0 / np.hypot(e - alpha, eps)


def resolvent_sup_norm(alpha, eps, d=3):
    """``sup_p R_alpha(p) = ((dist(alpha, [-2d, 2d]))^2 + eps^2)^{-1/2}`` (bound (2.18)).

    Equal to ``1/eps`` for ``alpha`` in the band: the surface ``e = alpha`` is reached.

    Examples
    --------
    >>> resolvent_sup_norm(0.0, 0.01)
    100.0
    """
    alpha = check_real("alpha", alpha)
    eps = _check_eps(eps)
    d = check_int("d", d, minimum=1, maximum=3)
    dist = max(abs(alpha) - 2.0 * d, 0.0)
    return 1.0 / math.hypot(dist, eps)


def resolvent_l1_norm(alpha, eps, d=3):
    """``||R_alpha||_{L^1(T^d)} = int_{T^d} dp / |e(p) - alpha - i eps|`` (bound (2.19)).

    Parameters
    ----------
    alpha : float
    eps : float
        ``eps >= 1e-6`` (the quadrature runs over ``s <= 40/eps``).
    d : int, default 3

    Returns
    -------
    float
        Accurate to about ``1e-9`` relative.

    Notes
    -----
    With ``1/sqrt(y^2 + eps^2) = (2/pi) int_0^inf K_0(eps s) cos(y s) ds`` and
    ``int_T e^{2 i s cos 2 pi p} dp = J_0(2 s)`` the ``d``-dimensional integral becomes

        ||R_alpha||_1 = (2/pi) int_0^inf K_0(eps s) cos(alpha s) J_0(2 s)^d ds,

    evaluated with Gauss-Legendre panels (the logarithmic singularity of ``K_0`` at
    ``s = 0`` is integrated by adaptive quadrature on the first panel). By the coarea
    formula the same norm is ``int rho_d(E) / |E - alpha - i eps| dE``, so for ``alpha``
    inside the band and away from the van Hove points

        ||R_alpha||_1 = 2 rho_d(alpha) log(1/eps) + C(alpha) + o(1),

    with ``C(alpha) = rho(alpha) log(4 ((2d)^2 - alpha^2)) + int (rho(E) - rho(alpha)) / |E - alpha| dE``.

    Examples
    --------
    >>> a, b = resolvent_l1_norm(0.0, 1e-3), resolvent_l1_norm(0.0, 1e-4)
    >>> round((b - a) / math.log(10), 3) == round(2 * float(density_of_states(0.0, 3)), 3)
    True
    """
    alpha = check_real("alpha", alpha)
    eps = check_real("eps", eps, minimum=1e-6)
    d = check_int("d", d, minimum=1, maximum=3)

    def integrand(s):
        return special.k0(eps * s) * np.cos(alpha * s) * special.j0(2.0 * s) ** d

    head, _ = integrate.quad(integrand, 0.0, 1.0, limit=200, epsabs=1e-13, epsrel=1e-12)
    nodes, weights = np.polynomial.legendre.leggauss(24)
    upper = 1.0 + math.ceil(40.0 / eps)
    total = head
    # panels [k, k + 1], k = 1, ..., upper - 1, processed in chunks to bound memory
    chunk = 1 << 16
    for start in range(1, int(upper), chunk):
        k = np.arange(start, min(start + chunk, int(upper)), dtype=np.float64)
        s = (k[:, None] + 0.5 + 0.5 * nodes[None, :]).ravel()
        total += 0.5 * float(np.dot(np.tile(weights, len(k)), integrand(s)))
    return 2.0 / math.pi * total


def energy_integral(e_value, eps, cutoff):
    """``int_{-Lambda}^{Lambda} dE / |e - E - i eps|``, the quantity of (2.20), in closed form.

    Parameters
    ----------
    e_value : float or array_like
        The kinetic energy ``e(p)``.
    eps : float
    cutoff : float
        ``Lambda``: the spectral integral runs over a bounded interval (over all of R
        it diverges logarithmically); the proof needs ``Lambda`` beyond the spectrum.

    Returns
    -------
    float or numpy.ndarray
        ``asinh((Lambda - e)/eps) + asinh((Lambda + e)/eps)``; its supremum over
        ``|e| <= 2d < Lambda`` is at ``e = 0``: ``2 asinh(Lambda/eps) = 2 log(2 Lambda/eps) + O(eps^2)``.

    Examples
    --------
    >>> round(float(energy_integral(0.0, 1e-3, 7.0)), 4) == round(2 * math.log(2 * 7.0 / 1e-3), 4)
    True
    """
    e = check_real_array("e_value", e_value)
    eps = _check_eps(eps)
    cutoff = check_real("cutoff", cutoff, minimum=0.0, strict_minimum=True)
    out = np.arcsinh((cutoff - e) / eps) + np.arcsinh((cutoff + e) / eps)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------
# The crossing integral (2.21)
# --------------------------------------------------------------------------------------
@nb.njit(cache=True, parallel=True)
def _modulus_on_half_grid_3d(cosines, alpha, eps, out):
    m = cosines.shape[0]
    eps2 = eps * eps
    for i in nb.prange(m):
        for j in range(m):
            cij = cosines[i] + cosines[j] - alpha
            row = out[i, j]
            for k in range(m):
                e = cij + cosines[k]
                row[k] = 1.0 / math.sqrt(e * e + eps2)


def _modulus_on_half_grid(N, d, alpha, eps):
    m = N // 2 + 1
    cosines = 2.0 * np.cos(2.0 * np.pi * np.arange(m) / N)
    if d == 3:
        out = np.empty((m, m, m))
        _modulus_on_half_grid_3d(cosines, alpha, eps, out)
        return out
    e = sum(np.meshgrid(*([cosines] * d), indexing="ij", sparse=True)) - alpha
    return 1.0 / np.sqrt(e * e + eps * eps)


def default_crossing_grid(eps):
    """Grid size ``N`` (per axis of the full torus) for :func:`crossing_integral` at ``eps``.

    ``N = 16/eps`` rounded up to a multiple of 8 (so that ``u = (0, 1/4, 1/2)`` is a grid
    point), at least 32. Along each axis the integrand is analytic in a strip of half-width
    about ``eps / max|d_i e| = eps / (4 pi)`` (the nearest zero of ``(e - alpha)^2 + eps^2``),
    so the trapezoidal error falls like ``exp(-2 pi N eps / (4 pi)) = exp(-N eps / 2)``;
    ``N eps = 16`` gives relative errors below ``1e-4`` (measured: about ``2e-5``).

    Examples
    --------
    >>> default_crossing_grid(0.1)
    160
    """
    eps = _check_eps(eps)
    n = max(32, math.ceil(GRID_POINTS_PER_INVERSE_EPS / eps))
    return int(8 * math.ceil(n / 8))


@dataclasses.dataclass(frozen=True)
class CrossingResult:
    """Result of :func:`crossing_integral`.

    Attributes
    ----------
    eps, alpha, beta : float
        The parameters.
    d, grid : int
        Dimension and grid size ``N`` per axis of the torus.
    at_zero : float
        ``I(0)``.
    maximum : float
        ``max_u I(u)`` over the grid ``u in (Z/N)^d``.
    argmax : tuple of float
        A grid point ``u`` in ``[0, 1/2]^d`` where the maximum is attained (the others
        follow by the symmetries ``u_i -> -u_i`` and permutations).
    l1_alpha, l1_beta : float
        ``||R_alpha||_1`` and ``||R_beta||_1`` on the same grid.
    values : numpy.ndarray or None
        ``I(u)`` on ``[0, 1/2]^d`` (``N/2 + 1`` points per axis), if requested.
    """

    eps: float
    alpha: float
    beta: float
    d: int
    grid: int
    at_zero: float
    maximum: float
    argmax: tuple
    l1_alpha: float
    l1_beta: float
    values: np.ndarray | None = None

    @property
    def trivial_bound(self):
        """``||R_alpha||_inf ||R_alpha||_1 ||R_beta||_1 = ||R_alpha||_1 ||R_beta||_1 / eps``."""
        return self.l1_alpha * self.l1_beta / self.eps


def crossing_integral(eps, alpha=0.0, beta=None, *, d=3, grid=None, return_values=False):
    """The crossing integral ``I(u) = int R_alpha(p) R_beta(q) R_alpha(p + q - u) dp dq`` (2.21).

    Parameters
    ----------
    eps : float
        ``eps > 0``.
    alpha : float, default 0
        Spectral parameter of the first and third resolvent.
    beta : float, optional
        Spectral parameter of the second resolvent (default: ``alpha``).
    d : int, default 3
        Dimension, 2 or 3.
    grid : int, optional
        Even number ``N`` of grid points per axis of the torus; default
        :func:`default_crossing_grid`.
    return_values : bool, default False
        Also return ``I(u)`` on the grid.

    Returns
    -------
    CrossingResult

    Raises
    ------
    ValueError
        If the grid would not fit in the available memory (about ``3 (N/2+1)^d``
        doubles are alive at once).

    Notes
    -----
    ``I = R_alpha * R_beta * R_alpha`` (convolution on the torus, using ``R(-p) = R(p)``),
    so ``I(u) = sum_x R^_alpha(x)^2 R^_beta(x) e^{-2 pi i u.x}`` with the Fourier
    coefficients ``R^(x) = int R(p) e^{2 pi i p.x} dp`` (this is the position-space form
    (2.33) of the paper). Both transforms are DCT-I of the values on ``[0, 1/2]^d``,
    exact for the trapezoidal rule on the ``N^d`` grid. Cost: three DCTs of
    ``(N/2 + 1)^d`` points (about 8 s for ``N = 1024`` in ``d = 3`` on two cores).

    References
    ----------
    Chen (2010), eqs. (2.21)-(2.22) and (2.33).

    Examples
    --------
    >>> r = crossing_integral(0.5, grid=32)
    >>> round(r.at_zero, 4), bool(r.at_zero <= r.maximum <= r.trivial_bound)
    (0.3927, True)
    """
    eps = _check_eps(eps)
    alpha = check_real("alpha", alpha)
    beta = alpha if beta is None else check_real("beta", beta)
    d = check_int("d", d, minimum=2, maximum=3)
    if grid is None:
        grid = default_crossing_grid(eps)
    grid = check_int("grid", grid, minimum=4)
    if grid % 2:
        raise ValueError(f"'grid' must be even (the grid must contain p = 1/2), got {grid}")
    m = grid // 2 + 1
    needed = (3 if beta == alpha else 4) * 8 * m**d
    available = available_memory_bytes()
    if needed > 0.8 * available:
        raise ValueError(f"'grid' = {grid} in d = {d} needs about {format_bytes(needed)} but "
                         f"{format_bytes(available)} is available; use a smaller grid")
    norm = float(grid) ** d
    r_alpha = _modulus_on_half_grid(grid, d, alpha, eps)
    f_alpha = sfft.dctn(r_alpha, type=1, overwrite_x=True, workers=-1)
    del r_alpha
    f_alpha /= norm
    if beta == alpha:
        f_beta = f_alpha
    else:
        r_beta = _modulus_on_half_grid(grid, d, beta, eps)
        f_beta = sfft.dctn(r_beta, type=1, overwrite_x=True, workers=-1)
        del r_beta
        f_beta /= norm
    l1_alpha, l1_beta = float(f_alpha.flat[0]), float(f_beta.flat[0])
    product = f_alpha * f_alpha
    product *= f_beta
    if f_beta is not f_alpha:
        del f_beta
    del f_alpha
    values = sfft.dctn(product, type=1, overwrite_x=True, workers=-1)
    index = np.unravel_index(int(np.argmax(values)), values.shape)
    return CrossingResult(
        eps=eps, alpha=alpha, beta=beta, d=d, grid=grid,
        at_zero=float(values.flat[0]), maximum=float(values[index]),
        argmax=tuple(float(i) / grid for i in index),
        l1_alpha=l1_alpha, l1_beta=l1_beta,
        values=values if return_values else None)


def growth_exponent(eps, values, window=4):
    """Fit ``values ~ C eps^{-gamma}`` on the ``window`` smallest ``eps`` (least squares, log-log).

    Parameters
    ----------
    eps : array_like
        Positive parameters (any order).
    values : array_like
        Positive values, same length.
    window : int, default 4
        Number of smallest ``eps`` used, at least 2.

    Returns
    -------
    tuple of float
        ``(gamma, standard_error)``; the standard error of the slope from the residuals
        (``nan`` for a two-point window). It measures the scatter about a straight line,
        not the curvature of the data: quote also the spread over windows.

    Examples
    --------
    >>> e = np.array([0.1, 0.05, 0.025])
    >>> round(growth_exponent(e, 3 * e**-0.75, window=3)[0], 12)
    0.75
    """
    eps = check_real_array("eps", eps, ndim=1)
    values = check_real_array("values", values, ndim=1)
    if eps.shape != values.shape or np.any(eps <= 0) or np.any(values <= 0):
        raise ValueError("'eps' and 'values' must be positive arrays of the same length")
    window = check_int("window", window, minimum=2, maximum=len(eps))
    order = np.argsort(eps)[:window]
    if np.unique(eps[order]).size < 2:
        raise ValueError(f"the {window} smallest 'eps' must hold at least 2 distinct values")
    # values ~ C eps^-gamma is a power law with exponent -gamma (negation is exact, and
    # so is the least-squares fit's symmetry under it: the same bits as a fit in -log eps)
    exponent, _, err = fit_power_law(eps[order], values[order])
    return -exponent, err


# --------------------------------------------------------------------------------------
# Dimensional reduction: the 2D level lines (2.25)-(2.32)
# --------------------------------------------------------------------------------------
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
