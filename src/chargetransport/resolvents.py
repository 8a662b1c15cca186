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

The two-dimensional ingredients of the dimensional reduction argument (the curvature
of the level lines of ``e_2(p) = 2 cos 2 pi p_1 + 2 cos 2 pi p_2`` and the Fourier
transform of its smoothed level-set measure (2.31)) are in
:mod:`chargetransport.level_lines`.
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
from .power_laws import fit_power_law

__all__ = [
    "CrossingResult",
    "crossing_integral",
    "default_crossing_grid",
    "energy_integral",
    "growth_exponent",
    "resolvent_l1_norm",
    "resolvent_modulus",
    "resolvent_sup_norm",
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
