"""Fluctuations over the disorder: central moments, bootstrap, exceedance probabilities, Wick graphs.

Section 3 of the lectures (Theorem 3.1) bounds the ``r``-th central moments
``E|X - EX|^r`` of ``X = <J, W_T^(eta^2)>`` over the random potential. This
module holds the statistics that the chapter "Convergence in higher mean" needs
on top of :mod:`chargetransport.ensemble`, which streams the moments of an
observable over realizations (and, with ``keep_samples``, returns the
per-realization values that the functions below take):

* :func:`central_lp_norm`: ``(mean |x - xbar|^r)^(1/r)`` of samples, any ``r >= 1``;
* :func:`bootstrap_central_lp_norms`: those norms for several ``r`` with bootstrap
  standard errors and percentile intervals (a seeded ``numpy.random.Generator``);
* :func:`fit_power_law`: the exponent of ``y ~ c x^a`` in log-log coordinates, with a
  standard error from bootstrap replicates;
* :func:`exceedance_probability`: ``P(|X - c| > delta)`` with Wilson score intervals
  (Corollary 3.5);
* :func:`wick_line_sums` and :func:`gaussian_product_moments`: for a product ``X`` of
  jointly Gaussian variables, the moment ``E[X^r]`` as a sum over the pairings of
  ``r`` particle lines (Isserlis / Wick), split into completely disconnected,
  non-disconnected and 2-connected graphs (eqs. (3.17)-(3.20)); and the same
  moments by Gauss-Hermite quadrature, an independent computation.
"""
from __future__ import annotations

import dataclasses
import math

import numba as nb
import numpy as np

from ._validation import check_int, check_real, check_real_array
from .rng import as_generator

__all__ = ["BootstrapResult", "bootstrap_central_lp_norms", "central_lp_norm",
           "exceedance_probability", "fit_power_law", "gaussian_product_moments",
           "wick_line_sums"]


# --------------------------------------------------------------------------------------
# Central moments and the bootstrap
# --------------------------------------------------------------------------------------
def _check_samples(samples, minimum=2):
    x = check_real_array("samples", samples)
    if x.ndim == 0:
        raise ValueError("'samples' must have a leading axis of realizations, got a scalar")
    if x.shape[0] < minimum:
        raise ValueError(f"'samples' must hold at least {minimum} realizations, got {x.shape[0]}")
    return x


def _check_order(r, name="r"):
    r = check_real(name, r, minimum=1.0)
    return r


def central_lp_norm(samples, r):
    """``L^r`` norm of the deviation from the sample mean: ``((1/n) sum |x_i - xbar|^r)^(1/r)``.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        ``n >= 2`` real observations along the first axis.
    r : float
        ``r >= 1`` (any real order; odd orders need the samples, not only
        streaming sums, see :class:`~chargetransport.ensemble.StreamingMoments`).

    Returns
    -------
    numpy.ndarray or numpy.float64
        Of shape ``shape``. The plug-in estimator of ``(E|X - EX|^r)^(1/r)``; it is
        biased low for small ``n`` (by ``O(1/n)``, more for heavy tails).

    Examples
    --------
    >>> float(central_lp_norm([1.0, -1.0, 1.0, -1.0], 4))
    1.0
    """
    x = _check_samples(samples)
    r = _check_order(r)
    dev = np.abs(x - x.mean(axis=0))
    out = np.mean(dev**r, axis=0) ** (1.0 / r)
    return out[()] if np.ndim(out) == 0 else out


@dataclasses.dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap of the central ``L^r`` norms, see :func:`bootstrap_central_lp_norms`.

    Attributes
    ----------
    orders : numpy.ndarray, shape (k,)
        The orders ``r``.
    estimate : numpy.ndarray, shape ``(k,) + shape``
        The norms of the samples themselves.
    standard_error : numpy.ndarray, shape ``(k,) + shape``
        Standard deviation of the bootstrap replicates.
    lower, upper : numpy.ndarray, shape ``(k,) + shape``
        Percentile interval of the replicates (``confidence`` central probability).
    replicates : numpy.ndarray, shape ``(B, k) + shape``
        The norms of the ``B`` resamples.
    confidence : float
    """

    orders: np.ndarray
    estimate: np.ndarray
    standard_error: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    replicates: np.ndarray
    confidence: float


@nb.njit(cache=True)
def _resampled_norms(x, index, orders, out):
    """out[b, k, j] = (mean_i |x[index[b, i], j] - mean|^orders[k])^(1 / orders[k])."""
    B, n = index.shape
    m = x.shape[1]
    dev = np.empty(n)
    for b in range(B):
        for j in range(m):
            mean = 0.0
            for i in range(n):
                mean += x[index[b, i], j]
            mean /= n
            for i in range(n):
                dev[i] = abs(x[index[b, i], j] - mean)
            for k in range(orders.shape[0]):
                acc = 0.0
                for i in range(n):
                    acc += dev[i] ** orders[k]
                out[b, k, j] = (acc / n) ** (1.0 / orders[k])


def bootstrap_central_lp_norms(samples, orders=(2, 4, 6), num_resamples=2000, seed=0,
                               confidence=0.68):
    """Central ``L^r`` norms with bootstrap error bars.

    Parameters
    ----------
    samples : array_like, shape ``(n,) + shape``
        ``n >= 2`` real observations (one per disorder realization).
    orders : sequence of float, default (2, 4, 6)
        Orders ``r >= 1``.
    num_resamples : int, default 2000
        ``B``: resamples of size ``n`` drawn with replacement.
    seed : int, SeedSequence or numpy.random.Generator, default 0
        The resampling is a function of the seed only.
    confidence : float, default 0.68
        Central probability of the percentile interval, in (0, 1).

    Returns
    -------
    BootstrapResult

    Notes
    -----
    The nonparametric bootstrap [1]_ resamples the realizations, so it sees only
    the tails present in the sample: for high orders and few realizations the
    norm is dominated by the largest few ``|x_i - xbar|`` and its error bar is
    itself uncertain (and the plug-in estimate is biased low). The same index
    draws serve every order and every component, so the replicates of different
    orders are correlated as the estimates are.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
       Chapman & Hall (1993), chapters 6 and 13.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = bootstrap_central_lp_norms(rng.standard_normal(4000), orders=(2,), seed=2)
    >>> bool(abs(res.estimate[0] - 1.0) < 3 * res.standard_error[0])
    True
    """
    x = _check_samples(samples)
    orders_arr = np.array([_check_order(r, "orders") for r in np.atleast_1d(orders)], dtype=float)
    if orders_arr.size == 0:
        raise ValueError("'orders' must hold at least one order")
    num_resamples = check_int("num_resamples", num_resamples, minimum=2)
    confidence = check_real("confidence", confidence, minimum=0.0, strict_minimum=True)
    if confidence >= 1.0:
        raise ValueError(f"'confidence' must be < 1, got {confidence}")
    rng = as_generator(seed)
    n, shape = x.shape[0], x.shape[1:]
    flat = np.ascontiguousarray(x.reshape(n, -1))
    index = rng.integers(0, n, size=(num_resamples, n))
    reps = np.empty((num_resamples, orders_arr.size, flat.shape[1]))
    _resampled_norms(flat, index, orders_arr, reps)
    reps = reps.reshape((num_resamples, orders_arr.size) + shape)
    estimate = np.stack([np.asarray(central_lp_norm(x, r)) for r in orders_arr])
    alpha = (1.0 - confidence) / 2.0
    return BootstrapResult(orders=orders_arr, estimate=estimate,
                           standard_error=reps.std(axis=0, ddof=1),
                           lower=np.quantile(reps, alpha, axis=0),
                           upper=np.quantile(reps, 1.0 - alpha, axis=0),
                           replicates=reps, confidence=confidence)


def fit_power_law(x, y, replicates=None):
    """Exponent ``a`` of ``y ~ c x^a``: least squares of ``log y`` on ``log x``.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        ``m >= 2`` positive values.
    replicates : array_like, shape (B, m), optional
        Bootstrap replicates of ``y`` (drawn independently for each ``x``); the
        exponent is refitted to each row, and the standard deviation of those
        exponents is the standard error.

    Returns
    -------
    exponent : float
    prefactor : float
        ``c``.
    standard_error : float
        NaN without ``replicates``.

    Examples
    --------
    >>> a, c, _ = fit_power_law([1.0, 2.0, 4.0], [3.0, 12.0, 48.0])
    >>> round(a, 12), round(c, 12)
    (2.0, 3.0)
    """
    x = check_real_array("x", x, ndim=1)
    y = check_real_array("y", y, ndim=1)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"'x' and 'y' must have the same length >= 2, got {x.size} and {y.size}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("'x' and 'y' must be positive for a fit in log-log coordinates")
    lx = np.log(x)
    a, b = np.polyfit(lx, np.log(y), 1)
    se = math.nan
    if replicates is not None:
        reps = check_real_array("replicates", replicates, ndim=2)
        if reps.shape[1] != x.size:
            raise ValueError(f"'replicates' must have shape (B, {x.size}), got {reps.shape}")
        if np.any(reps <= 0):
            raise ValueError("'replicates' must be positive")
        slopes = np.polyfit(lx, np.log(reps).T, 1)[0]
        se = float(slopes.std(ddof=1))
    return float(a), float(np.exp(b)), se


def exceedance_probability(samples, center, delta, z=1.0):
    """``P(|X - center| > delta)`` from samples, with a Wilson score interval.

    Parameters
    ----------
    samples : array_like, shape (n,)
        Realizations of ``X``.
    center : float
        ``<J, F_T>`` in Corollary 3.5.
    delta : float or array_like
        Thresholds ``delta >= 0``.
    z : float, default 1
        Width of the interval in standard deviations (1: about 68 %).

    Returns
    -------
    p, lower, upper : numpy.ndarray
        Of the shape of ``delta``: the fraction ``k / n`` of exceedances and the
        Wilson interval [1]_ ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``,
        which stays inside [0, 1] and is not empty when ``k = 0``.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and
       statistical inference", J. Amer. Statist. Assoc. 22, 209 (1927).

    Examples
    --------
    >>> p, lo, hi = exceedance_probability([0.0, 0.1, 0.5, -0.7], 0.0, 0.2)
    >>> float(p), bool(lo < 0.5 < hi)
    (0.5, True)
    """
    x = check_real_array("samples", samples, ndim=1)
    if x.size < 1:
        raise ValueError("'samples' must hold at least one realization")
    center = check_real("center", center)
    deltas = check_real_array("delta", delta)
    if np.any(deltas < 0):
        raise ValueError("'delta' must be >= 0")
    z = check_real("z", z, minimum=0.0, strict_minimum=True)
    n = x.size
    dev = np.abs(x - center)
    p = (dev[(...,) + (None,) * deltas.ndim] > deltas).mean(axis=0)
    denom = 1.0 + z**2 / n
    mid = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return p, np.maximum(mid - half, 0.0), np.minimum(mid + half, 1.0)


# --------------------------------------------------------------------------------------
# Wick / Isserlis: moments of products of Gaussians as sums over multi-line graphs
# --------------------------------------------------------------------------------------
@nb.njit(cache=True)
def _pairing_weights(pairings, cov, nbar):
    """prod over pairs (a, b) of cov[a % nbar, b % nbar], for each pairing (partner arrays)."""
    total, m = pairings.shape
    out = np.empty(total)
    for i in range(total):
        w = 1.0
        for a in range(m):
            b = pairings[i, a]
            if b > a:
                w *= cov[a % nbar, b % nbar]
        out[i] = w
    return out


def _check_covariance(covariance):
    C = check_real_array("covariance", covariance, ndim=2)
    if C.shape[0] != C.shape[1] or C.shape[0] < 1:
        raise ValueError(f"'covariance' must be a square matrix, got shape {C.shape}")
    if not np.allclose(C, C.T, rtol=0, atol=1e-12 * max(1.0, np.abs(C).max())):
        raise ValueError("'covariance' must be symmetric")
    if np.linalg.eigvalsh(C).min() < -1e-12 * max(1.0, np.abs(C).max()):
        raise ValueError("'covariance' must be positive semi-definite")
    return C


def wick_line_sums(covariance, r):
    """``E[X^r]`` for ``X = g_1 ... g_nbar`` (centred jointly Gaussian ``g``) as a sum over graphs.

    Take ``r`` copies ("particle lines") of the product, each with its ``nbar``
    vertices ``g_1, ..., g_nbar``. By Isserlis' (Wick's) theorem,
    ``E[X^r] = sum_pi prod_{(a, b) in pi} C[a, b]`` over the pairings ``pi`` of the
    ``r nbar`` vertices, ``C`` the covariance of ``g``. The pairings are classified
    as in section 3.2 (:func:`chargetransport.graphs.multiline_class_counts`):
    completely disconnected (every pair inside one line, eq. (3.17)),
    non-disconnected (3.18) and 2-connected (no line paired only with itself,
    (3.19)).

    Parameters
    ----------
    covariance : array_like, shape (nbar, nbar)
        Symmetric positive semi-definite ``C``.
    r : int
        Number of lines, ``r >= 1`` with ``r nbar`` at most
        :data:`chargetransport.graphs.MAX_ENUMERATED_VERTICES`.

    Returns
    -------
    dict of float
        ``total`` (``= E[X^r]``), ``disconnected``, ``non_disconnected``,
        ``two_connected`` (``= E[(X - EX)^r]``), ``product_of_means``
        (``(EX)^r``, with ``EX`` the sum over the pairings of one line), and
        ``num_graphs``.

    Notes
    -----
    The disconnected pairings are products of one pairing per line, so their sum
    factorises: ``E_Disc[X^r] = (EX)^r`` exactly (eq. (3.20)); the difference
    ``disconnected - product_of_means`` is rounding only. The 2-connected sum
    equals ``E[prod_j (X_j - E X_j)]`` by inclusion-exclusion over the lines that
    are paired only with themselves, i.e. the ``r``-th central moment.

    Examples
    --------
    >>> s = wick_line_sums([[1.0, 0.5], [0.5, 1.0]], r=2)
    >>> s["total"], s["disconnected"], s["two_connected"]
    (1.5, 0.25, 1.25)
    """
    from . import graphs
    C = _check_covariance(covariance)
    r = check_int("r", r, minimum=1)
    nbar = C.shape[0]
    num = r * nbar
    if num > graphs.MAX_ENUMERATED_VERTICES:
        raise ValueError(f"'r' * nbar = {num} is too large to enumerate: at most "
                         f"{graphs.MAX_ENUMERATED_VERTICES} vertices")
    one = _line_mean(C)
    if num % 2:
        return {"total": 0.0, "disconnected": 0.0, "non_disconnected": 0.0,
                "two_connected": 0.0, "product_of_means": one**r, "num_graphs": 0}
    pairings = graphs._pairings_array(num, name="r * nbar")
    flags = graphs._multiline_classify_all(pairings, r, nbar)
    weights = _pairing_weights(pairings, np.ascontiguousarray(C), nbar)
    total = float(weights.sum())
    disc = float(weights[flags[:, 0]].sum())
    return {"total": total, "disconnected": disc, "non_disconnected": total - disc,
            "two_connected": float(weights[flags[:, 1]].sum()), "product_of_means": one**r,
            "num_graphs": int(len(weights))}


def _line_mean(C):
    """E[g_1 ... g_nbar]: the hafnian of C (sum over pairings of one line)."""
    from . import graphs
    nbar = C.shape[0]
    if nbar % 2:
        return 0.0
    pairings = graphs._pairings_array(nbar, name="nbar")
    return float(_pairing_weights(pairings, np.ascontiguousarray(C), nbar).sum())


def gaussian_product_moments(covariance, r):
    """``E[X^r]`` and ``E[(X - EX)^r]`` of ``X = g_1 ... g_nbar`` by Gauss-Hermite quadrature.

    An independent check of :func:`wick_line_sums`: with ``C = A A^T``
    (eigendecomposition), ``g = A z`` for a standard Gaussian ``z``, and ``X^r`` is a
    polynomial of degree ``r nbar`` in ``z``, integrated exactly (up to rounding)
    by the tensor Gauss-Hermite rule with ``ceil((r nbar + 1) / 2)`` nodes per axis.

    Parameters
    ----------
    covariance : array_like, shape (nbar, nbar)
        ``nbar <= 6`` (the rule has ``nodes^nbar`` points).
    r : int
        ``r >= 1``.

    Returns
    -------
    moment, central_moment : float
    """
    C = _check_covariance(covariance)
    r = check_int("r", r, minimum=1)
    nbar = C.shape[0]
    if nbar > 6:
        raise ValueError(f"'covariance' must be at most 6 x 6 for the quadrature, got {nbar}")
    nodes = (r * nbar) // 2 + 1
    if nodes ** nbar > 5_000_000:
        raise ValueError(f"r = {r} with nbar = {nbar} needs {nodes}^{nbar} quadrature points")
    t, w = np.polynomial.hermite_e.hermegauss(nodes)   # weight exp(-t^2 / 2)
    w = w / np.sqrt(2.0 * np.pi)
    vals, vecs = np.linalg.eigh(C)
    A = vecs * np.sqrt(np.clip(vals, 0.0, None))
    grids = np.meshgrid(*([t] * nbar), indexing="ij")
    z = np.stack([g.ravel() for g in grids])
    weight = np.ones(z.shape[1])
    for wk in np.meshgrid(*([w] * nbar), indexing="ij"):
        weight = weight * wk.ravel()
    X = np.prod(A @ z, axis=0)
    mean = float(weight @ X)
    return float(weight @ X**r), float(weight @ (X - mean) ** r)
