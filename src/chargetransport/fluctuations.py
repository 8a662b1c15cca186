"""Fluctuations over the disorder: moments of products of Gaussians as sums over Wick graphs.

Section 3 of the lectures (Theorem 3.1) bounds the ``r``-th central moments
``E|X - EX|^r`` of ``X = <J, W_T^(eta^2)>`` over the random potential by expanding
``X^r`` into ``r`` particle lines whose random potentials are paired (Wick's theorem),
and by showing that only 2-connected graphs contribute to the central moments. This
module checks that combinatorics on a model where every sum is finite:

* :func:`wick_line_sums`: for a product ``X`` of jointly Gaussian variables, the moment
  ``E[X^r]`` as a sum over the pairings of ``r`` particle lines (Isserlis / Wick),
  split into completely disconnected, non-disconnected and 2-connected graphs
  (eqs. (3.17)-(3.20));
* :func:`gaussian_product_moments`: the same moments by Gauss-Hermite quadrature, an
  independent computation;
* :func:`wkb_experiment_pairings`: one realization of the fluctuating quantity itself,
  ``<J, W_T>`` for the WKB set-up of :class:`chargetransport.wkb_experiment.WKBExperiment`
  given by plain numbers (the per-realization function of stored studies).

The statistics of measured fluctuations are in :mod:`chargetransport.streaming_moments`
(one-pass moments) and :mod:`chargetransport.statistics` (central ``L^r`` norms,
bootstrap error bars, exceedance probabilities, power-law fits).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._validation import check_int, check_real_array

__all__ = ["gaussian_product_moments", "wick_line_sums", "wkb_experiment_pairings"]


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


# --------------------------------------------------------------------------------------
# The fluctuating quantity: <J, W_T> of the WKB set-up, one realization
# --------------------------------------------------------------------------------------
def wkb_experiment_pairings(seed, *, eta, T, half_width, momentum, scattered_momentum=None,
                            width=0.5, unscattered_time=1.0, **kwargs):
    """``<J_i, W_T^(eta^2)>`` of the WKB set-up, one realization, from plain numbers.

    The same numbers, bit for bit, as
    ``WKBExperiment(momentum, scattered_momentum, width, unscattered_time).observable(eta,
    T, half_width)(seed)``, with the set-up given by plain numbers and lists, so that the
    function and its parameters can define a stored study (whose parameters are JSON).

    Parameters
    ----------
    seed : numpy.random.SeedSequence or int
        The realization (the seed contract of :mod:`chargetransport.rng`).
    eta : float
        Disorder strength, ``eta > 0``; the WKB scale is ``mu = eta^2``.
    T : float or sequence of float
        Macroscopic times.
    half_width : float
        The box holds ``[-half_width, half_width]^d`` in macroscopic units
        (:meth:`~chargetransport.wkb_experiment.WKBExperiment.box_side`).
    momentum, scattered_momentum, width, unscattered_time
        The fields of :class:`~chargetransport.wkb_experiment.WKBExperiment`
        (``d = len(momentum)``).
    **kwargs
        Passed to :func:`~chargetransport.wkb_experiment.wkb_wigner_pairings`
        (``distribution``, ``boundary_margin``, ``tol``).

    Returns
    -------
    dict of numpy.ndarray
        ``"pairings"`` (nT, 3) and ``"boundary_weight"`` (nT,), as
        :func:`~chargetransport.wkb_experiment.wkb_wigner_pairings`.

    Examples
    --------
    >>> from chargetransport.wkb_experiment import WKBExperiment
    >>> a = wkb_experiment_pairings(3, eta=0.5, T=0.5, half_width=3.0, momentum=[0.125, 0.25])
    >>> b = WKBExperiment().observable(0.5, 0.5, 3.0)(3)
    >>> bool((a["pairings"] == b["pairings"]).all()), a["pairings"].shape
    (True, (1, 3))
    """
    from .wkb_experiment import WKBExperiment
    setup = WKBExperiment(momentum=tuple(np.atleast_1d(momentum)),
                          scattered_momentum=(None if scattered_momentum is None
                                              else tuple(np.atleast_1d(scattered_momentum))),
                          width=width, unscattered_time=unscattered_time)
    return setup.observable(eta, T, half_width, **kwargs)(seed)
