"""Unit tests for chargetransport.quasi_free_states: momentum distributions, density
matrices and the correlations of quasi-free states.

References are independent computations: brute-force sums over plane waves, dense
inner products, closed forms.
"""
import numpy as np
import pytest

import chargetransport as ct
from chargetransport import quasi_free_states as qfs


def _random_functions(rng, r, shape):
    return rng.standard_normal((r,) + shape) + 1j * rng.standard_normal((r,) + shape)

# ------------------------------------------------------------------ Fermi-Dirac

def test_fermi_dirac_values_and_zero_temperature_limit():
    E = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(qfs.fermi_dirac(E, 2.0, 0.5), 1 / (1 + np.exp(2.0 * (E - 0.5))),
                               rtol=1e-14)
    np.testing.assert_array_equal(qfs.fermi_dirac(E, np.inf, 0.5), [1, 1, 1, 0.5, 0])
    # beta = 0: infinite temperature, every state half filled
    np.testing.assert_array_equal(qfs.fermi_dirac(E, 0.0, 0.5), 0.5)
    # no overflow far from mu at large beta
    assert qfs.fermi_dirac(1e3, 1e6, 0.0) == 0.0 and qfs.fermi_dirac(-1e3, 1e6, 0.0) == 1.0
    # the finite-beta formula converges pointwise to the beta = inf values (incl. 1/2 at mu)
    np.testing.assert_allclose(qfs.fermi_dirac(E, 1e4, 0.5), qfs.fermi_dirac(E, np.inf, 0.5),
                               atol=1e-12)

@pytest.mark.parametrize("beta", [-1.0, np.nan, -np.inf])
def test_fermi_dirac_rejects_bad_beta(beta):
    with pytest.raises(ValueError, match="'beta'"):
        qfs.fermi_dirac(0.0, beta, 0.0)

def test_fermi_dirac_rejects_bad_types_and_nan():
    with pytest.raises(TypeError, match="'beta'"):
        qfs.fermi_dirac(0.0, "hot", 0.0)
    with pytest.raises(ValueError, match="'energy'"):
        qfs.fermi_dirac([0.0, np.nan], 1.0, 0.0)
    with pytest.raises(ValueError, match="'mu'"):
        qfs.fermi_dirac(0.0, 1.0, np.inf)

def test_momentum_distribution_validation():
    lat = ct.Lattice(2, 4)
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        qfs.as_momentum_distribution(lat, np.full(lat.shape, 1.2))
    with pytest.raises(ValueError, match="0 <= J <= 1"):
        qfs.as_momentum_distribution(lat, np.full(lat.shape, -0.1))
    with pytest.raises(ValueError, match="finite"):
        qfs.as_momentum_distribution(lat, np.full(lat.shape, np.nan))
    with pytest.raises(ValueError, match="shape"):
        qfs.as_momentum_distribution(lat, np.full((4,), 0.5))
    with pytest.raises(TypeError):
        qfs.as_momentum_distribution(lat, np.full(lat.shape, 0.5 + 0j))
    with pytest.raises(TypeError, match="'lattice'"):
        qfs.as_momentum_distribution("lattice", np.full(lat.shape, 0.5))
    J = qfs.as_momentum_distribution(lat, np.full(lat.shape, 0.5))
    assert J.dtype == np.float64

def test_gibbs_and_fermi_sea_helpers():
    lat = ct.Lattice(2, 8)
    np.testing.assert_array_equal(qfs.gibbs_distribution(lat, np.inf, 0.0),
                                  qfs.fermi_dirac(lat.dispersion(), np.inf, 0.0))
    # a shifted sea is the unshifted one translated by the shift on the grid
    shifted = qfs.fermi_sea(lat, -1.0, shift=[2 / 8, 0.0])
    np.testing.assert_array_equal(shifted, np.roll(qfs.fermi_sea(lat, -1.0), 2, axis=0))
    with pytest.raises(ValueError, match="anisotropy"):
        qfs.fermi_sea(lat, 0.0, anisotropy=[1.0, -1.0])

# ------------------------------------------------------------------ density matrix

def test_density_matrix_is_brute_force_sum_of_plane_waves():
    lat = ct.Lattice(2, 5)
    rng = np.random.default_rng(1)
    J = rng.uniform(0, 1, lat.shape)
    x = np.indices(lat.shape).reshape(2, -1)
    k = np.indices(lat.shape).reshape(2, -1) / lat.L
    phases = np.exp(2j * np.pi * (k.T @ x))         # (p, site)
    brute = (phases.T * J.ravel()) @ phases.conj() / lat.num_sites
    gamma = qfs.one_particle_density_matrix(lat, J)
    np.testing.assert_allclose(gamma, brute, atol=1e-14)   # rounding of 25-term sums
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(gamma)), np.sort(J.ravel()), atol=1e-13)
    psi = _random_functions(rng, 1, lat.shape)[0]
    np.testing.assert_allclose(qfs.apply_density_matrix(lat, J, psi).ravel(), gamma @ psi.ravel(),
                               atol=1e-13)

def test_two_point_matrix_matches_dense_inner_products():
    lat = ct.Lattice(1, 7)
    rng = np.random.default_rng(2)
    J = rng.uniform(0, 1, lat.shape)
    f, g = _random_functions(rng, 3, lat.shape), _random_functions(rng, 2, lat.shape)
    gamma = qfs.one_particle_density_matrix(lat, J)
    M = qfs.two_point_matrix(lat, J, f, g)
    np.testing.assert_allclose(M, g.conj() @ gamma @ f.T, atol=1e-13)

def test_dense_density_matrix_refuses_when_memory_is_short(monkeypatch):
    monkeypatch.setattr(qfs, "available_memory_bytes", lambda: 1000)
    with pytest.raises(ValueError, match="apply_density_matrix"):
        qfs.one_particle_density_matrix(ct.Lattice(1, 8), np.zeros(8))

def test_correlation_inputs_are_rejected_with_clear_errors():
    lat = ct.Lattice(2, 6)
    J = qfs.fermi_sea(lat, -0.5, shift=[1 / 6, 0.0], beta=3.0)
    with pytest.raises(ValueError, match="'f'"):
        qfs.two_point_matrix(lat, J, np.ones((2, 3)), np.ones(lat.shape))
    with pytest.raises(ValueError, match="square"):
        qfs.wick_determinant(np.ones((2, 3)))

# ------------------------------------------------------------------ momentum packets

def test_momentum_packet_is_normalised_and_centred():
    lat = ct.Lattice(2, 32)
    f = qfs.momentum_packet(lat, [0.2, 0.7], 0.05)
    assert abs(np.linalg.norm(f) - 1) < 1e-14
    # |f|^2 is centred at the middle site (the origin of the centred coordinates)
    x = lat.coordinates()
    assert abs(float((np.abs(f) ** 2 * x[0]).sum())) < 1e-10
    p = np.abs(np.fft.fftn(f)) ** 2
    assert np.unravel_index(np.argmax(p), p.shape) == (round(0.2 * 32), round(0.7 * 32))

# ------------------------------------------------------------------ twisted boxes

def _twisted_plane_waves(lat):
    """Brute-force plane waves phi_p(x) = L^{-d/2} exp(2 pi i p.x) on the twisted grid,
    rows p in the order of lat.momenta(), columns the sites (centred coordinates)."""
    k = np.stack([np.broadcast_to(ki, lat.shape).ravel() for ki in lat.momenta()])
    x = np.stack([np.broadcast_to(xi, lat.shape).ravel() for xi in lat.coordinates()])
    return np.exp(2j * np.pi * (k.T @ x)) / np.sqrt(lat.num_sites)

@pytest.mark.parametrize("d, L, twist", [(1, 7, (0.37,)), (2, 5, (0.21, 0.64))])
def test_density_matrix_on_a_twisted_box_is_the_sum_of_its_plane_waves(d, L, twist):
    lat = ct.Lattice(d, L, twist=twist)
    rng = np.random.default_rng(3)
    J = rng.uniform(0, 1, lat.shape)
    phi = _twisted_plane_waves(lat)
    brute = (phi.T * J.ravel()) @ phi.conj()          # sum_p J(p) |phi_p><phi_p|
    np.testing.assert_allclose(qfs.one_particle_density_matrix(lat, J), brute, atol=1e-14)
    psi = _random_functions(rng, 1, lat.shape)[0]
    np.testing.assert_allclose(qfs.apply_density_matrix(lat, J, psi).ravel(), brute @ psi.ravel(),
                               atol=1e-13)
    f, g = _random_functions(rng, 2, lat.shape), _random_functions(rng, 3, lat.shape)
    M = qfs.two_point_matrix(lat, J, f, g)
    np.testing.assert_allclose(M, g.reshape(3, -1).conj() @ brute @ f.reshape(2, -1).T,
                               atol=1e-12)

def test_momentum_packet_on_a_twisted_box_is_centred_at_its_momentum():
    lat = ct.Lattice(2, 32, twist=(0.5, 0.25))
    k0 = (0.2, 0.7)
    f = qfs.momentum_packet(lat, k0, 0.05)
    assert abs(np.linalg.norm(f) - 1) < 1e-14
    x = lat.coordinates()
    assert abs(float((np.abs(f) ** 2 * x[0]).sum())) < 1e-10
    # its components on the twisted plane waves peak at the grid momentum nearest k0
    c = np.abs(_twisted_plane_waves(lat).conj() @ f.ravel()).reshape(lat.shape)
    k = [np.broadcast_to(ki, lat.shape)[np.unravel_index(np.argmax(c), c.shape)]
         for ki in lat.momenta()]
    assert all(abs(ki - k0i) <= 0.5 / lat.L for ki, k0i in zip(k, k0))
