"""Chunks of realizations: the unit of work and of reduction of the ensembles.

A chunk is realizations ``first, ..., first + count - 1`` of an ensemble; realization
``r`` of seed ``s`` draws from the ``r``-th spawned ``SeedSequence`` of ``s``
(:func:`chargetransport.realization_seeds`). A worker evaluates a chunk in realization
order into one :class:`~chargetransport.streaming_moments.StreamingMoments` per key of the
observable's dict (the key ``"value"`` for an observable that returns a number or an
array); the calling process merges chunks in chunk order. The arithmetic therefore
depends on the chunk boundaries only, never on where or when a chunk ran.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._executors import annotate, loads
from ._validation import check_memory
from .rng import iter_realization_seeds
from .streaming_moments import StreamingMoments

__all__ = []

#: The key under which a non-dict observable is stored.
VALUE_KEY = "value"


@dataclasses.dataclass(frozen=True)
class ChunkTask:
    """Realizations ``first, ..., first + count - 1``: what a worker evaluates.

    ``observable`` is the callable, or its pickle for other processes; ``keep_samples``
    is ``None`` (keep nothing), ``True`` (every key) or a tuple of keys.
    """

    index: int
    first: int
    count: int
    observable: object
    seed: object
    max_order: int
    keep_samples: object = None


@dataclasses.dataclass(frozen=True)
class ChunkResult:
    """The accumulated chunk: ``moments`` (key -> StreamingMoments), ``keyed`` (whether the
    observable returned a dict) and, with ``keep_samples``, ``samples`` (key -> array of
    shape ``(count,) + shape``, in realization order)."""

    index: int
    first: int
    count: int
    keyed: bool
    moments: dict
    samples: dict = None

    @property
    def stop(self):
        return self.first + self.count


def chunk_tasks(observable, seed, start, num_realizations, chunk_size, max_order,
                keep_samples=None, skip=frozenset()):
    """The tasks of chunks ``0, 1, ...`` not in ``skip``, generated lazily."""
    for c in range(math.ceil(num_realizations / chunk_size)):
        if c in skip:
            continue
        first = start + c * chunk_size
        yield ChunkTask(c, first, min(chunk_size, start + num_realizations - first), observable,
                        seed, max_order, keep_samples)


def run_chunk(task):
    """Evaluate a :class:`ChunkTask` in realization order into a :class:`ChunkResult`."""
    observable = loads(task.observable)
    acc, keyed, kept = None, False, {}
    for i, seed_sequence in enumerate(iter_realization_seeds(task.seed, task.first, task.count)):
        try:
            value = observable(seed_sequence)
            acc, keyed = accumulate(acc, value, task.max_order, task.first + i, keyed)
            if task.keep_samples is not None:
                keep_values(kept, value, task.keep_samples, keyed)
                if i == 0:  # now the size of a realization's samples is known
                    size = sum(values[0].nbytes for values in kept.values())
                    check_memory("num_realizations", size * task.count,
                                 f"keeping the samples of a chunk of {task.count} realizations",
                                 "keep fewer keys, or split the run into several with 'start'")
        except Exception as exc:
            annotate(exc, f"while evaluating realization {task.first + i} of the ensemble "
                          f"(seed {task.seed!r})")
            raise
    samples = None
    if task.keep_samples is not None:
        samples = {key: np.stack(values) for key, values in kept.items()}
    return ChunkResult(task.index, task.first, task.count, keyed, acc, samples)


# --------------------------------------------------------------------------------------
# Keyed accumulation
# --------------------------------------------------------------------------------------
def split_observation(value):
    """``(dict key -> value, keyed)`` for what an observable returned."""
    if isinstance(value, dict):
        if not value:
            raise ValueError("the observable returned an empty dict")
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"the observable's dict keys must be str, got {type(key).__name__}")
        return value, True
    return {VALUE_KEY: value}, False


def accumulate(acc, value, max_order, realization, keyed):
    """Add one realization's observation to ``acc`` (dict of StreamingMoments or None)."""
    items, is_dict = split_observation(value)
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


def merge_chunk(total, keyed, chunk, max_order):
    """Merge a :class:`ChunkResult`'s accumulators into ``total`` (dict or None);
    returns the new ``(total, keyed)``."""
    if total is None:
        total = {key: StreamingMoments(max_order) for key in chunk.moments}
        keyed = chunk.keyed
    elif chunk.keyed != keyed or chunk.moments.keys() != total.keys():
        raise ValueError(f"the observable returned {_describe(chunk.moments, chunk.keyed)} from "
                         f"realization {chunk.first} on, but {_describe(total, keyed)} before")
    for key, part in chunk.moments.items():
        if total[key].shape is not None and part.shape != total[key].shape:
            what = f"observable()[{key!r}]" if keyed else "observable()"
            raise ValueError(f"{what} must have shape {total[key].shape} (that of the earlier "
                             f"realizations), got {part.shape} from realization {chunk.first} on")
        total[key].merge(part)
    return total, keyed


def keep_values(kept, value, keep_samples, keyed):
    """Append the kept keys of one realization's observation to ``kept`` (lists by key)."""
    items = value if keyed else {VALUE_KEY: value}
    keys = list(items) if keep_samples is True else keep_samples
    for key in keys:
        if key not in items:
            raise ValueError(f"'keep_samples' names the key {key!r}, but the observable "
                             f"returned {sorted(items) if keyed else 'a non-dict'}")
        kept.setdefault(key, []).append(np.array(items[key], dtype=float))
