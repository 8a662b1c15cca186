"""Initial states: Gaussian wave packets and the WKB states of eq. (2.6)."""
from __future__ import annotations

import numpy as np

from ._validation import check_real, check_real_array
from .lattice import Lattice

__all__ = ["gaussian_wave_packet", "wkb_state"]


def _check_lattice(lattice):
    if not isinstance(lattice, Lattice):
        raise TypeError(f"'lattice' must be a chargetransport.Lattice, got {type(lattice).__name__}")


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
    return _normalised(h * np.exp(2j * np.pi * S / mu))
