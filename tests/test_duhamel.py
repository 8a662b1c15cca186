"""Tests of chargetransport.duhamel: the Duhamel terms psi_t^(n) and single-graph averages.

References: the dense matrix exponential of the block-bidiagonal generator (scipy.linalg.expm,
an independent Pade method), ``ct.evolve`` for the sum, the explicit first-order Duhamel
integral (Gauss-Legendre in time with exact free flows), the homogeneity of psi^(n) in eta,
and the Wick identity behind the independent-field trick (checked statistically).
"""
import math

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given, settings, strategies as st

import chargetransport as ct
from chargetransport import duhamel


def setup(d, L, eta=0.7, seed=2):
    lat = ct.Lattice(d, L)
    V = ct.random_potential(lat, "gaussian", seed=seed)
    psi0 = ct.gaussian_wave_packet(lat, center=(0,) * d, width=1.5, momentum=(0.2,) * d)
    return lat, V, psi0


def dense_augmented_expm(lat, eta, potentials, psi0, t):
    """exp(-itA) (psi0, 0, ..., 0) with A = 1 (x) Delta + eta sum_m E_{m,m-1} (x) V_m, dense."""
    lap = ct.AndersonHamiltonian(lat, 0.0).to_sparse().toarray()
    n, levels = lat.num_sites, len(potentials) + 1
    A = np.zeros((levels * n, levels * n), dtype=complex)
    for l in range(levels):
        A[l * n:(l + 1) * n, l * n:(l + 1) * n] = lap
        if l > 0:
            A[l * n:(l + 1) * n, (l - 1) * n:l * n] = eta * np.diag(potentials[l - 1].ravel())
    x0 = np.zeros(levels * n, dtype=complex)
    x0[:n] = psi0.ravel()
    return (sla.expm(-1j * t * A) @ x0).reshape((levels,) + psi0.shape)


# The Chebyshev series is cut at tol = 1e-12 (per level, relative to ||psi0||); expm is
# accurate to ~1e-14 for these ~100-dimensional matrices. Measured differences ~1e-14.
EXPM_TOL = 1e-11


@pytest.mark.parametrize("d, L, order, t", [(1, 12, 6, 4.0), (2, 5, 4, 2.5), (3, 3, 3, 1.5)])
def test_levels_match_dense_exponential_of_augmented_generator(d, L, order, t):
    lat, V, psi0 = setup(d, L)
    terms = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, 0.7, V), psi0, t, order)
    ref = dense_augmented_expm(lat, 0.7, [V] * order, psi0, t)
    assert np.max(np.linalg.norm((terms - ref).reshape(order + 1, -1), axis=1)) < EXPM_TOL


def test_multilinear_levels_match_dense_exponential():
    lat = ct.Lattice(1, 10)
    pots = [ct.random_potential(lat, seed=s) for s in range(4)]
    psi0 = ct.gaussian_wave_packet(lat, (0,), 1.5, (0.3,))
    terms = duhamel.multilinear_duhamel_terms(lat, 0.5, pots, psi0, t=3.0)
    ref = dense_augmented_expm(lat, 0.5, pots, psi0, 3.0)
    assert np.abs(terms - ref).max() < EXPM_TOL


def test_sum_of_terms_reproduces_evolve():
    lat, V, psi0 = setup(2, 20, eta=0.4)
    H = ct.AndersonHamiltonian(lat, 0.4, V)
    terms = duhamel.duhamel_terms(H, psi0, t=4.0, order=40)
    # tail bound (eta t max|V|)^41 / 41! ~ 1e-16 here; both series cut at 1e-12
    assert np.linalg.norm(terms.sum(axis=0) - ct.evolve(H, psi0, t=4.0)) < 1e-11


@settings(max_examples=10, deadline=None)
@given(eta=st.floats(0.05, 1.0), scale=st.floats(0.3, 3.0))
def test_terms_are_homogeneous_of_degree_n_in_eta(eta, scale):
    lat, V, psi0 = setup(1, 16)
    a = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, eta, V), psi0, t=2.0, order=5)
    b = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, scale * eta, V), psi0, t=2.0, order=5)
    for n in range(6):
        # only the Chebyshev truncation (1e-12 relative) separates the two sides
        assert np.linalg.norm(b[n] - scale**n * a[n]) < 1e-10 * max(1.0, scale**n)


def test_first_order_term_equals_the_duhamel_time_integral():
    lat, V, psi0 = setup(2, 24, eta=0.3)
    t = 3.0
    psi1 = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, 0.3, V), psi0, t, 1)[1]
    # -i eta int_0^t e^{-i(t-s)Delta} V e^{-is Delta} psi0 ds, Gauss-Legendre in s with exact
    # free flows: the integrand is entire in s, 40 nodes are exact to rounding
    nodes, weights = np.polynomial.legendre.leggauss(40)
    s = 0.5 * t * (nodes + 1.0)
    ref = np.zeros_like(psi0)
    for sj, wj in zip(s, weights):
        inner = V * ct.free_evolution(lat, psi0, sj)
        ref += 0.5 * t * wj * ct.free_evolution(lat, inner.astype(complex), t - sj)
    ref *= -1j * 0.3
    assert np.linalg.norm(psi1 - ref) < 1e-11


def test_several_times_in_one_pass_equal_separate_runs():
    lat, V, psi0 = setup(2, 12)
    H = ct.AndersonHamiltonian(lat, 0.5, V)
    times = [0.0, 1.0, 3.5]
    together = duhamel.duhamel_terms(H, psi0, order=4, times=times)
    for i, t in enumerate(times):
        assert np.abs(together[i] - duhamel.duhamel_terms(H, psi0, t, 4)).max() < 1e-12


def test_zero_time_gives_psi0_and_zero_higher_terms():
    lat, V, psi0 = setup(1, 8)
    terms = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, 0.5, V), psi0, 0.0, 3)
    assert np.abs(terms[0] - psi0).max() < 1e-15 and np.abs(terms[1:]).max() == 0.0


def test_multilinear_is_linear_in_each_potential():
    lat = ct.Lattice(1, 16)
    pots = [ct.random_potential(lat, seed=s) for s in range(3)]
    psi0 = ct.gaussian_wave_packet(lat, (0,), 2.0, (0.1,))
    base = duhamel.multilinear_duhamel_terms(lat, 0.4, pots, psi0, t=2.0)
    scaled = duhamel.multilinear_duhamel_terms(lat, 0.4, [pots[0], 2.5 * pots[1], pots[2]],
                                               psi0, t=2.0)
    assert np.abs(scaled[:2] - base[:2]).max() < 1e-12          # levels before V_2 unchanged
    assert np.abs(scaled[2:] - 2.5 * base[2:]).max() < 1e-11


def test_serial_and_threaded_kernels_agree_bit_for_bit():
    rng = np.random.default_rng(0)
    shape = (3, 8, 16, 64)          # 24 576 sites per level
    W = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    V = rng.standard_normal((1,) + shape[1:])
    vindex = np.array([-1, 0, 0])
    from chargetransport import _kernels
    for twist in ((0.0, 0.0, 0.0), (0.2, 0.0, 0.9)):
        phases = _kernels.boundary_phases(twist)
        outs = []
        for kernel, extra in ((duhamel._hierarchy_step_serial, ()),
                              (duhamel._hierarchy_step_threads, (2,)),
                              (duhamel._hierarchy_step_threads, (5,))):
            prev = np.ones(shape, dtype=complex)
            acc = np.zeros((2,) + shape, dtype=complex)
            kernel(W, V, vindex, 0.3, 0.2, prev, acc, np.array([0.5, -0.25j]), phases, *extra)
            outs.append((prev.tobytes(), acc.tobytes()))
        assert outs[0] == outs[1] == outs[2]


# --------------------------------------------------------------------------------------
# Single graphs
# --------------------------------------------------------------------------------------
def test_contributions_of_the_three_pairings_add_up_to_the_average_norm():
    """E||psi^(2)||^2 = ladder + recollisions + crossing (Wick, Gaussian fields)."""
    lat = ct.Lattice(2, 48)
    psi0 = ct.gaussian_wave_packet(lat, (0, 0), 6.0, (0.2, 0.2))
    eta, t, num = 0.5, 3.0, 100
    g22 = [(((1, 4), (2, 3)), 2), (((1, 2), (3, 4)), 2), (((1, 3), (2, 4)), 2)]
    direct, parts, crossing = [], [], []
    for seed in ct.realization_seeds(1, num):
        V = ct.random_potential(lat, "gaussian", seed=seed)
        psi2 = duhamel.duhamel_terms(ct.AndersonHamiltonian(lat, eta, V), psi0, t, 2)[2]
        direct.append(np.vdot(psi2, psi2).real)
        values = duhamel.pairing_contributions(lat, eta, g22, psi0, t, seed=seed).real
        parts.append(values.sum())
        crossing.append(values[2])
    direct, parts = np.array(direct), np.array(parts)
    # two independent unbiased estimators of the same mean: their difference is within
    # 4 standard errors (a false alarm rate of 6e-5)
    se = math.sqrt(direct.var(ddof=1) / num + parts.var(ddof=1) / num)
    assert abs(direct.mean() - parts.mean()) < 4 * se
    # power: leaving out the crossing graph (~13% of the total here) would be detected
    assert np.mean(crossing) > 4 * se


def test_pairing_on_one_line_uses_the_free_evolution_for_the_other():
    lat = ct.Lattice(1, 32)
    psi0 = ct.gaussian_wave_packet(lat, (0,), 2.0, (0.2,))
    seed = ct.realization_seeds(3, 1)[0]
    value = duhamel.pairing_contribution(lat, 0.3, ((1, 2),), 0, psi0, 2.0, seed=seed)
    W = ct.random_potential(lat, "gaussian", seed=ct.realization_seeds(seed, 1)[0])
    phi = duhamel.multilinear_duhamel_terms(lat, 0.3, [W, W], psi0, t=2.0)[-1]
    ref = np.vdot(ct.free_evolution(lat, psi0, 2.0), phi)
    assert abs(value - ref) < 1e-12


def test_pairing_contributions_share_fields_across_graphs():
    lat = ct.Lattice(1, 32)
    psi0 = ct.gaussian_wave_packet(lat, (0,), 2.0, (0.2,))
    g = [(((1, 4), (2, 3)), 2), (((1, 3), (2, 4)), 2)]
    both = duhamel.pairing_contributions(lat, 0.3, g, psi0, 1.5, seed=4)
    one = [duhamel.pairing_contribution(lat, 0.3, gr, n, psi0, 1.5, seed=4) for gr, n in g]
    assert np.allclose(both, one, rtol=0, atol=1e-14)
    # the ladder pairs a line with itself: a squared norm, real and positive
    assert both[0].real > 0 and abs(both[0].imag) < 1e-15


# --------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------
def test_kinetic_norms_sum_to_exp_times_bessel_i0():
    for x in (0.3, 1.0, 3.5):
        nu = duhamel.kinetic_duhamel_norms(x, 80)
        assert abs(nu.sum() - math.exp(x) * np.i0(x)) < 1e-10 * math.exp(2 * x)
        assert nu[0] == 1.0 and abs(nu[1] - x) < 1e-15 and abs(nu[2] - 0.75 * x**2) < 1e-14


def test_kinetic_norms_with_shift_use_modulus_of_self_energy():
    nu = duhamel.kinetic_duhamel_norms(1.0, 2, shift=0.5)
    assert abs(nu[2] - (0.5 + 0.25 + 0.25)) < 1e-15      # x^2/2 + |z|^2, |z|^2 = 1/4 + 1/4


def test_truncation_order_values():
    assert abs(duhamel.truncation_order(math.exp(-math.e)) - math.e) < 1e-12   # its minimum
    etas = np.logspace(-30, -1.2, 50)
    assert np.all(duhamel.truncation_order(etas) >= math.e - 1e-12)


@pytest.mark.parametrize("call, error", [
    (lambda H, p: duhamel.duhamel_terms(H, p, -1.0, 2), ValueError),
    (lambda H, p: duhamel.duhamel_terms(H, p, 1.0), TypeError),                 # no order
    (lambda H, p: duhamel.duhamel_terms(H, p, 1.0, 2, times=[1.0]), TypeError),
    (lambda H, p: duhamel.duhamel_terms(H, p, order=2, times=[]), ValueError),
    (lambda H, p: duhamel.duhamel_terms(H, p, 1.0, -1), ValueError),
    (lambda H, p: duhamel.duhamel_terms(H, p.real, 1.0, 2), TypeError),
    (lambda H, p: duhamel.duhamel_terms("H", p, 1.0, 2), TypeError),
    (lambda H, p: duhamel.duhamel_terms(H, p, 1.0, 2, tol=1e-20), ValueError),
    (lambda H, p: duhamel.multilinear_duhamel_terms(H.lattice, 0.1, H.potential.copy(), p, 1.0),
     TypeError),
    (lambda H, p: duhamel.multilinear_duhamel_terms(H.lattice, 0.1, [np.zeros(3)], p, 1.0),
     ValueError),
    (lambda H, p: duhamel.pairing_contributions(H.lattice, 0.1, [((1, 2),)], p, 1.0, seed=1),
     TypeError),
    (lambda H, p: duhamel.truncation_order(0.5), ValueError),
    (lambda H, p: duhamel.kinetic_duhamel_norms(-1.0, 3), ValueError),
])
def test_invalid_input_raises_with_a_clear_error(call, error):
    lat, V, psi0 = setup(1, 8)
    with pytest.raises(error):
        call(ct.AndersonHamiltonian(lat, 0.3, V), psi0)


def test_duhamel_terms_on_a_twisted_box_sum_to_evolve_and_match_the_dense_generator():
    lat = ct.Lattice(2, 6, twist=(0.3, 0.75))
    V = ct.random_potential(lat, seed=5)
    psi0 = ct.gaussian_wave_packet(lat, (0, 0), 1.5, (0.2, 0.1))
    H = ct.AndersonHamiltonian(lat, 0.5, V)
    terms = duhamel.duhamel_terms(H, psi0, t=2.0, order=30)
    # tail (eta t max|V|)^31 / 31! ~ 1e-20; both series cut at 1e-12
    assert np.linalg.norm(terms.sum(axis=0) - ct.evolve(H, psi0, t=2.0)) < 1e-11
    # the augmented generator of the twisted box, dense: 1 (x) Delta_theta + eta S (x) V
    lap = ct.AndersonHamiltonian(lat, 0.0).to_sparse().toarray()
    n = lat.num_sites
    A = np.zeros((3 * n, 3 * n), complex)
    for level in range(3):
        A[level * n:(level + 1) * n, level * n:(level + 1) * n] = lap
        if level:
            A[level * n:(level + 1) * n, (level - 1) * n:level * n] = 0.5 * np.diag(V.ravel())
    x0 = np.zeros(3 * n, complex)
    x0[:n] = psi0.ravel()
    ref = (sla.expm(-2.0j * A) @ x0).reshape((3,) + lat.shape)
    np.testing.assert_allclose(terms[:3], ref, rtol=0, atol=EXPM_TOL)
