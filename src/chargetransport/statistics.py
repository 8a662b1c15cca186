"""Statistics over disorder realizations: streaming moments, central norms, bootstrap, fits.

Averages over the random potential are sums over realizations. This module holds the
statistics of such sums, independent of where the realizations ran:

* :class:`StreamingMoments`: a one-pass accumulator of the mean and the central moments
  up to a fixed order, over observations of any fixed shape, in memory ``O(max_order)``
  arrays of that shape whatever the number of observations; two accumulators merge
  exactly (Pebay), which is how :func:`chargetransport.ensemble_average` and
  :class:`chargetransport.LockstepEnsemble` reduce over workers;
* for the statistics that one pass cannot give and that need the per-realization
  samples (``ensemble_average(..., keep_samples=...)``):
  :func:`central_lp_norm` (``(mean |x - xbar|^r)^(1/r)``, any real ``r >= 1``),
  :func:`bootstrap_central_lp_norms` (those norms for several ``r`` with bootstrap
  standard errors and percentile intervals, from a seeded generator),
  :func:`exceedance_probability` (``P(|X - c| > delta)`` with Wilson score intervals);
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

__all__ = ["BootstrapResult", "MAX_ORDER", "StreamingMoments", "bootstrap_central_lp_norms",
           "central_lp_norm", "exceedance_probability", "fit_power_law"]

#: Highest order of central moment a :class:`StreamingMoments` keeps.
MAX_ORDER = 12


# --------------------------------------------------------------------------------------
# Streaming moments
# --------------------------------------------------------------------------------------
def _combine(n_a, mean_a, sums_a, n_b, mean_b, sums_b, max_order):
    """Pebay's pairwise update of count, mean and power sums ``M_p = sum (x - mean)^p``.

    ``sums_*[p - 2]`` holds ``M_p`` for ``p = 2, ..., max_order``. A set of one
    observation has ``M_p = 0``; its terms are skipped, so that merging a singleton
    is exactly the same arithmetic as :meth:`StreamingMoments.update`.
    """
    if n_b == 0:
        return n_a, mean_a.copy(), sums_a.copy()
    if n_a == 0:
        return n_b, mean_b.copy(), sums_b.copy()
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / n)
    powers = [None, delta]
    for _ in range(2, max_order + 1):
        powers.append(powers[-1] * delta)
    use_a, use_b = n_a > 1, n_b > 1
    wa, wb = -n_b / n, n_a / n
    sums = np.empty_like(sums_a)
    for p in range(2, max_order + 1):
        if use_a and use_b:
            acc = sums_a[p - 2] + sums_b[p - 2]
        elif use_a:
            acc = sums_a[p - 2].copy()
        elif use_b:
            acc = sums_b[p - 2].copy()
        else:
            acc = np.zeros_like(delta)
        for k in range(1, p - 1):
            c = math.comb(p, k)
            if use_a and use_b:
                acc += (c * wa**k * sums_a[p - k - 2] + c * wb**k * sums_b[p - k - 2]) * powers[k]
            elif use_a:
                acc += (c * wa**k * sums_a[p - k - 2]) * powers[k]
            elif use_b:
                acc += (c * wb**k * sums_b[p - k - 2]) * powers[k]
        acc += powers[p] * (n_a * n_b / n * (wb ** (p - 1) - wa ** (p - 1)))
        sums[p - 2] = acc
    return n, mean, sums


def _output(arr):
    """An array for the caller: a copy, or a NumPy scalar for shape ()."""
    return arr[()] if arr.ndim == 0 else arr.copy()


class StreamingMoments:
    """One-pass mean, variance and central moments of observations of a fixed shape.

    Parameters
    ----------
    max_order : int, default 2
        Highest central moment kept, ``2 <= max_order <= 12``. Each order costs
        one array of the observation's shape; an update costs ``O(max_order^2)``
        array operations.
    shape : tuple of int, optional
        Shape of one observation; by default that of the first one. Scalars have
        shape ``()``.

    Notes
    -----
    The accumulator holds the count ``n``, the mean ``xbar_n`` and the power sums
    ``M_p = sum_{i <= n} (x_i - xbar_n)^p`` for ``p = 2, ..., max_order``,
    elementwise. Two accumulators A and B combine exactly (in exact arithmetic)
    by [1]_, eq. (3.1)::

        delta = xbar_B - xbar_A,   n = n_A + n_B,
        M_p = M_p^A + M_p^B
              + sum_{k=1}^{p-2} C(p, k) [(-n_B/n)^k M_{p-k}^A + (n_A/n)^k M_{p-k}^B] delta^k
              + delta^p (n_A n_B / n) [(n_A/n)^{p-1} - (-n_B/n)^{p-1}],

    and :meth:`update` is the case ``n_B = 1`` (Welford's update for ``p = 2``,
    [2]_). Only deviations from running means are ever raised to powers, so there
    is none of the cancellation of ``E[X^2] - E[X]^2``. The memory is
    ``max_order`` arrays of the observation's shape, whatever the number of
    observations.

    What is estimable in one pass: the central moments ``E[(X - EX)^r]`` of
    integer order (:meth:`central_moment`), and therefore the absolute central
    moments ``E|X - EX|^r`` of *even* order and the norms ``(E|X - EX|^r)^{1/r}``
    (:meth:`central_lp_norm`). Absolute central moments of *odd* order (for
    instance the mean absolute deviation, ``r = 1``) are not: ``|x - xbar_n|``
    depends on the final mean through a non-polynomial function, so no finite
    set of running sums determines it exactly. They raise ``ValueError``; use an
    even order, or keep the samples.

    All estimators are the plain (biased) sample moments ``M_r / n``, except
    :attr:`variance`, which divides by ``n - 1``.

    References
    ----------
    .. [1] P. Pebay, "Formulas for robust, one-pass parallel computation of
       covariances and arbitrary-order statistical moments", Sandia Report
       SAND2008-6212 (2008).
    .. [2] B. P. Welford, "Note on a method for calculating corrected sums of
       squares and products", Technometrics 4, 419 (1962).

    Examples
    --------
    >>> import numpy as np
    >>> acc = StreamingMoments(max_order=4)
    >>> for x in [1.0, 2.0, 3.0, 4.0]:
    ...     _ = acc.update(x)
    >>> float(acc.mean), float(acc.variance), float(acc.central_moment(4))
    (2.5, 1.6666666666666667, 2.5625)
    >>> half = StreamingMoments(max_order=4).extend([3.0, 4.0])
    >>> both = StreamingMoments(max_order=4).extend([1.0, 2.0]).merge(half)
    >>> bool(np.isclose(both.central_moment(4), acc.central_moment(4), rtol=1e-15))
    True
    """

    def __init__(self, max_order=2, shape=None):
        self._max_order = check_int("max_order", max_order, minimum=2, maximum=MAX_ORDER)
        self._shape = None if shape is None else _check_shape(shape)
        self._n = 0
        self._mean = None
        self._sums = None
        if self._shape is not None:
            self._allocate()

    def _allocate(self):
        self._mean = np.zeros(self._shape)
        self._sums = np.zeros((self._max_order - 1,) + self._shape)

    def __repr__(self):
        shape = "unset" if self._shape is None else self._shape
        return f"StreamingMoments(max_order={self._max_order}, shape={shape}, count={self._n})"

    # ---- adding data -------------------------------------------------------------
    def _observation(self, x, name):
        arr = check_real_array(name, x)
        if self._shape is None:
            self._shape = arr.shape
            self._allocate()
        elif arr.shape != self._shape:
            raise ValueError(f"'{name}' must have shape {self._shape} (that of the earlier "
                             f"observations), got {arr.shape}")
        return arr

    def update(self, x, *, _name="x"):
        """Add one observation.

        Parameters
        ----------
        x : float or array_like of float
            Real and finite, of the accumulator's shape.

        Returns
        -------
        StreamingMoments
            ``self``, updated in place.
        """
        x = self._observation(x, _name)
        if self._n == 0:
            self._n, self._mean = 1, x.copy()
            self._sums[...] = 0.0
            return self
        self._n, self._mean, self._sums = _combine(self._n, self._mean, self._sums, 1, x,
                                                   None, self._max_order)
        return self

    def extend(self, samples):
        """Add a batch of observations ``samples[0], samples[1], ...``.

        The batch's mean and power sums are computed in two passes and merged
        by :meth:`merge`; the result equals that of calling :meth:`update` on
        each sample up to rounding (not bit for bit).

        Parameters
        ----------
        samples : array_like, shape ``(m,) + shape``
            ``m >= 0`` observations stacked along the first axis.

        Returns
        -------
        StreamingMoments
            ``self``, updated in place.
        """
        arr = check_real_array("samples", samples)
        if arr.ndim == 0:
            raise ValueError("'samples' must have a leading axis of observations, got a scalar")
        if self._shape is not None and arr.shape[1:] != self._shape:
            raise ValueError(f"'samples' must have shape (m,) + {self._shape}, got {arr.shape}")
        if arr.shape[0] == 0:
            return self
        batch = StreamingMoments(self._max_order, shape=arr.shape[1:])
        batch._n = arr.shape[0]
        batch._mean = arr.mean(axis=0)
        dev = arr - batch._mean
        power = dev * dev
        for p in range(2, self._max_order + 1):
            if p > 2:
                power = power * dev
            batch._sums[p - 2] = power.sum(axis=0)
        if batch._n == 1:
            batch._sums[...] = 0.0
        return self.merge(batch)

    def merge(self, other):
        """Add all observations of another accumulator (pairwise combination).

        Parameters
        ----------
        other : StreamingMoments
            Same ``max_order`` and observation shape (or empty).

        Returns
        -------
        StreamingMoments
            ``self``, updated in place; ``other`` is not changed.
        """
        if not isinstance(other, StreamingMoments):
            raise TypeError(f"'other' must be a StreamingMoments, got {type(other).__name__}")
        if other._max_order != self._max_order:
            raise ValueError(f"'other' must have max_order={self._max_order}, "
                             f"got {other._max_order}")
        if other._n == 0:
            return self
        if self._shape is None:
            self._shape = other._shape
            self._allocate()
        elif other._shape != self._shape:
            raise ValueError(f"'other' must hold observations of shape {self._shape}, "
                             f"got {other._shape}")
        self._n, self._mean, self._sums = _combine(self._n, self._mean, self._sums, other._n,
                                                   other._mean, other._sums, self._max_order)
        return self

    def copy(self):
        """An independent copy."""
        new = StreamingMoments(self._max_order)
        new._shape, new._n = self._shape, self._n
        if self._shape is not None:
            new._mean, new._sums = self._mean.copy(), self._sums.copy()
        return new

    @classmethod
    def from_samples(cls, samples, max_order=2):
        """Accumulator of a batch of samples (see :meth:`extend`)."""
        return cls(max_order).extend(samples)

    def to_state(self):
        """The accumulator as plain data, for storage (see :meth:`from_state`).

        Returns
        -------
        dict
            ``max_order`` (int), ``count`` (int), and, once there are observations,
            ``mean`` (array of the observation's shape) and ``power_sums`` (array of
            shape ``(max_order - 1,) + shape``, ``power_sums[p - 2] = M_p``); copies.
        """
        state = {"max_order": self._max_order, "count": self._n}
        if self._n:
            state["mean"], state["power_sums"] = self._mean.copy(), self._sums.copy()
        return state

    @classmethod
    def from_state(cls, state):
        """The accumulator that :meth:`to_state` described, bit for bit.

        Examples
        --------
        >>> acc = StreamingMoments(3).extend([1.0, 2.0, 4.0])
        >>> again = StreamingMoments.from_state(acc.to_state())
        >>> again.central_moment(3).tobytes() == acc.central_moment(3).tobytes()
        True
        """
        if not isinstance(state, dict):
            raise TypeError(f"'state' must be a dict, got {type(state).__name__}")
        new = cls(state.get("max_order", 2))
        count = check_int("state['count']", state.get("count", 0), minimum=0)
        if count == 0:
            return new
        mean = check_real_array("state['mean']", state.get("mean"))
        sums = check_real_array("state['power_sums']", state.get("power_sums"))
        if sums.shape != (new._max_order - 1,) + mean.shape:
            raise ValueError(f"'state['power_sums']' must have shape "
                             f"{(new._max_order - 1,) + mean.shape}, got {sums.shape}")
        new._shape, new._n = mean.shape, count
        new._mean, new._sums = mean.copy(), sums.copy()
        return new

    # ---- estimates ---------------------------------------------------------------
    def _require_data(self):
        if self._n == 0:
            raise ValueError("the accumulator holds no observations yet")

    @property
    def max_order(self):
        """Highest central moment kept."""
        return self._max_order

    @property
    def shape(self):
        """Shape of one observation (``None`` before the first)."""
        return self._shape

    @property
    def count(self):
        """Number of observations ``n``."""
        return self._n

    @property
    def mean(self):
        """Sample mean ``xbar_n`` (elementwise)."""
        self._require_data()
        return _output(self._mean)

    @property
    def variance(self):
        """Unbiased sample variance ``M_2 / (n - 1)``; NaN when ``n < 2``."""
        self._require_data()
        if self._n < 2:
            return _output(np.full(self._shape, np.nan))
        return _output(self._sums[0] / (self._n - 1))

    @property
    def standard_error(self):
        """Standard error of the mean, ``sqrt(variance / n)``; NaN when ``n < 2``."""
        self._require_data()
        if self._n < 2:
            return _output(np.full(self._shape, np.nan))
        return _output(np.sqrt(self._sums[0] / (self._n - 1) / self._n))

    def _check_order(self, r):
        r = check_int("r", r, minimum=0)
        if r > self._max_order:
            raise ValueError(f"'r' must be <= max_order = {self._max_order}, got {r}; "
                             "create the accumulator with a larger max_order")
        return r

    def central_moment(self, r):
        """Sample central moment ``m_r = (1/n) sum (x_i - xbar_n)^r``.

        Parameters
        ----------
        r : int
            ``0 <= r <= max_order``; ``m_0 = 1`` and ``m_1 = 0`` exactly.

        Returns
        -------
        numpy.ndarray or numpy.float64
            Of the observation's shape. A biased (plug-in) estimator of
            ``E[(X - EX)^r]``: ``E[m_r] = mu_r + O(1/n)``.
        """
        r = self._check_order(r)
        self._require_data()
        if r == 0:
            return _output(np.ones(self._shape))
        if r == 1:
            return _output(np.zeros(self._shape))
        return _output(self._sums[r - 2] / self._n)

    def absolute_central_moment(self, r):
        """``(1/n) sum |x_i - xbar_n|^r`` for even ``r``.

        Odd orders are not determined by any finite set of streaming sums
        (see Notes of the class) and raise ``ValueError``.
        """
        r = self._check_order(r)
        if r % 2:
            raise ValueError(f"'r' must be even: the absolute central moment of odd order {r} "
                             "needs the final mean and cannot be accumulated in one pass; use an "
                             "even order (E|X - EX|^r = E[(X - EX)^r]) or keep the samples")
        return self.central_moment(r)

    def central_lp_norm(self, r):
        """The ``L^r`` norm of ``X - EX``: ``((1/n) sum |x_i - xbar_n|^r)^(1/r)``, even ``r``."""
        r = self._check_order(r)
        if r == 0 or r % 2:
            raise ValueError(f"'r' must be a positive even integer, got {r} (odd orders cannot "
                             "be accumulated in one pass)")
        return _output(np.asarray(self.absolute_central_moment(r)) ** (1.0 / r))

    @property
    def skewness(self):
        """Sample skewness ``m_3 / m_2^{3/2}`` (needs ``max_order >= 3``)."""
        m2 = np.asarray(self.central_moment(2))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _output(np.asarray(self.central_moment(3)) / m2**1.5)

    @property
    def excess_kurtosis(self):
        """Sample excess kurtosis ``m_4 / m_2^2 - 3`` (needs ``max_order >= 4``)."""
        m2 = np.asarray(self.central_moment(2))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _output(np.asarray(self.central_moment(4)) / m2**2 - 3.0)


def _check_shape(shape):
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"'shape' must be a tuple of non-negative integers, "
                        f"got {shape!r}") from None
    return tuple(check_int("shape", s, minimum=0) for s in shape)


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
        ``r >= 1`` (any real order; odd orders need the samples, not only
        streaming sums, see :class:`StreamingMoments`).

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


def fit_power_law(x, y, replicates=None):
    """Exponent ``a`` of ``y ~ c x^a``: least squares of ``log y`` on ``log x``.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        ``m >= 2`` positive values, at least two distinct ``x``.
    replicates : array_like, shape (B, m), optional
        Bootstrap replicates of ``y`` (drawn independently for each ``x``); the
        exponent is refitted to each row, and the standard deviation of those
        exponents is the standard error.

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
    if m > 3:
        (a, b), cov = np.polyfit(lx, ly, 1, cov=True)
        se = math.sqrt(cov[0, 0])
    else:  # polyfit scales its covariance by m - 2 only from m > 3 on
        a, b = np.polyfit(lx, ly, 1)
        se = math.nan
        if m == 3:
            resid = ly - np.polyval((a, b), lx)
            se = float(np.sqrt(np.sum(resid**2) / (m - 2) / np.sum((lx - lx.mean()) ** 2)))
    if replicates is not None:
        reps = check_real_array("replicates", replicates, ndim=2)
        if reps.shape[1] != x.size:
            raise ValueError(f"'replicates' must have shape (B, {x.size}), got {reps.shape}")
        if np.any(reps <= 0):
            raise ValueError("'replicates' must be positive")
        slopes = np.polyfit(lx, np.log(reps).T, 1)[0]
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
