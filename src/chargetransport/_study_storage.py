"""A study on disk: its directory, ``provenance.json``, its chunk files, read back as a result.

The storage side of :mod:`chargetransport.studies` (production studies beyond the book's
budget, for the experiments of sections 2-6 of Chen's lectures): where a study is stored
(``<out>/<name>/``, default ``data/studies`` of the repository), the JSON of its
provenance and the caption made from it (:func:`format_provenance`), the check that the
stored results belong to the study's current definition, the size of its files, and the
one call to :func:`~chargetransport.ensemble_average` that computes or reads its chunks
(:class:`~chargetransport.checkpoint.ChunkCheckpoint`), returned as a :class:`StudyResult`.
:mod:`chargetransport.studies` is the public front door to all of it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path

from ._validation import format_bytes
from .checkpoint import atomic_write
from .ensemble import ensemble_average

PROVENANCE = "provenance.json"
CHUNKS = "chunks"
# The fields of a study that fix its arithmetic (description and 'extends' may change).
_DEFINING = ("function", "parameters", "keys", "seed", "chunk_size", "max_order")


def default_out():
    """``data/studies`` of the repository that holds the package (a source checkout), else
    ``data/studies`` of the working directory.

    Examples
    --------
    >>> default_out().parts[-2:]
    ('data', 'studies')
    """
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "chargetransport").is_dir():
        return root / "data" / "studies"
    return Path("data") / "studies"


def _read_json(path):
    with open(path) as fh:
        return json.load(fh)


def _write_json(path, data):
    atomic_write(path, (json.dumps(data, indent=1) + "\n").encode())


def _completed_sessions(provenance):
    return [s for s in provenance.get("sessions", []) if s.get("status") == "completed"]


def _stored_realizations(provenance):
    """Realizations of the longest completed session (0 if none)."""
    return max((s["num_realizations"] for s in _completed_sessions(provenance)), default=0)


def _short_parameters(parameters):
    """``d=2, L=512, eta=0.2, momentum=[2 values], ...``: scalars in full, lists by length."""
    parts = []
    for key, value in parameters.items():
        parts.append(f"{key}=[{len(value)} value{'s' * (len(value) != 1)}]"
                     if isinstance(value, list) else
                     f"{key}={value!r}")
    return ", ".join(parts)


def format_provenance(provenance, num_realizations=None):
    """The provenance of a stored study in three lines, for a figure caption or a printout.

    Parameters
    ----------
    provenance : dict or StudyResult
        The contents of ``provenance.json``, or a :class:`StudyResult`.
    num_realizations : int, optional
        Realizations shown (default: a StudyResult's, else the stored ones).

    Returns
    -------
    str
        What was computed (function, parameters, seed, realizations); when, where and
        with which code (the last completed session: UTC times, host, executor, package
        version and git commit); and how to check it.

    Examples
    --------
    >>> from chargetransport.studies import load_study
    >>> print(format_provenance(load_study("relaxation_2d_eta0.2")))  # doctest: +ELLIPSIS
    stored study relaxation_2d_eta0.2: 32 realizations of ...plane_wave_relaxation(d=2, L=512, ...
    computed ... UTC on ... chargetransport ..., git ...
    not computed by this build; check: python -m chargetransport.studies verify relaxation_2d_eta0.2
    """
    if isinstance(provenance, StudyResult):
        num_realizations = (provenance.num_realizations if num_realizations is None
                            else num_realizations)
        provenance = provenance.provenance
    if not isinstance(provenance, dict) or "study" not in provenance:
        raise TypeError("'provenance' must be a StudyResult or the contents of provenance.json")
    study = provenance["study"]
    if num_realizations is None:
        num_realizations = _stored_realizations(provenance)
    function = study["function"].removeprefix("chargetransport.")
    lines = [f"stored study {study['name']}: {num_realizations} realizations of "
             f"{function}({_short_parameters(study['parameters'])}), seed {study['seed']}"]
    sessions = _completed_sessions(provenance)
    if sessions:
        s = sessions[-1]
        git = s["git"]["commit"][:10] if s["git"]["commit"] else "unknown"
        if s["git"]["dirty"]:
            git += " + uncommitted changes"
        earlier = len(provenance["sessions"]) - 1
        lines.append(f"computed {s['started'].replace('+00:00', '')} to "
                     f"{s['ended'].replace('+00:00', '')} UTC on {s['machine']['hostname']} "
                     f"({s['machine']['usable_cpus']} cores, {s['executor']['used']}), "
                     f"chargetransport {s['versions']['chargetransport']}, git {git}"
                     + (f" ({earlier} earlier session{'s' * (earlier > 1)})" if earlier else ""))
    else:
        lines.append("no completed session")
    lines.append(f"not computed by this build; check: python -m chargetransport.studies verify "
                 f"{study['name']}")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class StudyResult:
    """A stored study: its :class:`~chargetransport.EnsembleResult` and its provenance.

    Attributes
    ----------
    study : chargetransport.studies.Study
    result : EnsembleResult
        Over realizations ``0, ..., num_realizations - 1``, with ``samples`` (every
        realization's values, ``samples[key][r]``).
    provenance : dict
        The contents of ``provenance.json``.
    directory : pathlib.Path
        ``<out>/<name>``.
    """

    study: object  # a chargetransport.studies.Study
    result: object
    provenance: dict
    directory: Path

    @property
    def name(self):
        return self.study.name

    @property
    def num_realizations(self):
        return self.result.num_realizations

    @property
    def mean(self):
        """Ensemble mean (a dict by key for a dict observable)."""
        return self.result.mean

    @property
    def standard_error(self):
        """Standard error of the ensemble mean."""
        return self.result.standard_error

    @property
    def samples(self):
        """``samples[key][r]``: the values of realization ``r``."""
        return self.result.samples

    def __getitem__(self, key):
        return self.result[key]

    @property
    def label(self):
        """A legend label that says the points are stored, not computed by the build."""
        return f"stored study ({self.num_realizations} realizations)"

    def caption(self):
        """:func:`format_provenance` of this result."""
        return format_provenance(self)


def _file_sizes(directory):
    return {path: path.stat().st_size for path in Path(directory).rglob("*") if path.is_file()}


def _check_file_sizes(directory, name, limit):
    """``ValueError`` if a file of the study's directory exceeds ``limit`` bytes."""
    for path, size in _file_sizes(directory).items():
        if size > limit:
            raise ValueError(f"study {name!r}: {path} is {format_bytes(size)}, over the "
                             f"{format_bytes(limit)} allowed for a stored file (the "
                             "results live in the repository); store fewer or smaller 'keys', "
                             "or a smaller 'chunk_size'")


def _study_directory(study, out):
    return Path(default_out() if out is None else out) / study.name


def _check_definition(study, provenance, directory):
    stored = provenance["study"]
    current = study.definition()
    changed = [k for k in _DEFINING + ("observable",) if stored.get(k) != current.get(k)]
    if changed:
        raise ValueError(f"the results in {directory} were computed for another definition of "
                         f"study {study.name!r} (it differs in {', '.join(changed)}); give the "
                         "new definition a new name, or delete the directory to start afresh")


def stored_studies(out=None):
    """Names of the studies with a completed run under ``out`` (default :func:`default_out`).

    A run that was interrupted (its chunks are kept, to resume from) does not count.

    Examples
    --------
    >>> "relaxation_2d_eta0.2" in stored_studies()
    True
    """
    out = Path(default_out() if out is None else out)
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if (p / PROVENANCE).is_file()
                  and _completed_sessions(_read_json(p / PROVENANCE)))


def _ensemble(study, num_realizations, chunks, **kwargs):
    """The one call that computes or reads a study: ensemble_average on its checkpoint."""
    try:
        return ensemble_average(study.observable, num_realizations, study.seed,
                                chunk_size=study.chunk_size, max_order=study.max_order,
                                keep_samples=True, checkpoint=chunks, **kwargs)
    except ValueError as exc:
        if "belongs to another run" in str(exc):
            raise ValueError(f"study {study.name!r}: {exc}") from exc
        raise


def _remove_partial_writes(directory):
    """Temporary files of writes that a killed process left behind (never results)."""
    for path in Path(directory).rglob(".tmp-*"):
        with contextlib.suppress(OSError):
            path.unlink()
