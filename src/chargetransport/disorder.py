"""Random potentials ``omega_x``: i.i.d., centred, unit variance (paper eq. (2.2))."""
from __future__ import annotations

import numpy as np

from ._validation import check_instance, check_real
from .lattice import Lattice
from .rng import as_generator, check_seed

__all__ = ["random_potential", "DISTRIBUTIONS"]

#: Supported single-site distributions, each with E[w] = 0 and E[w^2] = 1.
DISTRIBUTIONS = ("gaussian", "bernoulli", "uniform")


def random_potential(lattice, distribution="gaussian", *, seed, decay_exponent=0.0):
    """Draw one realization of the random potential on a lattice.

    Parameters
    ----------
    lattice : Lattice
    distribution : {"gaussian", "bernoulli", "uniform"}, default "gaussian"
        Law of the i.i.d. variables ``w_x``, always normalised to
        ``E[w] = 0``, ``E[w^2] = 1``: standard normal; ``+-1`` with probability
        1/2 each; uniform on ``[-sqrt 3, sqrt 3]``. (Box disorder of width W in
        the physics literature is ``eta = W / sqrt(12)`` with "uniform".)
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Required (see the seed policy of :mod:`chargetransport.rng`); the same
        seed gives the same potential on every machine and thread count. The
        potential of realization ``ss`` of an ensemble is
        ``random_potential(lattice, distribution, seed=ss)``
        (:meth:`chargetransport.rng.Realization.potential`).
    decay_exponent : float, default 0
        ``sigma >= 0``: multiply by the envelope ``<x>^{-sigma}``,
        ``<x> = sqrt(1 + |x|^2)``, with ``x`` the centred coordinate (origin in
        the middle of the box). Section 4.1 of the paper studies such decaying
        potentials; ``sigma = 0`` is the ordinary Anderson model.

    Returns
    -------
    numpy.ndarray of float64, shape ``lattice.shape``

    Examples
    --------
    >>> V = random_potential(Lattice(d=3, L=16), "bernoulli", seed=1)
    >>> sorted(set(V.ravel().tolist()))
    [-1.0, 1.0]
    """
    check_instance("lattice", lattice, Lattice)
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"'distribution' must be one of {DISTRIBUTIONS}, got {distribution!r}")
    sigma = check_real("decay_exponent", decay_exponent, minimum=0.0)
    rng = as_generator(check_seed(seed, allow_generator=True))
    shape = lattice.shape
    if distribution == "gaussian":
        w = rng.standard_normal(shape)
    elif distribution == "bernoulli":
        w = 2.0 * rng.integers(0, 2, size=shape).astype(np.float64) - 1.0
    else:
        w = rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=shape)
    if sigma > 0.0:
        r2 = sum(x**2 for x in lattice.coordinates(sparse=True))
        w *= (1.0 + r2) ** (-sigma / 2.0)
    return w
