"""Central ``L^r`` norms of per-realization samples, with bootstrap and batch-means errors.

Averages over the random potential are sums over realizations. The one-pass moments
that every ensemble run accumulates are in :mod:`chargetransport.streaming_moments`;
this module holds the central norms that need the per-realization samples
(``ensemble_average(..., keep_samples=...)``), and their errors, as used for the
convergence in higher mean of section 3 (the norms ``||X - EX||_r`` of (3.10)):

* :func:`central_lp_norm` (``(mean |x - xbar|^r)^(1/r)``, any real ``r >= 1``),
  :func:`bootstrap_central_lp_norms` (those norms for several ``r`` with bootstrap
  standard errors and percentile intervals, from a seeded generator),
  :func:`block_central_lp_norms` (the same norms on disjoint blocks of realizations: their
  spread is an error bar that does not rely on the tails the sample happens to hold),
  :func:`block_checked_replicates` (bootstrap replicates widened to that spread where
  it is larger);
* :func:`block_checked_central_norms`: all of it at once, for the norms, the ratio
  ``||X - EX||_r / ||X - EX||_2`` of the highest order and the excess kurtosis, with
  replicates ready for the power-law fits of :mod:`chargetransport.power_laws`.

Deviations from a reference value (exceedance probabilities, the largest deviation of a
disorder average from a limit) are in :mod:`chargetransport.deviations`.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import NamedTuple

import numba as nb
import numpy as np

from ._validation import check_int, check_memory, check_real, check_real_array
from .rng import as_generator

__all__ = ["BootstrapResult", "CentralNormStatistics", "CheckedStatistic",
           "block_central_lp_norms", "block_checked_central_norms", "block_checked_replicates",
           "bootstrap_central_lp_norms", "central_lp_norm"]


# --------------------------------------------------------------------------------------
# Central norms of samples, the bootstrap, disjoint blocks
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
    :func:`chargetransport.power_laws.fit_power_law`.

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


# --------------------------------------------------------------------------------------
# The norms, their shape statistics and block-checked errors at once
# --------------------------------------------------------------------------------------
class CheckedStatistic(NamedTuple):
    """A statistic of the samples with block-checked bootstrap replicates.

    Attributes
    ----------
    value : numpy.ndarray
        The statistic of the whole sample.
    replicates : numpy.ndarray, shape ``(B,) + value.shape``
        Its bootstrap replicates, widened where the batch-means error of the disjoint
        blocks is larger and centred on ``value`` (:func:`block_checked_replicates`).
    standard_error : numpy.ndarray
        Standard deviation of ``replicates`` (``ddof=1``): the larger of the bootstrap
        and the batch-means error.
    widening : numpy.ndarray
        The factor ``max(1, s_batch / s_boot)`` applied to the bootstrap spread.
    """

    value: np.ndarray
    replicates: np.ndarray
    standard_error: np.ndarray
    widening: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class CentralNormStatistics(Mapping):
    """Result of :func:`block_checked_central_norms`.

    A read-only mapping ``{"norm": ..., "ratio": ..., "kurtosis": ...}`` of
    :class:`CheckedStatistic` (also the attributes of the same names).

    Attributes
    ----------
    orders : tuple of float
        The orders ``r``.
    norm : CheckedStatistic
        ``||X - EX||_r`` for each order: ``value`` of shape ``(k,) + shape``.
    ratio : CheckedStatistic
        ``||X - EX||_{r_max} / ||X - EX||_2``, ``r_max`` the highest order (``15^(1/6)
        = 1.570`` for ``r_max = 6`` and a Gaussian ``X``): shape ``shape``.
    kurtosis : CheckedStatistic
        The excess kurtosis ``(||X - EX||_4 / ||X - EX||_2)^4 - 3`` (0 for a Gaussian):
        shape ``shape``.
    num_blocks : int
        Disjoint blocks of realizations whose spread checked the bootstrap.
    """

    orders: tuple
    norm: CheckedStatistic
    ratio: CheckedStatistic
    kurtosis: CheckedStatistic
    num_blocks: int

    _NAMES = ("norm", "ratio", "kurtosis")

    def __getitem__(self, name):
        if name not in self._NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self):
        return iter(self._NAMES)

    def __len__(self):
        return len(self._NAMES)


def block_checked_central_norms(samples, orders=(2, 4, 6), *, num_resamples=2000, num_blocks=8,
                                seed=0):
    """Central ``L^r`` norms, their ratio and the excess kurtosis, with checked errors.

    The norms ``||X - EX||_r = (E|X - EX|^r)^(1/r)`` are estimated by the plug-in
    estimator (:func:`central_lp_norm`) with ``num_resamples`` bootstrap replicates
    (:func:`bootstrap_central_lp_norms`); every replicate set is then checked against the
    spread of the same statistic over ``num_blocks`` disjoint blocks of realizations
    (:func:`block_central_lp_norms`) and widened to it where that is larger
    (:func:`block_checked_replicates`). The ratio of the highest-order norm to the
    standard deviation, and the excess kurtosis, which describe the shape of the
    distribution, get the same treatment from the same resamples and blocks.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        One real observation per realization, ``n >= 2 num_blocks``.
    orders : sequence of float, default (2, 4, 6)
        Distinct orders ``r >= 1``, among them 2 and 4 (the kurtosis needs both).
    num_resamples : int, default 2000
        Bootstrap resamples, ``>= 2``.
    num_blocks : int, default 8
        Disjoint blocks of consecutive realizations, ``>= 2``.
    seed : int, SeedSequence or numpy.random.Generator, default 0
        Seed of the bootstrap resampling.

    Returns
    -------
    CentralNormStatistics
        A mapping of :class:`CheckedStatistic` named ``"norm"``, ``"ratio"`` and
        ``"kurtosis"``.

    Notes
    -----
    For Gaussian ``X`` with standard deviation ``sigma``,
    ``||X - EX||_r = sigma (E|Z|^r)^(1/r)`` with ``E|Z|^2 = 1``, ``E|Z|^4 = 3``,
    ``E|Z|^6 = 15``: the ratio is ``15^(1/6)`` for ``r_max = 6`` and the excess kurtosis
    0. The errors of ratio and kurtosis come from the same resamples as those of the
    norms, so they include the correlations between the orders.

    Examples
    --------
    Gaussian samples of standard deviation 2:

    >>> rng = np.random.default_rng(5)
    >>> stats = block_checked_central_norms(2.0 * rng.standard_normal(4000),
    ...                                     num_resamples=400, seed=1)
    >>> exact = 2.0 * np.array([1.0, 3.0 ** (1 / 4), 15.0 ** (1 / 6)])
    >>> bool(np.all(np.abs(stats.norm.value - exact) < 3 * stats.norm.standard_error))
    True
    >>> bool(abs(stats["kurtosis"].value) < 3 * stats["kurtosis"].standard_error)
    True
    >>> sorted(stats)
    ['kurtosis', 'norm', 'ratio']
    """
    x = _check_samples(samples)
    orders = tuple(_check_order(r, "orders") for r in np.atleast_1d(orders))
    if len(set(orders)) != len(orders) or 2.0 not in orders or 4.0 not in orders:
        raise ValueError(f"'orders' must be distinct orders >= 1 that include 2 and 4, got "
                         f"{orders}")
    num_blocks = check_int("num_blocks", num_blocks, minimum=2)
    boot = bootstrap_central_lp_norms(x, orders, num_resamples=num_resamples, seed=seed)
    blocks = block_central_lp_norms(x, orders, num_blocks)
    est, reps = boot.estimate, boot.replicates     # (order,) + shape, (resample, order) + shape
    two, four, top = orders.index(2.0), orders.index(4.0), int(np.argmax(orders))
    derived = {"norm": (est, reps, blocks),
               "ratio": (est[top] / est[two], reps[:, top] / reps[:, two],
                         blocks[:, top] / blocks[:, two]),
               "kurtosis": ((est[four] / est[two]) ** 4 - 3, (reps[:, four] / reps[:, two]) ** 4 - 3,
                            (blocks[:, four] / blocks[:, two]) ** 4 - 3)}
    checked = {}
    for name, (value, replicates, block_values) in derived.items():
        wide, widening = block_checked_replicates(value, replicates, block_values)
        checked[name] = CheckedStatistic(value, wide, wide.std(axis=0, ddof=1), widening)
    return CentralNormStatistics(orders=orders, num_blocks=num_blocks, **checked)
