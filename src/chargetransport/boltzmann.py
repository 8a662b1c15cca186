"""Linear Boltzmann theory of the weakly disordered Anderson model (paper eq. (2.11)).

In the kinetic scaling (T, X) = eta^2 (t, x), a particle of momentum V moves
with the group velocity ``v(V) = grad e(V) / (2 pi)`` (lattice units per unit of
time; ``e(k) = sum_i 2 cos(2 pi k_i)``) and jumps, at rate
``m(V) = int sigma(U, V) dU = 2 pi rho(e(V))`` per unit of T, to a momentum
drawn from the energy shell ``{U : e(U) = e(V)}`` with weight
``delta(e(U) - e(V)) dU``. Velocities on a shell average to zero (e is even),
so at times much longer than ``1 / m`` the motion is diffusive.

.. note::
   The OCR of the paper writes the transport term of (2.11) as
   ``2 pi grad e . grad_X``; for the dispersion ``sum_i 2 cos(2 pi k_i)`` the
   group velocity of a lattice wave packet is ``grad e / (2 pi)`` (stationary
   phase of ``exp(2 pi i k.x - i e(k) t)``), and that is what is used here.
"""
from __future__ import annotations

import numpy as np
from scipy import integrate

from ._validation import check_int, check_real, check_real_array
from .dos import density_of_states

__all__ = ["collision_rate", "group_velocity", "shell_mean_square_velocity",
           "diffusion_constant", "boltzmann_mean_square_displacement"]


def group_velocity(k):
    """Group velocity ``grad e(k) / (2 pi) = (-2 sin(2 pi k_i))_i`` (lattice units per unit time).

    Parameters
    ----------
    k : array_like, shape (..., d)

    Returns
    -------
    numpy.ndarray, shape (..., d)
    """
    k = check_real_array("k", k)
    return -2.0 * np.sin(2.0 * np.pi * k)


def collision_rate(E, d):
    """Total scattering rate ``m(E) = 2 pi rho_d(E)`` per unit of macroscopic time T.

    In microscopic time the rate is ``eta^2 m(E)``: the survival probability of a
    plane wave of energy E decays like ``exp(-2 pi rho(E) eta^2 t)``.
    """
    return 2.0 * np.pi * density_of_states(E, d)


def _shell_mean_e1_squared(E, d):
    # <e_1(U)^2> over the shell e(U) = E, with e_1 = 2 cos(2 pi U_1): split off
    # axis 1, whose e_1 has density rho_1, from the other d - 1 axes.
    # With e_1 = 2 cos(theta), rho_1(e_1) de_1 = d theta / pi.
    if d == 1:
        return E**2

    def integrand(theta):
        x = 2.0 * np.cos(theta)
        return x**2 * density_of_states(np.array([E - x]), d - 1)[0]

    reach = 2.0 * (d - 1)   # support of rho_{d-1} is [-reach, reach]
    breaks = [np.arccos(np.clip(c / 2.0, -1.0, 1.0))
              for c in (E, E - reach, E + reach) if abs(c) < 2.0]
    value, _ = integrate.quad(integrand, 0.0, np.pi, points=sorted(set(breaks)) or None,
                              epsabs=1e-12, epsrel=1e-10, limit=400)
    return value / np.pi / density_of_states(np.array([E]), d)[0]


def shell_mean_square_velocity(E, d):
    """Average of ``|v|^2 = |grad e / (2 pi)|^2`` over the energy shell ``e(U) = E``.

    Parameters
    ----------
    E : array_like of float
        Energies strictly inside the band (-2d, 2d).
    d : int

    Returns
    -------
    numpy.ndarray
        ``<|v|^2>_E = int delta(e(U) - E) |v(U)|^2 dU / rho(E)``, computed from
        ``|v|^2 = sum_i (4 - e_i^2)`` and one-dimensional quadratures of
        ``rho_1 * rho_{d-1}``.
    """
    d = check_int("d", d, minimum=1, maximum=3)
    E = check_real_array("E", E)
    if np.any(np.abs(E) >= 2 * d):
        raise ValueError(f"'E' must lie strictly inside the band (-{2 * d}, {2 * d})")
    flat = [4.0 * d - d * _shell_mean_e1_squared(e, d) for e in E.ravel()]
    return np.asarray(flat).reshape(E.shape)


def diffusion_constant(E, d, eta):
    """Diffusion constant of the Boltzmann process at energy E, in lattice units.

    ``D(E) = <|v|^2>_E / (d eta^2 m(E))``, so that the mean-square displacement
    grows like ``2 d D t`` at times ``t >> 1 / (eta^2 m)``. In macroscopic units
    (X, T) the same process has ``D_macro = eta^2 D``.
    """
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    d = check_int("d", d, minimum=1, maximum=3)
    return shell_mean_square_velocity(E, d) / (d * eta**2 * collision_rate(E, d))


def boltzmann_mean_square_displacement(t, v0_squared, E, d, eta):
    """Mean-square displacement of the Boltzmann process started at one momentum.

    Parameters
    ----------
    t : array_like of float
        Microscopic times ``t >= 0``.
    v0_squared : float
        ``|v(p)|^2`` of the initial momentum p.
    E : float
        Its energy ``e(p)``, strictly inside the band.
    d : int
    eta : float

    Returns
    -------
    numpy.ndarray
        ``E|x(t) - x(0)|^2 = 2A [1 - e^{-r t}(1 + r t)] / r^2 + 2B [t / r - (1 - e^{-r t}) / r^2]``
        with ``r = eta^2 m(E)``, ``B = <|v|^2>_E`` and ``A = |v(p)|^2 - B``: the
        velocity keeps its value until the first collision and is afterwards
        uncorrelated with mean zero, so ``E[v(s).v(s')] = E|v(s)|^2 e^{-r|s'-s|}``.
        Ballistic ``|v(p)|^2 t^2`` at short times, diffusive ``2 B t / r`` at long times.
    """
    t = check_real_array("t", t)
    if np.any(t < 0):
        raise ValueError("'t' must be >= 0")
    E = check_real("E", E)
    v0_squared = check_real("v0_squared", v0_squared, minimum=0.0)
    eta = check_real("eta", eta, minimum=0.0, strict_minimum=True)
    r = eta**2 * float(collision_rate(E, d))
    B = float(shell_mean_square_velocity(E, d))
    A = v0_squared - B
    rt = r * t
    return (2.0 * A * (1.0 - np.exp(-rt) * (1.0 + rt)) / r**2
            + 2.0 * B * (t / r - (1.0 - np.exp(-rt)) / r**2))
