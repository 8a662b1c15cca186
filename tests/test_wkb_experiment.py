"""The WKB experiment of Theorem 2.1 (chargetransport.wkb_experiment).

The state, its Wigner function at finite eta, the set-up and one realization's pairings.
"""
import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import wkb_experiment as wkb


def test_wkb_pairing_at_time_zero_is_the_initial_position_density():
    # J = Gaussian of X only: <J, W_0> = sum |psi(x)|^2 g(eta^2 x) -> E[g(X)], X ~ N(0, w^2);
    # for g = exp(-|X|^2 / 2) and w = 0.5: prod_i 1 / sqrt(1 + w^2) = 0.8 in d = 2,
    # up to the lattice sum's error (lattice spacing eta^2 = 0.0625 << w: below 1e-6)
    J = ct.gaussian_test_function((0.0, 0.0), None, width=1.0)
    r = wkb.wkb_wigner_pairings(0, d=2, L=128, eta=0.25, momentum=(0.11, 0.23), width=0.5,
                                T=[0.0], test_functions=[J])
    assert r["pairings"][0, 0] == pytest.approx(0.8, abs=1e-6)
    assert r["boundary_weight"][0] < 1e-10


def test_wkb_experiment_is_the_set_up_of_theorem_2_1_in_numbers():
    setup = wkb.WKBExperiment()
    p = np.array([1 / 8, 1 / 4])
    assert np.allclose(setup.velocity, bz.group_velocity(p), rtol=1e-15)
    # q lies on the energy shell of p
    assert ct.dispersion(np.array(setup.scattered_momentum)) == pytest.approx(
        float(ct.dispersion(p)), abs=1e-14)
    assert setup.box_side(0.2, half_width=5.0) == 250
    assert setup.box_side(0.4, half_width=6.5) == 2 * int(np.ceil(6.5 / 0.16))
    # J_1 peaks (value 1) at X = v(p) T_1, V = p
    J1, J2, J3 = setup.test_functions()
    assert J1(setup.velocity[None, :], p[None, :])[0] == pytest.approx(1.0, rel=1e-12)
    assert J2(np.zeros((1, 2)), np.array([setup.scattered_momentum]))[0] == pytest.approx(1.0)
    X, V = setup.initial_samples(20_000, np.random.default_rng(0))
    assert X.shape == V.shape == (20_000, 2) and np.all(V == p)
    # sample std 0.5 per axis: 5 standard errors of a std estimate, 0.5 * 5 / sqrt(40000)
    assert np.allclose(X.std(axis=0), 0.5, atol=0.0125)


def test_wkb_experiment_observable_pairs_the_initial_state():
    import pickle
    setup = wkb.WKBExperiment()
    obs = pickle.loads(pickle.dumps(setup.observable(0.25, [0.0], half_width=4.0)))
    r = obs(np.random.SeedSequence(0))
    # J_3 = exp(-|X|^2 / 2) against N(0, 0.25): 1 / (1 + w^2) = 0.8 in d = 2 (lattice sum
    # error below 1e-6, as in test_wkb_pairing_at_time_zero_is_the_initial_position_density)
    assert r["pairings"][0, 2] == pytest.approx(0.8, abs=1e-6)
    assert r["pairings"].shape == (1, 3)


def test_wkb_experiment_rejects_bad_input():
    setup = wkb.WKBExperiment()
    with pytest.raises(ValueError, match="'eta'"):
        setup.box_side(0.0, half_width=5.0)
    with pytest.raises(ValueError, match="'half_width'"):
        setup.box_side(0.3, half_width=-1.0)
    with pytest.raises(TypeError, match="'eta'"):
        setup.observable("0.3", [1.0], half_width=5.0)


# --- the Wigner function of the Gaussian WKB state at finite eta ------------------------
def _periodic_gaussian_integral(center, sigma, p, s):
    """int_T g(V) dV of the peak-1 periodised Gaussian (centre, sigma) against the periodised
    normal law (p, s): sigma / sqrt(sigma^2 + s^2) sum_k exp(-(center - p + k)^2 / 2 var)."""
    var = sigma**2 + s**2
    return sigma / np.sqrt(var) * sum(np.exp(-(center - p + k) ** 2 / (2 * var))
                                      for k in range(-3, 4))


@pytest.mark.parametrize("d, L, eta", [(1, 96, 0.3), (2, 64, 0.45), (3, 24, 0.6)])
def test_wigner_pairing_of_the_wkb_state_is_the_pairing_with_its_gaussian_wigner_function(d, L, eta):
    # independent closed form: a product over axes of Gaussian integrals; the lattice sums
    # differ from them by exp(-2 pi^2 sigma^2) (sigma >= 1 site here, < 1e-8; in practice
    # far less since the Gaussians are several sites wide) and rounding
    w, p = 0.5, (0.125, 0.25, 0.375)[:d]
    psi = wkb.gaussian_wkb_state(ct.Lattice(d, L), eta, p, w)
    F = wkb.GaussianWKBWigner(eta, p, w)
    assert F.momentum_spread == pytest.approx(eta**2 / (4 * np.pi * w), rel=1e-15)
    center, a = [0.3, -0.2, 0.1][:d], 0.6
    momentum, sigma = [pi + 0.02 for pi in p], 0.04
    J = ct.gaussian_test_function(center, momentum, width=a, momentum_width=sigma)
    closed = np.prod([a / np.hypot(a, w) * np.exp(-c**2 / (2 * (a**2 + w**2)))
                      * _periodic_gaussian_integral(q, sigma, pi, F.momentum_spread)
                      for c, q, pi in zip(center, momentum, p)])
    assert ct.wigner_pairing(psi, J, scale=eta**2).real == pytest.approx(closed, abs=1e-10)


def test_gaussian_wkb_wigner_density_is_a_probability_density_with_the_stated_moments():
    F = wkb.GaussianWKBWigner(0.4, (0.125, 0.95), 0.5)
    s = F.momentum_spread
    x = np.linspace(-5, 5, 2001)
    v = (np.arange(4000) + 0.5) / 4000
    # separable: check the product of the axis marginals (the density factorises)
    dens_x = F.density(np.stack([x, np.zeros_like(x)], -1), np.tile([0.125, 0.95], (x.size, 1)))
    dens_v = F.density(np.zeros((v.size, 2)), np.stack([v, np.full(v.size, 0.95)], -1))
    peak = F.density(np.zeros(2), np.array([0.125, 0.95]))
    # int over X_1 (at X_2 = 0, V = p) and over V_1 (at X = 0, V_2 = p_2), divided by the
    # peak, give one axis' normalisation 1 / (peak of the other factor)
    px = 1 / (np.sqrt(2 * np.pi) * 0.5)
    pv = 1 / (np.sqrt(2 * np.pi) * s)
    assert np.trapezoid(dens_x, x) / peak * px == pytest.approx(1.0, abs=1e-9)
    assert dens_v.mean() / peak * pv == pytest.approx(1.0, abs=1e-9)
    # the momentum wraps around the torus: p_2 = 0.95 sits at distance 0.05 from 0
    assert F.density(np.zeros(2), np.array([0.125, 0.0])) == pytest.approx(
        peak * np.exp(-0.05**2 / (2 * s**2)), rel=1e-9)


def test_gaussian_wkb_wigner_samples_have_the_moments_of_the_density():
    F = wkb.GaussianWKBWigner(0.3, (0.125, 0.25, 0.999), 0.4)
    X, V = F.sample(200_000, np.random.default_rng(3))
    assert X.shape == V.shape == (200_000, 3)
    assert np.all((V >= 0) & (V < 1))
    s, n = F.momentum_spread, 200_000
    # 5 standard errors (18 comparisons): mean se = std / sqrt(n), std se ~ std / sqrt(2n)
    assert np.abs(X.mean(axis=0)).max() < 5 * 0.4 / np.sqrt(n)
    assert np.abs(X.std(axis=0) / 0.4 - 1).max() < 5 / np.sqrt(2 * n)
    dV = (V - np.array(F.momentum) + 0.5) % 1.0 - 0.5
    assert np.abs(dV.mean(axis=0)).max() < 5 * s / np.sqrt(n)
    assert np.abs(dV.std(axis=0) / s - 1).max() < 5 / np.sqrt(2 * n)
    # positions are drawn first (documented order): the same seed gives the same first rows
    X2, _ = F.sample(10, np.random.default_rng(3))
    assert np.array_equal(X2, X[:10])


def test_gaussian_wkb_wigner_rejects_bad_input():
    with pytest.raises(ValueError, match="eta"):
        wkb.GaussianWKBWigner(0.0, (0.1, 0.2), 0.5)
    with pytest.raises(ValueError, match="width"):
        wkb.GaussianWKBWigner(0.2, (0.1, 0.2), -1.0)
    with pytest.raises(ValueError, match="momentum"):
        wkb.GaussianWKBWigner(0.2, (0.1, 0.2, 0.3, 0.4), 0.5)
    with pytest.raises(ValueError, match="num"):
        wkb.GaussianWKBWigner(0.2, (0.1, 0.2), 0.5).sample(-1, np.random.default_rng(0))


def test_wkb_experiment_in_dimension_three_swaps_the_first_two_momentum_components():
    two = wkb.WKBExperiment.in_dimension(2)
    assert two == wkb.WKBExperiment()
    assert two.scattered_momentum == (0.25, 0.125)          # the 2D default, unchanged
    three = wkb.WKBExperiment.in_dimension(3, unscattered_time=0.5)
    p = np.array([1 / 8, 1 / 4, 3 / 8])
    assert three.d == 3 and np.array_equal(three.momentum, p)
    assert three.scattered_momentum == (0.25, 0.125, 0.375)
    # q lies on the energy shell of p (e(p) = 0 here, the band centre)
    assert float(ct.dispersion(np.array(three.scattered_momentum))) == pytest.approx(
        float(ct.dispersion(p)), abs=1e-14)
    assert np.allclose(three.velocity, bz.group_velocity(p), rtol=1e-15)
    J1, J2, J3 = three.test_functions()
    assert J1(0.5 * three.velocity[None, :], p[None, :])[0] == pytest.approx(1.0, rel=1e-12)
    assert J2(np.zeros((1, 3)), np.array([three.scattered_momentum]))[0] == pytest.approx(1.0)
    # an explicit scattered momentum is kept; d = 1 defaults to -p
    assert wkb.WKBExperiment(momentum=(0.1, 0.2), scattered_momentum=(0.2, 0.1)) == two.__class__(
        momentum=(0.1, 0.2))
    assert wkb.WKBExperiment(momentum=(0.125,)).scattered_momentum == (0.875,)


def test_wkb_experiment_in_three_dimensions_pairs_the_initial_density():
    three = wkb.WKBExperiment.in_dimension(3)
    r = three.observable(0.35, [0.0], half_width=2.5)(np.random.SeedSequence(1))
    # J_3 = exp(-|X|^2 / 2) against N(0, w^2 I_3): (1 + w^2)^(-3/2) = 0.8^1.5; the box
    # [-2.5, 2.5]^3 holds five widths (weight beyond ~1e-6), the lattice sum of a Gaussian
    # 4 sites wide is exact far beyond that
    assert r["pairings"][0, 2] == pytest.approx(0.8**1.5, abs=1e-5)
    # the layer within 1/2 of the boundary starts 4 widths out: 3 axes x 2 Phi(-4) = 1.9e-4
    assert r["boundary_weight"][0] < 2.5e-4


def test_wkb_experiment_in_dimension_rejects_bad_input():
    with pytest.raises(ValueError, match="'d'"):
        wkb.WKBExperiment.in_dimension(1)
    with pytest.raises(ValueError, match="'momentum'"):
        wkb.WKBExperiment.in_dimension(3, momentum=(0.1, 0.2))
    with pytest.raises(ValueError, match="'scattered_momentum'"):
        wkb.WKBExperiment(momentum=(0.1, 0.2, 0.3), scattered_momentum=(0.2, 0.1))
