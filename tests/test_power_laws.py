"""Tests of chargetransport.power_laws: power-law fits and the exponents of central norms.

Fits against exact power laws and an independent least-squares solve; the exponents of
the central norms against samples whose scale is an exact power of eta.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from chargetransport import power_laws as pl
from chargetransport import statistics as st


def test_power_law_fit_recovers_exponent_and_bootstrap_spread():
    x = np.array([0.4, 0.3, 0.2, 0.15])
    a, c, se = pl.fit_power_law(x, 2.0 * x**1.3)
    assert (a, c) == (pytest.approx(1.3, rel=1e-12), pytest.approx(2.0, rel=1e-12))
    assert se < 1e-12  # residuals of an exact power law: rounding only
    # replicates with independent 5 % log-normal noise per point: the slope's standard
    # deviation is 0.05 / sqrt(sum (log x - mean)^2) exactly for least squares
    rng = np.random.default_rng(2)
    reps = 2.0 * x**1.3 * np.exp(0.05 * rng.standard_normal((4000, 4)))
    _, _, se = pl.fit_power_law(x, 2.0 * x**1.3, replicates=reps)
    lx = np.log(x)
    expected = 0.05 / math.sqrt(((lx - lx.mean()) ** 2).sum())
    assert se == pytest.approx(expected, rel=0.05)  # 4000 replicates: 1.1 % error of a std
    with pytest.raises(ValueError, match="positive"):
        pl.fit_power_law(x, -x)
    with pytest.raises(ValueError, match="'replicates'"):
        pl.fit_power_law(x, x, replicates=np.ones((3, 2)))


@pytest.mark.parametrize("m", [2, 3, 6])
def test_power_law_fit_without_replicates_gives_the_residual_standard_error(m):
    # Against an independent least-squares solve: slope standard error
    # sqrt(sum r_i^2 / (m - 2) / sum (u_i - mean u)^2) in u = log x (NaN for m = 2).
    rng = np.random.default_rng(m)
    x = np.sort(rng.uniform(0.1, 2.0, m))
    y = 3.0 * x**-0.7 * np.exp(0.1 * rng.standard_normal(m))
    a, c, se = pl.fit_power_law(x, y)
    u, v = np.log(x), np.log(y)
    (slope, intercept), *_ = np.linalg.lstsq(np.stack([u, np.ones(m)], axis=1), v, rcond=None)
    assert a == pytest.approx(slope, rel=1e-12) and c == pytest.approx(np.exp(intercept), rel=1e-12)
    if m == 2:
        assert math.isnan(se)
    else:
        resid = v - slope * u - intercept
        expected = math.sqrt(np.sum(resid**2) / (m - 2) / np.sum((u - u.mean()) ** 2))
        assert se == pytest.approx(expected, rel=1e-9)


def test_power_law_fit_refuses_data_without_a_slope():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RankWarning would be an error here
        for x in ([2.0, 2.0], [0.5, 0.5, 0.5, 0.5]):
            with pytest.raises(ValueError, match="'x' must hold at least 2 distinct values"):
                pl.fit_power_law(x, np.arange(1.0, len(x) + 1))
    with pytest.raises(ValueError, match="positive"):
        pl.fit_power_law([0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="length >= 2"):
        pl.fit_power_law([1.0], [1.0])


def test_weighted_power_law_fit_follows_the_precise_points():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = 3.0 * x**2
    y[-1] *= 2.0                          # an outlier with a large error bar
    a_w, _, _ = pl.fit_power_law(x, y, y_errors=np.array([0.01, 0.01, 0.01, 10.0]) * y)
    a_u, _, _ = pl.fit_power_law(x, y)
    assert abs(a_w - 2.0) < 0.01 < abs(a_u - 2.0)


def test_weighted_fit_error_is_never_below_what_the_errors_of_y_allow():
    # the weighted fit written out (not via polyfit): weights u_i = y_i / sigma_i, the inverse
    # error of log y_i; slope a = sum u^2 (l - lbar)(g - gbar) / S, S = sum u^2 (l - lbar)^2,
    # with u^2-weighted means of l = log x and g = log y; propagated error 1 / sqrt(S), scaled
    # by sqrt(chi^2 / (m - 2)) only when the points scatter more than their errors allow
    x = np.array([0.4, 0.3, 0.2, 0.14])
    rel_err = np.array([0.02, 0.03, 0.05, 0.08])
    l = np.log(x)
    for jitter in (np.array([0.1, -0.1, 0.1, -0.1]), np.array([2.0, -2.0, 2.0, -2.0])):
        y = 2.0 * x**2 * np.exp(jitter * rel_err)      # scatter in units of the errors
        u, g = 1 / rel_err, np.log(y)
        lbar, gbar = np.sum(u**2 * l) / np.sum(u**2), np.sum(u**2 * g) / np.sum(u**2)
        S = np.sum(u**2 * (l - lbar) ** 2)
        slope = np.sum(u**2 * (l - lbar) * (g - gbar)) / S
        chi2 = np.sum((u * (g - gbar - slope * (l - lbar))) ** 2)
        a, _, se = pl.fit_power_law(x, y, y_errors=rel_err * y)
        assert a == pytest.approx(slope, rel=1e-10)
        assert se == pytest.approx(max(1.0, np.sqrt(chi2 / 2)) / np.sqrt(S), rel=1e-10)
        assert (chi2 / 2 > 1) == bool(jitter[0] > 1)   # the second case is scaled up
    # two points: the propagated error, not NaN
    _, _, se2 = pl.fit_power_law([0.4, 0.2], [0.16, 0.04], y_errors=[0.004, 0.002])
    assert se2 == pytest.approx(np.hypot(0.025, 0.05) / np.log(2), rel=1e-10)


# --------------------------------------------------------------------------------------
# Exponents of the central norms
# --------------------------------------------------------------------------------------
def test_central_norm_exponents_of_exact_power_laws():
    # the same samples z scaled by eta^a_j in component j: every norm is
    # ||z_j||_r eta^a_j exactly (up to rounding), so each fit returns a_j and the prefactor
    # ||z_j||_r, and the ratio of two norms does not depend on eta (exponent 0)
    a = np.array([0.5, 1.0, 2.0])
    z = np.random.default_rng(31).standard_t(6, size=(640, 3))
    etas = [0.5, 0.35, 0.25, 0.15]
    stats = [st.block_checked_central_norms(eta**a * z, num_resamples=100, seed=k)
             for k, eta in enumerate(etas)]
    fits = pl.central_norm_exponents(etas, stats)
    assert set(fits) == {(j, r) for j in range(3) for r in (2, 4, 6, "ratio")}
    for j in range(3):
        for r in (2, 4, 6):
            exponent, prefactor, _ = fits[j, r]
            assert exponent == pytest.approx(a[j], abs=1e-12)
            assert prefactor == pytest.approx(st.central_lp_norm(z[:, j], r), rel=1e-12)
        assert fits[j, "ratio"][0] == pytest.approx(0.0, abs=1e-12)


def test_central_norm_exponent_errors_come_from_the_checked_replicates():
    # independent samples with sigma = 2 eta^0.8 at each eta: the exponent of the standard
    # deviation is 0.8 within 4 of its standard errors; that error is the spread of the
    # slopes refitted (here by numpy) to the checked replicates of each eta
    rng = np.random.default_rng(32)
    etas = np.array([0.4, 0.3, 0.2, 0.1])
    stats = [st.block_checked_central_norms(2.0 * eta**0.8 * rng.standard_normal((2000, 2)),
                                            num_resamples=400, seed=k)
             for k, eta in enumerate(etas)]
    fits = pl.central_norm_exponents(etas, stats)
    for j in range(2):
        exponent, _, se = fits[j, 2]
        assert abs(exponent - 0.8) < 4 * se
        reps = np.stack([s.norm.replicates[:, 0, j] for s in stats], axis=1)
        slopes = np.polyfit(np.log(etas), np.log(reps).T, 1)[0]
        assert se == pytest.approx(slopes.std(ddof=1), rel=1e-10)
        # a ratio's exponent is the difference of the norms' (least squares is linear)
        assert fits[j, "ratio"][0] == pytest.approx(fits[j, 6][0] - fits[j, 2][0], abs=1e-12)


def test_central_norm_exponents_flatten_the_observation_shape_row_major():
    z = np.random.default_rng(33).standard_normal((160, 2, 2))
    scale = np.array([[1.0, 2.0], [3.0, 4.0]])          # component j = 2 is [1, 0]: 3.0
    etas = [0.2, 0.1]
    stats = [st.block_checked_central_norms(eta**scale * z, num_resamples=20, num_blocks=4)
             for eta in etas]
    fits = pl.central_norm_exponents(etas, stats)
    assert [round(fits[j, 2][0], 9) for j in range(4)] == [1.0, 2.0, 3.0, 4.0]


def test_central_norm_exponents_reject_bad_input():
    x = np.random.default_rng(34).standard_normal(80)
    stats = [st.block_checked_central_norms(x * s, num_resamples=20, num_blocks=4)
             for s in (1.0, 2.0)]
    with pytest.raises(ValueError, match="'statistics'"):
        pl.central_norm_exponents([0.1, 0.2, 0.3], stats)
    with pytest.raises(TypeError, match="'statistics'"):
        pl.central_norm_exponents([0.1, 0.2], [stats[0], {"norm": None}])
    with pytest.raises(TypeError, match="'statistics'"):
        pl.central_norm_exponents([0.1, 0.2], stats[0])
    with pytest.raises(ValueError, match="'etas'"):
        pl.central_norm_exponents([0.1, -0.2], stats)
    with pytest.raises(ValueError, match="'etas'"):
        pl.central_norm_exponents([0.1, 0.1], stats)
    with pytest.raises(TypeError, match="'etas'"):
        pl.central_norm_exponents(["a", "b"], stats)
    other = st.block_checked_central_norms(x, (2, 4), num_resamples=20, num_blocks=4)
    with pytest.raises(ValueError, match="share the orders"):
        pl.central_norm_exponents([0.1, 0.2], [stats[0], other])
    fewer = st.block_checked_central_norms(x, num_resamples=30, num_blocks=4)
    with pytest.raises(ValueError, match="number of resamples"):
        pl.central_norm_exponents([0.1, 0.2], [stats[0], fewer])
