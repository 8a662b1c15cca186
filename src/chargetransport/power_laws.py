"""Power laws: the exponent of ``y ~ c x^a`` fitted in log-log coordinates, with its error.

The experiments measure rates: how a deviation from the Boltzmann limit (section 2), a
central norm ``||X - EX||_r`` (the convergence in higher mean of section 3), a
localization length (section 4) or a resolvent norm (section 2.3) scales with the
disorder strength or another parameter.

* :func:`fit_power_law`: the exponent of ``y ~ c x^a`` by least squares in log-log
  coordinates, with a standard error from the residuals or from bootstrap replicates
  (also behind :func:`chargetransport.resolvents.growth_exponent`);
* :func:`central_norm_exponents`: those fits, in ``eta``, of the central norms and
  their ratio computed by :func:`chargetransport.statistics.block_checked_central_norms`
  at a series of disorder strengths, each with the error of its checked replicates.
"""
from __future__ import annotations

import math

import numpy as np

from ._validation import check_real_array
from .statistics import CentralNormStatistics

__all__ = ["central_norm_exponents", "fit_power_law"]


def fit_power_law(x, y, replicates=None, y_errors=None):
    """Exponent ``a`` of ``y ~ c x^a``: least squares of ``log y`` on ``log x``.

    Parameters
    ----------
    x, y : array_like, shape (m,)
        ``m >= 2`` positive values, at least two distinct ``x``.
    replicates : array_like, shape (B, m), optional
        Bootstrap replicates of ``y`` (drawn independently for each ``x``); the
        exponent is refitted to each row (with the same weights), and the standard
        deviation of those exponents is the standard error.
    y_errors : array_like, shape (m,), optional
        Standard errors of ``y``: the fit weights ``log y_i`` by ``y_i / y_errors_i``,
        the inverse of its standard error (to first order), so that precise points
        count more. Unweighted by default.

    Returns
    -------
    exponent : float
    prefactor : float
        ``c``.
    standard_error : float
        Of the exponent: from the ``replicates`` when given; otherwise, with
        ``y_errors``, the error they propagate to the exponent (the unscaled covariance
        of the weighted fit), times ``sqrt(chi^2 / (m - 2))`` where that exceeds 1 (points
        that scatter more than their errors allow), never less than the errors allow;
        without either, from the residuals of the fit,
        ``sqrt(sum r_i^2 / (m - 2) / sum (log x_i - mean)^2)`` (NaN for ``m = 2``). The
        residuals measure the scatter about a straight line, not any curvature of the
        data; with three or four points they understate the error, hence the floor.

    Examples
    --------
    >>> a, c, se = fit_power_law([1.0, 2.0, 4.0], [3.0, 12.0, 48.0])
    >>> round(a, 12), round(c, 12), bool(se < 1e-12)
    (2.0, 3.0, True)
    """
    x = check_real_array("x", x, ndim=1)
    y = check_real_array("y", y, ndim=1)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"'x' and 'y' must have the same length >= 2, got {x.size} and {y.size}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("'x' and 'y' must be positive for a fit in log-log coordinates")
    if np.unique(x).size < 2:
        raise ValueError(f"'x' must hold at least 2 distinct values to fit a slope, got {x}")
    lx, ly = np.log(x), np.log(y)
    m = x.size
    w = None
    if y_errors is not None:
        y_errors = check_real_array("y_errors", y_errors, ndim=1)
        if y_errors.shape != y.shape or np.any(y_errors <= 0):
            raise ValueError(f"'y_errors' must be {m} positive standard errors, got {y_errors}")
        w = y / y_errors
    if w is not None:
        (a, b), cov = np.polyfit(lx, ly, 1, w=w, cov="unscaled")
        se = math.sqrt(cov[0, 0])                  # what the errors of y allow
        if m > 2:                                  # ... scaled up if the points scatter more
            chi2 = float(np.sum((w * (ly - np.polyval((a, b), lx))) ** 2))
            se *= max(1.0, math.sqrt(chi2 / (m - 2)))
    elif m > 3:
        (a, b), cov = np.polyfit(lx, ly, 1, cov=True)
        se = math.sqrt(cov[0, 0])
    else:  # polyfit scales its covariance by m - 2 only from m > 3 on
        a, b = np.polyfit(lx, ly, 1)
        se = math.nan
        if m == 3:
            resid = ly - np.polyval((a, b), lx)
            se = float(np.sqrt(np.sum(resid**2) / (m - 2) / np.sum((lx - lx.mean()) ** 2)))
    if replicates is not None:
        reps = check_real_array("replicates", replicates, ndim=2)
        if reps.shape[1] != x.size:
            raise ValueError(f"'replicates' must have shape (B, {x.size}), got {reps.shape}")
        if np.any(reps <= 0):
            raise ValueError("'replicates' must be positive")
        slopes = np.polyfit(lx, np.log(reps).T, 1, w=w)[0]
        se = float(slopes.std(ddof=1))
    return float(a), float(np.exp(b)), se


def central_norm_exponents(etas, statistics):
    """Power-law exponents in ``eta`` of the central norms and of their ratio.

    For every component ``j`` of the observations and every order ``r``, the norms
    ``||X_j - EX_j||_r`` measured at the disorder strengths ``etas`` are fitted to
    ``c eta^a`` by :func:`fit_power_law`, with the standard error of ``a`` from the
    block-checked replicates (drawn independently at each ``eta``); the same for the
    ratio ``||X_j - EX_j||_{r_max} / ||X_j - EX_j||_2``, whose exponent is the difference
    ``a_{r_max} - a_2``, with an error that includes the correlation of the two.

    Parameters
    ----------
    etas : array_like of float, shape (m,)
        ``m >= 2`` positive disorder strengths, at least two distinct.
    statistics : sequence of CentralNormStatistics, length m
        :func:`chargetransport.statistics.block_checked_central_norms` of the samples at
        each ``eta``, all with the same orders, observation shape and number of
        resamples.

    Returns
    -------
    dict
        ``{(j, r): (exponent, prefactor, standard_error)}`` for each component ``j`` (the
        flat, row-major index into the observation shape) and order ``r``, and
        ``{(j, "ratio"): (...)}`` for the ratio; as returned by :func:`fit_power_law`.

    Examples
    --------
    Samples whose scale is ``0.3 eta^1.5``: every norm falls with the exponent 1.5, their
    ratio with 0.

    >>> from chargetransport.statistics import block_checked_central_norms
    >>> z = np.random.default_rng(1).standard_normal(800)
    >>> etas = [0.4, 0.2, 0.1]
    >>> stats = [block_checked_central_norms(0.3 * eta**1.5 * z, num_resamples=200)
    ...          for eta in etas]
    >>> fits = central_norm_exponents(etas, stats)
    >>> round(fits[0, 2][0], 9), round(fits[0, 6][0], 9), bool(abs(fits[0, "ratio"][0]) < 1e-9)
    (1.5, 1.5, True)
    """
    x = check_real_array("etas", etas, ndim=1)
    if np.unique(x).size < 2 or np.any(x <= 0):
        raise ValueError(f"'etas' must hold at least 2 distinct positive disorder strengths, "
                         f"got {x}")
    stats = [] if isinstance(statistics, CentralNormStatistics) else list(statistics)
    if not stats or not all(isinstance(s, CentralNormStatistics) for s in stats):
        raise TypeError("'statistics' must be a sequence of CentralNormStatistics (from "
                        "block_checked_central_norms), one per eta")
    if len(stats) != x.size:
        raise ValueError(f"'statistics' must hold one entry per eta ({x.size}), got {len(stats)}")
    first = stats[0]
    if any(s.orders != first.orders or s.norm.replicates.shape != first.norm.replicates.shape
           for s in stats):
        raise ValueError("'statistics' must share the orders, the observation shape and the "
                         "number of resamples")
    orders = first.orders
    k = len(orders)
    num_components = first.ratio.value.size
    norm_values = [s.norm.value.reshape(k, num_components) for s in stats]
    norm_reps = [s.norm.replicates.reshape(-1, k, num_components) for s in stats]
    ratio_values = [s.ratio.value.reshape(num_components) for s in stats]
    ratio_reps = [s.ratio.replicates.reshape(-1, num_components) for s in stats]
    fits = {}
    for j in range(num_components):
        for i, r in enumerate(orders):
            y = [value[i, j] for value in norm_values]
            reps = np.stack([rep[:, i, j] for rep in norm_reps], axis=1)
            fits[j, r] = fit_power_law(x, y, replicates=reps)
        y = [value[j] for value in ratio_values]
        reps = np.stack([rep[:, j] for rep in ratio_reps], axis=1)
        fits[j, "ratio"] = fit_power_law(x, y, replicates=reps)
    return fits
