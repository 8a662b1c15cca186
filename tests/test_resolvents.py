"""Tests of chargetransport.resolvents: resolvent norms, the crossing integral, level lines.

References: brute-force sums on small grids and full complex FFT convolutions (independent of
the cosine-transform shortcut), the coarea formula with ``density_of_states``, adaptive
quadrature, finite differences on sampled curves, a 2D FFT of the smoothed level-set measure,
and exact identities (mean of a convolution, scaling laws).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate

import chargetransport as ct
from chargetransport import resolvents


def modulus_grid(N, d, alpha, eps):
    k = np.arange(N) / N
    e = sum(np.meshgrid(*([2 * np.cos(2 * np.pi * k)] * d), indexing="ij"))
    return 1.0 / np.hypot(e - alpha, eps)


def crossing_by_full_fft(N, d, alpha, beta, eps):
    """I(u) = sum_{p,q} R_a(p) R_b(q) R_a(p + q - u) / N^{2d} by complex FFT on the full grid."""
    Ra, Rb = modulus_grid(N, d, alpha, eps), modulus_grid(N, d, beta, eps)
    # convolution (Ra * Rb * Ra)(u) with R even
    conv = np.fft.ifftn(np.fft.fftn(Ra) ** 2 * np.fft.fftn(Rb)).real / N ** (2 * d)
    return conv


# --------------------------------------------------------------------------------------
# Crossing integral
# --------------------------------------------------------------------------------------
def test_crossing_integral_equals_brute_force_double_sum_in_2d():
    N, eps, alpha, beta = 8, 0.7, 0.4, -0.9
    R_a, R_b = modulus_grid(N, 2, alpha, eps), modulus_grid(N, 2, beta, eps)
    res = resolvents.crossing_integral(eps, alpha, beta, d=2, grid=N, return_values=True)
    for u in [(0, 0), (1, 3), (4, 2), (2, 4)]:
        total = 0.0
        for p in np.ndindex(N, N):
            for q in np.ndindex(N, N):
                r = tuple((p[i] + q[i] - u[i]) % N for i in range(2))
                total += R_a[p] * R_b[q] * R_a[r]
        assert abs(res.values[u] - total / N**4) < 1e-12 * total / N**4


@pytest.mark.parametrize("d, N", [(2, 24), (3, 12)])
def test_crossing_integral_equals_full_fft_convolution(d, N):
    eps, alpha, beta = 0.3, 1.1, 0.2
    res = resolvents.crossing_integral(eps, alpha, beta, d=d, grid=N, return_values=True)
    full = crossing_by_full_fft(N, d, alpha, beta, eps)
    half = full[(slice(0, N // 2 + 1),) * d]
    assert np.abs(res.values - half).max() < 1e-12 * half.max()
    assert abs(res.maximum - full.max()) < 1e-12 * full.max()
    assert abs(res.l1_alpha - modulus_grid(N, d, alpha, eps).mean()) < 1e-13


def test_mean_of_crossing_integral_over_u_is_product_of_l1_norms():
    # int du (R_a * R_b * R_a)(u) = ||R_a||_1^2 ||R_b||_1 exactly (also on the grid)
    N, eps = 16, 0.4
    res = resolvents.crossing_integral(eps, 0.5, -1.0, grid=N, return_values=True)
    w1 = np.full(N // 2 + 1, 2.0)
    w1[0] = w1[-1] = 1.0                        # multiplicity of k on the full grid
    w = w1[:, None, None] * w1[None, :, None] * w1[None, None, :]
    mean = (w * res.values).sum() / N**3
    assert abs(mean / (res.l1_alpha**2 * res.l1_beta) - 1) < 1e-12


@settings(max_examples=15, deadline=None)
@given(eps=st.floats(0.2, 2.0), alpha=st.floats(-7, 7), beta=st.floats(-7, 7))
def test_crossing_integral_respects_the_trivial_bound(eps, alpha, beta):
    res = resolvents.crossing_integral(eps, alpha, beta, grid=24)
    # I(u) <= ||R_a||_inf ||R_a||_1 ||R_b||_1 holds exactly for the grid sums
    sup = resolvents.resolvent_sup_norm(alpha, eps)
    assert res.at_zero <= res.maximum <= sup * res.l1_alpha * res.l1_beta * (1 + 1e-12)


def test_crossing_grid_convergence_is_exponential_in_n_eps():
    eps = 0.2
    ref = resolvents.crossing_integral(eps, 0.0, grid=200).maximum
    errors = [abs(resolvents.crossing_integral(eps, 0.0, grid=2 * round(k / eps / 2)).maximum / ref - 1)
              for k in (6, 10, 14)]
    # measured rate ~0.6 per unit of N eps: each step of 4 gains at least a factor 5
    assert errors[0] > 5 * errors[1] > 25 * errors[2]
    assert errors[2] < 1e-3


def test_default_grid_is_a_multiple_of_eight_with_n_eps_at_least_16():
    for eps in (1.0, 0.3, 0.1, 0.0221):
        N = resolvents.default_crossing_grid(eps)
        assert N % 8 == 0 and N * eps >= 16 - 1e-12 and N >= 32


# --------------------------------------------------------------------------------------
# Resolvent norms
# --------------------------------------------------------------------------------------
def coarea_l1(alpha, eps, d):
    f = lambda E: float(ct.density_of_states(E, d)) / math.hypot(E - alpha, eps)
    pts = sorted({alpha, -2.0, 2.0, 0.0} & set(np.linspace(-2 * d, 2 * d, 4 * d + 1)) | {alpha})
    val, _ = integrate.quad(f, -2 * d, 2 * d, points=[p for p in pts if -2 * d < p < 2 * d],
                            limit=400, epsabs=1e-11, epsrel=1e-10)
    return val


@pytest.mark.parametrize("alpha, eps, d", [(2.5, 0.2, 3), (0.7, 0.02, 2), (0.5, 0.05, 1),
                                           (1.3, 0.01, 2)])
def test_l1_norm_matches_coarea_quadrature(alpha, eps, d):
    # both sides accurate to ~1e-9; the coarea quadrature's kink at alpha limits it
    assert abs(resolvents.resolvent_l1_norm(alpha, eps, d) / coarea_l1(alpha, eps, d) - 1) < 1e-7


def test_l1_norm_matches_grid_mean_at_moderate_eps():
    eps = 0.25
    grid = modulus_grid(128, 3, 0.8, eps).mean()      # N eps = 32: exponentially accurate
    assert abs(resolvents.resolvent_l1_norm(0.8, eps) / grid - 1) < 1e-9


def test_l1_norm_grows_like_two_rho_log_inverse_eps():
    for alpha in (0.0, 1.0, 3.0):
        a = resolvents.resolvent_l1_norm(alpha, 1e-3)
        b = resolvents.resolvent_l1_norm(alpha, 2.5e-4)
        slope = (b - a) / math.log(4)
        # rho_3 is smooth at these alpha, so the corrections to 2 rho log(1/eps) + C are
        # O(eps^2 log(1/eps) rho''/rho) ~ 1e-6 (measured <= 4e-7)
        assert abs(slope / (2 * float(ct.density_of_states(alpha, 3))) - 1) < 1e-5


def test_sup_norm_is_attained_on_the_surface_and_outside_the_band():
    assert resolvents.resolvent_sup_norm(1.0, 0.01) == 100.0
    p = np.array([0.25, 0.25, 0.25])          # e(p) = 0
    assert abs(resolvents.resolvent_modulus(p, 0.0, 0.01) - 100.0) < 1e-9
    assert abs(resolvents.resolvent_sup_norm(8.0, 1.0) - 1 / math.hypot(2.0, 1.0)) < 1e-15


@pytest.mark.parametrize("e", [-5.0, 0.0, 1.7])
def test_energy_integral_closed_form_matches_quadrature(e):
    eps, cutoff = 0.03, 7.0
    val, _ = integrate.quad(lambda E: 1 / math.hypot(e - E, eps), -cutoff, cutoff, points=[e],
                            limit=200, epsabs=1e-12)
    assert abs(resolvents.energy_integral(e, eps, cutoff) - val) < 1e-9
    assert resolvents.energy_integral(e, eps, cutoff) <= resolvents.energy_integral(0.0, eps, cutoff)


def test_growth_exponent_recovers_power_laws_and_rejects_bad_input():
    eps = 0.3 * 2.0 ** -np.arange(6)
    gamma, err = resolvents.growth_exponent(eps, 2.0 * eps**-0.6, window=5)
    assert abs(gamma - 0.6) < 1e-12 and err < 1e-10
    gamma3, _ = resolvents.growth_exponent(eps, eps**-0.6 * np.log(1 / eps) ** 2, window=3)
    assert gamma3 > 0.6          # logs raise the effective exponent
    with pytest.raises(ValueError):
        resolvents.growth_exponent(eps, -eps)


# --------------------------------------------------------------------------------------
# 2D level lines
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("E", [0.01, 0.3, 1.5, 3.2, -0.7])
def test_curvature_formula_matches_finite_differences_on_the_sampled_line(E):
    pts = resolvents.level_line_points(E, 20001)
    d1, d2 = np.gradient(pts, axis=0), np.gradient(np.gradient(pts, axis=0), axis=0)
    numeric = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) / np.hypot(*d1.T) ** 3
    formula = resolvents.level_line_curvature(pts)
    # the parametrisation by p_1 is singular where the line turns (sin 2 pi p_2 -> 0);
    # away from there central differences are accurate to O(h^2) ~ 1e-6
    inner = np.abs(np.sin(2 * np.pi * pts[:, 1])) > 0.2
    inner[:5] = inner[-5:] = False
    assert np.max(np.abs(numeric[inner] / formula[inner] - 1)) < 1e-4
    # the minimum over the line is kappa_min(E)
    assert abs(formula.min() / resolvents.min_level_line_curvature(E) - 1) < 1e-6


def test_level_line_at_zero_is_straight_and_points_lie_on_the_line():
    pts = resolvents.level_line_points(0.0, 101)
    assert np.allclose(pts.sum(axis=1), 0.5, atol=1e-12)               # p1 + p2 = 1/2
    assert np.max(resolvents.level_line_curvature(pts[1:-1])) < 1e-12
    for E in (0.4, -2.5):
        pts = resolvents.level_line_points(E, 101)
        assert np.max(np.abs(ct.dispersion(pts) - E)) < 1e-12


def test_bad_set_measure_scales_like_tau_and_sqrt_tau():
    taus = np.array([1e-6, 1e-5, 1e-4])
    m0, m2 = resolvents.bad_set_measure(0.0, taus), resolvents.bad_set_measure(2.0, taus)
    assert np.allclose(m0, taus / np.pi, rtol=1e-6)                     # rho_1(0) = 1/(2 pi), x 2
    assert np.allclose(m2, np.sqrt(taus) / np.pi, rtol=1e-4)            # arccos(1 - tau/2)/pi
    grid = (np.arange(2_000_000) + 0.5) / 2_000_000
    measured = np.mean(np.abs(0.7 - 2 * np.cos(2 * np.pi * grid)) <= 0.01)
    assert abs(measured - resolvents.bad_set_measure(0.7, 0.01)) < 2e-6   # grid resolution


def test_diagonal_transform_at_zero_is_the_density_of_states():
    for E in (0.05, 0.9, 2.5, -1.2):
        mu0 = resolvents.diagonal_level_set_transform(E, np.array([0]))[0]
        assert abs(mu0 - float(ct.density_of_states(E, 2))) < 1e-10


def test_diagonal_transform_matches_smoothed_transform_for_small_nu():
    n = np.arange(0, 40)
    exact = resolvents.diagonal_level_set_transform(0.6, n)
    smooth = resolvents.smoothed_level_set_transform(0.6, 0.001, np.stack([n, n], -1))
    # smoothing changes the values by O(nu^2 |x|^2 / |grad e|^2): ~1e-6 here
    assert np.abs(exact - smooth).max() < 1e-5


def test_smoothed_transform_matches_two_dimensional_fft():
    N, nu, E = 512, 0.15, 0.8
    k = np.arange(N) / N
    e = 2 * np.cos(2 * np.pi * k)[:, None] + 2 * np.cos(2 * np.pi * k)[None, :]
    g = np.exp(-0.5 * ((e - E) / nu) ** 2) / (nu * math.sqrt(2 * math.pi))
    ref = np.fft.fft2(g).real / N**2          # e^{-2 pi i p.x}, p = k / N
    x = np.array([[0, 0], [3, 1], [5, 5], [0, 12], [20, 7]])
    got = resolvents.smoothed_level_set_transform(E, nu, x)
    # N nu / |grad e| ~ 4: the trapezoidal sum is accurate to ~1e-10
    assert np.abs(got - ref[x[:, 0], x[:, 1]]).max() < 1e-8


def test_diagonal_decay_has_exponent_one_half_and_stationary_phase_amplitude():
    E = 0.3
    kappa, a0 = resolvents.min_level_line_curvature(E), math.acos(E / 4)
    n = np.arange(int(20 / kappa), 4000, 3)
    mu = resolvents.diagonal_level_set_transform(E, n)
    R = math.sqrt(2) * n
    phase = np.cos(2 * n * a0 - math.pi / 4)
    sel = np.abs(phase) > 0.5
    slope, intercept = np.polyfit(np.log(R[sel]), np.log(np.abs(mu[sel] / phase[sel])), 1)
    # next-order stationary-phase terms are O(1/(kappa R)): < 2% beyond R = 20/kappa
    assert abs(-slope - 0.5) < 0.01
    assert abs(math.exp(intercept) / resolvents.stationary_phase_envelope(E, 1.0) - 1) < 0.02


@pytest.mark.parametrize("call, error", [
    (lambda: resolvents.crossing_integral(0.0), ValueError),
    (lambda: resolvents.crossing_integral(0.1, grid=33), ValueError),
    (lambda: resolvents.crossing_integral(0.1, d=1), ValueError),
    (lambda: resolvents.crossing_integral(0.1, grid=10**6), ValueError),     # memory
    (lambda: resolvents.resolvent_l1_norm(0.0, 1e-8), ValueError),
    (lambda: resolvents.resolvent_modulus([0.1, 0.2, 0.3, 0.4], 0.0, 0.1), ValueError),
    (lambda: resolvents.min_level_line_curvature(4.5), ValueError),
    (lambda: resolvents.diagonal_level_set_transform(0.0, np.array([1])), ValueError),
    (lambda: resolvents.diagonal_level_set_transform(0.5, np.array([1.5])), TypeError),
    (lambda: resolvents.smoothed_level_set_transform(0.5, 0.1, [1.0, 2.0]), TypeError),
    (lambda: resolvents.smoothed_level_set_transform(0.5, -0.1, [1, 2]), ValueError),
    (lambda: resolvents.bad_set_measure(0.0, 0.0), ValueError),
    (lambda: resolvents.stationary_phase_envelope(0.0, 10.0), ValueError),
    (lambda: resolvents.energy_integral(0.0, 0.1, -1.0), ValueError),
])
def test_invalid_input_raises_with_a_clear_error(call, error):
    with pytest.raises(error):
        call()
