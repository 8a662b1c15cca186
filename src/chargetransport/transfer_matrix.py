"""Transfer matrices of the chain: the Lyapunov exponent and localization length in 1D.

Lower bounds on localization lengths (section 4 of the lectures) are measured against
the localization lengths themselves, computed by the transfer-matrix method:

* :func:`lyapunov_exponent`: the Lyapunov exponent ``gamma(E)`` of the Anderson
  model ``H = Delta + eta V`` on ``Z`` from the transfer-matrix recursion
  ``psi_{n+1} = (E - eta w_n) psi_n - psi_{n-1}``; the localization length is
  ``xi = 1 / gamma``. :func:`thouless_exponent` is its weak-disorder limit.

Strips and bars (``d = 2, 3``, the MacKinnon-Kramer method) are in
:mod:`chargetransport.strip_transfer_matrix`, which draws its disorder and estimates
its errors with the helpers here. The eigenvector diagnostics and the spreading
functional of section 4 are in :mod:`chargetransport.localization`.

Disorder. The site variables ``w`` are those of :func:`chargetransport.random_potential`
(``"gaussian"``, ``"bernoulli"``, ``"uniform"``; ``E[w] = 0``, ``E[w^2] = 1``),
drawn in blocks from one seeded ``numpy.random.Generator``. The physics literature
on the Anderson transition uses *box disorder of width W*: site energies uniform on
``[-W/2, W/2]``. That is ``eta V`` with the unit-variance ``"uniform"`` law and
``eta = W / sqrt(12)`` (:func:`box_disorder_eta`); the strip functions accept
``box_width=W`` as a shortcut.

Errors. The log-growth along the chain (or strip) is cut into ``num_blocks``
consecutive blocks; the exponent is the total growth over the total length and
its error the standard error of the block means. Blocks much longer than the
localization length are nearly independent, so this is an honest one-sigma error
as long as ``n_steps / num_blocks >> xi``.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import math

import numpy as np
from numba import njit

from ._validation import check_int, check_memory, check_real, check_real_array
from .disorder import DISTRIBUTIONS, random_potential
from .lattice import Lattice
from .rng import as_generator, check_seed

__all__ = ["LyapunovResult", "box_disorder_eta", "lyapunov_exponent", "thouless_exponent"]

# Random numbers are drawn (and the kernels run) in chunks of this many site values:
# 2^18 doubles = 2 MiB, large enough that the per-chunk Python overhead (~20 us) is
# negligible, small enough to stay in cache.
_CHUNK_VALUES = 1 << 18
# The 1D recursion is renormalised every _RENORM steps (one log per _RENORM steps).
_RENORM = 16
# Largest disorder accepted: (|E| + 2 + eta * 10)^_RENORM must stay far below 1e308.
_MAX_ETA = 1e6


# --------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------
def _draw(rng, distribution, count):
    """``count`` i.i.d. site variables, exactly as :func:`random_potential` draws them."""
    return random_potential(Lattice(d=1, L=max(count, 3)), distribution, seed=rng)[:count]


def _prefetched_draws(rng, distribution, counts):
    """Yield ``_draw(rng, distribution, c)`` for each ``c`` in ``counts``, in order.

    The next chunk is drawn in a helper thread while the caller's (GIL-free) Numba
    kernel consumes the current one; the draws are still made one after the other
    from the same generator, so the stream does not depend on the overlap.
    """
    counts = iter(counts)   # lazy: a long chain must not build a list of its chunks
    first = next(counts, None)
    if first is None:
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_draw, rng, distribution, first)
        for nxt in counts:
            current = future.result()
            future = pool.submit(_draw, rng, distribution, nxt)
            yield current
        yield future.result()


def _check_distribution(distribution):
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"'distribution' must be one of {DISTRIBUTIONS}, got {distribution!r}")
    return distribution


def box_disorder_eta(box_width):
    """Disorder strength ``eta`` equivalent to box disorder of width ``W``.

    Site energies uniform on ``[-W/2, W/2]`` have variance ``W^2 / 12``; with the
    package's unit-variance ``"uniform"`` law they are ``eta w`` with
    ``eta = W / sqrt(12)``.

    Examples
    --------
    >>> round(box_disorder_eta(16.5), 4)
    4.7631
    """
    W = check_real("box_width", box_width, minimum=0.0)
    return W / math.sqrt(12.0)


def thouless_exponent(E, eta):
    """Weak-disorder (Thouless) Lyapunov exponent of the 1D Anderson model.

    ``gamma(E) = eta^2 / (2 (4 - E^2))`` for ``|E| < 2``, to leading order in
    ``eta``, with ``E[w^2] = 1`` and hopping 1 (second-order perturbation
    theory of the transfer-matrix recursion; see the chapter for the derivation).
    It fails at ``E = 0`` (Kappus-Wegner anomaly) and near ``|E| = 2``.

    Parameters
    ----------
    E : float or array_like, ``|E| < 2``
    eta : float, ``eta >= 0``

    Returns
    -------
    float or numpy.ndarray
    """
    eta = check_real("eta", eta, minimum=0.0)
    scalar = np.ndim(E) == 0
    Es = np.atleast_1d(check_real_array("E", E))
    if np.any(np.abs(Es) >= 2.0):
        raise ValueError("'E' must lie inside the band, |E| < 2")
    out = eta**2 / (2.0 * (4.0 - Es**2))
    return float(out[0]) if scalar else out


# --------------------------------------------------------------------------------------
# One dimension
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _chain_chunk(energies, eta, w, state, block_len, step0, block_logs):
    """Advance one recursion per energy over the site values ``w``.

    ``state[0, e], state[1, e] = psi_n, psi_{n-1}`` (renormalised); the log of every
    renormalisation factor is added to ``block_logs[e, b]`` with ``b`` the block of
    the global step index. ``step0`` is the global index of ``w[0]``; chunks are
    multiples of the renormalisation interval. The energy loop is innermost, so
    independent recursions fill the pipeline and SIMD lanes.
    """
    num_e = energies.shape[0]
    n = w.shape[0]
    a = state[0]
    b = state[1]
    for i0 in range(0, n, _RENORM):
        i1 = min(i0 + _RENORM, n)
        for i in range(i0, i1):
            v = eta * w[i]
            for e in range(num_e):
                c = (energies[e] - v) * a[e] - b[e]
                b[e] = a[e]
                a[e] = c
        blk = (step0 + i1 - 1) // block_len
        for e in range(num_e):
            s = abs(a[e]) + abs(b[e])
            a[e] /= s
            b[e] /= s
            block_logs[e, blk] += math.log(s)


@dataclasses.dataclass(frozen=True)
class LyapunovResult:
    """Lyapunov exponent of the 1D chain with its statistical error.

    Attributes
    ----------
    energy : float or numpy.ndarray
    exponent : float or numpy.ndarray
        ``gamma``, per unit length (lattice spacing 1).
    error : float or numpy.ndarray
        One-sigma standard error of ``exponent`` from the block means.
    n_steps, num_blocks : int
    """

    energy: object
    exponent: object
    error: object
    n_steps: int
    num_blocks: int

    @property
    def localization_length(self):
        """``xi = 1 / gamma`` (``inf`` where ``gamma <= 0``)."""
        g = np.asarray(self.exponent, dtype=float)
        with np.errstate(divide="ignore"):
            xi = np.where(g > 0, 1.0 / np.where(g > 0, g, 1.0), np.inf)
        return float(xi) if xi.ndim == 0 else xi

    @property
    def localization_length_error(self):
        """Error of ``xi`` propagated from that of ``gamma``: ``err / gamma^2``."""
        g = np.asarray(self.exponent, dtype=float)
        e = np.asarray(self.error, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(g > 0, e / np.where(g > 0, g, 1.0) ** 2, np.inf)
        return float(out) if out.ndim == 0 else out


def _block_statistics(block_logs, block_len, n_steps):
    """Exponent (total/n) and standard error of the block means (last axis = blocks)."""
    total = block_logs.sum(axis=-1) / n_steps
    means = block_logs / block_len
    k = block_logs.shape[-1]
    error = means.std(axis=-1, ddof=1) / math.sqrt(k) if k > 1 else np.full(total.shape, np.nan)
    return total, error


def lyapunov_exponent(E, eta, n_steps, distribution="gaussian", seed=0, *, num_blocks=100):
    """Lyapunov exponent of ``H = Delta + eta V`` on ``Z`` by the transfer-matrix method.

    Parameters
    ----------
    E : float or array_like of float
        Energy (or energies, all computed along the *same* disorder realization,
        which costs one random number per step in total).
    eta : float
        Disorder strength, ``0 <= eta <= 1e6``.
    n_steps : int
        Length of the chain, a multiple of ``16 * num_blocks`` (rounded up to one).
    distribution : {"gaussian", "bernoulli", "uniform"}, default "gaussian"
        Law of ``w_n`` (unit variance, see :func:`chargetransport.random_potential`).
    seed : int, SeedSequence or Generator, default 0
    num_blocks : int, default 100
        Number of blocks for the error estimate, ``2 <= num_blocks <= n_steps // 16``
        (a block holds at least one renormalisation interval).

    Returns
    -------
    LyapunovResult
        ``exponent`` ``gamma`` (same shape as ``E``), ``error``,
        ``localization_length = 1/gamma``.

    Notes
    -----
    With ``(Delta psi)(n) = psi(n+1) + psi(n-1)`` the eigenvalue equation
    ``H psi = E psi`` is ``psi_{n+1} = (E - eta w_n) psi_n - psi_{n-1}``, a product
    of ``SL(2, R)`` transfer matrices; by Furstenberg's theorem
    ``gamma = lim (1/n) log ||(psi_n, psi_{n-1})||`` exists almost surely and is
    positive for ``eta > 0``. The vector is renormalised every 16 steps and the
    logs of the norms summed. For ``eta = 0``, ``gamma = arccosh(|E|/2)`` outside
    the band and 0 inside.

    Examples
    --------
    >>> r = lyapunov_exponent(1.0, 0.3, 2**20, seed=1)
    >>> abs(r.exponent / thouless_exponent(1.0, 0.3) - 1) < 0.1
    True
    """
    scalar = np.ndim(E) == 0
    energies = np.ascontiguousarray(np.atleast_1d(check_real_array("E", E)), dtype=np.float64)
    if energies.ndim != 1 or energies.size == 0:
        raise ValueError("'E' must be a number or a non-empty 1D array of energies")
    eta = check_real("eta", eta, minimum=0.0, maximum=_MAX_ETA)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    _check_distribution(distribution)
    num_blocks = check_int("num_blocks", num_blocks, minimum=2)
    if num_blocks > max(2, n_steps // _RENORM):
        raise ValueError(f"'num_blocks' = {num_blocks} blocks of at least {_RENORM} steps need "
                         f"n_steps >= {_RENORM * num_blocks}, got 'n_steps' = {n_steps}")
    block_len = _RENORM * math.ceil(n_steps / (_RENORM * num_blocks))
    n_steps = block_len * num_blocks
    if np.any(np.abs(energies) > 1e6):
        raise ValueError("'E' must satisfy |E| <= 1e6")
    check_memory("num_blocks", 8 * energies.size * num_blocks,
                 f"the block sums of {energies.size} energies x {num_blocks} blocks")
    rng = as_generator(check_seed(seed, allow_generator=True))
    state = np.zeros((2, energies.size))
    state[0] = 1.0
    block_logs = np.zeros((energies.size, num_blocks))
    chunk = _RENORM * (_CHUNK_VALUES // _RENORM)
    counts = (min(chunk, n_steps - start) for start in range(0, n_steps, chunk))
    done = 0
    for w in _prefetched_draws(rng, distribution, counts):
        _chain_chunk(energies, eta, w, state, block_len, done, block_logs)
        done += w.shape[0]
    gamma, error = _block_statistics(block_logs, block_len, n_steps)
    if scalar:
        return LyapunovResult(float(energies[0]), float(gamma[0]), float(error[0]),
                              n_steps, num_blocks)
    return LyapunovResult(energies, gamma, error, n_steps, num_blocks)
