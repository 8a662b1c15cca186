"""Stationary states of the Hartree-Fock kinetic limit: the fixed-point equation (6.43).

In the regime ``lambda = O(1)`` of section 6 (Theorem 6.4) the momentum distribution
of the Hartree-Fock dynamics (:func:`chargetransport.hartree_fock.evolve_hartree_fock`)
has a stationary limit ``F`` that is a function of the *renormalized* dispersion
``Ebar(F) = e - lambda v_hat * F`` (6.39): it is equidistributed on the level surfaces
of ``Ebar``, not of ``e``, which makes (6.43) a nonlinear equation for ``F``.
:func:`solve_stationary_state` solves it by a damped fixed-point iteration from the
initial distribution, keeping the shell contents that the collisions conserve, and
returns a :class:`StationaryState` with its convergence history. The Hartree-Fock
terms are in :mod:`chargetransport.hartree_fock_terms`, the dynamics in
:mod:`chargetransport.hartree_fock`; the level-set averages in :mod:`chargetransport.shells`.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from . import shells
from ._validation import check_int, check_real
from .hartree_fock_terms import (_check_distribution, _check_potential, _exchange,
                                 _grid_dispersion)
from .shells import _check_width

__all__ = ["StationaryState", "solve_stationary_state"]


@dataclasses.dataclass(frozen=True)
class StationaryState:
    """Result of :func:`solve_stationary_state`.

    Attributes
    ----------
    F : numpy.ndarray
        The last iterate.
    energy : numpy.ndarray
        ``Ebar_lambda`` of ``F`` (6.39).
    converged : bool
        Whether the increment fell below ``tol`` within ``max_iter`` iterations.
    iterations : int
    increments : numpy.ndarray
        ``max |F_{k+1} - F_k|`` per iteration (the convergence history).
    residual : float
        ``max |F - P_{Ebar(F)} mu_0|``: the fixed-point defect.
    equidistribution : float
        ``max |F - P_{Ebar(F)} F|``: how far ``F`` is from solving (6.43).
    contraction : float
        Geometric-mean ratio of the last increments (< 1: linear convergence at
        that rate; >= 1: no convergence).
    """

    F: np.ndarray
    energy: np.ndarray
    converged: bool
    iterations: int
    increments: np.ndarray
    residual: float
    equidistribution: float
    contraction: float


def solve_stationary_state(mu0, v, lam, *, width=0.05, damping=0.5, tol=1e-10, max_iter=500,
                           initial=None, warn=True):
    """Solve the stationary fixed-point equation (6.43) reached from ``mu0``.

    Find ``F = P_{Ebar(F)} mu0``, where ``Ebar(F) = e - lambda v_hat * F`` (6.39)
    and ``P_E`` averages over the level surfaces of ``E``
    (:func:`chargetransport.shells.level_set_average`). Such an ``F`` is a function of ``Ebar(F)``, so
    it satisfies (6.43), ``F(p) = (2 pi / mbar(p)) int du delta(Ebar(u) - Ebar(p)) F(u)``;
    among the many solutions of (6.43) it is the one with the shell contents
    ``int delta(Ebar - E) mu0`` of the initial distribution, which the collisions
    conserve.

    Parameters
    ----------
    mu0 : numpy.ndarray, shape ``(L,) * d``
        Initial momentum distribution (values in [0, 1]).
    v : numpy.ndarray, shape ``(L,) * d``
        Pair potential.
    lam : float
        Coupling; ``lam = 0`` gives the linear Boltzmann limit ``P_e mu0``.
    width : float, default 0.05
        Smoothing of the level surfaces (:func:`chargetransport.shells.level_set_average`).
    damping : float, default 0.5
        ``alpha`` in ``F_{k+1} = (1 - alpha) F_k + alpha P_{Ebar(F_k)} mu0``,
        ``0 < alpha <= 1``.
    tol : float, default 1e-10
        Stop when ``max |F_{k+1} - F_k| < tol``.
    max_iter : int, default 500
    initial : numpy.ndarray, optional
        Starting point (default ``mu0``).
    warn : bool, default True
        Emit a ``RuntimeWarning`` if the iteration does not converge.

    Returns
    -------
    StationaryState
        With the convergence history. When it does not converge (the map is
        not a contraction at this ``lambda`` and ``damping``: the increments
        oscillate or grow) ``converged`` is False and the last iterate is
        returned; smaller ``damping`` or a continuation in ``lambda`` (start
        from the solution at a smaller ``lambda``) usually helps.

    Notes
    -----
    Each iteration costs one FFT convolution and one smoothed level-set
    average. The undamped map ``F -> P_{Ebar(F)} mu0`` has Lipschitz constant of
    order ``|lambda| ||v_hat||_1 ||grad mu0|| / width``; damping by ``alpha``
    turns a map whose linearisation has eigenvalues in ``(-1 - 2/alpha + 2, 1)``
    into a contraction.
    """
    v = _check_potential(v)
    mu0 = _check_distribution("mu0", mu0, v.shape)
    lam = check_real("lam", lam)
    width = _check_width(width)
    damping = check_real("damping", damping, minimum=0.0, strict_minimum=True, maximum=1.0)
    tol = check_real("tol", tol, minimum=0.0, strict_minimum=True)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    F = mu0.copy() if initial is None else _check_distribution("initial", initial, v.shape).copy()
    e = _grid_dispersion(v)
    increments = []
    converged = False
    for _ in range(max_iter):
        energy = e - lam * _exchange(v, F)
        target = shells.level_set_average(mu0, energy, width)
        new = (1.0 - damping) * F + damping * target
        increments.append(float(np.abs(new - F).max()))
        F = new
        if not np.all(np.isfinite(F)):
            break
        if increments[-1] < tol:
            converged = True
            break
    energy = e - lam * _exchange(v, F)
    residual = float(np.abs(F - shells.level_set_average(mu0, energy, width)).max())
    equid = float(np.abs(F - shells.level_set_average(F, energy, width)).max())
    inc = np.array(increments)
    tail = inc[-min(10, len(inc)):]
    tail = tail[tail > 0]
    contraction = float(np.exp(np.mean(np.diff(np.log(tail))))) if len(tail) > 1 else 0.0
    if not converged and warn:
        warnings.warn(f"solve_stationary_state did not converge in {len(inc)} iterations "
                      f"(last increment {inc[-1]:.2e}, contraction ratio {contraction:.3f}); "
                      "try a smaller 'damping' or a continuation in 'lam'",
                      RuntimeWarning, stacklevel=2)
    return StationaryState(F=F, energy=energy, converged=converged, iterations=len(inc),
                           increments=inc, residual=residual, equidistribution=equid,
                           contraction=contraction)
