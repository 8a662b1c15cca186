"""Tests of chargetransport.level_lines: the 2D level lines of the dimensional reduction.

References: finite differences on sampled curves, the dispersion at the sampled points,
the exact measure of the bad set on a fine grid, ``density_of_states``, a 2D FFT of the
smoothed level-set measure, and the stationary-phase asymptotics of the exact transform.
"""
import math

import numpy as np
import pytest

import chargetransport as ct
from chargetransport import level_lines


# --------------------------------------------------------------------------------------
# 2D level lines
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("E", [0.01, 0.3, 1.5, 3.2, -0.7])
def test_curvature_formula_matches_finite_differences_on_the_sampled_line(E):
    pts = level_lines.level_line_points(E, 20001)
    d1, d2 = np.gradient(pts, axis=0), np.gradient(np.gradient(pts, axis=0), axis=0)
    numeric = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) / np.hypot(*d1.T) ** 3
    formula = level_lines.level_line_curvature(pts)
    # the parametrisation by p_1 is singular where the line turns (sin 2 pi p_2 -> 0);
    # away from there central differences are accurate to O(h^2) ~ 1e-6
    inner = np.abs(np.sin(2 * np.pi * pts[:, 1])) > 0.2
    inner[:5] = inner[-5:] = False
    assert np.max(np.abs(numeric[inner] / formula[inner] - 1)) < 1e-4
    # the minimum over the line is kappa_min(E)
    assert abs(formula.min() / level_lines.min_level_line_curvature(E) - 1) < 1e-6


def test_level_line_at_zero_is_straight_and_points_lie_on_the_line():
    pts = level_lines.level_line_points(0.0, 101)
    assert np.allclose(pts.sum(axis=1), 0.5, atol=1e-12)               # p1 + p2 = 1/2
    assert np.max(level_lines.level_line_curvature(pts[1:-1])) < 1e-12
    for E in (0.4, -2.5):
        pts = level_lines.level_line_points(E, 101)
        assert np.max(np.abs(ct.dispersion(pts) - E)) < 1e-12


def test_bad_set_measure_scales_like_tau_and_sqrt_tau():
    taus = np.array([1e-6, 1e-5, 1e-4])
    m0, m2 = level_lines.bad_set_measure(0.0, taus), level_lines.bad_set_measure(2.0, taus)
    assert np.allclose(m0, taus / np.pi, rtol=1e-6)                     # rho_1(0) = 1/(2 pi), x 2
    assert np.allclose(m2, np.sqrt(taus) / np.pi, rtol=1e-4)            # arccos(1 - tau/2)/pi
    grid = (np.arange(2_000_000) + 0.5) / 2_000_000
    measured = np.mean(np.abs(0.7 - 2 * np.cos(2 * np.pi * grid)) <= 0.01)
    assert abs(measured - level_lines.bad_set_measure(0.7, 0.01)) < 2e-6   # grid resolution


def test_diagonal_transform_at_zero_is_the_density_of_states():
    for E in (0.05, 0.9, 2.5, -1.2):
        mu0 = level_lines.diagonal_level_set_transform(E, np.array([0]))[0]
        assert abs(mu0 - float(ct.density_of_states(E, 2))) < 1e-10


def test_diagonal_transform_matches_smoothed_transform_for_small_nu():
    n = np.arange(0, 40)
    exact = level_lines.diagonal_level_set_transform(0.6, n)
    smooth = level_lines.smoothed_level_set_transform(0.6, 0.001, np.stack([n, n], -1))
    # smoothing changes the values by O(nu^2 |x|^2 / |grad e|^2): ~1e-6 here
    assert np.abs(exact - smooth).max() < 1e-5


def test_smoothed_transform_matches_two_dimensional_fft():
    N, nu, E = 512, 0.15, 0.8
    k = np.arange(N) / N
    e = 2 * np.cos(2 * np.pi * k)[:, None] + 2 * np.cos(2 * np.pi * k)[None, :]
    g = np.exp(-0.5 * ((e - E) / nu) ** 2) / (nu * math.sqrt(2 * math.pi))
    ref = np.fft.fft2(g).real / N**2          # e^{-2 pi i p.x}, p = k / N
    x = np.array([[0, 0], [3, 1], [5, 5], [0, 12], [20, 7]])
    got = level_lines.smoothed_level_set_transform(E, nu, x)
    # N nu / |grad e| ~ 4: the trapezoidal sum is accurate to ~1e-10
    assert np.abs(got - ref[x[:, 0], x[:, 1]]).max() < 1e-8


def test_diagonal_decay_has_exponent_one_half_and_stationary_phase_amplitude():
    E = 0.3
    kappa, a0 = level_lines.min_level_line_curvature(E), math.acos(E / 4)
    n = np.arange(int(20 / kappa), 4000, 3)
    mu = level_lines.diagonal_level_set_transform(E, n)
    R = math.sqrt(2) * n
    phase = np.cos(2 * n * a0 - math.pi / 4)
    sel = np.abs(phase) > 0.5
    slope, intercept = np.polyfit(np.log(R[sel]), np.log(np.abs(mu[sel] / phase[sel])), 1)
    # next-order stationary-phase terms are O(1/(kappa R)): < 2% beyond R = 20/kappa
    assert abs(-slope - 0.5) < 0.01
    assert abs(math.exp(intercept) / level_lines.stationary_phase_envelope(E, 1.0) - 1) < 0.02


@pytest.mark.parametrize("call, error", [
    (lambda: level_lines.min_level_line_curvature(4.5), ValueError),
    (lambda: level_lines.diagonal_level_set_transform(0.0, np.array([1])), ValueError),
    (lambda: level_lines.diagonal_level_set_transform(0.5, np.array([1.5])), TypeError),
    (lambda: level_lines.smoothed_level_set_transform(0.5, 0.1, [1.0, 2.0]), TypeError),
    (lambda: level_lines.smoothed_level_set_transform(0.5, -0.1, [1, 2]), ValueError),
    (lambda: level_lines.bad_set_measure(0.0, 0.0), ValueError),
    (lambda: level_lines.stationary_phase_envelope(0.0, 10.0), ValueError),
])
def test_invalid_input_raises_with_a_clear_error(call, error):
    with pytest.raises(error):
        call()
