"""Production studies: named ensembles beyond the book's budget, stored with their provenance.

Some points worth showing (more realizations, smaller ``eta``, ``d = 3``) cost more
than a chapter may spend when the book is built (the experiments of sections 2-6 of
Chen's lectures). A *study* is such an ensemble, defined once (:class:`Study`: a
per-realization observable of the package, its parameters, a master seed, a number of
realizations; the registered ones in :mod:`~chargetransport.study_catalogue`) and
computed once, off the book, by::

    python -m chargetransport.studies list
    python -m chargetransport.studies run NAME [--executor serial|processes|dask]
        [--max-workers N] [--scheduler tcp://host:8786] [--realizations N] [--out DIR]
    python -m chargetransport.studies show NAME
    python -m chargetransport.studies verify [NAME] [--realization R ...]

``run`` is :func:`chargetransport.ensemble_average` with ``keep_samples=True`` and
``checkpoint=<out>/<name>/chunks``: the checkpoint's chunk files *are* the stored
per-realization results (plain NPZ, see :class:`~chargetransport.checkpoint.ChunkCheckpoint`),
written as chunks complete, so that an interrupted run resumes where it stopped, and
``--realizations N`` extends a study; either way the result over realizations
``0, ..., N-1`` is the same, bit for bit, whatever the executor. ``<out>/<name>/provenance.json``
holds the study's definition and one entry per session (``run`` call): package version,
git commit, UTC start and end, machine, executor, chunks computed and resumed. The
default ``<out>`` is ``data/studies`` of the repository. Chapters plot the stored
results beside their own runs with :func:`load_study` (and :func:`format_provenance`
for the caption); ``verify`` recomputes stored realizations from their seeds and
compares them bit for bit (tests/test_studies.py does so for every stored study). Bit
for bit holds on one instruction set (see :func:`instruction_set`, recorded in every
session); a machine with another one (AVX2 instead of AVX-512, say) rounds NumPy's
vectorised ``exp``, ``sin``, ... differently and recomputes a realization equal to
rounding, within :data:`ROUNDING_TOLERANCE` of the values' scale.

In a chapter (``from chargetransport import studies``; this module is not imported by
``import chargetransport``, so that ``python -m`` runs it cleanly)::

    stored = studies.load_study("relaxation_2d_eta0.2")
    ax.errorbar(x, stored.mean["survival"], yerr=stored.standard_error["survival"],
                fmt="s", mfc="none", label=stored.label)      # "stored study (32 realizations)"
    print(stored.caption())                                   # the provenance, three lines

Adding a study: add its definition to :mod:`chargetransport.study_catalogue`,
``_define(name=..., function=<a module-level function of the package, seed first>,
parameters=dict(...), keys=(<small keys only>), seed=..., num_realizations=...,
extends="<chapter>: <experiment>", description=...)`` (the keyword arguments of
:class:`Study`; this module registers every definition of the catalogue when it is
imported); run ``python -m chargetransport.studies run <name>``, check ``verify``, and
commit ``data/studies/<name>/``. No stored file may exceed :data:`MAX_FILE_BYTES`
(checked after the first chunk): keep only small keys, or lower ``chunk_size``.

Behind this front door: ``_study_storage`` (a study on disk, :class:`StudyResult`,
:func:`stored_studies`, :func:`format_provenance`),
``_study_sessions`` (a run's lock, executor and record), ``_study_cli`` (the command line).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import json
import math
import re
import time

import numpy as np

from . import study_catalogue
from ._study_sessions import (_check_executor, _difference, _exclusive, _executor_for,
                              _git_state, _machine, _now, _stored_here, _versions,
                              instruction_set)
from ._study_storage import (CHUNKS, PROVENANCE, StudyResult, _check_definition,
                             _check_file_sizes, _ensemble, _read_json, _remove_partial_writes,
                             _stored_realizations, _study_directory, _write_json, default_out,
                             format_provenance, stored_studies)
from ._validation import check_int
from .checkpoint import MANIFEST, ChunkCheckpoint, callable_fingerprint
from .rng import realization_seeds
from .streaming_moments import MAX_ORDER

__all__ = ["MAX_FILE_BYTES", "ROUNDING_TOLERANCE", "Study", "StudyResult", "default_out",
           "format_provenance", "get_study", "instruction_set", "load_study", "register",
           "reproduces", "run_study", "stored_studies", "study_names", "verify_study"]

#: Largest stored file (bytes): results live in the repository, so every file stays small.
MAX_FILE_BYTES = 4 * 2**20

#: Largest difference, relative to ``max(1, max |stored value|)``, between a stored
#: realization and its recomputation on a machine of another instruction set that
#: :func:`verify_study` calls equal to rounding. Measured on every stored study between
#: AVX-512 (Zen 4) and AVX2 (Zen 3) hosts: at most 5e-15 (the stored observables are
#: probabilities, pairings of normalised states, currents and displacements; rounding
#: errors of 1e-16 per step stay small in the linear, norm-preserving dynamics), while
#: another seed or parameter changes them at the percent level.
ROUNDING_TOLERANCE = 1e-12

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# --------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------
def _observe(seed, *, function, parameters, keys):
    """A study's observable: ``function(seed, **parameters)``, restricted to ``keys``."""
    value = function(seed, **parameters)
    if keys is None:
        return value
    if not isinstance(value, dict):
        raise TypeError(f"the study names keys {list(keys)}, but {function.__qualname__} "
                        f"returned {type(value).__name__}, not a dict")
    return {key: value[key] for key in keys}


def _qualified_name(function):
    return f"{function.__module__}.{function.__qualname__}"


def _check_function(function):
    """A module-level function that worker processes can import by name."""
    if not callable(function):
        raise TypeError(f"'function' must be callable, got {type(function).__name__}")
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    found = None
    if module and "<locals>" not in qualname and module != "__main__":
        with contextlib.suppress(ImportError, AttributeError):
            found = functools.reduce(getattr, qualname.split("."), importlib.import_module(module))
    if found is not function:
        raise ValueError(f"'function' must be a module-level function importable by name (such "
                         f"as kinetic_limit.plane_wave_relaxation), got {function!r}")
    return function


def _jsonable(name, value):
    """``value`` as it reads back from JSON (tuples become lists); ``TypeError`` if it is
    not plain JSON data (numbers, strings, lists, dicts), or does not read back equal."""
    try:
        normal = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"'{name}' must be plain JSON data (numbers, str, lists, dicts; convert "
                        f"arrays with .tolist()): {exc}") from None
    if normal != json.loads(json.dumps(normal)) or _as_lists(value) != normal:
        raise TypeError(f"'{name}' must be plain JSON data, got {value!r}")
    return normal


def _as_lists(value):
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Study:
    """A named ensemble, computed off the book and stored under ``<out>/<name>/``.

    Parameters
    ----------
    name : str
        Letters, digits, ``_``, ``.`` and ``-`` (it names a directory).
    function : callable
        ``function(seed_sequence, **parameters)``, a module-level function of the
        package (e.g. :func:`chargetransport.kinetic_limit.plane_wave_relaxation`):
        one realization, from its ``numpy.random.SeedSequence``.
    parameters : dict
        Its keyword arguments, as plain JSON data (lists, not arrays): they are
        stored in ``provenance.json`` exactly as the function receives them.
    seed : int
        Master seed: realization ``r`` draws from ``realization_seeds(seed, 1, start=r)[0]``.
    num_realizations : int
        Realizations of ``run`` (``--realizations`` asks for more).
    extends : str
        What the study extends, such as ``"boltzmann_limit: Experiment 1, d = 2"``.
    description : str
        One or two sentences.
    keys : tuple of str, optional
        The keys of the function's dict that are stored (default all): only small
        ones, since every realization's values are kept.
    chunk_size : int, default 1
        Realizations per stored file (fixes the reduction order).
    max_order : int, default 2
        Highest central moment accumulated.

    Examples
    --------
    >>> from chargetransport import kinetic_limit
    >>> tiny = Study("tiny", kinetic_limit.plane_wave_relaxation,
    ...              dict(d=2, L=16, eta=0.5, momentum=(0.125, 0.25), T=[0.0, 1.0]),
    ...              seed=1, num_realizations=4, extends="nothing", description="An example.",
    ...              keys=("survival",))
    >>> tiny.parameters["momentum"]       # as stored in provenance.json
    [0.125, 0.25]
    >>> tiny.observable(realization_seeds(1, 1)[0])["survival"].shape
    (2,)
    """

    name: str
    function: object
    parameters: dict
    seed: int
    num_realizations: int
    extends: str
    description: str
    keys: tuple = None
    chunk_size: int = 1
    max_order: int = 2

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError("'name' must be letters, digits, '_', '.' and '-' (a directory "
                             f"name), got {self.name!r}")
        _check_function(self.function)
        if not isinstance(self.parameters, dict) or not all(isinstance(k, str)
                                                            for k in self.parameters):
            raise TypeError("'parameters' must be a dict with str keys")
        set_ = functools.partial(object.__setattr__, self)
        set_("parameters", _jsonable("parameters", self.parameters))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"'seed' must be an int, got {type(self.seed).__name__}")
        set_("seed", check_int("seed", self.seed, minimum=0))
        set_("num_realizations", check_int("num_realizations", self.num_realizations, minimum=1))
        set_("chunk_size", check_int("chunk_size", self.chunk_size, minimum=1))
        set_("max_order", check_int("max_order", self.max_order, minimum=2, maximum=MAX_ORDER))
        for field in ("extends", "description"):
            if not isinstance(getattr(self, field), str):
                raise TypeError(f"'{field}' must be a str")
        if self.keys is not None:
            keys = (self.keys,) if isinstance(self.keys, str) else tuple(self.keys)
            if not keys or not all(isinstance(k, str) for k in keys):
                raise TypeError(f"'keys' must be None or a non-empty sequence of str, "
                                f"got {self.keys!r}")
            set_("keys", keys)

    @property
    def observable(self):
        """The per-realization observable that :func:`ensemble_average` runs (picklable)."""
        return functools.partial(_observe, function=self.function, parameters=self.parameters,
                                 keys=self.keys)

    def definition(self):
        """The study as JSON data (what ``provenance.json`` records of it)."""
        return {"name": self.name, "function": _qualified_name(self.function),
                "parameters": self.parameters,
                "keys": None if self.keys is None else list(self.keys),
                "seed": self.seed, "chunk_size": self.chunk_size, "max_order": self.max_order,
                "num_realizations": self.num_realizations, "extends": self.extends,
                "description": self.description,
                "seed_rule": "realization r draws from numpy.random.SeedSequence(seed, "
                             "spawn_key=(r,)), i.e. chargetransport.realization_seeds(seed, 1, "
                             "start=r)[0]",
                "observable": callable_fingerprint(self.observable)}


_REGISTRY: dict = {}


def register(study):
    """Add a :class:`Study` to the registry (its name must be new); returns it.

    Examples
    --------
    >>> get_study("relaxation_2d_eta0.2") is register(get_study("relaxation_2d_eta0.2"))
    True
    """
    if not isinstance(study, Study):
        raise TypeError(f"'study' must be a Study, got {type(study).__name__}")
    if study.name in _REGISTRY and _REGISTRY[study.name] != study:
        raise ValueError(f"a study named {study.name!r} is already registered")
    _REGISTRY[study.name] = study
    return study


def study_names():
    """Names of the registered studies, sorted.

    Examples
    --------
    >>> "relaxation_2d_eta0.2" in study_names()
    True
    """
    return sorted(_REGISTRY)


def get_study(study):
    """The registered :class:`Study` of that name (a ``Study`` is returned as it is).

    Examples
    --------
    >>> get_study("relaxation_2d_eta0.2").parameters["L"]
    512
    """
    if isinstance(study, Study):
        return study
    if not isinstance(study, str):
        raise TypeError(f"'study' must be a study name or a Study, got {type(study).__name__}")
    if study not in _REGISTRY:
        raise ValueError(f"'study' must be one of {study_names()}, got {study!r}")
    return _REGISTRY[study]


# The registered studies. Their definitions live in study_catalogue, which cannot import
# Study: Study stays here because stored provenance names its observable
# "chargetransport.studies._observe".
for _definition in study_catalogue.DEFINITIONS:
    register(Study(**_definition))


# --------------------------------------------------------------------------------------
# Stored results
# --------------------------------------------------------------------------------------
def load_study(study, out=None, *, num_realizations=None):
    """The stored results of a study, to plot beside a chapter's own runs.

    Reads the chunk files only (computes nothing) and merges them in chunk order,
    so the result is bit for bit that of the run that wrote them.

    Parameters
    ----------
    study : str or Study
        A registered study's name (or the Study).
    out : str or os.PathLike, optional
        Where the studies are stored; default :func:`default_out`.
    num_realizations : int, optional
        Realizations ``0, ..., N-1`` (default: those of the longest completed run).

    Returns
    -------
    StudyResult
        ``.mean``, ``.standard_error``, ``.samples``, ``.provenance``, ``.caption()``.

    Raises
    ------
    FileNotFoundError
        If the study has no results under ``out``, or fewer than ``num_realizations``.
    ValueError
        If the stored results belong to another definition of the study.

    Examples
    --------
    >>> res = load_study("relaxation_2d_eta0.2")
    >>> res.num_realizations, res.samples["survival"].shape
    (32, (32, 9))
    >>> bool(res.mean["survival"][0] == 1.0)            # T = 0: the plane wave itself
    True
    """
    study = get_study(study)
    directory = _study_directory(study, out)
    command = f"python -m chargetransport.studies run {study.name}"
    if not (directory / PROVENANCE).is_file():
        raise FileNotFoundError(f"study {study.name!r} has no stored results in {directory}: "
                                f"compute them with `{command}`")
    provenance = _read_json(directory / PROVENANCE)
    _check_definition(study, provenance, directory)
    stored = _stored_realizations(provenance)
    if num_realizations is None:
        if stored == 0:
            raise FileNotFoundError(f"study {study.name!r} has no completed run in {directory}: "
                                    f"complete it with `{command}`")
        num_realizations = stored
    num_realizations = check_int("num_realizations", num_realizations, minimum=1)
    chunks = directory / CHUNKS
    # The checkpoint as it is on disk (its own manifest: nothing is written), to see that
    # every chunk is there before ensemble_average, which would compute missing ones.
    on_disk = ChunkCheckpoint(chunks, _read_json(chunks / MANIFEST), chunk_size=study.chunk_size)
    missing = math.ceil(num_realizations / study.chunk_size) - len(
        on_disk.completed(num_realizations))
    if missing:
        raise FileNotFoundError(f"study {study.name!r}: {missing} chunk(s) of realizations "
                                f"0-{num_realizations - 1} are not in {chunks}: compute them with "
                                f"`{command} --realizations {num_realizations}`")
    result = _ensemble(study, num_realizations, chunks, executor="serial", progress=False)
    return StudyResult(study, result, provenance, directory)


# --------------------------------------------------------------------------------------
# Running and verifying
# --------------------------------------------------------------------------------------
def run_study(study, out=None, *, executor="serial", max_workers=None, scheduler=None,
              num_realizations=None, numba_threads=None, progress=True):
    """Compute a study (or the part not yet stored) and record the session's provenance.

    Parameters
    ----------
    study : str or Study
        A registered study's name (or the Study).
    out : str or os.PathLike, optional
        Where the studies are stored; default :func:`default_out` (the repository's
        ``data/studies``). The results go to ``<out>/<name>/``.
    executor : {"serial", "processes", "dask"} or an executor object, default "serial"
        ``"processes"``: a local pool of ``max_workers``; ``"dask"``: a
        ``dask.distributed`` Client for ``scheduler`` if given, else the current
        Client, else a ``LocalCluster`` of ``max_workers`` single-threaded workers
        started for this run. (Workers must be able to import this package.) A
        ``concurrent.futures.Executor`` or Client object is used as it is.
    max_workers : int, optional
    scheduler : str, optional
        Address of a running Dask scheduler, such as ``"tcp://host:8786"``.
    num_realizations : int, optional
        Realizations ``0, ..., N-1`` (default the study's); more than are stored
        extends the study, fewer reads the stored ones.
    numba_threads : int, optional
        Numba threads per worker (see :func:`~chargetransport.ensemble_average`).
    progress : bool, default True
        A progress bar on stderr.

    Returns
    -------
    StudyResult

    Notes
    -----
    The chunks already on disk are read, not computed, and the result is merged in
    chunk order, so a resumed or extended run equals an uninterrupted one, bit for
    bit, on any executor. The first chunk is computed (or read) first, and its file
    size checked against :data:`MAX_FILE_BYTES` before anything else runs. The
    study's directory is locked while it runs; a session that was killed stays in
    ``provenance.json`` with ``"status": "interrupted"`` and no end time. A run
    that computes nothing (everything was stored) records no session.

    Examples
    --------
    >>> import tempfile
    >>> from chargetransport import kinetic_limit
    >>> tiny = Study("tiny", kinetic_limit.plane_wave_relaxation,
    ...              dict(d=2, L=16, eta=0.5, momentum=[0.125, 0.25], T=[0.0, 1.0]),
    ...              seed=1, num_realizations=4, extends="nothing", description="An example.",
    ...              keys=("survival",))
    >>> out = tempfile.mkdtemp()
    >>> res = run_study(tiny, out, progress=False)
    >>> more = run_study(tiny, out, num_realizations=6, progress=False)  # 4 read, 2 computed
    >>> [s["chunks_computed"] for s in more.provenance["sessions"]]
    [4, 2]
    >>> more.samples["survival"][:4].tobytes() == res.samples["survival"].tobytes()
    True
    """
    study = get_study(study)
    if num_realizations is None:
        num_realizations = study.num_realizations
    num_realizations = check_int("num_realizations", num_realizations, minimum=1)
    max_workers = _check_executor(executor, max_workers, scheduler)
    directory = _study_directory(study, out)
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory, study.name):
        _remove_partial_writes(directory)
        path = directory / PROVENANCE
        if path.is_file():
            provenance = _read_json(path)
            _check_definition(study, provenance, directory)
            provenance["study"] = study.definition()  # description and 'extends' may change
        else:
            provenance = {"study": study.definition(), "sessions": []}
        for old in provenance["sessions"]:
            if old["status"] == "running":  # we hold the lock: that process is gone
                old["status"] = "interrupted"
        session = {"status": "running", "num_realizations": num_realizations,
                   "started": _now(), "ended": None, "versions": _versions(),
                   "git": _git_state(), "machine": _machine()}
        provenance["sessions"].append(session)
        t0 = time.perf_counter()
        try:
            with _executor_for(executor, max_workers, scheduler) as (target, record):
                session["executor"] = record
                _write_json(path, provenance)
                common = dict(executor=target, numba_threads=numba_threads)
                # One chunk first: its file size is that of every full chunk.
                first = _ensemble(study, min(study.chunk_size, num_realizations),
                                  directory / CHUNKS, progress=False, **common)
                _check_file_sizes(directory, study.name, MAX_FILE_BYTES)
                result = _ensemble(study, num_realizations, directory / CHUNKS,
                                   progress=progress, **common)
                _check_file_sizes(directory, study.name, MAX_FILE_BYTES)
        except BaseException as exc:
            session["status"] = ("interrupted" if isinstance(exc, KeyboardInterrupt) else
                                 f"failed: {type(exc).__name__}: {str(exc)[:300]}")
            session["ended"] = _now()
            _write_json(path, provenance)
            raise
        used = result.executor
        if record["requested"] == "processes":  # not the pool's class name
            used = f"processes ({result.num_workers} workers)"
        record.update(used=used, num_workers=result.num_workers)
        num_chunks = math.ceil(num_realizations / study.chunk_size)
        resumed = result.resumed - (1 - first.resumed)  # the first chunk, if computed now
        session.update(status="completed", ended=_now(),
                       wall_time=round(time.perf_counter() - t0, 3),
                       chunks_resumed=resumed, chunks_computed=num_chunks - resumed,
                       chunks_resubmitted=first.resubmitted + result.resubmitted)
        if resumed == num_chunks:  # computed nothing: not a session of the study's history
            provenance["sessions"].pop()
        _write_json(path, provenance)
    return StudyResult(study, result, provenance, directory)


def verify_study(study, out=None, *, realizations=None):
    """Recompute stored realizations from their seeds and compare them bit for bit.

    Parameters
    ----------
    study : str or Study
    out : str or os.PathLike, optional
        Default :func:`default_out`.
    realizations : sequence of int, optional
        Which ones (default the first and the last stored).

    Returns
    -------
    list of dict
        One per realization: ``realization``, ``identical`` (bool: every stored key
        equal to the recomputed value, bit for bit), ``differing_keys`` (those that are
        not), ``largest_difference`` (over the keys, ``max |recomputed - stored|`` over
        ``max(1, max |stored|)``), ``equal_to_rounding`` (bool: same shapes and
        ``largest_difference <= ROUNDING_TOLERANCE``, what another instruction set
        gives), ``same_instruction_set`` (bool: every session of the study recorded this
        machine's :func:`instruction_set`; then ``identical`` is what to expect),
        ``reproduced`` (bool: ``identical``, or ``equal_to_rounding`` where the study was
        stored on another instruction set), ``seconds``.

    Examples
    --------
    >>> import tempfile
    >>> from chargetransport import kinetic_limit
    >>> tiny = Study("tiny", kinetic_limit.plane_wave_relaxation,
    ...              dict(d=2, L=16, eta=0.5, momentum=[0.125, 0.25], T=[0.0, 1.0]),
    ...              seed=1, num_realizations=4, extends="nothing", description="An example.")
    >>> out = tempfile.mkdtemp()
    >>> _ = run_study(tiny, out, progress=False)
    >>> [(r["realization"], r["identical"]) for r in verify_study(tiny, out)]
    [(0, True), (3, True)]

    The stored studies: ``python -m chargetransport.studies verify``.
    """
    stored = load_study(study, out)
    _check_file_sizes(stored.directory, stored.name, MAX_FILE_BYTES)
    n = stored.num_realizations
    if realizations is None:
        realizations = sorted({0, n - 1})
    if isinstance(realizations, (int, np.integer)):
        realizations = [realizations]
    same_instruction_set = _stored_here(stored)
    reports = []
    for r in realizations:
        r = check_int("realizations[i]", r, minimum=0, maximum=n - 1)
        t0 = time.perf_counter()
        value = stored.study.observable(realization_seeds(stored.study.seed, 1, start=r)[0])
        items = value if stored.result.keyed else {"value": value}
        differences = {key: _difference(items[key], values[r])
                       for key, values in stored.samples.items()}
        largest = max(differences.values(), default=0.0)
        equal_to_rounding = largest <= ROUNDING_TOLERANCE
        reports.append({"realization": r, "identical": largest == 0.0,
                        "differing_keys": [k for k, x in differences.items() if x != 0.0],
                        "largest_difference": largest,
                        "equal_to_rounding": equal_to_rounding,
                        "same_instruction_set": same_instruction_set,
                        "reproduced": _reproduced(largest, same_instruction_set),
                        "seconds": round(time.perf_counter() - t0, 3)})
    return reports


def reproduces(stored, stored_values, values):
    """Whether values computed on this machine reproduce values of a stored study.

    Parameters
    ----------
    stored : StudyResult
        The study (its provenance says on which instruction sets it was computed).
    stored_values, values : array_like
        Stored values (say ``stored.samples[key][:n]``) and the same realizations
        computed here (say a chapter's own run with the study's seed).

    Returns
    -------
    bool
        Bit for bit equal, where every session of the study ran on this machine's
        :func:`instruction_set`; elsewhere equal to rounding
        (:data:`ROUNDING_TOLERANCE`).
    """
    return _reproduced(_difference(values, stored_values), _stored_here(stored))


def _reproduced(difference, same_instruction_set):
    # the one rule: bit for bit on the instruction set that stored the values, to
    # rounding on another one
    return difference == 0.0 or (difference <= ROUNDING_TOLERANCE
                                 and not same_instruction_set)


if __name__ == "__main__":
    # Run as `python -m chargetransport.studies`: the command line of the package's
    # modules, not of this __main__ copy, so that the observables are named (and pickled)
    # as the package's.
    import sys

    from chargetransport._study_cli import main
    sys.exit(main())
