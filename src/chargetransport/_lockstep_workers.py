"""Lock-step workers: where the states of a lock-step ensemble live, and how they are rebuilt.

The machinery behind :class:`chargetransport.lockstep.LockstepEnsemble` (the
self-consistent Hartree-Fock dynamics of section 6): a :class:`_LockstepWorker` holds
whole blocks of realizations, builds them from their seeds (or from checkpointed states)
and replays the shared arguments of the steps taken, so that a rebuilt worker equals a
lost one bit for bit; it steps and reduces them block by block. A holder places one
worker here (:class:`_LocalHolder`), in a dedicated worker process
(:class:`_ProcessHolder`) or in a Dask actor (:class:`_ActorHolder`), and tells a
result from a lost worker.
"""
from __future__ import annotations

import dataclasses
import pickle

from . import _executors as ex
from ._chunks import ChunkResult, accumulate
from .rng import iter_realization_seeds


@dataclasses.dataclass(frozen=True)
class _WorkerSpec:
    """What a worker needs to build (or rebuild) its part of the ensemble.

    ``blocks``: ``(block index, first realization, count)`` per block; ``states``: the
    states of each block to start from (else built by ``init`` from the seeds);
    ``history``: the pickled shared arguments of the steps taken since those states.
    """

    payload: object
    seed: object
    blocks: tuple
    max_order: int
    numba_threads: object = None
    states: list = None
    history: tuple = ()


class _LockstepWorker:
    """Holds whole blocks of realizations; steps and reduces them block by block.

    Made empty, then :meth:`_build` from the seeds (``states=None``) or from given
    states, and advanced through ``history`` (pickled shared arguments of the steps
    taken since those states): a rebuilt worker equals the lost one bit for bit.
    """

    def __init__(self):
        self._blocks = []

    def call(self, method, *args):
        """``method(*args)``; exceptions of the caller's code are returned, not raised."""
        return ex.guarded(getattr(self, "_" + method), *args)

    def _build(self, spec):
        self._numba_threads = spec.numba_threads
        ex.set_numba_threads(spec.numba_threads)
        init, self._step_fn = ex.loads(spec.payload)
        self._max_order = spec.max_order
        self._blocks = []
        for k, (block, first, count) in enumerate(spec.blocks):
            if spec.states is not None:
                self._blocks.append((block, first, list(spec.states[k])))
                continue
            block_states = []
            for i, seed_sequence in enumerate(iter_realization_seeds(spec.seed, first, count)):
                try:
                    block_states.append(init(seed_sequence))
                except Exception as exc:
                    ex.annotate(exc, f"while initialising realization {first + i}")
                    raise
            self._blocks.append((block, first, block_states))
        for shared in spec.history:
            self._apply(self._step_fn, (pickle.loads(shared),), True, "step", reduce=False)

    def _apply(self, fn, args, replace, label, reduce=True):
        ex.set_numba_threads(self._numba_threads)
        out = []
        for block, first, states in self._blocks:
            acc, keyed = None, False
            for i, state in enumerate(states):
                try:
                    if replace:
                        states[i], value = fn(state, *args)
                    else:
                        value = fn(state, *args)
                    if reduce:
                        acc, keyed = accumulate(acc, value, self._max_order, first + i, keyed)
                except Exception as exc:
                    ex.annotate(exc, f"while applying {label} to realization {first + i}")
                    raise
            out.append(ChunkResult(block, first, len(states), keyed, acc))
        return out

    def _step(self, shared, pickled=False):
        return self._apply(self._step_fn, (pickle.loads(shared) if pickled else shared,), True,
                           "step")

    def _reduce(self, payload):
        return self._apply(ex.loads(payload), (), False, "the observable")

    def _states(self):
        return [(block, list(states)) for block, _, states in self._blocks]


# --------------------------------------------------------------------------------------
# Where the blocks live: here, in a worker process, or in a Dask actor. A holder's
# submit(method, args) returns a future (or the value, here); outcome(future) is
# ("ok", value) or ("lost", exc) when the worker died, and re-raises the exceptions
# of the caller's code.
# --------------------------------------------------------------------------------------
class _LocalHolder:
    def __init__(self, worker, numba_threads):
        self.worker, self.numba_threads = worker, numba_threads

    def submit(self, method, args):  # here: the caller's exceptions propagate as they are
        with ex.numba_threads_scope(self.numba_threads):
            return getattr(self.worker, "_" + method)(*args)

    @staticmethod
    def outcome(result):
        return "ok", result

    def close(self):
        self.worker = None


# The lock-step worker of this process (each worker process holds one).
_PROCESS_WORKER = None


def _call_in_process(method, args):
    global _PROCESS_WORKER
    if method == "build":
        _PROCESS_WORKER = _LockstepWorker()
    return _PROCESS_WORKER.call(method, *args)


class _ProcessHolder:
    """A worker process (a ProcessPool of one, restarted if it dies)."""

    def __init__(self, numba_threads):
        self.pool = ex.ProcessPool(1, numba_threads)

    def submit(self, method, args):
        return self.pool.submit(_call_in_process, method, args)

    @staticmethod
    def outcome(future):
        exc = future.exception()
        if isinstance(exc, ex.cf.BrokenExecutor):
            return "lost", exc
        if exc is not None:
            raise exc
        return "ok", ex.unwrap(future.result(), "in a lock-step worker process")

    def replace(self):
        self.pool.restart()

    def close(self):
        self.pool.close()


class _FailedCall:
    """A call that could not be made: its result raises."""

    def __init__(self, exc):
        self.exc = exc

    def result(self):
        raise self.exc


class _ActorHolder:
    """A Dask actor on a given worker (made afresh on another if that worker dies)."""

    def __init__(self, client, address):
        self.client, self.address = client, address
        self.future = self.actor = None

    def submit(self, method, args):
        try:
            if self.actor is None:
                self.future = self.client.submit(_LockstepWorker, actor=True,
                                                 workers=[self.address], pure=False)
                self.actor = self.future.result()
            return self.actor.call(method, *args)
        except Exception as exc:  # the worker is gone
            return _FailedCall(exc)

    @staticmethod
    def outcome(future):
        try:
            result = future.result()
        except Exception as exc:  # the actor's worker is gone (its own errors come back)
            return "lost", exc
        return "ok", ex.unwrap(result, "in a lock-step Dask actor")

    def replace(self, address):
        self.close()
        self.address = address

    def close(self):
        if self.future is not None:
            self.client.cancel([self.future])
        self.future = self.actor = None


def _split(items, n):
    """``n`` contiguous, near-equal, non-empty parts of ``items`` (``n <= len(items)``)."""
    q, r = divmod(len(items), n)
    parts, i = [], 0
    for k in range(n):
        size = q + (k < r)
        parts.append(items[i:i + size])
        i += size
    return parts
