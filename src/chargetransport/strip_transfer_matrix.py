"""Transfer matrices of strips and bars: the MacKinnon-Kramer Lyapunov spectrum.

Lower bounds on localization lengths (section 4 of the lectures) in ``d = 2, 3`` are
measured against the localization lengths of quasi-one-dimensional systems, computed
here by the transfer-matrix method of MacKinnon and Kramer:

* :func:`strip_lyapunov_exponents`: the Lyapunov spectrum of a strip (``d = 2``,
  cross-section ``M``) or bar (``d = 3``, cross-section ``M x M``) with periodic
  transverse boundaries; the smallest positive exponent ``gamma_M`` defines
  ``xi_M = 1/gamma_M`` and the normalised length ``Lambda_M = xi_M / M``
  (:class:`StripResult`).
* :func:`strip_lyapunov_scan` runs a table of widths and disorder strengths on all cores.

The one-dimensional chain, the disorder draws and the block errors shared with it (and
the box-disorder convention ``eta = W / sqrt(12)``) are in
:mod:`chargetransport.transfer_matrix`.

Errors. The log-growth of every exponent along the strip is cut into ``num_blocks``
consecutive blocks; the exponent is the total growth over the total length and its
error the standard error of the block means, an honest one-sigma error as long as
the blocks are much longer than the localization length.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import math

import numpy as np
from numba import njit

from ._validation import check_int, check_memory, check_real
from .rng import as_generator, check_seed, realization_seeds
from .transfer_matrix import (_CHUNK_VALUES, _MAX_ETA, _block_statistics, _check_distribution,
                              _prefetched_draws, box_disorder_eta)

__all__ = ["StripResult", "strip_lyapunov_exponents", "strip_lyapunov_scan"]


def _transverse_neighbours(M, d):
    """Neighbour table of the periodic cross-section (``M`` or ``M x M`` sites)."""
    if d == 2:
        idx = np.arange(M)
        return np.stack([(idx + 1) % M, (idx - 1) % M], axis=1).astype(np.int64)
    i, j = np.meshgrid(np.arange(M), np.arange(M), indexing="ij")
    i, j = i.ravel(), j.ravel()
    site = lambda a, b: (a % M) * M + (b % M)  # noqa: E731
    return np.stack([site(i + 1, j), site(i - 1, j), site(i, j + 1), site(i, j - 1)],
                    axis=1).astype(np.int64)


@njit(cache=True, nogil=True)
def _mgs(A, B, logs):
    """Modified Gram-Schmidt on the rows ``k`` of ``[A | B]`` (vectors of length 2N).

    Row ``k`` is orthogonalised against rows ``< k`` and normalised; ``logs[k]``
    receives ``log |R_kk|``. Done twice per row (re-orthogonalisation) so the
    result is orthonormal to rounding whatever the conditioning.
    """
    K, N = A.shape
    for k in range(K):
        for _ in range(2):
            for j in range(k):
                dot = 0.0
                for s in range(N):
                    dot += A[j, s] * A[k, s] + B[j, s] * B[k, s]
                for s in range(N):
                    A[k, s] -= dot * A[j, s]
                    B[k, s] -= dot * B[j, s]
            nrm = 0.0
            for s in range(N):
                nrm += A[k, s] * A[k, s] + B[k, s] * B[k, s]
            nrm = math.sqrt(nrm)
            if _ == 0:
                logs[k] = math.log(nrm)
            else:
                logs[k] += math.log(nrm)
            for s in range(N):
                A[k, s] /= nrm
                B[k, s] /= nrm


@njit(cache=True, nogil=True)
def _strip_chunk(E, eta, w, nbr, A, B, reorth, step0, block_len, block_logs, logs):
    """Advance the ``K`` vectors (rows of A = psi_n, B = psi_{n-1}) over the slices of ``w``.

    ``w`` has shape (num_slices, N). Every ``reorth`` global steps the vectors are
    re-orthonormalised and ``log |R_kk|`` is added to ``block_logs[k, block]``.
    """
    K, N = A.shape
    z = nbr.shape[1]
    for n in range(w.shape[0]):
        for k in range(K):
            for s in range(N):
                acc = (E - eta * w[n, s]) * A[k, s] - B[k, s]
                for q in range(z):
                    acc -= A[k, nbr[s, q]]
                B[k, s] = acc
        # swap roles: new psi_n is in B, old psi_n becomes psi_{n-1}
        A, B = B, A
        step = step0 + n + 1
        if step % reorth == 0:
            _mgs(A, B, logs)
            b = (step - 1) // block_len
            for k in range(K):
                block_logs[k, b] += logs[k]
    return A, B


@dataclasses.dataclass(frozen=True)
class StripResult:
    """Lyapunov spectrum of a quasi-1D strip (d = 2) or bar (d = 3).

    Attributes
    ----------
    energy : float
    width : int
        ``M``; the cross-section has ``N = M^{d-1}`` sites.
    d : int
    eta : float
    exponents : numpy.ndarray, shape (N,)
        The ``N`` non-negative Lyapunov exponents, largest first.
    errors : numpy.ndarray, shape (N,)
        One-sigma standard errors from the block means.
    n_steps, num_blocks, reorth_every : int
    """

    energy: float
    width: int
    d: int
    eta: float
    exponents: np.ndarray
    errors: np.ndarray
    n_steps: int
    num_blocks: int
    reorth_every: int

    @property
    def smallest_exponent(self):
        """``gamma_M``, the smallest non-negative Lyapunov exponent."""
        return float(self.exponents[-1])

    @property
    def smallest_exponent_error(self):
        return float(self.errors[-1])

    @property
    def resolved(self):
        """Whether ``gamma_M`` is resolved from zero: more than twice its standard error.

        A clean strip inside the band (``eta = 0``) has ``gamma_M = 0`` exactly; its
        estimate is then rounding noise of either sign, and ``1 / gamma_M`` means nothing.
        """
        return self.smallest_exponent > 2 * self.smallest_exponent_error

    @property
    def localization_length(self):
        """``xi_M = 1 / gamma_M``; ``inf`` where ``gamma_M`` is not resolved from zero
        (:attr:`resolved`), e.g. a clean strip in the band."""
        return 1.0 / self.smallest_exponent if self.resolved else math.inf

    @property
    def localization_length_error(self):
        """Error of ``xi_M`` from that of ``gamma_M``: ``err / gamma_M^2`` (``inf`` where
        ``gamma_M`` is not resolved from zero)."""
        gamma = self.smallest_exponent
        return self.smallest_exponent_error / gamma**2 if self.resolved else math.inf

    @property
    def normalized_length(self):
        """``Lambda_M = xi_M / M``."""
        return self.localization_length / self.width

    @property
    def normalized_length_error(self):
        return self.localization_length_error / self.width


def _default_reorth(E, eta, d, distribution):
    """Re-orthogonalisation interval.

    ``g`` bounds the norm of one transfer matrix, so between two Gram-Schmidt steps
    the condition number of the iterated frame is at most ``g^(2q)``; the
    exponents actually spread by ``gamma_1 - gamma_N < log g`` per slice, and
    ``q = 18 / log g`` keeps that spread below ``e^18 ~ 7e7``, harmless for the
    twice-iterated Gram-Schmidt (checked against ``q = 1`` in the tests).
    """
    wmax = {"gaussian": 4.0, "bernoulli": 1.0, "uniform": math.sqrt(3.0)}[distribution]
    g = abs(E) + 2.0 * (d - 1) + eta * wmax + 1.0
    return max(1, int(18.0 / math.log(max(g, 1.5))))


def _run_strip(E, eta, M, d, n_steps, rng, distribution, reorth, num_blocks):
    nbr = _transverse_neighbours(M, d)
    N = nbr.shape[0]
    # a random orthonormal start frame: a frame of Kronecker deltas can be
    # orthogonal, by symmetry, to part of a degenerate top subspace of a clean strip
    A = np.ascontiguousarray(np.linalg.qr(rng.standard_normal((N, N)))[0].T)
    B = np.zeros((N, N))
    block_len = n_steps // num_blocks
    block_logs = np.zeros((N, num_blocks))
    logs = np.zeros(N)
    chunk = max(reorth, (_CHUNK_VALUES // N) // reorth * reorth)
    counts = (min(chunk, n_steps - start) * N for start in range(0, n_steps, chunk))
    done = 0
    for w in _prefetched_draws(rng, distribution, counts):
        w = w.reshape(-1, N)
        A, B = _strip_chunk(E, eta, w, nbr, A, B, reorth, done, block_len, block_logs, logs)
        done += w.shape[0]
    return block_logs, block_len


def strip_lyapunov_exponents(E, width, n_steps, *, d=2, eta=None, box_width=None,
                             distribution="gaussian", seed=0, reorth_every=None,
                             num_blocks=50):
    """MacKinnon-Kramer Lyapunov spectrum of a strip (d = 2) or bar (d = 3).

    Parameters
    ----------
    E : float
        Energy.
    width : int
        ``M >= 3``: the cross-section is a periodic ring of ``M`` sites (d = 2) or a
        periodic ``M x M`` torus (d = 3).
    n_steps : int
        Length of the strip in slices; rounded up to a multiple of
        ``reorth_every * num_blocks``.
    d : {2, 3}, default 2
    eta : float, optional
        Disorder strength with the unit-variance ``distribution``.
    box_width : float, optional
        Box disorder of width ``W``: site energies uniform on ``[-W/2, W/2]``, i.e.
        ``distribution="uniform"`` and ``eta = W / sqrt(12)``. Give exactly one of
        ``eta`` and ``box_width``.
    distribution : {"gaussian", "bernoulli", "uniform"}, default "gaussian"
    seed : int, SeedSequence or Generator, default 0
    reorth_every : int, optional
        Slices between Gram-Schmidt steps; default chosen so that the growth of a
        spread of the exponents between two steps stays below ``e^18``.
    num_blocks : int, default 50
        Blocks for the error estimate, ``2 <= num_blocks <= n_steps / reorth_every``.

    Returns
    -------
    StripResult
        ``exponents`` (largest first), ``errors``, ``localization_length``
        ``xi_M = 1/gamma_M`` and ``normalized_length`` ``Lambda_M = xi_M / M``.

    Notes
    -----
    Slice ``n`` of the strip carries the vector ``psi_n`` on the ``N = M^{d-1}``
    sites of the cross-section; ``H psi = E psi`` reads
    ``psi_{n+1} = (E - H_perp - eta V_n) psi_n - psi_{n-1}`` with ``H_perp`` the
    periodic adjacency operator of the cross-section: a product of symplectic
    ``2N x 2N`` transfer matrices. Their Lyapunov exponents come in pairs
    ``+-gamma_i``; ``N`` vectors are iterated and kept orthonormal by Gram-Schmidt
    (the QR step of Benettin et al.), and ``gamma_i`` is the mean of
    ``log R_ii`` per slice [MacKinnon & Kramer 1983]. Without disorder the
    exponents are ``arccosh(|E - 2 cos(2 pi j / M)| / 2)`` (d = 2; 0 for modes in
    the band) and the analogue with ``2 cos(2 pi j/M) + 2 cos(2 pi l/M)`` (d = 3).

    Examples
    --------
    >>> r = strip_lyapunov_exponents(5.0, 4, 2000, eta=0.0)
    >>> bool(abs(r.exponents[0] - np.arccosh(3.5)) < 1e-3)
    True
    """
    E = check_real("E", E, minimum=-1e6, maximum=1e6)
    M = check_int("width", width, minimum=3)
    d = check_int("d", d, minimum=2, maximum=3)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    num_blocks = check_int("num_blocks", num_blocks, minimum=2)
    if (eta is None) == (box_width is None):
        raise TypeError("give exactly one of 'eta' and 'box_width'")
    if box_width is not None:
        eta = box_disorder_eta(box_width)
        distribution = "uniform"
    eta = check_real("eta", eta, minimum=0.0, maximum=_MAX_ETA)
    _check_distribution(distribution)
    N = M ** (d - 1)
    if N > 4096:
        raise ValueError(f"'width' = {M} gives {N} transverse sites in d = {d}; at most 4096 "
                         "are supported (the cost per slice grows like N^2)")
    if reorth_every is None:
        reorth_every = _default_reorth(E, eta, d, distribution)
    reorth_every = check_int("reorth_every", reorth_every, minimum=1)
    if num_blocks * reorth_every > n_steps:
        raise ValueError(f"'num_blocks' = {num_blocks} blocks of at least 'reorth_every' = "
                         f"{reorth_every} slices need n_steps >= {num_blocks * reorth_every}, "
                         f"got 'n_steps' = {n_steps}")
    check_memory("num_blocks", 8 * N * num_blocks,
                 f"the block sums of {N} exponents x {num_blocks} blocks")
    block_len = reorth_every * math.ceil(n_steps / (reorth_every * num_blocks))
    n_steps = block_len * num_blocks
    rng = as_generator(check_seed(seed, allow_generator=True))
    block_logs, block_len = _run_strip(E, eta, M, d, n_steps, rng, distribution,
                                       reorth_every, num_blocks)
    gamma, error = _block_statistics(block_logs, block_len, n_steps)
    order = np.argsort(-gamma, kind="stable")
    return StripResult(E, M, d, eta, gamma[order], error[order], n_steps, num_blocks,
                       reorth_every)


def strip_lyapunov_scan(E, widths, n_steps, *, d=2, etas=None, box_widths=None,
                        distribution="gaussian", seed=0, num_blocks=50, max_workers=None):
    """:func:`strip_lyapunov_exponents` for every pair of a disorder strength and a width.

    The strips are independent, each drawn from its own seed, and run on a pool of
    threads (the Numba kernels release the GIL), so the result does not depend on
    the number of workers.

    Parameters
    ----------
    E : float
        Energy.
    widths : sequence of int
        Cross-sections ``M``.
    n_steps : int or mapping
        Slices per strip, or a mapping ``width -> slices``.
    d : {2, 3}, default 2
    etas, box_widths : sequence of float
        Give exactly one: the disorder strengths ``eta`` (with ``distribution``) or the
        box widths ``W`` (uniform law).
    distribution : str, default "gaussian"
    seed : int or SeedSequence, default 0
        Strip ``k`` of the table, in the order ``[(x, M) for x in disorders for M in
        widths]``, draws from ``realization_seeds(seed, K)[k]``.
    num_blocks : int, default 50
    max_workers : int, optional
        Threads; default the usable cores.

    Returns
    -------
    dict
        ``{(x, M): StripResult}`` with ``x`` the disorder strength as given.

    Examples
    --------
    >>> scan = strip_lyapunov_scan(1.0, [4, 6], 2000, etas=[2.0], seed=3, max_workers=1)
    >>> sorted(scan)
    [(2.0, 4), (2.0, 6)]
    >>> again = strip_lyapunov_scan(1.0, [4, 6], 2000, etas=[2.0], seed=3, max_workers=2)
    >>> all(np.array_equal(scan[k].exponents, again[k].exponents) for k in scan)
    True
    """
    from ._executors import usable_cpus

    if (etas is None) == (box_widths is None):
        raise TypeError("give exactly one of 'etas' and 'box_widths'")
    key = "eta" if box_widths is None else "box_width"
    disorders = [check_real(key, x, minimum=0.0) for x in (etas if box_widths is None
                                                             else box_widths)]
    widths = [check_int("widths", M, minimum=3) for M in widths]
    if not disorders or not widths:
        raise ValueError("'widths' and the disorder strengths must not be empty")
    if isinstance(n_steps, dict):
        steps = {M: check_int("n_steps", n_steps[M], minimum=1) for M in widths
                 if M in n_steps}
        if len(steps) != len(set(widths)):
            raise ValueError(f"'n_steps' must give the slices of every width {widths}")
    else:
        steps = dict.fromkeys(widths, check_int("n_steps", n_steps, minimum=1))
    workers = usable_cpus() if max_workers is None else check_int("max_workers", max_workers,
                                                                  minimum=1)
    tasks = [(x, M) for x in disorders for M in widths]
    seeds = realization_seeds(check_seed(seed), len(tasks))

    def run(k):
        x, M = tasks[k]
        return strip_lyapunov_exponents(E, M, steps[M], d=d, distribution=distribution,
                                        seed=seeds[k], num_blocks=num_blocks, **{key: x})

    first = run(0)  # validates the arguments (and compiles the kernel) before the pool starts
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = [first] + list(pool.map(run, range(1, len(tasks))))
    return dict(zip(tasks, results))
