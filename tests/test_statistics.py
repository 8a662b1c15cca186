"""Tests of chargetransport.statistics: central norms, bootstrap, fits, exceedances.

Central norms against exact moments of known distributions, the bootstrap against the
asymptotic standard error, power-law fits against exact power laws, Wilson intervals
against closed forms.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from chargetransport import statistics as st


# --------------------------------------------------------------------------------------
# Central L^r norms
# --------------------------------------------------------------------------------------
def test_central_norm_is_exact_on_a_symmetric_two_point_sample():
    x = np.array([1.0, -1.0] * 50) + 3.0
    for r in (1, 2, 3, 4, 6, 7.5):
        assert st.central_lp_norm(x, r) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("name", ["gaussian", "uniform", "exponential"])
def test_central_norms_match_exact_moments_of_known_distributions(name):
    rng = np.random.default_rng(11)
    n = 400_000
    draw = {"gaussian": lambda: rng.standard_normal(n),
            "uniform": lambda: rng.uniform(0.0, 1.0, n),
            "exponential": lambda: rng.exponential(1.0, n)}[name]
    # exact E|X - EX|^r for r = 2, 4, 6
    exact = {"gaussian": {2: 1.0, 4: 3.0, 6: 15.0},
             "uniform": {r: 2.0**-r / (r + 1) for r in (2, 4, 6)},
             # Exp(1): E(X-1)^r = !r (derangements): 1, 9, 265
             "exponential": {2: 1.0, 4: 9.0, 6: 265.0}}[name]
    x = draw()
    for r, mu in exact.items():
        dev = np.abs(x - x.mean()) ** r
        # 6 standard errors of the sample mean of |x - xbar|^r, turned into the r-th root
        # (delta method: d(m^(1/r)) = dm / (r m^(1 - 1/r)))
        tol = 6 * dev.std() / math.sqrt(n) / (r * mu ** (1 - 1 / r))
        assert st.central_lp_norm(x, r) == pytest.approx(mu ** (1 / r), abs=tol)


def test_central_norm_works_on_arrays_of_observables():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 2, 3))
    out = st.central_lp_norm(x, 4)
    assert out.shape == (2, 3)
    assert out[1, 2] == pytest.approx(st.central_lp_norm(x[:, 1, 2], 4), rel=1e-14)


def test_central_norm_rejects_bad_input():
    with pytest.raises(ValueError, match="'samples'"):
        st.central_lp_norm([1.0], 2)
    with pytest.raises(ValueError, match="'samples'"):
        st.central_lp_norm(3.0, 2)
    with pytest.raises(ValueError, match="'r'"):
        st.central_lp_norm([1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="'samples'"):
        st.central_lp_norm([1.0, np.nan], 2)


# --------------------------------------------------------------------------------------
# Bootstrap and power-law fits
# --------------------------------------------------------------------------------------
def test_bootstrap_standard_error_of_the_standard_deviation_is_the_asymptotic_one():
    # For N(0, 1) the sample standard deviation has standard error 1/sqrt(2n)
    # asymptotically. The bootstrap estimate fluctuates with the sample's kurtosis
    # (a few % at n = 3000) and the resampling (1/sqrt(2B) = 1.6 % at B = 2000): 12 %.
    n = 3000
    x = np.random.default_rng(5).standard_normal(n)
    res = st.bootstrap_central_lp_norms(x, orders=(2, 4), num_resamples=2000, seed=3)
    assert res.standard_error[0] == pytest.approx(1 / math.sqrt(2 * n), rel=0.12)
    assert res.estimate[0] == pytest.approx(x.std(), rel=1e-13)
    assert res.lower[0] < res.estimate[0] < res.upper[0]
    assert res.replicates.shape == (2000, 2)


def test_bootstrap_is_a_function_of_the_seed():
    x = np.random.default_rng(1).standard_normal((40, 2))
    a = st.bootstrap_central_lp_norms(x, seed=7, num_resamples=200)
    b = st.bootstrap_central_lp_norms(x, seed=7, num_resamples=200)
    c = st.bootstrap_central_lp_norms(x, seed=8, num_resamples=200)
    assert np.array_equal(a.replicates, b.replicates)
    assert not np.array_equal(a.replicates, c.replicates)
    assert a.replicates.shape == (200, 3, 2)


def test_bootstrap_rejects_bad_input():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="'num_resamples'"):
        st.bootstrap_central_lp_norms(x, num_resamples=1)
    with pytest.raises(ValueError, match="'confidence'"):
        st.bootstrap_central_lp_norms(x, confidence=1.0)
    with pytest.raises(ValueError, match="'orders'"):
        st.bootstrap_central_lp_norms(x, orders=(0.5,))
    with pytest.raises(ValueError, match="'orders'"):
        st.bootstrap_central_lp_norms(x, orders=())


def test_power_law_fit_recovers_exponent_and_bootstrap_spread():
    x = np.array([0.4, 0.3, 0.2, 0.15])
    a, c, se = st.fit_power_law(x, 2.0 * x**1.3)
    assert (a, c) == (pytest.approx(1.3, rel=1e-12), pytest.approx(2.0, rel=1e-12))
    assert se < 1e-12  # residuals of an exact power law: rounding only
    # replicates with independent 5 % log-normal noise per point: the slope's standard
    # deviation is 0.05 / sqrt(sum (log x - mean)^2) exactly for least squares
    rng = np.random.default_rng(2)
    reps = 2.0 * x**1.3 * np.exp(0.05 * rng.standard_normal((4000, 4)))
    _, _, se = st.fit_power_law(x, 2.0 * x**1.3, replicates=reps)
    lx = np.log(x)
    expected = 0.05 / math.sqrt(((lx - lx.mean()) ** 2).sum())
    assert se == pytest.approx(expected, rel=0.05)  # 4000 replicates: 1.1 % error of a std
    with pytest.raises(ValueError, match="positive"):
        st.fit_power_law(x, -x)
    with pytest.raises(ValueError, match="'replicates'"):
        st.fit_power_law(x, x, replicates=np.ones((3, 2)))


@pytest.mark.parametrize("m", [2, 3, 6])
def test_power_law_fit_without_replicates_gives_the_residual_standard_error(m):
    # Against an independent least-squares solve: slope standard error
    # sqrt(sum r_i^2 / (m - 2) / sum (u_i - mean u)^2) in u = log x (NaN for m = 2).
    rng = np.random.default_rng(m)
    x = np.sort(rng.uniform(0.1, 2.0, m))
    y = 3.0 * x**-0.7 * np.exp(0.1 * rng.standard_normal(m))
    a, c, se = st.fit_power_law(x, y)
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
                st.fit_power_law(x, np.arange(1.0, len(x) + 1))
    with pytest.raises(ValueError, match="positive"):
        st.fit_power_law([0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="length >= 2"):
        st.fit_power_law([1.0], [1.0])


def test_bootstrap_refuses_resamples_that_cannot_fit_in_memory():
    with pytest.raises(ValueError, match="'num_resamples' is too large"):
        st.bootstrap_central_lp_norms(np.arange(100.0), num_resamples=10**12)


# --------------------------------------------------------------------------------------
# Exceedance probabilities
# --------------------------------------------------------------------------------------
def test_exceedance_counts_and_wilson_interval():
    x = np.array([0.0, 0.05, -0.15, 0.3, -0.5])
    p, lo, hi = st.exceedance_probability(x, 0.0, [0.0, 0.1, 0.2, 1.0])
    assert p.tolist() == [0.8, 0.6, 0.4, 0.0]
    assert np.all(lo <= p) and np.all(p <= hi)
    assert hi[-1] > 0.0 and lo[-1] == 0.0     # k = 0 still has a non-empty interval
    # Wilson's interval for k = 0, z = 1: [0, 1 / (n + 1)]
    assert hi[-1] == pytest.approx(1 / 6, rel=1e-12)


def test_exceedance_probability_of_a_gaussian():
    x = np.random.default_rng(4).standard_normal(100_000)
    p, lo, hi = st.exceedance_probability(x, 0.0, 1.0, z=4.0)
    assert lo < math.erfc(1 / math.sqrt(2)) < hi      # 4-sigma Wilson interval


def test_exceedance_rejects_bad_input():
    with pytest.raises(ValueError, match="'delta'"):
        st.exceedance_probability([1.0, 2.0], 0.0, -0.1)
    with pytest.raises(ValueError, match="'samples'"):
        st.exceedance_probability([[1.0, 2.0]], 0.0, 0.1)
    with pytest.raises(ValueError, match="'z'"):
        st.exceedance_probability([1.0, 2.0], 0.0, 0.1, z=0.0)


def test_sup_deviation_noise_floor_has_its_nominal_level_and_the_correction_reduces_the_bias():
    # 200 pure-noise data sets: the plain maximum over 40 points is resolved in about 5 %
    # of them (binomial sd ~ 1.5 %), and the bias-corrected value lies closer to the truth.
    rng = np.random.default_rng(11)
    resolved, raw, corrected = [], [], []
    for trial in range(200):
        x = rng.standard_normal((100, 40))
        d = st.sup_deviation(x, np.zeros(40), num_resamples=200, seed=trial)
        resolved.append(d.resolved)
        raw.append(d.raw)
        corrected.append(d.value)
    assert 0.01 < np.mean(resolved) < 0.11
    assert np.mean(corrected) < np.mean(raw)


def test_sup_deviation_recovers_a_resolved_deviation_within_its_error():
    rng = np.random.default_rng(12)
    errors = []
    for trial in range(100):
        x = rng.standard_normal((400, 30))
        x[:, 3] -= 0.4          # 8 standard errors, at one point, negative sign
        d = st.sup_deviation(x, np.zeros(30), scale=2.0, num_resamples=200, seed=trial)
        assert d.resolved and d.argmax == (3,)
        errors.append((d.value - 0.2) / d.standard_error)
    # the error bar is honest: the normalised errors have mean ~0 and sd ~1
    assert abs(np.mean(errors)) < 0.35 and 0.7 < np.std(errors) < 1.3


def test_sup_deviation_with_a_noisy_reference_widens_the_error():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((200, 10)) + 1.0
    plain = st.sup_deviation(x, np.zeros(10), seed=1)
    noisy = st.sup_deviation(x, np.zeros(10), reference_error=np.full(10, 0.2), seed=1)
    assert noisy.standard_error > 2 * plain.standard_error


def test_sup_deviation_rejects_bad_input():
    x = np.zeros((20, 3))
    with pytest.raises(ValueError, match="at least 16"):
        st.sup_deviation(x[:5], np.zeros(3))
    with pytest.raises(ValueError, match="observation shape"):
        st.sup_deviation(x, np.zeros(4))
    with pytest.raises(ValueError, match="'scale' must be positive"):
        st.sup_deviation(x, np.zeros(3), scale=0.0)


def test_weighted_power_law_fit_follows_the_precise_points():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = 3.0 * x**2
    y[-1] *= 2.0                          # an outlier with a large error bar
    a_w, _, _ = st.fit_power_law(x, y, y_errors=np.array([0.01, 0.01, 0.01, 10.0]) * y)
    a_u, _, _ = st.fit_power_law(x, y)
    assert abs(a_w - 2.0) < 0.01 < abs(a_u - 2.0)


def test_block_norms_are_the_norms_of_consecutive_blocks():
    x = np.arange(23.0)[:, None] * np.array([1.0, -2.0])
    blocks = st.block_central_lp_norms(x, orders=(2, 6), num_blocks=4)
    assert blocks.shape == (4, 2, 2)
    for i in range(4):          # blocks of 5, the last 3 realizations left out
        for k, r in enumerate((2, 6)):
            assert np.array_equal(blocks[i, k], st.central_lp_norm(x[5 * i:5 * i + 5], r))


def _bootstrap_over_block_spread(x, num_blocks, size):
    """Median bootstrap error of one block's r = 6 norm over the spread of the blocks' norms."""
    blocks = st.block_central_lp_norms(x, orders=(6,), num_blocks=num_blocks)[:, 0]
    boots = [st.bootstrap_central_lp_norms(x[size * i:size * (i + 1)], orders=(6,),
                                           num_resamples=200, seed=i).standard_error[0]
             for i in range(num_blocks)]
    return np.median(boots) / blocks.std(ddof=1)


def test_block_spread_matches_the_bootstrap_for_gaussian_data_and_exceeds_it_for_heavy_tails():
    # 50 blocks of 400. Gaussian samples: the bootstrap error of one block's r = 6 norm
    # and the spread of the blocks' norms estimate the same sampling error (their ratio
    # is 0.64-0.98 over ten seeds: the median of the skewed bootstrap errors sits a
    # little low). Student t with 7 degrees of freedom: the sixth moment is finite, the
    # twelfth (the variance of the sixth sample moment) is not; the spread is set by
    # rare large values that one block rarely holds, and the bootstrap sees only those
    # it holds (ratio 0.36-0.57 over ten seeds, at most 0.72 of the Gaussian ratio).
    rng = np.random.default_rng(0)
    gauss = _bootstrap_over_block_spread(rng.standard_normal(20_000), 50, 400)
    heavy = _bootstrap_over_block_spread(rng.standard_t(7, size=20_000), 50, 400)
    assert 0.55 < gauss < 1.2
    assert heavy < 0.85 * gauss


def test_block_norms_reject_bad_input():
    with pytest.raises(ValueError, match="'num_blocks'"):
        st.block_central_lp_norms(np.zeros(7), num_blocks=4)
    with pytest.raises(ValueError, match="'num_blocks'"):
        st.block_central_lp_norms(np.zeros(10), num_blocks=1)
    with pytest.raises(ValueError, match="'orders'"):
        st.block_central_lp_norms(np.zeros(10), orders=(0.5,), num_blocks=2)


def test_block_checked_replicates_keep_a_sufficient_bootstrap_and_widen_a_short_one():
    rng = np.random.default_rng(4)
    reps = 2.0 + 0.1 * rng.standard_normal((4000, 3))
    # blocks whose batch-means error is 0.05, 0.1 and 0.3: the first two leave the
    # bootstrap (0.1) as it is, the third widens it threefold. K = 4 blocks at -a, -a, a,
    # a have std a sqrt(4/3), batch-means error a sqrt(4/3) / 2 = a / sqrt(3)
    a = np.sqrt(3.0) * np.array([0.05, 0.1, 0.3])
    blocks = np.array([-1.0, -1.0, 1.0, 1.0])[:, None] * a
    out, widening = st.block_checked_replicates(np.array([2.5, 2.5, 2.5]), reps, blocks)
    batch = blocks.std(axis=0, ddof=1) / 2
    assert np.allclose(batch, [0.05, 0.1, 0.3])
    boot = reps.std(axis=0, ddof=1)
    assert np.allclose(widening, np.maximum(1.0, batch / boot))
    assert np.allclose(out.mean(axis=0), 2.5)
    assert np.allclose(out.std(axis=0, ddof=1), np.maximum(boot, batch))
    # the replicates keep their correlations (a stretch about the mean)
    assert np.allclose(np.corrcoef(out.T), np.corrcoef(reps.T))


def test_block_checked_replicates_reject_bad_shapes():
    with pytest.raises(ValueError, match="'replicates'"):
        st.block_checked_replicates(np.zeros(2), np.zeros((5, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="'block_values'"):
        st.block_checked_replicates(np.zeros(2), np.zeros((5, 2)), np.zeros((1, 2)))
