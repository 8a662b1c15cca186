"""Seeded random numbers: the seed contract of the package.

Every random draw in the package comes from a seed turned into a
``numpy.random.SeedSequence`` and a PCG64 ``numpy.random.Generator``; nothing
uses NumPy's global state, and a result depends on its seed only, whatever the
number of threads, processes or workers.

Seeds
-----
A *seed* is a non-negative integer or a ``numpy.random.SeedSequence``; a
function that draws a single stream also accepts a ``numpy.random.Generator``
(whose state it advances). :func:`check_seed` is the one validation of a seed.

Default policy (the one place where it is stated)
-------------------------------------------------
* Reproducible unless asked otherwise: no function defaults to fresh entropy.
  Fresh (non-reproducible) entropy is asked for explicitly, with
  ``seed=numpy.random.SeedSequence()``; only :func:`as_generator` reads
  ``None`` as fresh entropy.
* A function that returns random draws themselves (a potential, shell samples,
  random-phase vectors, one realization of an observable, an ensemble) has no
  default: its ``seed`` is required.
* A function that returns an estimate of a deterministic quantity together
  with its Monte Carlo error (a Lyapunov exponent, a shell average, a kinetic
  Monte Carlo pairing, a spreading functional, a Boltzmann prediction) defaults
  to ``seed=0``.

Realizations
------------
Realization ``r`` of an ensemble seed ``s`` is the ``r``-th child of
``SeedSequence(s)`` (:func:`realization_seeds`), whichever process draws it.
Everything random about one realization comes from its ``SeedSequence`` ``ss``
(:class:`Realization`), in named streams with fixed child indices:

===============  =================  ==============================================
stream           drawn from         what
===============  =================  ==============================================
``potential``    ``ss`` itself      ``random_potential(lattice, distribution,
                                    seed=ss)``: one potential per realization,
                                    the same for every observable of it
(child 0)        never drawn        retired (the Fermi-gas potential before
                                    this contract)
``phases``       child 1            random-phase vectors (Fermi gas,
                                    Hartree-Fock)
``twist``        child 2            boundary twist ``theta`` uniform in
                                    ``[0, 1)^d`` (momenta ``(m + theta) / L``)
``monte_carlo``  child 3            any other sampler of a realization
===============  =================  ==============================================

Samplers that are not realizations of a lattice follow the same rule one level
up: kinetic Monte Carlo draws chunk ``c`` of its particles from realization
``c`` of its seed; a transfer-matrix chain or strip draws its site values (a
strip first its start frame) in order from ``as_generator(seed)``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import check_int, check_memory

__all__ = ["STREAMS", "Realization", "as_generator", "check_seed", "iter_realization_seeds",
           "realization_seeds", "seed_fingerprint"]

#: Child index of each named stream of a realization's SeedSequence (see the module table).
STREAMS = {"phases": 1, "twist": 2, "monte_carlo": 3}

# Memory of one SeedSequence object in a list (measured: ~370 bytes), for the size guard.
_SEED_SEQUENCE_BYTES = 400
# Lists shorter than this (40 MB) always fit: skip the memory query, which reads /proc.
_CHECKED_ABOVE = 100_000


def _as_seed_sequence(seed):
    """``SeedSequence`` of an integer, a ``SeedSequence`` (itself) or ``None`` (fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError("'seed' must be None, a non-negative integer or a numpy.random.SeedSequence, "
                        f"got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"'seed' must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed))


def check_seed(seed, *, allow_generator=False, name="seed"):
    """Validate a seed: the one check every random function of the package uses.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        A non-negative integer or a ``SeedSequence``; a ``Generator`` only
        with ``allow_generator=True``. ``None`` is rejected (see the default
        policy in the module docstring): pass ``numpy.random.SeedSequence()``
        for fresh entropy.
    allow_generator : bool, default False
        Whether the caller draws a single stream and may advance a given
        generator.
    name : str, default "seed"
        Parameter name for the error message.

    Returns
    -------
    numpy.random.SeedSequence or numpy.random.Generator
        The ``SeedSequence`` of the seed, or the generator itself.

    Raises
    ------
    TypeError
        ``None``, a bool, a float, a generator where none is allowed, ...
    ValueError
        A negative integer.

    Examples
    --------
    >>> check_seed(7).entropy
    7
    >>> check_seed(None)
    Traceback (most recent call last):
    ...
    TypeError: 'seed' must be an integer or a numpy.random.SeedSequence: it is required so that results are reproducible (numpy.random.SeedSequence() for fresh entropy), got None
    """
    if isinstance(seed, np.random.Generator):
        if allow_generator:
            return seed
        raise TypeError(f"'{name}' must be an integer or a numpy.random.SeedSequence (its child "
                        "streams are derived from it), got a numpy.random.Generator")
    if seed is None:
        raise TypeError(f"'{name}' must be an integer or a numpy.random.SeedSequence"
                        f"{' (or a Generator)' if allow_generator else ''}: it is required so that "
                        "results are reproducible (numpy.random.SeedSequence() for fresh "
                        "entropy), got None")
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer or a numpy.random.SeedSequence, "
                        f"got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"'{name}' must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed))


def as_generator(seed=None):
    """Return a ``numpy.random.Generator`` built from ``seed``.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` draws fresh entropy (not reproducible; the only function of
        the package that reads ``None`` so); an integer or a ``SeedSequence``
        gives a reproducible stream; a ``Generator`` is used as it is (its
        state advances).

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator.

    Examples
    --------
    >>> bool(as_generator(3).random() == as_generator(np.random.SeedSequence(3)).random())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(_as_seed_sequence(seed)))


def _child(master, index):
    # SeedSequence child r has spawn_key (..., r): build it directly, so that it does
    # not depend on how many children were spawned before (and the master is not mutated).
    return np.random.SeedSequence(master.entropy, spawn_key=master.spawn_key + (index,),
                                  pool_size=master.pool_size)


def realization_seeds(seed, num_realizations, start=0):
    """Seed sequences of realizations ``start, ..., start + num_realizations - 1``.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The ensemble's master seed.
    num_realizations : int
        How many realizations (>= 0); the list must fit in memory (about 400
        bytes each): draw very long runs in blocks with ``start``.
    start : int, default 0
        Index of the first realization: realization ``r`` is always the
        ``r``-th spawned child of the master sequence, so a run of
        realizations 100-199 reproduces exactly those of a run of 0-199.

    Returns
    -------
    list of numpy.random.SeedSequence

    Examples
    --------
    >>> a = realization_seeds(7, 3)
    >>> b = realization_seeds(7, 1, start=2)
    >>> as_generator(a[2]).random() == as_generator(b[0]).random()
    True
    """
    master = check_seed(seed)
    num_realizations = check_int("num_realizations", num_realizations, minimum=0)
    start = check_int("start", start, minimum=0)
    if num_realizations > _CHECKED_ABOVE:
        check_memory("num_realizations", _SEED_SEQUENCE_BYTES * num_realizations,
                     f"a list of {num_realizations} seed sequences",
                     hint="draw the realizations in blocks with 'start'")
    return [_child(master, r) for r in range(start, start + num_realizations)]


def iter_realization_seeds(seed, start, count):
    """The seed sequences of realizations ``start, ..., start + count - 1``, one at a time.

    The lazy twin of :func:`realization_seeds` (same sequences): a chunk of 10^10
    realizations never holds 10^10 seeds in memory. The arguments are checked when it is
    called, not at the first ``next()``.

    Examples
    --------
    >>> [s.spawn_key for s in iter_realization_seeds(7, 2, 2)] == [
    ...     s.spawn_key for s in realization_seeds(7, 4)[2:]]
    True
    """
    master = check_seed(seed)
    start = check_int("start", start, minimum=0)
    count = check_int("count", count, minimum=0)
    return (_child(master, r) for r in range(start, start + count))


def seed_fingerprint(seed):
    """A JSON-able description of a master seed (an int and its ``SeedSequence`` agree)."""
    ss = check_seed(seed)
    entropy = ss.entropy
    entropy = [int(e) for e in entropy] if np.ndim(entropy) else int(entropy)
    return {"entropy": entropy, "spawn_key": [int(k) for k in ss.spawn_key],
            "pool_size": int(ss.pool_size)}


class Realization:
    """The random streams of one realization, from its seed (the module's table).

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The realization's seed, e.g. ``realization_seeds(s, R)[r]``.

    Attributes
    ----------
    seed : numpy.random.SeedSequence

    Examples
    --------
    >>> import chargetransport as ct
    >>> real = Realization(ct.realization_seeds(2010, 1)[0])
    >>> lat = ct.Lattice(2, 8)
    >>> bool((real.potential(lat) == ct.random_potential(lat, seed=real.seed)).all())
    True
    >>> theta = real.twist(2)
    >>> bool(((0 <= theta) & (theta < 1)).all())
    True
    """

    def __init__(self, seed):
        self.seed = check_seed(seed)

    def __repr__(self):
        return f"Realization(entropy={self.seed.entropy}, spawn_key={self.seed.spawn_key})"

    def stream(self, name):
        """The ``SeedSequence`` of the named stream (``STREAMS``: child index fixed by name)."""
        if name not in STREAMS:
            raise ValueError(f"'name' must be one of {sorted(STREAMS)}, got {name!r}")
        return _child(self.seed, STREAMS[name])

    def generator(self, name):
        """A fresh generator of the named stream (the same draws at every call)."""
        return np.random.Generator(np.random.PCG64(self.stream(name)))

    def potential(self, lattice, distribution="gaussian", decay_exponent=0.0):
        """The realization's potential: ``random_potential(lattice, distribution, seed=self.seed)``."""
        from .disorder import random_potential
        return random_potential(lattice, distribution, seed=self.seed,
                                decay_exponent=decay_exponent)

    def hamiltonian(self, lattice, eta, distribution="gaussian", decay_exponent=0.0):
        """``AndersonHamiltonian(lattice, eta, self.potential(lattice, ...))``."""
        from .hamiltonian import AndersonHamiltonian
        return AndersonHamiltonian(lattice, eta, self.potential(lattice, distribution,
                                                                decay_exponent))

    def twist(self, d):
        """Boundary twist ``theta``, uniform in ``[0, 1)^d``, from the ``twist`` stream.

        With twisted boundary conditions the box's momenta are
        ``(m + theta) / L``; averaging over ``theta`` fills in the momenta
        between the grid points.
        """
        d = check_int("d", d, minimum=1, maximum=3)
        return self.generator("twist").random(d)
