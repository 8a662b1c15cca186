"""Initial states: plane waves, Gaussian wave packets and the WKB states of eq. (2.6).

Boundary conditions. A plane wave fills the box, so it must obey the box's
boundary condition: its momentum must lie on the grid ``(m + theta) / L`` of
the (possibly twisted) box, and :func:`plane_wave` checks that. Wave packets
and WKB states are states of ``Z^d`` that fit in the box: they are evaluated
on the sites without wrapping around, the same on a periodic or a twisted box,
and their momentum (``p``, ``grad S``) need not lie on any grid. Where they
reach the boundary, the boundary condition matters; by the package's
convention such states are out of range (check :func:`boundary_weight`), and
the mismatch with either boundary condition is of the order of that weight.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_instance, check_real, check_real_array
from .lattice import Lattice

__all__ = ["gaussian_wave_packet", "plane_wave", "wkb_state"]

# How far (in units of the grid spacing 1/L) a plane wave's momentum may lie from
# the grid of the box: room for the rounding of a momentum computed as (m + theta) / L.
_GRID_TOLERANCE = 1e-9


def _check_lattice(lattice):
    check_instance("lattice", lattice, Lattice)


def _check_vector(name, value, d):
    v = check_real_array(name, value)
    v = np.broadcast_to(v, (d,)) if v.ndim == 0 else v
    if v.shape != (d,):
        raise ValueError(f"'{name}' must have {d} components (one per lattice axis), got shape {v.shape}")
    return v


def _normalised(psi):
    # pairwise summation in NumPy, not BLAS: the result must not depend on the BLAS
    # thread count (bit-for-bit ensembles across executors)
    norm = np.sqrt(np.sum(psi.real**2 + psi.imag**2)) if np.iscomplexobj(psi) \
        else np.sqrt(np.sum(np.asarray(psi, dtype=float) ** 2))
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError("the state vanishes (or overflows) on the lattice: check its centre, "
                         "width and amplitude against the box")
    return (psi / norm).astype(np.complex128)


def plane_wave(lattice, momentum):
    """The normalised plane wave ``psi(x) = exp(2 pi i k.x) / L^{d/2}`` of the box.

    Parameters
    ----------
    lattice : Lattice
    momentum : float or sequence of d floats
        ``k`` on the momentum grid of the box, ``k_i = (m_i + theta_i) / L`` modulo 1
        (a number applies to every axis); it is snapped to the nearest grid point.

    Returns
    -------
    numpy.ndarray of complex128, shape ``lattice.shape``, unit l2 norm
        An eigenvector of the Laplacian of the box with eigenvalue ``e(k)``;
        ``x`` are the centred coordinates. It obeys the boundary condition
        ``psi(x + L e_i) = exp(2 pi i theta_i) psi(x)`` because ``k_i L - theta_i``
        is an integer.

    Raises
    ------
    ValueError
        If ``k`` is not on the grid of the box (e.g. ``m / L`` on a twisted box).

    Examples
    --------
    >>> import numpy as np, chargetransport as ct
    >>> lat = ct.Lattice(d=1, L=8, twist=0.5)
    >>> psi = plane_wave(lat, 1.5 / 8)                 # m = 1
    >>> H = ct.AndersonHamiltonian(lat, eta=0.0)
    >>> bool(np.allclose(H.apply(psi), ct.dispersion([1.5 / 8]) * psi))
    True
    """
    _check_lattice(lattice)
    k = _check_vector("momentum", momentum, lattice.d)
    theta = np.array(lattice.twist)
    m = k * lattice.L - theta
    if np.any(np.abs(m - np.round(m)) > _GRID_TOLERANCE):
        raise ValueError(f"'momentum' = {tuple(k.tolist())} is not on the momentum grid "
                         f"(m + theta) / L of {lattice!r}")
    k = (np.round(m) % lattice.L + theta) / lattice.L
    x = lattice.coordinates(sparse=True)
    phase = sum(ki * xi for ki, xi in zip(k, x))
    return np.exp(2j * np.pi * np.broadcast_to(phase, lattice.shape)) / np.sqrt(lattice.num_sites)


def gaussian_wave_packet(lattice, center, width, momentum):
    """A normalised Gaussian wave packet ``psi(x) ~ exp(-|x - c|^2 / (4 w^2) + 2 pi i p.x)``.

    Parameters
    ----------
    lattice : Lattice
    center : sequence of d floats
        Centre ``c`` in centred lattice coordinates (the origin is the middle
        of the box).
    width : float
        ``w > 0``: standard deviation of ``|psi|^2`` along each axis, in lattice
        units. Its momentum spread is ``1 / (4 pi w)``.
    momentum : sequence of d floats
        Mean momentum ``p`` on the torus [0, 1)^d.

    Returns
    -------
    numpy.ndarray of complex128, shape ``lattice.shape``, unit l2 norm.

    Notes
    -----
    Evaluated on the sites of the box without wrapping around, whatever the
    twist of the box (see the module docstring): a packet that fits in the box
    is the same state on every box.

    Examples
    --------
    Position variance ``2 w^2`` (two axes) and ``<|v|^2> = 4 sin^2(2 pi p)``
    up to the momentum spread:

    >>> import chargetransport as ct
    >>> psi = gaussian_wave_packet(ct.Lattice(d=2, L=32), center=(0, 0), width=2.0,
    ...                            momentum=(0.25, 0.0))
    >>> round(ct.mean_square_displacement(psi), 9), round(ct.mean_square_velocity(psi), 2)
    (8.0, 4.0)
    """
    _check_lattice(lattice)
    c = _check_vector("center", center, lattice.d)
    w = check_real("width", width, minimum=0.0, strict_minimum=True)
    p = _check_vector("momentum", momentum, lattice.d)
    x = lattice.coordinates(sparse=True)
    log_psi = sum(-((xi - ci) ** 2) / (4.0 * w**2) + 2j * np.pi * pi_ * xi
                  for xi, ci, pi_ in zip(x, c, p))
    return _normalised(np.exp(log_psi))


def wkb_state(lattice, amplitude, phase, mu):
    """The WKB state of eq. (2.6): ``phi(x) = C h(mu x) exp(2 pi i S(mu x) / mu)``.

    Parameters
    ----------
    lattice : Lattice
    amplitude : callable
        ``h(X_1, ..., X_d)``: real amplitude of the macroscopic coordinates,
        vectorised (called once with broadcastable arrays).
    phase : callable
        ``S(X_1, ..., X_d)``: real phase; the local momentum is ``grad S(X)``
        on the torus.
    mu : float
        ``mu > 0``: the scale separating microscopic ``x`` from macroscopic
        ``X = mu x``. Theorem 2.1 takes ``mu = eta^2``.

    Returns
    -------
    numpy.ndarray of complex128, unit l2 norm
        ``C`` normalises on the lattice, i.e. ``C = mu^{d/2} / ||h||_{l2(mu Z^d)}``
        as in eq. (2.6). Its rescaled Wigner transform tends to
        ``|h(X)|^2 delta(V - grad S(X)) / ||h||^2`` (eq. (2.12)) as ``mu -> 0``.

    Notes
    -----
    The state must fit in the box: its weight near the boundary (see
    :func:`boundary_weight`) should be negligible, otherwise it wraps around.
    Like the wave packets it is evaluated without wrapping around, the same on a
    periodic or a twisted box; ``grad S`` need not lie on the momentum grid.

    Examples
    --------
    A linear phase ``S(X) = p X`` gives the local momentum ``p`` on every bond:

    >>> import numpy as np, chargetransport as ct
    >>> psi = wkb_state(ct.Lattice(d=1, L=64), lambda X: np.exp(-X**2), lambda X: 0.2 * X, mu=0.1)
    >>> round(float(np.linalg.norm(psi)), 12), round(float(np.angle(psi[33] / psi[32]) / (2 * np.pi)), 12)
    (1.0, 0.2)
    """
    _check_lattice(lattice)
    mu = check_real("mu", mu, minimum=0.0, strict_minimum=True)
    if not callable(amplitude) or not callable(phase):
        raise TypeError("'amplitude' and 'phase' must be callables h(X_1, ..., X_d), S(X_1, ..., X_d)")
    X = tuple(mu * xi for xi in lattice.coordinates(sparse=True))
    h = np.broadcast_to(np.asarray(amplitude(*X)), lattice.shape)
    S = np.broadcast_to(np.asarray(phase(*X)), lattice.shape)
    if np.iscomplexobj(h) or np.iscomplexobj(S):
        raise TypeError("'amplitude' and 'phase' must return real values")
    for name, values in (("amplitude", h), ("phase", S)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"'{name}' returned non-finite values (NaN or inf) on the box")
    return _normalised(h * np.exp(2j * np.pi * S / mu))
