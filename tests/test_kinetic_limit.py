"""Per-realization kinetic-limit experiments (chargetransport.kinetic_limit)."""
from functools import partial

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import kinetic_limit as kl
from chargetransport import relaxation_prediction as rp


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


def test_wkb_mean_square_displacement_starts_at_initial_spread():
    r = kl.wkb_mean_square_displacement(0, d=2, L=128, eta=0.25, momentum=(0.11, 0.23),
                                        width=0.5, T=[0.0])
    # d w^2 = 0.5, lattice-sum error far below 1e-6
    assert r["msd"][0] == pytest.approx(0.5, abs=1e-6)


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
              + [rp.momentum_bump(K, q, width) for q in centers])
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
    pred = rp.plane_wave_boltzmann_prediction(d=2, momentum=r["momentum"], T=[0.0, 0.5],
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


def test_born_terms_with_an_explicit_twist():
    # twist= overrides the seed's twist: the seed's own twist gives the seed's values, and
    # zeros give the periodic box, whose survival term is recomputed here by hand: all grid
    # momenta k != p within the window, the 7 exact images of p among them at full weight t^2
    target, T = np.array([7, 19]) / 64, np.array([0.0, 0.5])
    seed = ct.realization_seeds(5, 1)[0]
    theta = ct.rng.Realization(seed).twist(2)
    assert all(np.array_equal(a, b) for a, b in zip(
        kl.plane_wave_born_terms(seed, d=2, L=64, eta=0.4, momentum=target, T=T).values(),
        kl.plane_wave_born_terms(None, d=2, L=64, eta=0.4, momentum=target, T=T,
                                 twist=theta).values()))
    periodic = kl.plane_wave_born_terms(None, d=2, L=64, eta=0.4, momentum=target, T=T,
                                        twist=(0.0, 0.0))
    assert periodic["survival"][0] == 0.0 and np.isfinite(periodic["survival"]).all()
    # the same sum by hand: every grid k != p inside the F_t window, the images included
    E = float(ct.dispersion(target))
    m, t, eta, L = float(bz.collision_rate(E, 2)), 0.5 / 0.4**2, 0.4, 64
    k = np.stack(np.meshgrid(np.arange(L), np.arange(L), indexing="ij"), -1).reshape(-1, 2) / L
    w = ct.dispersion(k) - E
    others = np.abs(k - target).max(axis=1) > 1e-12
    inside = others & (np.abs(w) < 6 / t + 4 * m * eta**2)
    F = t**2 * np.sinc(w[inside] * t / (2 * np.pi)) ** 2
    expected = np.exp(-m * 0.5) * (m * 0.5 - eta**2 / L**2 * F.sum())
    assert periodic["survival"][1] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="twist"):
        kl.plane_wave_born_terms(None, d=2, L=64, eta=0.4, momentum=target, T=T, twist=(1.0, 0))


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
