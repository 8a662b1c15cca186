"""One-pass (streaming) mean and central moments, mergeable across workers.

Averages over the random potential are sums over realizations (sections 2 and 3 of the
lectures: ``E<J, F_T>`` and its central moments ``E|<J, F_T> - E<J, F_T>|^r``).
:class:`StreamingMoments` accumulates the mean and the central moments up to a fixed
order over observations of any fixed shape, in memory ``O(max_order)`` arrays of that
shape whatever the number of observations; two accumulators merge exactly (Pebay), which
is how :func:`chargetransport.ensemble_average` and
:class:`chargetransport.LockstepEnsemble` reduce over workers and how
:mod:`chargetransport.checkpoint` stores completed chunks. The statistics that need the
per-realization samples (central norms of odd order, the bootstrap, exceedances, fits)
are in :mod:`chargetransport.statistics`.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import check_int, check_real_array

__all__ = ["MAX_ORDER", "StreamingMoments"]

#: Highest order of central moment a :class:`StreamingMoments` keeps.
MAX_ORDER = 12


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
