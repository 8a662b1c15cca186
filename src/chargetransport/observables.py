"""Observables of a single state: where it is, how fast it moves, whether it fits the box."""
from __future__ import annotations

import numpy as np

from ._validation import check_finite_field, check_instance, check_real, check_real_array
from .lattice import Lattice

__all__ = ["boundary_weight", "momentum_distribution", "mean_square_displacement",
           "mean_square_velocity"]


def _box_field(psi):
    """psi as a finite array on a box (L,)*d, d in 1..3, or a ValueError/TypeError naming 'psi'."""
    psi = np.asarray(psi)
    if not np.issubdtype(psi.dtype, np.number):
        raise TypeError(f"'psi' must be a numeric array, got dtype {psi.dtype}")
    if not 1 <= psi.ndim <= 3 or len(set(psi.shape)) != 1:
        raise ValueError(f"'psi' must be a field on a box, shape (L,)*d with d in 1..3, got {psi.shape}")
    return check_finite_field("psi", psi)


def _density(psi):
    """|psi|^2 and its sum, or a ValueError if psi is the zero field (not a state)."""
    prob = np.abs(psi) ** 2
    total = prob.sum()
    if total == 0:
        raise ValueError("'psi' has zero norm: it is not a state")
    if not np.isfinite(total):
        raise ValueError("'psi' is too large: its squared norm overflows")
    return prob, total


def _probability(psi):
    prob, total = _density(_box_field(psi))
    return prob / total


def boundary_weight(psi, margin):
    """Probability within ``margin`` sites of the box boundary.

    A wave packet that carries weight there is about to wrap around the
    periodic box; experiments on Z^d check that this stays negligible.

    Parameters
    ----------
    psi : numpy.ndarray, shape ``(L,) * d``
    margin : int or float
        Width of the boundary layer in sites (``>= 0``).

    Returns
    -------
    float
        ``sum_{x in layer} |psi(x)|^2 / ||psi||^2``.

    Raises
    ------
    ValueError
        If ``psi`` holds NaN or inf, or is zero (a zero field is not a state
        that fits in the box).

    Examples
    --------
    >>> import chargetransport as ct
    >>> psi = ct.gaussian_wave_packet(ct.Lattice(d=1, L=64), center=0, width=2.0, momentum=0.1)
    >>> bool(boundary_weight(psi, margin=8) < 1e-20)
    True
    """
    psi = _box_field(psi)
    margin = check_real("margin", margin, minimum=0.0)
    L = psi.shape[0]
    n = np.arange(L)
    near = (n < margin) | (n >= L - margin)
    prob, total = _density(psi)
    inner = prob
    for axis in range(psi.ndim):
        inner = np.compress(~near, inner, axis=axis)
    return max(0.0, float((total - inner.sum()) / total))


def _box_twist(psi, lattice):
    """The twist of the box psi lives on: that of ``lattice`` (checked against psi's
    shape), or zeros (the periodic box of psi's shape)."""
    if lattice is None:
        return (0.0,) * psi.ndim
    check_instance("lattice", lattice, Lattice)
    if psi.shape != lattice.shape:
        raise ValueError(f"'psi' must have the shape {lattice.shape} of 'lattice', got {psi.shape}")
    return lattice.twist


def momentum_distribution(psi, lattice=None):
    """``|psi_hat(k)|^2`` on the momentum grid of the box.

    Parameters
    ----------
    psi : numpy.ndarray, shape ``(L,) * d``
    lattice : Lattice, optional
        The box of ``psi``; default the periodic box of its shape. On a twisted
        box the grid is ``k = (m + theta) / L`` and ``psi_hat(k) = sum_x exp(-2 pi
        i k.x) psi(x)`` is the FFT of ``psi(x) exp(-2 pi i theta.x / L)``.

    Returns
    -------
    numpy.ndarray of float64, shape ``(L,) * d``
        Normalised as a density on the torus: ``L^{-d} sum_k |psi_hat(k)|^2 =
        ||psi||^2`` (paper eqs. (2.3)-(2.5)); arrays are in ``numpy.fft`` order,
        matching :meth:`Lattice.momenta`. Not normalised by ``||psi||``: the
        zero field has the zero distribution.

    Raises
    ------
    ValueError
        If ``psi`` holds NaN or inf, or its shape is not that of ``lattice``.

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=8, twist=0.5)
    >>> psi = ct.plane_wave(lat, 2.5 / 8)               # m = 2 on the twisted grid
    >>> np.round(momentum_distribution(psi, lat), 12)
    array([0., 0., 8., 0., 0., 0., 0., 0.])
    """
    psi = _box_field(psi)
    if any(_box_twist(psi, lattice)):
        psi = psi * np.conj(lattice.twist_factor())
    return np.abs(np.fft.fftn(psi)) ** 2


def mean_square_displacement(psi, center=None):
    """``<|x - c|^2> = sum_x |psi(x)|^2 |x - c|^2 / ||psi||^2`` in centred coordinates.

    Parameters
    ----------
    psi : numpy.ndarray, shape ``(L,) * d``
    center : sequence of d floats, optional
        ``c``; default the origin (the middle of the box), where the
        wave packets of the book start.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``psi`` holds NaN or inf or is zero, or ``center`` is not d finite numbers.

    Examples
    --------
    >>> import chargetransport as ct
    >>> psi = ct.gaussian_wave_packet(ct.Lattice(d=2, L=32), center=(1, 0), width=2.0,
    ...                               momentum=(0.1, 0.0))
    >>> round(mean_square_displacement(psi, center=(1, 0)), 9)     # 2 w^2
    8.0
    """
    prob = _probability(psi)
    L, d = prob.shape[0], prob.ndim
    x = np.arange(L, dtype=float) - L // 2
    c = np.zeros(d) if center is None else check_real_array("center", center)
    if c.shape != (d,):
        raise ValueError(f"'center' must have {d} components, got shape {c.shape}")
    total = 0.0
    for axis in range(d):
        marginal = prob.sum(axis=tuple(a for a in range(d) if a != axis))
        total += float((marginal * (x - c[axis]) ** 2).sum())
    return total


def mean_square_velocity(psi, lattice=None):
    """``<|v|^2>`` with the group velocity ``v(k) = grad e(k) / (2 pi)``, in the state psi.

    ``v`` commutes with the free Hamiltonian, so under free evolution
    ``<|x|^2>_t = <|x|^2>_0 + t <x.v + v.x>_0 + t^2 <|v|^2>`` holds exactly
    (the middle term vanishes for a real, even envelope times a plane wave).

    Parameters
    ----------
    psi : numpy.ndarray, shape ``(L,) * d``
    lattice : Lattice, optional
        The box of ``psi`` (its twist sets the momentum grid); default the
        periodic box of its shape.

    Returns
    -------
    float
        ``int |psi_hat(k)|^2 sum_i 4 sin^2(2 pi k_i) dk / ||psi||^2``.

    Raises
    ------
    ValueError
        If ``psi`` holds NaN or inf or is zero.

    Examples
    --------
    >>> import chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=8)
    >>> round(mean_square_velocity(ct.plane_wave(lat, 0.25)), 12)     # 4 sin^2(pi / 2)
    4.0
    """
    psi = _box_field(psi)
    twist = _box_twist(psi, lattice)
    _density(psi)
    prob = momentum_distribution(psi, lattice)
    prob = prob / prob.sum()
    L, d = psi.shape[0], psi.ndim
    total = 0.0
    for axis in range(d):
        v2 = 4.0 * np.sin(2.0 * np.pi * (np.arange(L) + twist[axis]) / L) ** 2
        marginal = prob.sum(axis=tuple(a for a in range(d) if a != axis))
        total += float((marginal * v2).sum())
    return total
