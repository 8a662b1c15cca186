"""Tests of chargetransport.dos: the exact density of states of the lattice Laplacian.

Independent references used here:
* even moments int E^{2n} rho_d(E) dE = number of closed walks of length 2n on Z^d
  (d = 1: C(2n, n); d = 2: C(2n, n)^2; d = 3: OEIS A002896);
* the integrated density N(E) counted on a momentum grid;
* rho_2 written with the arithmetic-geometric mean, K(m) = pi / (2 AGM(1, sqrt(1 - m)));
* saddle-point asymptotics at the van Hove points and band edges.
"""
import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate, special

import chargetransport as ct

EPS = np.finfo(float).eps
CLOSED_WALKS = {
    1: [math.comb(2 * n, n) for n in range(5)],        # 1, 2, 6, 20, 70
    2: [math.comb(2 * n, n) ** 2 for n in range(5)],   # 1, 4, 36, 400, 4900
    3: [1, 6, 90, 1860, 44730],                        # OEIS A002896
}


def rho(E, d):
    return ct.density_of_states(E, d)


def _agm(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    for _ in range(64):  # quadratic convergence: 64 steps are far more than needed
        a, b = 0.5 * (a + b), np.sqrt(a * b)
    return a


def rho2_agm(E):
    """rho_2(E) = K(1 - E^2/16) / (2 pi^2) = 1 / (4 pi AGM(1, |E|/4)), independent of scipy."""
    E = np.abs(np.asarray(E, float))
    out = np.zeros_like(E)
    inside = E <= 4.0
    with np.errstate(divide="ignore"):
        out[inside] = 1.0 / (4.0 * np.pi * _agm(1.0, E[inside] / 4.0))
    return out


def rho1_counting(E):
    """Fraction of k in [0, 1) with 2 cos(2 pi k) < E (closed form)."""
    return 1.0 - np.arccos(np.clip(np.asarray(E) / 2.0, -1.0, 1.0)) / np.pi


@functools.lru_cache(maxsize=None)
def integrated_dos(E, d):
    """int_{-2d}^E rho_d by adaptive quadrature with break points at the singularities."""
    singular = {1: [-2.0, 2.0], 2: [0.0], 3: [-2.0, 2.0]}[d]
    points = [p for p in singular if -2 * d < p < E]
    value, _ = integrate.quad(lambda x: rho(x, d).item(), -2.0 * d, E, points=points or None,
                              epsabs=1e-13, epsrel=1e-12, limit=400)
    return value


# ----------------------------------------------------------------------------------------
# normalisation and moments
# ----------------------------------------------------------------------------------------
def test_dos_even_moments_count_closed_walks_in_1d():
    # Tr Delta^{2n} / L = number of closed walks of length 2n (n = 0 is the normalisation).
    # With E = 2 cos(theta), dE = 2 sin(theta) d theta absorbs the inverse-square-root edges,
    # leaving a smooth integrand if rho_1 is right; QUADPACK to 1e-13. Tolerance 1e-9 (brief).
    for n, walks in enumerate(CLOSED_WALKS[1]):
        moment, _ = integrate.quad(
            lambda th: (2 * np.cos(th)) ** (2 * n) * rho(2 * np.cos(th), 1).item() * 2 * np.sin(th),
            1e-300, np.pi - 1e-16, epsabs=1e-14, epsrel=1e-13, limit=200)
        assert moment == pytest.approx(walks, rel=1e-9), f"moment 2n = {2 * n}"


def test_dos_even_moments_count_closed_walks_in_2d():
    # Adaptive Gauss-Kronrod split at the logarithmic singularity E = 0, requested to 1e-13
    # (the log endpoint is handled by QUADPACK's extrapolation). Tolerance 1e-9 (brief).
    for n, walks in enumerate(CLOSED_WALKS[2]):
        moment = sum(integrate.quad(lambda E: E ** (2 * n) * rho(E, 2).item(), a, b,
                                    epsabs=1e-14, epsrel=1e-13, limit=200)[0]
                     for a, b in ((-4.0, 0.0), (0.0, 4.0)))
        assert moment == pytest.approx(walks, rel=1e-9), f"moment 2n = {2 * n}"


def test_dos_even_moments_count_closed_walks_in_3d():
    # rho_3 is analytic on (-2, 2) and on (2, 6) up to square-root terms at +-2 and +-6,
    # so Gauss-Legendre on [-2, 2] and on [2, 6] (and [-6, -2]) in the variable phi with
    # E = 4 - 2 cos(phi), which makes sqrt(E - 2) and sqrt(6 - E) smooth, converges
    # exponentially (50 nodes: ~1e-15). The remaining error is rho_3's own quadrature,
    # ~1e-11 absolute, times E^8 <= 1.7e6 over a band of width 12: relative < 1e-9 of 44730.
    x, w = np.polynomial.legendre.leggauss(50)
    phi = 0.5 * np.pi * (x + 1.0)
    E_out, w_out = 4.0 - 2.0 * np.cos(phi), 0.5 * np.pi * w * 2.0 * np.sin(phi)
    E = np.concatenate([-E_out, 2.0 * x, E_out])
    W = np.concatenate([w_out, 2.0 * w, w_out])
    values = rho(E, 3)
    for n, walks in enumerate(CLOSED_WALKS[3]):
        assert np.sum(W * E ** (2 * n) * values) == pytest.approx(walks, rel=1e-9), f"2n = {2 * n}"


@pytest.mark.parametrize("d,M,energies", [
    (1, 1000, [-1.7, -1.0, 0.0, 0.7, 1.5]),
    (2, 1000, [-3.7, -1.0, 0.7, 1.5, 3.2]),
    (3, 200, [-5.7, -1.0, 0.7, 2.5]),
])
def test_integrated_dos_matches_fraction_of_grid_momenta_below_E(d, M, energies):
    # N(E) = |{k in T^d : e(k) < E}|, counted on the midpoint grid k = (m + 1/2) / M.
    # Bound: every row of M midpoints along the last axis meets {e < E} in one arc, so its
    # count is within 1 of M * (arc length): error <= 1/M per row, hence for the average.
    # The outer average over rows is the midpoint rule of a continuous function with
    # square-root kinks, error O(M^{-3/2}) << 1/M. Tolerance 1/M + M^{-3/2}.
    k = (np.arange(M) + 0.5) / M
    e1 = 2.0 * np.cos(2.0 * np.pi * k)
    e = e1
    for _ in range(d - 1):
        e = np.add.outer(e, e1)
    e = e.ravel()
    for E in energies:
        assert (e < E).mean() == pytest.approx(integrated_dos(E, d), abs=1.0 / M + M ** -1.5), E


@pytest.mark.parametrize("d,M,energies", [
    (2, 2000, [-3.7, -1.0, 0.7, 1.5, 3.2]),
    (3, 400, [-5.7, -1.0, 0.7, 2.5]),
])
def test_integrated_dos_matches_grid_average_of_exact_1d_counting_function(d, M, energies):
    # Sharper version of the count: the last axis is done exactly (N_1(E') = 1 - arccos(E'/2)/pi),
    # the other axes by the midpoint rule. N_1 is continuous with square-root kinks, so the
    # midpoint error is O(M^{-3/2}) (2000^{-3/2} = 1.1e-5, 400^{-3/2} = 1.3e-4); we allow
    # M^{-3/2}. A relative error of 1e-4 in rho would already show at N ~ 0.3.
    k = (np.arange(M) + 0.5) / M
    e1 = 2.0 * np.cos(2.0 * np.pi * k)
    rest = e1 if d == 2 else np.add.outer(e1, e1).ravel()
    for E in energies:
        assert rho1_counting(E - rest).mean() == pytest.approx(integrated_dos(E, d), abs=M ** -1.5), E


# ----------------------------------------------------------------------------------------
# closed forms and symmetry
# ----------------------------------------------------------------------------------------
def test_dos_1d_equals_arcsine_density():
    E = np.linspace(-1.999, 1.999, 101)
    # the same formula, evaluated once: a few eps relative
    np.testing.assert_allclose(rho(E, 1), 1.0 / (np.pi * np.sqrt(4.0 - E**2)), rtol=4 * EPS)
    assert float(rho(0.0, 1)) == 1.0 / (2.0 * np.pi)


def test_dos_2d_matches_agm_formula_of_the_elliptic_integral():
    # K via ellipkm1 (package) vs via the AGM (test); both are accurate to a few eps relative.
    E = np.concatenate([-np.logspace(-14, np.log10(4.0), 40), np.logspace(-14, np.log10(4.0), 40)])
    np.testing.assert_allclose(rho(E, 2), rho2_agm(E), rtol=1e-14)
    assert float(rho(4.0, 2)) == pytest.approx(1.0 / (4.0 * np.pi), rel=4 * EPS)  # K(0) = pi / 2


def test_dos_3d_at_band_centre_equals_independent_agm_quadrature():
    # rho_3(0) = (2/pi) int_0^{pi/2} rho_2(2 cos theta) d theta with rho_2 from the AGM: the
    # log singularity sits at the endpoint pi/2, where QUADPACK's extrapolation handles it
    # (error estimate ~2e-14). rho_3 is documented to ~1e-11 absolute.
    value, err = integrate.quad(lambda th: rho2_agm(2.0 * np.cos(th)).item(), 0.0, 0.5 * np.pi,
                                epsabs=1e-14, epsrel=1e-13, limit=200)
    reference = 2.0 / np.pi * value
    assert err < 1e-12                # QUADPACK's own error estimate: the reference is sound
    assert reference == pytest.approx(0.14267298, abs=1e-8)   # sanity of the reference itself
    assert float(rho(0.0, 3)) == pytest.approx(reference, abs=1e-11)


@given(E=st.lists(st.floats(0.0, 7.0), min_size=1, max_size=4), d=st.integers(1, 3))
@settings(max_examples=25, deadline=None)
def test_dos_is_even_in_energy(E, d):
    E = np.asarray(E)
    # rho_d(-E) = rho_d(E) by k -> k + 1/2; the implementation must honour it exactly.
    np.testing.assert_array_equal(rho(-E, d), rho(E, d))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_dos_vanishes_outside_the_band(d):
    E = np.array([2 * d + 1e-12, 2 * d + 0.5, 1e3, np.finfo(float).max])
    np.testing.assert_array_equal(rho(E, d), 0.0)
    np.testing.assert_array_equal(rho(-E, d), 0.0)
    assert np.all(rho(np.linspace(-2 * d, 2 * d, 41)[1:-1], d) > 0.0)


def test_dos_preserves_the_shape_of_the_energy_argument():
    E = np.zeros((2, 3)) + 0.5
    assert rho(E, 1).shape == (2, 3)
    assert rho(0.5, 2).shape == ()
    assert rho([0.5, 1.0], 3).shape == (2,)


# ----------------------------------------------------------------------------------------
# van Hove points and band edges
# ----------------------------------------------------------------------------------------
def test_dos_is_infinite_at_the_1d_and_2d_van_hove_points():
    assert np.all(np.isinf(rho([-2.0, 2.0], 1)))
    assert np.isinf(rho(0.0, 2)) and np.isinf(rho(-0.0, 2))
    # approaching them: rho_1(2 - delta) ~ 1 / (2 pi sqrt(delta)) with relative O(delta)
    delta = 1e-10
    assert float(rho(2.0 - delta, 1)) == pytest.approx(1.0 / (2 * np.pi * np.sqrt(delta)), rel=1e-6)


def test_dos_2d_near_band_centre_keeps_full_relative_accuracy():
    # K(m) = Lk + (k'^2 / 4)(Lk - 1) + O(k'^4 Lk), k' = |E| / 4, Lk = log(4 / k') = log(16 / |E|).
    # (E / 4)^2 underflows below E ~ 1e-154: include such E
    for E in (1e-6, 1e-9, 1e-12, 1e-99, 1e-101, 1e-160, 1e-300):
        kp2 = (E / 4.0) ** 2
        Lk = np.log(16.0 / E)
        asymptotic = (Lk + 0.25 * kp2 * (Lk - 1.0)) / (2.0 * np.pi**2)
        # the neglected term is ~k'^4 Lk ~ 1e-25 relative: only rounding (~ few eps) remains
        assert float(rho(E, 2)) == pytest.approx(asymptotic, rel=1e-14)
        assert float(rho(-E, 2)) == pytest.approx(asymptotic, rel=1e-14)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_dos_2d_is_finite_for_subnormal_energies():
    for E in (1e-308, 1e-320, 5e-324):
        expected = (np.log(16.0) - np.log(E)) / (2.0 * np.pi**2)    # corrections ~E^2: none
        assert float(rho(E, 2)) == pytest.approx(expected, rel=1e-14)


def test_naive_ellipk_of_one_minus_E2_over_16_loses_the_2d_band_centre():
    # Documentation of why dos.py uses ellipkm1: forming m = 1 - E^2/16 rounds away E.
    E = 1e-12
    assert np.isinf(special.ellipk(1.0 - E**2 / 16.0))         # m rounds to exactly 1
    assert np.isfinite(rho(E, 2))
    E = 1e-6
    exact = (np.log(16.0 / E)) / (2.0 * np.pi**2)               # corrections ~1e-14 relative
    naive = special.ellipk(1.0 - E**2 / 16.0) / (2.0 * np.pi**2)
    # 1 - m = 6.25e-14 carries a rounding error of ~eps / 6.25e-14 ~ 2e-3 relative, which
    # changes K by ~1e-3 out of ~16: the naive formula is off by > 1e-6 relative.
    assert abs(naive / exact - 1.0) > 1e-6
    assert abs(float(rho(E, 2)) / exact - 1.0) < 1e-13


def test_dos_2d_tends_to_one_over_4pi_at_the_band_edge_and_jumps_to_zero():
    # K(m) = pi/2 (1 + m/4 + ...): rho_2(4 - delta) = 1/(4 pi) (1 + delta/8 + O(delta^2)).
    delta = 1e-6
    assert float(rho(4.0 - delta, 2)) == pytest.approx(1 / (4 * np.pi) * (1 + delta / 8), rel=1e-11)
    assert float(rho(4.0 + 1e-12, 2)) == 0.0


@pytest.mark.parametrize("Ec", [2.0, -2.0])
def test_dos_3d_is_finite_and_continuous_at_van_hove_points_with_sqrt_cusp(Ec):
    # e has three saddle points at E = 2, e.g. k = (0, 0, 1/2) + (k1, k2, q) with
    # e = 2 - 4 pi^2 (k1^2 + k2^2) + 4 pi^2 q^2 + ...; each removes sqrt(E - 2) / (4 pi^2)
    # of density above E = 2, so rho_3(2 + eps) = rho_3(2) - 3 sqrt(eps)/(4 pi^2)
    # + O(eps) while rho_3 is smooth below. Mirror image at E = -2.
    centre = float(rho(Ec, 3))
    assert np.isfinite(centre) and 0.14 < centre < 0.15
    s = np.sign(Ec)
    for eps in (1e-2, 1e-4, 1e-6, 1e-8):
        cusp_side = float(rho(Ec + s * eps, 3))
        smooth_side = float(rho(Ec - s * eps, 3))
        drop = 3.0 * np.sqrt(eps) / (4.0 * np.pi**2)
        # next order of the saddle expansion is O(eps), i.e. relative O(sqrt(eps)); plus
        # the ~1e-11 quadrature error of rho_3 relative to drop >= 7.6e-6.
        assert (centre - cusp_side) / drop == pytest.approx(1.0, abs=np.sqrt(eps) + 1e-5)
        # the smooth side moves by O(eps) only: below 1 % of the cusp's square-root drop
        assert abs(smooth_side - centre) < 0.01 * drop


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_dos_3d_is_finite_arbitrarily_close_to_the_van_hove_points():
    eps = np.logspace(-9, -15, 13)
    values = rho(np.concatenate([2.0 - eps, -2.0 + eps, 2.0 + eps, -2.0 - eps]), 3)
    assert np.all(np.isfinite(values))
    # and continuous: within the square-root drop 3 sqrt(1e-9)/(4 pi^2) ~ 2.4e-6 of rho_3(2)
    assert np.all(np.abs(values - float(rho(2.0, 3))) < 3e-6)


def test_dos_3d_vanishes_like_square_root_at_the_band_edges():
    # Near k = 0, e = 6 - 4 pi^2 |k|^2: rho_3(6 - delta) = sqrt(delta)/(4 pi^2) (1 + O(delta)).
    assert float(rho(6.0, 3)) == 0.0 and float(rho(-6.0, 3)) == 0.0
    for delta in (1e-2, 1e-4, 1e-6):
        edge = np.sqrt(delta) / (4.0 * np.pi**2)
        # measured next-order coefficient is delta/8; allow delta (and the 1e-11 absolute
        # quadrature error, relative to edge >= 2.5e-5)
        assert float(rho(6.0 - delta, 3)) == pytest.approx(edge, rel=delta + 1e-6)
        assert float(rho(-6.0 + delta, 3)) == pytest.approx(edge, rel=delta + 1e-6)


def test_dos_3d_emits_no_integration_warning_inside_the_band():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rho(np.array([-5.9, -3.0, -1.0, 0.0, 0.3, 1.9, 2.1, 4.0, 5.99]), 3)


# ----------------------------------------------------------------------------------------
# the fast d = 3 path (Chebyshev series) against the adaptive quadrature it is built from
# ----------------------------------------------------------------------------------------
# Documented bound of the series: 1e-13 absolute. The quadrature it is compared with is
# requested to 1e-13 absolute / 1e-12 relative (rho_3 <= 0.15), so the two agree to
# about 2e-13 wherever QUADPACK converges without a warning.
SERIES_VS_QUADRATURE = 2e-13


def _quadrature_without_warning(E):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return dos_module._dos_3d_quadrature(E)
        except integrate.IntegrationWarning:
            return None


from chargetransport import dos as dos_module  # noqa: E402


def test_dos_3d_series_matches_the_quadrature_across_the_band():
    rng = np.random.default_rng(2024)
    E = np.concatenate([
        rng.uniform(-6.0, 6.0, 600),                          # anywhere in the band
        np.linspace(-6.0, 6.0, 97),                           # includes -6, -2, 0, 2, 6
        2.0 + np.logspace(-10, -1, 19), 2.0 - np.logspace(-12, -1, 23),   # van Hove +2
        -2.0 - np.logspace(-10, -1, 19),                      # and -2 (the cusp side)
        6.0 - np.logspace(-12, -1, 23), -6.0 + np.logspace(-12, -1, 23),  # band edges
    ])
    fast = rho(E, 3)
    checked = 0
    for e, f in zip(E, fast):
        slow = _quadrature_without_warning(float(e))
        if slow is None:               # QUADPACK gave up: no reference at this energy
            continue
        checked += 1
        assert abs(f - slow) < SERIES_VS_QUADRATURE, e
    assert checked > 0.95 * len(E)


def test_dos_3d_series_keeps_relative_accuracy_at_the_band_edges():
    # rho_3 = sqrt(6 - E) h(E) is interpolated through h: relative error stays ~1e-12
    # where rho_3 itself is ~1e-8 (6 - E = 1e-12)
    for delta in (1e-12, 1e-9, 1e-6):
        slow = dos_module._dos_3d_quadrature(6.0 - delta)
        assert float(rho(6.0 - delta, 3)) == pytest.approx(slow, rel=1e-9)


def test_dos_3d_series_has_converged_coefficients():
    # geometric convergence: the last coefficients are at rounding level, so the truncation
    # error (their sum, bounded by a few times the largest) is far below the bound 1e-13
    inner, outer = dos_module._dos_3d_series()
    assert np.abs(inner.coef[-6:]).max() < 1e-15
    assert np.abs(outer.coef[-6:]).max() < 1e-15
    # and the series was built without any quadrature warning at its nodes
    dos_module._dos_3d_series.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dos_module._dos_3d_series()


def test_dos_3d_series_is_far_faster_than_the_quadrature():
    import time
    E = np.linspace(-5.9, 5.9, 1000)
    rho(E[:1], 3)                                  # the series is built once per process
    start = time.perf_counter()
    rho(E, 3)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    for e in E[:20]:
        dos_module._dos_3d_quadrature(e)
    slow = (time.perf_counter() - start) * 50      # extrapolated to 1000 energies
    # measured ratio ~1e4 on an idle machine; 100 leaves room for a loaded one
    assert fast * 100 < slow


# ----------------------------------------------------------------------------------------
# mean over intervals (collision rate of an energy bin)
# ----------------------------------------------------------------------------------------
def test_mean_dos_1d_is_the_arcsine_law_increment():
    a = np.array([-2.5, -2.0, -1.999, -0.3, 1.5, 1.99, 1.7])
    b = np.array([-1.0, -1.99, -1.9, 0.4, 2.0, 2.0, 3.0])
    lo, hi = np.clip(a, -2, 2), np.clip(b, -2, 2)
    exact = (np.arcsin(hi / 2) - np.arcsin(lo / 2)) / np.pi / (b - a)
    np.testing.assert_allclose(dos_module.mean_density_of_states(a, b, 1), exact,
                               rtol=1e-10, atol=0)


@pytest.mark.parametrize("d", [2, 3])
def test_mean_dos_matches_the_integrated_density(d):
    # against N(b) - N(a) of the independent adaptive integral of rho (module fixture),
    # including intervals that touch or straddle the van Hove points and band edges
    edges = [(-2 * d - 0.5, -2 * d + 0.01), (-1.0, -0.5), (-0.01, 0.0), (0.0, 0.01),
             (-0.003, 0.007), (1.95, 2.05), (2.0, 2.01), (2 * d - 0.02, 2 * d + 0.3)]
    a, b = map(np.array, zip(*edges))
    got = dos_module.mean_density_of_states(a, b, d)
    clip = lambda x: min(max(x, -2.0 * d), 2.0 * d)  # noqa: E731
    want = np.array([(integrated_dos(clip(hi), d) - integrated_dos(clip(lo), d)) / (hi - lo)
                     if clip(lo) > -2 * d else integrated_dos(clip(hi), d) / (hi - lo)
                     for lo, hi in edges])
    # both to ~1e-12 absolute in N; divided by widths >= 0.01: 1e-9
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_mean_dos_2d_of_the_van_hove_bin_is_the_log_average():
    # rho_2(E) = log(16 / |E|) / (2 pi^2) (1 + O(E^2)): its mean over [0, w] is
    # (log(16 / w) + 1) / (2 pi^2) up to O(w^2 log w) relative
    for w in (1e-2, 1e-4):
        expected = (np.log(16 / w) + 1) / (2 * np.pi**2)
        got = float(dos_module.mean_density_of_states(0.0, w, 2))
        assert got == pytest.approx(expected, rel=w**2 * 10)


def test_mean_dos_regular_intervals_use_gauss_legendre_to_rounding():
    E = np.linspace(-5.5, 5.5, 200)
    a, b = E, E + 0.01
    fine = np.array([integrate.quad(lambda x: rho(x, 3).item(), lo, hi, epsabs=1e-15)[0]
                     for lo, hi in zip(a, b)]) / 0.01
    np.testing.assert_allclose(dos_module.mean_density_of_states(a, b, 3), fine,
                               rtol=1e-12, atol=1e-14)


def test_mean_dos_rejects_empty_intervals():
    with pytest.raises(ValueError, match="'upper' must be > 'lower'"):
        dos_module.mean_density_of_states([0.0, 1.0], [0.5, 1.0], 2)
    with pytest.raises(ValueError, match="'upper' must have the shape"):
        dos_module.mean_density_of_states([0.0, 1.0], [0.5], 2)
