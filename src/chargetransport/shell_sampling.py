"""Exact samples of the energy shells of the dispersion, and averages over them (section 2).

The energy shell (level set) of ``E`` is ``{k in T^d : e(k) = E}`` with the
dispersion ``e(k) = sum_i 2 cos(2 pi k_i)`` (:meth:`chargetransport.Lattice.dispersion`).
Its measure ``delta(e(k) - E) dk`` has total mass ``rho(E)``
(:func:`chargetransport.density_of_states`, coarea formula); the normalised
measure ``delta(e(U) - E) dU / rho(E)`` is the jump law of the Boltzmann
process of (2.11) and the shell average ``P`` is the projection of the
collision operator. :func:`sample_energy_shell` draws from the shell measure
exactly, on the torus; :func:`shell_average` averages a function over it;
:func:`critical_energies` are the energies where the measure is singular. The
sampler's Numba kernels are also the collision step of
:func:`chargetransport.boltzmann.kinetic_monte_carlo`.

Projections onto the level sets of a momentum grid are in :mod:`chargetransport.shells`.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._validation import check_int, check_memory, check_real, check_values_per_sample
from .rng import as_generator, check_seed

__all__ = ["critical_energies", "sample_energy_shell", "shell_average"]


# --------------------------------------------------------------------------
# Energy shells of e on the torus: exact sampling through the coarea formula
# --------------------------------------------------------------------------

def critical_energies(d):
    """Energies where grad e vanishes on the shell (van Hove points): the shell
    measure is singular there (rho_2 diverges at 0; rho_3 has cusps at +-2).

    Returns
    -------
    tuple of float
        d = 1: (-2, 2); d = 2: (-4, 0, 4); d = 3: (-6, -2, 2, 6).

    Examples
    --------
    >>> critical_energies(2)
    (-4.0, 0.0, 4.0)
    """
    d = check_int("d", d, minimum=1, maximum=3)
    return {1: (-2.0, 2.0), 2: (-4.0, 0.0, 4.0), 3: (-6.0, -2.0, 2.0, 6.0)}[d]


# cos(pi u) for the d = 3 proposals from a table at the cell midpoints a_k = (k + 1/2) / N
# and the addition formula: cos(pi u) = cos(pi a_k) cos(x) - sin(pi a_k) sin(x), x = pi (u - a_k),
# |x| <= pi / (2N); the Taylor polynomials below are exact to 1e-16 there (next terms
# x^6 / 720 and x^7 / 5040). A third of the cost of libm's cos in the sampler's loop. One
# more midpoint, k = N, serves u = 1 (a cell's end v0 + dv u can round up to 1).
_COS_PI_CELLS = 256
_COS_PI_MID = np.cos(np.pi * (np.arange(_COS_PI_CELLS + 1) + 0.5) / _COS_PI_CELLS)
_SIN_PI_MID = np.sin(np.pi * (np.arange(_COS_PI_CELLS + 1) + 0.5) / _COS_PI_CELLS)


@nb.njit(cache=True)
def _cos_pi(u):
    """cos(pi u) for u in [0, 1], to an absolute error of about 1e-16."""
    k = int(u * _COS_PI_CELLS)
    x = np.pi * (u - (k + 0.5) / _COS_PI_CELLS)
    x2 = x * x
    cos_x = 1.0 - x2 * (0.5 - x2 * (1.0 / 24.0))
    sin_x = x * (1.0 - x2 * (1.0 / 6.0 - x2 * (1.0 / 120.0)))
    return _COS_PI_MID[k] * cos_x - _SIN_PI_MID[k] * sin_x


# The d = 3 proposal of the outer coordinate t = c_3 (see _sample_shell_cosines): cells of
# arcsine laws, chosen by an alias table. Row k of a shell table: the cell's range
# [v0, v0 + dv) of the angle v, t = m + r cos(pi v), f = sigma (t - h) = |c_1 + c_2|, the
# acceptance test w^2 (a0 + a1 t)(1 + y)(1 + f - y) <= n0 + n1 t, and the alias (probability,
# other row) of the row.
_SHELL_CELLS = 8
_SHELL_COLUMNS = 11
_V0, _DV, _M, _R, _SIGMA, _A0, _A1, _N0, _N1, _KEEP, _ALIAS = range(_SHELL_COLUMNS)


@nb.njit(cache=True)
def _fill_shell_table(E, table):
    """Fill the d = 3 shell table of the energy E (shape (_SHELL_CELLS, _SHELL_COLUMNS)).

    With h = |E| / 2, eps_i = 2 c_i: the joint density of (t, y) = (c_3, |c_1|) is
    (1 - t^2)^{-1/2} arcsine_f(y) g(y) (up to a constant), g <= (2 f)^{-1/2}. Hence the
    envelope pi arcsine_P(t) rho_P(t) arcsine_f(y) on each piece P of the t-range, arcsine_P
    the arcsine law of P:

    * h < 1, P = [h, 1] (f = t - h): rho = (2 (1 + t))^{-1/2}, decreasing in t;
    * h < 1, P = [-1, h] (f = h - t): rho = (2 (1 - t))^{-1/2}, increasing in t;
    * h > 1, P = [h - 2, 1] (f = h - t <= 2): rho = ((t - h + 2) / (2 (1 + t)(h - t)))^{1/2},
      increasing in t (partial fractions: its square is
      2 / ((1 + h)(h - t)) - (h - 1) / ((1 + h)(1 + t))).

    Each piece is cut into cells of equal arcsine mass (equal ranges of v); in a cell rho is
    bounded by its value at the cell's end (monotone), so the cell has envelope mass
    proportional to that bound s, and a proposal in it is accepted with probability
    sqrt(rho(t)^2 / s^2 * 2 f / ((1 + y)(1 + f - y))) <= 1. Bounds are raised by 1e-12 so
    that rounding of t cannot push a ratio above 1.
    """
    h = 0.5 * abs(E)
    n = _SHELL_CELLS
    if h < 1.0:
        per_piece = n // 2
        for k in range(n):
            above = k < per_piece              # the piece t > h first
            j = k % per_piece
            table[k, _V0] = j / per_piece
            table[k, _DV] = 1.0 / per_piece
            if above:
                table[k, _M] = 0.5 * (1.0 + h)
                table[k, _R] = 0.5 * (1.0 - h)
                t_end = table[k, _M] + table[k, _R] * np.cos(np.pi * (j + 1) / per_piece)
                bound2 = 1.0 / (2.0 * (1.0 + t_end)) * (1.0 + 1e-12)
                table[k, _SIGMA] = 1.0
                table[k, _A1] = bound2
                table[k, _N0], table[k, _N1] = -h, 1.0
            else:
                table[k, _M] = 0.5 * (h - 1.0)
                table[k, _R] = 0.5 * (1.0 + h)
                t_end = table[k, _M] + table[k, _R] * np.cos(np.pi * j / per_piece)
                bound2 = 1.0 / (2.0 * (1.0 - t_end)) * (1.0 + 1e-12)
                table[k, _SIGMA] = -1.0
                table[k, _A1] = -bound2
                table[k, _N0], table[k, _N1] = h, -1.0
            table[k, _A0] = bound2
            table[k, _KEEP] = np.sqrt(bound2)  # envelope mass, normalised below
    else:
        for k in range(n):
            table[k, _V0] = k / n
            table[k, _DV] = 1.0 / n
            table[k, _M] = 0.5 * (h - 1.0)
            table[k, _R] = 0.5 * (3.0 - h)
            t_end = table[k, _M] + table[k, _R] * np.cos(np.pi * k / n)
            bound2 = (t_end - h + 2.0) / (2.0 * (1.0 + t_end) * (h - t_end)) * (1.0 + 1e-12)
            table[k, _SIGMA] = -1.0
            # rho^2 / bound2 * 2 f / (...) with f = h - t: (t - h + 2) / ((1 + t) bound2 (...))
            table[k, _A0], table[k, _A1] = bound2, bound2
            table[k, _N0], table[k, _N1] = 2.0 - h, 1.0
            table[k, _KEEP] = np.sqrt(bound2)
    # alias table (Vose) of the cell probabilities: row k is kept with probability
    # KEEP, else its ALIAS row is used
    total = 0.0
    for k in range(n):
        total += table[k, _KEEP]
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = 0
    n_large = 0
    for k in range(n):
        table[k, _KEEP] *= n / total
        table[k, _ALIAS] = k
        if table[k, _KEEP] < 1.0:
            small[n_small] = k
            n_small += 1
        else:
            large[n_large] = k
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        table[s, _ALIAS] = g
        table[g, _KEEP] -= 1.0 - table[s, _KEEP]
        if table[g, _KEEP] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    for k in range(n_large):
        table[large[k], _KEEP] = 1.0
    for k in range(n_small):                  # leftovers of rounding
        table[small[k], _KEEP] = 1.0


def _shell_table(E):
    """The d = 3 shell table of E (:func:`_fill_shell_table`)."""
    table = np.empty((_SHELL_CELLS, _SHELL_COLUMNS))
    _fill_shell_table(E, table)
    return table


# The d = 3 sampler reads its uniforms from a block filled by a tight loop of rng.random()
# (half the cost per number of drawing them one by one between the sampler's arithmetic).
# The block is a function of the seed: the draws stay reproducible.
_UNIFORM_BLOCK = 256


@nb.njit(cache=True)
def _fill_uniforms(rng, block):
    for k in range(block.size):
        block[k] = rng.random()


@nb.njit(cache=True)
def _sample_shell_cosines(E, d, table, rng, block, cursor):
    """Draw one momentum U exactly from the shell measure delta(e(U) - E) dU (normalised).

    Returns ``(c_1, c_2, c_3, branches, proposals, cursor)``: ``c_i = cos(2 pi U_i)`` (0
    beyond d), bit i of ``branches`` set iff U_i is in [1/2, 1) (:func:`_momentum_from_cosine`),
    the number of proposals made, and the position of the next unused uniform of ``block``
    (d = 3 only; a cursor past the end of the block asks for a refill from ``rng``). The
    velocity ``-2 sin(2 pi U_i) = -+2 sqrt(1 - c_i^2)`` needs no inverse trig call. Scalars
    out, so that the caller's hot loop allocates nothing.

    Under uniform U the c_i are i.i.d. with the arcsine density 1 / (pi sqrt(1 - x^2)) on
    [-1, 1], each U_i is either preimage of c_i with probability 1/2, and the shell
    measure is the law of (c_i) conditioned on sum c_i = E / 2 (coarea formula).

    * d = 1: c_1 = E / 2.
    * d = 2: with F = |E| / 2, c_1 has density arcsine_F(x) g(x) on [F - 1, 1] (E < 0 by
      the symmetry c -> -c), arcsine_F the arcsine law of that interval and
      g(x) = ((1 + x)(1 + F - x))^{-1/2} <= (2F)^{-1/2}: propose from arcsine_F, accept
      with probability g / sup g (acceptance 2 pi sqrt(|E|) rho_2(E), 0.89 at E = 1).
      One uniform per branch, drawn from ``rng`` (``table`` and ``block`` unused).
    * d = 3: h = |E| / 2 (E < 0 by symmetry). The outer coordinate t = c_3 has density
      (1 - t^2)^{-1/2} times the d = 2 normalisation at f = |h - t|, and (c_1, c_2) given t
      is the d = 2 law of the sum h - t = +-f. Propose t from the cells of ``table``
      (:func:`_fill_shell_table`: arcsine laws with their singularity at t = h, where the
      d = 2 normalisation behaves like f^{-1/2}), then y = |c_1| from arcsine_f as in
      d = 2, and accept the pair with the probability that makes it exact (acceptance
      0.73 at E = 0, 0.69 at |E| = 1, 0.55 at 1.8, 0.72 at 2.2, 0.91 at the band edges;
      0.25 at 1.99: the van Hove energy 2. The former chart sampler: 0.26 at 1, 0.03 at
      1.99, 0.005 at 5.9). Uniforms from ``block``; the three branches are the three
      leading bits of one uniform.
    """
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    proposals = 1
    if d == 1:
        c1 = 0.5 * E
    elif d == 2:
        F = abs(E)
        a = F - 2.0
        gmax = 1.0 / np.sqrt(4.0 * F)
        while True:
            x = 0.5 * (a + 2.0) + 0.5 * (2.0 - a) * np.cos(np.pi * rng.random())
            g = 1.0 / np.sqrt((2.0 + x) * (2.0 + F - x))
            if rng.random() * gmax <= g:
                break
            proposals += 1
        sign = 1.0 if E > 0 else -1.0
        c1 = 0.5 * sign * x
        c2 = 0.5 * sign * (F - x)
    else:
        h = 0.5 * abs(E)
        while True:
            if cursor > block.size - 6:       # 5 uniforms a proposal, 1 for the branches
                _fill_uniforms(rng, block)
                cursor = 0
            x = _SHELL_CELLS * block[cursor]
            k = int(x)
            if x - k >= table[k, _KEEP]:
                k = int(table[k, _ALIAS])
            t = table[k, _M] + table[k, _R] * _cos_pi(table[k, _V0]
                                                      + table[k, _DV] * block[cursor + 1])
            f = table[k, _SIGMA] * (t - h)
            y = 0.5 * f + (1.0 - 0.5 * f) * _cos_pi(block[cursor + 2])
            w = block[cursor + 3]
            cursor += 4
            if (w * w * (table[k, _A0] + table[k, _A1] * t) * (1.0 + y) * (1.0 + f - y)
                    <= table[k, _N0] + table[k, _N1] * t):
                break
            proposals += 1
        # c_1 + c_2 = h - t = -sigma f
        sign = -table[k, _SIGMA] if E > 0 else table[k, _SIGMA]
        c1 = sign * y
        c2 = sign * (f - y)
        c3 = t if E > 0 else -t
    # rounding can leave |c| above 1 by an ulp: clip (the energy moves by rounding only)
    c1 = min(1.0, max(-1.0, c1))
    c2 = min(1.0, max(-1.0, c2))
    c3 = min(1.0, max(-1.0, c3))
    branches = 0
    if d < 3:
        for i in range(d):
            if not rng.random() < 0.5:
                branches |= 1 << i
    else:
        branches = int(8.0 * block[cursor])   # 3 independent fair bits
        cursor += 1
    return c1, c2, c3, branches, proposals, cursor


@nb.njit(cache=True)
def _momentum_from_cosine(c, branches, i):
    """The preimage U in [0, 1) of cos(2 pi U) = c on the branch of bit i (set: U >= 1/2)."""
    u = np.arccos(c) / (2.0 * np.pi)
    return 1.0 - u if (branches >> i) & 1 else u


@nb.njit(cache=True)
def _velocity_from_cosine(c, branches, i):
    """-2 sin(2 pi U) for the preimage U of cos(2 pi U) = c on the branch of bit i."""
    speed = 2.0 * np.sqrt(1.0 - c * c)
    return speed if (branches >> i) & 1 else -speed


def _check_shell_energies(E, d):
    """Raise unless every energy of ``E`` is regular: inside the band, not a critical energy."""
    E = np.asarray(E, dtype=float)
    critical = np.array(critical_energies(d))
    bad = (np.abs(E) >= 2 * d) | np.any(np.abs(E[..., None] - critical) < 1e-9, axis=-1)
    if np.any(bad):
        first = float(np.ravel(E)[np.argmax(np.ravel(bad))])
        raise ValueError(f"energy {first} is a critical energy {critical_energies(d)} or outside "
                         f"the band (-{2 * d}, {2 * d}) in d = {d}: the energy shell has no "
                         "regular measure there")


@nb.njit(cache=True)
def _sample_shell_many(E, d, rng, n):
    """n shell samples (rows of U) and the number of proposals they took."""
    out = np.empty((n, d))
    table = np.empty((_SHELL_CELLS, _SHELL_COLUMNS))
    if d == 3:
        _fill_shell_table(E, table)
    block = np.empty(_UNIFORM_BLOCK)
    cursor = block.size
    proposals = 0
    for k in range(n):
        c1, c2, c3, branches, tries, cursor = _sample_shell_cosines(E, d, table, rng, block,
                                                                    cursor)
        proposals += tries
        out[k, 0] = _momentum_from_cosine(c1, branches, 0)
        if d > 1:
            out[k, 1] = _momentum_from_cosine(c2, branches, 1)
        if d > 2:
            out[k, 2] = _momentum_from_cosine(c3, branches, 2)
    return out, proposals


def sample_energy_shell(E, d, num_samples, seed):
    """Exact samples of the normalised shell measure ``delta(e(U) - E) dU / rho(E)``.

    Parameters
    ----------
    E : float
        Energy, inside the band and not a critical energy (see :func:`critical_energies`).
    d : int
    num_samples : int
    seed : int, SeedSequence or Generator
        Required (the seed policy of :mod:`chargetransport.rng`).

    Returns
    -------
    numpy.ndarray, shape (num_samples, d)
        Momenta on the torus [0, 1)^d with ``e(U) = E`` to rounding.

    Notes
    -----
    This is the jump law of the Boltzmann process: ``sigma(U, V) dU / m(V)``.
    The coarea formula writes ``delta(e - E) dU`` as ``dS / |grad e|`` on the
    shell; with ``eps_i = 2 cos(2 pi U_i)``, i.i.d. arcsine variables under
    uniform U, it is the law of ``(eps_i)`` conditioned on ``sum eps_i = E``,
    each ``U_i`` one of the two preimages of ``eps_i`` at random. In d = 2 the
    sampler draws ``eps_1`` from its exact conditional law by rejection from an
    arcsine law (acceptance ``2 pi sqrt(|E|) rho_2(E)``, 0.89 at E = 1). In d = 3
    it draws ``eps_3`` from eight cells of arcsine laws that put a
    ``|eps_3 - E|^{-1/2}`` singularity where ``(eps_1, eps_2)`` lose their
    room, and ``eps_1`` given ``eps_3`` as in d = 2, and accepts the pair with
    the exact ratio of densities (acceptance ``2 pi rho_3(E)`` over the
    envelope's mass: 0.69 at E = 1, 0.55 to 0.91 for ``||E| - 2| >= 0.2``; 0.26
    at E = 1 for the chart sampler it replaced). Both
    are exact; their cost grows near the critical energies, where the shell
    measure is singular. The d = 3 sampler reads its uniforms from blocks of
    ``rng.random()``, so a given ``Generator`` advances by whole blocks.

    Examples
    --------
    >>> from chargetransport import dispersion
    >>> U = sample_energy_shell(1.5, 3, 1000, seed=0)
    >>> bool(np.abs(dispersion(U) - 1.5).max() < 1e-12)
    True
    """
    d = check_int("d", d, minimum=1, maximum=3)
    E = check_real("E", E)
    num_samples = check_int("num_samples", num_samples, minimum=0)
    check_memory("num_samples", 8 * d * num_samples, f"{num_samples} momenta in d = {d}")
    rng = as_generator(check_seed(seed, allow_generator=True))
    _check_shell_energies(E, d)
    return _sample_shell_many(E, d, rng, num_samples)[0]


def shell_average(J, E, d, num_samples=200_000, seed=0):
    """Average of a function over the energy shell: ``(P J)(E)`` with its standard error.

    Parameters
    ----------
    J : callable
        ``J(U)`` for an array ``U`` of shape (n, d) of momenta; returns shape (n,).
    E : float
    d : int
    num_samples : int, default 200000
        Exact shell samples (Monte Carlo error ~ std(J) / sqrt(num_samples)).
    seed : int, SeedSequence or Generator, default 0
        An estimate with its error: reproducible default (:mod:`chargetransport.rng`).

    Returns
    -------
    mean, standard_error : float

    Examples
    --------
    >>> from chargetransport import dispersion
    >>> mean, se = shell_average(dispersion, 1.0, 2, num_samples=1000)   # e = E on the shell
    >>> round(mean, 12), se < 1e-12
    (1.0, True)
    """
    if not callable(J):
        raise TypeError(f"'J' must be a callable J(U) -> (n,), got {type(J).__name__}")
    num_samples = check_int("num_samples", num_samples, minimum=2)
    U = sample_energy_shell(E, d, num_samples, seed)
    values = check_values_per_sample("'J'", J(U), len(U), "momentum")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))
