"""Per-realization kinetic-limit experiments (chargetransport.kinetic_limit)."""
from functools import partial

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import kinetic_limit as kl


def test_untwisted_relaxation_rejects_a_momentum_off_the_grid():
    with pytest.raises(ValueError, match="'momentum'.*grid"):
        kl.plane_wave_relaxation(0, d=2, L=32, eta=0.3, momentum=(0.1, 0.2), T=[0.0])


def test_without_disorder_the_momentum_distribution_does_not_move():
    # eta tiny: survival stays 1 and the current stays v(p) (momentum conserved by Delta)
    p = np.array([5 / 64, 13 / 64])
    r = kl.plane_wave_relaxation(0, d=2, L=64, eta=1e-6, momentum=p, T=[0.0, 1e-11])
    assert r["survival"] == pytest.approx([1.0, 1.0], abs=1e-6)
    assert np.allclose(r["current"][-1], bz.group_velocity(p), atol=1e-6)


def test_survival_rate_in_2d_is_the_golden_rule_within_five_percent():
    # eta = 0.1, L = 512: about 200 levels inside the decay width 2 pi rho eta^2; the
    # golden rule holds up to O(eta^2) corrections and the finite-box error (~1% here,
    # measured 0.7%); 5% is the tolerance.
    eta, L = 0.1, 512
    p = np.round(np.array([0.11, 0.23]) * L) / L
    T = np.linspace(0.0, 1.5, 7)
    survival = np.mean([kl.plane_wave_relaxation(s, d=2, L=L, eta=eta, momentum=p, T=T)["survival"]
                        for s in ct.realization_seeds(4, 2)], axis=0)
    rate = -np.polyfit(T[1:], np.log(survival[1:]), 1)[0]
    golden_rule = float(bz.collision_rate(float(ct.dispersion(p)), 2))
    assert rate == pytest.approx(golden_rule, rel=0.05)


def test_boltzmann_prediction_of_plane_wave_observables():
    p = np.array([0.11, 0.23])
    T = np.array([0.0, 1.0])
    pred = kl.plane_wave_boltzmann_prediction(d=2, momentum=p, T=T, bump_centers=[p])
    m = float(bz.collision_rate(float(ct.dispersion(p)), 2))
    assert pred["survival"] == pytest.approx(np.exp(-m * T), rel=1e-14)
    assert np.allclose(pred["current"], np.exp(-m * T)[:, None] * bz.group_velocity(p))
    assert pred["bumps"][0, 0] == pytest.approx(1.0)
    assert np.all(pred["kinetic_energy"] == pytest.approx(float(ct.dispersion(p))))


def test_wkb_pairing_at_time_zero_is_the_initial_position_density():
    # J = Gaussian of X only: <J, W_0> = sum |psi(x)|^2 g(eta^2 x) -> E[g(X)], X ~ N(0, w^2);
    # for g = exp(-|X|^2 / 2) and w = 0.5: prod_i 1 / sqrt(1 + w^2) = 0.8 in d = 2,
    # up to the lattice sum's error (lattice spacing eta^2 = 0.0625 << w: below 1e-6)
    J = ct.gaussian_test_function((0.0, 0.0), None, width=1.0)
    r = kl.wkb_wigner_pairings(0, d=2, L=128, eta=0.25, momentum=(0.11, 0.23), width=0.5,
                               T=[0.0], test_functions=[J])
    assert r["pairings"][0, 0] == pytest.approx(0.8, abs=1e-6)
    assert r["boundary_weight"][0] < 1e-10


def test_wkb_mean_square_displacement_starts_at_initial_spread():
    r = kl.wkb_mean_square_displacement(0, d=2, L=128, eta=0.25, momentum=(0.11, 0.23),
                                        width=0.5, T=[0.0])
    # d w^2 = 0.5, lattice-sum error far below 1e-6
    assert r["msd"][0] == pytest.approx(0.5, abs=1e-6)


def test_momentum_bump_is_periodic_with_peak_one():
    q = np.array([0.95, 0.1])
    assert kl.momentum_bump(q, q, 0.05) == pytest.approx(1.0)
    assert kl.momentum_bump(q + 1.0, q, 0.05) == pytest.approx(1.0)
    assert kl.momentum_bump(np.array([0.05, 0.1]), q, 0.05) == pytest.approx(np.exp(-2.0))


def test_wkb_experiment_is_the_set_up_of_theorem_2_1_in_numbers():
    setup = kl.WKBExperiment()
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
    setup = kl.WKBExperiment()
    obs = pickle.loads(pickle.dumps(setup.observable(0.25, [0.0], half_width=4.0)))
    r = obs(np.random.SeedSequence(0))
    # J_3 = exp(-|X|^2 / 2) against N(0, 0.25): 1 / (1 + w^2) = 0.8 in d = 2 (lattice sum
    # error below 1e-6, as in test_wkb_pairing_at_time_zero_is_the_initial_position_density)
    assert r["pairings"][0, 2] == pytest.approx(0.8, abs=1e-6)
    assert r["pairings"].shape == (1, 3)


def test_wkb_experiment_rejects_bad_input():
    setup = kl.WKBExperiment()
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
    psi = kl.gaussian_wkb_state(ct.Lattice(d, L), eta, p, w)
    F = kl.GaussianWKBWigner(eta, p, w)
    assert F.momentum_spread == pytest.approx(eta**2 / (4 * np.pi * w), rel=1e-15)
    center, a = [0.3, -0.2, 0.1][:d], 0.6
    momentum, sigma = [pi + 0.02 for pi in p], 0.04
    J = ct.gaussian_test_function(center, momentum, width=a, momentum_width=sigma)
    closed = np.prod([a / np.hypot(a, w) * np.exp(-c**2 / (2 * (a**2 + w**2)))
                      * _periodic_gaussian_integral(q, sigma, pi, F.momentum_spread)
                      for c, q, pi in zip(center, momentum, p)])
    assert ct.wigner_pairing(psi, J, scale=eta**2).real == pytest.approx(closed, abs=1e-10)


def test_gaussian_wkb_wigner_density_is_a_probability_density_with_the_stated_moments():
    F = kl.GaussianWKBWigner(0.4, (0.125, 0.95), 0.5)
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
    F = kl.GaussianWKBWigner(0.3, (0.125, 0.25, 0.999), 0.4)
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
        kl.GaussianWKBWigner(0.0, (0.1, 0.2), 0.5)
    with pytest.raises(ValueError, match="width"):
        kl.GaussianWKBWigner(0.2, (0.1, 0.2), -1.0)
    with pytest.raises(ValueError, match="momentum"):
        kl.GaussianWKBWigner(0.2, (0.1, 0.2, 0.3, 0.4), 0.5)
    with pytest.raises(ValueError, match="num"):
        kl.GaussianWKBWigner(0.2, (0.1, 0.2), 0.5).sample(-1, np.random.default_rng(0))


def test_wkb_experiment_in_dimension_three_swaps_the_first_two_momentum_components():
    two = kl.WKBExperiment.in_dimension(2)
    assert two == kl.WKBExperiment()
    assert two.scattered_momentum == (0.25, 0.125)          # the 2D default, unchanged
    three = kl.WKBExperiment.in_dimension(3, unscattered_time=0.5)
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
    assert kl.WKBExperiment(momentum=(0.1, 0.2), scattered_momentum=(0.2, 0.1)) == two.__class__(
        momentum=(0.1, 0.2))
    assert kl.WKBExperiment(momentum=(0.125,)).scattered_momentum == (0.875,)


def test_wkb_experiment_in_three_dimensions_pairs_the_initial_density():
    three = kl.WKBExperiment.in_dimension(3)
    r = three.observable(0.35, [0.0], half_width=2.5)(np.random.SeedSequence(1))
    # J_3 = exp(-|X|^2 / 2) against N(0, w^2 I_3): (1 + w^2)^(-3/2) = 0.8^1.5; the box
    # [-2.5, 2.5]^3 holds five widths (weight beyond ~1e-6), the lattice sum of a Gaussian
    # 4 sites wide is exact far beyond that
    assert r["pairings"][0, 2] == pytest.approx(0.8**1.5, abs=1e-5)
    # the layer within 1/2 of the boundary starts 4 widths out: 3 axes x 2 Phi(-4) = 1.9e-4
    assert r["boundary_weight"][0] < 2.5e-4


def test_wkb_experiment_in_dimension_rejects_bad_input():
    with pytest.raises(ValueError, match="'d'"):
        kl.WKBExperiment.in_dimension(1)
    with pytest.raises(ValueError, match="'momentum'"):
        kl.WKBExperiment.in_dimension(3, momentum=(0.1, 0.2))
    with pytest.raises(ValueError, match="'scattered_momentum'"):
        kl.WKBExperiment(momentum=(0.1, 0.2, 0.3), scattered_momentum=(0.2, 0.1))


# ----------------------------------------------------------------------------------------
# Twisted boxes, first-order control variates, shell quadrature
# ----------------------------------------------------------------------------------------
def _direct_first_order_sums(d, L, theta, p, T, eta, windows, eps, centers, width):
    """The sums of kinetic_limit._first_order_sums by brute force over the whole grid."""
    K = np.stack(np.meshgrid(*[(np.arange(L) + theta[i]) / L for i in range(d)],
                             indexing="ij"), -1)
    omega = ct.dispersion(K) - float(ct.dispersion(p))
    m_p = tuple(int(x) % L for x in np.round(p * L - theta))
    fields = ([np.ones((L,) * d)] + [-2 * np.sin(2 * np.pi * K[..., a]) for a in range(d)]
              + [kl.momentum_bump(K, q, width) for q in centers])
    eps_q = eps[np.ix_(*[(m_p[a] - np.arange(L)) % L for a in range(d)])]
    out = np.zeros((len(T), 2, len(fields)))
    for i, t in enumerate(np.asarray(T) / eta**2):
        if t == 0:
            continue
        F = t**2 * np.sinc(omega * t / (2 * np.pi)) ** 2 * (np.abs(omega) < windows[i])
        F[m_p] = 0.0
        out[i, 0] = [(F * f).sum() for f in fields]
        out[i, 1] = [(F * eps_q * f).sum() for f in fields]
    return out


@pytest.mark.parametrize("d, L", [(2, 40), (2, 33), (3, 14), (3, 9)])
def test_first_order_sums_equal_a_direct_sum_over_the_twisted_grid(d, L):
    # the kernel visits only the arcs of the last axis that can reach the window: it must
    # count every grid point inside the window once (rounding only, 1e-12)
    rng = np.random.default_rng(d * 100 + L)
    eta, T, width = 0.5, np.array([0.0, 0.3, 1.0]), 0.05
    centers = np.array([[0.2, 0.7, 0.4][:d]])
    for theta in (np.zeros(d), rng.random(d), np.full(d, 0.5)):
        p = kl.nearest_grid_momentum(ct.Lattice(d, L, twist=theta), [0.11, 0.23, 0.37][:d])
        eps = rng.standard_normal((L,) * d)
        for windows in (np.array([0.0, 1e9, 1e9]), np.array([0.0, 0.7, 0.2])):
            expected = _direct_first_order_sums(d, L, theta, p, T, eta, windows, eps, centers,
                                                width)
            got = np.zeros_like(expected)
            th3, m3 = np.zeros(3), np.zeros(3, dtype=np.int64)
            th3[:d], m3[:d] = theta, [int(x) % L for x in np.round(p * L - theta)]
            kl._first_order_sums(L, d, th3, m3, float(ct.dispersion(p)), T / eta**2, windows,
                                 eps.ravel(), True, centers, width, got)
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_nearest_grid_momentum_is_on_the_twisted_grid_within_half_a_spacing():
    rng = np.random.default_rng(3)
    target = np.array([0.11, 0.23, 0.37])
    for _ in range(20):
        theta = rng.random(3)
        lat = ct.Lattice(3, 24, twist=theta)
        p = kl.nearest_grid_momentum(lat, target)
        m = p * 24 - theta
        assert np.allclose(m, np.round(m), atol=1e-9)
        assert np.all(np.abs((p - target + 0.5) % 1.0 - 0.5) <= 0.5 / 24 + 1e-12)


def test_a_generic_twist_leaves_no_symmetry_image_of_p_on_the_grid():
    # exercise ex-twisted: -p needs 2 theta in Z^d, a permutation theta_{pi(i)} - theta_i in Z
    L, target = 48, np.array([0.11, 0.23, 0.37])
    for theta, expected in ((np.zeros(3), 48), (np.array([0.31, 0.57, 0.83]), 1)):
        lat = ct.Lattice(3, L, twist=theta)
        p = kl.nearest_grid_momentum(lat, target)
        m = kl._symmetry_images(p) * L - lat.twist
        on_grid = np.all(np.abs(m - np.round(m)) < 1e-9, axis=1)
        assert on_grid.sum() == expected


def test_twisted_relaxation_starts_on_the_nearest_grid_momentum_and_conserves_weight():
    target = np.array([0.11, 0.23])
    r = kl.plane_wave_relaxation(np.random.SeedSequence(4), d=2, L=48, eta=0.3,
                                 momentum=target, T=[0.0, 0.5], twist=True)
    lat = ct.Lattice(2, 48, twist=ct.rng.Realization(np.random.SeedSequence(4)).twist(2))
    assert np.array_equal(r["momentum"], kl.nearest_grid_momentum(lat, target))
    assert r["survival"][0] == pytest.approx(1.0, abs=1e-12)
    # unitarity, up to the propagation tolerance: | ||psi||^2 - 1 | <= 2 tol + tol^2, tol = 1e-8
    assert r["final_distribution"].sum() == pytest.approx(1.0, abs=2.1e-8)
    pred = kl.plane_wave_boltzmann_prediction(d=2, momentum=r["momentum"], T=[0.0, 0.5],
                                              method="quadrature")
    assert np.array_equal(r["survival_boltzmann"], pred["survival"])


@pytest.mark.parametrize("distribution", ["gaussian", "bernoulli"])
def test_potential_part_of_the_first_order_terms_has_mean_zero(distribution):
    # E|V_hat(q)|^2 = L^d for any law with E w^2 = 1: the "cv" terms average to zero over
    # potentials. 3000 potentials: the mean lies within 4 standard errors of 0 (a 4-sigma
    # band for each of the 3 x (1 + 2 + 1) entries tested: false alarm < 1e-3 overall).
    d, L, eta, T = 2, 16, 0.5, np.array([0.5, 1.5])
    theta = np.array([0.3, 0.8])
    lat = ct.Lattice(d, L, twist=theta)
    p = kl.nearest_grid_momentum(lat, (0.11, 0.23))
    values = {"survival": [], "current": [], "bumps": []}
    for s in ct.realization_seeds(11, 3000):
        V = ct.random_potential(lat, distribution, seed=s)
        eps = np.abs(np.fft.fftn(V)) ** 2 / L**d - 1.0
        _, cv = kl._first_order_terms(d, L, theta, eta, p, T, [(0.6, 0.7)], 0.1, eps=eps)
        for key in values:
            values[key].append(cv[key])
    for key, v in values.items():
        v = np.array(v)
        assert np.all(np.abs(v.mean(0)) < 4 * v.std(0, ddof=1) / np.sqrt(len(v)) + 1e-15), key


def test_control_variates_remove_most_of_the_speckle_of_the_survival():
    # d = 2, L = 256, eta = 0.3 (about 530 levels in the decay width), T = 0.5: the
    # realization's own first-order transfer carries most of the spread of the survival
    # (measured: the variance drops about tenfold); demand a factor 3 with 16 realizations
    # (the sample variance ratio of 16 draws is within a factor 2 of its mean with high
    # probability)
    target = np.array([0.11, 0.23])
    rows = [kl.plane_wave_relaxation(s, d=2, L=256, eta=0.3, momentum=target,
                                     T=[0.0, 0.5], twist=True, control_variates=True)
            for s in ct.realization_seeds(12, 16)]
    dev = np.array([r["survival"][1] - r["survival_boltzmann"][1] for r in rows])
    corrected = dev - np.array([r["survival_cv"][1] + r["survival_born"][1] for r in rows])
    assert corrected.var(ddof=1) < dev.var(ddof=1) / 3


def test_born_terms_of_a_seed_are_those_of_its_realization():
    # the twist average of the control variate "*_born" must average exactly the values a
    # realization with that twist returns (the same function of the seed's twist)
    target, T, centers = np.array([0.11, 0.23]), np.array([0.0, 0.4]), [(0.6, 0.7)]
    for seed in ct.realization_seeds(5, 3):
        r = kl.plane_wave_relaxation(seed, d=2, L=40, eta=0.4, momentum=target, T=T,
                                     bump_centers=centers, twist=True, control_variates=True)
        born = kl.plane_wave_born_terms(seed, d=2, L=40, eta=0.4, momentum=target, T=T,
                                        bump_centers=centers)
        for key in ("survival", "current", "bumps"):
            assert np.array_equal(born[key], r[f"{key}_born"])


def test_born_terms_average_over_twists_to_the_windowed_continuum_integral():
    # survival_born = exp(-m T) (m T - eta^2 L^-d sum_{k != p, |w| < W} F_t(w)). Averaged over
    # twists the lattice sum becomes the integral eta^2 int_{|w| < W} rho(E + w) F_t(w) dw
    # (independent computation: quad with the exact rho_2), less the missing k = p term
    # eta^2 t^2 / L^d. Tolerance: 4 standard errors of the 256-twist mean, plus 5e-5 for the
    # motion of e(p) over the grid cell (|grad e| / 2L ~ 0.06: a second-order effect)
    from scipy import integrate
    eta, L, T = 0.3, 128, 1.0
    res = ct.ensemble_average(partial(kl.plane_wave_born_terms, d=2, L=L, eta=eta,
                                      momentum=(0.11, 0.23), T=[T]), 256, 9, progress=False)
    mean, se = res.mean["survival"][0], res.standard_error["survival"][0]
    E = float(ct.dispersion([0.11, 0.23]))
    m, t = float(bz.collision_rate(E, 2)), T / eta**2
    W = 6 / t + 4 * m * eta**2                     # the window of kinetic_limit
    F = lambda w: t**2 * np.sinc(w * t / (2 * np.pi)) ** 2
    B = eta**2 * integrate.quad(lambda w: float(ct.density_of_states(E + w, 2)) * F(w), -W, W,
                                limit=400, points=[0.0])[0]
    expected = np.exp(-m * T) * (m * T - B + eta**2 * t**2 / L**2)
    assert abs(mean - expected) < 4 * se + 5e-5
