"""Statistics of per-realization samples: central norms, bootstrap, exceedances, fits.

Averages over the random potential are sums over realizations. The one-pass moments
that every ensemble run accumulates are in :mod:`chargetransport.streaming_moments`;
this module holds the statistics that one pass cannot give and that need the
per-realization samples (``ensemble_average(..., keep_samples=...)``), as used for the
convergence in higher mean of section 3:

* :func:`central_lp_norm` (``(mean |x - xbar|^r)^(1/r)``, any real ``r >= 1``),
  :func:`bootstrap_central_lp_norms` (those norms for several ``r`` with bootstrap
  standard errors and percentile intervals, from a seeded generator),
  :func:`block_central_lp_norms` (the same norms on disjoint blocks of realizations: their
  spread is an error bar that does not rely on the tails the sample happens to hold),
  :func:`block_checked_replicates` (bootstrap replicates widened to that spread where
  it is larger, for :func:`fit_power_law`),
  :func:`exceedance_probability` (``P(|X - c| > delta)`` with Wilson score intervals);
* :func:`sup_deviation`: the largest deviation of a disorder average from a reference
  (a Boltzmann solution) over many times and observables, with the upward bias of a
  maximum over noisy points removed by the bootstrap, and its standard error;
* :func:`fit_power_law`: the exponent of ``y ~ c x^a`` by least squares in log-log
  coordinates, with a standard error from the residuals or from bootstrap replicates
  (also behind :func:`chargetransport.resolvents.growth_exponent`).
"""
from __future__ import annotations

import dataclasses
import math

import numba as nb
import numpy as np

from ._validation import check_int, check_memory, check_real, check_real_array
from .rng import as_generator

__all__ = ["BootstrapResult", "SupDeviation", "block_central_lp_norms",
           "block_checked_replicates", "bootstrap_central_lp_norms", "central_lp_norm",
           "exceedance_probability", "fit_power_law", "sup_deviation"]


# --------------------------------------------------------------------------------------
# Statistics of samples: central norms, the bootstrap, power laws, exceedances
# --------------------------------------------------------------------------------------
def _check_samples(samples, minimum=2):
    x = check_real_array("samples", samples)
    if x.ndim == 0:
        raise ValueError("'samples' must have a leading axis of realizations, got a scalar")
    if x.shape[0] < minimum:
        raise ValueError(f"'samples' must hold at least {minimum} realizations, got {x.shape[0]}")
    return x


def _check_order(r, name="r"):
    r = check_real(name, r, minimum=1.0)
    return r


def central_lp_norm(samples, r):
    """``L^r`` norm of the deviation from the sample mean: ``((1/n) sum |x_i - xbar|^r)^(1/r)``.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        ``n >= 2`` real observations along the first axis.
    r : float
        ``r >= 1`` (any real order; odd orders need the samples, not only streaming
        sums, see :class:`~chargetransport.streaming_moments.StreamingMoments`).

    Returns
    -------
    numpy.ndarray or numpy.float64
        Of shape ``shape``. The plug-in estimator of ``(E|X - EX|^r)^(1/r)``; it is
        biased low for small ``n`` (by ``O(1/n)``, more for heavy tails).

    Examples
    --------
    >>> float(central_lp_norm([1.0, -1.0, 1.0, -1.0], 4))
    1.0
    """
    x = _check_samples(samples)
    r = _check_order(r)
    dev = np.abs(x - x.mean(axis=0))
    out = np.mean(dev**r, axis=0) ** (1.0 / r)
    return out[()] if np.ndim(out) == 0 else out


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap of the central ``L^r`` norms, see :func:`bootstrap_central_lp_norms`.

    Attributes
    ----------
    orders : numpy.ndarray, shape (k,)
        The orders ``r``.
    estimate : numpy.ndarray, shape ``(k,) + shape``
        The norms of the samples themselves.
    standard_error : numpy.ndarray, shape ``(k,) + shape``
        Standard deviation of the bootstrap replicates.
    lower, upper : numpy.ndarray, shape ``(k,) + shape``
        Percentile interval of the replicates (``confidence`` central probability).
    replicates : numpy.ndarray, shape ``(B, k) + shape``
        The norms of the ``B`` resamples.
    confidence : float
    """

    orders: np.ndarray
    estimate: np.ndarray
    standard_error: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    replicates: np.ndarray
    confidence: float


@nb.njit(cache=True)
def _resampled_norms(x, index, orders, out):
    """out[b, k, j] = (mean_i |x[index[b, i], j] - mean|^orders[k])^(1 / orders[k])."""
    B, n = index.shape
    m = x.shape[1]
    dev = np.empty(n)
    for b in range(B):
        for j in range(m):
            mean = 0.0
            for i in range(n):
                mean += x[index[b, i], j]
            mean /= n
            for i in range(n):
                dev[i] = abs(x[index[b, i], j] - mean)
            for k in range(orders.shape[0]):
                acc = 0.0
                for i in range(n):
                    acc += dev[i] ** orders[k]
                out[b, k, j] = (acc / n) ** (1.0 / orders[k])


def bootstrap_central_lp_norms(samples, orders=(2, 4, 6), num_resamples=2000, seed=0,
                               confidence=0.68):
    """Central ``L^r`` norms with bootstrap error bars.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        ``n >= 2`` real observations (one per disorder realization).
    orders : sequence of float, default (2, 4, 6)
        Orders ``r >= 1``.
    num_resamples : int, default 2000
        ``B``: resamples of size ``n`` drawn with replacement.
    seed : int, SeedSequence or numpy.random.Generator, default 0
        The resampling is a function of the seed only.
    confidence : float, default 0.68
        Central probability of the percentile interval, in (0, 1).

    Returns
    -------
    BootstrapResult

    Notes
    -----
    The nonparametric bootstrap [1]_ resamples the realizations, so it sees only
    the tails present in the sample: for high orders and few realizations the
    norm is dominated by the largest few ``|x_i - xbar|`` and its error bar is
    itself uncertain (and the plug-in estimate is biased low). The same index
    draws serve every order and every component, so the replicates of different
    orders are correlated as the estimates are.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
       Chapman & Hall (1993), chapters 6 and 13.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = bootstrap_central_lp_norms(rng.standard_normal(4000), orders=(2,), seed=2)
    >>> bool(abs(res.estimate[0] - 1.0) < 3 * res.standard_error[0])
    True
    """
    x = _check_samples(samples)
    orders_arr = np.array([_check_order(r, "orders") for r in np.atleast_1d(orders)], dtype=float)
    if orders_arr.size == 0:
        raise ValueError("'orders' must hold at least one order")
    num_resamples = check_int("num_resamples", num_resamples, minimum=2)
    confidence = check_real("confidence", confidence, minimum=0.0, strict_minimum=True)
    if confidence >= 1.0:
        raise ValueError(f"'confidence' must be < 1, got {confidence}")
    n, shape = x.shape[0], x.shape[1:]
    flat = np.ascontiguousarray(x.reshape(n, -1))
    # the resampled indices (B x n), the replicates (B x k x components) and the
    # quantiles' sorted copy of them
    check_memory("num_resamples", 8 * num_resamples * (n + 2 * orders_arr.size * flat.shape[1]),
                 f"{num_resamples} bootstrap resamples of {n} realizations",
                 "use fewer resamples")
    rng = as_generator(seed)
    index = rng.integers(0, n, size=(num_resamples, n))
    reps = np.empty((num_resamples, orders_arr.size, flat.shape[1]))
    _resampled_norms(flat, index, orders_arr, reps)
    reps = reps.reshape((num_resamples, orders_arr.size) + shape)
    estimate = np.stack([np.asarray(central_lp_norm(x, r)) for r in orders_arr])
    alpha = (1.0 - confidence) / 2.0
    return BootstrapResult(orders=orders_arr, estimate=estimate,
                           standard_error=reps.std(axis=0, ddof=1),
                           lower=np.quantile(reps, alpha, axis=0),
                           upper=np.quantile(reps, 1.0 - alpha, axis=0),
                           replicates=reps, confidence=confidence)


def block_central_lp_norms(samples, orders=(2, 4, 6), num_blocks=10):
    """Central ``L^r`` norms of disjoint blocks of consecutive realizations.

    Realizations ``0 .. n - 1`` are cut into ``num_blocks`` blocks of ``b = n //
    num_blocks`` consecutive ones (the last ``n mod num_blocks`` are left out), and
    :func:`central_lp_norm` is taken in each block.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        One observation per realization, ``n >= 2 num_blocks``.
    orders : sequence of float, default (2, 4, 6)
        Orders ``r >= 1``.
    num_blocks : int, default 10
        ``>= 2``.

    Returns
    -------
    numpy.ndarray, shape ``(num_blocks, k) + shape``
        The norms of each block.

    Notes
    -----
    The blocks are independent samples of size ``b``, so the spread of their norms
    is the sampling error of a norm from ``b`` realizations, without assumptions.
    The bootstrap of one block (:func:`bootstrap_central_lp_norms`) estimates the
    same error from that block alone; for heavy-tailed data and high orders it
    comes out too small, because a block rarely holds the rare large deviations
    that dominate the ``r``-th moment. Comparing the two tells whether the
    bootstrap error bars can be trusted; ``std(blocks) / sqrt(num_blocks)`` is the
    batch-means error of the mean of the block norms.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> blocks = block_central_lp_norms(rng.standard_normal(40_000), orders=(2,), num_blocks=8)
    >>> blocks.shape, bool(np.all(np.abs(blocks - 1.0) < 0.05))
    ((8, 1), True)
    """
    x = _check_samples(samples)
    orders_arr = np.array([_check_order(r, "orders") for r in np.atleast_1d(orders)], dtype=float)
    if orders_arr.size == 0:
        raise ValueError("'orders' must hold at least one order")
    num_blocks = check_int("num_blocks", num_blocks, minimum=2)
    size = x.shape[0] // num_blocks
    if size < 2:
        raise ValueError(f"'num_blocks' = {num_blocks} leaves fewer than 2 of the {x.shape[0]} "
                         f"realizations per block")
    return np.stack([np.stack([np.asarray(central_lp_norm(x[i * size:(i + 1) * size], r))
                               for r in orders_arr]) for i in range(num_blocks)])


def block_checked_replicates(estimate, replicates, block_values):
    """Bootstrap replicates widened, where needed, to the batch-means error of disjoint blocks.

    With ``s_boot`` the standard deviation of the bootstrap replicates and
    ``s_batch = std(block_values) / sqrt(K)`` the batch-means error of ``K`` disjoint
    blocks (the spread of a statistic over the blocks, e.g. from
    :func:`block_central_lp_norms`, scaled to the whole sample), the replicates are
    stretched about their mean by ``max(1, s_batch / s_boot)`` and centred on
    ``estimate``. Where the bootstrap error is at least the batch-means one they are
    only recentred.

    Parameters
    ----------
    estimate : array_like, shape ``shape``
        The statistic of the whole sample.
    replicates : array_like, shape ``(B,) + shape``
        Its bootstrap replicates, ``B >= 2``.
    block_values : array_like, shape ``(K,) + shape``
        The statistic of each of ``K >= 2`` disjoint blocks of realizations.

    Returns
    -------
    replicates : numpy.ndarray, shape ``(B,) + shape``
        With standard deviation ``max(s_boot, s_batch)``, mean ``estimate``.
    widening : numpy.ndarray, shape ``shape``
        ``max(1, s_batch / s_boot)``.

    Notes
    -----
    The bootstrap sees only the tails the sample holds; for heavy-tailed data and
    high moments it underestimates the error (see :func:`block_central_lp_norms`).
    The batch-means error needs no such assumption but is itself uncertain, by about
    ``1 / sqrt(2 (K - 1))`` relative (25 % for ``K = 8``), so taking the larger of
    the two errs on the safe side. The result serves as ``replicates`` of
    :func:`fit_power_law`.

    Examples
    --------
    Replicates with standard deviation 0.115, blocks with batch-means error 0.408:

    >>> reps, widening = block_checked_replicates(1.0, [0.9, 1.1, 0.9, 1.1],
    ...                                           [0.0, 2.0, 1.0, 1.0])
    >>> round(float(widening), 6), round(float(np.mean(reps)), 12)
    (3.535534, 1.0)
    """
    est = check_real_array("estimate", estimate)
    reps = check_real_array("replicates", replicates)
    blocks = check_real_array("block_values", block_values)
    if reps.ndim != est.ndim + 1 or reps.shape[1:] != est.shape or reps.shape[0] < 2:
        raise ValueError(f"'replicates' must have shape (B,) + {est.shape} with B >= 2, got "
                         f"{reps.shape}")
    if blocks.ndim != est.ndim + 1 or blocks.shape[1:] != est.shape or blocks.shape[0] < 2:
        raise ValueError(f"'block_values' must have shape (K,) + {est.shape} with K >= 2, got "
                         f"{blocks.shape}")
    s_boot = reps.std(axis=0, ddof=1)
    s_batch = blocks.std(axis=0, ddof=1) / math.sqrt(blocks.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        widening = np.where(s_boot > 0, np.maximum(1.0, s_batch / s_boot), 1.0)
    return est + (reps - reps.mean(axis=0)) * widening, widening


def fit_power_law(x, y, replicates=None, y_errors=None):
    """Exponent ``a`` of ``y ~ c x^a``: least squares of ``log y`` on ``log x``.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        ``m >= 2`` positive values, at least two distinct ``x``.
    replicates : array_like, shape (B, m), optional
        Bootstrap replicates of ``y`` (drawn independently for each ``x``); the
        exponent is refitted to each row (with the same weights), and the standard
        deviation of those exponents is the standard error.
    y_errors : array_like, shape (m,), optional
        Standard errors of ``y``: the fit weights ``log y_i`` by ``y_i / y_errors_i``,
        the inverse of its standard error (to first order), so that precise points
        count more. Unweighted by default.

    Returns
    -------
    exponent : float
    prefactor : float
        ``c``.
    standard_error : float
        Of the exponent: from the ``replicates`` when given; otherwise from the
        residuals of the fit, ``sqrt(sum r_i^2 / (m - 2) / sum (log x_i - mean)^2)``
        (NaN for ``m = 2``). The latter measures the scatter about a straight line,
        not any curvature of the data.

    Examples
    --------
    >>> a, c, se = fit_power_law([1.0, 2.0, 4.0], [3.0, 12.0, 48.0])
    >>> round(a, 12), round(c, 12), bool(se < 1e-12)
    (2.0, 3.0, True)
    """
    x = check_real_array("x", x, ndim=1)
    y = check_real_array("y", y, ndim=1)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"'x' and 'y' must have the same length >= 2, got {x.size} and {y.size}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("'x' and 'y' must be positive for a fit in log-log coordinates")
    if np.unique(x).size < 2:
        raise ValueError(f"'x' must hold at least 2 distinct values to fit a slope, got {x}")
    lx, ly = np.log(x), np.log(y)
    m = x.size
    w = None
    if y_errors is not None:
        y_errors = check_real_array("y_errors", y_errors, ndim=1)
        if y_errors.shape != y.shape or np.any(y_errors <= 0):
            raise ValueError(f"'y_errors' must be {m} positive standard errors, got {y_errors}")
        w = y / y_errors
    if m > 3:
        (a, b), cov = np.polyfit(lx, ly, 1, w=w, cov=True)
        se = math.sqrt(cov[0, 0])
    else:  # polyfit scales its covariance by m - 2 only from m > 3 on
        a, b = np.polyfit(lx, ly, 1, w=w)
        se = math.nan
        if m == 3:
            ww = np.ones(m) if w is None else w
            resid = ly - np.polyval((a, b), lx)
            lbar = np.sum(ww**2 * lx) / np.sum(ww**2)
            se = float(np.sqrt(np.sum((ww * resid) ** 2) / (m - 2) / np.sum(ww**2 * (lx - lbar) ** 2)))
    if replicates is not None:
        reps = check_real_array("replicates", replicates, ndim=2)
        if reps.shape[1] != x.size:
            raise ValueError(f"'replicates' must have shape (B, {x.size}), got {reps.shape}")
        if np.any(reps <= 0):
            raise ValueError("'replicates' must be positive")
        slopes = np.polyfit(lx, np.log(reps).T, 1, w=w)[0]
        se = float(slopes.std(ddof=1))
    return float(a), float(np.exp(b)), se


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
        :func:`fit_power_law`'s ``replicates``.
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
