"""Projections onto the energy shells (level sets) of a momentum grid (sections 2 and 6).

On the momentum grid of a box the shell average ``P`` of the collision operator
(the average over ``{e(k) = E}``, sampled exactly on the torus by
:mod:`chargetransport.shell_sampling`) becomes a projection onto functions of
the energy, in two ways:

* with hard energy bins: :class:`EnergyBins` (the projection of
  :func:`chargetransport.boltzmann.homogeneous_solution`) and
  :func:`equidistribution_defect`;
* smoothed: :func:`level_set_average` and :func:`level_set_measure` replace the
  delta function by a Gaussian, so that they are continuous in the energy
  function (any ``E(p)``, e.g. the renormalized dispersion of the Hartree-Fock
  chapter, (6.43)-(6.44)).

:func:`symmetrize` averages a grid function over the point group of ``Z^d``,
which maps every shell of ``e`` to itself.
"""
from __future__ import annotations

import itertools
import math

import numba as nb
import numpy as np

from ._validation import check_memory, check_real, check_real_array

__all__ = ["EnergyBins", "level_set_average", "level_set_measure", "equidistribution_defect",
           "symmetrize"]


# --------------------------------------------------------------------------
# Fields on a momentum grid
# --------------------------------------------------------------------------

def _check_grid_field(name, value):
    arr = check_real_array(name, value)
    if not 1 <= arr.ndim <= 3 or len(set(arr.shape)) != 1 or arr.shape[0] < 3:
        raise ValueError(f"'{name}' must be a field on a box grid, shape (L,)*d with d in 1..3 "
                         f"and L >= 3, got {arr.shape}")
    return arr


def _reflect(v):
    """``v(-p)`` on the grid (numpy.fft order: ``-m`` is ``(-m) mod L`` on every axis)."""
    out = v
    for axis in range(v.ndim):
        out = np.roll(np.flip(out, axis=axis), 1, axis=axis)
    return out


class EnergyBins:
    """The momentum grid cut into energy bins ``[origin + k w, origin + (k + 1) w)``.

    Parameters
    ----------
    energy : numpy.ndarray
        Energy of each grid momentum (e.g. :meth:`chargetransport.Lattice.dispersion`).
    bin_width : float
        ``w > 0``.
    origin : float, optional
        Lower edge of bin 0 (default ``energy.min()``); every energy must be
        ``>= origin``.

    Attributes
    ----------
    index : numpy.ndarray of int64, shape ``(energy.size,)``
        Bin of each grid momentum (C order).
    counts : numpy.ndarray of int64
        Grid momenta per bin (bins ``0 .. index.max()``).
    lower : numpy.ndarray
        Lower edge of each bin.

    Notes
    -----
    :meth:`project` is the conditional expectation given the bin: an
    orthogonal projection for the grid's counting measure, which is the grid
    version of the shell average ``P``. It is exact on functions of the bin
    and conserves ``sum F``.

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 16).dispersion()
    >>> bins = EnergyBins(e, 0.5, origin=-4.0)
    >>> P = bins.project(e)
    >>> bool(np.allclose(bins.project(P), P)), bool(np.isclose(P.sum(), e.sum()))
    (True, True)
    """

    def __init__(self, energy, bin_width, origin=None):
        energy = check_real_array("energy", energy)
        self.bin_width = check_real("bin_width", bin_width, minimum=0.0, strict_minimum=True)
        self.origin = (float(energy.min()) if origin is None
                       else check_real("origin", origin, maximum=float(energy.min())))
        self.shape = energy.shape
        # counts, lower edges and the sums of a projection: three arrays of one value per bin
        num_bins = (float(energy.max()) - self.origin) / self.bin_width + 1
        check_memory("bin_width", 24 * num_bins, f"{num_bins:.3g} energy bins",
                     hint="take a wider 'bin_width'")
        self.index = np.floor((energy - self.origin) / self.bin_width).astype(np.int64).ravel()
        self.counts = np.bincount(self.index)
        self.lower = self.origin + self.bin_width * np.arange(len(self.counts))

    def project(self, F):
        """Average of ``F`` (the shape of ``energy``) over each bin, at every grid momentum."""
        F = check_real_array("F", F)
        if F.shape != self.shape:
            raise ValueError(f"'F' must have the shape {self.shape} of 'energy', got {F.shape}")
        sums = np.bincount(self.index, weights=F.ravel())
        return (sums / np.maximum(self.counts, 1))[self.index].reshape(self.shape)


# --------------------------------------------------------------------------
# Smoothed level sets on a momentum grid
# --------------------------------------------------------------------------
@nb.njit(cache=True)
def _smoothed_shell_sums(energy_sorted, values_sorted, energy, width, cutoff):
    """For each energy E_p: sum_u K(E_u - E_p) F_u and sum_u K(E_u - E_p), K Gaussian."""
    n = energy.size
    m = energy_sorted.size
    num = np.empty(n)
    den = np.empty(n)
    for i in range(n):
        e0 = energy[i]
        lo = np.searchsorted(energy_sorted, e0 - cutoff)
        hi = np.searchsorted(energy_sorted, e0 + cutoff, side="right")
        s = 0.0
        w = 0.0
        for j in range(lo, hi):
            x = (energy_sorted[j] - e0) / width
            k = math.exp(-0.5 * x * x)
            s += k * values_sorted[j]
            w += k
        num[i] = s
        den[i] = w
    return num, den


def _shell_sums(F, energy, width):
    order = np.argsort(energy, axis=None, kind="stable")
    es = np.ascontiguousarray(energy.ravel()[order])
    fs = np.ascontiguousarray(F.ravel()[order])
    num, den = _smoothed_shell_sums(es, fs, np.ascontiguousarray(energy.ravel()), width,
                                    8.0 * width)
    return num.reshape(energy.shape), den.reshape(energy.shape)


def _check_width(width):
    return check_real("width", width, minimum=0.0, strict_minimum=True)


def level_set_average(F, energy, width=0.05):
    """Average of ``F`` over the level surface of ``energy`` through each grid point.

    Parameters
    ----------
    F : numpy.ndarray, shape ``(L,) * d``
        Real function on the momentum grid.
    energy : numpy.ndarray, shape ``(L,) * d``
        The dispersion whose level surfaces are used (``e`` or ``Ebar``).
    width : float, default 0.05
        Width ``w`` of the Gaussian ``delta_w`` replacing the delta function.

    Returns
    -------
    numpy.ndarray
        ``(P F)(p) = int du delta_w(E(u) - E(p)) F(u) / int du delta_w(E(u) - E(p))``,
        the right-hand side of (6.43) (``= 2 pi / mbar * int du delta(...) F``).

    Notes
    -----
    On the grid the integrals are sums over the ``L^d`` momenta. The smoothed
    ``P`` converges to the level-surface average as ``w -> 0`` and
    ``L -> infinity`` with ``w`` large compared with the grid's energy spacing
    ``|grad E| / L``. It is continuous in ``energy``, which the fixed-point
    iteration of :func:`chargetransport.hartree_fock_stationary.solve_stationary_state`
    needs (hard energy bins make the map discontinuous).

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 64).dispersion()
    >>> bool(np.allclose(level_set_average(np.ones_like(e), e), 1.0))
    True
    """
    F = _check_grid_field("F", F)
    energy = _check_grid_field("energy", energy)
    if energy.shape != F.shape:
        raise ValueError(f"'energy' must have the shape {F.shape} of 'F', got {energy.shape}")
    width = _check_width(width)
    num, den = _shell_sums(F, energy, width)
    return num / den


def level_set_measure(energy, width=0.05):
    """The measure ``mbar(p) = 2 pi int du delta(E(u) - E(p))`` of the level surface (6.44).

    Parameters
    ----------
    energy : numpy.ndarray, shape ``(L,) * d``
    width : float, default 0.05
        Gaussian width replacing the delta function.

    Returns
    -------
    numpy.ndarray
        ``2 pi L^{-d} sum_u delta_w(E(u) - E(p))``. For ``E = e`` it tends to the
        Boltzmann collision rate ``2 pi rho(e(p))``
        (:func:`chargetransport.boltzmann.collision_rate`).

    Examples
    --------
    >>> import chargetransport as ct
    >>> e = ct.Lattice(2, 256).dispersion()
    >>> m = level_set_measure(e, width=0.02)
    >>> i = np.argmin(np.abs(e - 1.0))
    >>> bool(abs(m.flat[i] / (2 * np.pi * ct.density_of_states(e.flat[i], 2)) - 1) < 0.02)
    True
    """
    energy = _check_grid_field("energy", energy)
    width = _check_width(width)
    _, den = _shell_sums(np.ones_like(energy), energy, width)
    return 2.0 * np.pi * den / (energy.size * width * math.sqrt(2.0 * math.pi))


def equidistribution_defect(F, energy, bin_width=0.05):
    """How far ``F`` is from a function of ``energy``: ``||F - B F||_2 / ||F - <F>||_2``.

    ``B`` is the average over energy bins of width ``bin_width`` (a projection:
    the conditional expectation given the bin), so the ratio is the fraction of
    the spread of ``F`` that is not explained by ``energy``: 0 for a function of
    ``energy`` that is constant on each bin, about 1 when ``energy`` carries no
    information about ``F``. A smooth function of ``energy`` of slope ``s`` gives
    about ``s * bin_width / sqrt(12)`` in the numerator. Norms are grid means.

    Parameters
    ----------
    F, energy : numpy.ndarray, shape ``(L,) * d``
    bin_width : float, default 0.05
        Bins of :class:`EnergyBins` starting at ``energy.min()``.

    Returns
    -------
    float

    Examples
    --------
    >>> import chargetransport as ct
    >>> lat = ct.Lattice(2, 32)
    >>> e = lat.dispersion()
    >>> F = EnergyBins(e, 0.25).index.reshape(e.shape) ** 2        # constant on every bin
    >>> equidistribution_defect(F, e, bin_width=0.25)
    0.0
    >>> k = lat.momenta()[0] * np.ones(lat.shape)
    >>> equidistribution_defect(np.sin(2 * np.pi * k), e) > 0.9    # odd in p, e even: no information
    True
    """
    F = _check_grid_field("F", F)
    energy = _check_grid_field("energy", energy)
    if energy.shape != F.shape:
        raise ValueError(f"'energy' must have the shape {F.shape} of 'F', got {energy.shape}")
    BF = EnergyBins(energy, bin_width).project(F)
    spread = float(np.sqrt(np.mean((F - F.mean()) ** 2)))
    if spread == 0.0:
        return 0.0
    return float(np.sqrt(np.mean((F - BF) ** 2))) / spread


def symmetrize(F):
    """Average of ``F`` over the point group of ``Z^d`` (axis reflections and permutations).

    When ``J`` and ``v`` are invariant under the ``d! 2^d`` symmetries of the
    lattice, so is the exact ensemble mean ``mu_t``; averaging an estimate over
    the group keeps its mean and divides the variance of independent noise by up
    to ``d! 2^d`` (8 in ``d = 2``).

    Parameters
    ----------
    F : numpy.ndarray, shape ``(L,) * d``
        Function on the momentum grid (numpy.fft order: ``-p`` is ``(-m) mod L``).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import chargetransport as ct
    >>> lat = ct.Lattice(2, 8)
    >>> bool(np.allclose(symmetrize(lat.dispersion()), lat.dispersion()))   # e is invariant
    True
    >>> F = np.cos(2 * np.pi * lat.momenta()[0]) * np.ones(lat.shape)      # cos(2 pi p_1)
    >>> bool(np.allclose(symmetrize(F), lat.dispersion() / 4))               # -> e / 4
    True
    """
    F = _check_grid_field("F", F)
    d = F.ndim
    images = []
    for perm in itertools.permutations(range(d)):
        G = np.transpose(F, perm)
        for flips in itertools.product((False, True), repeat=d):
            H = G
            for axis, flip in enumerate(flips):
                if flip:
                    H = np.roll(np.flip(H, axis=axis), 1, axis=axis)
            images.append(H)
    return np.mean(images, axis=0)
