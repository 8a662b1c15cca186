"""Tests of chargetransport.kpm: Jackson kernel and the KPM density of states.

References: for eta = 0 the spectrum of H on the box is known exactly (e(k) on the momentum
grid), so the exact Chebyshev moments of the finite lattice can be computed directly; the
KPM density built from them (written here from Weisse et al. 2006, eqs. (71)-(72)) differs
from ``kpm_density_of_states`` only by the stochastic-trace error, whose standard error
the function returns. The infinite-volume density is ``density_of_states``.

Integrals of the KPM density are done in the variable theta, E = b + a cos(theta), where
``rho(E) a sin(theta)`` is a cosine polynomial of degree N - 1: the midpoint rule with
J > N nodes is exact. This needs the rescaling (a, b), which the module defines from the
Gershgorin bounds and its private margin ``_KPM_MARGIN``.
"""
import numba
import numpy as np
import pytest

import chargetransport as ct
from chargetransport.kpm import _KPM_MARGIN

N_SE = 6.0   # standard errors allowed for a single stochastic comparison


def rescaling(H):
    lo, hi = H.spectral_bounds()
    return 0.5 * (hi - lo) / (1.0 - _KPM_MARGIN), 0.5 * (hi + lo)


def theta_nodes(H, J):
    a, b = rescaling(H)
    theta = np.pi * (np.arange(J) + 0.5) / J
    return b + a * np.cos(theta), (np.pi / J) * a * np.sin(theta)   # energies, weights


def jackson_reference(N):
    n = np.arange(N)
    q = np.pi / (N + 1)
    return ((N - n + 1) * np.cos(q * n) + np.sin(q * n) * np.cos(q) / np.sin(q)) / (N + 1)


def exact_moment_kpm(eigenvalues, energies, N, a, b):
    """KPM density from the exact moments mu_n = mean T_n((lambda - b) / a)."""
    x_ev = (eigenvalues - b) / a
    mu = np.empty(N)
    t_prev, t_curr = np.ones_like(x_ev), x_ev
    mu[0], mu[1] = 1.0, x_ev.mean()
    for n in range(2, N):
        t_prev, t_curr = t_curr, 2 * x_ev * t_curr - t_prev
        mu[n] = t_curr.mean()
    x = (np.asarray(energies) - b) / a
    Tn = np.cos(np.outer(np.arange(N), np.arccos(x)))
    coef = jackson_reference(N) * mu
    coef[1:] *= 2
    return coef @ Tn / (np.pi * a * np.sqrt(1 - x**2))


# ------------------------------------------------------------------------------------
# Jackson kernel
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("N", [1, 2, 3, 16, 256, 1000])
def test_jackson_kernel_starts_at_one_and_decreases_to_near_zero(N):
    g = ct.jackson_kernel(N)
    assert g.shape == (N,)
    assert g[0] == pytest.approx(1.0, abs=1e-15)       # (N + 1) / (N + 1) up to rounding
    assert np.all(np.diff(g) < 0)
    assert np.all(g > 0)
    if N > 1:
        # g_1 = cos(pi / (N + 1)) follows from (N cos q + cos q) / (N + 1): rounding only
        assert g[1] == pytest.approx(np.cos(np.pi / (N + 1)), abs=1e-14)


def test_jackson_kernel_matches_weisse_formula():
    for N in (5, 64, 333):
        # same formula, different cot evaluation (cos/sin vs 1/tan): rounding of O(1) terms
        np.testing.assert_allclose(ct.jackson_kernel(N), jackson_reference(N), rtol=0, atol=1e-14)


def test_jackson_damped_delta_function_is_a_positive_kernel():
    # K_N(x, y) = g_0 + 2 sum g_n T_n(x) T_n(y) >= 0: the property that makes the KPM density
    # positive (Weisse et al. sec. II.C). Truncation without damping (g = 1) violates it.
    N = 40
    g = ct.jackson_kernel(N)
    theta = np.linspace(0, np.pi, 301)
    Tn = np.cos(np.outer(np.arange(N), theta))          # T_n(cos theta)
    coef = g.copy()
    coef[1:] *= 2
    K = (Tn * coef[:, None]).T @ Tn                      # K(x_i, x_j)
    assert K.min() > -1e-12 * K.max()                    # rounding of 40 terms
    undamped = np.ones(N)
    undamped[1:] = 2
    assert ((Tn * undamped[:, None]).T @ Tn).min() < -0.1 * N


# ------------------------------------------------------------------------------------
# the clean 2D lattice: eta = 0, L = 256, N = 128 moments, 16 random vectors
# (stochastic error ~0.6 % per standard error; N = 256 would halve the Jackson bias, which
# is already ~0.1 %, and double the variance)
# ------------------------------------------------------------------------------------
TEST_ENERGIES = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
SCAN = np.linspace(-3.95, 3.95, 41)   # inside the band, across the singularities
J_NODES = 600
NUM_MOMENTS = 128


@pytest.fixture(scope="module")
def clean_2d():
    lat = ct.Lattice(2, 256)
    H = ct.AndersonHamiltonian(lat, 0.0)
    nodes, weights = theta_nodes(H, J_NODES)
    energies = np.concatenate([TEST_ENERGIES, SCAN, nodes])
    rho, se = ct.kpm_density_of_states(H, energies, num_moments=NUM_MOMENTS, num_vectors=16, seed=2024,
                                       return_error=True)
    k = lat.dispersion().ravel()
    a, b = rescaling(H)
    ref = exact_moment_kpm(k, energies[:-J_NODES], NUM_MOMENTS, a, b)
    n_test = len(TEST_ENERGIES)
    return dict(H=H, a=a, b=b, rho=rho[:n_test], se=se[:n_test],
                rho_scan=rho[n_test:-J_NODES], se_scan=se[n_test:-J_NODES],
                ref=ref[:n_test], ref_scan=ref[n_test:],
                rho_nodes=rho[-J_NODES:], weights=weights)


def test_kpm_density_matches_exact_dos_away_from_van_hove_and_band_edges(clean_2d):
    rho, se = clean_2d["rho"], clean_2d["se"]
    exact = ct.density_of_states(TEST_ENERGIES, 2)
    # Jackson broadening has width sigma ~ pi a / N = 0.1: bias ~ sigma^2 |rho''| / 2, with
    # rho'' from central differences of the exact density (we allow twice that); the
    # energies are >= 1 = 10 sigma from the singularities at 0 and +-4. Finite size: the
    # level spacing 1 / (L^2 rho) ~ 1e-4 << sigma. Stochastic: N_SE standard errors.
    sigma = np.pi * clean_2d["a"] / NUM_MOMENTS
    h = 0.05
    d2 = (ct.density_of_states(TEST_ENERGIES + h, 2) - 2 * exact
          + ct.density_of_states(TEST_ENERGIES - h, 2)) / h**2
    tol = sigma**2 * np.abs(d2) + N_SE * se
    assert np.all(np.abs(rho - exact) <= tol), (rho - exact, tol)
    # and the comparison is not vacuous: tolerance below 5 % of the density
    assert np.all(tol < 0.05 * exact)


def test_kpm_density_agrees_with_kpm_from_exact_lattice_moments_within_standard_errors(clean_2d):
    # Same expansion, exact instead of stochastic moments: the difference is pure
    # stochastic-trace noise, so (difference / standard error) should look like a t variable
    # with 15 degrees of freedom: mean square ~1.15. A bias of one standard error would double it.
    z = (np.concatenate([clean_2d["rho"], clean_2d["rho_scan"]])
         - np.concatenate([clean_2d["ref"], clean_2d["ref_scan"]]))
    se = np.concatenate([clean_2d["se"], clean_2d["se_scan"]])
    z = z / se
    assert np.all(np.abs(z) < N_SE)
    assert np.mean(z**2) < 3.0


def test_kpm_density_integrates_to_one(clean_2d):
    # int rho dE = g_0 mu_0 = <r|r> = 1 exactly for normalised random-phase vectors; the
    # theta-midpoint rule with 600 > 128 nodes is exact, so only rounding (~1e-13) remains.
    total = np.sum(clean_2d["rho_nodes"] * clean_2d["weights"])
    assert total == pytest.approx(1.0, abs=1e-10)


def test_kpm_density_is_zero_outside_the_rescaled_interval(clean_2d):
    H = clean_2d["H"]
    a, b = clean_2d["a"], clean_2d["b"]
    outside = np.array([b - a - 1e-9, b + a, b + a + 5.0, -100.0])
    np.testing.assert_array_equal(ct.kpm_density_of_states(H, outside, num_moments=8,
                                                           num_vectors=1, seed=0), 0.0)


# ------------------------------------------------------------------------------------
# disordered Hamiltonian, statistics and reproducibility
# ------------------------------------------------------------------------------------
def test_kpm_second_moment_is_2d_plus_eta_squared_mean_w2():
    lat = ct.Lattice(2, 128)
    eta, N = 1.0, 128
    H = ct.AndersonHamiltonian(lat, eta, ct.random_potential(lat, seed=5))
    nodes, weights = theta_nodes(H, 400)
    rho = ct.kpm_density_of_states(H, nodes, num_moments=N, num_vectors=4, seed=1)
    second = np.sum(nodes**2 * rho * weights)     # exact: E^2 rho a sin(theta) has degree N + 1
    exact = 2 * lat.d + eta**2 * np.mean(H.potential**2)   # (H^2)_xx = 2d + eta^2 w_x^2
    a, b = rescaling(H)
    g = ct.jackson_kernel(N)
    # Jackson damping of mu_1, mu_2 (|mu_n| <= 1): 2|ab|(1 - g_1) + a^2 (1 - g_2) / 2.
    # Random phases make the diagonal of H^2 exact; the off-diagonal part has variance
    # <= sum_{y != x} |(H^2)_xy|^2 / L^2d ~ (4d^2 + 4 d eta^2) / L^d per vector: se ~ 0.02.
    damping = 2 * abs(a * b) * (1 - g[1]) + a**2 * (1 - g[2]) / 2
    assert abs(second - exact) < damping + N_SE * np.sqrt((4 * 4 + 8 * eta**2 * 2) / lat.num_sites / 4)


def test_kpm_error_estimate_shrinks_with_more_random_vectors():
    lat = ct.Lattice(2, 48)
    H = ct.AndersonHamiltonian(lat, 1.0, ct.random_potential(lat, seed=3))
    E = np.linspace(-4, 4, 41)
    _, se_few = ct.kpm_density_of_states(H, E, num_moments=32, num_vectors=4, seed=1, return_error=True)
    _, se_many = ct.kpm_density_of_states(H, E, num_moments=32, num_vectors=25, seed=2, return_error=True)
    # 1 / sqrt(num_vectors): expected ratio 2.5; the s.e. estimate from 4 vectors scatters by
    # ~40 % per energy, its mean over 41 energies (resolution ~0.4, so ~20 independent
    # windows) by ~10 %: 1.7 is more than 3 such deviations below 2.5.
    assert se_few.mean() / se_many.mean() > 1.7


def test_kpm_with_a_single_vector_reports_nan_error():
    lat = ct.Lattice(1, 32)
    rho, se = ct.kpm_density_of_states(ct.AndersonHamiltonian(lat, 0.0), [0.0, 1.0], num_moments=16,
                                       num_vectors=1, seed=0, return_error=True)
    assert np.all(np.isfinite(rho)) and np.all(np.isnan(se))


def test_kpm_is_reproducible_with_the_same_seed_and_differs_with_another():
    lat = ct.Lattice(2, 24)
    H = ct.AndersonHamiltonian(lat, 0.5, ct.random_potential(lat, seed=0))
    E = np.linspace(-5, 5, 21)
    a = ct.kpm_density_of_states(H, E, num_moments=32, num_vectors=3, seed=11)
    b = ct.kpm_density_of_states(H, E, num_moments=32, num_vectors=3, seed=11)
    c = ct.kpm_density_of_states(H, E, num_moments=32, num_vectors=3, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_kpm_is_bit_for_bit_identical_with_one_and_two_numba_threads():
    lat = ct.Lattice(3, 34)      # 39304 sites >= 2^15: threaded stencil and reductions
    H = ct.AndersonHamiltonian(lat, 0.7, ct.random_potential(lat, seed=0))
    E = np.linspace(-7, 7, 29)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            results.append(ct.kpm_density_of_states(H, E, num_moments=64, num_vectors=2, seed=4))
    finally:
        numba.set_num_threads(before)
    # reductions are summed over fixed blocks in a fixed order: no tolerance
    assert results[0].tobytes() == results[1].tobytes()


def test_kpm_density_is_nonnegative_for_a_disordered_hamiltonian():
    lat = ct.Lattice(2, 64)
    H = ct.AndersonHamiltonian(lat, 2.0, ct.random_potential(lat, "uniform", seed=1))
    E = np.linspace(*H.spectral_bounds(), 201)
    rho = ct.kpm_density_of_states(H, E, num_moments=128, num_vectors=4, seed=0)
    # The Jackson kernel is positive, so the density with *exact* moments is >= 0; stochastic
    # moments can break this only at the level of the statistical error in the tails (~1e-4).
    assert rho.min() > -1e-3 * rho.max()


def test_kpm_density_of_a_free_twisted_box_matches_the_smoothed_histogram_of_its_exact_spectrum():
    # eta = 0 on a twisted box: the spectrum is e((m + theta) / L) exactly. The exact-moment KPM
    # density written in this file is the histogram of those eigenvalues smoothed with the
    # Jackson kernel; the stochastic trace differs from it by its standard error only (a
    # t variable with 31 degrees of freedom: mean square ~1.07). A small box has a discrete
    # spectrum that the twist moves by more than the resolution pi a / N ~ 0.1, so the
    # comparison tells the twisted spectrum from the periodic one (by > 20 standard errors).
    lat = ct.Lattice(2, 12, twist=(0.5, 0.25))
    H = ct.AndersonHamiltonian(lat, 0.0)
    N = 128
    E = np.linspace(-3.5, 3.5, 71)
    rho, se = ct.kpm_density_of_states(H, E, num_moments=N, num_vectors=32, seed=0, return_error=True)
    a, b = rescaling(H)
    exact = [(np.arange(12) + t) / 12 for t in (0.5, 0.25)]
    eigenvalues = sum(2 * np.cos(2 * np.pi * k) for k in np.meshgrid(*exact, indexing="ij")).ravel()
    z = (rho - exact_moment_kpm(eigenvalues, E, N, a, b)) / se
    assert np.all(np.abs(z) < N_SE) and np.mean(z**2) < 3.0
    periodic = exact_moment_kpm(ct.Lattice(2, 12).dispersion().ravel(), E, N, a, b)
    assert np.max(np.abs(rho - periodic) / se) > 20
