"""Disorder ensembles: streaming moments over realizations, on one core, a process pool or Dask.

Averages over the random potential are sums over realizations ``r = start, ...,
start + R - 1``; realization ``r`` of seed ``s`` always draws from the ``r``-th
spawned ``SeedSequence`` of ``s`` (:func:`chargetransport.realization_seeds`), so it is
the same state wherever it is computed. This module turns such a loop into

* :class:`StreamingMoments`: a one-pass accumulator of the mean and the central
  moments up to a fixed order, over observables of any fixed shape, in memory
  ``O(max_order)`` arrays of that shape whatever the number of realizations;
* :func:`ensemble_average`: the loop itself, run serially, on a local process pool
  or on a ``dask.distributed`` cluster, with a tqdm progress bar, returning an
  :class:`EnsembleResult` (with ``keep_samples``, also the per-realization values of
  chosen keys, for statistics that need the samples: quantiles, bootstrap);
* :class:`LockstepEnsemble`: realizations advanced together, each step of each
  realization seeing the ensemble mean of the previous step (the coupling of
  self-consistent mean-field dynamics).

Determinism. Realizations are grouped in consecutive chunks of ``chunk_size``;
each chunk is accumulated in realization order into its own
:class:`StreamingMoments`, and the chunks are merged in chunk order in the calling
process (completions that arrive early are buffered). The arithmetic therefore
depends on ``(seed, start, num_realizations, chunk_size, max_order)`` only, and the
result is bit-for-bit the same for ``executor="serial"``, a process pool of any size
and a Dask cluster of any size, provided the observable itself is deterministic
(the package's Numba kernels are: their reductions use fixed blocks, so they do not
depend on the thread count).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import math
import multiprocessing
import os
import pickle
import time
import traceback

import numpy as np
from tqdm import tqdm

from ._validation import check_int, check_real_array
from .rng import _as_seed_sequence, realization_seeds

__all__ = ["EnsembleResult", "LockstepEnsemble", "StreamingMoments", "ensemble_average",
           "process_pool"]

#: Highest order of central moment a :class:`StreamingMoments` keeps.
MAX_ORDER = 12

# Tasks in flight per worker: enough to keep every worker busy while the calling
# process merges, few enough that buffered out-of-order results stay negligible.
_TASKS_PER_WORKER = 4

# executor="auto" starts a process pool when the estimated remaining serial time
# exceeds this many seconds (a pool costs ~1 s to start and each worker loads the
# Numba caches once; below this the pool cannot pay for itself on 2 cores).
_AUTO_THRESHOLD_SECONDS = 5.0

# Default number of chunks of ensemble_average: ~100 tasks keep Dask's per-task
# overhead (~5 ms) under a second and still balance the load over tens of workers.
_DEFAULT_NUM_CHUNKS = 100

# The key under which a non-dict observable is stored.
_VALUE_KEY = "value"


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
# Observations of one realization
# --------------------------------------------------------------------------------------
def _split_observation(value):
    """``(dict key -> value, keyed)`` for what an observable returned."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("the observable returned an empty dict")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"the observable's dict keys must be str, got {type(key).__name__}")
        return value, True
    return {_VALUE_KEY: value}, False


def _accumulate(acc, value, max_order, realization, keyed):
    """Add one realization's observation to ``acc`` (dict of StreamingMoments or None)."""
    items, is_dict = _split_observation(value)
    if acc is None:
        acc = {key: StreamingMoments(max_order) for key in items}
        keyed = is_dict
    elif is_dict != keyed or items.keys() != acc.keys():
        raise ValueError(f"the observable returned {sorted(items) if is_dict else 'a non-dict'} "
                         f"for realization {realization}, but "
                         f"{sorted(acc) if keyed else 'a non-dict'} before")
    for key, x in items.items():
        name = "observable()" if not keyed else f"observable()[{key!r}]"
        acc[key].update(x, _name=name)
    return acc, keyed


def _describe(acc, keyed):
    return f"the keys {sorted(acc)}" if keyed else "a number or an array"


def _merge_chunk(total, keyed, chunk_keyed, acc, first, max_order):
    """Merge a chunk's accumulators (realizations ``first, ...``) into ``total``."""
    if total is None:
        total = {key: StreamingMoments(max_order) for key in acc}
        keyed = chunk_keyed
    elif chunk_keyed != keyed or acc.keys() != total.keys():
        raise ValueError(f"the observable returned {_describe(acc, chunk_keyed)} from "
                         f"realization {first} on, but {_describe(total, keyed)} before")
    for key, part in acc.items():
        if total[key].shape is not None and part.shape != total[key].shape:
            what = f"observable()[{key!r}]" if keyed else "observable()"
            raise ValueError(f"{what} must have shape {total[key].shape} (that of the earlier "
                             f"realizations), got {part.shape} from realization {first} on")
        total[key].merge(part)
    return total, keyed


def _annotate(exc, message):
    if hasattr(exc, "add_note"):
        exc.add_note(message)


# Unpickled observables, keyed by their pickle, so that a worker unpickles a
# function (and the arrays a partial binds) once per call, not once per chunk.
_LOADED = {}


def _loads(payload):
    obj = _LOADED.get(payload)
    if obj is None:
        obj = pickle.loads(payload)
        _LOADED.clear()
        _LOADED[payload] = obj
    return obj


def _dumps(obj, name):
    """Pickle with cloudpickle when available (functions defined in a notebook)."""
    try:
        import cloudpickle
        dumps = cloudpickle.dumps
    except ImportError:  # pragma: no cover - cloudpickle comes with dask
        dumps = pickle.dumps
    try:
        return dumps(obj)
    except Exception as exc:
        raise TypeError(f"'{name}' must be picklable to run on other processes: define it at "
                        "module level (functools.partial of a module-level function), "
                        f"or use executor='serial' ({type(exc).__name__}: {exc})") from exc


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _set_numba_threads(num_threads):
    """Set this thread's Numba thread count (a no-op for ``None``)."""
    if num_threads is None:
        return
    import numba
    numba.set_num_threads(max(1, min(int(num_threads), numba.config.NUMBA_NUM_THREADS)))


@contextlib.contextmanager
def _numba_threads_scope(num_threads):
    """Use ``num_threads`` Numba threads in this thread for a while (``None``: unchanged)."""
    if num_threads is None:
        yield
        return
    import numba
    previous = numba.get_num_threads()
    _set_numba_threads(num_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _check_numba_threads(numba_threads):
    if numba_threads is None:
        return None
    import numba
    return check_int("numba_threads", numba_threads, minimum=1,
                     maximum=numba.config.NUMBA_NUM_THREADS)


def _keep_values(kept, value, keep_samples, keyed):
    """Append the kept keys of one realization's observation to ``kept`` (lists by key)."""
    items = value if keyed else {_VALUE_KEY: value}
    keys = list(items) if keep_samples is True else keep_samples
    for key in keys:
        if key not in items:
            raise ValueError(f"'keep_samples' names the key {key!r}, but the observable "
                             f"returned {sorted(items) if keyed else 'a non-dict'}")
        kept.setdefault(key, []).append(np.array(items[key], dtype=float))


def _run_chunk(payload, seed, first, count, max_order, numba_threads, keep_samples=None):
    """Evaluate realizations ``first, ..., first + count - 1`` and accumulate them in order.

    Returns ``(first, keyed, accumulators)``, and with ``keep_samples`` (True or a
    tuple of keys) a fourth item: the kept values, stacked by key in realization order.
    """
    if isinstance(numba_threads, dict):  # Dask: one entry per worker address
        from distributed import get_worker
        numba_threads = numba_threads.get(get_worker().address, 1)
    _set_numba_threads(numba_threads)
    observable = _loads(payload) if isinstance(payload, bytes) else payload
    acc, keyed = None, False
    kept = {}
    for i, seed_sequence in enumerate(realization_seeds(seed, count, start=first)):
        try:
            value = observable(seed_sequence)
            acc, keyed = _accumulate(acc, value, max_order, first + i, keyed)
            if keep_samples is not None:
                _keep_values(kept, value, keep_samples, keyed)
        except Exception as exc:
            _annotate(exc, f"while evaluating realization {first + i} of the ensemble "
                           f"(seed {seed!r})")
            raise
    if keep_samples is None:
        return first, keyed, acc
    return first, keyed, acc, {key: np.stack(values) for key, values in kept.items()}


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------
def _mp_context():
    """forkserver where available (a fork of a clean server: fast, and safe with the
    OpenMP/TBB threads of Numba, unlike fork), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    try:  # preload the package in the server, keeping any preload already asked for
        from multiprocessing import forkserver
        current = list(getattr(forkserver._forkserver, "_preload_modules", None) or [])
    except Exception:  # pragma: no cover - private API changed
        current = []
    if "chargetransport" not in current:
        ctx.set_forkserver_preload(current + ["chargetransport"])
    return ctx


def _init_worker(numba_threads):
    _set_numba_threads(numba_threads)


def process_pool(max_workers=None, *, numba_threads=None):
    """A local process pool set up for ensembles, to reuse across calls.

    Starting a pool costs about a second (interpreter start, package import and
    Numba cache loading in every worker); a chapter that averages several
    ensembles can pay it once:

    >>> with process_pool(2) as pool:                       # doctest: +SKIP
    ...     a = ensemble_average(obs_a, 100, seed=1, executor=pool)
    ...     b = ensemble_average(obs_b, 100, seed=2, executor=pool)

    Parameters
    ----------
    max_workers : int, optional
        Number of worker processes; default the number of usable cores.
    numba_threads : int, optional
        Numba threads of each worker; default ``max(1, cores // max_workers)``.

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        Workers started by ``forkserver`` (``spawn`` where unavailable), never by
        a plain ``fork`` of a process whose Numba threads are running; each
        worker's Numba thread count is ``max(1, cores // max_workers)`` unless
        given, so that workers times threads does not oversubscribe the cores.
    """
    cores = _usable_cpus()
    max_workers = cores if max_workers is None else check_int("max_workers", max_workers,
                                                              minimum=1)
    numba_threads = _check_numba_threads(numba_threads)
    if numba_threads is None:
        numba_threads = max(1, cores // max_workers)
    return cf.ProcessPoolExecutor(max_workers, mp_context=_mp_context(),
                                  initializer=_init_worker, initargs=(numba_threads,))


def _is_dask_client(obj):
    cls = type(obj)
    return cls.__name__ == "Client" and cls.__module__.split(".")[0] == "distributed"


def _current_dask_client():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("executor='dask' needs dask.distributed, an optional dependency: "
                          "pip install 'chargetransport[dask]'") from exc
    try:
        return distributed.get_client()
    except ValueError as exc:
        raise ValueError("executor='dask' uses the current dask.distributed Client, and there "
                         "is none: create one first (Client(LocalCluster()) or "
                         "Client('tcp://scheduler:8786')), or pass the Client itself") from exc


def _worker_host(address):
    return address.split("://")[-1].rsplit(":", 1)[0]


def _dask_numba_threads(client):
    """Numba threads per Dask worker: the host's cores shared by the Dask threads on it."""
    nthreads = client.nthreads()
    cpus = client.run(_usable_cpus)
    per_host = {}
    for address, n in nthreads.items():
        per_host[_worker_host(address)] = per_host.get(_worker_host(address), 0) + n
    return {address: max(1, cpus.get(address, 1) // per_host[_worker_host(address)])
            for address in nthreads}


class _SerialBackend:
    name, num_workers = "serial", 1

    def __init__(self, numba_threads=None):
        self.numba_threads = numba_threads

    def run(self, tasks):
        for args in tasks:
            with _numba_threads_scope(self.numba_threads):
                chunk = _run_chunk(*args[:5], None, *args[5:])
            yield chunk

    def close(self):
        pass


class _FuturesBackend:
    """A concurrent.futures executor: ours (a process pool) or the caller's."""

    def __init__(self, executor, owned, name, numba_threads=None):
        self.executor, self.owned, self.name = executor, owned, name
        self.num_workers = getattr(executor, "_max_workers", None) or _usable_cpus()
        self.numba_threads = numba_threads

    def submit(self, args):
        return self.executor.submit(_run_chunk, *args[:5], self.numba_threads, *args[5:])

    @staticmethod
    def wait(pending):
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return done

    @staticmethod
    def cancel(pending):
        for future in pending:
            future.cancel()

    def run(self, tasks):
        return _windowed(self, tasks, _TASKS_PER_WORKER * self.num_workers)

    def close(self):
        if self.owned:
            self.executor.shutdown(wait=True, cancel_futures=True)


class _DaskBackend:
    def __init__(self, client, numba_threads=None):
        import distributed
        self._distributed, self.client = distributed, client
        self.num_workers = max(1, sum(client.nthreads().values()))
        self.name = f"dask ({len(client.nthreads())} workers, {self.num_workers} threads)"
        self._threads = _dask_numba_threads(client) if numba_threads is None else numba_threads

    def submit(self, args):
        return self.client.submit(_run_chunk, *args[:5], self._threads, *args[5:], pure=False)

    def wait(self, pending):
        return self._distributed.wait(list(pending), return_when="FIRST_COMPLETED").done

    def cancel(self, pending):
        if pending:
            self.client.cancel(list(pending))

    def run(self, tasks):
        return _windowed(self, tasks, _TASKS_PER_WORKER * self.num_workers)

    def close(self):
        pass


def _windowed(backend, tasks, window):
    """Yield task results in task order, with at most ``window`` tasks submitted but
    not yet yielded (in flight or buffered), so that memory stays bounded."""
    tasks = iter(tasks)
    pending, buffer = {}, {}
    submitted = yielded = 0
    exhausted = False
    try:
        while True:
            while not exhausted and submitted - yielded < window:
                try:
                    args = next(tasks)
                except StopIteration:
                    exhausted = True
                    break
                pending[backend.submit(args)] = submitted
                submitted += 1
            if yielded == submitted and exhausted:
                return
            while yielded not in buffer:
                for future in backend.wait(pending):
                    buffer[pending.pop(future)] = future.result()
            while yielded in buffer:
                item = buffer.pop(yielded)
                yielded += 1
                yield item
    finally:
        backend.cancel(list(pending))


def _backend(executor, max_workers, numba_threads):
    """The backend for the ``executor`` argument."""
    if isinstance(executor, str):
        if executor == "serial":
            return _SerialBackend(numba_threads)
        if executor == "processes":
            return _FuturesBackend(process_pool(max_workers, numba_threads=numba_threads), True,
                                   "processes")
        if executor == "dask":
            return _DaskBackend(_current_dask_client(), numba_threads)
        raise ValueError("'executor' must be 'serial', 'processes', 'auto', 'dask', a "
                         "concurrent.futures.Executor or a dask.distributed.Client, "
                         f"got {executor!r}")
    if isinstance(executor, cf.Executor):
        return _FuturesBackend(executor, False, type(executor).__name__, numba_threads)
    if _is_dask_client(executor):
        return _DaskBackend(executor, numba_threads)
    raise TypeError("'executor' must be 'serial', 'processes', 'auto', 'dask', a "
                    "concurrent.futures.Executor or a dask.distributed.Client, "
                    f"got {type(executor).__name__}")


def _check_executor_args(executor, max_workers):
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, minimum=1)
        if not isinstance(executor, str):
            raise ValueError("'max_workers' applies to executor='processes' or 'auto'; the size "
                             "of an executor object is set where it is created")
    return max_workers


# --------------------------------------------------------------------------------------
# Ensemble averages
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EnsembleResult:
    """Moments of an observable over realizations ``start, ..., start + R - 1``.

    Attributes
    ----------
    moments : dict of str to StreamingMoments
        One accumulator per key of the observable's dict; the key ``"value"``
        for an observable that returns a number or an array.
    keyed : bool
        Whether the observable returned a dict.
    num_realizations, start : int
        The realizations averaged.
    seed : int or numpy.random.SeedSequence
        The ensemble's master seed.
    chunk_size : int
        Realizations per task (fixes the floating-point reduction order).
    executor : str
        Where the realizations ran.
    num_workers : int
        Workers (processes or Dask threads) used; 1 for serial.
    wall_time : float
        Seconds from the call to the result, including any pool start-up.
    samples : dict of str to numpy.ndarray or None
        With ``keep_samples``: the kept observations, ``samples[key][i]`` that of
        realization ``start + i`` (shape ``(R,) + shape``); ``None`` otherwise.

    Notes
    -----
    :attr:`mean`, :attr:`variance`, :attr:`standard_error` and
    :meth:`central_moment` mirror the observable: an array (or scalar) for an
    observable returning one, a dict of them for a dict. ``result[key]`` is the
    :class:`StreamingMoments` of one key.
    """

    moments: dict
    keyed: bool
    num_realizations: int
    seed: object
    start: int
    chunk_size: int
    executor: str
    num_workers: int
    wall_time: float
    samples: dict = None

    @property
    def realizations_per_second(self):
        """``num_realizations / wall_time``."""
        return self.num_realizations / self.wall_time if self.wall_time > 0 else math.inf

    def __getitem__(self, key):
        return self.moments[key]

    def keys(self):
        """The observable's keys (``["value"]`` for a non-dict observable)."""
        return self.moments.keys()

    def _mirror(self, getter):
        if self.keyed:
            return {key: getter(acc) for key, acc in self.moments.items()}
        return getter(self.moments[_VALUE_KEY])

    @property
    def mean(self):
        """Ensemble mean."""
        return self._mirror(lambda acc: acc.mean)

    @property
    def variance(self):
        """Unbiased variance over realizations."""
        return self._mirror(lambda acc: acc.variance)

    @property
    def standard_error(self):
        """Standard error of the ensemble mean."""
        return self._mirror(lambda acc: acc.standard_error)

    def central_moment(self, r):
        """Sample central moment of order ``r`` over realizations."""
        return self._mirror(lambda acc: acc.central_moment(r))


def _check_keep_samples(keep_samples):
    """``None`` (keep nothing), ``True`` (every key) or a tuple of keys."""
    if isinstance(keep_samples, (bool, np.bool_)):
        return True if keep_samples else None
    if isinstance(keep_samples, str):
        return (keep_samples,)
    try:
        keys = tuple(keep_samples)
    except TypeError:
        raise TypeError("'keep_samples' must be a bool, a key or a sequence of keys, "
                        f"got {type(keep_samples).__name__}") from None
    if not keys or not all(isinstance(key, str) for key in keys):
        raise TypeError("'keep_samples' must be a bool, a key or a non-empty sequence of str "
                        f"keys, got {keep_samples!r}")
    return keys


def _chunk_tasks(payload, seed, start, num_realizations, chunk_size, max_order, first_chunk=0,
                 keep_samples=None):
    for c in range(first_chunk, math.ceil(num_realizations / chunk_size)):
        first = start + c * chunk_size
        count = min(chunk_size, start + num_realizations - first)
        if keep_samples is None:
            yield payload, seed, first, count, max_order
        else:
            yield payload, seed, first, count, max_order, keep_samples


def ensemble_average(observable, num_realizations, seed, *, executor="serial", max_workers=None,
                     start=0, max_order=2, chunk_size=None, numba_threads=None, progress=True,
                     keep_samples=False):
    """Mean, standard error and central moments of an observable over disorder realizations.

    Parameters
    ----------
    observable : callable
        ``observable(seed_sequence) -> float | numpy.ndarray | dict[str, ndarray]``:
        builds realization ``r`` from the ``numpy.random.SeedSequence`` it is given
        and returns real numbers of a fixed shape (per key). For any executor but
        ``"serial"`` it must be picklable (cloudpickle is used when installed, so a
        function defined in a notebook works; the cleanest is a module-level
        function or a ``functools.partial`` of one), and deterministic.
    num_realizations : int
        ``R >= 1``.
    seed : int or numpy.random.SeedSequence
        Master seed: realization ``r`` uses ``realization_seeds(seed, 1, start=r)[0]``.
    executor : str, concurrent.futures.Executor or dask.distributed.Client, default "serial"
        Where realizations run:

        * ``"serial"``: in this process, in order.
        * ``"processes"``: a local process pool of ``max_workers`` workers, started
          for this call (see :func:`process_pool` to start one and reuse it).
        * ``"auto"``: runs two chunks here, then moves to a process pool if the
          remaining work is estimated above ~5 s and more than one core is usable.
        * ``"dask"``: the current ``dask.distributed`` Client (``get_client()``).
        * a ``concurrent.futures.Executor`` (such as :func:`process_pool`) or a
          ``dask.distributed.Client``: used as it is, left open.

        The default is ``"serial"``: it has no start-up cost, and the package's
        Numba kernels already use every core on lattices of the book's sizes;
        processes pay when realizations are many and each small.
    max_workers : int, optional
        Workers of the pool for ``"processes"`` and ``"auto"`` (default: the
        usable cores). Ignored by ``"serial"``; an error with an executor object.
    start : int, default 0
        First realization, so that runs over ``[0, 100)`` and ``[100, 200)`` use
        disjoint, reproducible realizations.
    max_order : int, default 2
        Highest central moment accumulated (``2 <= max_order <= 12``).
    chunk_size : int, optional
        Realizations per task, accumulated in order inside the task. Default
        ``ceil(R / 100)`` (at most 100 tasks; 1 for ``R <= 100``): it depends on ``R``
        only, never on the executor. Each task costs ~1 ms on a local pool and
        ~5 ms on a Dask cluster on top of its realizations; more chunks than
        workers balance the load.
    numba_threads : int, optional
        Numba threads per worker (per task thread with Dask). Default: unchanged
        for ``"serial"`` and a caller's ``concurrent.futures.Executor``; the host's
        cores divided among the workers on it for ``"processes"`` and Dask. On the
        lattices of unit tests (a few hundred sites) one thread is much faster
        than two on a busy machine; the result does not depend on it.
    progress : bool, default True
        Show a tqdm progress bar (on stderr).
    keep_samples : bool, str or sequence of str, default False
        Also return the observations of every realization (``result.samples``), for
        statistics that one pass cannot give (quantiles, bootstrap, odd absolute
        moments): ``True`` keeps every key, a key or a sequence of keys keeps
        those (``"value"`` for a non-dict observable). Meant for scalars and small
        arrays: the memory grows like ``R`` times their size. The samples are the
        observable's own return values, so they are bit-for-bit the same on every
        executor.

    Returns
    -------
    EnsembleResult
        ``result.mean``, ``result.standard_error``, ``result.central_moment(r)``,
        ``result[key]`` (a :class:`StreamingMoments`), ``result.wall_time`` and
        ``result.realizations_per_second``.

    Notes
    -----
    The reduction is fixed by ``(seed, start, R, chunk_size, max_order)``: chunk
    ``c`` holds realizations ``start + c * chunk_size, ...``, accumulated by
    :meth:`StreamingMoments.update` in order; chunk accumulators are merged in
    chunk order by :meth:`StreamingMoments.merge` in this process, buffering any
    chunk that finishes early. The result is therefore bit-for-bit the same on
    every executor and worker count. With ``chunk_size=1`` it equals a plain loop
    ``acc.update(observable(s))`` over the realization seeds, bit for bit.

    At most ``4 * workers`` chunks are submitted and not yet merged, and no chunk
    keeps anything but its accumulator (and, with ``keep_samples``, the kept
    values of its realizations): memory is bounded by that many accumulators of
    ``max_order`` arrays, whatever ``R``, plus the kept samples.

    With ``"processes"`` (and ``"auto"``), workers are started by ``forkserver``
    (``spawn`` where unavailable), which re-imports the main module: a script
    must guard its entry point with ``if __name__ == "__main__":``.

    Examples
    --------
    >>> import numpy as np
    >>> import chargetransport as ct
    >>> def gaussian_pair(seed_sequence):
    ...     return ct.as_generator(seed_sequence).standard_normal(2)
    >>> res = ensemble_average(gaussian_pair, 2000, seed=5, max_order=4, progress=False)
    >>> bool(np.all(np.abs(res.mean) < 4 * res.standard_error))
    True
    >>> one = ensemble_average(gaussian_pair, 1, seed=5, start=7, progress=False)
    >>> np.array_equal(one.mean, gaussian_pair(ct.realization_seeds(5, 1, start=7)[0]))
    True
    """
    t0 = time.perf_counter()
    if not callable(observable):
        raise TypeError(f"'observable' must be callable, got {type(observable).__name__}")
    num_realizations = check_int("num_realizations", num_realizations, minimum=1)
    realization_seeds(seed, 0, start)  # validates seed and start
    start = check_int("start", start, minimum=0)
    max_order = check_int("max_order", max_order, minimum=2, maximum=MAX_ORDER)
    if chunk_size is None:
        chunk_size = max(1, math.ceil(num_realizations / _DEFAULT_NUM_CHUNKS))
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"'progress' must be a bool, got {type(progress).__name__}")
    keep_samples = _check_keep_samples(keep_samples)
    max_workers = _check_executor_args(executor, max_workers)
    numba_threads = _check_numba_threads(numba_threads)
    if isinstance(seed, np.random.SeedSequence):
        seed = _as_seed_sequence(seed)

    num_chunks = math.ceil(num_realizations / chunk_size)
    total, keyed = None, None
    bar = tqdm(total=num_realizations, desc="realizations", unit="real", disable=not progress)

    kept = {}

    def absorb(chunk):
        nonlocal total, keyed
        first, chunk_keyed, acc = chunk[:3]
        total, keyed = _merge_chunk(total, keyed, chunk_keyed, acc, first, max_order)
        if keep_samples is not None:
            for key, values in chunk[3].items():
                kept.setdefault(key, []).append(values)
        bar.update(next(iter(acc.values())).count)

    auto = isinstance(executor, str) and executor == "auto"
    payload = observable
    if not (isinstance(executor, str) and executor == "serial"):
        try:  # before any worker starts, so that an unpicklable observable fails at once
            payload = _dumps(observable, "observable")
        except TypeError:
            if not auto:
                raise
            payload = None  # "auto" stays serial
    first_chunk = 0
    try:
        if auto:
            # Two chunks here (the first also pays JIT and cache loading), timing the second.
            for args in _chunk_tasks(observable, seed, start, num_realizations, chunk_size,
                                     max_order, keep_samples=keep_samples):
                tc = time.perf_counter()
                with _numba_threads_scope(numba_threads):
                    absorb(_run_chunk(*args[:5], None, *args[5:]))
                first_chunk += 1
                if first_chunk == min(2, num_chunks):
                    break
            remaining = (num_chunks - first_chunk) * (time.perf_counter() - tc)
            use_pool = (payload is not None and remaining > _AUTO_THRESHOLD_SECONDS
                        and _usable_cpus() > 1 and num_chunks - first_chunk > 1)
            if use_pool:
                backend = _FuturesBackend(process_pool(max_workers, numba_threads=numba_threads),
                                          True, "processes")
            else:
                backend = _SerialBackend(numba_threads)
        else:
            backend = _backend(executor, max_workers, numba_threads)
        if isinstance(backend, _SerialBackend):
            payload = observable
        try:
            tasks = _chunk_tasks(payload, seed, start, num_realizations, chunk_size, max_order,
                                 first_chunk, keep_samples)
            for chunk in backend.run(tasks):
                absorb(chunk)
        finally:
            backend.close()
    finally:
        bar.close()
    name = backend.name
    if auto:
        name = f"auto: serial for {first_chunk} chunk(s), then {backend.name}" \
            if isinstance(backend, _FuturesBackend) else "auto: serial"
    samples = None
    if keep_samples is not None:
        samples = {key: np.concatenate(parts) for key, parts in kept.items()}
    return EnsembleResult(moments=total, keyed=keyed, num_realizations=num_realizations,
                          seed=seed, start=start, chunk_size=chunk_size, executor=name,
                          num_workers=backend.num_workers, wall_time=time.perf_counter() - t0,
                          samples=samples)


# --------------------------------------------------------------------------------------
# Lock-step ensembles
# --------------------------------------------------------------------------------------
class _LockstepWorker:
    """Holds whole blocks of realizations; steps and reduces them block by block."""

    def __init__(self, payload, seed, blocks, max_order, numba_threads):
        self._numba_threads = numba_threads
        _set_numba_threads(numba_threads)
        init, self._step = pickle.loads(payload) if isinstance(payload, bytes) else payload
        self._max_order = max_order
        self._blocks = []
        for block, first, count in blocks:
            states = []
            for i, seed_sequence in enumerate(realization_seeds(seed, count, start=first)):
                try:
                    states.append(init(seed_sequence))
                except Exception as exc:
                    _annotate(exc, f"while initialising realization {first + i}")
                    raise
            self._blocks.append((block, first, states))

    def _apply(self, fn, args, replace, label):
        _set_numba_threads(self._numba_threads)
        out = []
        for block, first, states in self._blocks:
            acc, keyed = None, False
            for i, state in enumerate(states):
                try:
                    if replace:
                        states[i], value = fn(state, *args)
                    else:
                        value = fn(state, *args)
                    acc, keyed = _accumulate(acc, value, self._max_order, first + i, keyed)
                except Exception as exc:
                    _annotate(exc, f"while applying {label} to realization {first + i}")
                    raise
            out.append((block, keyed, acc))
        return out

    def step(self, shared):
        return self._apply(self._step, (shared,), True, "step")

    def reduce(self, payload):
        fn = pickle.loads(payload) if isinstance(payload, bytes) else payload
        return self._apply(fn, (), False, "the observable")

    def states(self):
        return [(block, list(states)) for block, _, states in self._blocks]


def _lockstep_process(conn, args):
    """Main loop of a lock-step worker process: call methods sent over the pipe."""
    try:
        worker = _LockstepWorker(*args)
        conn.send(("ok", None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", _picklable(exc), traceback.format_exc()))
        return
    while True:
        try:
            method, margs = conn.recv()
        except EOFError:
            return
        if method == "close":
            return
        try:
            conn.send(("ok", getattr(worker, method)(*margs)))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            conn.send(("error", _picklable(exc), traceback.format_exc()))


def _picklable(exc):
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _process_result(message):
    if message[0] == "ok":
        return message[1]
    _, exc, remote_traceback = message
    _annotate(exc, f"in a lock-step worker process:\n{remote_traceback}")
    raise exc


class LockstepEnsemble:
    """Realizations advanced in lock-step, coupled through an ensemble reduction.

    Each realization ``r`` holds a state ``init(seed_r)``. One :meth:`step`
    replaces every state by ``step(state, shared)[0]`` and returns the
    moments, over realizations, of the contributions ``step(state, shared)[1]``:
    their mean is typically the next ``shared`` (for a Hartree-Fock dynamics, the
    mean density that the next time step of every realization needs). The states
    stay where they were created (a worker process or a Dask actor); only
    ``shared`` and the per-block accumulators travel.

    Parameters
    ----------
    init : callable
        ``init(seed_sequence) -> state``: realization ``r`` is built from the
        ``r``-th spawned seed of ``seed``.
    step : callable
        ``step(state, shared) -> (new_state, contribution)``, ``contribution`` a
        float, an array of fixed shape or a dict of them (as for
        :func:`ensemble_average`). ``init`` and ``step`` must be picklable for
        any executor but ``"serial"`` (cloudpickle is used when installed).
    num_realizations : int
        ``R >= 1``.
    seed : int or numpy.random.SeedSequence
        Master seed.
    executor : {"serial", "processes", "dask"} or dask.distributed.Client, default "serial"
        ``"processes"`` starts ``max_workers`` dedicated worker processes that
        keep their states between steps; a Dask ``Client`` (or ``"dask"``, the
        current one) places one actor per Dask worker thread.
    max_workers : int, optional
        Number of workers for ``"processes"`` (default: usable cores), or an
        upper bound on the number of Dask actors.
    start : int, default 0
        First realization.
    block_size : int, default 1
        Realizations per block. Blocks are the unit of distribution and of the
        reduction: contributions are accumulated in realization order within a
        block, blocks are merged in block order here, so results are bit-for-bit
        independent of the number of workers and of which worker holds which
        block. ``block_size=1`` equals a serial loop of
        :meth:`StreamingMoments.update` over the realizations.
    max_order : int, default 2
        Highest central moment of the contributions accumulated.
    numba_threads : int, optional
        Numba threads per worker (as in :func:`ensemble_average`); for
        ``"serial"`` it applies during the calls only.

    Notes
    -----
    The states live in the workers for the lifetime of the ensemble: close it
    (or use it as a context manager) to end the worker processes. If ``step``
    raises, the exception is re-raised here and the ensemble's states are
    undefined (some realizations may have advanced).

    Examples
    --------
    Mean-field relaxation ``x_r <- a x_r + b m`` with ``m`` the ensemble mean, whose
    mean grows as ``(a + b)^t`` exactly:

    >>> import functools
    >>> import chargetransport as ct
    >>> def init(seed_sequence):
    ...     return ct.as_generator(seed_sequence).standard_normal()
    >>> def relax(x, m, a=0.5, b=0.25):
    ...     x = a * x + b * m
    ...     return x, x
    >>> with LockstepEnsemble(init, relax, 50, seed=3) as ens:
    ...     m0 = ens.reduce(lambda x: x).mean
    ...     m = m0
    ...     for _ in range(4):
    ...         m = ens.step(m).mean
    >>> bool(abs(m - 0.75**4 * m0) < 1e-14)
    True
    """

    def __init__(self, init, step, num_realizations, seed, *, executor="serial", max_workers=None,
                 start=0, block_size=1, max_order=2, numba_threads=None):
        for name, fn in (("init", init), ("step", step)):
            if not callable(fn):
                raise TypeError(f"'{name}' must be callable, got {type(fn).__name__}")
        self._R = check_int("num_realizations", num_realizations, minimum=1)
        realization_seeds(seed, 0, start)  # validates seed and start
        self._start = check_int("start", start, minimum=0)
        self._block_size = check_int("block_size", block_size, minimum=1)
        self._max_order = check_int("max_order", max_order, minimum=2, maximum=MAX_ORDER)
        if max_workers is not None:
            max_workers = check_int("max_workers", max_workers, minimum=1)
        numba_threads = _check_numba_threads(numba_threads)
        if isinstance(seed, np.random.SeedSequence):
            seed = _as_seed_sequence(seed)
        self._seed = seed
        self._numba_threads = numba_threads
        num_blocks = math.ceil(self._R / self._block_size)
        blocks = [(b, self._start + b * self._block_size,
                   min(self._block_size, self._R - b * self._block_size))
                  for b in range(num_blocks)]
        self._processes, self._conns, self._actors, self._workers = [], [], [], []
        self._closed = False
        self._num_steps = 0

        if executor == "serial":
            self._kind = "serial"
            with _numba_threads_scope(numba_threads):
                self._workers = [_LockstepWorker((init, step), seed, blocks, self._max_order,
                                                 None)]
            return
        if executor == "dask" or _is_dask_client(executor):
            client = _current_dask_client() if executor == "dask" else executor
            self._init_dask(client, init, step, seed, blocks, max_workers, numba_threads)
            return
        if not isinstance(executor, str):
            raise TypeError("'executor' must be 'serial', 'processes', 'dask' or a "
                            f"dask.distributed.Client, got {type(executor).__name__}")
        if executor != "processes":
            raise ValueError("'executor' must be 'serial', 'processes', 'dask' or a "
                             f"dask.distributed.Client, got {executor!r}")
        self._kind = "processes"
        cores = _usable_cpus()
        n = min(cores if max_workers is None else max_workers, num_blocks)
        threads = max(1, cores // n) if numba_threads is None else numba_threads
        payload = _dumps((init, step), "init/step")
        ctx = _mp_context()
        try:
            for part in _split(blocks, n):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_lockstep_process, daemon=True,
                                   args=(child, (payload, seed, part, self._max_order, threads)))
                proc.start()
                child.close()
                self._processes.append(proc)
                self._conns.append(parent)
            for conn in self._conns:
                _process_result(conn.recv())
        except BaseException:
            self.close()
            raise

    def _init_dask(self, client, init, step, seed, blocks, max_workers, numba_threads):
        self._kind = "dask"
        nthreads = client.nthreads()
        if not nthreads:
            raise ValueError("the Dask cluster has no workers")
        # One slot per Dask thread, taking the workers in turn so that actors spread
        # over workers before doubling up on one.
        slots = [address for level in range(max(nthreads.values()))
                 for address in sorted(nthreads) if nthreads[address] > level]
        n = min(len(slots), len(blocks), max_workers or len(slots))
        threads = _dask_numba_threads(client)
        if numba_threads is not None:
            threads = dict.fromkeys(threads, numba_threads)
        payload = _dumps((init, step), "init/step")
        futures = [client.submit(_LockstepWorker, payload, seed, part, self._max_order,
                                 threads[address],
                                 actor=True, workers=[address], pure=False)
                   for part, address in zip(_split(blocks, n), slots)]
        self._actor_futures = futures
        self._actors = [future.result() for future in futures]

    # ---- calls on all workers ----------------------------------------------------
    def _call(self, method, *args):
        if self._closed:
            raise ValueError("the LockstepEnsemble is closed")
        if self._kind == "serial":
            with _numba_threads_scope(self._numba_threads):
                return [getattr(self._workers[0], method)(*args)]
        if self._kind == "processes":
            try:
                for conn in self._conns:
                    conn.send((method, args))
                # Every reply is received before any error is raised, so that none is
                # left in a pipe to be mistaken for the reply to the next call.
                messages = [conn.recv() for conn in self._conns]
            except BaseException:
                self.close()  # interrupted: the pipes are out of step, end the workers
                raise
            return [_process_result(message) for message in messages]
        futures = [getattr(actor, method)(*args) for actor in self._actors]
        return [future.result() for future in futures]

    def _merge(self, parts):
        blocks = sorted((item for part in parts for item in part), key=lambda item: item[0])
        total, keyed = None, None
        for block, block_keyed, acc in blocks:
            total, keyed = _merge_chunk(total, keyed, block_keyed, acc,
                                        self._start + block * self._block_size, self._max_order)
        return total if keyed else total[_VALUE_KEY]

    def step(self, shared):
        """Advance every realization by one step.

        Parameters
        ----------
        shared : object
            Passed to every ``step(state, shared)`` (picklable for workers).

        Returns
        -------
        StreamingMoments or dict of str to StreamingMoments
            Moments of the contributions over the realizations (``.mean`` is the
            ensemble mean).
        """
        result = self._merge(self._call("step", shared))
        self._num_steps += 1
        return result

    def reduce(self, observable):
        """Moments over realizations of ``observable(state)`` (states unchanged).

        Parameters
        ----------
        observable : callable
            ``observable(state) -> float | ndarray | dict``; picklable for workers.

        Returns
        -------
        StreamingMoments or dict of str to StreamingMoments
        """
        if not callable(observable):
            raise TypeError(f"'observable' must be callable, got {type(observable).__name__}")
        payload = observable if self._kind == "serial" else _dumps(observable, "observable")
        return self._merge(self._call("reduce", payload))

    def states(self):
        """All states in realization order (gathered here: mind the memory)."""
        blocks = sorted((item for part in self._call("states") for item in part),
                        key=lambda item: item[0])
        return [state for _, states in blocks for state in states]

    @property
    def num_realizations(self):
        """Number of realizations ``R``."""
        return self._R

    @property
    def num_workers(self):
        """Worker processes or Dask actors holding the states (1 for serial)."""
        sizes = {"serial": 1, "processes": len(self._processes), "dask": len(self._actors)}
        return sizes[self._kind]

    @property
    def num_steps(self):
        """Steps taken so far."""
        return self._num_steps

    @property
    def executor(self):
        """``"serial"``, ``"processes"`` or ``"dask"``."""
        return self._kind

    def close(self):
        """End the worker processes or release the Dask actors (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for conn in self._conns:
            try:
                conn.send(("close", ()))
            except (OSError, ValueError):
                pass
        for proc in self._processes:
            proc.join(timeout=10)
            if proc.is_alive():  # pragma: no cover - a hung worker
                proc.terminate()
                proc.join()
        for conn in self._conns:
            conn.close()
        self._actors = []
        futures = getattr(self, "_actor_futures", [])
        if futures:
            futures[0].client.cancel(futures)
        self._actor_futures = []
        self._workers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _split(items, n):
    """``n`` contiguous, near-equal, non-empty parts of ``items`` (``n <= len(items)``)."""
    q, r = divmod(len(items), n)
    parts, i = [], 0
    for k in range(n):
        size = q + (k < r)
        parts.append(items[i:i + size])
        i += size
    return parts
