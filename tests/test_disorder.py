"""Tests of chargetransport.disorder: i.i.d. centred unit-variance potentials (paper eq. (2.2)).

Statistical checks use fixed seeds (so they are deterministic) and a tolerance of
5 standard errors of the estimated moment, computed from the distribution's known
higher moments: a correct sampler fails such a check with probability < 1e-6.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

import chargetransport as ct

N_SIGMA = 5.0
# E[w^4] and E[w^8] of each law (normal: 3, 105; +-1: 1, 1; uniform on [-sqrt3, sqrt3]:
# 3^2/5 = 9/5, 3^4/9 = 9), used for the standard errors of the second and fourth moments.
FOURTH = {"gaussian": 3.0, "bernoulli": 1.0, "uniform": 9.0 / 5.0}
EIGHTH = {"gaussian": 105.0, "bernoulli": 1.0, "uniform": 9.0}


@pytest.fixture(scope="module")
def big_lattice():
    return ct.Lattice(2, 300)      # 90 000 samples per draw


def test_distributions_tuple_lists_the_three_laws():
    assert set(ct.DISTRIBUTIONS) == {"gaussian", "bernoulli", "uniform"}


@pytest.mark.parametrize("distribution", ["gaussian", "bernoulli", "uniform"])
def test_random_potential_is_centred_with_unit_variance(distribution, big_lattice):
    w = ct.random_potential(big_lattice, distribution, seed=20240601).ravel()
    n = w.size
    # mean: standard error sqrt(E[w^2] / n) = 1 / sqrt(n)
    assert abs(w.mean()) < N_SIGMA / np.sqrt(n)
    # second moment: standard error sqrt((E[w^4] - 1) / n) (zero for +-1: exact)
    se2 = np.sqrt((FOURTH[distribution] - 1.0) / n)
    assert abs(np.mean(w**2) - 1.0) <= N_SIGMA * se2 + 1e-12
    # fourth moment tells the laws apart: standard error sqrt((E[w^8] - E[w^4]^2) / n)
    se4 = np.sqrt((EIGHTH[distribution] - FOURTH[distribution] ** 2) / n)
    assert abs(np.mean(w**4) - FOURTH[distribution]) <= N_SIGMA * se4 + 1e-12


@pytest.mark.parametrize("distribution,cdf", [
    ("gaussian", stats.norm.cdf),
    ("uniform", stats.uniform(loc=-np.sqrt(3), scale=2 * np.sqrt(3)).cdf),
])
def test_random_potential_follows_its_law_kolmogorov_smirnov(distribution, cdf, big_lattice):
    w = ct.random_potential(big_lattice, distribution, seed=7).ravel()
    # p < 1e-6 would be a > 5-sigma rejection of the documented law
    assert stats.kstest(w, cdf).pvalue > 1e-6


def test_bernoulli_potential_takes_values_plus_minus_one_with_equal_frequency(big_lattice):
    w = ct.random_potential(big_lattice, "bernoulli", seed=3)
    assert set(np.unique(w).tolist()) == {-1.0, 1.0}
    # fraction of +1: binomial standard error 0.5 / sqrt(n)
    assert abs(np.mean(w > 0) - 0.5) < N_SIGMA * 0.5 / np.sqrt(w.size)


def test_uniform_potential_stays_within_plus_minus_sqrt3(big_lattice):
    w = ct.random_potential(big_lattice, "uniform", seed=4)
    assert np.all(np.abs(w) <= np.sqrt(3.0))
    # and fills the interval: the extremes of 9e4 uniform samples are within ~1e-4 of the
    # ends (expected gap 2 sqrt3 / n ~ 4e-5; 1e-3 is > 20 expected gaps)
    assert w.max() > np.sqrt(3.0) - 1e-3 and w.min() < -np.sqrt(3.0) + 1e-3


@given(d=st.integers(1, 3), L=st.integers(3, 8), distribution=st.sampled_from(ct.DISTRIBUTIONS),
       seed=st.integers(0, 2**63))
@settings(max_examples=30, deadline=None)
def test_random_potential_is_reproducible_float64_of_lattice_shape(d, L, distribution, seed):
    lat = ct.Lattice(d, L)
    a = ct.random_potential(lat, distribution, seed=seed)
    b = ct.random_potential(lat, distribution, seed=seed)
    assert a.shape == lat.shape and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    # a SeedSequence of the same entropy is the same stream
    np.testing.assert_array_equal(a, ct.random_potential(lat, distribution,
                                                         seed=np.random.SeedSequence(seed)))


@pytest.mark.parametrize("distribution", ["gaussian", "bernoulli", "uniform"])
def test_random_potential_differs_between_seeds(distribution):
    lat = ct.Lattice(2, 16)
    a = ct.random_potential(lat, distribution, seed=1)
    b = ct.random_potential(lat, distribution, seed=2)
    # 256 sites: even for +-1 the chance of two equal draws is 2^-256
    assert not np.array_equal(a, b)


def test_random_potential_depends_only_on_seed_not_on_global_numpy_state():
    lat = ct.Lattice(1, 50)
    np.random.seed(0)
    a = ct.random_potential(lat, seed=5)
    np.random.seed(1)
    np.random.standard_normal(10)
    b = ct.random_potential(lat, seed=5)
    np.testing.assert_array_equal(a, b)


def test_random_potential_draws_from_a_passed_generator_and_advances_it():
    lat = ct.Lattice(1, 20)
    rng = np.random.default_rng(11)
    a = ct.random_potential(lat, seed=rng)
    b = ct.random_potential(lat, seed=rng)
    assert not np.array_equal(a, b)
    # a generator in the same state gives the same draw
    np.testing.assert_array_equal(a, ct.random_potential(lat, seed=np.random.default_rng(11)))


@given(d=st.integers(1, 3), L=st.integers(3, 9), sigma=st.floats(0.01, 3.0),
       distribution=st.sampled_from(ct.DISTRIBUTIONS), seed=st.integers(0, 10**6))
@settings(max_examples=30, deadline=None)
def test_decaying_potential_is_the_undecayed_draw_times_japanese_bracket_envelope(
        d, L, sigma, distribution, seed):
    lat = ct.Lattice(d, L)
    w0 = ct.random_potential(lat, distribution, seed=seed)
    w = ct.random_potential(lat, distribution, seed=seed, decay_exponent=sigma)
    x = np.indices(lat.shape) - L // 2                 # centred coordinates
    envelope = np.sqrt(1.0 + (x**2).sum(axis=0)) ** (-sigma)
    # <x>^{-sigma} by a different floating-point route: a few eps relative
    np.testing.assert_allclose(w, w0 * envelope, rtol=1e-14, atol=0)
    # at the origin the envelope is exactly 1
    origin = (L // 2,) * d
    assert w[origin] == w0[origin]


def test_zero_decay_exponent_is_the_ordinary_anderson_potential():
    lat = ct.Lattice(3, 5)
    np.testing.assert_array_equal(ct.random_potential(lat, seed=9, decay_exponent=0.0),
                                  ct.random_potential(lat, seed=9))
