"""Lock-step ensembles: realizations advanced together, coupled through their ensemble mean.

In a self-consistent mean-field dynamics (Hartree-Fock, section 6) every time step of
every realization needs the ensemble mean of the previous step, so realizations cannot
run independently as in :func:`chargetransport.ensemble_average`.
:class:`LockstepEnsemble` keeps the states where they were created (worker processes or
Dask actors), sends each step's shared argument to all of them, and merges the
per-block moments of their contributions, in block order, into the next mean.

Faults and resuming. A state is a function of its seed and of the shared arguments
of the steps taken, and blocks are merged in block order, so a lost state can be
rebuilt bit for bit: when a worker process or a Dask worker dies, its blocks are
rebuilt on a fresh worker from their seeds (or read from the last checkpoint) and
replayed through the shared arguments since then, which the ensemble keeps. With
``checkpoint=directory`` the states are also written to disk every
``checkpoint_every`` steps (:mod:`chargetransport.checkpoint`), and a new ensemble
built with the same arguments resumes there. The workers that hold the states, and
rebuild them, are in :mod:`chargetransport._lockstep_workers`.
"""
from __future__ import annotations

import math
import time

from . import _executors as ex
from ._chunks import VALUE_KEY, merge_chunk
from ._lockstep_workers import (_ActorHolder, _LocalHolder, _LockstepWorker, _ProcessHolder,
                                _split, _WorkerSpec)
from ._validation import check_int
from .checkpoint import StateCheckpoint, callable_fingerprint
from .ensemble import EnsembleError
from .rng import check_seed, seed_fingerprint
from .streaming_moments import MAX_ORDER

__all__ = ["LockstepEnsemble"]


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
        :func:`chargetransport.ensemble_average`); deterministic. ``init`` and
        ``step`` must be picklable for any executor but ``"serial"`` (cloudpickle
        is used when installed).
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
        Numba threads per worker (as in :func:`chargetransport.ensemble_average`);
        for ``"serial"`` it applies during the calls only.
    max_retries : int, default 2
        How often a call may lose the worker that holds a part of the states (a
        worker process or a Dask worker that died) before :class:`EnsembleError` is
        raised. Each time the lost blocks are rebuilt on a fresh worker, from
        their seeds or the last checkpoint, and replayed to the current step.
    checkpoint : str or os.PathLike, optional
        A directory for the states, written every ``checkpoint_every`` steps (one
        pickle per block) with the step count; its ``manifest.json`` records the
        seed, ``start``, ``num_realizations``, ``block_size`` and the qualified
        names and bound arguments of ``init`` and ``step`` (other values raise
        ``ValueError``). If it holds states, the ensemble starts from them:
        :attr:`num_steps` is the step it resumed at.
    checkpoint_every : int, default 1
        Steps between checkpoints.

    Notes
    -----
    The states live in the workers for the lifetime of the ensemble: close it
    (or use it as a context manager) to end the worker processes. If ``step``
    raises, the exception is re-raised here and the ensemble's states are
    undefined (some realizations may have advanced).

    To rebuild lost states the ensemble keeps the ``shared`` argument of every
    step since the last checkpoint (pickled, for ``"processes"`` and Dask): small
    next to the states for a mean-field dynamics, but it grows with the number
    of steps unless ``checkpoint`` is set.

    Resuming: build the ensemble again with the same arguments and ``checkpoint``,
    and continue the loop at ``ens.num_steps``, recomputing the next shared
    argument from the restored states (``ens.reduce(...)``), for instance::

        with LockstepEnsemble(init, step, R, seed, checkpoint="run") as ens:
            m = ens.reduce(observable).mean        # the mean after ens.num_steps steps
            for n in range(ens.num_steps, num_steps):
                m = ens.step(m).mean

    The resumed states are bit-for-bit those of an uninterrupted run.

    Examples
    --------
    Mean-field relaxation ``x_r <- a x_r + b m`` with ``m`` the ensemble mean, whose
    mean grows as ``(a + b)^t`` exactly:

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
                 start=0, block_size=1, max_order=2, numba_threads=None, max_retries=2,
                 checkpoint=None, checkpoint_every=1):
        self._holders, self._closed = [], True
        for name, fn in (("init", init), ("step", step)):
            if not callable(fn):
                raise TypeError(f"'{name}' must be callable, got {type(fn).__name__}")
        self._R = check_int("num_realizations", num_realizations, minimum=1)
        seed = check_seed(seed)
        self._start = check_int("start", start, minimum=0)
        self._block_size = check_int("block_size", block_size, minimum=1)
        self._max_order = check_int("max_order", max_order, minimum=2, maximum=MAX_ORDER)
        self._max_retries = check_int("max_retries", max_retries, minimum=0)
        self._checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        choice = ex.parse_executor(executor, max_workers, lockstep=True)
        numba_threads = ex.check_numba_threads(numba_threads)
        self._seed, self._numba_threads = seed, numba_threads
        self._store = None
        if checkpoint is not None:
            self._store = StateCheckpoint(checkpoint, {
                "kind": "LockstepEnsemble", "seed": seed_fingerprint(seed), "start": self._start,
                "num_realizations": self._R, "block_size": self._block_size,
                "init": callable_fingerprint(init), "step": callable_fingerprint(step)})
        # the states of step _saved_step (0: none) are on disk; _history holds the shared
        # arguments of the steps since
        self._saved_step = self._store.step if self._store else 0
        self._num_steps = self._saved_step
        num_blocks = math.ceil(self._R / self._block_size)
        blocks = [(b, self._start + b * self._block_size,
                   min(self._block_size, self._R - b * self._block_size))
                  for b in range(num_blocks)]
        self._history = []  # pickled shared arguments since the last checkpoint
        self._replacements, self._recovery_seconds = 0, 0.0
        self._closed = False
        self._kind = choice.kind
        if choice.kind == "serial":
            self._parts = [blocks]
            worker = _LockstepWorker()
            with ex.numba_threads_scope(numba_threads):
                worker._build(_WorkerSpec((init, step), seed, tuple(blocks), self._max_order,
                                          states=self._saved_states(blocks)))
            self._holders = [_LocalHolder(worker, numba_threads)]
            return
        self._payload = ex.dumps((init, step), "init/step")
        try:
            if choice.kind == "processes":
                cores = ex.usable_cpus()
                n = min(cores if choice.max_workers is None else choice.max_workers, num_blocks)
                self._threads = [ex.numba_budget(n, numba_threads)] * n
                self._parts = _split(blocks, n)
                self._holders = [_ProcessHolder(threads) for threads in self._threads]
            else:
                self._client = choice.target
                self._place_actors(blocks, choice.max_workers)
            futures = [holder.submit("build", (self._spec(k),))
                       for k, holder in enumerate(self._holders)]
            for k, future in enumerate(futures):
                self._outcome_with_recovery(k, future, "build", None)
        except BaseException:
            self.close()
            raise

    # ---- workers -----------------------------------------------------------------
    def _place_actors(self, blocks, max_workers):
        nthreads = self._client.nthreads()
        if not nthreads:
            raise ValueError("the Dask cluster has no workers")
        # One slot per Dask thread, taking the workers in turn so that actors spread
        # over workers before doubling up on one.
        slots = [address for level in range(max(nthreads.values()))
                 for address in sorted(nthreads) if nthreads[address] > level]
        n = min(len(slots), len(blocks), max_workers or len(slots))
        self._dask_threads = ex.dask_numba_threads(self._client, self._numba_threads)
        self._parts = _split(blocks, n)
        self._holders = [_ActorHolder(self._client, address) for address in slots[:n]]
        self._threads = [self._dask_threads[address] for address in slots[:n]]

    def _saved_states(self, part):
        if not self._saved_step:
            return None
        return [self._store.load(block) for block, _, _ in part]

    def _spec(self, k):
        part = self._parts[k]
        return _WorkerSpec(self._payload, self._seed, tuple(part), self._max_order,
                           self._threads[k], self._saved_states(part), tuple(self._history))

    def _replace(self, k):
        """Part ``k`` on a fresh worker, rebuilt from the seeds or the last checkpoint and
        replayed through the shared arguments since then; returns the build's future."""
        holder = self._holders[k]
        if self._kind == "processes":
            holder.replace()
        else:
            address = self._live_address(exclude=holder.address)
            if address not in self._dask_threads:
                self._dask_threads = ex.dask_numba_threads(self._client, self._numba_threads)
            self._threads[k] = self._dask_threads.get(address, 1)
            holder.replace(address)
        self._replacements += 1
        return holder.submit("build", (self._spec(k),))

    def _live_address(self, exclude):
        """The live Dask worker (not ``exclude``) holding the fewest of our actors."""
        deadline = time.monotonic() + 60.0
        while True:
            alive = [a for a in self._client.nthreads() if a != exclude]
            if alive:
                load = {a: sum(h.address == a for h in self._holders) for a in alive}
                return min(sorted(alive), key=load.get)
            if time.monotonic() > deadline:
                raise EnsembleError("no live Dask worker to rebuild the lost realizations on")
            time.sleep(0.1)

    def _outcome_with_recovery(self, k, future, method, args):
        """The result of ``future`` (a call of ``method`` on part ``k``); if the worker died,
        rebuild the part on a fresh one and call again, up to max_retries times."""
        holder, losses = self._holders[k], 0
        while True:
            kind, value = holder.outcome(future)
            if kind == "ok":
                return value
            while kind != "ok":  # rebuild until a fresh worker holds the part
                losses += 1
                if losses > self._max_retries:
                    part = self._parts[k]
                    ranges = [(part[0][1], part[-1][1] + part[-1][2])]
                    raise EnsembleError(
                        f"the worker holding realizations {ranges[0][0]}..{ranges[0][1] - 1} "
                        f"died {losses} times (max_retries={self._max_retries}) during {method} "
                        f"after step {self._num_steps}: {type(value).__name__}: {value}",
                        failed=ranges, missing=ranges) from value
                t0 = time.perf_counter()
                kind, value = holder.outcome(self._replace(k))
                self._recovery_seconds += time.perf_counter() - t0
            if method == "build":
                return None
            future = holder.submit(method, args)

    def _call(self, method, *args):
        if self._closed:
            raise ValueError("the LockstepEnsemble is closed")
        if self._kind == "serial":
            return [self._holders[0].outcome(self._holders[0].submit(method, args))[1]]
        try:
            futures = [holder.submit(method, args) for holder in self._holders]
            results, error = [], None
            # Every worker's reply is awaited before an error is raised, so that no
            # call is left running behind the next one.
            for k, future in enumerate(futures):
                try:
                    results.append(self._outcome_with_recovery(k, future, method, args))
                except EnsembleError:
                    raise
                except Exception as exc:
                    error = error or exc
            if error is not None:
                raise error
            return results
        except EnsembleError:
            self.close()
            raise
        except BaseException as exc:
            if not isinstance(exc, Exception):
                self.close()  # interrupted: the workers are out of step
            raise

    def _merge(self, parts):
        chunks = sorted((chunk for part in parts for chunk in part), key=lambda c: c.index)
        total, keyed = None, None
        for chunk in chunks:
            total, keyed = merge_chunk(total, keyed, chunk, self._max_order)
        return total if keyed else total[VALUE_KEY]

    # ---- the public interface ----------------------------------------------------------
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
        if self._kind == "serial":
            parts = self._call("step", shared)
        else:
            data = ex.dumps(shared, "shared")
            parts = self._call("step", data, True)
            self._history.append(data)
        result = self._merge(parts)
        self._num_steps += 1
        if self._store is not None and self._num_steps % self._checkpoint_every == 0:
            self._store.save(self._num_steps, sorted(
                (block for part in self._call("states") for block in part),
                key=lambda item: item[0]))
            self._saved_step, self._history = self._num_steps, []
        return result

    def reduce(self, observable):
        """Moments over realizations of ``observable(state)`` (states unchanged).

        Parameters
        ----------
        observable : callable
            ``observable(state) -> float | ndarray | dict``; picklable for workers;
            it must not change the state.

        Returns
        -------
        StreamingMoments or dict of str to StreamingMoments
        """
        if not callable(observable):
            raise TypeError(f"'observable' must be callable, got {type(observable).__name__}")
        payload = observable if self._kind == "serial" else ex.dumps(observable, "observable")
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
        return len(self._holders) if self._kind != "serial" else 1

    @property
    def num_steps(self):
        """Steps taken so far (including those before a resumed checkpoint)."""
        return self._num_steps

    @property
    def executor(self):
        """``"serial"``, ``"processes"`` or ``"dask"``."""
        return self._kind

    @property
    def worker_replacements(self):
        """How many times a lost worker was replaced (its states rebuilt)."""
        return self._replacements

    @property
    def recovery_seconds(self):
        """Wall time spent rebuilding lost workers."""
        return self._recovery_seconds

    def close(self):
        """End the worker processes or release the Dask actors (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for holder in self._holders:
            try:
                holder.close()
            except Exception:  # pragma: no cover - a client already gone
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
