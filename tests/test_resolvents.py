"""Tests of chargetransport.resolvents: resolvent norms and the crossing integral.

References: brute-force sums on small grids and full complex FFT convolutions (independent of
the cosine-transform shortcut), the coarea formula with ``density_of_states``, adaptive
quadrature, and exact identities (mean of a convolution, scaling laws).
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


@pytest.mark.parametrize("call, error", [
    (lambda: resolvents.crossing_integral(0.0), ValueError),
    (lambda: resolvents.crossing_integral(0.1, grid=33), ValueError),
    (lambda: resolvents.crossing_integral(0.1, d=1), ValueError),
    (lambda: resolvents.crossing_integral(0.1, grid=10**6), ValueError),     # memory
    (lambda: resolvents.resolvent_l1_norm(0.0, 1e-8), ValueError),
    (lambda: resolvents.resolvent_modulus([0.1, 0.2, 0.3, 0.4], 0.0, 0.1), ValueError),
    (lambda: resolvents.energy_integral(0.0, 0.1, -1.0), ValueError),
])
def test_invalid_input_raises_with_a_clear_error(call, error):
    with pytest.raises(error):
        call()
