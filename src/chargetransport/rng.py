"""Seeded random numbers: one ``numpy.random.Generator`` per realization.

Every random draw in the package comes from a seed that is turned into a
``numpy.random.SeedSequence``. Realization ``r`` of seed ``s`` uses the
``r``-th child of ``SeedSequence(s)``, so it is the same whichever process,
thread or worker draws it, and whatever else was drawn before.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import check_int

__all__ = ["as_generator", "realization_seeds"]


def _as_seed_sequence(seed):
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


def as_generator(seed=None):
    """Return a ``numpy.random.Generator`` built from ``seed``.

    Parameters
    ----------
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` draws fresh entropy (not reproducible); an integer or a
        ``SeedSequence`` gives a reproducible stream; a ``Generator`` is used
        as it is (its state advances).

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.Generator(np.random.PCG64(_as_seed_sequence(seed)))


def realization_seeds(seed, num_realizations, start=0):
    """Seed sequences of realizations ``start, ..., start + num_realizations - 1``.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The ensemble's master seed.
    num_realizations : int
        How many realizations (>= 0).
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
    if seed is None or isinstance(seed, np.random.Generator):
        raise TypeError("'seed' must be an integer or a numpy.random.SeedSequence so that "
                        "realizations are reproducible")
    num_realizations = check_int("num_realizations", num_realizations, minimum=0)
    start = check_int("start", start, minimum=0)
    master = _as_seed_sequence(seed)
    # SeedSequence child r has spawn_key (..., r): build it directly, so that
    # realization r does not depend on how many children were spawned before.
    return [np.random.SeedSequence(master.entropy, spawn_key=master.spawn_key + (r,),
                                   pool_size=master.pool_size)
            for r in range(start, start + num_realizations)]
