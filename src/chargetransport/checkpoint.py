"""Checkpoints: results written as they complete, so that an interrupted run can resume.

A checkpoint is a directory holding ``manifest.json``, the arguments that define the
arithmetic of the run (a rerun with other arguments is refused with a ``ValueError``),
and one small file per completed unit of work. Every file is written atomically (a
temporary file in the same directory, flushed to disk, then renamed over the final
name), so that a file is either complete or absent, whatever kills the process.

* :class:`ChunkCheckpoint`: the chunks of :func:`chargetransport.ensemble_average`,
  ``chunk-<c>.npz`` each: the chunk's :class:`~chargetransport.streaming_moments.StreamingMoments`
  states and kept samples, as plain arrays (read without unpickling anything). Its
  chunks do not depend on the number of realizations of the run, so a run is
  extended by running it again with more; the stored results of
  :mod:`chargetransport.studies` are such checkpoints.
* :class:`StateCheckpoint`: the states of a :class:`chargetransport.LockstepEnsemble`,
  ``step-<n>/block-<b>.pkl`` (pickled, since a state is any object), and
  ``latest.json``, the last step whose blocks are all written.

:func:`callable_fingerprint` and :func:`chargetransport.rng.seed_fingerprint` describe an
observable and a seed in a manifest. Only open checkpoints you wrote: a state file is a pickle.

Examples
--------
>>> import tempfile, numpy as np
>>> from chargetransport._chunks import ChunkResult
>>> from chargetransport.streaming_moments import StreamingMoments
>>> folder = tempfile.mkdtemp()
>>> store = ChunkCheckpoint(folder, {"seed": 1, "chunk_size": 2})
>>> chunk = ChunkResult(0, 0, 2, False, {"value": StreamingMoments().extend([1.0, 2.0])})
>>> store.write(chunk)
>>> sorted(ChunkCheckpoint(folder, {"seed": 1, "chunk_size": 2}).completed())
[0]
>>> float(store.read(0).moments["value"].mean)
1.5
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import io
import json
import os
import pickle
import re
import shutil
import tempfile

import numpy as np

from ._chunks import ChunkResult
from .streaming_moments import StreamingMoments

__all__ = ["ChunkCheckpoint", "StateCheckpoint", "atomic_write", "callable_fingerprint"]

MANIFEST = "manifest.json"


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that ``path`` is never seen half written.

    The bytes go to a temporary file in the same directory, which is flushed to disk
    (``fsync``) and renamed over ``path`` (``os.replace``, atomic on POSIX).
    """
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------
# Fingerprints
# --------------------------------------------------------------------------------------
def _qualified_name(obj):
    module = getattr(obj, "__module__", None) or type(obj).__module__
    return f"{module}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _canonical(obj, out):
    """Feed a canonical encoding of ``obj`` to the hash ``out`` (stable across processes:
    sets and dicts are sorted, arrays by dtype, shape and bytes, functions by name)."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        out.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        arr = np.ascontiguousarray(obj)
        out.update(f"array:{arr.dtype.str}:{arr.shape}:".encode())
        out.update(arr.tobytes() if arr.dtype != object else pickle.dumps(arr.tolist(), 4))
    elif isinstance(obj, (list, tuple)):
        out.update(f"{type(obj).__name__}[{len(obj)}]".encode())
        for item in obj:
            _canonical(item, out)
    elif isinstance(obj, dict):
        out.update(f"dict[{len(obj)}]".encode())
        for key in sorted(obj, key=repr):
            _canonical(key, out)
            _canonical(obj[key], out)
    elif isinstance(obj, (set, frozenset)):
        out.update(f"set[{len(obj)}]".encode())
        for item in sorted(obj, key=repr):
            _canonical(item, out)
    elif isinstance(obj, functools.partial) or inspect.isroutine(obj) or inspect.isclass(obj):
        out.update(json.dumps(callable_fingerprint(obj), sort_keys=True).encode())
    else:
        out.update(f"object:{_qualified_name(type(obj))}:".encode())
        state = getattr(obj, "__dict__", None)
        if state is not None:
            _canonical(state, out)
        else:
            out.update(pickle.dumps(obj, 4))


def callable_fingerprint(fn):
    """A JSON-able description of a callable: its qualified name and a digest of its
    bound arguments (``functools.partial`` arguments, a bound method's object, a callable
    object's attributes), stable across processes.

    Examples
    --------
    >>> import functools
    >>> a = callable_fingerprint(functools.partial(divmod, 7))
    >>> a == callable_fingerprint(functools.partial(divmod, 7)), a["callable"]
    (True, 'builtins.divmod')
    >>> a == callable_fingerprint(functools.partial(divmod, 8))
    False
    """
    args, keywords = [], {}
    while isinstance(fn, functools.partial):
        args = list(fn.args) + args
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    bound = None
    if inspect.ismethod(fn):
        bound = fn.__self__
    elif not (inspect.isroutine(fn) or inspect.isclass(fn)):
        bound, fn = fn, type(fn)  # a callable object: its class and its state
    digest = hashlib.sha256()
    _canonical((bound, args, keywords), digest)
    return {"callable": _qualified_name(fn), "arguments": digest.hexdigest()[:32]}


# --------------------------------------------------------------------------------------
# Checkpoint directories
# --------------------------------------------------------------------------------------
class _Checkpoint:
    """A directory with a manifest that must match the run's."""

    def __init__(self, directory, manifest):
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        manifest = json.loads(json.dumps(manifest))  # JSON-normalised (tuples -> lists)
        path = os.path.join(self.directory, MANIFEST)
        if os.path.exists(path):
            with open(path) as fh:
                found = json.load(fh)
            if found != manifest:
                keys = sorted(set(found) | set(manifest))
                diffs = [f"{key}: {found.get(key)!r} in the checkpoint, {manifest.get(key)!r} now"
                         for key in keys if found.get(key) != manifest.get(key)]
                raise ValueError(f"the checkpoint {self.directory!r} belongs to another run "
                                 f"({'; '.join(diffs)}); resume with the same arguments, or use "
                                 "a new directory (or delete this one) to start afresh")
        else:
            atomic_write(path, json.dumps(manifest, indent=1, sort_keys=True).encode())
        self.manifest = manifest

    def _path(self, name):
        return os.path.join(self.directory, name)


_CHUNK_FILE = re.compile(r"chunk-(\d+)\.npz")


class ChunkCheckpoint(_Checkpoint):
    """Completed chunks of one ensemble, a file ``chunk-<c>.npz`` each.

    The files are plain NPZ archives (``numpy.load(..., allow_pickle=False)`` reads
    them without this package): ``meta``, a JSON string (``index``, ``first``,
    ``count``, ``keyed``, ``keys``, ``max_order``, ``samples``), and for the ``i``-th
    key ``count_i``, ``mean_i``, ``power_sums_i`` (its
    :meth:`~chargetransport.statistics.StreamingMoments.to_state`) and, if kept,
    ``samples_i`` (the observations of the chunk's realizations, in order).

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing.
    manifest : dict
        JSON-able arguments that define the run's arithmetic; must equal the
        manifest already in ``directory``, if any (else ``ValueError``).
    chunk_size : int, optional
        Realizations per chunk. With it, chunk ``c`` of a run of ``R`` realizations
        holds ``min(chunk_size, R - c * chunk_size)`` of them: a full chunk is the same
        whatever ``R``, so a run of more realizations reuses every full chunk of a
        shorter one (the manifest then need not, and should not, name ``R``), and the
        shorter last chunk of a run is stored apart, as ``chunk-<c>-count-<n>.npz``.
        Without it every chunk goes to ``chunk-<c>.npz``.
    """

    def __init__(self, directory, manifest, *, chunk_size=None):
        super().__init__(directory, manifest)
        self.chunk_size = chunk_size

    def _count(self, index, num_realizations):
        """Realizations of chunk ``index`` in a run of ``num_realizations``."""
        return min(self.chunk_size, num_realizations - index * self.chunk_size)

    def _name(self, index, count=None):
        if self.chunk_size is not None and count is not None and count < self.chunk_size:
            return f"chunk-{index}-count-{count}.npz"
        return f"chunk-{index}.npz"

    def completed(self, num_realizations=None):
        """Indices of the chunks on disk (a set).

        With ``num_realizations`` (and a ``chunk_size``): those of a run of that many
        realizations, the last one only if it is on disk with its own count.
        """
        names = os.listdir(self.directory)
        if num_realizations is None:
            return {int(m.group(1)) for name in names if (m := _CHUNK_FILE.fullmatch(name))}
        if self.chunk_size is None:
            raise ValueError("'num_realizations' needs a checkpoint with a 'chunk_size'")
        num_chunks = -(-num_realizations // self.chunk_size)
        names = set(names)
        return {c for c in range(num_chunks)
                if self._name(c, self._count(c, num_realizations)) in names}

    def write(self, chunk):
        """Write a :class:`~chargetransport._chunks.ChunkResult` (atomically)."""
        keys = list(chunk.moments)
        meta = {"index": chunk.index, "first": chunk.first, "count": chunk.count,
                "keyed": chunk.keyed, "keys": keys,
                "max_order": next(iter(chunk.moments.values())).max_order,
                "samples": chunk.samples is not None}
        arrays = {"meta": np.array(json.dumps(meta))}
        for i, key in enumerate(keys):
            state = chunk.moments[key].to_state()
            arrays[f"count_{i}"] = np.array(state["count"])
            arrays[f"mean_{i}"] = state["mean"]
            arrays[f"power_sums_{i}"] = state["power_sums"]
            if chunk.samples is not None and key in chunk.samples:
                arrays[f"samples_{i}"] = chunk.samples[key]
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write(self._path(self._name(chunk.index, chunk.count)), buffer.getvalue())

    def read(self, index, count=None):
        """The :class:`~chargetransport._chunks.ChunkResult` of chunk ``index``, bit for bit
        (``count``: its number of realizations, to find a short last chunk)."""
        name = self._name(index, count)
        with np.load(self._path(name), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta["index"] != index or count not in (None, meta["count"]):
                raise ValueError(f"the checkpoint file {name} holds chunk {meta['index']} of "
                                 f"{meta['count']} realizations")
            moments, samples = {}, ({} if meta["samples"] else None)
            for i, key in enumerate(meta["keys"]):
                moments[key] = StreamingMoments.from_state({
                    "max_order": meta["max_order"], "count": int(data[f"count_{i}"]),
                    "mean": data[f"mean_{i}"], "power_sums": data[f"power_sums_{i}"]})
                if samples is not None and f"samples_{i}" in data:
                    samples[key] = data[f"samples_{i}"]
        return ChunkResult(meta["index"], meta["first"], meta["count"], meta["keyed"], moments,
                           samples)


_STEP_DIR = re.compile(r"step-(\d+)")


class StateCheckpoint(_Checkpoint):
    """States of blocks of realizations after a given step.

    :meth:`save` writes ``step-<n>/block-<b>.pkl`` for every block, then
    ``latest.json`` (the commit), then deletes older steps; :attr:`step` is the last
    committed step (0: none), :meth:`load` reads a block's states of that step.
    """

    @property
    def step(self):
        """The last step whose states are all on disk (0 if none)."""
        try:
            with open(self._path("latest.json")) as fh:
                return int(json.load(fh)["step"])
        except FileNotFoundError:
            return 0

    def save(self, step, blocks):
        """Write the states of ``blocks`` (pairs ``(block index, list of states)``) after
        ``step``, and commit them."""
        folder = self._path(f"step-{step}")
        os.makedirs(folder, exist_ok=True)
        for block, states in blocks:
            atomic_write(os.path.join(folder, f"block-{block}.pkl"),
                         pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL))
        atomic_write(self._path("latest.json"), json.dumps({"step": step}).encode())
        for name in os.listdir(self.directory):
            m = _STEP_DIR.fullmatch(name)
            if m and int(m.group(1)) != step:
                shutil.rmtree(self._path(name), ignore_errors=True)

    def load(self, block):
        """The states of ``block`` after :attr:`step`."""
        with open(os.path.join(self._path(f"step-{self.step}"), f"block-{block}.pkl"), "rb") as fh:
            return pickle.load(fh)
