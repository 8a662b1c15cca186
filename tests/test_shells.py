"""Energy shells (chargetransport.shells): exact sampling, grid projections, symmetrization.

The references: the conditional law of eps_i = 2 cos(2 pi U_i) on the shell, integrated
by quadrature from rho_1 * rho_{d-1} (coarea formula), and in d = 3 joint moments by
(nested) quadrature; the acceptance rate of the rejection samplers, a ratio of masses; the
Boltzmann collision rate 2 pi rho(e); exact shell samples for the smoothed grid averages;
and the algebra of a projection for the energy bins.
"""
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import shells
from chargetransport.quasi_free_states import fermi_dirac, fermi_sea


# --------------------------------------------------------------------------------------
# Exact shell samples
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("d, E", [(1, 0.7), (2, 1.7), (2, -0.05), (3, 0.3), (3, -4.5), (3, 1.95),
                                  (3, 0.0), (3, -1.0), (3, 2.05), (3, 5.9)])
def test_shell_samples_lie_exactly_on_the_energy_shell(d, E):
    # d = 3 energies in both regimes of the sampler (|E| < 2, 2 < |E| < 6), both signs, next
    # to the van Hove energy 2 and to the band edge 6
    U = shells.sample_energy_shell(E, d, 20_000, seed=3)
    assert U.shape == (20_000, d)
    assert np.all((U >= 0) & (U < 1))
    assert np.abs(ct.dispersion(U) - E).max() < 1e-12   # rounding of cos/arccos only


def _conditional_cdf(E, d):
    """CDF of eps_1 = 2 cos(2 pi U_1) on the shell: density rho_1(x) rho_{d-1}(E - x) / rho_d(E).

    Integrated independently of the sampler: adaptive quadrature over the segments of a
    fine grid in theta (x = 2 cos theta crowds the grid at the square-root ends), then
    linear interpolation in theta (error ~1e-6, far below the KS resolution 1/sqrt(n)).
    """
    def density(x):
        return (ct.density_of_states(np.array([x]), 1)[0]
                * ct.density_of_states(np.array([E - x]), d - 1)[0])
    lo, hi = max(-2.0, E - 2.0 * (d - 1)), min(2.0, E + 2.0 * (d - 1))
    th = np.linspace(np.arccos(hi / 2), np.arccos(lo / 2), 801)[::-1]    # x increasing
    xs = 2 * np.cos(th)
    xs[0], xs[-1] = lo, hi
    singular = [b for b in (E, E - 2, E + 2, E - 4, E + 4) if lo < b < hi]
    pieces = [integrate.quad(density, a, b, points=[c for c in singular if a < c < b] or None,
                             limit=200)[0] for a, b in zip(xs[:-1], xs[1:])]
    cum = np.concatenate([[0.0], np.cumsum(pieces)])
    total = cum[-1]

    def cdf(x):
        theta = np.arccos(np.clip(np.asarray(x) / 2, -1, 1))
        return np.interp(-theta, -th, cum / total)
    return cdf, total


@pytest.mark.parametrize("d, E", [(2, 1.7), (2, -0.4), (3, 0.3), (3, -2.7), (3, 1.0), (3, -1.9),
                                  (3, 2.2), (3, 4.5)])
def test_shell_sampler_has_the_exact_conditional_law(d, E):
    U = shells.sample_energy_shell(E, d, 4000 if d == 2 else 20_000, seed=11)
    cdf, total = _conditional_cdf(E, d)
    # the normalisation of the conditional density is rho_d(E) (coarea formula)
    assert total == pytest.approx(float(ct.density_of_states(E, d)), rel=1e-6)
    # Every axis has the same law: the d = 3 sampler draws eps_3 first and (eps_1, eps_2)
    # given it. Kolmogorov-Smirnov at the 0.1% level each: fails with probability 1e-3 if
    # the law is right, and surely for a sampler that got the weights 1/|grad e| wrong (see
    # next test).
    for i in range(d):
        assert stats.kstest(2 * np.cos(2 * np.pi * U[:, i]), cdf).pvalue > 1e-3, i


def test_uniform_thin_shell_law_is_rejected_by_the_same_check():
    # guards the power of the test above: points weighted by surface area dS instead of
    # dS / |grad e| (the classic mistake) are told apart with fewer samples. Near the
    # saddle energy |grad e| varies strongly along the shell, so E = 0.3.
    E = 0.3
    rng = np.random.default_rng(5)
    U = rng.random((2_000_000, 2))
    U = U[np.abs(ct.dispersion(U) - E) < 0.005]
    grad = np.linalg.norm(bz.group_velocity(U), axis=1)
    keep = rng.random(len(U)) < grad / grad.max()       # reweight by |grad e|: wrong law
    eps1 = 2 * np.cos(2 * np.pi * U[keep][:2500, 0])
    cdf, _ = _conditional_cdf(E, 2)
    assert stats.kstest(eps1, cdf).pvalue < 1e-3


def _angle_breaks(values):
    """The angles theta in (0, pi) where 2 cos(theta) takes one of the values."""
    return sorted({float(np.arccos(v / 2)) for v in values if abs(v) < 2}) or None


def _shell3_marginal_moment(E, k):
    """E[eps_1^k] on the d = 3 shell: (1/pi) int (2 cos a)^k rho_2(E - 2 cos a) da / rho_3(E)."""
    def integrand(a):
        x = 2 * np.cos(a)
        return x**k * ct.density_of_states(np.array([E - x]), 2)[0]
    value = integrate.quad(integrand, 0, np.pi, points=_angle_breaks([E, E - 4, E + 4]),
                           limit=400, epsabs=1e-13, epsrel=1e-11)[0]
    return value / np.pi / float(ct.density_of_states(E, 3))


def _shell3_pair_fourth_moment(E):
    """E[eps_1^2 eps_2^2] on the d = 3 shell, by nested quadrature in the angles:
    (1/pi^2) int int (2 cos a)^2 (2 cos b)^2 rho_1(E - 2 cos a - 2 cos b) da db / rho_3(E).

    Not a function of the marginal law: it tests the joint law. (Checked against a thin
    energy window of uniform momenta: 3.3765 +- 0.008 against 3.3747 at E = 1.)
    """
    def rho1(z):
        return 1 / (np.pi * np.sqrt(4 - z * z)) if abs(z) < 2 else 0.0

    def inner(F):
        value = integrate.quad(lambda b: (2 * np.cos(b)) ** 2 * rho1(F - 2 * np.cos(b)), 0,
                               np.pi, points=_angle_breaks([F - 2, F + 2]), limit=400)[0]
        return value / np.pi

    with warnings.catch_warnings():      # the inner integrands' square-root ends
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value = integrate.quad(lambda a: (2 * np.cos(a)) ** 2 * inner(E - 2 * np.cos(a)), 0,
                               np.pi, points=_angle_breaks([E, E - 4, E + 4]), limit=400)[0]
    return value / np.pi / float(ct.density_of_states(E, 3))


@pytest.mark.parametrize("E", [0.3, 1.0, -2.7, 4.5])
def test_3d_shell_samples_have_the_exact_joint_moments(E):
    # Exact values from the marginal moments m_k = E[eps_1^k] and exchangeability on
    # sum eps = E: E[eps_i eps_j] = (E^2 - 3 m_2) / 6, E[eps_i^2 eps_j] = (E m_2 - m_3) / 2,
    # E[eps_1 eps_2 eps_3] = (E^3 + 6 m_3 - 9 E m_2) / 6; E[eps_i^2 eps_j^2] by quadrature.
    # The sampler is not symmetric in the axes (eps_3 is drawn first), so every pair is
    # tested: 16 moments, each within 5 standard errors (a false alarm has probability
    # 16 * 6e-7 per energy).
    m2, m3 = _shell3_marginal_moment(E, 2), _shell3_marginal_moment(E, 3)
    m22 = _shell3_pair_fourth_moment(E)
    eps = 2 * np.cos(2 * np.pi * shells.sample_energy_shell(E, 3, 200_000, seed=17))
    pairs = [(i, j) for i in range(3) for j in range(3) if i < j]
    moments = ([(eps[:, i] ** 2, m2) for i in range(3)]
               + [(eps[:, i] * eps[:, j], (E**2 - 3 * m2) / 6) for i, j in pairs]
               + [(eps[:, i] ** 2 * eps[:, j], (E * m2 - m3) / 2)
                  for i in range(3) for j in range(3) if i != j]
               + [(eps.prod(axis=1), (E**3 + 6 * m3 - 9 * E * m2) / 6)]
               + [(eps[:, i] ** 2 * eps[:, j] ** 2, m22) for i, j in pairs])
    for k, (values, exact) in enumerate(moments):
        se = values.std() / np.sqrt(len(values))
        assert abs(values.mean() - exact) < 5 * se, (k, values.mean(), exact, se)


def test_3d_shell_sampler_branches_are_fair_and_independent():
    # the three branches U_i >= 1/2 come from three bits of one uniform: all 8 patterns
    # equally likely (chi-square at the 0.1% level), whatever the cosines
    U = shells.sample_energy_shell(0.7, 3, 80_000, seed=19)
    pattern = ((U >= 0.5) * np.array([1, 2, 4])).sum(axis=1)
    counts = np.bincount(pattern, minlength=8)
    assert stats.chisquare(counts).pvalue > 1e-3
    # and independent of the cosines: the same pattern frequencies on either side of the
    # median of eps_3
    eps3 = np.cos(2 * np.pi * U[:, 2])
    low = eps3 < np.median(eps3)
    table = np.array([np.bincount(pattern[low], minlength=8),
                      np.bincount(pattern[~low], minlength=8)])
    assert stats.chi2_contingency(table).pvalue > 1e-3


@pytest.mark.parametrize("d, E", [(2, 1.0), (2, -2.5), (3, 1.0), (3, -0.2), (3, 1.9), (3, 3.0),
                                  (3, -5.5)])
def test_shell_sampler_acceptance_is_the_ratio_of_target_and_envelope_masses(d, E):
    # A rejection sampler accepts at the rate (mass of the target) / (mass of the envelope)
    # exactly when the envelope dominates the target everywhere; a ratio above 1 somewhere
    # (a wrong bound) lowers the rate, a wrong normalisation moves it. d = 2: under the
    # arcsine proposal g has mean pi rho_2(E) and bound (4 |E|)^{-1/2}: rate
    # 2 pi sqrt(|E|) rho_2(E). d = 3, in c_i = eps_i / 2: target mass 2 pi^3 rho_3(E) in
    # (c_3, c_1), envelope pi^2 sum_k s_k dv_k over the cells of the shell table
    # (shells._fill_shell_table): rate 2 pi rho_3(E) / sum_k s_k dv_k.
    n = 200_000
    _, proposals = shells._sample_shell_many(E, d, np.random.default_rng(23), n)
    rho = float(ct.density_of_states(E, d))
    if d == 2:
        rate = 2 * np.pi * np.sqrt(abs(E)) * rho
    else:
        table = shells._shell_table(E)
        rate = 2 * np.pi * rho / np.sum(np.sqrt(table[:, shells._A0]) * table[:, shells._DV])
    assert 0 < rate <= 1
    # proposals per sample are geometric: mean 1 / rate, variance (1 - rate) / rate^2
    assert abs(proposals - n / rate) < 5 * np.sqrt(n * (1 - rate)) / rate
    # the d = 3 rates the docstring quotes (0.26 at E = 1 for the former chart sampler)
    if d == 3 and E == 1.0:
        assert rate > 0.68


def test_shell_sampler_is_reproducible_and_symmetric():
    a = shells.sample_energy_shell(0.9, 3, 50_000, seed=42)
    b = shells.sample_energy_shell(0.9, 3, 50_000, seed=42)
    assert np.array_equal(a, b)
    v = bz.group_velocity(a)
    # the shell measure is invariant under U -> -U: mean velocity 0 within 5 standard errors
    assert np.all(np.abs(v.mean(axis=0)) < 5 * v.std(axis=0) / np.sqrt(len(v)))


@pytest.mark.parametrize("d, E", [(2, 0.0), (3, 2.0), (3, -6.0), (2, 4.5), (1, 2.0)])
def test_shell_sampler_refuses_critical_or_outside_energies(d, E):
    with pytest.raises(ValueError, match="critical energy|outside"):
        shells.sample_energy_shell(E, d, 10, seed=0)


# --------------------------------------------------------------------------------------
# Smoothed level sets on a grid
# --------------------------------------------------------------------------------------
def test_level_set_measure_tends_to_the_boltzmann_collision_rate():
    lat = ct.Lattice(2, 256)
    e = lat.dispersion()
    m = shells.level_set_measure(e, width=0.02)
    away = (np.abs(e) > 0.5) & (np.abs(e) < 3.5)  # away from the van Hove point and band edges
    rate = bz.collision_rate(e[away], 2)
    # Gaussian smoothing of rho by w = 0.02 changes it by O(w^2 rho'') < 1%; the grid
    # sum by O(1/(L w)) ~ 0.2%: allow 2%
    np.testing.assert_allclose(m[away], rate, rtol=0.02)


def test_level_set_average_of_a_function_of_the_energy_is_itself():
    lat = ct.Lattice(2, 64)
    e = lat.dispersion()
    F = 0.5 + 0.4 * np.tanh(e / 2)
    # measured <= 3.4e-3: on a 64^2 grid the energies cluster on few values per shell
    # (square-lattice degeneracies), so a Gaussian of width 0.02 weights neighbouring
    # shells unevenly, an error of order slope * w ~ 4e-3 (O(w^2 F'') alone is 4e-5)
    np.testing.assert_allclose(shells.level_set_average(F, e, 0.02), F, atol=5e-3)
    assert shells.equidistribution_defect(F, e, 0.01) < 1e-2
    G = fermi_sea(lat, 0.0, shift=(0.2, 0.0), beta=3.0)  # not a function of e
    assert shells.equidistribution_defect(G, e) > 0.3


def _displaced_sea(k, shift=(0.15, 0.05), beta=2.0, mu=0.5):
    k = np.asarray(k)
    es = sum(2 * np.cos(2 * np.pi * (k[..., i] - shift[i])) for i in range(2))
    return fermi_dirac(es, beta, mu)


def test_level_set_average_matches_exact_shell_samples():
    lat = ct.Lattice(2, 128)
    e = lat.dispersion()
    J = _displaced_sea(np.stack(lat.momenta(sparse=False), axis=-1))
    P = shells.level_set_average(J, e, 0.02)
    for E in (-3.0, -2.0, -1.0, 0.7, 1.5, 2.5, 3.5):
        i = np.argmin(np.abs(e - E))
        exact, se = shells.shell_average(_displaced_sea, float(e.flat[i]), 2, num_samples=100_000)
        # grid shells smoothed by w = 0.02 vs exact shell samples: measured <= 4.5e-3
        # (at E = -2, a highly degenerate grid shell); Monte Carlo error ~1e-3
        assert abs(P.flat[i] - exact) < 8e-3 + 4 * se, E


def test_symmetrize_averages_over_the_point_group():
    lat = ct.Lattice(2, 8)
    F = ct.as_generator(2).uniform(size=lat.shape)
    S = shells.symmetrize(F)
    np.testing.assert_allclose(S, S.T, atol=1e-15)
    np.testing.assert_allclose(S, shells._reflect(S), atol=1e-15)
    assert S.mean() == pytest.approx(F.mean(), abs=1e-15)
    E = lat.dispersion()
    np.testing.assert_allclose(shells.symmetrize(E), E, atol=1e-14)


# --------------------------------------------------------------------------------------
# Energy bins on a grid
# --------------------------------------------------------------------------------------
def test_energy_bins_project_like_a_conditional_expectation():
    lat = ct.Lattice(2, 48)
    e = lat.dispersion()
    bins = shells.EnergyBins(e, 0.1, origin=-4.0)
    F = ct.as_generator(3).standard_normal(lat.shape)
    G = ct.as_generator(4).standard_normal(lat.shape)
    P = bins.project(F)
    # a projection, orthogonal for the counting measure, conserving the sum: rounding only
    np.testing.assert_allclose(bins.project(P), P, atol=1e-14)
    assert np.sum(P * G) == pytest.approx(np.sum(F * bins.project(G)), abs=1e-10)
    assert P.sum() == pytest.approx(F.sum(), abs=1e-10)
    # constant on each bin, and the bin of every momentum is floor((e - origin) / w)
    index = bins.index.reshape(lat.shape)
    for k in np.unique(index)[::7]:
        values = P[index == k]
        assert np.ptp(values) < 1e-14
        assert values[0] == pytest.approx(F[index == k].mean(), abs=1e-14)
    assert np.all(bins.lower[index] <= e + 1e-12) and np.all(e < bins.lower[index] + 0.1 + 1e-12)
    assert bins.counts.sum() == e.size


def test_energy_bins_reject_bad_input():
    e = ct.Lattice(2, 8).dispersion()
    with pytest.raises(ValueError, match="'bin_width'"):
        shells.EnergyBins(e, 0.0)
    with pytest.raises(ValueError, match="'origin'"):
        shells.EnergyBins(e, 0.1, origin=-3.0)           # above the lowest energy
    with pytest.raises(ValueError, match="'F' must have the shape"):
        shells.EnergyBins(e, 0.1).project(np.ones((4, 4)))


def test_level_set_functions_reject_bad_input():
    lat = ct.Lattice(2, 16)
    J = ct.quasi_free_states.gibbs_distribution(lat, 1.0, 0.0)
    with pytest.raises(ValueError, match="'width' must be > 0"):
        shells.level_set_average(J, lat.dispersion(), width=0.0)
    with pytest.raises(ValueError, match="'energy' must have the shape"):
        shells.level_set_average(J, lat.dispersion()[:4, :4])
    with pytest.raises(ValueError, match="'F' must be a field on a box grid"):
        shells.equidistribution_defect(np.ones((3, 4)), np.ones((3, 4)))
    with pytest.raises(TypeError, match="'J' must be a callable"):
        shells.shell_average(np.ones(3), 1.0, 2)
