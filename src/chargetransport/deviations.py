"""Deviations of disorder averages from a reference value: exceedances and the sup deviation.

How far the random quantity lands from the value a limit theorem predicts: Corollary 3.5
of the lectures bounds ``P(|<J, W_T> - <J, F_T>| > delta)``, and the Boltzmann limit of
section 2 is tested by the largest deviation of a disorder average from the Boltzmann
solution over many times and observables.

* :func:`exceedance_probability`: ``P(|X - c| > delta)`` from samples, with Wilson
  score intervals;
* :func:`sup_deviation`: the largest deviation of a disorder average from a reference
  (a Boltzmann solution) over many times and observables, with the upward bias of a
  maximum over noisy points removed by the bootstrap, and its standard error
  (:class:`SupDeviation`); its replicates serve the rate fits of
  :func:`chargetransport.power_laws.fit_power_law`.

The central norms of the samples are in :mod:`chargetransport.statistics`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._validation import check_int, check_memory, check_real, check_real_array
from .rng import as_generator
from .statistics import _check_samples

__all__ = ["SupDeviation", "exceedance_probability", "sup_deviation"]


def exceedance_probability(samples, center, delta, z=1.0):
    """``P(|X - center| > delta)`` from samples, with a Wilson score interval.

    Parameters
    ----------
    samples : array_like, shape (n,)
        Realizations of ``X``.
    center : float
        ``<J, F_T>`` in Corollary 3.5.
    delta : float or array_like
        Thresholds ``delta >= 0``.
    z : float, default 1
        Width of the interval in standard deviations (1: about 68 %).

    Returns
    -------
    p, lower, upper : numpy.ndarray
        Of the shape of ``delta``: the fraction ``k / n`` of exceedances and the
        Wilson interval [1]_ ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``,
        which stays inside [0, 1] and is not empty when ``k = 0``.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and
       statistical inference", J. Amer. Statist. Assoc. 22, 209 (1927).

    Examples
    --------
    >>> p, lo, hi = exceedance_probability([0.0, 0.1, 0.5, -0.7], 0.0, 0.2)
    >>> float(p), bool(lo < 0.5 < hi)
    (0.5, True)
    """
    x = check_real_array("samples", samples, ndim=1)
    if x.size < 1:
        raise ValueError("'samples' must hold at least one realization")
    center = check_real("center", center)
    deltas = check_real_array("delta", delta)
    if np.any(deltas < 0):
        raise ValueError("'delta' must be >= 0")
    z = check_real("z", z, minimum=0.0, strict_minimum=True)
    n = x.size
    dev = np.abs(x - center)
    p = (dev[(...,) + (None,) * deltas.ndim] > deltas).mean(axis=0)
    denom = 1.0 + z**2 / n
    mid = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return p, np.maximum(mid - half, 0.0), np.minimum(mid + half, 1.0)


@dataclasses.dataclass(frozen=True)
class SupDeviation:
    """Result of :func:`sup_deviation`.

    Attributes
    ----------
    value : float
        Bias-corrected estimate of ``max_i |E[X_i] - f_i| / s_i``: the plain maximum
        minus its bootstrap bias, ``2 * raw - mean(replicates)``.
    standard_error : float
        Standard deviation of the bootstrap replicates.
    raw : float
        The plain maximum ``max_i |mean_i - f_i| / s_i`` (biased upward by the noise).
    argmax : tuple of int
        Index of the plain maximum in the observation shape.
    replicates : numpy.ndarray, shape (num_resamples,)
        Bias-corrected bootstrap replicates (centred on ``value``), for
        :func:`~chargetransport.power_laws.fit_power_law`'s ``replicates``.
    noise_floor : float
        The 95th percentile of the plain maximum when every true deviation is zero:
        ``max_i |Z_i| se_i / s_i`` with independent standard normal ``Z_i`` and the
        standard errors ``se_i`` of the points (and of the reference).
    num_realizations : int
    """

    value: float
    standard_error: float
    raw: float
    argmax: tuple
    replicates: np.ndarray
    noise_floor: float
    num_realizations: int

    @property
    def resolved(self):
        """Whether the plain maximum exceeds what noise alone gives in 95% of cases.

        The bias correction removes only part of the bias of a maximum over many
        noisy points (about half when every deviation is within the noise); quote a
        deviation, and fit a rate to it, only where it is resolved.
        """
        return self.raw > self.noise_floor


def sup_deviation(samples, reference, *, reference_error=None, scale=1.0, num_resamples=2000,
                  seed=0):
    """Largest deviation of a disorder average from a reference, debiased, with an error.

    The maximum over many points (times, observables) of ``|mean - reference|`` is
    biased upward when the deviations are comparable with the statistical errors: the
    noise alone makes some point large. This estimates the bias by resampling the
    realizations (and, if given, the reference within its own errors, e.g. a kinetic
    Monte Carlo solution) and subtracts it (the bootstrap bias correction).

    Parameters
    ----------
    samples : array_like, shape (R, ...)
        One observation per realization (``R >= 16``: fewer make the bootstrap, and
        any error bar, unreliable).
    reference : array_like, shape (...)
        The value the disorder average is compared with.
    reference_error : array_like, shape (...), optional
        Standard errors of ``reference`` (independent Gaussian errors are resampled).
    scale : float or array_like, shape (...), default 1
        Positive normalization of each point (e.g. ``|v(p)|`` for a current).
    num_resamples : int, default 2000
    seed : int or numpy.random.SeedSequence, default 0

    Returns
    -------
    SupDeviation

    Examples
    --------
    Pure noise around the reference: the plain maximum over 50 points is several
    standard errors (0.05 here), but not beyond the noise floor; a real deviation of
    0.5 at one point is resolved and estimated to within its error.

    >>> rng = np.random.default_rng(2)
    >>> x = rng.standard_normal((400, 50))
    >>> noise = sup_deviation(x, np.zeros(50), seed=2)
    >>> bool(noise.raw > 0.05), noise.resolved
    (True, False)
    >>> x[:, 7] += 0.5
    >>> dev = sup_deviation(x, np.zeros(50), seed=2)
    >>> dev.resolved, dev.argmax, bool(abs(dev.value - 0.5) < 3 * dev.standard_error)
    (True, (7,), True)
    """
    x = _check_samples(samples, minimum=16)
    f = check_real_array("reference", reference)
    if f.shape != x.shape[1:]:
        raise ValueError(f"'reference' must have the observation shape {x.shape[1:]}, got {f.shape}")
    s = np.broadcast_to(check_real_array("scale", scale), f.shape)
    if np.any(s <= 0):
        raise ValueError("'scale' must be positive")
    if reference_error is not None:
        f_err = check_real_array("reference_error", reference_error)
        if f_err.shape != f.shape or np.any(f_err < 0):
            raise ValueError(f"'reference_error' must be non-negative with shape {f.shape}")
    num_resamples = check_int("num_resamples", num_resamples, minimum=100)
    R = x.shape[0]
    flat = x.reshape(R, -1)
    check_memory("num_resamples", 8 * num_resamples * (R + flat.shape[1]), "the bootstrap")
    fs, ss = f.reshape(-1), s.reshape(-1)
    dev = np.abs(flat.mean(axis=0) - fs) / ss
    raw = float(dev.max())
    rng = as_generator(seed)
    reps = np.empty(num_resamples)
    for b in range(num_resamples):
        mean_b = flat[rng.integers(0, R, R)].mean(axis=0)
        ref_b = fs if reference_error is None else fs + f_err.reshape(-1) * rng.standard_normal(fs.size)
        reps[b] = np.max(np.abs(mean_b - ref_b) / ss)
    bias = reps.mean() - raw
    value = raw - bias
    se_points = flat.std(axis=0, ddof=1) / math.sqrt(R)
    if reference_error is not None:
        se_points = np.hypot(se_points, f_err.reshape(-1))
    null = np.abs(rng.standard_normal((num_resamples, fs.size))) * (se_points / ss)
    noise_floor = float(np.quantile(null.max(axis=1), 0.95))
    return SupDeviation(value=float(value), standard_error=float(reps.std(ddof=1)), raw=raw,
                        argmax=tuple(int(i) for i in np.unravel_index(int(dev.argmax()), f.shape)),
                        replicates=reps - reps.mean() + value, noise_floor=noise_floor,
                        num_realizations=R)
