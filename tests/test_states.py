"""Tests of chargetransport.states (Gaussian wave packets, WKB states of eq. (2.6)) and of the
single-state observables they are checked with (``momentum_distribution``, ``boundary_weight``).

Moments of sampled Gaussians: by Poisson summation the lattice sums
sum_x x^j exp(-(x - c)^2 / (2 w^2)) equal the integrals up to ~exp(-2 pi^2 w^2) relative
(< 1e-19 for w >= 1.5), and the box truncates tails beyond >= 8 standard deviations
(< 1e-14). What remains is rounding, ~1e-13 for sums of ~1e4 terms.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chargetransport as ct

EPS = np.finfo(float).eps


def centred_coordinates(lat):
    return np.indices(lat.shape) - lat.L // 2


@given(d=st.integers(1, 3), data=st.data())
@settings(max_examples=25, deadline=None)
def test_gaussian_wave_packet_is_normalised_complex_field(d, data):
    L = {1: 64, 2: 32, 3: 16}[d]
    lat = ct.Lattice(d, L)
    c = data.draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d))
    w = data.draw(st.floats(0.5, 2.0))
    p = data.draw(st.lists(st.floats(0, 1), min_size=d, max_size=d))
    psi = ct.gaussian_wave_packet(lat, c, w, p)
    assert psi.shape == lat.shape and psi.dtype == np.complex128 and psi.flags.c_contiguous
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-14)   # one division: rounding


@given(d=st.integers(1, 2), data=st.data())
@settings(max_examples=25, deadline=None)
def test_gaussian_wave_packet_position_mean_and_variance_match_centre_and_width(d, data):
    L = 80
    lat = ct.Lattice(d, L)
    c = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d)))
    w = data.draw(st.floats(1.5, 4.0))
    p = data.draw(st.lists(st.floats(0, 1), min_size=d, max_size=d))
    prob = np.abs(ct.gaussian_wave_packet(lat, c, w, p)) ** 2
    x = centred_coordinates(lat)
    for axis in range(d):
        mean = np.sum(prob * x[axis])
        var = np.sum(prob * (x[axis] - c[axis]) ** 2)
        # Poisson summation and box truncation are < 1e-14 (module docstring); rounding ~1e-13
        assert mean == pytest.approx(c[axis], abs=1e-11)
        assert var == pytest.approx(w**2, rel=1e-11)


@given(d=st.integers(1, 2), data=st.data())
@settings(max_examples=25, deadline=None)
def test_gaussian_wave_packet_momentum_mean_and_spread_from_momentum_distribution(d, data):
    L = 80
    lat = ct.Lattice(d, L)
    w = data.draw(st.floats(1.5, 4.0))
    p = np.array(data.draw(st.lists(st.floats(0, 1), min_size=d, max_size=d)))
    c = data.draw(st.lists(st.floats(-2, 2), min_size=d, max_size=d))
    psi = ct.gaussian_wave_packet(lat, c, w, p)
    density = ct.momentum_distribution(psi)
    weights = density / density.sum()
    k = lat.momenta(sparse=False)
    s = 1.0 / (4.0 * np.pi * w)        # documented momentum spread
    for axis in range(d):
        # unfold the torus onto the window [p - 1/2, p + 1/2)
        kk = (k[axis] - p[axis] + 0.5) % 1.0 - 0.5 + p[axis]
        mean = np.sum(weights * kk)
        var = np.sum(weights * (kk - p[axis]) ** 2)
        # |psi_hat|^2 is a Gaussian of std s <= 0.053 sampled with spacing 1/L = 0.0125:
        # Poisson error ~exp(-2 pi^2 s^2 L^2) < 1e-25; the window cuts it at >= 9 s.
        assert mean == pytest.approx(p[axis], abs=1e-10)
        assert var == pytest.approx(s**2, rel=1e-9)


def test_momentum_distribution_is_the_direct_fourier_sum_with_centred_coordinates():
    lat = ct.Lattice(2, 7)
    rng = np.random.default_rng(0)
    psi = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    x = centred_coordinates(lat).reshape(2, -1)
    k = np.stack(lat.momenta(sparse=False)).reshape(2, -1)
    psi_hat = np.exp(-2j * np.pi * k.T @ x) @ psi.ravel()     # eq. (2.3), sum over x
    # 49-term sums of O(1) numbers: rounding ~ 50 eps |psi_hat|^2 ~ 1e-12
    np.testing.assert_allclose(ct.momentum_distribution(psi), (np.abs(psi_hat) ** 2).reshape(lat.shape),
                               rtol=1e-12, atol=1e-12)


@given(d=st.integers(1, 3), L=st.integers(3, 9), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_momentum_distribution_satisfies_parseval(d, L, seed):
    rng = np.random.default_rng(seed)
    psi = rng.standard_normal((L,) * d) + 1j * rng.standard_normal((L,) * d)
    # L^{-d} sum_k |psi_hat(k)|^2 = ||psi||^2 (eqs. (2.3)-(2.5)); FFT rounding ~ log(L^d) eps
    assert ct.momentum_distribution(psi).sum() / L**d == pytest.approx(np.vdot(psi, psi).real, rel=1e-13)


# ------------------------------------------------------------------------------------
# WKB states
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3])
def test_wkb_state_local_momentum_is_the_gradient_of_the_phase(d):
    L = {1: 101, 2: 40, 3: 16}[d]
    lat = ct.Lattice(d, L)
    mu = 0.05
    p = np.array([0.13, 0.31, 0.77])[:d]
    kappa = 0.4

    def phase(*X):                     # S(X) = p.X + kappa |X|^2 / 2
        return sum(pi * Xi + 0.5 * kappa * Xi**2 for pi, Xi in zip(p, X))

    def amplitude(*X):
        return np.exp(-sum(Xi**2 for Xi in X))

    psi = ct.wkb_state(lat, amplitude, phase, mu)
    x = centred_coordinates(lat)
    for axis in range(d):
        step = np.angle(np.roll(psi, -1, axis=axis) * np.conj(psi)) / (2 * np.pi)
        # for quadratic S, (S(mu (x + 1)) - S(mu x)) / mu = dS/dX at mu (x + 1/2): exact
        grad = p[axis] + kappa * mu * (x[axis] + 0.5)
        inner = [slice(0, L - 1) if a == axis else slice(None) for a in range(d)]
        diff = (step - grad)[tuple(inner)]
        diff = (diff + 0.5) % 1.0 - 0.5        # phases are defined modulo 1
        # rounding of the phase 2 pi S / mu (|S / mu| <= ~40): ~ 40 * 2 pi * eps ~ 1e-13
        assert np.abs(diff).max() < 1e-11


@pytest.mark.parametrize("d", [1, 2])
def test_wkb_state_amplitude_is_normalised_h_of_mu_x(d):
    lat = ct.Lattice(d, 60)
    mu = 0.1

    def amplitude(*X):
        return (1.0 + X[0]) * np.exp(-0.5 * sum(Xi**2 for Xi in X))   # not even: catches x -> -x

    psi = ct.wkb_state(lat, amplitude, lambda *X: 0.3 * X[0], mu)
    X = [mu * xi for xi in centred_coordinates(lat)]
    h = amplitude(*X)
    # C = mu^{d/2} / ||h||_{l2(mu Z^d)} = 1 / sqrt(sum_x h(mu x)^2): unit l2 norm on the lattice
    np.testing.assert_allclose(np.abs(psi), np.abs(h) / np.sqrt(np.sum(h**2)), rtol=1e-13, atol=1e-16)
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-14)


def test_wkb_state_with_linear_phase_is_a_plane_wave_times_envelope():
    lat = ct.Lattice(1, 64)
    mu, p = 0.2, 0.25
    psi = ct.wkb_state(lat, lambda X: np.exp(-X**2), lambda X: p * X, mu)
    x = centred_coordinates(lat)[0]
    # 2 pi S(mu x) / mu = 2 pi p x: the phase is that of exp(2 pi i p x)
    ratio = psi / np.exp(2j * np.pi * p * x)
    np.testing.assert_allclose(ratio.imag, 0.0, atol=1e-15)
    assert np.all(ratio.real >= 0)


# ------------------------------------------------------------------------------------
# boundary weight
# ------------------------------------------------------------------------------------
def brute_boundary_weight(psi, margin):
    L = psi.shape[0]
    n = np.indices(psi.shape)
    near = np.zeros(psi.shape, bool)
    for axis in range(psi.ndim):
        near |= (n[axis] < margin) | (n[axis] >= L - margin)
    prob = np.abs(psi) ** 2
    return prob[near].sum() / prob.sum()


@given(d=st.integers(1, 3), L=st.integers(3, 10), margin=st.floats(0, 6), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_boundary_weight_equals_brute_force_sum_over_the_layer(d, L, margin, seed):
    rng = np.random.default_rng(seed)
    psi = rng.standard_normal((L,) * d) + 1j * rng.standard_normal((L,) * d)
    # sums of <= 1000 positive terms in different orders: ~1e-13 absolute
    assert ct.boundary_weight(psi, margin) == pytest.approx(brute_boundary_weight(psi, margin), abs=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_boundary_weight_is_negligible_for_a_centred_packet_and_large_at_the_edge(d):
    L = {1: 64, 2: 64, 3: 32}[d]
    lat = ct.Lattice(d, L)
    w, margin = 2.0, 4
    centred = ct.gaussian_wave_packet(lat, [0.0] * d, w, [0.2] * d)
    # the layer starts L/2 - margin >= 12 = 6 w from the centre: Gaussian tail ~ erfc(6/sqrt2)
    # ~ 2e-9 per side per axis
    assert ct.boundary_weight(centred, margin) < 1e-8
    # centred on the first site of the box along axis 0 (x = -L // 2): only the half n_0 >= 0
    # of the Gaussian exists (the formula does not wrap around), and a half-normal puts
    # P(|Z| < margin / w = 2) = 95 % of it into the layer n_0 < margin
    edge = ct.gaussian_wave_packet(lat, [-(L // 2)] + [0.0] * (d - 1), w, [0.2] * d)
    weight = ct.boundary_weight(edge, margin)
    assert weight == pytest.approx(brute_boundary_weight(edge, margin), abs=1e-12)  # summation order
    assert weight > 0.9


def test_boundary_weight_limits_of_the_margin():
    psi = ct.gaussian_wave_packet(ct.Lattice(2, 10), [0, 0], 2.0, [0, 0])
    assert ct.boundary_weight(psi, 0) == 0.0
    assert ct.boundary_weight(psi, 5) == pytest.approx(1.0, abs=1e-15)   # every site


# ------------------------------------------------------------------------------------
# plane waves and twisted boxes
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,L,theta", [(1, 7, [0.0]), (1, 6, [0.5]), (2, 5, [0.3, 0.8]),
                                       (3, 4, [0.1, 0.0, 0.65])])
def test_plane_wave_is_a_normalised_eigenvector_of_the_free_twisted_box(d, L, theta):
    lat = ct.Lattice(d, L, twist=theta)
    H = ct.AndersonHamiltonian(lat, 0.0)
    for m in ([1, 2, 3][:d], [L - 1] * d, [0] * d):
        k = (np.asarray(m) + np.asarray(theta)) / L
        psi = ct.plane_wave(lat, k)
        assert psi.shape == lat.shape and psi.dtype == np.complex128
        assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-14)
        # 2d unit-size terms with phases: rounding ~1e-15
        np.testing.assert_allclose(H.apply(psi), float(ct.dispersion(k)) * psi, rtol=0, atol=1e-13)
        # its momentum distribution is L^d at the grid point m and 0 elsewhere (FFT rounding)
        density = ct.momentum_distribution(psi, lat)
        expected = np.zeros(lat.shape)
        expected[tuple(np.asarray(m) % L)] = L**d
        np.testing.assert_allclose(density, expected, rtol=0, atol=1e-10)


def test_plane_wave_obeys_the_twisted_boundary_condition():
    # psi(x + L) = exp(2 pi i theta) psi(x): continue the formula one box further and compare
    L, theta, m = 8, 0.3, 2
    lat = ct.Lattice(1, L, twist=theta)
    psi = ct.plane_wave(lat, (m + theta) / L)
    x = np.arange(L) - L // 2
    continued = np.exp(2j * np.pi * (m + theta) / L * (x + L)) / np.sqrt(L)
    np.testing.assert_allclose(continued, np.exp(2j * np.pi * theta) * psi, rtol=0, atol=1e-14)


def test_plane_wave_rejects_momenta_off_the_grid_of_the_box():
    with pytest.raises(ValueError, match="'momentum'.*grid"):
        ct.plane_wave(ct.Lattice(1, 8, twist=0.5), 1 / 8)          # a periodic-grid momentum
    with pytest.raises(ValueError, match="'momentum'.*grid"):
        ct.plane_wave(ct.Lattice(2, 8), [0.25, 0.1])
    # momenta are taken modulo 1 and snapped to the grid
    lat = ct.Lattice(2, 8, twist=[0.5, 0.0])
    np.testing.assert_allclose(ct.plane_wave(lat, [1 + 1.5 / 8, -0.25]),
                               ct.plane_wave(lat, [1.5 / 8, 0.75]), rtol=0, atol=1e-13)


@pytest.mark.parametrize("d", [1, 2])
def test_packets_and_wkb_states_do_not_depend_on_the_twist(d):
    # states of Z^d that fit in the box (module docstring): the same values on every box
    periodic, twisted = ct.Lattice(d, 16), ct.Lattice(d, 16, twist=[0.37] * d)
    c, w, p = [0.5] * d, 2.0, [0.2] * d
    assert ct.gaussian_wave_packet(periodic, c, w, p).tobytes() == \
        ct.gaussian_wave_packet(twisted, c, w, p).tobytes()
    h, S = (lambda *X: np.exp(-sum(x**2 for x in X))), (lambda *X: 0.13 * X[0])
    assert ct.wkb_state(periodic, h, S, 0.2).tobytes() == ct.wkb_state(twisted, h, S, 0.2).tobytes()


def test_mean_square_velocity_on_a_twisted_box_is_that_of_the_shifted_grid():
    # a plane wave has a sharp momentum: <|v|^2> = sum_i 4 sin^2(2 pi k_i)
    lat = ct.Lattice(2, 9, twist=[0.5, 0.2])
    k = (np.array([2, 7]) + np.array([0.5, 0.2])) / 9
    psi = ct.plane_wave(lat, k)
    expected = float(np.sum(4 * np.sin(2 * np.pi * k) ** 2))
    assert ct.mean_square_velocity(psi, lat) == pytest.approx(expected, abs=1e-12)
    # on the periodic grid the same state is spread over neighbouring momenta
    assert abs(ct.mean_square_velocity(psi) - expected) > 1e-3


def test_twisted_momentum_distribution_is_the_direct_fourier_sum_on_the_shifted_grid():
    lat = ct.Lattice(2, 7, twist=(0.4, 0.9))
    rng = np.random.default_rng(3)
    psi = rng.standard_normal(lat.shape) + 1j * rng.standard_normal(lat.shape)
    x = centred_coordinates(lat).reshape(2, -1)
    k = np.stack(lat.momenta(sparse=False)).reshape(2, -1)
    psi_hat = np.exp(-2j * np.pi * k.T @ x) @ psi.ravel()     # eq. (2.3) on the twisted grid
    # 49-term sums of O(1) numbers: rounding ~1e-12
    np.testing.assert_allclose(ct.momentum_distribution(psi, lat),
                               (np.abs(psi_hat) ** 2).reshape(lat.shape), rtol=1e-12, atol=1e-12)
    # Parseval on the twisted grid
    assert ct.momentum_distribution(psi, lat).sum() / 49 == pytest.approx(np.vdot(psi, psi).real, rel=1e-13)
    with pytest.raises(ValueError, match="'psi'.*shape"):
        ct.momentum_distribution(psi, ct.Lattice(2, 8))
