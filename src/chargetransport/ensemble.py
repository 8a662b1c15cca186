"""Disorder averages: an observable over realizations, on one core, a process pool or Dask.

Averages over the random potential are sums over realizations ``r = start, ...,
start + R - 1``; realization ``r`` of seed ``s`` always draws from the ``r``-th
spawned ``SeedSequence`` of ``s`` (:func:`chargetransport.realization_seeds`), so it is
the same state wherever it is computed. :func:`ensemble_average` runs such a loop
serially, on a local process pool (:func:`process_pool`) or on a ``dask.distributed``
cluster, with a tqdm progress bar, and returns an :class:`EnsembleResult`: the
:class:`~chargetransport.streaming_moments.StreamingMoments` of every key of the observable
(and, with ``keep_samples``, the per-realization values of chosen keys, for the
statistics that need samples: quantiles, bootstrap). Realizations advanced together
and coupled through their ensemble mean are :class:`chargetransport.LockstepEnsemble`.

Determinism. Realizations are grouped in consecutive chunks of ``chunk_size``;
each chunk is accumulated in realization order into its own ``StreamingMoments``,
and the chunks are merged in chunk order in the calling process (completions that
arrive early are buffered). The arithmetic therefore depends on ``(seed, start,
num_realizations, chunk_size, max_order)`` only, and the result is bit-for-bit the
same for ``executor="serial"``, a process pool of any size and a Dask cluster of any
size, provided the observable itself is deterministic (the package's Numba kernels
are: their reductions use fixed blocks, so they do not depend on the thread count).

Faults and resuming. For the same reason a chunk can be computed again, or read back
from disk, without changing a bit. A worker process that dies (the out-of-memory
killer, a segfault) takes its chunks with it; the pool is replaced and the chunks are
resubmitted (``max_retries``), and when they keep failing an :class:`EnsembleError`
carries the partial result. With ``checkpoint=directory`` every chunk is written to
disk as it completes (:mod:`chargetransport.checkpoint`); a rerun with the same
arguments reads the chunks already there, computes the others, and merges all of them
in chunk order, so an interrupted and resumed run equals an uninterrupted one to the
last bit.
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from tqdm import tqdm

from . import _executors as ex
from ._chunks import VALUE_KEY, chunk_tasks, merge_chunk, run_chunk
from ._validation import check_bool, check_int, check_memory
from .checkpoint import ChunkCheckpoint, callable_fingerprint
from .rng import check_seed, seed_fingerprint
from .streaming_moments import MAX_ORDER

__all__ = ["EnsembleError", "EnsembleResult", "ensemble_average", "process_pool"]

# executor="auto" starts a process pool when the estimated remaining serial time
# exceeds this many seconds (a pool costs ~1 s to start and each worker loads the
# Numba caches once; below this the pool cannot pay for itself on 2 cores).
_AUTO_THRESHOLD_SECONDS = 5.0

# Default number of chunks of ensemble_average: ~100 tasks keep Dask's per-task
# overhead (~5 ms) under a second and still balance the load over tens of workers.
_DEFAULT_NUM_CHUNKS = 100


class EnsembleError(RuntimeError):
    """Realizations that could not be computed because their workers kept dying.

    Raised by :func:`ensemble_average` when a chunk was lost with its worker more than
    ``max_retries`` times (or an executor failed for good), and by
    :class:`chargetransport.LockstepEnsemble` when a worker holding states could not be
    replaced. The message names the realizations.

    Attributes
    ----------
    failed : list of (int, int)
        Half-open ranges ``[first, stop)`` of the realizations that failed.
    missing : list of (int, int)
        Ranges of all realizations not in :attr:`partial` (the failed ones included).
    partial : EnsembleResult or None
        The moments of the chunks that did complete, merged in chunk order (the
        realizations are those not in :attr:`missing`); ``None`` if none did.
    """

    def __init__(self, message, *, failed=(), missing=(), partial=None):
        super().__init__(message)
        self.failed, self.missing, self.partial = list(failed), list(missing), partial


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
    resumed : int
        Chunks read from the checkpoint rather than computed.
    resubmitted : int
        Chunk submissions repeated after a worker process died.

    Notes
    -----
    :attr:`mean`, :attr:`variance`, :attr:`standard_error` and
    :meth:`central_moment` mirror the observable: an array (or scalar) for an
    observable returning one, a dict of them for a dict. ``result[key]`` is the
    :class:`~chargetransport.streaming_moments.StreamingMoments` of one key.
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
    resumed: int = 0
    resubmitted: int = 0

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
        return getter(self.moments[VALUE_KEY])

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
    concurrent.futures.Executor
        A ``concurrent.futures.ProcessPoolExecutor`` behind an executor that replaces
        it when a worker process dies (``ensemble_average`` then resubmits the lost
        chunks, see ``max_retries``), so that the pool stays usable. Workers are
        started by ``forkserver`` (``spawn`` where unavailable), never by a plain
        ``fork`` of a process whose Numba threads are running; each worker's Numba
        thread count is ``max(1, cores // max_workers)`` unless given, so that
        workers times threads does not oversubscribe the cores.
    """
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, minimum=1)
    return ex.start_process_pool(max_workers, ex.check_numba_threads(numba_threads))


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


class _Reduction:
    """Chunks merged in chunk order, and what an EnsembleResult needs to know about them."""

    def __init__(self, num_realizations, max_order, keep_samples, bar):
        self.num_realizations, self.max_order = num_realizations, max_order
        self.keep_samples, self.bar = keep_samples, bar
        self.total, self.keyed, self.kept = None, None, {}
        self.count = self.next_chunk = 0

    def absorb(self, chunk):
        self.total, self.keyed = merge_chunk(self.total, self.keyed, chunk, self.max_order)
        if self.keep_samples is not None:
            if not self.kept:  # now the size of a realization's samples is known
                per_realization = sum(v.nbytes for v in chunk.samples.values()) / chunk.count
                check_memory("num_realizations", per_realization * self.num_realizations,
                             f"keeping the samples of {self.num_realizations} realizations",
                             "keep fewer keys, or split the run into several with 'start'")
            for key, values in chunk.samples.items():
                self.kept.setdefault(key, []).append(values)
        self.count += chunk.count
        self.next_chunk = chunk.index + 1
        self.bar.update(chunk.count)

    def result(self, **fields):
        if self.total is None:
            return None
        samples = None
        if self.keep_samples is not None:
            samples = {key: np.concatenate(parts) for key, parts in self.kept.items()}
        return EnsembleResult(moments=self.total, keyed=self.keyed, num_realizations=self.count,
                              samples=samples, **fields)


def _realization_ranges(chunks, start, chunk_size, stop):
    """Coalesced half-open realization ranges of sorted chunk-index ranges ``(c0, c1)``."""
    ranges = []
    for c0, c1 in chunks:
        first, last = start + c0 * chunk_size, min(start + c1 * chunk_size, stop)
        if ranges and ranges[-1][1] == first:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((first, last))
    return ranges


def ensemble_average(observable, num_realizations, seed, *, executor="serial", max_workers=None,
                     start=0, max_order=2, chunk_size=None, numba_threads=None, progress=True,
                     keep_samples=False, max_retries=2, checkpoint=None):
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
        arrays: the memory grows like ``R`` times their size (checked against the
        available memory). The samples are the observable's own return values, so
        they are bit-for-bit the same on every executor.
    max_retries : int, default 2
        How often a chunk lost with its worker process is resubmitted (on a
        replacement pool: with ``"processes"``, ``"auto"`` and pools from
        :func:`process_pool`) before :class:`EnsembleError` is raised. With Dask it is
        passed as ``retries`` to ``Client.submit``; Dask itself reruns the tasks of a
        dead worker, up to its ``distributed.scheduler.allowed-failures`` (default 3),
        then fails them with ``KilledWorker``. An exception raised by the observable
        is never retried: it is re-raised at once, with the realization's index.
    checkpoint : str or os.PathLike, optional
        A directory where every chunk is written as it completes (created if
        missing; see :mod:`chargetransport.checkpoint`). A rerun with the same
        arguments reads the chunks already there instead of computing them, and
        gives the result of an uninterrupted run, bit for bit. Its ``manifest.json``
        records ``seed``, ``start``, ``chunk_size``, ``max_order``, ``keep_samples``
        and the observable's qualified name and bound arguments; a rerun with other
        values raises ``ValueError``. It does not record ``num_realizations``: chunk
        ``c`` is the same in a run of any length (the shorter last chunk of a run is
        stored apart), so a run with more realizations and the same ``chunk_size``
        (give it explicitly when ``R > 100``) extends a shorter one, and equals a
        run of that length from scratch, bit for bit.

    Returns
    -------
    EnsembleResult
        ``result.mean``, ``result.standard_error``, ``result.central_moment(r)``,
        ``result[key]`` (a :class:`~chargetransport.streaming_moments.StreamingMoments`),
        ``result.wall_time`` and ``result.realizations_per_second``.

    Raises
    ------
    EnsembleError
        When chunks could not be computed (worker processes kept dying); it carries
        the partial result and the missing realizations.

    Notes
    -----
    The reduction is fixed by ``(seed, start, R, chunk_size, max_order)``: chunk
    ``c`` holds realizations ``start + c * chunk_size, ...``, accumulated by
    :meth:`StreamingMoments.update` in order; chunk accumulators are merged in
    chunk order by :meth:`StreamingMoments.merge` in this process, buffering any
    chunk that finishes early. The result is therefore bit-for-bit the same on
    every executor and worker count, after any resubmission, and after a resume
    from a checkpoint. With ``chunk_size=1`` it equals a plain loop
    ``acc.update(observable(s))`` over the realization seeds, bit for bit.

    At most ``4 * workers`` chunks are submitted and not yet merged, no chunk keeps
    anything but its accumulator (and, with ``keep_samples``, the kept values of
    its realizations), and the tasks and realization seeds are generated as they
    are needed: memory is bounded by that many accumulators of ``max_order``
    arrays, whatever ``R``, plus the kept samples.

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
    seed = check_seed(seed)
    start = check_int("start", start, minimum=0)
    max_order = check_int("max_order", max_order, minimum=2, maximum=MAX_ORDER)
    if chunk_size is None:
        chunk_size = max(1, math.ceil(num_realizations / _DEFAULT_NUM_CHUNKS))
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    progress = check_bool("progress", progress)
    keep_samples = _check_keep_samples(keep_samples)
    choice = ex.parse_executor(executor, max_workers)
    numba_threads = ex.check_numba_threads(numba_threads)
    max_retries = check_int("max_retries", max_retries, minimum=0)
    if keep_samples is not None:  # at least one float per kept key and realization
        keys = 1 if keep_samples is True else len(keep_samples)
        check_memory("num_realizations", 8 * keys * num_realizations,
                     f"keeping the samples of {num_realizations} realizations",
                     "keep fewer keys, or split the run into several with 'start'")
    num_chunks = math.ceil(num_realizations / chunk_size)
    store, on_disk = None, frozenset()
    if checkpoint is not None:
        # Not num_realizations: a chunk is the same in a run of any length (the short
        # last chunk is kept apart), so a longer run extends a shorter one.
        store = ChunkCheckpoint(checkpoint, {
            "kind": "ensemble_average", "seed": seed_fingerprint(seed), "start": start,
            "chunk_size": chunk_size, "max_order": max_order,
            "keep_samples": keep_samples if keep_samples is not True else "all",
            "observable": callable_fingerprint(observable)}, chunk_size=chunk_size)
        on_disk = frozenset(store.completed(num_realizations))

    payload = observable
    if choice.kind != "serial":
        try:  # before any worker starts, so that an unpicklable observable fails at once
            payload = ex.dumps(observable, "observable")
        except TypeError:
            if choice.kind != "auto":
                raise
            payload = None  # "auto" stays serial
    run = {"backend": None, "name": None}

    def computed():
        """The chunks not on disk, computed, in chunk order."""
        tasks = chunk_tasks(observable, seed, start, num_realizations, chunk_size, max_order,
                            keep_samples, skip=on_disk)
        on_done = None if store is None else store.write
        if choice.kind == "auto":
            # Two chunks here (the first also pays JIT and cache loading), timing the second.
            serial, ran, elapsed = ex.SerialBackend(numba_threads), 0, 0.0
            run["backend"], run["name"] = serial, "auto: serial"
            for task in tasks:
                tc = time.perf_counter()
                yield from ex.run_ordered(serial, run_chunk, [task], on_done=on_done)
                elapsed, ran = time.perf_counter() - tc, ran + 1
                if ran == 2:
                    break
            remaining = num_chunks - len(on_disk) - ran
            if (payload is None or remaining * elapsed <= _AUTO_THRESHOLD_SECONDS
                    or ex.usable_cpus() < 2 or remaining < 2):
                yield from ex.run_ordered(serial, run_chunk, tasks, on_done=on_done)
                return
            backend = ex.make_backend(ex.ExecutorChoice("processes", None, choice.max_workers),
                                      numba_threads)
            run["name"] = f"auto: serial for {ran} chunk(s), then {backend.name}"
        else:
            backend = ex.make_backend(choice, numba_threads, max_retries)
            run["name"] = backend.name
        run["backend"] = backend
        if not backend.inline:
            tasks = (dataclasses.replace(task, observable=payload) for task in tasks)
        try:
            yield from ex.run_ordered(backend, run_chunk, tasks, max_retries=max_retries,
                                      on_done=on_done)
        finally:
            backend.close()

    bar = tqdm(total=num_realizations, desc="realizations", unit="real", disable=not progress)
    reduction = _Reduction(num_realizations, max_order, keep_samples, bar)
    chunks = computed()

    def fields():
        backend = run["backend"]
        return dict(seed=seed, start=start, chunk_size=chunk_size,
                    executor=run["name"] or "serial",
                    num_workers=backend.num_workers if backend else 1,
                    wall_time=time.perf_counter() - t0, resumed=len(on_disk),
                    resubmitted=backend.resubmitted if backend else 0)

    try:
        for c in range(num_chunks):
            reduction.absorb(store.read(c, _chunk_count(c, chunk_size, num_realizations))
                             if c in on_disk else next(chunks))
    except ex.TasksFailed as failure:
        raise _ensemble_error(failure, reduction, store, on_disk, num_chunks, fields(),
                              (start, chunk_size, num_realizations)) from failure
    finally:
        chunks.close()
        bar.close()
    return reduction.result(**fields())


def _chunk_count(index, chunk_size, num_realizations):
    """Realizations of chunk ``index`` of a run of ``num_realizations``."""
    return min(chunk_size, num_realizations - index * chunk_size)


def _ensemble_error(failure, reduction, store, on_disk, num_chunks, fields, layout):
    """The EnsembleError of a run whose chunks ``failure.failed`` could not be computed."""
    start, chunk_size, num_realizations = layout
    done = {chunk.index: chunk for chunk in failure.completed}
    for c in on_disk:
        if c >= reduction.next_chunk and c not in done:
            done[c] = store.read(c, _chunk_count(c, chunk_size, num_realizations))
    gaps, c0 = [], reduction.next_chunk
    for c in sorted(done):
        if c < reduction.next_chunk:
            continue
        reduction.absorb(done[c])
        if c > c0:
            gaps.append((c0, c))
        c0 = c + 1
    if c0 < num_chunks:
        gaps.append((c0, num_chunks))
    missing = _realization_ranges(gaps, start, chunk_size, start + num_realizations)
    failed = [(task.first, task.first + task.count) for task in failure.failed]
    names = ", ".join(f"{a}..{b - 1}" if b - a > 1 else f"{a}" for a, b in failed)
    partial = reduction.result(**fields)
    done_count = 0 if partial is None else partial.num_realizations
    hint = ""
    if "BrokenProcessPool" in failure.reason:
        hint = "; a pool from process_pool() replaces a dead worker and resubmits its chunks"
    return EnsembleError(
        f"realizations {names} could not be computed: {failure.reason}{hint}. The error's "
        f"'partial' attribute holds the {done_count} realizations that completed, "
        f"'missing' the ranges of the others: {missing}",
        failed=failed, missing=missing, partial=partial)
