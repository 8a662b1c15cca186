"""Production studies: named ensembles beyond the book's budget, stored with their provenance.

Some points worth showing (more realizations, smaller ``eta``, ``d = 3``) cost more
than a chapter may spend when the book is built. A *study* is such an ensemble, defined
once here (:class:`Study`: a per-realization observable of the package, its parameters,
a master seed, a number of realizations) and computed once, off the book, by::

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
compares them bit for bit (tests/test_studies.py does so for every stored study).

In a chapter (``from chargetransport import studies``; this module is not imported by
``import chargetransport``, so that ``python -m`` runs it cleanly)::

    stored = studies.load_study("relaxation_2d_eta0.2")
    ax.errorbar(x, stored.mean["survival"], yerr=stored.standard_error["survival"],
                fmt="s", mfc="none", label=stored.label)      # "stored study (32 realizations)"
    print(stored.caption())                                   # the provenance, three lines

Adding a study: define it below the registry, ``register(Study(name=..., function=<a
module-level function of the package, seed first>, parameters=dict(...), keys=(<small
keys only>), seed=..., num_realizations=..., extends="<chapter>: <experiment>",
description=...))``; run ``python -m chargetransport.studies run <name>``, check
``verify``, and commit ``data/studies/<name>/``. No stored file may exceed
:data:`MAX_FILE_BYTES` (checked after the first chunk): keep only small keys, or
lower ``chunk_size``.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import dataclasses
import datetime
import functools
import importlib
import json
import math
import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import _executors as ex
from . import fermions, fluctuations, hartree_fock, kinetic_limit, localization, wkb_experiment
from ._validation import check_int, format_bytes
from .checkpoint import MANIFEST, ChunkCheckpoint, atomic_write, callable_fingerprint
from .ensemble import ensemble_average, process_pool
from .rng import realization_seeds, seed_fingerprint
from .streaming_moments import MAX_ORDER

__all__ = ["MAX_FILE_BYTES", "Study", "StudyResult", "default_out", "format_provenance",
           "get_study", "load_study", "register", "run_study", "stored_studies", "study_names",
           "verify_study", "main"]

#: Largest stored file (bytes): results live in the repository, so every file stays small.
MAX_FILE_BYTES = 4 * 2**20

PROVENANCE = "provenance.json"
CHUNKS = "chunks"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# The fields of a study that fix its arithmetic (description and 'extends' may change).
_DEFINING = ("function", "parameters", "keys", "seed", "chunk_size", "max_order")


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


# --------------------------------------------------------------------------------------
# The studies (their parameters live here, and only here)
# --------------------------------------------------------------------------------------
def _relaxation_parameters(d, L, eta):
    """The parameters of Experiment 1 of the Boltzmann chapter (book/boltzmann_limit.md)
    at one ``(d, eta)``: the generic momentum rounded to the box's grid, two momentum
    bumps at generic points of its shell, ``T = 0, 0.25, ..., 2``."""
    target = {2: [0.11, 0.23], 3: [0.11, 0.23, 0.37]}[d]
    momentum = np.round(np.array(target) * L) / L
    bumps = kinetic_limit.generic_shell_points(momentum, 2)
    return dict(d=d, L=L, eta=eta, momentum=momentum.tolist(),
                T=np.linspace(0.0, 2.0, 9).tolist(), bump_centers=[q.tolist() for q in bumps],
                bump_width=0.03)


register(Study(
    name="relaxation_2d_eta0.2",
    function=kinetic_limit.plane_wave_relaxation,
    parameters=_relaxation_parameters(2, 512, 0.2),
    keys=("survival", "current", "speed_squared", "kinetic_energy", "bumps"),
    seed=2010, num_realizations=32,
    extends="boltzmann_limit: Experiment 1 (d = 2, eta = 0.2; the book averages 8 realizations)",
    description="Plane-wave relaxation in a 512^2 box at eta = 0.2 over 32 realizations, four "
                "times the book's; realizations 0-7 are the book's own (same seed)."))


def _diffusion_parameters(eta):
    """The parameters of Experiment 3 of the Boltzmann chapter (book/boltzmann_limit.md) at
    one ``eta``: the WKB state of Experiment 2 (``p = (1/8, 1/4)``, ``w = 0.5``) in d = 2,
    followed to ``T = 8`` in the box ``[-20, 20]^2`` (macroscopic units)."""
    return dict(d=2, L=2 * math.ceil(20.0 / eta**2), eta=eta, momentum=[0.125, 0.25],
                width=0.5, T=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0])


for _eta in (0.3, 0.25, 0.2):
    register(Study(
        name=f"diffusion_2d_eta{_eta}",
        function=kinetic_limit.wkb_mean_square_displacement,
        parameters=_diffusion_parameters(_eta),
        keys=("msd", "boundary_weight"),
        seed=2012, num_realizations=16,
        extends=f"boltzmann_limit: Experiment 3 (d = 2, eta = {_eta}; the book runs eta = 0.4)",
        description=f"Mean-square displacement of the WKB state up to T = 8 at eta = {_eta} "
                    f"(box side {_diffusion_parameters(_eta)['L']}), 16 realizations."))


def _wigner_parameters(d, eta):
    """The parameters of Experiment 2 of the Boltzmann chapter (book/boltzmann_limit.md) at
    one ``(d, eta)``: the default :class:`~chargetransport.wkb_experiment.WKBExperiment` of
    dimension d (``w = 0.5``), in d = 2 with ``T = 0, 0.25, ..., 2`` in the box
    ``[-6.5, 6.5]^2``, in d = 3 with ``T = 0, 0.25, ..., 1``, ``J_1`` at ``T_1 = 1/2`` and
    the box ``[-4.5, 4.5]^3``."""
    if d == 2:
        return dict(eta=eta, T=np.linspace(0.0, 2.0, 9).tolist(), half_width=6.5,
                    momentum=list(wkb_experiment.WKB_DEFAULT_MOMENTA[2]))
    return dict(eta=eta, T=np.linspace(0.0, 1.0, 5).tolist(), half_width=4.5,
                momentum=list(wkb_experiment.WKB_DEFAULT_MOMENTA[3]), unscattered_time=0.5)


for _d, _eta, _num in ((2, 0.2, 128), (2, 0.14, 64), (3, 0.4, 32), (3, 0.35, 32), (3, 0.3, 32),
                       (3, 0.25, 32)):
    register(Study(
        name=f"wigner_{_d}d_eta{_eta}",
        function=fluctuations.wkb_experiment_pairings,
        parameters=_wigner_parameters(_d, _eta),
        keys=("pairings", "boundary_weight"),
        seed=2011 if _d == 2 else 2014, num_realizations=_num,
        extends=f"boltzmann_limit: Experiment 2 (Theorem 2.1, d = {_d}, eta = {_eta}; the book "
                f"runs eta = {'0.4, 0.34, 0.28' if _d == 2 else '0.5'})",
        description=f"Pairings <J_j, W_T> of the WKB state with the three test functions of "
                    f"Experiment 2 in d = {_d} at eta = {_eta}, {_num} realizations."))

# Convergence in higher mean (Theorem 3.1): the chapter's WKB pairings with many more
# realizations; realizations 0, 1, ... of each are the book's own (same seed).
_HIGHER_MEAN = {
    2: dict(momentum=[0.125, 0.25], T=[1.0], half_width=5.0, seed=3101,
            realizations={0.4: 10_000, 0.3: 4800, 0.2: 800, 0.15: 400}),
    3: dict(momentum=[0.125, 0.25, 0.375], T=[0.5], half_width=3.5, unscattered_time=0.5,
            seed=3103, realizations={0.5: 2000, 0.42: 1000, 0.35: 480, 0.3: 200, 0.25: 100}),
}
for _d, _setup in _HIGHER_MEAN.items():
    _fixed = {k: v for k, v in _setup.items() if k not in ("seed", "realizations")}
    for _eta, _R in _setup["realizations"].items():
        register(Study(
            name=f"higher_mean_{_d}d_eta{_eta}",
            function=fluctuations.wkb_experiment_pairings,
            parameters=dict(eta=_eta, **_fixed),
            keys=("pairings", "boundary_weight"), seed=_setup["seed"], num_realizations=_R,
            chunk_size=100 if _R >= 1000 else 20, max_order=6,
            extends=f"convergence_in_higher_mean: Experiment 2 (d = {_d}, eta = {_eta})",
            description=(f"Wigner pairings of the WKB state in d = {_d} at eta = {_eta}, "
                         f"{_R} realizations: the tails of the distribution (r = 6 norms, "
                         "kurtosis) need more than the book can afford.")))

# Localization lengths: the 3D spreading functional at eta = 0.1, box-free (side 232, the
# state does not reach the edge by t = 100), with the exact first-order (Born) term of
# each realization as a control variate.
register(Study(
    name="spreading_3d_eta0.1",
    function=localization.spreading_distance,
    parameters=dict(d=3, L=232, eta=0.1, times=[25.0, 50.0, 100.0], tol=1e-8, born_term=True),
    keys=("distance", "born_term"), seed=4100, num_realizations=16,
    extends="localization_lengths: the 3D spreading functional (box-free, eta = 0.1)",
    description="||e^{-itH} delta_0 - e^{-it Delta} delta_0||^2 in d = 3 at eta = 0.1 up to "
                "T = 1 in a box no signal crosses, with the Born term of each realization."))

def _fermi_current_parameters(d, L, eta):
    """The parameters of Experiment 1 of the Fermi-gas chapter (book/fermi_gas.md) at one
    ``(d, L, eta)``: the Fermi sea ``e < -1`` displaced by ``0.08`` along axis 1, four
    random-phase vectors, a twist per realization, ``T = 0, 0.25, ..., 2``."""
    return dict(d=d, L=L, eta=eta, J={"mu": -1.0, "shift": [0.08] + [0.0] * (d - 1)},
                T=np.linspace(0.0, 2.0, 9).tolist(), method="random_phase", num_vectors=4,
                observables=["current", "kinetic_energy"], twist=True)


def _register_fermi_current(name, d, L, eta, num_realizations, extends, description):
    """A study of Experiment 1 of the Fermi-gas chapter: the book's seed (51), so that
    realizations 0, 1, ... at the book's (d, L, eta) would be the book's own."""
    register(Study(
        name=name, function=fermions.momentum_distribution_realization,
        parameters=_fermi_current_parameters(d, L, eta),
        keys=("current", "current_boltzmann", "kinetic_energy"), seed=51,
        num_realizations=num_realizations, extends=f"fermi_gas: Experiment 1 ({extends})",
        description=description))


_register_fermi_current(
    "fermi_current_2d_eta0.14", 2, 362, 0.14, 64,
    "d = 2, eta = 0.14, beyond the book's eta = 0.4-0.2",
    "Current of a displaced Fermi sea against its Boltzmann prediction in a twisted 362^2 box "
    "at eta = 0.14 (L^d rho Gamma = 330 levels in the decay width), 64 realizations.")
_register_fermi_current(
    "fermi_current_3d_eta0.14", 3, 50, 0.14, 32,
    "d = 3, eta = 0.14, beyond the book's eta = 0.4-0.2",
    "Current of a displaced Fermi sea against its Boltzmann prediction in a twisted 50^3 box "
    "at eta = 0.14 (L^d rho Gamma = 316 levels in the decay width), 32 realizations.")
_register_fermi_current(
    "fermi_current_3d_eta0.28_L48", 3, 48, 0.28, 32,
    "d = 3, eta = 0.28: box-size check of the book's L = 32",
    "The book's d = 3, eta = 0.28 run in a 48^3 box instead of 32^3 (3.4 times the levels in "
    "the decay width), 32 realizations: the finite-box part of the deviation.")
_register_fermi_current(
    "fermi_current_2d_eta0.28_L256", 2, 256, 0.28, 32,
    "d = 2, eta = 0.28: box-size check of the book's L = 180",
    "The book's d = 2, eta = 0.28 run in a 256^2 box instead of 180^2 (twice the levels in the "
    "decay width), 32 realizations: the finite-box part of the deviation.")


def _hartree_fock_current_parameters(d, L, eta, record_every):
    """Experiment "Regime lambda <= C eta^2" of the Hartree-Fock chapter (book/hartree_fock.md)
    at one ``(d, L, eta)``: the displaced sea (mu = 0.5, shift 0.1, beta = 3), lambda = eta^2,
    T <= 4; each realization of the study is a lock-step ensemble of 2 disorder
    realizations of 4 random-phase vectors (their own mean field)."""
    return dict(d=d, L=L, eta=eta, lam=round(eta**2, 12), T_final=4.0, dt=0.2,
                record_every=record_every, num_realizations=2, vectors_per_realization=4)


for _d, _L, _eta, _every, _seed in [(3, 32, 0.4, 5, 6140), (3, 32, 0.3, 10, 6130),
                                    (3, 32, 0.2, 20, 6120), (2, 128, 0.2, 20, 6220),
                                    (2, 128, 0.14, 40, 6214)]:
    register(Study(
        name=f"hf_current_{_d}d_L{_L}_eta{_eta}",
        function=hartree_fock.displaced_sea_current,
        parameters=_hartree_fock_current_parameters(_d, _L, _eta, _every),
        keys=("kinetic_time", "current"), seed=_seed, num_realizations=32,
        extends=f"hartree_fock: Regime lambda <= C eta^2 (Theorem 6.1), d = {_d}, L = {_L}, "
                f"eta = {_eta}",
        description=f"Current of the displaced Fermi sea under Hartree-Fock dynamics with "
                    f"lambda = eta^2 = {_eta**2:.4g}, d = {_d}, L = {_L}, up to T = 4: 32 "
                    f"independent lock-step ensembles of 2 x 4 vectors (64 disorder "
                    f"realizations)."))


#: Experiment 1 in twisted boxes (book/boltzmann_limit.md): the target momenta, and the
#: keys stored per realization (observables, their Boltzmann values, control variates).
RELAXATION_TARGETS = {2: [0.11, 0.23], 3: [0.11, 0.23, 0.37]}
_TWISTED_KEYS = tuple(f"{name}{suffix}" for name in ("survival", "current", "bumps")
                      for suffix in ("", "_boltzmann", "_born", "_cv")) + ("momentum",)


def twisted_relaxation_parameters(d, L, eta, T_max=2.0):
    """Parameters of Experiment 1 of the Boltzmann chapter in a twisted box: the plane wave
    starts at the grid momentum nearest the target (per realization), two momentum bumps
    of width 0.03 at generic points of the target's shell, ``T = 0, 0.25, ..., T_max``,
    with the first-order control variates. The chapter's in-book runs use the same
    function, so that a stored study and an in-book point differ only in ``(d, L, eta)``.

    Examples
    --------
    >>> twisted_relaxation_parameters(2, 276, 0.4)["T"][-1]
    2.0
    """
    target = RELAXATION_TARGETS[d]
    bumps = kinetic_limit.generic_shell_points(np.array(target), 2)
    return dict(d=d, L=L, eta=eta, momentum=list(target),
                T=np.linspace(0.0, T_max, int(round(4 * T_max)) + 1).tolist(),
                bump_centers=[q.tolist() for q in bumps], bump_width=0.03, twist=True,
                control_variates=True)


def _born_parameters(relaxation):
    """The twist average's parameters for a twisted-relaxation study (same box, times, bumps)."""
    return {key: relaxation[key] for key in ("d", "L", "eta", "momentum", "T", "bump_centers",
                                             "bump_width")}


def _register_twisted(d, L, eta, R, T_max=2.0, label="", born=True, note=""):
    name = f"relaxation_twisted_{d}d_eta{eta}{label}"
    parameters = twisted_relaxation_parameters(d, L, eta, T_max)
    window = f"T <= {T_max:g}" if T_max < 2.0 else "T in [0, 2]"
    register(Study(
        name=name, function=kinetic_limit.plane_wave_relaxation, parameters=parameters,
        keys=_TWISTED_KEYS, seed=2010, num_realizations=R, chunk_size=8,
        extends=f"boltzmann_limit: Experiment 1, d = {d}, eta = {eta} (twisted boxes)",
        description=f"Plane-wave relaxation in twisted {L}^{d} boxes at eta = {eta}, {window}, "
                    f"{R} realizations, each with its own twist; first-order control "
                    f"variates stored with the observables.{note}"))
    if born:
        register(Study(
            name=f"relaxation_born_{d}d_eta{eta}{label}", function=kinetic_limit.plane_wave_born_terms,
            parameters=_born_parameters(parameters), seed=4040, num_realizations=4096,
            chunk_size=512,
            extends=f"boltzmann_limit: Experiment 1, study {name}",
            description=f"Twist average of the box's first-order terms (the mean of the "
                        f"control variate *_born) for {name}: 4096 independent twists."))


# d = 3, the theorem's dimension: the full window down to eta = 0.1, the early window at 0.07
_register_twisted(3, 74, 0.14, 128)
_register_twisted(3, 92, 0.1, 128)
_register_twisted(3, 117, 0.07, 32, T_max=0.5)
# the box-size check at eta = 0.1 (L = 64 vs 92), and the same box without a twist: the
# 48 exact symmetry images of p on the grid of a periodic cubic box
_register_twisted(3, 64, 0.1, 32, label="_L64")
register(Study(
    name="relaxation_periodic_3d_eta0.1_L64", function=kinetic_limit.plane_wave_relaxation,
    parameters={**twisted_relaxation_parameters(3, 64, 0.1), "twist": False,
                "momentum": (np.round(np.array(RELAXATION_TARGETS[3]) * 64) / 64).tolist()},
    keys=_TWISTED_KEYS, seed=2010, num_realizations=32, chunk_size=8,
    extends="boltzmann_limit: Experiment 1, d = 3, eta = 0.1, periodic box (no twist)",
    description="Plane-wave relaxation in the periodic 64^3 box at eta = 0.1 (p on the grid, "
                "with its 48 exact symmetry images), 32 realizations: the reference for the "
                "twisted box of relaxation_twisted_3d_eta0.1_L64."))
# d = 2: the full window down to eta = 0.1, the early window at 0.07 and 0.05 (the twist
# part of the control variate is negligible in d = 2: no twist averages)
_register_twisted(2, 789, 0.14, 64, born=False)
_register_twisted(2, 1104, 0.1, 64, born=False)
_register_twisted(2, 1577, 0.07, 32, T_max=0.5, born=False)
_register_twisted(2, 2208, 0.05, 16, T_max=0.5, born=False)


# --------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------
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


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _git_state():
    """Commit of the repository holding the package and whether its sources differ from it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return {"commit": None, "dirty": None}

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", "src", "pyproject.toml",
                         "requirements.txt"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def _versions():
    import numba
    import scipy
    from . import __version__
    return {"chargetransport": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "scipy": scipy.__version__}


def _machine():
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        memory = None
    return {"hostname": socket.gethostname(), "cpu_count": os.cpu_count(),
            "usable_cpus": ex.usable_cpus(), "memory_bytes": memory,
            "platform": platform.platform(), "processor": platform.machine()}


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


# --------------------------------------------------------------------------------------
# Stored results
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StudyResult:
    """A stored study: its :class:`~chargetransport.EnsembleResult` and its provenance.

    Attributes
    ----------
    study : Study
    result : EnsembleResult
        Over realizations ``0, ..., num_realizations - 1``, with ``samples`` (every
        realization's values, ``samples[key][r]``).
    provenance : dict
        The contents of ``provenance.json``.
    directory : pathlib.Path
        ``<out>/<name>``.
    """

    study: Study
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


def _check_file_sizes(directory, name):
    for path, size in _file_sizes(directory).items():
        if size > MAX_FILE_BYTES:
            raise ValueError(f"study {name!r}: {path} is {format_bytes(size)}, over the "
                             f"{format_bytes(MAX_FILE_BYTES)} allowed for a stored file (the "
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


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _exclusive(directory, name):
    """Hold an exclusive lock on the study's directory (released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no concurrent-run guard
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"study {name!r} is being run by another process "
                               f"(its directory {directory} is locked)") from None
        yield
    finally:
        os.close(fd)


def _locked(directory):
    """Whether a run holds the study's directory now."""
    try:
        with _exclusive(directory, ""):
            return False
    except RuntimeError:
        return True


@contextlib.contextmanager
def _executor_for(executor, max_workers, scheduler):
    """``(executor for ensemble_average, what to record)``; pools and clients started here
    are closed on exit."""
    record = {"requested": executor if isinstance(executor, str) else type(executor).__name__,
              "max_workers": max_workers, "scheduler": scheduler}
    if executor == "serial" or not isinstance(executor, str):
        if ex.is_dask_client(executor):
            record.update(_dask_record(executor))
        yield executor, record
    elif executor == "processes":
        with process_pool(max_workers) as pool:
            yield pool, record
    else:  # "dask"
        import distributed
        with contextlib.ExitStack() as stack:
            if scheduler is not None:
                client = stack.enter_context(distributed.Client(scheduler))
            else:
                try:
                    client = distributed.get_client()
                except ValueError:  # no client yet: a local cluster for this run
                    cluster = stack.enter_context(distributed.LocalCluster(
                        n_workers=max_workers or ex.usable_cpus(), threads_per_worker=1,
                        dashboard_address=":0"))
                    client = stack.enter_context(distributed.Client(cluster))
            record.update(_dask_record(client))
            yield client, record


def _check_executor(executor, max_workers, scheduler):
    """Check the executor arguments of :func:`run_study` before anything is written."""
    if isinstance(executor, str):
        if executor not in ("serial", "processes", "dask"):
            raise ValueError(f"'executor' must be 'serial', 'processes', 'dask' or an executor "
                             f"object, got {executor!r}")
    elif not (ex.is_dask_client(executor) or isinstance(executor, cf.Executor)):
        raise TypeError(f"'executor' must be 'serial', 'processes', 'dask', a "
                        f"concurrent.futures.Executor or a dask.distributed.Client, "
                        f"got {type(executor).__name__}")
    if max_workers is not None:
        max_workers = check_int("max_workers", max_workers, minimum=1)
        if executor not in ("processes", "dask") or scheduler is not None:
            raise ValueError("'max_workers' applies to executor='processes', or 'dask' without "
                             "a scheduler (a local cluster)")
    if scheduler is not None:
        if not isinstance(scheduler, str):
            raise TypeError(f"'scheduler' must be an address such as 'tcp://host:8786', "
                            f"got {type(scheduler).__name__}")
        if executor != "dask":
            raise ValueError(f"'scheduler' needs executor='dask', got executor={executor!r}")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise ImportError("executor='dask' needs dask.distributed, an optional dependency: "
                              "pip install 'chargetransport[dask]'") from exc
    return max_workers


def _dask_record(client):
    """The scheduler's address and the hosts of its workers."""
    info = client.scheduler_info()
    return {"scheduler": info.get("address"),
            "worker_hosts": sorted({str(w.get("host", address))
                                    for address, w in info.get("workers", {}).items()})}


def _remove_partial_writes(directory):
    """Temporary files of writes that a killed process left behind (never results)."""
    for path in Path(directory).rglob(".tmp-*"):
        with contextlib.suppress(OSError):
            path.unlink()


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
                _check_file_sizes(directory, study.name)
                result = _ensemble(study, num_realizations, directory / CHUNKS,
                                   progress=progress, **common)
                _check_file_sizes(directory, study.name)
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
        equal to the recomputed value, bit for bit), ``differing_keys``, ``seconds``.

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
    _check_file_sizes(stored.directory, stored.name)
    n = stored.num_realizations
    if realizations is None:
        realizations = sorted({0, n - 1})
    if isinstance(realizations, (int, np.integer)):
        realizations = [realizations]
    reports = []
    for r in realizations:
        r = check_int("realizations[i]", r, minimum=0, maximum=n - 1)
        t0 = time.perf_counter()
        value = stored.study.observable(realization_seeds(stored.study.seed, 1, start=r)[0])
        items = value if stored.result.keyed else {"value": value}
        differing = [key for key, values in stored.samples.items()
                     if np.array(items[key], dtype=float).tobytes() != values[r].tobytes()
                     or np.shape(items[key]) != values[r].shape]
        reports.append({"realization": r, "identical": not differing,
                        "differing_keys": differing,
                        "seconds": round(time.perf_counter() - t0, 3)})
    return reports


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def _show(name, out):
    study = get_study(name)
    directory = _study_directory(study, out)
    print(f"{study.name}: {study.description}\n  extends {study.extends}")
    print(f"  {_qualified_name(study.function)}({_short_parameters(study.parameters)})")
    print(f"  seed {study.seed}, {study.num_realizations} realizations, chunk_size "
          f"{study.chunk_size}, keys {list(study.keys) if study.keys else 'all'}")
    if not (directory / PROVENANCE).is_file():
        print(f"  nothing stored in {directory}")
        return
    provenance = _read_json(directory / PROVENANCE)
    print("\n" + format_provenance(provenance) + "\n")
    for i, s in enumerate(provenance["sessions"]):
        if s["status"] == "running" and not _locked(directory):
            s["status"] = "interrupted (no end recorded)"
        extra = (f", {s.get('chunks_computed')} chunks computed, {s.get('chunks_resumed')} read"
                 if s["status"] == "completed" else "")
        print(f"  session {i}: {s['status']}, {s['num_realizations']} realizations, "
              f"{s['started']} - {s['ended']}, {s['machine']['hostname']}, "
              f"{s.get('executor', {}).get('used') or s.get('executor', {}).get('requested')}"
              f"{extra}")
    sizes = _file_sizes(directory)
    print(f"  {len(sizes)} files, {format_bytes(sum(sizes.values()))}, largest "
          f"{format_bytes(max(sizes.values()))}")


def main(argv=None):
    """The command line (``python -m chargetransport.studies --help``); returns the exit code.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stdout(io.StringIO()) as listing:
    ...     code = main(["list"])
    >>> code, "relaxation_2d_eta0.2 (stored): Plane-wave relaxation" in listing.getvalue()
    (0, True)
    """
    parser = argparse.ArgumentParser(
        prog="python -m chargetransport.studies",
        description="Named ensembles beyond the book's budget, stored with provenance.")
    sub = parser.add_subparsers(dest="command", required=True)
    out_help = f"where studies are stored (default {default_out()})"
    sub.add_parser("list", help="the registered studies").add_argument("--out", help=out_help)
    run = sub.add_parser("run", help="compute a study, or resume or extend it")
    run.add_argument("study")
    run.add_argument("--executor", default="serial", choices=("serial", "processes", "dask"))
    run.add_argument("--max-workers", type=int)
    run.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    run.add_argument("--realizations", type=int, help="realizations 0..N-1 (default the study's)")
    run.add_argument("--numba-threads", type=int)
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--out", help=out_help)
    show = sub.add_parser("show", help="a study's definition and provenance")
    show.add_argument("study")
    show.add_argument("--out", help=out_help)
    verify = sub.add_parser("verify", help="recompute stored realizations, compare bit for bit")
    verify.add_argument("study", nargs="?", help="default: every stored study")
    verify.add_argument("--realization", type=int, action="append", dest="realizations",
                        help="a realization to recompute (repeatable; default first and last)")
    verify.add_argument("--out", help=out_help)
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError, ImportError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _command(args):
    if args.command == "list":
        stored = set(stored_studies(args.out))
        for name in study_names():
            study = get_study(name)
            print(f"{name}{' (stored)' if name in stored else ''}: {study.description}")
    elif args.command == "show":
        _show(args.study, args.out)
    elif args.command == "run":
        t0 = time.perf_counter()
        res = run_study(args.study, args.out, executor=args.executor,
                        max_workers=args.max_workers, scheduler=args.scheduler,
                        num_realizations=args.realizations, numba_threads=args.numba_threads,
                        progress=not args.no_progress)
        session = res.provenance["sessions"][-1]
        print(f"{res.name}: {res.num_realizations} realizations in {res.directory} "
              f"({session['chunks_computed']} chunks computed, {session['chunks_resumed']} read; "
              f"{time.perf_counter() - t0:.1f} s)")
    elif args.command == "verify":
        names = [args.study] if args.study else stored_studies(args.out)
        failed = False
        for name in names:
            for report in verify_study(name, args.out, realizations=args.realizations):
                failed |= not report["identical"]
                verdict = ("identical" if report["identical"] else
                           f"DIFFERS in {report['differing_keys']}")
                print(f"{name}: realization {report['realization']} recomputed in "
                      f"{report['seconds']:.1f} s: {verdict}")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    # Run as `python -m chargetransport.studies`: use the package's module, not this
    # __main__ copy, so that the observables are named (and pickled) as the package's.
    from chargetransport.studies import main as _main
    sys.exit(_main())
