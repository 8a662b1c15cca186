"""Tests of chargetransport.statistics: central norms, bootstrap, disjoint blocks.

Central norms against exact moments of known distributions, the bootstrap against the
asymptotic standard error, the block-checked norms of Gaussian samples against
sigma (E|Z|^r)^(1/r).
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
# Bootstrap
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


def test_bootstrap_refuses_resamples_that_cannot_fit_in_memory():
    with pytest.raises(ValueError, match="'num_resamples' is too large"):
        st.bootstrap_central_lp_norms(np.arange(100.0), num_resamples=10**12)


# --------------------------------------------------------------------------------------
# Disjoint blocks
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Block-checked norms, ratio and kurtosis at once
# --------------------------------------------------------------------------------------
def test_block_checked_central_norms_of_gaussian_samples_are_sigma_times_the_gaussian_moments():
    # ||X - EX||_r = sigma (E|Z|^r)^(1/r), E|Z|^r = 1, 3, 15 for r = 2, 4, 6: the ratio
    # ||.||_6 / ||.||_2 is 15^(1/6), the excess kurtosis 0. Each within 4 of its
    # standard errors (20 checks, about 1 in 800 at 4 sigma for each).
    sigma = np.array([0.5, 3.0])
    x = np.random.default_rng(21).standard_normal((16_000, 2)) * sigma
    stats = st.block_checked_central_norms(x, num_resamples=500, seed=3)
    exact = np.array([1.0, 3.0 ** (1 / 4), 15.0 ** (1 / 6)])[:, None] * sigma
    assert stats.norm.value.shape == (3, 2) and stats.norm.replicates.shape == (500, 3, 2)
    assert np.all(np.abs(stats.norm.value - exact) < 4 * stats.norm.standard_error)
    assert np.all(np.abs(stats.ratio.value - 15.0 ** (1 / 6)) < 4 * stats.ratio.standard_error)
    assert np.all(np.abs(stats.kurtosis.value) < 4 * stats.kurtosis.standard_error)
    # and the errors are the sampling errors of a Gaussian: the delta method gives the
    # standard deviation of the r = 2 norm as sigma / sqrt(2 n) (the kurtosis is 0)
    assert stats.norm.standard_error[0] == pytest.approx(sigma / math.sqrt(2 * 16_000), rel=0.25)


def test_block_checked_central_norms_are_the_plain_norms_with_the_larger_of_two_errors():
    # against an independent computation: the norms by numpy, the bootstrap error from
    # bootstrap_central_lp_norms with the same seed, the batch-means error from the norms
    # of 8 consecutive blocks computed here
    x = np.random.default_rng(22).standard_t(5, size=(800, 3))
    orders = (2, 3.5, 4, 6)
    stats = st.block_checked_central_norms(x, orders, num_resamples=300, num_blocks=8, seed=4)
    dev = np.abs(x - x.mean(axis=0))
    norms = np.stack([np.mean(dev**r, axis=0) ** (1 / r) for r in orders])
    np.testing.assert_allclose(stats.norm.value, norms, rtol=1e-13)
    np.testing.assert_allclose(stats.ratio.value, norms[3] / norms[0], rtol=1e-13)
    np.testing.assert_allclose(stats.kurtosis.value, (norms[2] / norms[0]) ** 4 - 3, rtol=1e-12)
    blocks = x.reshape(8, 100, 3)
    block_dev = np.abs(blocks - blocks.mean(axis=1, keepdims=True))
    block_norms = np.stack([np.mean(block_dev**r, axis=1) ** (1 / r) for r in orders], axis=1)
    batch = block_norms.std(axis=0, ddof=1) / math.sqrt(8)
    boot = st.bootstrap_central_lp_norms(x, orders, num_resamples=300, seed=4).standard_error
    np.testing.assert_allclose(stats.norm.standard_error, np.maximum(boot, batch), rtol=1e-10)
    np.testing.assert_allclose(stats.norm.widening, np.maximum(1.0, batch / boot), rtol=1e-10)
    np.testing.assert_allclose(stats.norm.replicates.mean(axis=0), norms, rtol=1e-10)
    assert stats.orders == (2.0, 3.5, 4.0, 6.0) and stats.num_blocks == 8


def test_block_checked_central_norms_are_a_mapping_of_checked_statistics():
    x = np.random.default_rng(23).standard_normal(400)
    stats = st.block_checked_central_norms(x, (4, 2), num_resamples=50, num_blocks=4)
    assert list(stats) == ["norm", "ratio", "kurtosis"] and len(stats) == 3
    assert stats["ratio"] is stats.ratio
    value, replicates, standard_error, widening = stats["kurtosis"]
    assert replicates.shape == (50,) and np.ndim(value) == 0
    # the ratio is that of the highest order to r = 2, here ||.||_4 / ||.||_2
    assert stats.ratio.value == pytest.approx(st.central_lp_norm(x, 4) / st.central_lp_norm(x, 2),
                                              rel=1e-13)
    with pytest.raises(KeyError):
        stats["skewness"]


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(orders=(2, 6)), ValueError, "'orders'"),
    (dict(orders=(2, 4, 4)), ValueError, "'orders'"),
    (dict(orders=(0.5, 2, 4)), ValueError, "'orders'"),
    (dict(num_blocks=1), ValueError, "'num_blocks'"),
    (dict(num_blocks=30), ValueError, "'num_blocks'"),
    (dict(num_blocks=2.5), TypeError, "'num_blocks'"),
    (dict(num_resamples=1), ValueError, "'num_resamples'"),
])
def test_block_checked_central_norms_reject_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        st.block_checked_central_norms(np.arange(40.0), **kwargs)


def test_block_checked_central_norms_reject_bad_samples():
    with pytest.raises(ValueError, match="'samples'"):
        st.block_checked_central_norms(3.0)
    with pytest.raises(TypeError, match="'samples'"):
        st.block_checked_central_norms(["a", "b"])
